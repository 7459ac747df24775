"""1D Allen-Cahn equation: metastable interfaces, a hard case for PINNs."""

from __future__ import annotations

import numpy as np
import param

from workbench.numerics import allen_cahn_reference
from workbench.problems.base import Problem
from workbench.problems.conditions import PeriodicCondition, ValueCondition


class AllenCahn1D(Problem):
    r"""Allen-Cahn reaction-diffusion equation with periodic boundaries.

    .. math::

        u_t - \epsilon^2 u_{xx} + \gamma u^3 - \gamma u = 0, \quad x \in [-1, 1],\ t \in [0, 1],

        u(x, 0) = x^2 \cos(\pi x), \qquad u \text{ periodic in } x,

    with :math:`\epsilon^2 = 10^{-4}` and :math:`\gamma = 5` by default. The reference is a
    Fourier-spectral ETDRK4 solve (:func:`workbench.numerics.allen_cahn_reference`).
    The exact-constraint transform enforces the initial condition,
    :math:`u = x^2\cos(\pi x) + t\,N(x, t)`.
    """

    name = param.String("allen_cahn1d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "t")
    domain = {"x": (-1.0, 1.0), "t": (0.0, 1.0)}
    derivatives = {"x": 2, "t": 1}
    grid_size = {"x": 201, "t": 101}
    constrained = ("initial",)

    eps2 = param.Number(1e-4, bounds=(1e-5, 1e-2), doc="Diffusion coefficient epsilon^2.")
    gamma = param.Number(5.0, bounds=(0.5, 10.0), doc="Reaction strength gamma.")

    def residual(self, coords, u):
        v = u.value
        return u.d("t") - self.eps2 * u.dd("x") + self.gamma * (v**3 - v)

    def conditions(self):
        return [
            ValueCondition(
                "initial",
                ({"x": (-1.0, 1.0), "t": 0.0},),
                self.dims,
                lambda c: c["x"] ** 2 * (np.pi * c["x"]).cos(),
            ),
            PeriodicCondition("periodic", "x", self.domain, self.dims),
        ]

    def solve_reference(self, grid):
        return allen_cahn_reference(grid["x"], grid["t"], eps2=self.eps2, reaction=self.gamma)

    def constrain(self, coords, net):
        x = coords["x"]
        return x * x * (np.pi * x).cos() + coords["t"] * net
