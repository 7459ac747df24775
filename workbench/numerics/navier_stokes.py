r"""Pseudo-spectral solver of the 2D incompressible Navier-Stokes equations, vorticity form.

On the periodic square :math:`[0, L)^2`

.. math::

    \omega_t + \mathbf u \cdot \nabla \omega = \nu \Delta \omega - \alpha \omega + f,
    \qquad \Delta \psi = -\omega, \quad \mathbf u = (u, v) = (\psi_y, -\psi_x),

with viscosity :math:`\nu`, linear drag :math:`\alpha \ge 0` and a steady forcing :math:`f`
(the curl of a body force). The velocity from the stream function is divergence-free by
construction; the mean vorticity is zero (a periodic velocity has no net circulation), so the
constant mode of :math:`\omega` is set to zero.

Space: Fourier collocation on ``n x n`` points; the advection term is formed on the grid from
spectral derivatives and dealiased by the 2/3 rule (Orszag 1971): modes with
:math:`|k_x|` or :math:`|k_y|` above ``n / 3`` are removed from it. Time: the fourth-order
exponential time-differencing Runge-Kutta scheme ETDRK4 (Cox & Matthews 2002, in the contour
form of Kassam & Trefethen 2005, shared with :mod:`workbench.numerics.spectral`): the linear
part :math:`-\nu |k|^2 - \alpha` is integrated exactly, the advection and the forcing at fourth
order. A flow whose advection vanishes (the Taylor-Green vortex, any parallel shear flow) is
therefore advanced exactly, to rounding.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from workbench.numerics.spectral import _etdrk4_coefficients, _output_steps

__all__ = [
    "CFL_LIMIT",
    "PECLET_LIMIT",
    "FlowState",
    "kolmogorov_forcing",
    "solve_vorticity",
    "velocity_from_vorticity",
]

#: Largest Courant number ``dt * (max|u| + max|v|) / dx`` accepted. ETDRK4 without viscosity is
#: RK4 on the advection, stable up to ``|dt lambda| ~ 2.8`` on the imaginary axis; the largest
#: dealiased wavenumber is ``2 pi / (3 dx)``, so the bound is ``2.8 * 3 / (2 pi) ~ 1.34``.
#: 1.0 keeps a margin for the growth of the velocity during a run.
CFL_LIMIT = 1.0
#: Largest cell Peclet number ``(max|u| + max|v|) dx / (2 nu)`` accepted: beyond it the grid
#: cannot hold the viscous scale and the under-resolved spectrum piles up at the 2/3 cut-off.
#: Measured on forced Kolmogorov flow (k_f = 4, drag 0.1) from random initial vorticity: the
#: 2/3-band edge held 1e-3 of the peak enstrophy at a Peclet number of about 10 and 2e-2 at
#: about 18 (velocity of the developed flow). The check sees only the initial velocity, so it
#: is a necessary condition, not a sufficient one.
PECLET_LIMIT = 20.0

_CONTOUR_POINTS = 32


class FlowState(NamedTuple):
    """Vorticity and velocity on the grid at the output times.

    Each array has shape ``(B, n, n, n_out)`` (or ``(n, n, n_out)`` for a single field); axis 1
    is ``x``, axis 2 is ``y``.
    """

    w: np.ndarray
    u: np.ndarray
    v: np.ndarray


def _wavenumbers(n: int, length: float) -> tuple[np.ndarray, np.ndarray]:
    """``kx`` (full, axis 0) and ``ky`` (half, rfft axis 1) as broadcastable 2-D arrays."""
    kx = 2.0 * np.pi / length * np.fft.fftfreq(n, 1.0 / n)
    ky = 2.0 * np.pi / length * np.arange(n // 2 + 1)
    return kx[:, None], ky[None, :]


def _dealias_mask(n: int) -> np.ndarray:
    mx = np.abs(np.fft.fftfreq(n, 1.0 / n))[:, None]
    my = np.arange(n // 2 + 1)[None, :]
    return (mx < n / 3.0) & (my < n / 3.0)


def _velocity_spectra(
    w_hat: np.ndarray, kx: np.ndarray, ky: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    k2 = kx**2 + ky**2
    inv = np.where(k2 > 0.0, 1.0 / np.where(k2 > 0.0, k2, 1.0), 0.0)
    psi_hat = w_hat * inv
    # The Nyquist modes of an even grid have no odd derivative (the real interpolant is a
    # cosine there); zeroing them keeps the velocity real and exactly divergence-free.
    n = kx.shape[0]
    kxd = np.where(np.arange(n)[:, None] == n // 2, 0.0, kx)
    kyd = np.where(np.arange(ky.shape[1])[None, :] == n // 2, 0.0, ky)
    return 1j * kyd * psi_hat, -1j * kxd * psi_hat


def velocity_from_vorticity(w: np.ndarray, length: float = 2.0 * np.pi) -> np.ndarray:
    """The velocity ``(u, v)`` of periodic vorticity fields.

    Parameters
    ----------
    w : numpy.ndarray
        Vorticity on the ``n x n`` grid ``L j / n``, shape ``(..., n, n)`` (x then y).
    length : float
        Period ``L``.

    Returns
    -------
    numpy.ndarray
        ``(2, ..., n, n)``: ``u = psi_y`` and ``v = -psi_x`` with ``-Laplace psi = w`` (the mean
        of ``w`` is ignored), float64.
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"w must have shape (..., n, n), got {w.shape}")
    n = w.shape[-1]
    kx, ky = _wavenumbers(n, float(length))
    u_hat, v_hat = _velocity_spectra(np.fft.rfft2(w), kx, ky)
    return np.stack([np.fft.irfft2(u_hat, (n, n)), np.fft.irfft2(v_hat, (n, n))])


def kolmogorov_forcing(n: int, wavenumber: int, length: float = 2.0 * np.pi) -> np.ndarray:
    r"""Kolmogorov forcing of the vorticity equation on the ``n x n`` grid.

    The body force :math:`(\sin(k_f y), 0)` (the Kolmogorov flow of Kochkov et al. 2021 on
    :math:`[0, 2\pi)^2` with :math:`k_f = 4`) has curl :math:`f = -k_f \cos(k_f y)`; with
    :math:`L \ne 2\pi` the wavenumber counts periods per side, :math:`f = -\kappa \cos(\kappa
    y)` with :math:`\kappa = 2 \pi k_f / L`.

    Returns
    -------
    numpy.ndarray
        ``(n, n)``, constant along ``x`` (axis 0).
    """
    kappa = 2.0 * np.pi * wavenumber / length
    y = length * np.arange(n) / n
    return np.broadcast_to(-kappa * np.cos(kappa * y), (n, n)).copy()


def solve_vorticity(
    w0: np.ndarray,
    nu: float,
    dt: float,
    t_out: np.ndarray,
    *,
    forcing: np.ndarray | None = None,
    drag: float = 0.0,
    length: float = 2.0 * np.pi,
    check_resolution: bool = True,
) -> FlowState:
    """Advance periodic 2D vorticity fields with dealiased pseudo-spectral ETDRK4.

    Parameters
    ----------
    w0 : numpy.ndarray
        Initial vorticity on the grid ``L (i, j) / n`` (end points excluded), ``(n, n)`` or a
        batch ``(B, n, n)`` advanced together (each sample independently of the others).
        Its mean is dropped.
    nu : float
        Kinematic viscosity, ``> 0``.
    dt : float
        Time step, ``> 0``, with Courant number ``dt (max|u| + max|v|) / dx`` at most
        :data:`CFL_LIMIT` for the initial velocity.
    t_out : numpy.ndarray
        Output times, each a non-negative integer multiple of ``dt``.
    forcing : numpy.ndarray, optional
        Steady vorticity forcing ``f`` on the grid, ``(n, n)`` (e.g.
        :func:`kolmogorov_forcing`); its mean is dropped. Default none.
    drag : float
        Linear drag coefficient ``alpha >= 0``.
    length : float
        Period ``L`` of the square.
    check_resolution : bool
        Refuse grids whose cell Peclet number ``(max|u| + max|v|) dx / (2 nu)`` (initial
        velocity) exceeds :data:`PECLET_LIMIT`. Off only for convergence studies of
        deliberately coarse grids.

    Returns
    -------
    FlowState
        ``w, u, v``, each ``(B, n, n, len(t_out))`` (no batch axis when ``w0`` had none).

    Raises
    ------
    ValueError
        If ``w0`` is not a finite square grid with an even ``n >= 8`` (naming ``n``), the
        forcing is not resolved inside the dealiased band ``|k| < n / 3`` or the grid does not
        resolve the viscous scale (naming ``n``), ``nu <= 0``, ``drag < 0``, ``dt <= 0`` or
        ``dt`` breaks the CFL limit (naming ``dt``), or ``t_out`` is not on the step grid.
    RuntimeError
        If the solution stops being finite (the step or the grid was too coarse after all).
    """
    w0 = np.asarray(w0, dtype=np.float64)
    single = w0.ndim == 2
    if single:
        w0 = w0[None]
    if w0.ndim != 3 or w0.shape[-1] != w0.shape[-2]:
        raise ValueError(f"w0 must have shape (n, n) or (B, n, n), got {w0.shape}")
    n = w0.shape[-1]
    if n < 8 or n % 2:
        raise ValueError(f"n (grid points per side) must be even and >= 8, got n={n}")
    if not np.all(np.isfinite(w0)):
        raise ValueError("w0 must be finite")
    nu, drag, dt, length = float(nu), float(drag), float(dt), float(length)
    if not (nu > 0.0 and np.isfinite(nu)):
        raise ValueError(f"nu (viscosity) must be positive and finite, got nu={nu}")
    if not (drag >= 0.0 and np.isfinite(drag)):
        raise ValueError(f"drag must be >= 0 and finite, got drag={drag}")
    if not (length > 0.0 and np.isfinite(length)):
        raise ValueError(f"length must be positive and finite, got length={length}")
    if not (dt > 0.0 and np.isfinite(dt)):
        raise ValueError(f"dt must be positive and finite, got dt={dt}")
    steps_out = _output_steps(np.asarray(t_out, dtype=np.float64).ravel(), dt)

    kx, ky = _wavenumbers(n, length)
    mask = _dealias_mask(n)
    f_hat = np.zeros((n, n // 2 + 1), dtype=np.complex128)
    if forcing is not None:
        forcing = np.asarray(forcing, dtype=np.float64)
        if forcing.shape != (n, n) or not np.all(np.isfinite(forcing)):
            raise ValueError(f"forcing must be a finite ({n}, {n}) array, got {forcing.shape}")
        f_hat = np.fft.rfft2(forcing)
        f_hat[0, 0] = 0.0
        outside = np.sum(np.abs(f_hat[~mask]) ** 2)
        if outside > 1e-20 * max(np.sum(np.abs(f_hat) ** 2), 1e-300):
            raise ValueError(
                f"n={n} is too small for the forcing: it has modes outside the dealiased band "
                f"|k| < n/3 = {n / 3:.1f}; use a finer grid"
            )

    w_hat = np.fft.rfft2(w0)
    w_hat[:, 0, 0] = 0.0
    dx = length / n
    u_hat, v_hat = _velocity_spectra(w_hat, kx, ky)
    speed = np.abs(np.fft.irfft2(u_hat, (n, n))).max() + np.abs(np.fft.irfft2(v_hat, (n, n))).max()
    cfl = dt * speed / dx
    if cfl > CFL_LIMIT:
        raise ValueError(
            f"dt={dt} is unstable: Courant number dt (max|u| + max|v|) / dx = {cfl:.3g} "
            f"exceeds {CFL_LIMIT}; use dt <= {CFL_LIMIT * dx / speed:.3g}"
        )
    peclet = 0.5 * speed * dx / nu
    if check_resolution and peclet > PECLET_LIMIT:
        raise ValueError(
            f"n={n} is too small to resolve the viscous scale: cell Peclet number "
            f"(max|u| + max|v|) dx / (2 nu) = {peclet:.3g} exceeds {PECLET_LIMIT}; use "
            f"n >= {int(np.ceil(n * peclet / PECLET_LIMIT / 2) * 2)} or a larger nu"
        )

    lhat = (-nu * (kx**2 + ky**2) - drag) * np.ones_like(ky)
    e, e2, q, f1, f2, f3 = (
        c.reshape(lhat.shape) for c in _etdrk4_coefficients(lhat.ravel(), dt, _CONTOUR_POINTS)
    )
    ikx = 1j * kx
    iky = 1j * ky

    def nonlinear(wh: np.ndarray) -> np.ndarray:
        uh, vh = _velocity_spectra(wh, kx, ky)
        shape = (n, n)
        adv = np.fft.irfft2(uh, shape) * np.fft.irfft2(ikx * wh, shape) + np.fft.irfft2(
            vh, shape
        ) * np.fft.irfft2(iky * wh, shape)
        return f_hat - mask * np.fft.rfft2(adv)

    out = np.empty(w_hat.shape + (steps_out.size,), dtype=np.complex128)
    order = np.argsort(steps_out, kind="stable")
    v = w_hat
    step = 0
    for idx in order:
        while step < steps_out[idx]:
            nv = nonlinear(v)
            a = e2 * v + q * nv
            na = nonlinear(a)
            b = e2 * v + q * na
            nb = nonlinear(b)
            c = e2 * a + q * (2.0 * nb - nv)
            nc = nonlinear(c)
            v = e * v + f1 * nv + 2.0 * f2 * (na + nb) + f3 * nc
            step += 1
            if step % 64 == 0 and not np.all(np.isfinite(v)):
                break
        if not np.all(np.isfinite(v)):
            raise RuntimeError(
                f"the vorticity stopped being finite by t={step * dt:g}: dt={dt} or n={n} is "
                "too coarse for this flow"
            )
        out[..., idx] = v

    spectra = np.moveaxis(out, -1, 1)  # (B, n_out, n, n//2+1)
    u_hat, v_hat = _velocity_spectra(spectra, kx, ky)
    fields = [np.moveaxis(np.fft.irfft2(s, (n, n)), 1, -1) for s in (spectra, u_hat, v_hat)]
    if single:
        fields = [f[0] for f in fields]
    return FlowState(*fields)
