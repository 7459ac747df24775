"""Tests of the ETDRK4 Fourier solver and the Allen-Cahn reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from conftest import shared_data

from workbench.numerics import allen_cahn_reference, burgers_cole_hopf, etdrk4_periodic


def _conservative_advection(n: int, length: float):
    """``N(u) = -(u^2 / 2)_x``, differentiated spectrally."""
    k = 2.0 * np.pi / length * np.arange(n // 2 + 1)

    def nonlinear(u: np.ndarray) -> np.ndarray:
        return np.fft.irfft(-0.5j * k * np.fft.rfft(u**2), n)

    return nonlinear


def _observed_orders(errors: list[float]) -> np.ndarray:
    return np.log2(np.array(errors[:-1]) / np.array(errors[1:]))


def test_etdrk4_fourth_order_on_burgers():
    # Periodic viscous Burgers with a sine start has the exact Cole-Hopf solution; 256
    # modes resolve it to rounding at nu = 0.05, so only the time error is left.
    nu, n, t_end = 0.05, 256, 0.5
    x = -1.0 + 2.0 * np.arange(n) / n
    exact = burgers_cole_hopf(x, [t_end], nu)[:, 0]
    errors = []
    for dt in (0.05, 0.025, 0.0125):
        u = etdrk4_periodic(
            -np.sin(np.pi * x),
            2.0,
            lambda k: -nu * k**2,
            _conservative_advection(n, 2.0),
            dt,
            np.array([t_end]),
        )[:, 0]
        errors.append(np.abs(u - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    print(f"ETDRK4 Burgers errors {np.array(errors)}, orders {_observed_orders(errors)}")
    assert np.all(ratios > 10.0)
    assert errors[-1] < 1e-7


def test_etdrk4_fourth_order_with_complex_symbol():
    # KdV soliton u_t + u u_x + u_xxx = 0: the dispersive symbol i k^3 is purely imaginary,
    # which checks the full-circle contour means for complex L.
    c, length, n, t_end = 1.0, 60.0, 256, 2.0
    x = -length / 2 + length * np.arange(n) / n

    def soliton(t: float) -> np.ndarray:
        return 3.0 * c / np.cosh(0.5 * np.sqrt(c) * (x - c * t)) ** 2

    errors = []
    for dt in (0.1, 0.05, 0.025):
        u = etdrk4_periodic(
            soliton(0.0),
            length,
            lambda k: 1j * k**3,
            _conservative_advection(n, length),
            dt,
            np.array([t_end]),
        )[:, 0]
        errors.append(np.abs(u - soliton(t_end)).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    print(f"ETDRK4 KdV errors {np.array(errors)}, orders {_observed_orders(errors)}")
    assert np.all(ratios > 10.0)


def test_etdrk4_linear_problem_is_exact():
    # With N = 0 the scheme reduces to multiplication by exp(dt L): exact for any dt.
    n, nu = 64, 0.3
    x = 2.0 * np.pi * np.arange(n) / n
    u = etdrk4_periodic(
        np.sin(3 * x),
        2.0 * np.pi,
        lambda k: -nu * k**2,
        np.zeros_like,
        0.5,
        np.array([0.0, 1.0, 2.0]),
    )
    for j, t in enumerate((0.0, 1.0, 2.0)):
        np.testing.assert_allclose(u[:, j], np.exp(-9 * nu * t) * np.sin(3 * x), atol=1e-13)


def test_etdrk4_output_times_and_validation():
    n = 16
    u0 = np.cos(2.0 * np.pi * np.arange(n) / n)
    args = (u0, 1.0, lambda k: -(k**2), lambda u: -(u**3))
    out = etdrk4_periodic(*args, 0.01, np.array([0.02, 0.0, 0.01]))
    assert out.shape == (n, 3)
    np.testing.assert_array_equal(out[:, 1], u0)
    np.testing.assert_allclose(out[:, 0], etdrk4_periodic(*args, 0.01, [0.02])[:, 0], atol=0)
    with pytest.raises(ValueError, match="t_out"):
        etdrk4_periodic(*args, 0.01, np.array([0.015]))
    with pytest.raises(ValueError, match="t_out"):
        etdrk4_periodic(*args, 0.01, np.array([-0.01]))
    with pytest.raises(ValueError, match="dt"):
        etdrk4_periodic(*args, 0.0, np.array([0.01]))
    with pytest.raises(ValueError, match="length"):
        etdrk4_periodic(u0, -1.0, *args[2:], 0.01, np.array([0.01]))
    with pytest.raises(ValueError, match="linear_symbol"):
        etdrk4_periodic(u0, 1.0, lambda k: k[:-1], args[3], 0.01, np.array([0.01]))


def test_etdrk4_batches_rows_independently_with_a_nonlinear_symbol():
    # Conservative Burgers advection as D n(u) with D = -i k: the derivative rides on the
    # FFT of u^2 / 2. Rows of a batch evolve independently, each as a single solve would.
    nu, n, t_end = 0.05, 256, 0.5
    x = -1.0 + 2.0 * np.arange(n) / n
    u0 = np.stack([-np.sin(np.pi * x), 0.3 * np.cos(2 * np.pi * x), np.sin(np.pi * x) ** 3])
    args = (2.0, lambda k: -nu * k**2, lambda u: 0.5 * u * u, 0.0125, np.array([0.0, t_end]))
    batch = etdrk4_periodic(u0, *args, nonlinear_symbol=lambda k: -1j * k)
    assert batch.shape == (3, n, 2)
    np.testing.assert_array_equal(batch[:, :, 0], u0)
    for i in range(3):
        single = etdrk4_periodic(u0[i], *args, nonlinear_symbol=lambda k: -1j * k)
        np.testing.assert_allclose(batch[i], single, rtol=0, atol=1e-14)
    plain = etdrk4_periodic(u0[0], 2.0, args[1], _conservative_advection(n, 2.0), *args[3:])
    np.testing.assert_allclose(batch[0], plain, atol=1e-12)
    exact = burgers_cole_hopf(x, [t_end], nu)[:, 0]
    assert np.abs(batch[0, :, 1] - exact).max() < 1e-7
    with pytest.raises(ValueError, match="nonlinear_symbol"):
        etdrk4_periodic(u0, *args, nonlinear_symbol=lambda k: k[:-1])
    with pytest.raises(ValueError, match="u0"):
        etdrk4_periodic(u0[None], *args)


def test_allen_cahn_self_convergence():
    x = np.linspace(-1.0, 1.0, 512)
    t = np.linspace(0.0, 1.0, 201)
    u = allen_cahn_reference(x, t)
    finer = allen_cahn_reference(x, t, n_modes=2 * 2048, dt=2.5e-3 / 2)
    norms = np.linalg.norm(finer, axis=0)
    change = np.max(np.linalg.norm(u - finer, axis=0) / norms)
    print(f"Allen-Cahn self-convergence (max relative L2 over t): {change:.2e}")
    assert change <= 1e-6


def test_allen_cahn_output_points_and_times():
    x = np.array([-1.0, -0.3, 0.0, 0.7, 1.0])
    t = np.linspace(0.0, 0.3, 7)  # spacing 0.05 is not a multiple of a default dt
    u = allen_cahn_reference(x, t, n_modes=256, dt=0.02)
    assert u.shape == (5, 7)
    np.testing.assert_array_equal(u[:, 0], x**2 * np.cos(np.pi * x))
    # Periodic domain: x = -1 and x = 1 are the same point.
    np.testing.assert_allclose(u[0], u[-1], atol=1e-12)
    # Stable states are -1 and 1; the solution never overshoots much.
    assert np.all(np.abs(u) < 1.01)
    with pytest.raises(ValueError, match="t_out"):
        allen_cahn_reference(x, np.array([0.1, 0.25]), n_modes=64, dt=0.02)


def test_allen_cahn_against_deepxde_file():
    data = scipy.io.loadmat(shared_data("allen_cahn_deepxde.mat"))
    x, t = data["x"].ravel(), data["t"].ravel()
    stored = data["u"].T  # the file stores u[t, x]
    u = allen_cahn_reference(x, t)
    assert u.shape == stored.shape
    rel = np.linalg.norm(u - stored, axis=0) / np.linalg.norm(stored, axis=0)
    i_half, i_end = np.argmin(np.abs(t - 0.5)), np.argmin(np.abs(t - 1.0))
    print(
        f"Allen-Cahn vs allen_cahn_deepxde.mat: relative L2 {rel[i_half]:.3e} at t=0.5, "
        f"{rel[i_end]:.3e} at t=1 (max abs {np.abs(u[:, i_end] - stored[:, i_end]).max():.3f})"
    )
    # The file is a less accurate solve (see shared/data/README.md): only the initial
    # condition is held tightly.
    np.testing.assert_allclose(u[:, 0], stored[:, 0], rtol=0, atol=1e-10)
    assert rel[i_end] < 0.15
