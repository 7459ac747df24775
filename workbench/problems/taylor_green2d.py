"""The Taylor-Green vortex: unsteady 2D incompressible Navier-Stokes with an exact solution."""

from __future__ import annotations

import math

import numpy as np
import param
import torch

from workbench.calculus import stack_jets
from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition
from workbench.problems.kovasznay2d import (
    FLOW_ATTRS,
    FLOW_COMPONENTS,
    FLOW_EQUATIONS,
    channel,
    navier_stokes_residual,
)

#: Side of the square (one period of the vortex array) and the end time.
SIDE = 2 * math.pi
END_TIME = 1.0


class TaylorGreen2D(Problem):
    r"""Decaying Taylor-Green vortices on :math:`[0, 2\pi]^2`, :math:`t \in [0, 1]`:
    incompressible Navier-Stokes with viscosity :math:`\nu`,

    .. math::

        u_t + u u_x + v u_y + p_x - \nu(u_{xx} + u_{yy}) = 0, \qquad
        v_t + u v_x + v v_y + p_y - \nu(v_{xx} + v_{yy}) = 0, \qquad
        u_x + v_y = 0,

    with exact solution, :math:`F(t) = e^{-2\nu t}`,

    .. math::

        u = -\cos x \sin y\, F, \quad v = \sin x \cos y\, F, \quad
        p = -\tfrac14(\cos 2x + \cos 2y) F^2.

    Conditions: ``u, v`` exact at ``t = 0`` (``initial``) and on the four walls
    (``boundary``), and ``p`` exact on the wall ``x = 0`` (``pressure``; the pressure is
    otherwise fixed only up to a function of time). Components ``(u, v, p)``; the residual's
    columns are continuity, x- and y-momentum. The reference is the exact solution. The decay
    rate alone carries :math:`\nu` (the nonlinear term is balanced by the pressure), which is
    what an inverse problem (``infer={'nu': ...}``) reads from observed velocities.

    The exact-constraint transform (``hard_constraints``) satisfies the initial condition:
    :math:`u = -\cos x \sin y + t N_u`, :math:`v = \sin x \cos y + t N_v`, :math:`p = N_p`.
    """

    name = param.String("taylor_green2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y", "t")
    domain = {"x": (0.0, SIDE), "y": (0.0, SIDE), "t": (0.0, END_TIME)}
    derivatives = {"x": 2, "y": 2, "t": 1}
    grid_size = {"x": 41, "y": 41, "t": 11}
    components = FLOW_COMPONENTS
    equations = FLOW_EQUATIONS
    observables = ("u", "v")
    component_attrs = FLOW_ATTRS
    stream_function = True
    constrained = ("initial",)

    nu = param.Number(0.1, bounds=(1e-3, 1.0), doc="Kinematic viscosity nu.")

    def exact(self, x, y, t):
        """``(u, v, p)`` of the exact solution at ``x``, ``y``, ``t`` (numpy or torch)."""
        lib = torch if isinstance(x, torch.Tensor) else np
        decay = lib.exp(-2 * float(self.nu) * t)
        return (
            -lib.cos(x) * lib.sin(y) * decay,
            lib.sin(x) * lib.cos(y) * decay,
            -0.25 * (lib.cos(2 * x) + lib.cos(2 * y)) * decay * decay,
        )

    def residual(self, coords, u):
        return navier_stokes_residual(u, self.nu, timed=True)

    def conditions(self):
        span, t = (0.0, SIDE), (0.0, END_TIME)
        walls = (
            {"x": 0.0, "y": span, "t": t},
            {"x": SIDE, "y": span, "t": t},
            {"x": span, "y": 0.0, "t": t},
            {"x": span, "y": SIDE, "t": t},
        )

        def velocity(c):
            u, v, _ = self.exact(c["x"], c["y"], c["t"])
            return torch.cat([u, v], 1)

        def pressure(c):
            return self.exact(c["x"], c["y"], c["t"])[2]

        return [
            ValueCondition(
                "initial", ({"x": span, "y": span, "t": 0.0},), self.dims, velocity, (0, 1)
            ),
            ValueCondition("boundary", walls, self.dims, velocity, (0, 1)),
            ValueCondition("pressure", (walls[0],), self.dims, pressure, (2,)),
        ]

    def constrain(self, coords, net):
        x, y, t = coords["x"], coords["y"], coords["t"]
        u = -(x.cos() * y.sin()) + t * channel(net, 0)
        v = x.sin() * y.cos() + t * channel(net, 1)
        return stack_jets([u, v, channel(net, 2)])

    def solve_reference(self, grid):
        x, y, t = np.meshgrid(grid["x"], grid["y"], grid["t"], indexing="ij")
        return np.stack(self.exact(x, y, t))
