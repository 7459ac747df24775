"""1D Poisson equation with a manufactured exact solution."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition


class Poisson1D(Problem):
    r"""Poisson equation on the unit interval.

    .. math::

        -u''(x) = (k\pi)^2 \sin(k\pi x), \quad x \in [0, 1], \qquad u(0) = 0,\ u(1) = 1,

    with exact solution :math:`u(x) = \sin(k\pi x) + x`. Larger ``k`` means more oscillations.
    The exact-constraint transform is :math:`u = x + x(1 - x) N(x)`.
    """

    name = param.String("poisson1d", constant=True, doc="Registry name of this problem.")
    dims = ("x",)
    domain = {"x": (0.0, 1.0)}
    derivatives = {"x": 2}
    grid_size = {"x": 201}
    constrained = ("boundary",)

    k = param.Integer(2, bounds=(1, 16), doc="Wavenumber of the exact solution sin(k pi x) + x.")

    def residual(self, coords, u):
        source = (self.k * np.pi) ** 2 * torch.sin(self.k * np.pi * coords["x"])
        return -u.dd("x") - source

    def conditions(self):
        return [
            ValueCondition("boundary", ({"x": 0.0}, {"x": 1.0}), self.dims, lambda c: c["x"]),
        ]

    def solve_reference(self, grid):
        x = grid["x"]
        return np.sin(self.k * np.pi * x) + x

    def constrain(self, coords, net):
        x = coords["x"]
        return x + x * (1.0 - x) * net
