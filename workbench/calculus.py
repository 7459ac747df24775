"""Derivatives in one place.

PDE residuals need a field and a few of its derivatives at the same points: for Burgers,
``u``, ``u_t``, ``u_x`` and ``u_xx``. This module represents exactly that bundle as a
:class:`Jet` and offers three ways to fill one:

* :func:`jet_by_autograd`: repeated reverse-mode passes through any ``torch`` function
  (general, and the slow path);
* forward propagation through a network, built from the :class:`Jet` arithmetic below
  (``Jet.linear``, ``Jet.apply``, products): every layer carries the value and its derivatives
  together, so one stacked matrix product per layer replaces several autograd passes;
* :func:`jet_on_grid`: finite differences of gridded data (numpy), to check that a
  reference solution satisfies its own residual.

Only first and *pure* second derivatives (``u_xx``, ``u_yy``) are carried, which covers the
Laplacian, diffusion and advection operators of every problem in the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

__all__ = ["Jet", "coordinate_jets", "jet_by_autograd", "jet_on_grid"]


class Jet:
    """A field with its first and pure second derivatives, stacked in one tensor.

    Parameters
    ----------
    data : torch.Tensor
        Shape ``(1 + n_first + n_second, N, C)``: the value, then first derivatives along
        ``first`` dims, then second derivatives along ``second`` dims.
    first : tuple of str
        Dims whose first derivative is carried.
    second : tuple of str
        Dims whose pure second derivative is carried (a subset of ``first``).
    """

    __slots__ = ("data", "first", "second")

    def __init__(self, data: torch.Tensor, first: tuple[str, ...], second: tuple[str, ...]):
        self.data = data
        self.first = first
        self.second = second

    # --- access -------------------------------------------------------------------------
    @property
    def value(self) -> torch.Tensor:
        """The field itself, shape ``(N, C)``."""
        return self.data[0]

    def d(self, dim: str) -> torch.Tensor:
        """First derivative along ``dim``, shape ``(N, C)``."""
        return self.data[1 + self.first.index(dim)]

    def dd(self, dim: str) -> torch.Tensor:
        """Pure second derivative along ``dim``, shape ``(N, C)``."""
        return self.data[1 + len(self.first) + self.second.index(dim)]

    def _parts(self):
        n1 = len(self.first)
        return self.data[0], self.data[1 : 1 + n1], self.data[1 + n1 :]

    def _like(self, data: torch.Tensor) -> Jet:
        return Jet(data, self.first, self.second)

    def _second_first(self) -> torch.Tensor:
        """First derivatives along the ``second`` dims, aligned with the second block."""
        idx = [1 + self.first.index(dim) for dim in self.second]
        return self.data[idx]

    # --- network layers -----------------------------------------------------------------
    def linear(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> Jet:
        """Affine map ``x @ weight.T + bias``; derivatives are mapped by ``weight`` only."""
        out = self.data @ weight.T
        if bias is not None:
            # Only the value row gets the bias; derivatives of a constant vanish.
            out = torch.cat([(out[0] + bias).unsqueeze(0), out[1:]])
        return self._like(out)

    def apply(
        self,
        f: Callable[[torch.Tensor], torch.Tensor],
        df: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        d2f: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> Jet:
        """Elementwise function with the chain rule.

        ``df(z, fz)`` and ``d2f(z, fz, dfz)`` receive the already computed values so that
        activations such as tanh can reuse them (``tanh' = 1 - tanh^2``).
        """
        z, dz, _ = self._parts()
        fz = f(z)
        dfz = df(z, fz)
        first = dfz * dz
        if self.second:
            zi = self._second_first()
            ddz = self.data[1 + len(self.first) :]
            second = d2f(z, fz, dfz) * zi * zi + dfz * ddz
            return self._like(torch.cat([fz.unsqueeze(0), first, second]))
        return self._like(torch.cat([fz.unsqueeze(0), first]))

    def tanh(self) -> Jet:
        """``tanh`` with derivatives ``1 - t^2`` and ``-2 t (1 - t^2)``."""
        return self.apply(torch.tanh, lambda z, t: 1 - t * t, lambda z, t, dt: -2 * t * dt)

    def sin(self) -> Jet:
        """``sin`` with derivatives ``cos`` and ``-sin``."""
        return self.apply(torch.sin, lambda z, s: torch.cos(z), lambda z, s, c: -s)

    def cos(self) -> Jet:
        """``cos`` with derivatives ``-sin`` and ``-cos``."""
        return self.apply(torch.cos, lambda z, c: -torch.sin(z), lambda z, c, s: -c)

    def exp(self) -> Jet:
        """``exp``, its own derivative."""
        return self.apply(torch.exp, lambda z, e: e, lambda z, e, de: e)

    def gelu(self) -> Jet:
        """Exact (erf) GELU: ``z Phi(z)``, derivatives ``Phi + z phi`` and ``phi (2 - z^2)``."""

        def phi(z):
            return torch.exp(-0.5 * z * z) * 0.3989422804014327

        return self.apply(
            torch.nn.functional.gelu,
            lambda z, g: 0.5 * (1 + torch.erf(z * 0.7071067811865476)) + z * phi(z),
            lambda z, g, dg: phi(z) * (2 - z * z),
        )

    # --- arithmetic (for output transforms such as exact boundary constraints) -----------
    def __add__(self, other: Jet | torch.Tensor | float) -> Jet:
        if isinstance(other, Jet):
            return self._like(self.data + other.data)
        return self._like(torch.cat([(self.data[0] + other).unsqueeze(0), self.data[1:]]))

    __radd__ = __add__

    def __neg__(self) -> Jet:
        return self._like(-self.data)

    def __sub__(self, other: Jet | torch.Tensor | float) -> Jet:
        return self + (-other)

    def __rsub__(self, other: Jet | torch.Tensor | float) -> Jet:
        return (-self) + other

    def __mul__(self, other: Jet | float) -> Jet:
        if not isinstance(other, Jet):
            return self._like(self.data * other)
        u, du, _ = self._parts()
        v, dv, _ = other._parts()
        first = du * v + u * dv
        if self.second:
            ui, vi = self._second_first(), other._second_first()
            n1 = 1 + len(self.first)
            second = self.data[n1:] * v + 2 * ui * vi + u * other.data[n1:]
            return self._like(torch.cat([(u * v).unsqueeze(0), first, second]))
        return self._like(torch.cat([(u * v).unsqueeze(0), first]))

    __rmul__ = __mul__


def coordinate_jets(
    points: torch.Tensor, dims: Sequence[str], orders: Mapping[str, int]
) -> dict[str, Jet]:
    """Seed jets for the input coordinates: ``d x / d x = 1``, everything else 0.

    Parameters
    ----------
    points : torch.Tensor
        Shape ``(N, len(dims))``.
    dims : sequence of str
        Names of the columns of ``points``.
    orders : mapping of str to int
        Highest derivative needed along each dim (0, 1 or 2); dims missing count as 0.
    """
    first = tuple(d for d in dims if orders.get(d, 0) >= 1)
    second = tuple(d for d in dims if orders.get(d, 0) >= 2)
    n = points.shape[0]
    jets = {}
    for i, dim in enumerate(dims):
        rows = [points[:, i : i + 1]]
        rows += [points.new_full((n, 1), 1.0 if d == dim else 0.0) for d in first]
        rows += [points.new_zeros((n, 1)) for _ in second]
        jets[dim] = Jet(torch.stack(rows), first, second)
    return jets


def stack_jets(jets: Sequence[Jet]) -> Jet:
    """Concatenate single-channel jets along the channel axis (the network's input layer)."""
    return Jet(torch.cat([j.data for j in jets], dim=-1), jets[0].first, jets[0].second)


def jet_by_autograd(
    fn: Callable[[torch.Tensor], torch.Tensor],
    points: torch.Tensor,
    dims: Sequence[str],
    orders: Mapping[str, int],
    *,
    create_graph: bool = True,
) -> Jet:
    """Build a :class:`Jet` of a scalar field by reverse-mode autograd.

    Parameters
    ----------
    fn : callable
        Maps points ``(N, D)`` to values ``(N, 1)``.
    points : torch.Tensor
        Shape ``(N, D)``; columns named by ``dims``.
    dims, orders
        As in :func:`coordinate_jets`.
    create_graph : bool
        Keep the graph so the result can be differentiated again (needed for training).
    """
    points = points.detach().requires_grad_(True)
    u = fn(points)
    first = tuple(d for d in dims if orders.get(d, 0) >= 1)
    second = tuple(d for d in dims if orders.get(d, 0) >= 2)
    rows = [u]
    if first:
        (grad,) = torch.autograd.grad(u.sum(), points, create_graph=True)
        rows += [grad[:, dims.index(d) : dims.index(d) + 1] for d in first]
        for d in second:
            i = dims.index(d)
            (g2,) = torch.autograd.grad(grad[:, i].sum(), points, create_graph=create_graph)
            rows.append(g2[:, i : i + 1])
    return Jet(torch.stack(rows), first, second)


def jet_on_grid(
    values: np.ndarray, coords: Mapping[str, np.ndarray], orders: Mapping[str, int]
) -> Jet:
    """A :class:`Jet` of gridded data by second-order finite differences (float64).

    Parameters
    ----------
    values : numpy.ndarray
        Field on the tensor grid, axes ordered like ``coords``.
    coords : mapping of str to numpy.ndarray
        1-D coordinate arrays, one per axis, in axis order.
    orders : mapping of str to int
        As in :func:`coordinate_jets`.

    Returns
    -------
    Jet
        Flattened to ``N = values.size`` points and one channel (C-order, like
        ``numpy.meshgrid(..., indexing="ij")``).
    """
    dims = list(coords)
    first = tuple(d for d in dims if orders.get(d, 0) >= 1)
    second = tuple(d for d in dims if orders.get(d, 0) >= 2)
    rows = [values]
    for d in first:
        rows.append(np.gradient(values, coords[d], axis=dims.index(d), edge_order=2))
    for d in second:
        axis = dims.index(d)
        once = np.gradient(values, coords[d], axis=axis, edge_order=2)
        rows.append(np.gradient(once, coords[d], axis=axis, edge_order=2))
    data = torch.from_numpy(np.stack([r.reshape(-1, 1) for r in rows]))
    return Jet(data, first, second)
