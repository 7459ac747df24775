"""Kovasznay flow: steady 2D incompressible Navier-Stokes with an exact solution."""

from __future__ import annotations

import math

import numpy as np
import param
import torch

from workbench.calculus import Jet
from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition


def navier_stokes_residual(u: Jet, viscosity, timed: bool) -> torch.Tensor:
    """Continuity, x- and y-momentum residuals of a velocity-pressure jet ``(u, v, p)``.

    Shared by the two flow problems with exact solutions (their equations differ only by the
    time derivative), so it lives with the first; ``viscosity`` may be a tensor (inferred).
    """
    vel, p_x, p_y = u.value[:, :2], u.d("x")[:, 2:3], u.d("y")[:, 2:3]
    dx, dy = u.d("x")[:, :2], u.d("y")[:, :2]
    lap = u.dd("x")[:, :2] + u.dd("y")[:, :2]
    momentum = vel[:, 0:1] * dx + vel[:, 1:2] * dy + torch.cat([p_x, p_y], 1) - viscosity * lap
    if timed:
        momentum = momentum + u.d("t")[:, :2]
    continuity = dx[:, 0:1] + dy[:, 1:2]
    return torch.cat([continuity, momentum], 1)


#: Names and attrs of a flow's components and equations.
FLOW_COMPONENTS = ("u", "v", "p")
FLOW_EQUATIONS = ("continuity", "momentum_x", "momentum_y")
FLOW_ATTRS = {
    "u": {"long_name": "velocity u", "units": "1"},
    "v": {"long_name": "velocity v", "units": "1"},
    "p": {"long_name": "pressure p", "units": "1"},
}


class Kovasznay2D(Problem):
    r"""Kovasznay flow (Kovasznay 1948) on :math:`[-0.5, 1] \times [-0.5, 1.5]`, as in
    DeepXDE's example: steady incompressible Navier-Stokes at Reynolds number Re,

    .. math::

        u u_x + v u_y + p_x - \tfrac{1}{Re}(u_{xx} + u_{yy}) = 0, \qquad
        u v_x + v v_y + p_y - \tfrac{1}{Re}(v_{xx} + v_{yy}) = 0, \qquad
        u_x + v_y = 0,

    with exact solution, :math:`\lambda = Re/2 - \sqrt{Re^2/4 + 4\pi^2}`,

    .. math::

        u = 1 - e^{\lambda x}\cos 2\pi y, \quad
        v = \frac{\lambda}{2\pi} e^{\lambda x}\sin 2\pi y, \quad
        p = \tfrac12\left(1 - e^{2\lambda x}\right).

    Conditions: ``u, v`` exact on the whole boundary (``boundary``) and ``p`` exact at the
    outlet ``x = 1`` (``outlet``; the pressure is otherwise fixed only up to a constant). The
    field has components ``(u, v, p)``; the residual's columns are continuity, x- and
    y-momentum. The reference is the exact solution.
    """

    name = param.String("kovasznay2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y")
    domain = {"x": (-0.5, 1.0), "y": (-0.5, 1.5)}
    derivatives = {"x": 2, "y": 2}
    grid_size = {"x": 76, "y": 101}
    components = FLOW_COMPONENTS
    equations = FLOW_EQUATIONS
    observables = ("u", "v")
    component_attrs = FLOW_ATTRS
    stream_function = True

    Re = param.Number(
        20.0,
        bounds=(1.0, 200.0),
        doc="Reynolds number Re (the viscosity is 1/Re); DeepXDE's example uses 20.",
    )

    def _lambda(self):
        re = self.Re
        if isinstance(re, torch.Tensor):
            return re / 2 - torch.sqrt(re * re / 4 + 4 * math.pi**2)
        return re / 2 - math.sqrt(re * re / 4 + 4 * math.pi**2)

    def exact(self, x, y):
        """``(u, v, p)`` of the exact solution at coordinates ``x``, ``y`` (numpy or torch)."""
        lam = float(self._lambda())
        lib = torch if isinstance(x, torch.Tensor) else np
        e = lib.exp(lam * x)
        return (
            1 - e * lib.cos(2 * math.pi * y),
            lam / (2 * math.pi) * e * lib.sin(2 * math.pi * y),
            0.5 * (1 - e * e),
        )

    def residual(self, coords, u):
        return navier_stokes_residual(u, 1.0 / self.Re, timed=False)

    def conditions(self):
        (x0, x1), (y0, y1) = self.domain["x"], self.domain["y"]
        faces = (
            {"x": x0, "y": (y0, y1)},
            {"x": x1, "y": (y0, y1)},
            {"x": (x0, x1), "y": y0},
            {"x": (x0, x1), "y": y1},
        )

        def velocity(c):
            u, v, _ = self.exact(c["x"], c["y"])
            return torch.cat([u, v], 1)

        def pressure(c):
            return self.exact(c["x"], c["y"])[2]

        return [
            ValueCondition("boundary", faces, self.dims, velocity, channels=(0, 1)),
            ValueCondition("outlet", ({"x": x1, "y": (y0, y1)},), self.dims, pressure, (2,)),
        ]

    def solve_reference(self, grid):
        x, y = np.meshgrid(grid["x"], grid["y"], indexing="ij")
        return np.stack(self.exact(x, y))
