r"""Conservative finite differences for the diffusion equation on a node grid.

.. math::

    -\nabla \cdot (a \nabla u) = f \ \text{ in the box}, \qquad u = 0 \text{ on its boundary},

discretised on a uniform node grid (boundary nodes included, spacing ``h`` in both directions)
by the classic five-point flux form

.. math::

    -\frac{1}{h^2}\Big(a_{i+\frac12,j}(u_{i+1,j} - u_{i,j}) - a_{i-\frac12,j}(u_{i,j} - u_{i-1,j})
    + a_{i,j+\frac12}(u_{i,j+1} - u_{i,j}) - a_{i,j-\frac12}(u_{i,j} - u_{i,j-1})\Big) = f_{ij},

with face coefficients the harmonic means of the two node values. The harmonic mean is the
exact effective conductivity of two resistors in series, so the flux across a jump of ``a``
(the thresholded Darcy coefficients) is right where an arithmetic mean would let the large
value dominate; for smooth ``a`` both are second-order accurate.

* :func:`solve_diffusion`: the sparse direct solve (float64, SuperLU);
* :func:`diffusion_residual`: the same operator in torch on batches, differentiable, for
  physics losses on gridded predictions;
* :func:`refine_nodes`: moves node values to a grid ``factor`` times finer;
* :func:`inverse_laplacian`: the discrete Dirichlet Laplacian's inverse by sine transforms,
  in torch, to measure a residual in the units of the solution (an ``H^{-1}``-type norm).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["diffusion_residual", "inverse_laplacian", "refine_nodes", "solve_diffusion"]


def _face_coefficients(a):
    """Harmonic means on the faces between neighbours along the last two axes (numpy or torch):
    ``(..., N-1, M)`` across the second-last axis and ``(..., N, M-1)`` across the last."""
    ax = 2.0 * a[..., 1:, :] * a[..., :-1, :] / (a[..., 1:, :] + a[..., :-1, :])
    ay = 2.0 * a[..., :, 1:] * a[..., :, :-1] / (a[..., :, 1:] + a[..., :, :-1])
    return ax, ay


def _factorize(a: np.ndarray, h: float):
    """SuperLU factors of the interior-node matrix for one coefficient field ``(N, M)``."""
    # Imported here: scipy.sparse.linalg (with scipy.linalg) costs ~0.2 s at `import
    # workbench`, and only the finite-difference solves need it.
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    ax, ay = _face_coefficients(a)
    east, west = ax[1:, 1:-1], ax[:-1, 1:-1]
    north, south = ay[1:-1, 1:], ay[1:-1, :-1]
    n1, n2 = east.shape
    # Unknowns in C order, index i * n2 + j: neighbours along the last axis are one apart,
    # along the other n2 apart. A node next to the boundary has no coupling there (u = 0).
    bands = [(east + west + north + south).ravel()]
    offsets = [0]
    if n2 > 1:
        along = -north.copy()
        along[:, -1] = 0.0
        bands += [along.ravel()[:-1]] * 2
        offsets += [1, -1]
    if n1 > 1:
        bands += [-east[:-1].ravel()] * 2
        offsets += [n2, -n2]
    matrix = sp.diags(bands, offsets, shape=(n1 * n2, n1 * n2), format="csc") / h**2
    # The matrix is symmetric positive definite and diagonally dominant: a symmetric fill-
    # reducing ordering with diagonal pivots is ~30% faster than SuperLU's default COLAMD.
    return spla.splu(matrix, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})


def solve_diffusion(a: np.ndarray, f: np.ndarray | float, h: float | None = None) -> np.ndarray:
    r"""Solve :math:`-\nabla \cdot (a \nabla u) = f`, ``u = 0`` on the boundary, on a node grid.

    Parameters
    ----------
    a : numpy.ndarray
        Positive coefficient at the nodes, ``(N, M)`` or a batch ``(B, N, M)``; ``N, M >= 3``.
    f : numpy.ndarray or float
        Right-hand side at the nodes (boundary values are not used): a number, ``(N, M)`` or
        ``(B, N, M)``. One field ``a`` with a batch of ``f`` is factorised once.
    h : float, optional
        Node spacing in both directions; default ``1 / (N - 1)`` (the unit square when
        ``N == M``).

    Returns
    -------
    numpy.ndarray
        ``u`` at the nodes, zero on the boundary, shape ``(N, M)`` or ``(B, N, M)``, float64.

    Raises
    ------
    ValueError
        If ``a`` is not a finite positive 2-D or 3-D array with at least 3 nodes per side,
        ``f`` does not broadcast to it, or ``h`` is not positive.

    Notes
    -----
    Each distinct ``a`` costs one sparse LU factorisation: about 30 ms for a 125 x 125 grid on
    one core.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim not in (2, 3) or min(a.shape[-2:]) < 3:
        raise ValueError(f"a must have shape (N, M) or (B, N, M) with N, M >= 3, got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0.0):
        raise ValueError("a must be finite and positive")
    grid = a.shape[-2:]
    h = 1.0 / (grid[0] - 1) if h is None else float(h)
    if not (h > 0.0 and np.isfinite(h)):
        raise ValueError(f"h must be positive and finite, got {h}")
    f = np.asarray(f, dtype=np.float64)
    if f.ndim == 0:
        f = np.full(grid, float(f))
    if f.ndim not in (2, 3) or f.shape[-2:] != grid:
        raise ValueError(f"f must be a number or have grid shape {grid}, got {f.shape}")
    batch = np.broadcast_shapes(a.shape[:-2], f.shape[:-2])
    u = np.zeros(batch + grid)
    interior = (..., slice(1, -1), slice(1, -1))
    rhs = f[interior]
    if a.ndim == 2:
        lu = _factorize(a, h)
        cols = rhs.reshape(-1, rhs.shape[-2] * rhs.shape[-1]).T
        u[interior] = lu.solve(np.ascontiguousarray(cols)).T.reshape(u[interior].shape)
        return u
    rhs = np.broadcast_to(rhs, batch + rhs.shape[-2:])
    for b in range(batch[0]):
        u[b][interior] = _factorize(a[b], h).solve(rhs[b].ravel()).reshape(rhs.shape[-2:])
    return u


def diffusion_residual(
    a: torch.Tensor, u: torch.Tensor, f: torch.Tensor | float, h: float
) -> torch.Tensor:
    r"""The residual of :func:`solve_diffusion`'s equations, in torch, on batches.

    Interior nodes get :math:`-\nabla_h \cdot (a \nabla_h u) - f` with the same harmonic-mean
    five-point fluxes as the solver, so the solver's own solution gives rounding-level values.
    Boundary nodes get the Dirichlet mismatch ``u - 0`` times ``mean(a) / h^2`` (the size of a
    diagonal entry of the operator), which puts it in the units of the interior residual so
    that one norm of the whole field weighs both sensibly.

    Parameters
    ----------
    a : torch.Tensor
        Coefficient at the nodes, ``(..., N, M)``, positive.
    u : torch.Tensor
        Field at the nodes, same shape.
    f : torch.Tensor or float
        Right-hand side: a number, or a tensor broadcastable to ``u`` (for example
        ``(..., N, M)``).
    h : float
        Node spacing.

    Returns
    -------
    torch.Tensor
        ``(..., N, M)`` in the dtype and on the device of ``u``; differentiable in ``u``, ``a``
        and ``f``. No loop over the batch.

    Raises
    ------
    ValueError
        If ``a`` and ``u`` differ in shape, the grid has fewer than 3 nodes per side, or ``h``
        is not positive.
    """
    if a.shape != u.shape:
        raise ValueError(f"a and u must have the same shape, got {tuple(a.shape)} and {u.shape}")
    if u.dim() < 2 or min(u.shape[-2:]) < 3:
        raise ValueError(f"u must be (..., N, M) with N, M >= 3, got {tuple(u.shape)}")
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    a = a.to(u.dtype)
    ax, ay = _face_coefficients(a)
    flux_x = ax * (u[..., 1:, :] - u[..., :-1, :])
    flux_y = ay * (u[..., :, 1:] - u[..., :, :-1])
    div = (
        flux_x[..., 1:, 1:-1]
        - flux_x[..., :-1, 1:-1]
        + flux_y[..., 1:-1, 1:]
        - flux_y[..., 1:-1, :-1]
    ) / h**2
    if isinstance(f, torch.Tensor) and f.dim() >= 2:
        f = f.to(u.dtype)[..., 1:-1, 1:-1]
    # Padding (not in-place writes) keeps autograd simple; the mask picks the boundary ring.
    interior = F.pad(-div - f, (1, 1, 1, 1))
    ring = torch.ones(u.shape[-2:], dtype=u.dtype, device=u.device)
    ring[1:-1, 1:-1] = 0.0
    scale = a.mean(dim=(-2, -1), keepdim=True) / h**2
    return interior + ring * scale * u


def refine_nodes(values: np.ndarray, factor: int, kind: str = "linear") -> np.ndarray:
    """Node values ``(..., N, M)`` on the grid with ``factor`` times smaller spacing.

    The coarse nodes are every ``factor``-th fine node, so the result has shape
    ``(..., (N - 1) * factor + 1, (M - 1) * factor + 1)`` and agrees with ``values`` there.

    Parameters
    ----------
    values : numpy.ndarray
        At least 2-D; the last two axes are the grid.
    factor : int
        Refinement factor, ``>= 1``.
    kind : {"linear", "nearest"}
        Bilinear interpolation (smooth fields), or the nearest coarse node (keeps the values
        of piecewise-constant fields such as a thresholded coefficient; a fine node half way
        between two coarse ones takes the upper one).

    Returns
    -------
    numpy.ndarray
        float64.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 2 or min(values.shape[-2:]) < 2:
        raise ValueError(f"values must be (..., N, M) with N, M >= 2, got {values.shape}")
    if int(factor) != factor or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor}")
    if kind not in ("linear", "nearest"):
        raise ValueError(f"kind must be 'linear' or 'nearest', got {kind!r}")
    factor = int(factor)
    out = values
    for axis in (-2, -1):
        n = out.shape[axis]
        t = np.arange((n - 1) * factor + 1) / factor
        if kind == "nearest":
            out = np.take(out, np.floor(t + 0.5).astype(np.int64), axis=axis)
            continue
        lo = np.minimum(np.floor(t).astype(np.int64), n - 2)
        w = (t - lo).reshape((-1, 1) if axis == -2 else (-1,))
        out = np.take(out, lo, axis=axis) * (1.0 - w) + np.take(out, lo + 1, axis=axis) * w
    return out


def inverse_laplacian(r: torch.Tensor) -> torch.Tensor:
    r"""Apply the inverse of minus the five-point (1D: three-point) Laplacian with unit spacing
    and zero Dirichlet values just outside the grid, to fields ``(..., N)`` or ``(..., N, M)``.

    The sine vectors :math:`S_{jk} = \sqrt{2/(N+1)} \sin(\pi j k / (N+1))` diagonalise the
    operator with eigenvalues :math:`2 - 2\cos(\pi k / (N+1))` per dim, so the inverse is two
    dense transforms and a division: exact, differentiable and cheap for the grids of operator
    datasets. A residual mapped through it is smooth and in the units of ``u`` (times
    ``h^2`` over the coefficient): the grid-scale noise that dominates a plain residual norm
    counts no more than a smooth error of the same size.

    Parameters
    ----------
    r : torch.Tensor
        Fields with the grid in the last one or two dims.
    """
    dims = 2 if r.ndim >= 3 else 1
    shape = r.shape[-dims:]
    transforms, eigenvalues = [], []
    for n in shape:
        k = torch.arange(1, n + 1, dtype=r.dtype, device=r.device)
        transforms.append(
            torch.sqrt(torch.tensor(2.0 / (n + 1), dtype=r.dtype))
            * torch.sin(torch.pi * k[:, None] * k[None, :] / (n + 1))
        )
        eigenvalues.append(2.0 - 2.0 * torch.cos(torch.pi * k / (n + 1)))
    if dims == 1:
        (s,), (mu,) = transforms, eigenvalues
        return ((r @ s) / mu) @ s
    sx, sy = transforms
    mu = eigenvalues[0][:, None] + eigenvalues[1][None, :]
    return sx @ ((sx @ r @ sy) / mu) @ sy
