"""1D viscous Burgers equation, the standard PINN benchmark."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.numerics import burgers_cole_hopf
from workbench.problems.base import Problem, ValueCondition


class Burgers1D(Problem):
    r"""Viscous Burgers equation with a shock forming at ``x = 0`` (Raissi et al. 2019).

    .. math::

        u_t + u u_x = \nu u_{xx}, \quad x \in [-1, 1],\ t \in [0, 0.99], \qquad
        u(x, 0) = -\sin(\pi x), \quad u(\pm 1, t) = 0.

    The reference is the exact Cole-Hopf solution evaluated by quadrature
    (:func:`workbench.numerics.burgers_cole_hopf`), valid for every :math:`\nu` in its bounds.
    The exact-constraint transform is :math:`u = -\sin(\pi x) + t (1 - x^2) N(x, t)`.
    """

    name = param.String("burgers1d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "t")
    domain = {"x": (-1.0, 1.0), "t": (0.0, 0.99)}
    derivatives = {"x": 2, "t": 1}
    # The grid of the published reference (DeepXDE's Burgers.npz), so the two compare directly.
    grid_size = {"x": 256, "t": 100}
    constrained = ("boundary", "initial")

    nu = param.Number(0.01 / np.pi, bounds=(1e-3, 1.0), doc="Viscosity nu.")

    def residual(self, coords, u):
        return u.d("t") + u.value * u.d("x") - self.nu * u.dd("x")

    def conditions(self):
        walls = ({"x": -1.0, "t": (0.0, 0.99)}, {"x": 1.0, "t": (0.0, 0.99)})
        return [
            ValueCondition("boundary", walls, self.dims, lambda c: torch.zeros_like(c["x"])),
            ValueCondition(
                "initial",
                ({"x": (-1.0, 1.0), "t": 0.0},),
                self.dims,
                lambda c: -torch.sin(np.pi * c["x"]),
            ),
        ]

    def solve_reference(self, grid):
        return burgers_cole_hopf(grid["x"], grid["t"], self.nu)

    def constrain(self, coords, net):
        x, t = coords["x"], coords["t"]
        return -((np.pi * x).sin()) + t * (1.0 - x * x) * net
