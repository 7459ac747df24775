"""VANO: training, resolution independence, exact periodicity, a linear decoder, 2D families,
save/load, traversal and seeded sampling."""

import numpy as np
import pytest
import torch
from latent_checks import assert_traverse_sets_only

from workbench.methods import METHODS, VANOModel
from workbench.problems import PROBLEMS
from workbench.results import Run
from workbench.train import fit

SMALL = {"n_train": 60, "n_test": 10, "batch_size": 20, "latent": 6, "width": 32, "depth": 2}


def small(**knobs):
    return METHODS["vano"](**{**SMALL, "modes": 8, **knobs})


@pytest.fixture(scope="module")
def run():
    problem = PROBLEMS["burgers1d"]()
    return fit(problem, small(), steps=150, lr=3e-3, eval_every=50, seed=1, progress=False)


@pytest.fixture(scope="module")
def darcy():
    problem = PROBLEMS["darcy2d"]()
    return fit(problem, small(resolution=16), steps=30, lr=3e-3, eval_every=0, progress=False)


def test_defaults_model_the_input_field_with_a_linear_decoder():
    method = METHODS["vano"]()
    assert method.field == "input" and method.decoder == "linear"
    assert method.field_name(PROBLEMS["burgers1d"]()) == "u0"
    assert method.default_weights(PROBLEMS["burgers1d"]())["kl"] < 1.0


def test_training_lowers_the_reconstruction_error(run):
    method, problem = run.method, run.problem
    untrained = method.build(problem, torch.Generator().manual_seed(1))
    before = method.error(untrained, problem)
    after = method.error(run.model, problem)
    assert run.status == "done"
    assert after < 0.7 * before
    assert np.isfinite(run.history["kl"].values).all()
    assert run.tree["latent"]["z_mean"].shape == (SMALL["n_test"], SMALL["latent"])
    assert run.tree["samples"]["u"].dims == ("sample", "x")


def test_reconstructs_at_twice_the_resolution(run):
    method, problem = run.method, run.problem
    coarse = method.reconstructions(run.model, problem, method.split(problem)["test"])
    data = problem.dataset(SMALL["n_test"], 256, seed=method.data_seed, progress=False)
    fine = method.reconstructions(run.model, problem, data)
    assert fine["u"].shape == (SMALL["n_test"], 256)
    np.testing.assert_array_equal(fine["x"].values, data["x"].values)
    assert abs(fine.attrs["l2re"] - coarse.attrs["l2re"]) < 0.1 * coarse.attrs["l2re"] + 0.01


def test_query_grid_is_the_dataset_grid(run, darcy):
    for r in (run, darcy):
        model, problem = r.model, r.problem
        for size in (16, 32):
            shape = (size,) * len(problem.family_dims)
            points = model.grid_points(shape, torch.zeros((), dtype=torch.float64)).numpy()
            grid = problem.family_grid(size)
            mesh = np.meshgrid(*(grid[d] for d in problem.family_dims), indexing="ij")
            expected = np.stack([m.reshape(-1) for m in mesh], axis=1)
            np.testing.assert_allclose(points, expected, atol=1e-6)


@pytest.mark.parametrize("decoder", ["linear", "nonlinear"])
def test_decoded_functions_are_periodic(decoder):
    model = VANOModel(
        (32,), (True,), [(-1.0, 1.0)], 4, 16, 2, 5, decoder, torch.Generator().manual_seed(0)
    )
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    ends = model.decode_at(z, torch.tensor([[-1.0], [1.0], [-0.3], [1.7]]))
    assert torch.equal(ends[:, 0], ends[:, 1])  # x = lo and its periodic image x = hi
    torch.testing.assert_close(ends[:, 2], ends[:, 3])
    # On a fine grid the jump from the last node back to x = lo is an ordinary step.
    fine = model.decode(z, torch.zeros(3, 4096))
    wrap = (fine[:, 0] - fine[:, -1]).abs()
    steps = (fine[:, 1:] - fine[:, :-1]).abs().amax(1)
    assert torch.all(wrap <= 1.5 * steps)


def test_linear_decoder_is_affine_in_the_latent(run):
    model = run.model
    generator = torch.Generator().manual_seed(2)
    z1, z2 = (torch.randn(4, SMALL["latent"], generator=generator) for _ in range(2))
    grid = torch.zeros(4, 50)
    with torch.no_grad():
        bias = model.decode(torch.zeros_like(z1), grid)
        mixed = model.decode(2.0 * z1 - 0.5 * z2, grid) - bias
        parts = 2.0 * (model.decode(z1, grid) - bias) - 0.5 * (model.decode(z2, grid) - bias)
    torch.testing.assert_close(mixed, parts, atol=1e-4, rtol=1e-4)


def test_two_dimensional_input_family(darcy):
    method, problem = darcy.method, darcy.problem
    assert darcy.status == "done" and method.field_name(problem) == "a"
    assert darcy.tree["samples"]["u"].dims == ("sample", "x", "y")
    data = problem.dataset(4, 32, seed=method.data_seed, progress=False)
    fine = method.reconstructions(darcy.model, problem, data)
    assert fine["u"].shape == (4, 32, 32) and np.isfinite(fine.attrs["l2re"])


def test_parameter_families_need_the_solution_field():
    problem = PROBLEMS["pendulum"]()
    with pytest.raises(ValueError, match="field='input'"):
        fit(problem, small(), steps=1, progress=False)
    out = fit(problem, small(field="solution"), steps=5, eval_every=0, progress=False)
    assert out.status == "done" and out.tree["latent"]["traversal"].dims[-1] == "t"


def test_save_load_round_trip(run, tmp_path):
    loaded = Run.load(run.save(tmp_path / "vano"))
    u = run.method.split(run.problem)["test"]["u0"].values[:4]
    z, _ = run.method.encode(run.model, u)
    np.testing.assert_allclose(loaded.method.encode(loaded.model, u)[0], z, rtol=1e-6)
    fine = np.zeros((4, 256))
    np.testing.assert_allclose(
        loaded.method.decode(loaded.model, z, fine), run.method.decode(run.model, z, fine)
    )


def test_traverse_changes_only_the_chosen_dim(run):
    out = assert_traverse_sets_only(run.method, run.model, run.problem, 2, [-1.0, 0.0, 2.0], 1)
    assert out["u"].dims == ("value", "x")


def test_sampling_is_seeded(run):
    a, b, c = (run.method.sample(run.model, run.problem, 5, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a["u"].values, b["u"].values)
    assert not np.allclose(a["u"].values, c["u"].values)
