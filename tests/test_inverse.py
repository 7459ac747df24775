"""Inverse problems: coefficients learned from observations with the PINN family.

The heat equation's diffusivity is the small problem: its solution decays at rates set by the
diffusivity alone, so a few observations pin it down and a small PINN learns it in seconds.
"""

import numpy as np
import pytest
import torch
import xarray as xr

from workbench import PIG, PINN, AdvectionDiffusion1D, Burgers1D, Data, Heat1D, Run, fit
from workbench.cli import main
from workbench.methods import FNO
from workbench.problems import Darcy2D
from workbench.regularizers import synthetic_observations
from workbench.views import estimates

NET = dict(width=32, depth=3, hard_constraints=True, n_interior=512)


def heat_inverse(method=None, data=None, **settings):
    method = method or PINN(**NET, infer={"alpha": 0.3})
    data = data or Data(n=200, noise=0.0)
    settings = {"steps": 1500, "lr": 1e-2, "eval_every": 0, "progress": False, **settings}
    return fit(Heat1D(alpha=0.1), method, [data], **settings)


def test_noise_free_dense_data_recover_the_diffusivity():
    run = heat_inverse(lbfgs_steps=600)
    history = run.history
    assert history["alpha"].attrs["role"] == "estimate"
    assert history["alpha"].attrs["true_value"] == 0.1
    assert history["alpha"].values[0] == pytest.approx(0.3, rel=1e-6)  # the guess
    assert run.estimates["alpha"] == pytest.approx(0.1, rel=0.02)
    assert f"alpha={run.estimates['alpha']:.6g}" in run.summary()
    assert "data" in run.loss_terms


def test_pig_learns_a_coefficient_too():
    method = PIG(gaussians=50, infer={"alpha": 0.3}, n_interior=256)
    run = heat_inverse(method, steps=600)
    first, last = run.history["alpha"].values[[0, -1]]
    assert abs(last - 0.1) < 0.5 * abs(first - 0.1)


def test_only_inferred_coefficients_are_parameters_and_the_problem_is_untouched():
    problem = AdvectionDiffusion1D()
    before = dict(problem.param.values())
    method = PINN(width=8, depth=1, n_interior=64, infer={"a": None})
    run = fit(problem, method, [Data(n=50)], steps=30, progress=False)
    names = [n for n, _ in run.model.named_parameters() if n.startswith("coefficients.")]
    assert names == ["coefficients.raw_a"]
    assert dict(problem.param.values()) == before
    assert dict(run.problem.param.values()) == before
    # Untrained knobs are the problem's own: the residual uses them as given.
    assert set(run.estimates) == {"a"}
    assert "a" in run.history and "b" not in run.history


def test_guess_transform_and_bounds():
    method = PINN(infer={"nu": None})
    (unknown,) = method.unknowns(Burgers1D()).values()
    assert unknown.transform == "log" and unknown.guess == pytest.approx(np.sqrt(1e-3 * 1.0))
    bounded = PINN(infer={"nu": {"guess": 0.05, "bounds": [0.001, 0.1]}})
    (unknown,) = bounded.unknowns(Burgers1D()).values()
    assert unknown.transform == "bounded" and unknown.bounds == (0.001, 0.1)
    raw = torch.tensor(unknown.raw())
    assert float(unknown.value(raw)) == pytest.approx(0.05)
    assert float(unknown.value(torch.tensor(50.0))) == pytest.approx(0.1)  # never beyond


def test_save_load_keeps_coefficients_and_given_observations(tmp_path):
    given = synthetic_observations(Heat1D(), n=30, noise=0.01, seed=3)
    run = heat_inverse(PINN(**NET, infer={"alpha": 0.3}), Data(observations=given), steps=50)
    # Observations given by the user: the problem's value is not known to be the truth.
    assert "true_value" not in run.history["alpha"].attrs
    assert run.history["alpha"].attrs["problem_value"] == 0.1
    run.save(tmp_path)
    loaded = Run.load(tmp_path)
    assert loaded.estimates == run.estimates
    (data,) = loaded.regularizers
    xr.testing.assert_allclose(data.observations, given)
    torch.testing.assert_close(
        loaded.model.coefficients.raw_alpha, run.model.coefficients.raw_alpha
    )
    assert loaded.points.sizes["observations"] == 30


def test_synthetic_observations_are_seeded_noisy_and_on_the_grid():
    problem = Heat1D()
    a = synthetic_observations(problem, n=100, noise=0.05, seed=1)
    b = synthetic_observations(problem, n=100, noise=0.05, seed=1)
    c = synthetic_observations(problem, n=100, noise=0.05, seed=2)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a["x"].values, c["x"].values)
    rms = float(np.sqrt((problem.reference().values ** 2).mean()))
    noise = a["u"] - a["u_true"]
    assert float(noise.std()) == pytest.approx(0.05 * rms, rel=0.25)
    np.testing.assert_allclose(a["sigma"], 0.05 * rms)
    reference = problem.reference()
    picked = reference.sel(x=xr.DataArray(a["x"].values), t=xr.DataArray(a["t"].values))
    np.testing.assert_allclose(picked.values, a["u_true"].values)
    sensors = synthetic_observations(problem, n=60, layout="sensors", sensors=3)
    assert len(np.unique(sensors["x"])) == 3 and sensors.sizes["observation"] == 60


def bad(ds: xr.Dataset, **changes) -> xr.Dataset:
    ds = ds.copy(deep=True)
    for name, value in changes.items():
        ds[name] = value
    return ds


OBS = synthetic_observations(Heat1D(), n=20)


@pytest.mark.parametrize(
    "observations, match",
    [
        (bad(OBS, u=("observation", np.r_[np.nan, OBS["u"].values[1:]])), "1 NaN or infinite"),
        (bad(OBS, x=("observation", OBS["x"].values + 2.0)), r"outside the domain \[0.0, 1.0\]"),
        (OBS.drop_vars("u"), r"missing \['u'\]"),
        (bad(OBS, sigma=("observation", np.zeros(20))), "sigma'\\] must be > 0"),
        (OBS.rename({"observation": "point"}), "must have the one dim 'observation'"),
    ],
)
def test_bad_observations_raise_before_training(observations, match):
    with pytest.raises(ValueError, match=match):
        fit(Heat1D(), PINN(infer={"alpha": 0.3}), [Data(observations=observations)], steps=1)


@pytest.mark.parametrize(
    "infer, match",
    [
        ({"beta": 0.3}, "'beta' is not a real-valued coefficient of 'heat1d'; its coefficients: "),
        ({"alpha": -1.0}, "guess must be > 0"),
        ({"alpha": {"guess": 0.5, "bounds": [0.01, 0.2]}}, "strictly inside"),
        ({"alpha": {"guess": 0.5, "bounds": [0.2]}}, "two finite numbers"),
        ({"alpha": {"start": 0.5}}, "unknown keys"),
        ({"alpha": "fast"}, "finite number"),
    ],
)
def test_bad_infer_knob_is_named(infer, match):
    with pytest.raises(ValueError, match=match):
        fit(Heat1D(), PINN(infer=infer), [Data()], steps=1)


def test_inferring_needs_data_and_data_needs_a_pinn_family_method():
    with pytest.raises(ValueError, match="needs observations; add the 'data' regularizer"):
        fit(Heat1D(), PINN(infer={"alpha": 0.3}), steps=1)
    with pytest.raises(ValueError, match="fits a PINN-family model"):
        fit(Darcy2D(), FNO(), [Data()], steps=1)
    with pytest.raises(ValueError, match=r"n must be in \[1, 10201\]"):
        fit(Heat1D(), PINN(), [Data(n=20000)], steps=1)


def cli(out, *extra):
    base = ["run", "--problem", "heat1d", "--set", "width=8", "--set", "depth=1"]
    return main([*base, "--steps", "20", "--out", str(out), "--quiet", *extra])


def test_cli_infer_prints_the_estimate(tmp_path, capsys):
    data = ["--observe", "40", "--noise", "0.01"]
    assert cli(tmp_path / "a", "--infer", "alpha=0.3", *data) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert " alpha=" in line
    run = Run.load(tmp_path / "a")
    (data_reg,) = run.regularizers
    assert (data_reg.n, data_reg.noise) == (40, 0.01)
    assert run.method.infer == {"alpha": 0.3}
    assert cli(tmp_path / "b", "--infer", "kappa=1", *data) == 2
    assert "'kappa' is not a real-valued coefficient" in capsys.readouterr().err
    assert cli(tmp_path / "c", "--infer", "alpha") == 2
    assert "needs observations" in capsys.readouterr().err
    assert cli(tmp_path / "d", "--noise", "0.1") == 2
    assert "give --observe N too" in capsys.readouterr().err
    assert not any((tmp_path / n).exists() for n in "bcd")


def test_estimates_view_draws_truth_and_error():
    run = heat_inverse(steps=40)
    layout = estimates(run.history)
    (panel,) = layout
    title = panel.opts.get().kwargs["title"]
    assert title.startswith("alpha: ") and "truth 0.1" in title
    hline = [e for e in panel if type(e).__name__ == "HLine"]
    assert hline and hline[0].data == 0.1


def test_app_shows_an_estimates_tab_for_inverse_runs():
    pytest.importorskip("panel")
    from workbench.app.result_tabs import result_tabs

    run = heat_inverse(steps=5)
    assert "Estimates" in result_tabs(run.tree)
    plain = fit(Heat1D(), PINN(width=8, depth=1), steps=5, progress=False)
    assert "Estimates" not in result_tabs(plain.tree)


def test_workbench_draws_the_estimate_live_with_its_truth():
    pytest.importorskip("panel")
    from bokeh.document import Document

    from workbench.app import Setup, Workbench
    from workbench.train import Training

    setup = Setup(
        Heat1D(),
        PINN(width=8, depth=1, n_interior=64, infer={"alpha": 0.3}),
        [Data(n=30)],
        Training(steps=20),
    )
    wb = Workbench(setup)
    wb.__panel__().get_root(Document())
    wb.train()
    assert wb.wait(60) == "done"
    plot = wb.live_view._estimates_plot
    assert plot.visible and plot._lines.labels == ["alpha"]
    values = plot.source.data["e0"]
    assert values[0] == pytest.approx(0.3) and len(values) == 20
    assert plot.truths[0].visible and plot.truths[0].location == 0.1
    assert "Estimates" in wb.tabs._names
