"""Run save/load: round trip within and across processes, corrupt input, layout."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr

from workbench import PINN, Burgers1D, Poisson1D, Run, WeightDecay, fit

SMALL = dict(n_interior=128, n_boundary=16, n_initial=16, width=16, depth=2)


@pytest.fixture(scope="module")
def burgers_run():
    method = PINN(fourier_features=4, **SMALL)
    return fit(Burgers1D(nu=0.01), method, [WeightDecay(weight=1e-3)], steps=20, progress=False)


def test_layout_and_provenance(burgers_run):
    tree = burgers_run.tree
    assert set(tree.children) == {"history", "fields", "points"}
    assert burgers_run.fields["u"].dims == ("x", "t")
    assert burgers_run.fields["x"].attrs["long_name"]
    assert {"interior_x", "interior_t", "boundary_x", "initial_t"} <= set(burgers_run.points)
    attrs = tree.attrs
    assert attrs["problem"] == "burgers1d" and attrs["method"] == "pinn"
    assert json.loads(attrs["problem_params"]) == {"nu": 0.01}
    assert json.loads(attrs["regularizers"])[0]["name"] == "weight_decay"
    assert attrs["torch_version"] and attrs["status"] == "done"


def test_save_load_round_trip(tmp_path, burgers_run):
    burgers_run.save(tmp_path / "r")
    loaded = Run.load(tmp_path / "r")
    assert loaded.problem.nu == 0.01 and loaded.method.fourier_features == 4
    assert loaded.regularizers[0].weight == 1e-3
    xr.testing.assert_identical(loaded.fields, burgers_run.fields)
    xr.testing.assert_identical(loaded.history, burgers_run.history)
    again = loaded.evaluate()
    np.testing.assert_array_equal(again["u"].values, burgers_run.fields["u"].values)


def test_load_in_another_process_gives_identical_predictions(tmp_path, burgers_run):
    burgers_run.save(tmp_path / "r")
    script = (
        "import sys, numpy as np; from workbench import Run; "
        "run = Run.load(sys.argv[1]); f = run.evaluate(); "
        "np.save(sys.argv[2], np.stack([f['u'].values, f['residual'].values]))"
    )
    out = tmp_path / "pred.npy"
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "r"), str(out)], check=True)
    pred = np.load(out)
    np.testing.assert_array_equal(pred[0], burgers_run.fields["u"].values)
    np.testing.assert_array_equal(pred[1], burgers_run.fields["residual"].values)


def test_opens_with_plain_xarray(tmp_path, burgers_run):
    burgers_run.save(tmp_path / "r")
    with xr.open_dataset(tmp_path / "r" / "run.nc", group="fields", engine="h5netcdf") as ds:
        assert ds["u"].attrs["long_name"] == "prediction u"


def test_missing_and_corrupt_files_give_clear_errors(tmp_path, burgers_run):
    with pytest.raises(FileNotFoundError, match="run.nc"):
        Run.load(tmp_path / "nothing")
    burgers_run.save(tmp_path / "r")
    (tmp_path / "r" / "weights.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ValueError, match="weights.safetensors.*manifest"):
        Run.load(tmp_path / "r")


def test_float64_run_round_trips(tmp_path):
    run = fit(Poisson1D(), PINN(**SMALL), steps=5, dtype="float64", progress=False)
    run.save(tmp_path / "r")
    loaded = Run.load(tmp_path / "r")
    assert next(loaded.model.parameters()).dtype == torch.float64
    np.testing.assert_array_equal(loaded.evaluate()["u"].values, run.fields["u"].values)


def test_pig_run_with_a_combiner_round_trips(tmp_path):
    from workbench import LRA, PIG, Heat1D

    method = PIG(gaussians=8, channels=2, n_interior=64, n_boundary=16, n_initial=16)
    run = fit(Heat1D(), method, combiner=LRA(alpha=0.3), steps=5, eval_every=0, progress=False)
    run.save(tmp_path / "pig")
    loaded = Run.load(tmp_path / "pig")
    assert loaded.combiner.name == "lra" and loaded.combiner.alpha == 0.3
    assert loaded.method.gaussians == 8
    xr.testing.assert_identical(loaded.points, run.points)
    assert loaded.history["weight_boundary"].attrs["role"] == "diagnostic"
    again = loaded.evaluate()
    np.testing.assert_array_equal(again["u"].values, run.fields["u"].values)


def test_a_run_saved_before_metrics_had_names_loads_with_its_methods_metric(tmp_path):
    from workbench.methods import FlowMatching
    from workbench.problems import Darcy2D

    method = FlowMatching(
        resolution=16,
        n_train=40,
        n_test=10,
        batch_size=8,
        n_samples=8,
        posterior_samples=4,
        sample_steps=4,
        width=8,
        levels=2,
    )
    run = fit(Darcy2D(), method, steps=3, progress=False)
    for key in ("metric", "metric_label", "metric_long_name"):  # as runs were saved before
        del run.tree.attrs[key]
    run.tree["history"]["l2re"].attrs["long_name"] = "relative L2 error"
    run.save(tmp_path)
    loaded = Run.load(tmp_path)
    assert loaded.metric.label == "energy distance" and loaded.l2re == run.l2re
    assert loaded.history["l2re"].attrs["long_name"] == "normalised energy distance"
    assert " energy_distance=" in loaded.summary() and "l2re" not in loaded.summary()


def test_a_starved_run_says_so_in_its_summary():
    from workbench.results import cpu_starved

    assert cpu_starved({"cpu_s": 10.0, "wall_s": 12.0}) == ""  # most of a core
    assert cpu_starved({"cpu_s": 0.5, "wall_s": 2.0}) == ""  # too short to judge
    assert cpu_starved({"wall_s": 100.0}) == ""  # saved before cpu_s was recorded
    note = cpu_starved({"cpu_s": 20.0, "wall_s": 100.0})
    assert note.startswith("got 20% of a CPU core over 100 s: a busy machine")
    run = fit(Poisson1D(), PINN(width=8, depth=2, n_interior=16), steps=3, progress=False)
    assert 0 < run.tree.attrs["cpu_s"] and run.summary().endswith(f"{run.tree.attrs['wall_s']:.3g}")
