"""Tests of the spectrally drawn Gaussian random fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.numerics.random_fields import CosineGRF, PeriodicGRF


def test_cosine_field_statistics():
    field = CosineGRF()
    assert field.scales[0, 0] == 0.0
    assert np.sum(field.scales**2) == pytest.approx(1.0)
    x = np.linspace(0, 1, 33)
    g = field.on_grid(field.sample(2000, np.random.default_rng(0)), x, x)
    assert g.shape == (2000, 33, 33)
    # Unit variance on average over the square, zero mean, and no constant part per sample.
    assert g.var(axis=0).mean() == pytest.approx(1.0, rel=0.05)
    assert abs(g.mean()) < 0.05
    assert 0.4 < (g >= 0).mean() < 0.6
    # Correlation falls with distance; opposite corners anticorrelate, since without the
    # constant mode the slowest cosines (which change sign across the square) dominate.
    near, mid, far = (np.mean(g[:, 10, 10] * g[:, 10 + d, 10]) for d in (1, 4, 10))
    assert near > mid > 0.2 and abs(far) < 0.15
    assert np.mean(g[:, 2, 2] * g[:, 30, 30]) < -0.3


def test_cosine_field_is_drawn_sample_by_sample():
    field = CosineGRF(modes=8)
    five = field.sample(5, np.random.default_rng(3))
    np.testing.assert_array_equal(field.sample(3, np.random.default_rng(3)), five[:3])
    rng = np.random.default_rng(3)
    chunks = np.concatenate([field.sample(2, rng), field.sample(3, rng)])
    np.testing.assert_array_equal(chunks, five)
    assert not np.array_equal(field.sample(5, np.random.default_rng(4)), five)


def test_cosine_field_points_grid_and_gradient_agree():
    field = CosineGRF()
    c = field.sample(1, np.random.default_rng(1))[0]
    x = np.linspace(0, 1, 17)
    y = np.linspace(0, 1, 9)
    grid = field.on_grid(c, x, y)
    mx, my = np.meshgrid(x, y, indexing="ij")
    g, gx, gy = field.at_points(c, mx, my)
    np.testing.assert_allclose(g, grid, atol=1e-12)
    # Neumann basis: the normal derivative vanishes on the boundary.
    assert np.abs(gx[[0, -1], :]).max() < 1e-10 and np.abs(gy[:, [0, -1]]).max() < 1e-10
    # Gradient against central differences.
    px, py, eps = np.array([0.31, 0.77]), np.array([0.52, 0.13]), 1e-6
    fd_x = (field.at_points(c, px + eps, py)[0] - field.at_points(c, px - eps, py)[0]) / (2 * eps)
    fd_y = (field.at_points(c, px, py + eps)[0] - field.at_points(c, px, py - eps)[0]) / (2 * eps)
    _, gx, gy = field.at_points(c, px, py)
    np.testing.assert_allclose(gx, fd_x, rtol=1e-6)
    np.testing.assert_allclose(gy, fd_y, rtol=1e-6)
    # Torch gives the same numbers, differentiably.
    tx = torch.tensor(px, requires_grad=True)
    tg, tgx, _ = field.at_points(c, tx, torch.tensor(py))
    np.testing.assert_allclose(tg.detach().numpy(), field.at_points(c, px, py)[0], atol=1e-12)
    (auto,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(auto.numpy(), tgx.detach().numpy(), rtol=1e-10)
    t32 = field.at_points(c, torch.tensor(px, dtype=torch.float32), torch.tensor(py).float())
    assert t32[0].dtype == torch.float32


def test_periodic_field_statistics_and_periodicity():
    field = PeriodicGRF(length=2.0)
    x = -1.0 + 2.0 * np.arange(256) / 256
    u = field.on_grid(field.sample(4000, np.random.default_rng(0)), x)
    assert u.shape == (4000, 256)
    # Zero mean per sample (no constant mode); variance sum 2 s_k^2 (~0.33, FNO scaling).
    assert np.abs(u.mean(axis=1)).max() < 1e-12
    expected = 2 * np.sum(field.scales**2)
    assert u.var(axis=0).mean() == pytest.approx(expected, rel=0.05)
    assert 0.3 < expected < 0.4
    c = field.sample(2, np.random.default_rng(1))
    np.testing.assert_allclose(field.on_grid(c, x), field.on_grid(c, x + 2.0), atol=1e-12)
    # Sample by sample, like the cosine field.
    np.testing.assert_array_equal(field.sample(1, np.random.default_rng(1)), c[:1])


def test_fields_reject_bad_settings():
    with pytest.raises(ValueError, match="alpha"):
        CosineGRF(alpha=0.0)
    with pytest.raises(ValueError, match="modes"):
        CosineGRF(modes=1)
    with pytest.raises(ValueError, match="length"):
        PeriodicGRF(length=-1.0)


def test_periodic_grf_2d_is_its_series_with_the_asked_variance():
    from workbench.numerics.random_fields import PeriodicGRF2D

    field = PeriodicGRF2D(length=2 * np.pi, alpha=1.0, tau=1.0, std=2.0, modes=3)
    coefficients = field.sample(4000, np.random.default_rng(0))
    values = field.on_grid(coefficients, 8)
    assert abs(values.std() - 2.0) < 0.03
    # The explicit cosine/sine series at the grid points.
    x = 2 * np.pi * np.arange(8) / 8
    gx, gy = np.meshgrid(x, x, indexing="ij")
    series = np.zeros((8, 8))
    for i, kx in enumerate(range(-3, 4)):
        for ky in range(4):
            theta = kx * gx + ky * gy
            c = coefficients[0, i, ky]
            series += np.sqrt(2.0) * (c[0] * np.cos(theta) + c[1] * np.sin(theta))
    np.testing.assert_allclose(values[0], series, atol=1e-13)
    # Sample i is the same function on every grid that holds it.
    np.testing.assert_allclose(field.on_grid(coefficients[:2], 16)[:, ::2, ::2], values[:2])
    with pytest.raises(ValueError, match="points"):
        field.on_grid(coefficients[:1], 6)
