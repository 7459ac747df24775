"""Tests of the Cole-Hopf Burgers solver."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data
from scipy.integrate import solve_ivp

from workbench.numerics import burgers_cole_hopf


def _spectral_burgers(nu: float, n: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Independent check: Fourier pseudo-spectral method of lines with a tight DOP853.

    The sine initial condition is odd and 2-periodic, so the periodic problem on [-1, 1)
    has the same solution as the Dirichlet one.
    """
    x = -1.0 + 2.0 * np.arange(n) / n
    k = np.pi * np.arange(n // 2 + 1)

    def rhs(_t: float, u: np.ndarray) -> np.ndarray:
        return np.fft.irfft(-nu * k**2 * np.fft.rfft(u) - 0.5j * k * np.fft.rfft(u**2), n)

    sol = solve_ivp(
        rhs,
        (0.0, t[-1]),
        -np.sin(np.pi * x),
        method="DOP853",
        t_eval=t,
        rtol=1e-12,
        atol=1e-14,
    )
    assert sol.success
    return x, sol.y


def test_matches_deepxde_reference():
    data = np.load(shared_data("burgers_deepxde.npz"))
    u = burgers_cole_hopf(data["x"], data["t"], 0.01 / np.pi)
    assert u.shape == data["usol"].shape
    diff = np.abs(u - data["usol"]).max()
    print(f"burgers max abs diff vs burgers_deepxde.npz: {diff:.3e}")
    assert diff <= 1e-6


@pytest.mark.parametrize(("nu", "n"), [(1.0, 32), (0.1, 128)])
def test_matches_independent_spectral_solve(nu, n):
    t = np.linspace(0.0, 1.0, 11)
    x, reference = _spectral_burgers(nu, n, t)
    u = burgers_cole_hopf(x, t, nu)
    assert np.abs(u - reference).max() < 1e-8


@pytest.mark.parametrize("nu", [1e-3, 0.01 / np.pi, 1.0])
def test_sanity_across_viscosity_range(nu):
    x = np.linspace(-1.0, 1.0, 257)
    t = np.linspace(0.0, 1.0, 21)
    u = burgers_cole_hopf(x, t, nu)
    assert u.shape == (257, 21)
    assert np.all(np.isfinite(u))
    assert np.abs(u[[0, -1], :]).max() < 1e-12
    # Odd symmetry and the maximum principle hold for the exact solution.
    np.testing.assert_allclose(u, -u[::-1], rtol=0, atol=1e-12)
    assert np.abs(u).max() <= 1.0 + 1e-12
    # Doubling the quadrature beyond the adaptive choice must not change anything.
    fine = burgers_cole_hopf(x, t, nu, n_quad=2000)
    assert np.abs(u - fine).max() < 1e-11


def test_initial_condition_is_exact():
    x = np.linspace(-1.0, 1.0, 33)
    u = burgers_cole_hopf(x, np.array([0.0, 0.5]), 0.05)
    np.testing.assert_array_equal(u[:, 0], -np.sin(np.pi * x))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="nu"):
        burgers_cole_hopf(np.zeros(3), np.ones(2), 0.0)
    with pytest.raises(ValueError, match="t"):
        burgers_cole_hopf(np.zeros(3), np.array([-1.0]), 0.1)
    with pytest.raises(ValueError, match="n_quad"):
        burgers_cole_hopf(np.zeros(3), np.ones(2), 0.1, n_quad=1)
