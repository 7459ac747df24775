"""1D heat equation with an exact Fourier-series solution."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition

#: Sine-series coefficients b_n of the initial condition (modes n = 1, 2, 3, ...).
INITIAL_MODES = (1.0, 0.0, 0.5, 0.0, 0.25)


def _initial(x):
    sin = torch.sin if isinstance(x, torch.Tensor) else np.sin
    return sum(b * sin((n + 1) * np.pi * x) for n, b in enumerate(INITIAL_MODES) if b)


class Heat1D(Problem):
    r"""Heat (diffusion) equation on the unit interval.

    .. math::

        u_t = \alpha\, u_{xx}, \quad x \in [0, 1],\ t \in [0, 1], \qquad u(0, t) = u(1, t) = 0,

        u(x, 0) = \sum_n b_n \sin(n\pi x), \qquad b = (1, 0, 0.5, 0, 0.25),

    with the exact series solution
    :math:`u = \sum_n b_n e^{-\alpha n^2\pi^2 t} \sin(n\pi x)`: high modes decay first.
    The exact-constraint transform is :math:`u = u_0(x) + t\,x(1 - x)\,N(x, t)`.
    """

    name = param.String("heat1d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "t")
    domain = {"x": (0.0, 1.0), "t": (0.0, 1.0)}
    derivatives = {"x": 2, "t": 1}
    grid_size = {"x": 101, "t": 101}
    constrained = ("boundary", "initial")

    alpha = param.Number(0.1, bounds=(1e-3, 1.0), doc="Diffusivity alpha.")

    def residual(self, coords, u):
        return u.d("t") - self.alpha * u.dd("x")

    def conditions(self):
        zero = lambda c: torch.zeros_like(c["x"])  # noqa: E731
        walls = ({"x": 0.0, "t": (0.0, 1.0)}, {"x": 1.0, "t": (0.0, 1.0)})
        return [
            ValueCondition("boundary", walls, self.dims, zero),
            ValueCondition(
                "initial", ({"x": (0.0, 1.0), "t": 0.0},), self.dims, lambda c: _initial(c["x"])
            ),
        ]

    def solve_reference(self, grid):
        x, t = np.meshgrid(grid["x"], grid["t"], indexing="ij")
        u = np.zeros_like(x)
        for n, b in enumerate(INITIAL_MODES, start=1):
            u += b * np.exp(-self.alpha * (n * np.pi) ** 2 * t) * np.sin(n * np.pi * x)
        return u

    def constrain(self, coords, net):
        x, t = coords["x"], coords["t"]
        u0 = sum(b * ((n + 1) * np.pi * x).sin() for n, b in enumerate(INITIAL_MODES) if b)
        return u0 + t * x * (1.0 - x) * net
