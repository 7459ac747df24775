"""2D Poisson equation on the unit square."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem, ValueCondition


class Poisson2D(Problem):
    r"""Poisson equation with homogeneous Dirichlet conditions.

    .. math::

        -\Delta u = 2\pi^2 \sin(\pi x)\sin(\pi y), \quad (x, y) \in [0, 1]^2, \qquad
        u = 0 \text{ on the boundary},

    with exact solution :math:`u = \sin(\pi x)\sin(\pi y)`. The exact-constraint transform is
    :math:`u = x(1-x)\,y(1-y)\,N(x, y)`.
    """

    name = param.String("poisson2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y")
    domain = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    derivatives = {"x": 2, "y": 2}
    grid_size = {"x": 101, "y": 101}
    constrained = ("boundary",)

    def residual(self, coords, u):
        source = 2 * np.pi**2 * torch.sin(np.pi * coords["x"]) * torch.sin(np.pi * coords["y"])
        return -u.dd("x") - u.dd("y") - source

    def conditions(self):
        faces = (
            {"x": 0.0, "y": (0.0, 1.0)},
            {"x": 1.0, "y": (0.0, 1.0)},
            {"x": (0.0, 1.0), "y": 0.0},
            {"x": (0.0, 1.0), "y": 1.0},
        )
        return [ValueCondition("boundary", faces, self.dims, lambda c: torch.zeros_like(c["x"]))]

    def solve_reference(self, grid):
        x, y = np.meshgrid(grid["x"], grid["y"], indexing="ij")
        return np.sin(np.pi * x) * np.sin(np.pi * y)

    def constrain(self, coords, net):
        x, y = coords["x"], coords["y"]
        return x * (1.0 - x) * y * (1.0 - y) * net
