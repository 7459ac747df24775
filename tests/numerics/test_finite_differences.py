"""Tests of the conservative finite-difference diffusion solver and its torch residual."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.numerics.finite_differences import (
    diffusion_residual,
    inverse_laplacian,
    refine_nodes,
    solve_diffusion,
)


def _manufactured(n: int):
    """Smooth, anisotropic coefficient and solution (so swapped axes would show), and the
    source that makes them solve -div(a grad u) = f exactly."""
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    pi = np.pi
    a = 2.0 + np.sin(2 * pi * x + 1.0) * np.cos(3 * pi * y)
    ax = 2 * pi * np.cos(2 * pi * x + 1.0) * np.cos(3 * pi * y)
    ay = -3 * pi * np.sin(2 * pi * x + 1.0) * np.sin(3 * pi * y)
    u = np.sin(pi * x) * np.sin(2 * pi * y) * np.exp(x)
    ux = (pi * np.cos(pi * x) + np.sin(pi * x)) * np.sin(2 * pi * y) * np.exp(x)
    uxx = (2 * pi * np.cos(pi * x) + (1 - pi**2) * np.sin(pi * x)) * np.sin(2 * pi * y) * np.exp(x)
    uy = 2 * pi * np.sin(pi * x) * np.cos(2 * pi * y) * np.exp(x)
    uyy = -4 * pi**2 * u
    f = -(a * (uxx + uyy) + ax * ux + ay * uy)
    return a, u, f


def test_second_order_convergence_with_smooth_coefficient():
    errors = []
    sizes = (17, 33, 65, 129)
    for n in sizes:
        a, exact, f = _manufactured(n)
        errors.append(np.abs(solve_diffusion(a, f) - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"max errors {np.array(errors)}, observed orders {orders}")
    assert 1.8 <= orders[-1] <= 2.2
    assert np.all(orders > 1.7)


def test_exact_for_biquadratic_solution():
    # The five-point Laplacian is exact for quadratics in each variable.
    n = 21
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    exact = x * (1 - x) * y * (1 - y)
    f = 2 * (x * (1 - x) + y * (1 - y))
    assert np.abs(solve_diffusion(np.ones((n, n)), f) - exact).max() < 1e-14


def test_spacing_and_rectangular_grids():
    # A 21 x 11 grid with h = 0.05 covers [0, 1] x [0, 0.5].
    x, y = np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 0.5, 11), indexing="ij")
    exact = x * (1 - x) * y * (0.5 - y)
    f = 2 * (x * (1 - x) + y * (0.5 - y))
    u = solve_diffusion(np.full(x.shape, 3.0), 3.0 * f, h=0.05)
    assert np.abs(u - exact).max() < 1e-14


def test_batches_match_single_solves():
    rng = np.random.default_rng(0)
    a = np.exp(rng.standard_normal((3, 12, 12)))
    f = rng.standard_normal((3, 12, 12))
    batch = solve_diffusion(a, f)
    for i in range(3):
        np.testing.assert_allclose(batch[i], solve_diffusion(a[i], f[i]), rtol=0, atol=1e-14)
    # One coefficient, many right-hand sides: one factorisation.
    shared = solve_diffusion(a[0], f)
    for i in range(3):
        np.testing.assert_allclose(shared[i], solve_diffusion(a[0], f[i]), rtol=0, atol=1e-14)
    # A number as right-hand side, broadcast to a batch of coefficients.
    np.testing.assert_allclose(solve_diffusion(a, 1.0)[1], solve_diffusion(a[1], np.ones((12, 12))))
    assert np.all(batch[:, 0, :] == 0) and np.all(batch[:, :, -1] == 0)


@pytest.mark.parametrize(
    ("a", "f", "match"),
    [
        (np.ones((2, 2)), 1.0, "a must have shape"),
        (-np.ones((5, 5)), 1.0, "positive"),
        (np.full((5, 5), np.nan), 1.0, "finite"),
        (np.ones((5, 5)), np.ones((4, 5)), "f must"),
    ],
)
def test_solver_rejects_bad_input(a, f, match):
    with pytest.raises(ValueError, match=match):
        solve_diffusion(a, f)


def test_residual_vanishes_on_the_solver_solution_and_not_on_others():
    rng = np.random.default_rng(1)
    a = np.where(rng.standard_normal((4, 17, 17)) > 0, 12.0, 3.0)
    u = solve_diffusion(a, 1.0)
    h = 1.0 / 16
    r = diffusion_residual(torch.from_numpy(a), torch.from_numpy(u), 1.0, h)
    assert r.shape == (4, 17, 17) and r.dtype == torch.float64
    assert r.abs().max() < 1e-10
    wrong = diffusion_residual(torch.from_numpy(a), torch.from_numpy(1.1 * u), 1.0, h)
    assert wrong[:, 1:-1, 1:-1].abs().mean() > 0.05
    # float32 works, and agrees to single precision.
    r32 = diffusion_residual(torch.from_numpy(a).float(), torch.from_numpy(u).float(), 1.0, h)
    assert r32.dtype == torch.float32 and r32.abs().max() < 1e-3


def test_residual_boundary_is_scaled_dirichlet_mismatch():
    a = torch.full((2, 9, 9), 4.0, dtype=torch.float64)
    u = torch.zeros(2, 9, 9, dtype=torch.float64)
    u[:, 0, 3] = 0.5
    f = torch.zeros(2, 9, 9, dtype=torch.float64)
    r = diffusion_residual(a, u, f, 0.125)
    assert r[0, 0, 3] == pytest.approx(0.5 * 4.0 / 0.125**2)
    # The boundary value enters the interior fluxes too; elsewhere all is zero.
    assert r[0, 1, 3] == pytest.approx(-4.0 * 0.5 / 0.125**2)
    assert r.abs().sum() == pytest.approx(2 * (0.5 + 0.5) * 4.0 / 0.125**2)


def test_residual_matches_the_solver_matrix_and_is_differentiable():
    rng = np.random.default_rng(2)
    a = torch.from_numpy(np.exp(rng.standard_normal((2, 7, 6))))
    f = torch.from_numpy(rng.standard_normal((2, 7, 6)))
    u = torch.from_numpy(solve_diffusion(a.numpy(), f.numpy(), h=0.2)).requires_grad_(True)
    r = diffusion_residual(a, u, f, 0.2)
    assert r.abs().max() < 1e-10
    r.square().sum().backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()
    inputs = (a[:1].clone().requires_grad_(True), u[:1].detach().clone().requires_grad_(True))
    assert torch.autograd.gradcheck(lambda a_, u_: diffusion_residual(a_, u_, f[:1], 0.2), inputs)


def test_residual_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        diffusion_residual(torch.ones(2, 5, 5), torch.ones(2, 5, 6), 1.0, 0.25)
    with pytest.raises(ValueError, match="h must"):
        diffusion_residual(torch.ones(5, 5), torch.ones(5, 5), 1.0, 0.0)


def test_refine_nodes_nests_and_interpolates():
    x, y = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 4), indexing="ij")
    bilinear = 1 + 2 * x - y + 3 * x * y
    fine = refine_nodes(bilinear[None], 3)
    assert fine.shape == (1, 13, 10)
    xf, yf = np.meshgrid(np.linspace(0, 1, 13), np.linspace(0, 1, 10), indexing="ij")
    np.testing.assert_allclose(fine[0], 1 + 2 * xf - yf + 3 * xf * yf, atol=1e-14)
    np.testing.assert_array_equal(fine[0, ::3, ::3], bilinear)
    two_valued = np.where(bilinear > 2, 12.0, 3.0)
    near = refine_nodes(two_valued, 4, "nearest")
    assert set(np.unique(near)) <= {3.0, 12.0}
    np.testing.assert_array_equal(near[::4, ::4], two_valued)
    with pytest.raises(ValueError, match="factor"):
        refine_nodes(bilinear, 0)
    with pytest.raises(ValueError, match="kind"):
        refine_nodes(bilinear, 2, "cubic")


@pytest.mark.parametrize("shape", [(3, 9), (2, 10, 12), (1, 7, 5)])
def test_inverse_laplacian_inverts_the_dirichlet_stencil(shape):
    r = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    u = inverse_laplacian(r)
    if len(shape) == 2:  # 1D fields (B, N)
        padded = torch.nn.functional.pad(u, (1, 1))
        applied = 2 * u - padded[:, :-2] - padded[:, 2:]
    else:  # 2D fields (B, N, M)
        padded = torch.nn.functional.pad(u, (1, 1, 1, 1))
        applied = (
            4 * u
            - padded[..., :-2, 1:-1]
            - padded[..., 2:, 1:-1]
            - padded[..., 1:-1, :-2]
            - padded[..., 1:-1, 2:]
        )
    torch.testing.assert_close(applied, r)
