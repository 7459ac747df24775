"""2D Helmholtz equation with a high-frequency exact solution."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition


class Helmholtz2D(Problem):
    r"""Helmholtz equation on :math:`[-1, 1]^2` with homogeneous Dirichlet conditions.

    .. math::

        \Delta u + k^2 u = q, \qquad
        q = \left(k^2 - (a_1^2 + a_2^2)\pi^2\right) \sin(a_1\pi x)\sin(a_2\pi y),

    with exact solution :math:`u = \sin(a_1\pi x)\sin(a_2\pi y)` and ``u = 0`` on the boundary.
    Larger :math:`a_1, a_2` make the solution oscillate faster and a plain PINN fail.
    The exact-constraint transform is :math:`u = (1 - x^2)(1 - y^2) N(x, y)`.
    """

    name = param.String("helmholtz2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y")
    domain = {"x": (-1.0, 1.0), "y": (-1.0, 1.0)}
    derivatives = {"x": 2, "y": 2}
    grid_size = {"x": 201, "y": 201}
    constrained = ("boundary",)

    a1 = param.Integer(4, bounds=(1, 20), doc="Frequency of the exact solution along x.")
    a2 = param.Integer(1, bounds=(1, 20), doc="Frequency of the exact solution along y.")
    k = param.Number(1.0, bounds=(0.0, 20.0), doc="Wavenumber k in lap u + k^2 u = q.")

    def residual(self, coords, u):
        x, y = coords["x"], coords["y"]
        shape = torch.sin(self.a1 * np.pi * x) * torch.sin(self.a2 * np.pi * y)
        q = (self.k**2 - (self.a1**2 + self.a2**2) * np.pi**2) * shape
        return u.dd("x") + u.dd("y") + self.k**2 * u.value - q

    def conditions(self):
        faces = (
            {"x": -1.0, "y": (-1.0, 1.0)},
            {"x": 1.0, "y": (-1.0, 1.0)},
            {"x": (-1.0, 1.0), "y": -1.0},
            {"x": (-1.0, 1.0), "y": 1.0},
        )
        return [ValueCondition("boundary", faces, self.dims, lambda c: torch.zeros_like(c["x"]))]

    def solve_reference(self, grid):
        x, y = np.meshgrid(grid["x"], grid["y"], indexing="ij")
        return np.sin(self.a1 * np.pi * x) * np.sin(self.a2 * np.pi * y)

    def constrain(self, coords, net):
        x, y = coords["x"], coords["y"]
        return (1.0 - x * x) * (1.0 - y * y) * net
