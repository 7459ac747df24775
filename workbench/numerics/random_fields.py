r"""Gaussian random fields drawn spectrally: each sample is a set of series coefficients.

A field is drawn once as coefficients of a truncated orthonormal series and then *evaluated*
wherever it is needed: on a coarse grid, on a fine solver grid, or at scattered collocation
points. So the same sample is the same function at every resolution, and its derivatives are
exact (differentiated term by term).

* :class:`CosineGRF`: on the unit square with the Neumann (cosine) eigenfunctions of the
  Laplacian, covariance proportional to :math:`(-\Delta + \tau^2)^{-\alpha}`, the input
  fields of the Darcy and Poisson families (Li et al. 2021, "Fourier neural operator");
* :class:`PeriodicGRF`: on a periodic interval with the Fourier basis, covariance
  :math:`\sigma^2 (-\Delta + \tau^2)^{-\alpha}`, the Burgers initial conditions.

Coefficients are drawn sample by sample, in order, from one ``numpy.random.Generator``, so
sample ``i`` of a draw of ``n`` is the same for every ``n > i``, and drawing ``n`` at once
equals drawing them in consecutive chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CosineGRF", "PeriodicGRF", "PeriodicGRF2D"]


def _cosine_basis(x, modes: int, derivative: bool = False):
    """Orthonormal Neumann basis ``c_k cos(pi k x)`` (``c_0 = 1``, else ``sqrt 2``), or its
    x-derivative, at ``x`` (numpy array or torch tensor); the mode axis is appended last."""
    if isinstance(x, torch.Tensor):
        k = torch.arange(modes, dtype=x.dtype, device=x.device)
        norm = torch.full((modes,), np.sqrt(2.0), dtype=x.dtype, device=x.device)
        norm[0] = 1.0
        phase = np.pi * x[..., None] * k
        return -norm * np.pi * k * torch.sin(phase) if derivative else norm * torch.cos(phase)
    k = np.arange(modes, dtype=np.float64)
    norm = np.where(k == 0, 1.0, np.sqrt(2.0))
    phase = np.pi * np.asarray(x, dtype=np.float64)[..., None] * k
    return -norm * np.pi * k * np.sin(phase) if derivative else norm * np.cos(phase)


@dataclass(frozen=True)
class CosineGRF:
    r"""Zero-mean Gaussian random field on :math:`[0, 1]^2` with Neumann boundary conditions.

    .. math::

        g(x, y) = \sum_{k, l = 0}^{K - 1} s_{kl}\, \xi_{kl}\, \phi_k(x) \phi_l(y), \quad
        \phi_0 = 1,\ \phi_k = \sqrt 2 \cos(\pi k x), \quad
        s_{kl} \propto \left(\pi^2 (k^2 + l^2) + \tau^2\right)^{-\alpha / 2},

    with independent standard normal :math:`\xi_{kl}`: a truncation of
    :math:`N(0, C (-\Delta + \tau^2)^{-\alpha})` with Neumann conditions. The constant mode is
    dropped (:math:`s_{00} = 0`, as in the FNO data), so thresholding at zero splits the square
    roughly in half, and the scale :math:`C` makes the variance one on average over the square
    (:math:`\sum s_{kl}^2 = 1`; FNO used :math:`\tau^{\alpha - 1}`, which a threshold at zero
    does not see).

    Parameters
    ----------
    alpha : float
        Smoothness exponent; larger is smoother (FNO Darcy: 2).
    tau : float
        Inverse length scale; larger gives finer features (FNO Darcy: 3).
    modes : int
        Modes per dimension, :math:`K`. The neglected variance is about
        :math:`1 / (4 \pi^3 K^2)` of the (unnormalised) total for ``alpha = 2``: 1e-3 at 32.
    """

    alpha: float = 2.0
    tau: float = 3.0
    modes: int = 32

    def __post_init__(self):
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        if not self.tau >= 0:
            raise ValueError(f"tau must be non-negative, got {self.tau}")
        if self.modes < 2:
            raise ValueError(f"modes must be at least 2, got {self.modes}")

    @property
    def scales(self) -> np.ndarray:
        """Standard deviations :math:`s_{kl}` of the coefficients, shape ``(K, K)``."""
        k = np.arange(self.modes, dtype=np.float64)
        eig = np.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2) + self.tau**2
        s = eig ** (-self.alpha / 2.0)
        s[0, 0] = 0.0
        return s / np.sqrt(np.sum(s**2))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw the coefficients of ``n`` fields, shape ``(n, K, K)``, float64."""
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        return rng.standard_normal((n, self.modes, self.modes)) * self.scales

    def on_grid(self, coefficients: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Evaluate fields on the tensor grid ``x`` by ``y``.

        Parameters
        ----------
        coefficients : numpy.ndarray
            ``(..., K, K)`` from :meth:`sample`.
        x, y : numpy.ndarray
            1-D coordinates in ``[0, 1]``.

        Returns
        -------
        numpy.ndarray
            ``(..., len(x), len(y))``, float64.
        """
        bx = _cosine_basis(x, self.modes)
        by = _cosine_basis(y, self.modes)
        # Stacked coefficients give one product per sample, so sample i's values do not
        # depend on how many samples are evaluated together.
        return bx @ np.asarray(coefficients, dtype=np.float64) @ by.T

    def at_points(self, coefficients, x, y):
        """One field and its gradient at scattered points.

        Parameters
        ----------
        coefficients : numpy.ndarray or torch.Tensor
            ``(K, K)``, one sample of :meth:`sample`.
        x, y : numpy.ndarray or torch.Tensor
            Coordinates of the same shape. Torch tensors give torch results in their dtype and
            on their device (differentiable), numpy arrays give float64 numpy results.

        Returns
        -------
        tuple
            ``(g, dg/dx, dg/dy)``, each shaped like ``x``.
        """
        if isinstance(x, torch.Tensor) and isinstance(coefficients, torch.Tensor):
            c = coefficients.to(dtype=x.dtype, device=x.device)
        elif isinstance(x, torch.Tensor):
            # A copy: the coefficients may be a read-only (cached) array.
            c = torch.tensor(np.asarray(coefficients), dtype=x.dtype, device=x.device)
        else:
            c = np.asarray(coefficients, dtype=np.float64)
        bx, dbx = _cosine_basis(x, self.modes), _cosine_basis(x, self.modes, derivative=True)
        by, dby = _cosine_basis(y, self.modes), _cosine_basis(y, self.modes, derivative=True)
        # (..., K) @ (K, K) then a dot product with the y basis: K^2 work per point.
        cy = by @ c.T
        return (bx * cy).sum(-1), (dbx * cy).sum(-1), (bx * (dby @ c.T)).sum(-1)

    def describe(self) -> str:
        """One line for provenance attrs."""
        return (
            f"cosine-series Gaussian random field on [0,1]^2, covariance ~ (-Laplace + tau^2)"
            f"^-alpha with Neumann conditions, alpha={self.alpha:g}, tau={self.tau:g}, "
            f"{self.modes}x{self.modes} modes, zero mean, unit mean variance"
        )


@dataclass(frozen=True)
class PeriodicGRF:
    r"""Zero-mean Gaussian random field on a periodic interval of length :math:`L`.

    .. math::

        u(x) = \sum_{k=1}^{K} s_k \sqrt 2 \left(\xi_k \cos\frac{2\pi k x}{L}
            + \eta_k \sin\frac{2\pi k x}{L}\right), \qquad
        s_k = \sigma \left((2\pi k)^2 + \tau^2\right)^{-\alpha / 2},

    with independent standard normal :math:`\xi_k, \eta_k`: the field
    :math:`N(0, \sigma^2 (-\Delta + \tau^2)^{-\alpha})` of the unit-period interval, stretched to
    length :math:`L`, without its constant mode. The defaults are the FNO Burgers measure
    :math:`N(0, 625 (-\Delta + 25)^{-2})`, whose point values have standard deviation about
    0.58 without the mean mode.

    Parameters
    ----------
    length : float
        Period :math:`L`.
    alpha, tau, sigma : float
        Smoothness exponent, inverse length scale (on the unit period) and amplitude.
    modes : int
        Highest wavenumber :math:`K`; a grid of more than ``2 K`` points represents the
        field exactly.
    """

    length: float = 1.0
    alpha: float = 2.0
    tau: float = 5.0
    sigma: float = 25.0
    modes: int = 63

    def __post_init__(self):
        if not self.length > 0:
            raise ValueError(f"length must be positive, got {self.length}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        if self.modes < 1:
            raise ValueError(f"modes must be at least 1, got {self.modes}")

    @property
    def scales(self) -> np.ndarray:
        """Standard deviations :math:`s_k`, ``k = 1 .. K``."""
        k = np.arange(1, self.modes + 1, dtype=np.float64)
        return self.sigma * ((2.0 * np.pi * k) ** 2 + self.tau**2) ** (-self.alpha / 2.0)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw the coefficients of ``n`` fields, shape ``(n, K, 2)`` (cosine, sine), float64."""
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        return rng.standard_normal((n, self.modes, 2)) * self.scales[:, None]

    def on_grid(self, coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Evaluate fields ``(..., K, 2)`` at the points ``x``; returns ``(..., len(x))``."""
        k = np.arange(1, self.modes + 1, dtype=np.float64)
        phase = 2.0 * np.pi / self.length * np.outer(k, np.asarray(x, dtype=np.float64))
        c = np.asarray(coefficients, dtype=np.float64)[..., None, :, :]
        # One (1, K) @ (K, len(x)) product per sample: a single product over all rows would
        # let BLAS block differently for different n, changing the last bit of sample i.
        values = c[..., 0] @ np.cos(phase) + c[..., 1] @ np.sin(phase)
        return np.sqrt(2.0) * values[..., 0, :]

    def describe(self) -> str:
        """One line for provenance attrs."""
        return (
            f"periodic Gaussian random field N(0, {self.sigma**2:g} (-Laplace + {self.tau**2:g})"
            f"^-{self.alpha:g}) of the unit period stretched to length {self.length:g}, "
            f"wavenumbers 1..{self.modes}, zero mean"
        )


@dataclass(frozen=True)
class PeriodicGRF2D:
    r"""Zero-mean Gaussian random field on the periodic square :math:`[0, L)^2`.

    .. math::

        g(\mathbf x) = \sum_{\mathbf k \in H} s_{\mathbf k} \sqrt 2 \left(
            \xi_{\mathbf k} \cos\frac{2\pi \mathbf k \cdot \mathbf x}{L}
            + \eta_{\mathbf k} \sin\frac{2\pi \mathbf k \cdot \mathbf x}{L}\right), \qquad
        s_{\mathbf k} \propto \left((2\pi)^2 |\mathbf k|^2 + \tau^2\right)^{-\alpha / 2},

    with independent standard normal :math:`\xi, \eta`, over the half plane :math:`H` of integer
    wavenumbers with :math:`|k_x|, |k_y| \le K` (:math:`k_y > 0`, or :math:`k_y = 0 < k_x`):
    the field :math:`N(0, C (-\Delta + \tau^2)^{-\alpha})` of the unit-period square (the FNO
    Navier-Stokes initial vorticity has :math:`\alpha = 2.5, \tau = 7`), stretched to period
    :math:`L`, without its mean, truncated at :math:`K` and scaled so that its point values have
    standard deviation ``std``.

    Parameters
    ----------
    length : float
        Period :math:`L`.
    alpha, tau : float
        Smoothness exponent and inverse length scale (on the unit period).
    std : float
        Standard deviation of the point values.
    modes : int
        Highest wavenumber :math:`K` per dim; a grid of more than ``2 K`` points per side
        represents the field exactly.
    """

    length: float = 1.0
    alpha: float = 2.5
    tau: float = 7.0
    std: float = 1.0
    modes: int = 8

    def __post_init__(self):
        if not self.length > 0:
            raise ValueError(f"length must be positive, got {self.length}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        if not self.std > 0:
            raise ValueError(f"std must be positive, got {self.std}")
        if self.modes < 1:
            raise ValueError(f"modes must be at least 1, got {self.modes}")

    def _wavenumbers(self) -> tuple[np.ndarray, np.ndarray]:
        """``kx`` in ``-K..K`` (axis 0) and ``ky`` in ``0..K`` (axis 1), broadcastable."""
        k = self.modes
        return np.arange(-k, k + 1, dtype=np.float64)[:, None], np.arange(k + 1.0)[None, :]

    @property
    def scales(self) -> np.ndarray:
        """Standard deviations :math:`s_{\\mathbf k}`, shape ``(2K + 1, K + 1)`` over
        ``(kx + K, ky)``; zero outside the half plane."""
        kx, ky = self._wavenumbers()
        s = ((2.0 * np.pi) ** 2 * (kx**2 + ky**2) + self.tau**2) ** (-self.alpha / 2.0)
        s = np.where((ky > 0) | ((ky == 0) & (kx > 0)), s, 0.0)
        # A mode's point variance is 2 s^2 (xi cos + eta sin has variance one everywhere).
        return s * self.std / np.sqrt(2.0 * np.sum(s**2))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw the coefficients of ``n`` fields, ``(n, 2K + 1, K + 1, 2)`` (cosine, sine)."""
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        shape = (n, 2 * self.modes + 1, self.modes + 1, 2)
        return rng.standard_normal(shape) * self.scales[..., None]

    def on_grid(self, coefficients: np.ndarray, points: int) -> np.ndarray:
        """Evaluate fields ``(..., 2K + 1, K + 1, 2)`` on the ``points x points`` grid
        ``L (i, j) / points`` (axis -2 is x); returns ``(..., points, points)``, float64."""
        if points <= 2 * self.modes:
            raise ValueError(
                f"points must exceed 2 * modes = {2 * self.modes} to hold the field, got {points}"
            )
        c = np.asarray(coefficients, dtype=np.float64)
        k = self.modes
        # Re(X e^{i theta}) with X = sqrt2 s (xi - i eta) gives the cosine and sine terms; the
        # inverse real FFT returns 2 Re(X e^{i theta}) / points^2 per stored mode.
        x = (np.sqrt(2.0) * points**2 / 2.0) * (c[..., 0] - 1j * c[..., 1])
        spectrum = np.zeros((*c.shape[:-3], points, points // 2 + 1), dtype=np.complex128)
        rows = np.arange(-k, k + 1) % points
        spectrum[..., rows, : k + 1] = x
        # The ky = 0 column is a full complex transform along x: it needs the mirrored
        # conjugates of its kx > 0 entries to give a real field.
        spectrum[..., (-np.arange(1, k + 1)) % points, 0] = np.conj(x[..., k + 1 :, 0])
        return np.fft.irfft2(spectrum, (points, points))

    def describe(self) -> str:
        """One line for provenance attrs."""
        return (
            f"periodic Gaussian random field ~ (-Laplace + {self.tau:g}^2)^-{self.alpha:g} of the "
            f"unit square stretched to period {self.length:g}, |k_x|, |k_y| <= {self.modes}, "
            f"zero mean, point standard deviation {self.std:g}"
        )
