"""1D logistic reaction (Fisher-type source, no diffusion)."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import PeriodicCondition, ValueCondition

_CENTRE, _WIDTH = np.pi, np.pi / 4


def _initial(x):
    exp = torch.exp if isinstance(x, torch.Tensor) else np.exp
    return exp(-((x - _CENTRE) ** 2) / (2 * _WIDTH**2))


class Reaction1D(Problem):
    r"""Logistic reaction with periodic boundaries (Krishnapriyan et al. 2021).

    .. math::

        u_t - \rho\, u (1 - u) = 0, \quad x \in [0, 2\pi],\ t \in [0, 1], \qquad
        u(x, 0) = h(x) = \exp\!\left(-\frac{(x - \pi)^2}{2 (\pi/4)^2}\right),

    periodic in ``x``, with exact solution
    :math:`u = h e^{\rho t} / (h e^{\rho t} + 1 - h)`. Large :math:`\rho` makes sharp fronts.
    The exact-constraint transform enforces the initial condition, :math:`u = h(x) + t N`.
    """

    name = param.String("reaction1d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "t")
    domain = {"x": (0.0, 2 * np.pi), "t": (0.0, 1.0)}
    derivatives = {"t": 1}
    grid_size = {"x": 256, "t": 101}
    constrained = ("initial",)

    rho = param.Number(5.0, bounds=(0.0, 20.0), doc="Reaction rate rho.")

    def residual(self, coords, u):
        return u.d("t") - self.rho * u.value * (1.0 - u.value)

    def conditions(self):
        return [
            ValueCondition(
                "initial",
                ({"x": self.domain["x"], "t": 0.0},),
                self.dims,
                lambda c: _initial(c["x"]),
            ),
            PeriodicCondition("periodic", "x", self.domain, self.dims),
        ]

    def solve_reference(self, grid):
        x, t = np.meshgrid(grid["x"], grid["t"], indexing="ij")
        h = _initial(x)
        growth = h * np.exp(self.rho * t)
        return growth / (growth + 1.0 - h)

    def constrain(self, coords, net):
        x = coords["x"]
        gauss = ((x - _CENTRE) * (x - _CENTRE) * (-1.0 / (2 * _WIDTH**2))).exp()
        return gauss + coords["t"] * net
