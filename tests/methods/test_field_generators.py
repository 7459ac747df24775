"""Flow matching, PBFM and diffusion: seeded samplers, guidance, physics terms, inverse problems."""

import numpy as np
import pytest
import torch
from torch import nn

from workbench import Run, fit
from workbench.evaluation import energy_distance
from workbench.methods import METHODS, FieldGenerator, FieldModel
from workbench.numerics.finite_differences import solve_diffusion
from workbench.problems import PROBLEMS

GENERATORS = sorted(m for m, cls in METHODS.items() if issubclass(cls, FieldGenerator))
SMALL = {"resolution": 16, "n_train": 40, "n_test": 10, "batch_size": 8, "n_samples": 8}


@pytest.fixture(scope="module")
def darcy():
    return PROBLEMS["darcy2d"]()


def small(name, **knobs):
    return METHODS[name](
        **{**SMALL, "posterior_samples": 4, "sample_steps": 6, "guided_steps": 6, **knobs}
    )


@pytest.fixture(scope="module")
def trained(darcy):
    """A briefly trained model per method (enough to be a non-trivial network)."""
    runs = {}
    for name in GENERATORS:
        runs[name] = fit(darcy, small(name), steps=8, eval_every=0, progress=False, seed=0)
    return runs


def exact_fields(problem, n=3, resolution=16, seed=0):
    """Coefficients of the family with solutions of the very stencil the residual applies."""
    a = problem.family_inputs(n, resolution, np.random.default_rng(seed))
    u = solve_diffusion(a, 1.0)
    return torch.as_tensor(np.stack([a, u], axis=1))


@pytest.mark.parametrize("name", GENERATORS)
def test_training_runs_and_fills_the_groups(trained, name):
    run = trained[name]
    assert run.status == "done"
    samples, posterior = run.tree["samples"].ds, run.tree["posterior"].ds
    assert set(samples.data_vars) == {"a", "u", "residual"}
    assert samples["u"].dims == ("sample", "x", "y") and samples.sizes["sample"] == 8
    for key in ("residual_mae", "distance", "l2re", "data_residual_mae"):
        assert np.isfinite(samples.attrs[key])
    for c in ("a", "u"):
        for suffix in ("true", "mean", "std", "mask"):
            assert posterior[f"{c}_{suffix}"].dims == ("x", "y")
        assert 0.0 <= posterior.attrs[f"coverage_{c}"] <= 1.0
    # 3% of 16 x 16 = 8 observed values of u, none of a.
    assert float(posterior["u_mask"].sum()) == 8 and float(posterior["a_mask"].sum()) == 0


@pytest.mark.parametrize("name", GENERATORS)
def test_samplers_are_seeded_and_reproducible(trained, darcy, name):
    run = trained[name]
    method, model = run.method, run.model
    first = method.generate(model, darcy, 3, seed=5)
    assert torch.equal(first, method.generate(model, darcy, 3, seed=5))
    assert not torch.allclose(first, method.generate(model, darcy, 3, seed=6))


def test_stochastic_sampler_is_seeded(trained, darcy):
    run = trained["flow_matching"]
    method = small("flow_matching", stochastic=0.5)
    a = method.generate(run.model, darcy, 2, seed=1)
    assert torch.equal(a, method.generate(run.model, darcy, 2, seed=1))
    assert not torch.allclose(a, run.method.generate(run.model, darcy, 2, seed=1))


@pytest.mark.parametrize("name", GENERATORS)
def test_zero_guidance_is_the_unguided_sampler(trained, darcy, name):
    run = trained[name]
    method, model = run.method, run.model
    mask = torch.as_tensor(method.observation_mask(darcy, 0.1, seed=0))
    observations = {1: (mask, torch.ones(16, 16, dtype=torch.float64))}
    plain = method.generate(model, darcy, 2, seed=3)
    guided = method.generate(model, darcy, 2, 3, observations, guidance_obs=0, guidance_pde=0)
    assert torch.equal(plain, guided)
    pulled = method.generate(model, darcy, 2, 3, observations, guidance_obs=1.0, guidance_pde=0)
    assert not torch.allclose(plain, pulled)


def test_observation_guidance_moves_samples_to_the_observations(trained, darcy):
    run = trained["diffusion"]
    method, model = run.method, run.model
    truth = method.split(darcy)["test"].isel(sample=0).drop_vars("sample")[["a", "u"]]
    kwargs = {"observed": "solution", "fraction": 0.1, "n": 4, "seed": 0, "guidance_pde": 0.0}
    free = method.posterior(model, darcy, truth, guidance_obs=0.0, **kwargs)
    pulled = method.posterior(model, darcy, truth, guidance_obs=10.0, **kwargs)
    mask = free["u_mask"].values > 0

    def misfit(ds):
        return float(np.abs(ds["u"].values[:, mask] - truth["u"].values[mask]).mean())

    assert misfit(pulled) < 0.5 * misfit(free)


def test_residual_is_zero_on_exact_solutions(darcy):
    method = small("pbfm")
    model = method.build(darcy, torch.Generator().manual_seed(0))
    fields = exact_fields(darcy)
    r = method.residual(model, darcy, model.standardise(fields))
    assert r.abs().max() < 1e-9
    # ... and not on a perturbed field.
    noisy = fields.clone()
    noisy[:, 1] *= 1.01
    assert method.residual(model, darcy, model.standardise(noisy)).abs().mean() > 1e-3


class ToTarget(nn.Module):
    """A velocity field that carries every point straight to the fields ``target`` at t = 1."""

    def __init__(self, target):
        super().__init__()
        self.target = target
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x, t):
        return (self.target - x) / (1.0 - t).reshape(-1, 1, 1, 1) + 0 * self.dummy


class Denoiser(nn.Module):
    """An EDM network whose preconditioned denoiser returns ``target`` exactly."""

    def __init__(self, target):
        super().__init__()
        self.target = target
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x_in, c_noise):
        s = (4 * c_noise).exp().reshape(-1, 1, 1, 1)
        total = s * s + 1
        x = x_in * total.sqrt()
        return (self.target - x / total) / (s / total.sqrt()) + 0 * self.dummy


def _batch(fields, levels):
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(fields.shape, generator=generator, dtype=fields.dtype)
    return {"fields": fields, "noise": noise, "level": levels}


def test_pbfm_residual_term_is_zero_on_exact_solutions(darcy):
    method = small("pbfm", unroll=3)
    fields = exact_fields(darcy)
    model = method.build(darcy, torch.Generator().manual_seed(0))
    model.network = ToTarget(model.standardise(fields))
    levels = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    terms = method.loss(model, darcy, _batch(fields, levels))
    assert terms["residual"] < 1e-9
    assert terms["flow"] > 0


def test_pidm_residual_term_is_zero_on_exact_solutions(darcy):
    method = small("diffusion", pidm=True)
    fields = exact_fields(darcy)
    model = method.build(darcy, torch.Generator().manual_seed(0))
    model.network = Denoiser(model.standardise(fields))
    levels = torch.tensor([0.05, 1.0, 20.0], dtype=torch.float64)
    terms = method.loss(model, darcy, _batch(fields, levels))
    assert terms["residual"] < 1e-9
    assert terms["denoise"] < 1e-9
    assert method.term_names(darcy) == ["denoise", "residual"]
    assert small("diffusion").term_names(darcy) == ["denoise"]


def test_pbfm_combines_with_config_by_default(darcy):
    run = fit(darcy, small("pbfm"), steps=3, eval_every=0, progress=False)
    assert "grad_cosine" in run.history
    summed = fit(darcy, small("pbfm", combine="sum"), steps=3, eval_every=0, progress=False)
    assert "grad_cosine" not in summed.history


def test_flow_matching_moves_towards_the_data(darcy):
    method = METHODS["flow_matching"](
        resolution=16, n_train=200, n_test=50, batch_size=16, n_samples=50, sample_steps=10
    )
    run = fit(darcy, method, steps=150, lr=3e-3, eval_every=150, progress=False, seed=0)
    untrained = method.build(darcy, torch.Generator().manual_seed(0))
    assert run.l2re < 0.5 * method.error(untrained, darcy)


def test_save_load_round_trip(trained, darcy, tmp_path):
    run = trained["pbfm"]
    loaded = Run.load(run.save(tmp_path / "pbfm"))
    assert isinstance(loaded.model, FieldModel)
    a = run.method.generate(run.model, darcy, 2, seed=0)
    b = loaded.method.generate(loaded.model, loaded.problem, 2, seed=0)
    assert torch.equal(a, b)


def test_energy_distance():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 5)), rng.normal(size=(200, 5))
    same, _ = energy_distance(x, y)
    shifted, normalised = energy_distance(x, y + 1.0)
    assert abs(same) < 0.05 < shifted and 0 < normalised < 1
    with pytest.raises(ValueError, match="same size"):
        energy_distance(x, y[:, :3])


def test_bad_inputs_are_refused(darcy, trained):
    with pytest.raises(ValueError, match="function family"):
        fit(PROBLEMS["pendulum"](), small("flow_matching"), steps=1, progress=False)
    with pytest.raises(ValueError, match="residual"):
        fit(PROBLEMS["burgers1d"](), small("pbfm"), steps=1, progress=False)
    with pytest.raises(ValueError, match="pidm"):
        fit(PROBLEMS["burgers1d"](), small("diffusion", pidm=True), steps=1, progress=False)
    with pytest.raises(ValueError, match="sigma_min_sample"):
        fit(darcy, small("diffusion", sigma_max=1.0, sigma_min_sample=1.0), steps=1)
    run = trained["diffusion"]
    truth = run.method.split(darcy)["test"].isel(sample=0).drop_vars("sample")
    with pytest.raises(ValueError, match="observed"):
        run.method.posterior(run.model, darcy, truth, observed="a")
    with pytest.raises(ValueError, match="truth"):
        run.method.posterior(run.model, darcy, truth[["a"]])
    with pytest.raises(ValueError, match="fraction"):
        run.method.observation_mask(darcy, 0.0)
    with pytest.raises(ValueError, match="n must"):
        run.method.generate(run.model, darcy, 0)


def test_one_dimensional_family_without_residual():
    problem = PROBLEMS["burgers1d"]()
    method = METHODS["diffusion"](
        resolution=32,
        n_train=20,
        n_test=5,
        batch_size=5,
        n_samples=4,
        posterior_samples=3,
        sample_steps=4,
    )
    run = fit(problem, method, steps=3, eval_every=0, progress=False)
    samples = run.tree["samples"].ds
    assert set(samples.data_vars) == {"u0", "u"} and samples["u"].dims == ("sample", "x")
    assert "residual_mae" not in samples.attrs
