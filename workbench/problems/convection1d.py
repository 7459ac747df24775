"""1D linear convection (advection), the classic PINN failure mode for large beta."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import PeriodicCondition, ValueCondition


class Convection1D(Problem):
    r"""Linear convection with periodic boundaries (Krishnapriyan et al. 2021).

    .. math::

        u_t + \beta u_x = 0, \quad x \in [0, 2\pi],\ t \in [0, 1], \qquad
        u(x, 0) = \sin x, \quad u(0, t) = u(2\pi, t),

    with exact solution :math:`u = \sin(x - \beta t)`. A plain PINN fails for
    :math:`\beta \gtrsim 30`. The exact-constraint transform enforces the initial condition,
    :math:`u = \sin x + t\,N(x, t)`.
    """

    name = param.String("convection1d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "t")
    domain = {"x": (0.0, 2 * np.pi), "t": (0.0, 1.0)}
    derivatives = {"x": 1, "t": 1}
    grid_size = {"x": 256, "t": 101}
    constrained = ("initial",)

    beta = param.Number(30.0, bounds=(0.0, 100.0), doc="Convection speed beta.")

    def residual(self, coords, u):
        return u.d("t") + self.beta * u.d("x")

    def conditions(self):
        return [
            ValueCondition(
                "initial",
                ({"x": self.domain["x"], "t": 0.0},),
                self.dims,
                lambda c: torch.sin(c["x"]),
            ),
            PeriodicCondition("periodic", "x", self.domain, self.dims),
        ]

    def solve_reference(self, grid):
        x, t = np.meshgrid(grid["x"], grid["t"], indexing="ij")
        return np.sin(x - self.beta * t)

    def constrain(self, coords, net):
        return coords["x"].sin() + coords["t"] * net
