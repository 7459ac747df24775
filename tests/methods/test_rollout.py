"""Autoregressive rollouts of operators on an evolution family (kolmogorov2d)."""

import numpy as np
import pytest
import torch

from workbench.methods import METHODS
from workbench.problems import PROBLEMS, dataset_cache
from workbench.train import fit


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "data"))
    dataset_cache.MEMORY_CACHE.clear()
    yield
    dataset_cache.MEMORY_CACHE.clear()


def _small_fno():
    return METHODS["fno"](
        resolution=16, n_train=24, n_test=4, batch_size=8, modes=4, width=8, layers=2,
        projection=16, transfer_resolution=0,
    )  # fmt: skip


def test_rollout_feeds_the_model_its_own_output():
    problem = PROBLEMS["kolmogorov2d"](spinup=1.0, dt=0.5)
    method = _small_fno()
    run = fit(problem, method, steps=5, eval_every=0, progress=False)
    model = run.model
    test = method.split(problem)["test"]
    inputs = test["w0"].values
    rolled = method.rollout(model, problem, inputs, 3)
    assert rolled.dims == ("sample", "t", "x", "y")
    assert rolled.shape == (4, 4, 16, 16)
    np.testing.assert_allclose(rolled["t"].values, [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(rolled.isel(t=0).values, inputs)
    one = method.predict(model, inputs)
    np.testing.assert_allclose(rolled.isel(t=1).values, one, atol=1e-12)
    np.testing.assert_allclose(
        rolled.isel(t=3).values, method.predict(model, method.predict(model, one)), atol=1e-12
    )
    np.testing.assert_array_equal(rolled["x"].values, problem.family_grid(16)["x"])
    assert isinstance(model, torch.nn.Module)


def test_rollout_refuses_what_it_cannot_do():
    kolmogorov = PROBLEMS["kolmogorov2d"](spinup=1.0, dt=0.5)
    method = _small_fno()
    model = method.build(kolmogorov, torch.Generator().manual_seed(0))
    inputs = kolmogorov.dataset(2, 16, progress=False)["w0"].values
    with pytest.raises(ValueError, match="steps must"):
        method.rollout(model, kolmogorov, inputs, 0)
    with pytest.raises(ValueError, match="inputs must"):
        method.rollout(model, kolmogorov, inputs[:, :, :8], 2)
    with pytest.raises(ValueError, match="evolution family"):
        method.rollout(model, PROBLEMS["darcy2d"](), inputs, 2)


@pytest.mark.parametrize(
    ("knobs", "match"),
    [
        ({"resolution": 24}, "resolution must divide or be a multiple"),
        ({"resolution": 16, "transfer_resolution": 48}, "transfer_resolution=48"),
    ],
)
def test_grids_the_family_refuses_are_refused_before_data(knobs, match, monkeypatch):
    problem = PROBLEMS["kolmogorov2d"]()

    def no_data(*args, **kwargs):
        raise AssertionError("data generated before the refusal")

    monkeypatch.setattr(type(problem), "dataset", no_data)
    method = METHODS["fno"](n_train=4, n_test=2, batch_size=2, modes=4, **knobs)
    with pytest.raises(ValueError, match=match):
        fit(problem, method, steps=1, progress=False)


def test_a_run_on_an_evolution_family_holds_its_rollout_against_the_solver(tmp_path):
    problem = PROBLEMS["kolmogorov2d"](spinup=1.0, dt=0.5)
    method = _small_fno()
    run = fit(problem, method, steps=5, eval_every=0, progress=False)
    rolled = run.tree["rollout"].to_dataset()
    assert rolled["u"].dims == ("sample", "t", "x", "y")
    assert rolled["u"].shape == (4, 11, 16, 16)
    assert rolled["rel_l2"].dims == ("sample", "t")
    test = method.split(problem)["test"]
    # The trajectories start from the test inputs, and their first step is the test output.
    np.testing.assert_allclose(rolled["u_ref"].isel(t=0).values, test["w0"].values, atol=1e-12)
    np.testing.assert_allclose(rolled["u_ref"].isel(t=1).values, test["u"].values, atol=1e-8)
    np.testing.assert_array_equal(rolled["u"].isel(t=0).values, test["w0"].values)
    # No error at the start, then the untrained model's error, which does not vanish.
    assert float(rolled["rel_l2"].isel(t=0).max()) == 0.0
    assert float(rolled["rel_l2"].isel(t=-1).min()) > 1e-3
    assert rolled.attrs["l2re_final"] == pytest.approx(float(rolled["rel_l2"].isel(t=-1).mean()))

    from workbench import views
    from workbench.app.result_tabs import result_tabs

    layout = views.rollout(rolled)
    assert len(layout) == 4  # solver | rollout | error over t, and the error curves
    still = views.rollout(rolled, t=2.0)
    assert "t = 2" in still[0].opts.get().kwargs["title"]
    assert "Rollout" in result_tabs(run.tree)
    with pytest.raises(ValueError, match="rel_l2"):
        views.rollout(rolled.drop_vars("rel_l2"))
    page = views.report(run.tree, tmp_path / "report.html").read_text()
    assert "autoregressive rollout: 10 steps" in page


def test_no_rollout_on_a_family_that_is_not_an_evolution():
    with pytest.raises(ValueError, match="evolution famil"):
        PROBLEMS["darcy2d"]().trajectories(2, 3)
