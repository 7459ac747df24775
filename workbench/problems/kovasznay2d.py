"""Kovasznay flow: steady 2D incompressible Navier-Stokes with an exact solution."""

from __future__ import annotations

import math

import numpy as np
import param
import torch

from workbench.calculus import Jet, stack_jets
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


def channel(jet: Jet, i: int) -> Jet:
    """Channel ``i`` of a multi-channel jet, as a one-channel jet."""
    return Jet([part[:, i : i + 1] for part in jet.parts], jet.first, jet.second)


def _exp(a):
    return a.exp() if isinstance(a, Jet) else math.exp(a)


def _cos(a):
    return a.cos() if isinstance(a, Jet) else math.cos(a)


def _sin(a):
    return a.sin() if isinstance(a, Jet) else math.sin(a)


def coons(f, box, x, y):
    """Transfinite (Coons) interpolation of ``f`` from the edges of ``box`` into its inside:
    equal to ``f`` on the four edges, built from edge values only (no interior data).

    ``f(x, y)`` takes floats or jets (one of them a float on an edge); ``x``, ``y`` are jets.
    """
    (x0, x1), (y0, y1) = box
    s = (x - x0) * (1.0 / (x1 - x0))
    r = (y - y0) * (1.0 / (y1 - y0))
    edges = (1.0 - s) * f(x0, y) + s * f(x1, y) + (1.0 - r) * f(x, y0) + r * f(x, y1)
    corners = (1.0 - s) * (1.0 - r) * f(x0, y0) + s * (1.0 - r) * f(x1, y0)
    corners = corners + (1.0 - s) * r * f(x0, y1) + s * r * f(x1, y1)
    return edges - corners


def bubble(box, x, y) -> Jet:
    """``(x - x0)(x1 - x)(y - y0)(y1 - y)``, scaled to 1 at the centre: zero on the edges."""
    (x0, x1), (y0, y1) = box
    scale = 16.0 / ((x1 - x0) ** 2 * (y1 - y0) ** 2)
    return (x - x0) * (x1 - x) * (y - y0) * (y1 - y) * scale


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

    The exact-constraint transform (``hard_constraints``) uses boundary data only: ``u`` and
    ``v`` are the transfinite (Coons) interpolation of their wall values plus
    :math:`(x + 0.5)(1 - x)(y + 0.5)(1.5 - y)` times the network, and
    :math:`p = p(1) + (1 - x) N_p`. It depends on Re (the wall data do), so Re cannot be
    inferred with it.
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
    constrained = ("boundary", "outlet")
    constraint_knobs = ("Re",)

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

    def constrain(self, coords, net):
        x, y = coords["x"], coords["y"]
        lam = float(self._lambda())
        box = (self.domain["x"], self.domain["y"])

        def u_wall(a, b):
            return 1.0 - _exp(a * lam) * _cos(b * (2 * math.pi))

        def v_wall(a, b):
            return _exp(a * lam) * _sin(b * (2 * math.pi)) * (lam / (2 * math.pi))

        x1 = self.domain["x"][1]
        p_out = 0.5 * (1.0 - math.exp(2 * lam * x1))
        zero = bubble(box, x, y)
        u = coons(u_wall, box, x, y) + zero * channel(net, 0)
        v = coons(v_wall, box, x, y) + zero * channel(net, 1)
        p = p_out + (x1 - x) * channel(net, 2)
        return stack_jets([u, v, p])
