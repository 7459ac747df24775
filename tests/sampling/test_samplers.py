"""Collocation samplers and causal weighting: each does what its paper says."""

import pytest
import torch

from workbench.methods import PINN
from workbench.problems import PROBLEMS
from workbench.sampling import R3, RARD, CausalR3, Fixed, Resample
from workbench.train import fit


def _draw(generator):
    return lambda n: torch.rand(n, 2, generator=generator)


def test_r3_retains_exactly_the_points_above_the_mean_residual():
    generator = torch.Generator().manual_seed(0)
    points = torch.rand(500, 2, generator=generator)
    residual = points[:, 0] ** 3  # high on the right
    sampler = R3(_draw(generator))
    new, kept = sampler.update(points, lambda p: p[:, 0] ** 3)
    above = points[residual > residual.mean()]
    assert len(new) == len(points)
    assert torch.equal(new[kept == 1], above)
    assert int(kept.sum()) == len(above)
    # The released points are fresh draws, not the ones with low residual.
    low = points[residual <= residual.mean()]
    assert not any(torch.equal(row, low[0]) for row in new)


def test_causal_r3_gates_in_time_and_moves_the_gate_when_fitted():
    generator = torch.Generator().manual_seed(0)
    sampler = CausalR3(_draw(generator), time_column=1, time_span=(0.0, 1.0))
    points = torch.rand(400, 2, generator=generator)
    beta = sampler.beta
    new, kept = sampler.update(points, lambda p: torch.ones(len(p)))
    # With a flat residual the gated fitness favours early times.
    assert points[kept[: int(kept.sum())].bool().nonzero()[:, 0]][:, 1].max() <= 1.0
    assert new[kept == 1][:, 1].mean() < 0.3
    assert sampler.beta > beta  # the gate moved
    big = CausalR3(_draw(generator), time_column=1)
    big.update(points, lambda p: torch.full((len(p),), 1e4))
    assert big.beta == pytest.approx(-0.5)  # an unfitted residual holds the gate


def test_rar_d_adds_points_where_the_residual_is():
    generator = torch.Generator().manual_seed(0)
    sampler = RARD(_draw(generator), add=50, pool=2000, generator=generator)
    points = torch.rand(100, 2, generator=generator)
    new, kept = sampler.update(points, lambda p: (p[:, 0] > 0.8).double())
    assert len(new) == 150 and int(kept.sum()) == 100
    assert torch.equal(new[:100], points)
    assert (new[100:, 0] > 0.8).all()


def test_fixed_never_moves_and_resample_replaces_all():
    generator = torch.Generator().manual_seed(0)
    points = torch.rand(10, 2)
    assert not Fixed(_draw(generator)).moves
    new, kept = Resample(_draw(generator)).update(points, None)
    assert new.shape == points.shape and not torch.equal(new, points) and kept.sum() == 0


@pytest.mark.parametrize("sampler", ["fixed", "resample", "r3", "causal_r3", "rar_d"])
def test_samplers_train_and_save_the_kept_mask(sampler):
    method = PINN(width=8, depth=2, n_interior=64, sampler=sampler, resample_every=2, rar_add=8)
    run = fit(PROBLEMS["heat1d"](), method, steps=10, eval_every=0, progress=False)
    points = run.points
    assert run.status == "done"
    assert set(points["interior_retained"].values) <= {0.0, 1.0}
    expected = 64 + (8 * 5 if sampler == "rar_d" else 0)  # updates after steps 2, 4, .., 10
    assert points.sizes["interior"] == expected


def test_causal_samplers_and_weighting_need_time():
    problem = PROBLEMS["poisson2d"]()
    with pytest.raises(ValueError, match="sampler"):
        PINN(sampler="causal_r3").check(problem)
    with pytest.raises(ValueError, match="causal_eps"):
        PINN(causal_eps=1.0).check(problem)


def test_causal_weights_follow_the_earlier_chunks_residual():
    problem = PROBLEMS["heat1d"]()
    method = PINN(causal_eps=2.0, causal_chunks=4)
    t = torch.tensor([0.1, 0.3, 0.6, 0.9])
    points = torch.stack([torch.zeros(4), t], dim=1)
    # One residual column per equation (heat1d has one).
    r = torch.tensor([[1.0], [2.0], [0.0], [3.0]], requires_grad=True)
    term = method._residual_term(problem, points, r)
    squared = torch.tensor([1.0, 4.0, 0.0, 9.0])
    weights = torch.exp(-2.0 * torch.tensor([0.0, 1.0, 5.0, 5.0]))
    assert float(term.detach()) == pytest.approx(float((weights * squared).mean()))
    (grad,) = torch.autograd.grad(term, r)
    # The weights are constants: d term / d r_i = w_i * 2 r_i / 4.
    assert torch.allclose(grad[:, 0], weights * 2 * r.detach()[:, 0] / 4)
    method.causal_eps = 0.0
    assert float(method._residual_term(problem, points, r).detach()) == pytest.approx(3.5)
