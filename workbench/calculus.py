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
  reference solution satisfies its own residual;
* :func:`spectral_derivative`: the exact first derivative of periodic gridded fields' Fourier
  interpolants, in torch (differentiable), for residuals of generated fields.

Only first and *pure* second derivatives (``u_xx``, ``u_yy``) are carried, which covers the
Laplacian, diffusion and advection operators of every problem in the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

__all__ = [
    "Jet",
    "coordinate_jets",
    "stack_jets",
    "jet_by_autograd",
    "jet_on_grid",
    "spectral_derivative",
]


class Jet:
    """A field with its first and pure second derivatives at the same points.

    Parameters
    ----------
    parts : tuple of torch.Tensor
        Each ``(N, C)``: the value, then first derivatives along ``first`` dims, then second
        derivatives along ``second`` dims.
    first : tuple of str
        Dims whose first derivative is carried.
    second : tuple of str
        Dims whose pure second derivative is carried (a subset of ``first``).

    Notes
    -----
    The parts are kept as separate tensors, not slices of one stacked tensor: slicing a
    stacked tensor makes autograd fill a zero tensor of the full size for every slice in the
    backward pass, which cost a fifth of a PINN step. Layers stack them for one matrix product.
    """

    __slots__ = ("parts", "first", "second")

    def __init__(self, parts: tuple, first: tuple[str, ...], second: tuple[str, ...]):
        self.parts = tuple(parts)
        self.first = first
        self.second = second

    # --- access -------------------------------------------------------------------------
    @property
    def value(self) -> torch.Tensor:
        """The field itself, shape ``(N, C)``."""
        return self.parts[0]

    def d(self, dim: str) -> torch.Tensor:
        """First derivative along ``dim``, shape ``(N, C)``."""
        return self.parts[1 + self.first.index(dim)]

    def dd(self, dim: str) -> torch.Tensor:
        """Pure second derivative along ``dim``, shape ``(N, C)``."""
        return self.parts[1 + len(self.first) + self.second.index(dim)]

    def _like(self, parts) -> Jet:
        return Jet(parts, self.first, self.second)

    def _split(self):
        """Value, first derivatives, second derivatives, and the first derivatives that pair
        with each second one (the ``z_i`` in ``f''(z) z_i^2``)."""
        n1 = 1 + len(self.first)
        paired = [self.parts[1 + self.first.index(dim)] for dim in self.second]
        return self.parts[0], self.parts[1:n1], self.parts[n1:], paired

    # --- network layers -----------------------------------------------------------------
    def linear(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> Jet:
        """Affine map ``x @ weight.T + bias``; derivatives are mapped by ``weight`` only."""
        if len(self.parts) == 1:
            out = [self.parts[0] @ weight.T]
        else:
            out = list((torch.stack(self.parts) @ weight.T).unbind(0))
        if bias is not None:
            # Only the value gets the bias; derivatives of a constant vanish.
            out[0] = out[0] + bias
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
        z, dz, ddz, paired = self._split()
        fz = f(z)
        if len(self.parts) == 1:
            return self._like([fz])
        dfz = df(z, fz)
        out = [fz, *(dfz * di for di in dz)]
        if ddz:
            d2 = d2f(z, fz, dfz)
            out += [d2 * zi * zi + dfz * zii for zi, zii in zip(paired, ddz)]
        return self._like(out)

    def tanh(self) -> Jet:
        """``tanh`` with derivatives ``1 - t^2`` and ``-2 t (1 - t^2)``."""
        # 2 sigmoid(2z) - 1 is tanh; torch's CPU tanh kernel is several times slower.
        return self.apply(
            lambda z: 2 * torch.sigmoid(2 * z) - 1,
            lambda z, t: 1 - t * t,
            lambda z, t, dt: -2 * t * dt,
        )

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
            return self._like([a + b for a, b in zip(self.parts, other.parts)])
        return self._like([self.parts[0] + other, *self.parts[1:]])

    __radd__ = __add__

    def __neg__(self) -> Jet:
        return self._like([-a for a in self.parts])

    def __sub__(self, other: Jet | torch.Tensor | float) -> Jet:
        return self + (-other)

    def __rsub__(self, other: Jet | torch.Tensor | float) -> Jet:
        return (-self) + other

    def __mul__(self, other: Jet | float) -> Jet:
        if not isinstance(other, Jet):
            return self._like([a * other for a in self.parts])
        u, du, ddu, ui = self._split()
        v, dv, ddv, vi = other._split()
        out = [u * v, *(a * v + u * b for a, b in zip(du, dv))]
        out += [a * v + 2 * p * q + u * b for a, b, p, q in zip(ddu, ddv, ui, vi)]
        return self._like(out)

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
        jets[dim] = Jet(rows, first, second)
    return jets


def stack_jets(jets: Sequence[Jet]) -> Jet:
    """Concatenate single-channel jets along the channel axis (the network's input layer)."""
    parts = zip(*(j.parts for j in jets))
    return Jet([torch.cat(p, dim=-1) for p in parts], jets[0].first, jets[0].second)


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
    return Jet(rows, first, second)


def _second_difference(values: np.ndarray, coord: np.ndarray, axis: int) -> np.ndarray:
    """Second derivative on a uniform grid: 3-point stencil inside, 4-point one-sided at the
    ends, second order everywhere (``np.gradient`` twice is only first order at the ends)."""
    h = np.diff(coord)
    if not np.allclose(h, h[0], rtol=1e-9, atol=0):
        raise ValueError("jet_on_grid needs uniformly spaced coordinates for second derivatives")
    u = np.moveaxis(values, axis, 0)
    out = np.empty_like(u)
    out[1:-1] = u[2:] - 2 * u[1:-1] + u[:-2]
    out[0] = 2 * u[0] - 5 * u[1] + 4 * u[2] - u[3]
    out[-1] = 2 * u[-1] - 5 * u[-2] + 4 * u[-3] - u[-4]
    return np.moveaxis(out / h[0] ** 2, 0, axis)


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
        rows.append(_second_difference(values, coords[d], dims.index(d)))
    return Jet([torch.from_numpy(r.reshape(-1, 1)) for r in rows], first, second)


def spectral_derivative(values: torch.Tensor, dim: int, length: float) -> torch.Tensor:
    """First derivative along ``dim`` of fields on a periodic grid, by FFT (torch).

    Parameters
    ----------
    values : torch.Tensor
        Real fields sampled at ``length * j / n``, ``j = 0 .. n-1`` along ``dim``.
    dim : int
        The periodic axis.
    length : float
        Period along ``dim``.

    Returns
    -------
    torch.Tensor
        Same shape and dtype, differentiable: the derivative of the trigonometric
        interpolant. The Nyquist mode of an even grid is dropped (its real interpolant is a
        cosine, whose derivative vanishes at the nodes), as in the spectral solver, so that a
        velocity made there from a stream function has zero discrete divergence.
    """
    n = values.shape[dim]
    k = torch.fft.rfftfreq(n, d=1.0 / n, dtype=torch.float64, device=values.device)
    k = 2.0 * np.pi / length * k
    if n % 2 == 0:
        k[-1] = 0.0
    shape = [1] * values.dim()
    shape[dim] = k.numel()
    spectrum = torch.fft.rfft(values, dim=dim)
    derivative = spectrum * (1j * k.view(shape)).to(spectrum.dtype)
    return torch.fft.irfft(derivative, n=n, dim=dim)
