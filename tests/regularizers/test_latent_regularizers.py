"""Regularizers of latent models: KL annealing, DE-ELBo, Least Volume, Jacobian nuclear norm.

Each is checked on its defining property: zero (or its minimum) on its ideal input, the
direction of its gradient, and the quantity it estimates.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

from workbench import fit
from workbench.methods import METHODS
from workbench.nn.lipschitz import LipschitzMLP
from workbench.problems import PROBLEMS
from workbench.regularizers import (
    DataEmphasizedELBO,
    JacobianNuclearNorm,
    KLAnnealing,
    LeastVolume,
)

SMALL = {"n_train": 40, "n_test": 10, "batch_size": 10}


def _params(model):
    return {k: p for k, p in model.named_parameters()}


class LinearAutoencoder(nn.Module):
    """encode(u) = A u (zero log-variance), decode(z) = B z: Jacobians A and B exactly."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.a, self.b = nn.Parameter(a.clone()), nn.Parameter(b.clone())

    def encode(self, u):
        z = u @ self.a.T
        return z, torch.zeros_like(z)

    def decode(self, z, u=None):
        return z @ self.b.T


# --- KL annealing ----------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_kl_annealing_ramps_from_start_to_the_final_weight(schedule):
    reg = KLAnnealing(weight=0.5, warmup=100, start=0.1, schedule=schedule)
    ramp = [reg.ramp(s, 1000) for s in range(0, 300)]
    assert ramp[0] == pytest.approx(0.1)
    assert ramp[100] == pytest.approx(1.0) and ramp[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in zip(ramp, ramp[1:]))
    assert reg.scales(50, 1000)["kl"] == pytest.approx(0.5 * reg.ramp(50, 1000))


def test_cyclical_annealing_restarts_each_cycle():
    reg = KLAnnealing(schedule="cyclical", cycles=4)
    ramp = [reg.ramp(s, 400) for s in range(400)]
    for start in (0, 100, 200, 300):
        assert ramp[start] == 0.0
        assert ramp[start + 50] == 1.0 and ramp[start + 99] == 1.0
        assert ramp[start + 25] == pytest.approx(0.5)


def test_training_uses_and_logs_the_annealed_kl_weight():
    problem = PROBLEMS["pendulum"]()
    reg = KLAnnealing(warmup=10)
    run = fit(problem, METHODS["vae"](**SMALL), [reg], steps=20, progress=False, eval_every=0)
    history = run.history
    weight = history["weight_kl"].values
    np.testing.assert_allclose(weight, [min(1.0, s / 10) for s in range(20)], atol=1e-12)
    # The logged total is the reconstruction plus the scheduled weight times the KL.
    total = history["reconstruction"].values + weight * history["kl"].values
    np.testing.assert_allclose(history["loss"].values, total, rtol=1e-5)


def test_kl_annealing_refuses_a_method_without_kl():
    with pytest.raises(ValueError, match="'kl' term"):
        fit(PROBLEMS["poisson1d"](), METHODS["pinn"](), [KLAnnealing()], steps=1, progress=False)


# --- DE-ELBo ---------------------------------------------------------------------------------
def test_de_elbo_is_the_kl_at_the_best_prior_variance_over_the_weight_count():
    torch.manual_seed(0)
    params = {"w": torch.randn(30, 20) * 0.3, "b": torch.randn(20) * 0.1}
    reg = DataEmphasizedELBO(posterior_std=0.05)
    term = reg.terms(None, None, {}, params, None)["de_elbo"]
    m = torch.cat([p.reshape(-1) for p in params.values()]).double()
    size = m.numel()

    def kl(variance):
        q = torch.distributions.Normal(m, torch.full_like(m, 0.05))
        p = torch.distributions.Normal(torch.zeros_like(m), torch.full_like(m, math.sqrt(variance)))
        return torch.distributions.kl_divergence(q, p).sum().item()

    best = float(m.pow(2).mean()) + 0.05**2
    assert float(term) == pytest.approx(kl(best) / size, rel=1e-5)
    # The closed-form variance is the KL's minimum: any other prior variance costs more.
    assert kl(best * 1.2) > kl(best) and kl(best / 1.2) > kl(best)


def test_de_elbo_is_zero_at_zero_weights_and_its_gradient_shrinks_them():
    reg = DataEmphasizedELBO()
    assert float(reg.terms(None, None, {}, {"w": torch.zeros(5, 5)}, None)["de_elbo"]) == 0.0
    w = torch.randn(5, 5, generator=torch.Generator().manual_seed(1)).requires_grad_()
    (grad,) = torch.autograd.grad(reg.terms(None, None, {}, {"w": w}, None)["de_elbo"], w)
    ratio = grad / w.detach()
    # Parallel to the weights with one positive factor: descent shrinks them all alike.
    assert torch.all(ratio > 0) and torch.allclose(ratio, ratio.mean())


# --- Least Volume ----------------------------------------------------------------------------
def test_least_volume_is_zero_for_collapsed_codes_and_shrinks_every_spread():
    reg = LeastVolume(eta=1.0)
    model = LinearAutoencoder(torch.zeros(3, 5), torch.zeros(5, 3))
    u = torch.randn(16, 5, generator=torch.Generator().manual_seed(0))
    volume = reg.terms(model, None, {"u": u}, _params(model), None)["least_volume"]
    assert float(volume.detach()) == 0.0

    a = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))
    model = LinearAutoencoder(a, torch.zeros(5, 3))
    params = {k: p.detach().requires_grad_() for k, p in model.named_parameters()}
    volume = reg.terms(model, None, {"u": u}, params, None)["least_volume"]
    (grad,) = torch.autograd.grad(volume, params["a"])
    spreads = (u @ a.T).std(0)
    stepped = (u @ (a - 1e-3 * grad).T).std(0)
    assert torch.all(stepped < spreads)
    # Geometric mean: a dim with less spread is pushed harder, relative to its size.
    relative = ((spreads - stepped) / spreads).numpy()
    order = np.argsort(spreads.numpy())
    assert relative[order[0]] > relative[order[-1]]


def test_lipschitz_decoder_never_stretches_its_input():
    net = LipschitzMLP(4, 30, 32, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for layer in net.layers:  # large weights: the normalisation must still bound it
            layer.weight.mul_(50)
        a, b = torch.randn(2, 200, 4, generator=torch.Generator().manual_seed(1))
        ratio = (net(a) - net(b)).norm(dim=1) / (a - b).norm(dim=1)
    assert float(ratio.max()) <= 1.0 + 1e-6


def test_least_volume_refuses_a_decoder_without_a_lipschitz_bound():
    problem = PROBLEMS["pendulum"]()
    with pytest.raises(ValueError, match="lipschitz=True"):
        fit(problem, METHODS["vae"](**SMALL), [LeastVolume()], steps=1, progress=False)
    with pytest.raises(ValueError, match="latent generative method"):
        fit(PROBLEMS["poisson1d"](), METHODS["pinn"](), [LeastVolume()], steps=1, progress=False)


def test_least_volume_collapses_unneeded_latent_dims():
    """Data with one factor (the initial angle) in 8 latent dims: after training with the
    volume penalty one dim carries the spread, without it all eight do."""
    problem = PROBLEMS["pendulum"](
        omega_min=2.0, omega_max=2.0, gamma_min=0.0, gamma_max=0.0, noise=0.0
    )
    method = METHODS["vae"](n_train=200, n_test=50, batch_size=50, latent=8, lipschitz=True)
    runs = {
        weight: fit(
            problem,
            method,
            [LeastVolume(weight=weight)],
            weights={"kl": 0.0},
            steps=600,
            lr=3e-3,
            progress=False,
            eval_every=0,
        )
        for weight in (0.0, 30.0)
    }
    spreads = {
        w: np.sort(r.tree["latent"]["z_mean"].std("sample").values)[::-1] for w, r in runs.items()
    }
    # Volume: how many dims hold more than 1% of the largest spread.
    active = {w: int((s > 0.01 * s[0]).sum()) for w, s in spreads.items()}
    assert active[30.0] < active[0.0]
    assert active[30.0] == 1


# --- Jacobian nuclear norm -------------------------------------------------------------------
def _nuclear_term(model, u, samples, seed=0):
    reg = JacobianNuclearNorm(samples=samples, noise=1e-3)
    batch = {"u": u, "noise": torch.zeros(len(u), model.a.shape[0], dtype=u.dtype)}
    draws = reg.draws(batch, torch.Generator().manual_seed(seed))
    batch.update({k: v.to(u.dtype) for k, v in draws.items()})
    return reg.terms(model, None, batch, _params(model), None)["jacobian_nuclear"].detach()


def test_jacobian_nuclear_estimator_is_zero_for_a_constant_map():
    model = LinearAutoencoder(torch.zeros(2, 6), torch.zeros(6, 2))
    u = torch.randn(8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model.double()
    assert float(_nuclear_term(model, u, samples=4)) == 0.0


def test_jacobian_nuclear_term_reaches_the_nuclear_norm_at_a_balanced_factorisation():
    generator = torch.Generator().manual_seed(3)
    product = torch.randn(6, 6, dtype=torch.float64, generator=generator)
    left, singular, right_t = torch.linalg.svd(product)
    rank = 6
    a = singular.sqrt()[:, None] * right_t[:rank]  # h: data -> latent
    b = left[:, :rank] * singular.sqrt()  # g: latent -> data, so b @ a = product
    u = torch.randn(4, 6, dtype=torch.float64, generator=generator)
    balanced = LinearAutoencoder(a, b).double()
    estimate = float(_nuclear_term(balanced, u, samples=64))
    nuclear = float(singular.sum())
    assert estimate == pytest.approx(nuclear, rel=0.1)
    # Same map f = g o h, unbalanced halves: the penalty is larger than the nuclear norm.
    unbalanced = LinearAutoencoder(2 * a, b / 2).double()
    assert float(_nuclear_term(unbalanced, u, samples=64)) > 1.5 * nuclear


def test_jacobian_nuclear_noise_is_seeded_and_training_reproducible():
    problem = PROBLEMS["pendulum"]()
    runs = [
        fit(
            problem,
            METHODS["vae"](**SMALL),
            [JacobianNuclearNorm()],
            steps=5,
            progress=False,
            eval_every=0,
        )
        for _ in range(2)
    ]
    a, b = (r.history["jacobian_nuclear"].values for r in runs)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="latent generative method"):
        fit(
            PROBLEMS["poisson1d"](),
            METHODS["pinn"](),
            [JacobianNuclearNorm()],
            steps=1,
            progress=False,
        )
