r"""Steady lid-driven cavity flow by stream function-vorticity finite differences.

On the unit square with the lid :math:`y = 1` moving at speed :math:`U = 1` and the other walls
at rest, the steady incompressible Navier-Stokes equations in stream function-vorticity form
read

.. math::

    \Delta \psi = -\omega, \qquad
    \psi_y \omega_x - \psi_x \omega_y = \frac{1}{Re} \Delta \omega, \qquad
    (u, v) = (\psi_y, -\psi_x),

with :math:`\psi = 0` on every wall and the no-slip conditions entering through the wall
vorticity. Discretisation: second-order central differences on ``n x n`` nodes (spacing
``h = 1 / (n - 1)``) at interior nodes; at the walls Jensen's second-order formula (from
:math:`\psi = 0` and the tangential velocity :math:`\partial_n \psi`),

.. math::

    \omega_{\text{wall}} = -\frac{8 \psi_1 - \psi_2}{2 h^2} - \frac{3 U_t}{h},

where :math:`\psi_1, \psi_2` are the values one and two nodes into the fluid and :math:`U_t`
the wall speed along the positive tangent (1 on the lid, 0 elsewhere; the corner vorticity is
not used by the interior stencils and is set to 0).

The coupled nonlinear system is solved by pseudo-transient continuation: Newton steps on
:math:`\partial_\tau \omega = \frac1{Re} \Delta\omega - \mathbf u \cdot \nabla \omega` with a
pseudo-time step that grows as the residual falls (switched evolution relaxation, Mulder &
van Leer 1985), so the iteration starts as a robust implicit march in pseudo-time and ends as
Newton's method, converging quadratically. Each step is one sparse LU solve (SuperLU).

The classical reference is Ghia, Ghia & Shin (1982), "High-Re solutions for incompressible
flow using the Navier-Stokes equations and a multigrid method", J. Comput. Phys. 48(3),
387-411, Tables I and II (129 x 129 nodes for Re = 100): :data:`GHIA_RE100_U` and
:data:`GHIA_RE100_V`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = [
    "GHIA_RE100_U",
    "GHIA_RE100_V",
    "CavityFlow",
    "cavity_pressure",
    "centrelines",
    "ghia_nodes",
    "solve_cavity",
]

#: Ghia, Ghia & Shin (1982), Table I, Re = 100: ``(y, u)`` along the vertical centreline
#: ``x = 0.5``. The y values are nodes ``k / 128`` of their 129 x 129 grid, to 4 decimals.
GHIA_RE100_U = np.array(
    [
        (1.0000, 1.00000),
        (0.9766, 0.84123),
        (0.9688, 0.78871),
        (0.9609, 0.73722),
        (0.9531, 0.68717),
        (0.8516, 0.23151),
        (0.7344, 0.00332),
        (0.6172, -0.13641),
        (0.5000, -0.20581),
        (0.4531, -0.21090),
        (0.2813, -0.15662),
        (0.1719, -0.10150),
        (0.1016, -0.06434),
        (0.0703, -0.04775),
        (0.0625, -0.04192),
        (0.0547, -0.03717),
        (0.0000, 0.00000),
    ]
)
#: Ghia, Ghia & Shin (1982), Table II, Re = 100: ``(x, v)`` along the horizontal centreline
#: ``y = 0.5``.
GHIA_RE100_V = np.array(
    [
        (1.0000, 0.00000),
        (0.9688, -0.05906),
        (0.9609, -0.07391),
        (0.9531, -0.08864),
        (0.9453, -0.10313),
        (0.9063, -0.16914),
        (0.8594, -0.22445),
        (0.8047, -0.24533),
        (0.5000, 0.05454),
        (0.2344, 0.17527),
        (0.2266, 0.17507),
        (0.1563, 0.16077),
        (0.0938, 0.12317),
        (0.0781, 0.10890),
        (0.0703, 0.10091),
        (0.0625, 0.09233),
        (0.0000, 0.00000),
    ]
)

#: Reynolds numbers the solver accepts. Above ~1000 the steady branch needs finer grids than
#: a CPU test can afford, and beyond ~8000 the steady solution itself stops being the flow.
RE_RANGE = (1.0, 1000.0)
#: Fewest nodes per side: the wall formula needs two interior nodes, the centrelines a node.
MIN_NODES = 9


class CavityFlow(NamedTuple):
    """A converged cavity solution on the node grid; arrays are ``(n, n)``, axis 0 is x."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    psi: np.ndarray
    w: np.ndarray
    iterations: int
    residual: float


def _operators(n: int) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Central first derivatives ``Dx, Dy`` and the 5-point Laplacian on all ``n^2`` nodes
    (C order over (x, y)); rows at boundary nodes are never used."""
    h = 1.0 / (n - 1)
    eye = sp.identity(n, format="csr")
    d1 = sp.diags([-1.0, 1.0], [-1, 1], shape=(n, n)) / (2.0 * h)
    d2 = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n, n)) / h**2
    return (
        sp.kron(d1, eye, format="csr"),
        sp.kron(eye, d1, format="csr"),
        (sp.kron(d2, eye) + sp.kron(eye, d2)).tocsr(),
    )


def _wall_formula(n: int, lid: float) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Jensen's wall vorticity ``w = W psi + b`` at the non-corner wall nodes; returns ``W``,
    ``b`` and a mask of those nodes."""
    h = 1.0 / (n - 1)
    index = np.arange(n * n).reshape(n, n)
    rows, cols, vals = [], [], []
    b = np.zeros(n * n)
    wall = np.zeros((n, n), dtype=bool)
    inner = np.arange(1, n - 1)
    # (wall nodes, first and second nodes into the fluid, tangential wall speed)
    sides = (
        (index[inner, 0], index[inner, 1], index[inner, 2], 0.0),
        (index[inner, -1], index[inner, -2], index[inner, -3], lid),
        (index[0, inner], index[1, inner], index[2, inner], 0.0),
        (index[-1, inner], index[-2, inner], index[-3, inner], 0.0),
    )
    for at, first, second, speed in sides:
        rows += [at, at]
        cols += [first, second]
        vals += [np.full(at.size, -8.0 / (2 * h**2)), np.full(at.size, 1.0 / (2 * h**2))]
        b[at] = -3.0 * speed / h
        wall.ravel()[at] = True
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * n, n * n)
    )
    return matrix, b, wall.ravel()


def solve_cavity(
    n: int,
    re: float = 100.0,
    *,
    tol: float = 1e-10,
    max_iterations: int = 200,
    initial: CavityFlow | None = None,
) -> CavityFlow:
    """Steady lid-driven cavity flow on ``n x n`` nodes of the unit square.

    Parameters
    ----------
    n : int
        Nodes per side including the walls, in ``[9, 1025]``.
    re : float
        Reynolds number ``U L / nu`` (lid speed 1, side 1), in :data:`RE_RANGE`.
    tol : float
        Convergence tolerance on the largest residual of the discrete equations, each scaled
        by its own size (``max |R| / max(1, max |terms|)``), in ``(0, 1e-3]``.
    max_iterations : int
        Pseudo-time (Newton) steps before giving up, ``>= 1``.
    initial : CavityFlow, optional
        A converged solution on the same grid to start from (continuation in ``re``).

    Returns
    -------
    CavityFlow
        ``x, y`` (node coordinates), ``u, v, psi, w`` on the nodes (``u = 1`` along the lid,
        corners included), the steps taken and the final scaled residual.

    Raises
    ------
    ValueError
        If ``n``, ``re``, ``tol`` or ``max_iterations`` is out of range (naming it).
    RuntimeError
        If the residual is not below ``tol`` after ``max_iterations`` steps.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not MIN_NODES <= n <= 1025:
        raise ValueError(f"n (nodes per side) must be an integer in [{MIN_NODES}, 1025], got {n!r}")
    re = float(re)
    lo, hi = RE_RANGE
    if not lo <= re <= hi:
        raise ValueError(f"re (Reynolds number) must be in [{lo:g}, {hi:g}], got re={re!r}")
    if not 0.0 < tol <= 1e-3:
        raise ValueError(f"tol must be in (0, 1e-3], got tol={tol!r}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations!r}")
    if initial is not None and initial.psi.shape != (n, n):
        raise ValueError(f"initial must be a solution on {n} x {n} nodes")

    n = int(n)
    size = n * n
    nu = 1.0 / re
    dx, dy, lap = _operators(n)
    wall_matrix, wall_b, wall = _wall_formula(n, 1.0)
    interior = np.zeros((n, n), dtype=bool)
    interior[1:-1, 1:-1] = True
    interior = interior.ravel()
    boundary = ~interior
    corner = boundary & ~wall
    p_int = sp.diags(interior.astype(float))
    p_bnd = sp.diags(boundary.astype(float))
    p_wall = sp.diags(wall.astype(float))
    p_corner = sp.diags(corner.astype(float))
    # The psi equation and the wall equations are constraints; only the interior vorticity
    # has a pseudo-time derivative.
    pseudo = sp.block_diag([sp.csr_matrix((size, size)), p_int], format="csr")

    if initial is None:
        psi, w = np.zeros(size), np.zeros(size)
    else:
        psi, w = initial.psi.ravel().copy(), initial.w.ravel().copy()

    def residual(psi, w):
        psi_x, psi_y, w_x, w_y = dx @ psi, dy @ psi, dx @ w, dy @ w
        diffusion = nu * (lap @ w)
        advection = psi_y * w_x - psi_x * w_y
        r_psi = np.where(interior, lap @ psi + w, psi)
        r_w = np.where(interior, diffusion - advection, 0.0)
        r_w = np.where(wall, w - (wall_matrix @ psi + wall_b), r_w)
        r_w = np.where(corner, w, r_w)
        scale = max(1.0, np.abs(diffusion[interior]).max(), np.abs(advection[interior]).max())
        scale_psi = max(1.0, np.abs(w).max())
        measure = max(np.abs(r_psi).max() / scale_psi, np.abs(r_w).max() / scale)
        return np.concatenate([r_psi, r_w]), (psi_x, psi_y, w_x, w_y), measure

    r, grads, measure = residual(psi, w)
    # A first step of 0.1 lid time units (L / U) is stable for every Re in range.
    dtau = 0.1
    iterations = 0
    while measure > tol:
        if iterations >= max_iterations:
            raise RuntimeError(
                f"cavity solve did not converge: residual {measure:.3g} > tol={tol:g} after "
                f"max_iterations={max_iterations} steps (n={n}, re={re:g})"
            )
        psi_x, psi_y, w_x, w_y = grads
        j_pp = p_int @ lap + p_bnd
        j_pw = p_int
        j_wp = p_int @ (sp.diags(w_y) @ dx - sp.diags(w_x) @ dy) - p_wall @ wall_matrix
        j_ww = p_int @ (nu * lap - sp.diags(psi_y) @ dx + sp.diags(psi_x) @ dy) + p_wall + p_corner
        jacobian = sp.bmat([[j_pp, j_pw], [j_wp, j_ww]], format="csc")
        step = spla.spsolve(pseudo / dtau - jacobian, r)
        previous = measure
        trial = residual(psi + step[:size], w + step[size:])
        iterations += 1
        if not np.isfinite(trial[2]) or trial[2] > 2.0 * previous:
            # Too long a pseudo-time step left the basin of the steady state: retry shorter.
            dtau *= 0.25
            continue
        psi, w = psi + step[:size], w + step[size:]
        r, grads, measure = trial
        # Switched evolution relaxation: the pseudo-time step grows as the residual falls
        # (at most doubling), turning the implicit march into Newton's method near the
        # solution.
        dtau = min(dtau * min(previous / measure, 2.0), 1e12)

    psi2, w2 = psi.reshape(n, n), w.reshape(n, n)
    psi_x, psi_y = (g.reshape(n, n) for g in grads[:2])
    u, v = psi_y.copy(), -psi_x
    u[0, :] = u[-1, :] = u[:, 0] = 0.0
    v[0, :] = v[-1, :] = v[:, 0] = v[:, -1] = 0.0
    u[:, -1] = 1.0
    x = np.linspace(0.0, 1.0, n)
    return CavityFlow(x, x.copy(), u, v, psi2, w2, iterations, float(measure))


def ghia_nodes(coordinates: np.ndarray) -> np.ndarray:
    """Ghia's grid nodes ``k / 128`` that the table's 4-decimal coordinates stand for."""
    return np.rint(np.asarray(coordinates) * 128.0) / 128.0


def centrelines(flow: CavityFlow) -> tuple[np.ndarray, np.ndarray]:
    """The solution's ``u`` at Ghia's ``y`` on ``x = 1/2`` and ``v`` at Ghia's ``x`` on
    ``y = 1/2``, by cubic interpolation along the centre node line (``n`` must be odd).

    Returns
    -------
    tuple of numpy.ndarray
        ``u`` at ``GHIA_RE100_U[:, 0]`` and ``v`` at ``GHIA_RE100_V[:, 0]``.
    """
    from scipy.interpolate import CubicSpline

    n = len(flow.x)
    if n % 2 == 0:
        raise ValueError(f"the grid must have a centre node line: n must be odd, got n={n}")
    mid = n // 2
    # The table's coordinates are Ghia's nodes k / 128 rounded to 4 decimals; the nodes
    # themselves avoid a rounding error of up to 3e-4 in u next to the lid.
    u = CubicSpline(flow.y, flow.u[mid, :])(ghia_nodes(GHIA_RE100_U[:, 0]))
    v = CubicSpline(flow.x, flow.v[:, mid])(ghia_nodes(GHIA_RE100_V[:, 0]))
    return u, v


def cavity_pressure(flow: CavityFlow, re: float) -> np.ndarray:
    r"""The pressure of a converged cavity solution, recovered from the momentum equations.

    The stream function-vorticity solver has no pressure; its gradient follows from the
    velocity and vorticity, since in 2D incompressible flow :math:`\Delta \mathbf u =
    (-\omega_y, \omega_x)`:

    .. math::

        p_x = -(u u_x + v u_y) - \tfrac{1}{Re}\,\omega_y, \qquad
        p_y = -(u v_x + v v_y) + \tfrac{1}{Re}\,\omega_x.

    This gradient is evaluated at the nodes (second-order differences, one-sided at the
    walls) and integrated by least squares over the grid's edges (each edge difference
    :math:`(p_b - p_a)/h` against the mean of the gradient at its two ends, trapezoidal and
    second order), i.e. a pressure Poisson equation with its Neumann data from the momentum
    equations on the walls.

    The pressure of the lid-driven cavity is singular at the two lid corners (it grows like
    :math:`1/r` with the distance to them, where the lid speed jumps), so no grid value there
    is meaningful: the edges that touch those two nodes are left out of the fit and each of
    them is given the mean of its two neighbours, a finite stand-in. The gauge is
    :math:`p = 0` at the centre of the bottom wall, ``(0.5, 0)``.

    Parameters
    ----------
    flow : CavityFlow
        A solution from :func:`solve_cavity` (``n`` odd, so that ``x = 0.5`` is a node).
    re : float
        The Reynolds number it was solved at, in :data:`RE_RANGE`.

    Returns
    -------
    numpy.ndarray
        ``p`` on the nodes, ``(n, n)``, axis 0 is x.

    Raises
    ------
    ValueError
        If ``n`` is even or ``re`` is out of range (naming it).
    """
    n = len(flow.x)
    if n % 2 == 0:
        raise ValueError(f"the grid must have a node at x = 0.5: n must be odd, got n={n}")
    lo, hi = RE_RANGE
    if not lo <= float(re) <= hi:
        raise ValueError(f"re (Reynolds number) must be in [{lo:g}, {hi:g}], got re={re!r}")
    h = 1.0 / (n - 1)
    nu = 1.0 / float(re)
    u, v, w = flow.u, flow.v, flow.w

    def grad(f):
        return np.gradient(f, h, edge_order=2)

    (u_x, u_y), (v_x, v_y), (w_x, w_y) = grad(u), grad(v), grad(w)
    g_x = -(u * u_x + v * u_y) - nu * w_y
    g_y = -(u * v_x + v * v_y) + nu * w_x

    index = np.arange(n * n).reshape(n, n)
    singular = np.zeros((n, n), dtype=bool)
    singular[0, -1] = singular[-1, -1] = True
    # Edges along x (a -> b = a + e_x) and along y, without those touching a lid corner.
    a_x, b_x = index[:-1, :].ravel(), index[1:, :].ravel()
    a_y, b_y = index[:, :-1].ravel(), index[:, 1:].ravel()
    flat = singular.ravel()
    keep_x, keep_y = ~(flat[a_x] | flat[b_x]), ~(flat[a_y] | flat[b_y])
    a = np.concatenate([a_x[keep_x], a_y[keep_y]])
    b = np.concatenate([b_x[keep_x], b_y[keep_y]])
    gx, gy = g_x.ravel(), g_y.ravel()
    rhs = np.concatenate(
        [0.5 * h * (gx[a_x] + gx[b_x])[keep_x], 0.5 * h * (gy[a_y] + gy[b_y])[keep_y]]
    )
    rows = np.arange(len(a))
    incidence = sp.csr_matrix(
        (np.concatenate([-np.ones(len(a)), np.ones(len(a))]), (np.tile(rows, 2), np.r_[a, b])),
        shape=(len(a), n * n),
    )
    gauge = index[n // 2, 0]
    # Normal equations (a graph Laplacian) with the gauge node and the two isolated corner
    # nodes pinned to 0, which makes them nonsingular.
    pinned = np.zeros(n * n)
    pinned[gauge] = 1.0
    pinned[flat] = 1.0
    normal = (incidence.T @ incidence + sp.diags(pinned)).tocsc()
    p = spla.spsolve(normal, incidence.T @ rhs).reshape(n, n)
    p -= p[n // 2, 0]
    p[0, -1] = 0.5 * (p[1, -1] + p[0, -2])
    p[-1, -1] = 0.5 * (p[-2, -1] + p[-1, -2])
    return p
