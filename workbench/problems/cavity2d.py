"""Lid-driven cavity flow: steady 2D incompressible Navier-Stokes with a classical reference."""

from __future__ import annotations

import math

import numpy as np
import param
import torch
from scipy.interpolate import RectBivariateSpline

from workbench.calculus import Jet, stack_jets
from workbench.numerics.cavity import RE_RANGE, cavity_pressure, solve_cavity
from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition
from workbench.problems.kovasznay2d import (
    FLOW_ATTRS,
    FLOW_COMPONENTS,
    FLOW_EQUATIONS,
    bubble,
    channel,
    navier_stokes_residual,
)

#: The point where the pressure is fixed to 0 (the centre of the bottom wall): the pressure of
#: an enclosed flow is otherwise defined only up to a constant.
GAUGE = {"x": 0.5, "y": 0.0}
#: The side walls' condition is sampled up to this far below the lid: at the lid corners ``u``
#: jumps from 0 to 1 and the corner points belong to the lid (as in the solver), so the walls'
#: samples stop short of them, by less than a cell of the default evaluation grid (1/64).
CORNER_GAP = 0.01
#: Collocation points keep this distance from the two lid corners. There the exact flow is
#: singular (vorticity and pressure like 1/r, the momentum terms like 1/r^2), so its residual
#: is not even square-integrable near them: a point at r = 1e-3 would weigh like thousands of
#: others and decide the training (seed 1 of the PINN recipe's first guess: centreline error
#: 17 % of the lid speed with points down to the corners, 7 % without them).
CORNER_EXCLUSION = 0.02
#: Classical solutions per (Re, resolution), shared by all instances in a process: a solve
#: costs seconds, and the app, tests and benchmarks build many problems with equal knobs.
_SOLUTIONS: dict[tuple[float, int], tuple[np.ndarray, np.ndarray]] = {}
#: Smallest squared distance to a lid corner in the lift's derivatives: keeps them finite at
#: the corner nodes themselves (where the lift is 1, like the solver's lid).
_TINY = 1e-12


def _corner_angle(a: Jet, b: Jet) -> Jet:
    r"""The jet of :math:`\theta = \operatorname{atan2}(b, a)` for coordinate jets ``a, b``
    (the polar angle around the point ``a = b = 0``), by the chain rule."""
    a0, b0 = a.value, b.value
    r2 = (a0 * a0 + b0 * b0).clamp_min(_TINY)
    t_a, t_b = -b0 / r2, a0 / r2
    t_aa = 2 * a0 * b0 / (r2 * r2)
    t_ab = (b0 * b0 - a0 * a0) / (r2 * r2)
    parts = [torch.atan2(b0, a0)]
    parts += [t_a * a.d(d) + t_b * b.d(d) for d in a.first]
    for d in a.second:
        a_d, b_d = a.d(d), b.d(d)
        parts.append(
            t_aa * (a_d * a_d - b_d * b_d) + 2 * t_ab * a_d * b_d + t_a * a.dd(d) + t_b * b.dd(d)
        )
    return Jet(parts, a.first, a.second)


def lid_lift(x: Jet, y: Jet) -> Jet:
    r"""A smooth function inside the square equal to the exact wall data of ``u``: 1 on the lid
    :math:`y = 1`, 0 on the other three walls, discontinuous only at the two lid corners.

    :math:`g = y\,(1 - \tfrac2\pi\theta_1)(1 - \tfrac2\pi\theta_2)` with the angles
    :math:`\theta_1 = \operatorname{atan2}(1 - y, x)`, :math:`\theta_2 =
    \operatorname{atan2}(1 - y, 1 - x)` seen from the corners ``(0, 1)`` and ``(1, 1)``: each
    factor is 1 on the lid and 0 on its side wall (:math:`\theta = \pi/2`), and ``y`` vanishes
    on the bottom. Like the flow itself near a corner where the wall speed jumps (Stokes'
    corner flow), the lift is a function of the angle there.
    """
    s = 2.0 / math.pi
    left = 1.0 - _corner_angle(x, 1.0 - y) * s
    right = 1.0 - _corner_angle(1.0 - x, 1.0 - y) * s
    return y * left * right


class Cavity2D(Problem):
    r"""Lid-driven cavity flow on the unit square: steady incompressible Navier-Stokes at
    Reynolds number Re (lid speed 1, side 1, viscosity 1/Re),

    .. math::

        u u_x + v u_y + p_x - \tfrac{1}{Re}(u_{xx} + u_{yy}) = 0, \qquad
        u v_x + v v_y + p_y - \tfrac{1}{Re}(v_{xx} + v_{yy}) = 0, \qquad
        u_x + v_y = 0,

    with the lid :math:`y = 1` sliding at :math:`u = 1, v = 0` (``lid``), no slip
    :math:`u = v = 0` on the other walls (``walls``, sampled up to :data:`CORNER_GAP` below
    the lid corners), and the pressure fixed to 0 at the centre
    of the bottom wall (``gauge``: it is otherwise defined only up to a constant).

    **The corner discontinuity.** The data are the exact, discontinuous ones: ``u`` jumps
    from 0 on the side walls to 1 on the lid at the two top corners (the lid corner nodes
    belong to the lid, as in the classical solver and Ghia et al.). It is not regularised
    (a smoothed lid would be a different flow from the classical reference). The vorticity
    and the pressure are singular there (like :math:`1/r`); the velocity stays bounded.

    **Reference.** :func:`~workbench.numerics.cavity.solve_cavity` (stream function-vorticity,
    second order) on ``resolution x resolution`` nodes, which the default evaluation grid
    (65 x 65) nests, interpolated to other grids by cubic splines. The solver has no pressure:
    :func:`~workbench.numerics.cavity.cavity_pressure` recovers it from the momentum equations
    (least squares over the grid's edges, i.e. a pressure Poisson solve), gauged like the
    problem. The metric (``l2re``) therefore covers ``u, v, p``; but the reference pressure
    at and next to the two lid corners is the grid's finite stand-in for a singular value
    (it grows as the grid is refined), so ``l2re_p`` is dominated by those few nodes and
    measures little of the flow (at Re = 100 on the default grid, the 3 x 3 nodes at each lid
    corner, 0.4 % of the grid, hold 69 % of the squared norm of ``p``; median ``|p|`` 0.017,
    largest 3.6): judge the velocity by ``l2re_u``, ``l2re_v`` and the
    centrelines (the classical comparison). References are cached per Re and grid.

    The exact-constraint transform (``hard_constraints``) meets ``walls`` and ``lid``:
    :math:`u = g + B N_u`, :math:`v = B N_v`, :math:`p = N_p`, with :math:`B` the bubble
    :math:`16 x(1-x)y(1-y)` and :math:`g` the lid lift :func:`lid_lift`, exactly 1 on the lid
    and 0 on the other walls. The gauge stays a loss term.

    Collocation points (:meth:`sample_interior`) keep :data:`CORNER_EXCLUSION` away from the
    lid corners, where the exact flow's residual terms are singular.
    """

    name = param.String("cavity2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y")
    domain = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    derivatives = {"x": 2, "y": 2}
    grid_size = {"x": 65, "y": 65}
    components = FLOW_COMPONENTS
    equations = FLOW_EQUATIONS
    observables = ("u", "v")
    component_attrs = FLOW_ATTRS
    stream_function = True
    constrained = ("walls", "lid")

    Re = param.Number(
        100.0,
        bounds=RE_RANGE,
        doc="Reynolds number Re = U L / nu (lid speed 1, side 1; the viscosity is 1/Re). The "
        "classical solver converges on the whole range; the PINN recipe is measured at 100 "
        "(Ghia et al.'s table), higher Re needs far more points and steps.",
    )
    resolution = param.Integer(
        129,
        bounds=(33, 257),
        doc="Nodes per side of the classical solver's grid for the reference (odd, so the "
        "centrelines are node lines; 129 as in Ghia et al.). Solving costs ~3 s of CPU at 129, "
        "~20 s at 257.",
    )

    def __init__(self, **params):
        super().__init__(**params)
        if self.resolution % 2 == 0:
            raise ValueError(
                f"resolution must be odd (the centrelines x = 0.5, y = 0.5 are node lines), "
                f"got resolution={self.resolution}"
            )

    def sample_interior(
        self, n: int, generator: torch.Generator, sobol: bool = False
    ) -> torch.Tensor:
        """``n`` collocation points in the square, none within :data:`CORNER_EXCLUSION` of the
        two lid corners (see there): draws of the base class with those points left out, in
        order, drawing again until ``n`` remain."""
        kept, count = [], 0
        while count < n:
            # The excluded quarter discs cover 2 * pi / 4 * 0.02^2 = 0.06 % of the square.
            points = super().sample_interior(n + n // 100 + 8, generator, sobol)
            x, y = points[:, 0], points[:, 1]
            near = torch.minimum(x.square(), (1 - x).square()) + (1 - y).square()
            points = points[near >= CORNER_EXCLUSION**2]
            kept.append(points)
            count += len(points)
        return torch.cat(kept)[:n]

    def residual(self, coords, u):
        return navier_stokes_residual(u, 1.0 / self.Re, timed=False)

    def conditions(self):
        side = (0.0, 1.0 - CORNER_GAP)
        walls = ({"x": 0.0, "y": side}, {"x": 1.0, "y": side}, {"x": (0.0, 1.0), "y": 0.0})

        def at_rest(c):
            return torch.zeros(len(c["x"]), 2, dtype=c["x"].dtype, device=c["x"].device)

        def sliding(c):
            return torch.cat([torch.ones_like(c["x"]), torch.zeros_like(c["x"])], 1)

        def gauge(c):
            return torch.zeros_like(c["x"])

        return [
            ValueCondition("walls", walls, self.dims, at_rest, channels=(0, 1)),
            ValueCondition("lid", ({"x": (0.0, 1.0), "y": 1.0},), self.dims, sliding, (0, 1)),
            ValueCondition("gauge", (GAUGE,), self.dims, gauge, channels=(2,)),
        ]

    def solver_fields(self) -> tuple[np.ndarray, np.ndarray]:
        """The classical solution on the solver's node grid: coordinates ``(n,)`` and
        ``(u, v, p)`` stacked, ``(3, n, n)`` (axis 1 is x). Cached per Re and resolution."""
        key = (float(self.Re), int(self.resolution))
        if key not in _SOLUTIONS:
            flow = solve_cavity(self.resolution, self.Re)
            p = cavity_pressure(flow, self.Re)
            _SOLUTIONS[key] = (flow.x, np.stack([flow.u, flow.v, p]))
        return _SOLUTIONS[key]

    def solve_reference(self, grid):
        nodes, fields = self.solver_fields()
        gx, gy = np.asarray(grid["x"], float), np.asarray(grid["y"], float)
        index_x, index_y = self._node_indices(nodes, gx), self._node_indices(nodes, gy)
        if index_x is not None and index_y is not None:
            # The grid's points are solver nodes: their values exactly.
            return fields[:, index_x][:, :, index_y].copy()
        # Interpolating bicubic splines (s=0): exact at the nodes, and a direct solve, unlike
        # RegularGridInterpolator's "cubic", whose iterative solve leaves ~1e-6 at the nodes.
        return np.stack(
            [RectBivariateSpline(nodes, nodes, f, kx=3, ky=3, s=0)(gx, gy) for f in fields]
        )

    @staticmethod
    def _node_indices(nodes: np.ndarray, values: np.ndarray):
        """Indices of ``values`` among ``nodes`` if all of them are nodes (to 1e-12), else None."""
        index = np.clip(np.rint(values * (len(nodes) - 1)).astype(int), 0, len(nodes) - 1)
        return index if np.allclose(nodes[index], values, rtol=0, atol=1e-12) else None

    def constrain(self, coords, net):
        x, y = coords["x"], coords["y"]
        zero = bubble((self.domain["x"], self.domain["y"]), x, y)
        u = lid_lift(x, y) + zero * channel(net, 0)
        v = zero * channel(net, 1)
        return stack_jets([u, v, channel(net, 2)])
