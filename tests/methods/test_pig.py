"""Physics-Informed Gaussians and the wavelet activation: derivatives, knobs, learning."""

import pytest
import torch

from workbench.methods import PIG, PINN
from workbench.problems import PROBLEMS
from workbench.train import fit


def _field_parts(method, problem, dtype=torch.float64):
    model = method.build(problem, torch.Generator().manual_seed(0)).to(dtype)
    points = problem.sample_interior(40, torch.Generator().manual_seed(1)).to(dtype)
    forward = method.field(model, problem, points, problem.derivatives)
    method.derivatives = "autograd"
    autograd = method.field(model, problem, points, problem.derivatives)
    return forward, autograd


@pytest.mark.parametrize("problem_name", ["helmholtz2d", "allen_cahn1d", "poisson1d"])
def test_gaussian_feature_derivatives_match_autograd(problem_name):
    problem = PROBLEMS[problem_name]()
    forward, autograd = _field_parts(PIG(gaussians=16, channels=3), problem)
    for a, b in zip(forward.parts, autograd.parts):
        assert torch.allclose(a, b.detach(), rtol=1e-9, atol=1e-9)


def test_wavelet_activation_derivatives_match_autograd():
    problem = PROBLEMS["burgers1d"]()
    method = PINN(activation="wavelet", width=8, depth=2)
    forward, autograd = _field_parts(method, problem)
    for a, b in zip(forward.parts, autograd.parts):
        assert torch.allclose(a, b.detach(), rtol=1e-9, atol=1e-9)


def test_wavelet_coefficients_are_trained():
    method = PINN(activation="wavelet", width=8, depth=2, n_interior=64)
    run = fit(PROBLEMS["poisson1d"](), method, steps=20, eval_every=0, progress=False)
    waves = [p for name, p in run.model.named_parameters() if "waves" in name]
    assert len(waves) == 2
    assert any(not torch.allclose(w, torch.ones(2)) for w in waves)


def test_frozen_means_stay_put_and_the_rest_trains():
    problem = PROBLEMS["poisson2d"]()
    method = PIG(gaussians=16, n_interior=64, n_boundary=16, freeze_means=True)
    before = method.build(problem, torch.Generator().manual_seed(0))
    run = fit(problem, method, steps=20, eval_every=0, progress=False)
    after = run.model.features
    assert torch.equal(after.means, before.features.means)
    assert not torch.equal(after.sigma, before.features.sigma)


def test_anchors_are_in_problem_coordinates():
    problem = PROBLEMS["convection1d"]()  # x in [0, 2 pi], t in [0, 1]
    method = PIG(gaussians=10, channels=2)
    model = method.build(problem, torch.Generator().manual_seed(0))
    anchors = method.anchors(model, problem)
    assert anchors.sizes["gaussian"] == 20
    assert set(anchors.data_vars) >= {"gaussian_x", "gaussian_t", "gaussian_weight"}
    assert 0 <= anchors.gaussian_x.min() and anchors.gaussian_x.max() <= 2 * torch.pi
    assert anchors.gaussian_sigma_x.values == pytest.approx(0.1 * torch.pi)  # 0.1 of a half-span
    assert anchors.gaussian_sigma_t.values == pytest.approx(0.05)


def test_pig_learns_poisson2d():
    problem = PROBLEMS["poisson2d"]()
    method = PIG(gaussians=64, n_interior=512, n_boundary=128, sampler="resample")
    run = fit(problem, method, steps=300, lr=1e-2, eval_every=100, progress=False)
    first = run.history["l2re"].dropna("step").values[0]
    assert run.l2re < 0.2 < first
    assert run.points.sizes["gaussian"] == 64 * 4
