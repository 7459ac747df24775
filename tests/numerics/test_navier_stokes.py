"""The pseudo-spectral vorticity solver: exact Taylor-Green decay, fourth order in time,
divergence-free velocity, and refusals of bad input."""

import numpy as np
import pytest

from workbench.numerics.navier_stokes import (
    kolmogorov_forcing,
    solve_vorticity,
    velocity_from_vorticity,
)

L = 2.0 * np.pi


def _grid(n):
    x = L * np.arange(n) / n
    return np.meshgrid(x, x, indexing="ij")


def _smooth_field(n, seed, amplitude=3.0):
    """Random vorticity with wavenumbers up to 4, max |w| = amplitude."""
    rng = np.random.default_rng(seed)
    spectrum = np.zeros((n, n // 2 + 1), dtype=complex)
    spectrum[:5, :5] = rng.standard_normal((5, 5)) + 1j * rng.standard_normal((5, 5))
    spectrum[-4:, 1:5] = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    w = np.fft.irfft2(spectrum, (n, n))
    return w * amplitude / np.abs(w).max()


def _derivative(f, axis):
    """Spectral derivative along ``axis`` of fields on the 2 pi-periodic grid."""
    n = f.shape[axis]
    k = np.fft.fftfreq(n, 1.0 / n)
    k[n // 2] = 0.0
    shape = [1] * f.ndim
    shape[axis] = n
    return np.fft.ifft(1j * k.reshape(shape) * np.fft.fft(f, axis=axis), axis=axis).real


@pytest.mark.parametrize("k", [1, 3])
def test_taylor_green_decays_exactly(k):
    # w = 2k cos(kx) cos(ky) is proportional to its stream function, so advection vanishes and
    # w(t) = w0 exp(-2 nu k^2 t); ETDRK4 integrates the linear part exactly.
    n, nu = 32, 0.05
    x, y = _grid(n)
    t = np.array([0.0, 0.5, 2.0])
    state = solve_vorticity(2 * k * np.cos(k * x) * np.cos(k * y), nu, 0.02, t)
    decay = np.exp(-2.0 * nu * k**2 * t)
    exact_w = 2 * k * np.cos(k * x)[..., None] * np.cos(k * y)[..., None] * decay
    exact_u = -np.cos(k * x)[..., None] * np.sin(k * y)[..., None] * decay
    exact_v = np.sin(k * x)[..., None] * np.cos(k * y)[..., None] * decay
    assert np.abs(state.w - exact_w).max() < 1e-12 * 2 * k
    assert np.abs(state.u - exact_u).max() < 1e-13
    assert np.abs(state.v - exact_v).max() < 1e-13


def test_fourth_order_in_time():
    n, nu, t_end = 32, 0.05, 1.0
    w0 = _smooth_field(n, 0)
    kwargs = {"forcing": kolmogorov_forcing(n, 4), "drag": 0.1}
    reference = solve_vorticity(w0, nu, t_end / 256, [t_end], **kwargs).w[..., 0]
    errors = [
        np.abs(solve_vorticity(w0, nu, t_end / m, [t_end], **kwargs).w[..., 0] - reference).max()
        for m in (8, 16, 32)
    ]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 3.8), orders


def test_batch_rows_are_independent_and_velocity_divergence_free():
    n = 32
    w0 = np.stack([_smooth_field(n, s) for s in range(3)])
    kwargs = {"forcing": kolmogorov_forcing(n, 2), "drag": 0.1}
    batch = solve_vorticity(w0, 0.05, 0.05, [0.5, 1.0], **kwargs)
    single = solve_vorticity(w0[1], 0.05, 0.05, [0.5, 1.0], **kwargs)
    assert batch.w.shape == (3, n, n, 2)
    np.testing.assert_allclose(batch.w[1], single.w, rtol=0, atol=1e-13)
    ux, vy = _derivative(batch.u, 1), _derivative(batch.v, 2)
    speed = np.abs(batch.u).max()
    assert np.abs(ux + vy).max() < 1e-12 * speed
    # The returned velocity is that of the returned vorticity, and its curl v_x - u_y gives
    # it back (its mean is zero).
    uv = velocity_from_vorticity(batch.w[..., 1])
    np.testing.assert_allclose(uv[0], batch.u[..., 1], atol=1e-13)
    curl = _derivative(uv[1], 1) - _derivative(uv[0], 2)
    assert np.abs(curl - batch.w[..., 1]).max() < 1e-11


def test_laminar_kolmogorov_flow_is_steady():
    # With forcing -k cos(ky) and drag a, w = -k cos(ky) / (a + nu k^2) is an exact steady
    # state (a parallel flow, advection vanishes).
    n, nu, drag, kf = 32, 0.05, 0.1, 4
    f = kolmogorov_forcing(n, kf)
    laminar = f / (drag + nu * kf**2)
    w = solve_vorticity(laminar, nu, 0.01, [1.0], forcing=f, drag=drag).w[..., 0]
    assert np.abs(w - laminar).max() < 1e-12 * np.abs(laminar).max()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"w0": np.zeros((7, 7))}, "n"),
        ({"w0": np.zeros((8, 10))}, "w0"),
        ({"w0": np.zeros((6, 6))}, "n"),
        ({"nu": 0.0}, "nu"),
        ({"nu": -1.0}, "nu"),
        ({"dt": 0.5, "t_out": [0.5]}, "dt=0.5 is unstable"),
        ({"drag": -0.1}, "drag"),
        ({"forcing": kolmogorov_forcing(32, 12)}, "n=32 is too small for the forcing"),
        ({"nu": 1e-4}, "n=32 is too small to resolve"),
        ({"t_out": [0.015]}, "multiples of dt"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs, match):
    args = {"w0": 2 * _smooth_field(32, 1), "nu": 0.05, "dt": 0.01, "t_out": [0.1]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        solve_vorticity(args.pop("w0"), args.pop("nu"), args.pop("dt"), args.pop("t_out"), **args)
