"""Generative latent methods (vae, phys_vae): training, latent groups, traversal, sampling."""

import math

import numpy as np
import pytest
import torch
from latent_checks import assert_traverse_sets_only

from workbench.methods import METHODS, LatentModel
from workbench.problems import PROBLEMS
from workbench.results import Run
from workbench.train import fit

#: Generative methods that model a family's solutions by default, trained on the pendulum
#: here (vano models input functions; tests/methods/test_vano.py).
GENERATIVE = sorted(
    m for m, cls in METHODS.items() if issubclass(cls, LatentModel) and cls.field == "solution"
)
SMALL = {"n_train": 60, "n_test": 12, "batch_size": 20}
SIZES = {"vae": {"width": 32, "latent": 3}, "phys_vae": {"width": 16, "depth": 1}}


def small(name, **knobs):
    return METHODS[name](**SMALL, **SIZES[name], **knobs)


@pytest.fixture(scope="module")
def runs():
    problem = PROBLEMS["pendulum"]()
    return {
        name: fit(problem, small(name), steps=40, lr=3e-3, eval_every=10, progress=False)
        for name in GENERATIVE
    }


@pytest.mark.parametrize("name", GENERATIVE)
def test_training_lowers_the_loss_and_fills_latent_groups(runs, name):
    run = runs[name]
    problem = run.problem
    assert run.status == "done"
    loss = run.history["loss"].values
    assert all(math.isfinite(v) for v in loss)
    assert loss[-5:].mean() < loss[:5].mean()
    latent = run.tree["latent"].to_dataset()
    names = run.method.latent_names(problem)
    assert list(latent["latent"].values) == names
    assert latent["z_mean"].shape == (SMALL["n_test"], len(names))
    assert np.all(latent["z_std"].values > 0)
    for parameter in problem.family_parameters:  # the true factors travel with the codes
        assert latent[parameter].dims == ("sample",)
    assert latent["traversal"].dims == ("latent", "offset", "t")
    samples = run.tree["samples"].to_dataset()
    assert samples["u"].dims == ("sample", "t") and samples.sizes["sample"] == 16
    assert run.fields["rel_l2"].mean() >= 0


def test_phys_vae_logs_its_regularizers_with_default_weights(runs):
    run = runs["phys_vae"]
    for term in ("least_action", "unmixing", "augmentation"):
        assert np.isfinite(run.history[term].values).all()
    assert list(run.method.latent_names(run.problem))[0] == "omega"


@pytest.mark.parametrize("name", GENERATIVE)
def test_traverse_changes_only_the_chosen_dim(runs, name):
    run = runs[name]
    method, model, problem = run.method, run.model, run.problem
    last = len(method.latent_names(problem)) - 1
    out = assert_traverse_sets_only(method, model, problem, last, [-1.0, 0.0, 0.5, 2.0], 3)
    assert out["u"].dims == ("value", "t")
    with pytest.raises(ValueError, match="dim must be one of"):
        method.traverse(model, problem, "nope", [0.0])


@pytest.mark.parametrize("name", GENERATIVE)
def test_sampling_is_seeded(runs, name):
    run = runs[name]
    a, b, c = (run.method.sample(run.model, run.problem, 5, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a["u"].values, b["u"].values)
    assert not np.allclose(a["z"].values, c["z"].values)
    with pytest.raises(ValueError, match="n must be"):
        run.method.sample(run.model, run.problem, 0)


@pytest.mark.parametrize("name", GENERATIVE)
def test_save_load_round_trip(runs, name, tmp_path):
    run = runs[name]
    loaded = Run.load(run.save(tmp_path / name))
    u = run.method.split(run.problem)["test"]["u"].values[:4]
    z, _ = run.method.encode(run.model, u)
    np.testing.assert_allclose(
        loaded.method.decode(loaded.model, z, u), run.method.decode(run.model, z, u), rtol=1e-6
    )


def test_phys_vae_physics_model_matches_undamped_data():
    problem = PROBLEMS["pendulum"](gamma_min=0.0, gamma_max=0.0)
    data = problem.dataset(16, seed=2, cache=False, progress=False)
    u = torch.as_tensor(data["u"].values)
    omega = torch.as_tensor(data["omega"].values)[:, None]
    assert float((problem.physics_model(omega, u) - u).abs().max()) < 1e-4


def test_bad_combinations_raise_before_training():
    with pytest.raises(ValueError, match="does not support"):
        fit(PROBLEMS["darcy2d"](), METHODS["phys_vae"](), steps=1, progress=False)
    with pytest.raises(ValueError, match="does not support"):
        fit(PROBLEMS["heat1d"](), METHODS["vae"](), steps=1, progress=False)
    with pytest.raises(ValueError, match="no physics model"):
        PROBLEMS["darcy2d"]().physics_model(torch.zeros(1, 1), torch.zeros(1, 4, 4))


def test_augmentation_draws_cover_the_widened_range():
    problem = PROBLEMS["pendulum"]()
    lo, hi = problem.family_ranges()["omega"]
    for widen in (1.0, 2.0):
        method = METHODS["phys_vae"](augment_widen=widen)
        draws = method.extra(problem, 4000, torch.Generator().manual_seed(0))["physics_draw"]
        assert draws.min() >= lo / widen and draws.max() <= hi * widen
        assert draws.max() > hi * widen - 0.05 * (hi * widen - lo / widen)


def test_latent_group_holds_out_of_range_reconstructions(runs):
    latent = runs["vae"].tree["latent"].to_dataset()
    lo, hi = latent.attrs["range_omega"]
    assert latent.attrs["ood_parameter"] == "omega"
    assert latent.attrs["ood_range"] == pytest.approx([hi, 1.5 * hi])
    omega = latent["ood_omega"].values
    assert omega.min() >= hi and omega.max() <= 1.5 * hi
    assert latent["ood_recon"].shape == latent["ood_u"].shape == (SMALL["n_test"], 50)
    assert latent.attrs["ood_l2re"] == pytest.approx(float(latent["ood_rel_l2"].mean()))
    # The traversal is in the live snapshot too.
    assert "traversal" in runs["vae"].fields


def test_field_input_models_the_family_input_functions():
    problem = PROBLEMS["burgers1d"]()
    method = METHODS["vae"](**SMALL, **SIZES["vae"], field="input", resolution=32)
    run = fit(problem, method, steps=5, progress=False, eval_every=0)
    test = method.split(problem)["test"]
    np.testing.assert_array_equal(run.fields["u_ref"].values, test["u0"].values[:8])
    assert method.out_of_range(problem) is None
    assert not any(v.startswith("ood_") for v in run.tree["latent"].to_dataset().data_vars)
    with pytest.raises(ValueError, match="field='input'"):
        fit(PROBLEMS["pendulum"](), METHODS["vae"](field="input"), steps=1, progress=False)


@pytest.mark.parametrize("dynamics", [False, True])
def test_augmentation_encodes_physics_and_optionally_the_models_dynamics(dynamics):
    problem = PROBLEMS["pendulum"]()
    method = small("phys_vae", augment_dynamics=dynamics)
    generator = torch.Generator().manual_seed(0)
    model = method.build(problem, generator).float()
    batch = {k: v.float() for k, v in next(method.batches(problem, generator)).items()}
    sizes = []
    original = model.encode

    def recording(u):
        sizes.append(len(u))
        return original(u)

    model.encode = recording
    terms = method.loss(model, problem, batch)
    size = SMALL["batch_size"]
    # The data, then the augmentation signals: physics only, plus the model's dynamics.
    assert sizes == [size, size * (2 if dynamics else 1)]
    assert torch.isfinite(terms["augmentation"])
