"""Samplers that ignore the residual: one fixed cloud, or a fresh uniform one every k steps."""

from __future__ import annotations

import torch

from workbench.sampling.base import Sampler


class Fixed(Sampler):
    """One cloud of points, drawn once."""

    name = "fixed"
    moves = False

    def update(self, points, residual):
        return points, torch.ones(len(points))


class Resample(Sampler):
    """A fresh uniform cloud of the same size at every update."""

    name = "resample"

    def update(self, points, residual):
        return self.draw(len(points)), torch.zeros(len(points))
