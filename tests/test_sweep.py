"""sweep(): one fit() per grid point, gathered into one xarray Dataset, resumable, on Dask.

Most tests run the points in this process (``scheduler="serial"``) on a tiny convection PINN;
two start a real 2-worker LocalCluster: the same points give the same numbers there, and a
worker killed mid-sweep costs nothing but time.
"""

import importlib
import os
import signal

import numpy as np
import pytest
import xarray as xr

from workbench import PINN, Convection1D, Poisson1D, WeightDecay
from workbench.cli import main
from workbench.sweep import POINTS_DIR, SWEEP_FILE, Sweep, local_cluster, resolve_knob, sweep

# The module that runs the points (and calls fit), patched by the tests below. By
# importlib: the attribute workbench.sweep is the function the package re-exports.
sweep_module = importlib.import_module("workbench.sweep.execution")

TINY = dict(width=8, depth=1, n_interior=64, n_initial=32, n_boundary=16)
STEPS = dict(steps=20, eval_every=0)


def tiny_sweep(grid, **kwargs):
    kwargs = {"scheduler": "serial", "progress": False, **STEPS, **kwargs}
    return sweep(Convection1D(), PINN(**TINY), grid=grid, **kwargs)


def test_result_has_a_dimension_per_knob_with_attrs_and_opens_with_xarray(tmp_path):
    ds = tiny_sweep({"beta": [1.0, 20.0], "seed": [0, 1, 2]}, out=tmp_path, fields=True)
    assert ds["l2re"].dims == ("beta", "seed")
    assert ds.sizes == {"beta": 2, "seed": 3, "x": ds.sizes["x"], "t": ds.sizes["t"]}
    assert (ds["status"] == "done").all()
    assert np.isfinite(ds["l2re"]).all() and (ds["wall_s"] > 0).all()
    assert (ds["steps_taken"] == 20).all()
    assert {"loss", "loss_residual", "loss_initial", "loss_periodic"} <= set(ds.data_vars)
    assert ds["beta"].attrs == {
        "long_name": "Convection speed beta",
        "owner": "problem",
        "units": "1",
    }
    assert ds["seed"].attrs["owner"] == "training"
    assert ds["u"].dims == ("beta", "seed", "x", "t")
    # Each point is its own training: seeds differ, and beta changes the reference.
    assert ds["l2re"].sel(beta=1.0, seed=0) != ds["l2re"].sel(beta=1.0, seed=1)
    assert not np.allclose(ds["u_ref"].sel(beta=1.0, seed=0), ds["u_ref"].sel(beta=20.0, seed=0))
    stored = xr.open_dataset(tmp_path / SWEEP_FILE)
    assert list(stored["beta"].values) == [1.0, 20.0]
    assert stored["beta"].attrs["long_name"] == "Convection speed beta"
    np.testing.assert_array_equal(stored["l2re"].values, ds["l2re"].values)
    assert stored.attrs["points"] == 6 and stored.attrs["points_done"] == 6
    assert stored.attrs["problem"] == "convection1d" and stored.attrs["method"] == "pinn"
    assert len(list((tmp_path / POINTS_DIR).glob("*.nc"))) == 6


def test_a_point_is_the_same_training_as_fit():
    from workbench import fit

    ds = tiny_sweep({"beta": [5.0]})
    run = fit(Convection1D(beta=5.0), PINN(**TINY), progress=False, **STEPS)
    assert float(ds["l2re"].sel(beta=5.0)) == pytest.approx(run.l2re, rel=1e-6)


def test_knobs_of_every_part_can_be_swept():
    ds = sweep(
        Convection1D(),
        PINN(**TINY),
        [WeightDecay()],
        grid={"method.width": [4, 8], "lr": [1e-3, 1e-2], "weight_decay.weight": [0.0, 1e-3]},
        scheduler="serial",
        progress=False,
        **STEPS,
    )
    assert ds["l2re"].dims == ("width", "lr", "weight_decay_weight")
    assert ds["weight_decay_weight"].attrs["owner"] == "weight_decay"
    assert ds["lr"].attrs["units"] == "1"


def test_training_knobs_such_as_steps_are_swept():
    ds = tiny_sweep({"steps": [5, 10]})
    assert ds["steps"].attrs == {"long_name": "Adam steps", "owner": "training", "units": "steps"}
    assert list(ds["steps_taken"].values) == [5, 10]
    assert (ds["status"] == "done").all()


def test_rerun_runs_only_missing_points(tmp_path):
    plan = Sweep(Convection1D(), PINN(**TINY), grid={"beta": [1.0, 2.0]}, out=tmp_path, **STEPS)
    first = plan.collect("serial", progress=False)
    assert (first.done, first.reused) == (2, 0)
    # The same sweep again: nothing runs, every value is read back.
    again = Sweep(Convection1D(), PINN(**TINY), grid={"beta": [1.0, 2.0]}, out=tmp_path, **STEPS)
    second = again.collect("serial", progress=False)
    assert (second.done, second.reused) == (2, 2)
    xr.testing.assert_identical(first.result["l2re"], second.result["l2re"])
    # A grid grown by one value runs one point.
    grown = Sweep(
        Convection1D(), PINN(**TINY), grid={"beta": [1.0, 2.0, 3.0]}, out=tmp_path, **STEPS
    )
    third = grown.collect("serial", progress=False)
    assert (third.done, third.reused) == (3, 2)


def test_interrupted_sweep_keeps_finished_points_and_resumes(tmp_path, monkeypatch):
    real = sweep_module._run_point
    calls = []

    def interrupted_at_third(spec, with_fields):
        calls.append(spec["problem"]["params"]["beta"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third point
        return real(spec, with_fields)

    monkeypatch.setattr(sweep_module, "_run_point", interrupted_at_third)
    partial = tiny_sweep({"beta": [1.0, 2.0, 3.0, 4.0]}, out=tmp_path)
    assert list(partial["status"].values) == ["done", "done", "pending", "pending"]
    stored = xr.open_dataset(tmp_path / SWEEP_FILE)
    assert stored.attrs["points_done"] == 2
    assert list(stored["status"].values) == ["done", "done", "pending", "pending"]

    monkeypatch.setattr(sweep_module, "_run_point", real)
    ran = []
    monkeypatch.setattr(
        sweep_module,
        "_run_point",
        lambda spec, f: ran.append(spec["problem"]["params"]["beta"]) or real(spec, f),
    )
    done = tiny_sweep({"beta": [1.0, 2.0, 3.0, 4.0]}, out=tmp_path)
    assert ran == [3.0, 4.0]
    assert (done["status"] == "done").all()


def test_failed_and_diverged_points_are_recorded_and_do_not_stop_the_sweep(tmp_path, monkeypatch):
    real_fit = sweep_module.fit

    def fit_failing_at_beta_2(problem, *args, **kwargs):
        if problem.beta == 2.0:
            raise RuntimeError("out of memory (simulated)")
        return real_fit(problem, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "fit", fit_failing_at_beta_2)
    # lr = 10 (the largest allowed) blows the loss up at the first steps: that point diverges.
    ds = tiny_sweep({"beta": [1.0, 2.0], "lr": [1e-3, 10.0]}, out=tmp_path)
    status = ds["status"]
    assert status.sel(beta=1.0, lr=1e-3) == "done"
    assert status.sel(beta=1.0, lr=10.0) == "diverged"
    assert "diverged" in str(ds["message"].sel(beta=1.0, lr=10.0).item())
    assert (status.sel(beta=2.0) == "failed").all()
    assert "RuntimeError: out of memory" in str(ds["message"].sel(beta=2.0, lr=1e-3).item())
    assert np.isnan(ds["l2re"].sel(beta=2.0)).all()
    # Failed points are not written: the next call runs them again; the others are kept.
    assert len(list((tmp_path / POINTS_DIR).glob("*.nc"))) == 2
    monkeypatch.setattr(sweep_module, "fit", real_fit)
    again = Sweep(
        Convection1D(), PINN(**TINY), grid={"beta": [1.0, 2.0], "lr": [1e-3, 10.0]}, out=tmp_path
    )
    assert again.total == 4


@pytest.mark.parametrize(
    "grid, match",
    [
        ({}, "at least one knob"),
        ({"nonsense": [1]}, "no such knob"),
        ({"beta": []}, "at least one value"),
        ({"beta": [1.0, 1.0]}, "values repeat"),
        ({"beta": [1.0, 500.0]}, r"grid 'beta': 500.0 is not allowed.*allowed: \[0.0, 100.0\]"),
        ({"width": [0]}, "grid 'width'"),
        ({"sampler": ["fixed", "nope"]}, "grid 'sampler'"),
        ({"bogus.width": [4]}, "unknown prefix 'bogus'"),
        ({"method.nu": [4]}, "method has no knob 'nu'"),
        ({"weight_decay.weight": [0.1]}, "unknown prefix 'weight_decay'"),
        ({"beta": [1.0], "problem.beta": [2.0]}, "swept twice"),
    ],
)
def test_bad_grids_raise_before_any_work(grid, match, monkeypatch):
    monkeypatch.setattr(sweep_module, "_run_point", lambda *a: pytest.fail("work started"))
    with pytest.raises(ValueError, match=match):
        tiny_sweep(grid)


def test_a_point_that_cannot_train_is_named_before_any_work(monkeypatch):
    monkeypatch.setattr(sweep_module, "_run_point", lambda *a: pytest.fail("work started"))
    # causal_r3 needs time; poisson1d has none: the check of that point says so.
    with pytest.raises(ValueError, match=r"point \{'sampler': 'causal_r3'\}: sampler"):
        sweep(Poisson1D(), PINN(**TINY), grid={"sampler": ["r3", "causal_r3"]}, progress=False)


def test_out_holding_another_sweep_is_refused(tmp_path):
    tiny_sweep({"beta": [1.0]}, out=tmp_path)
    with pytest.raises(ValueError, match="holds another sweep"):
        sweep(Poisson1D(), PINN(**TINY), grid={"seed": [0]}, out=tmp_path, progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no sweep"):
        tiny_sweep({"beta": [1.0]}, out=tmp_path / "other")


def test_resolve_knob_names_owner():
    problem, method = Convection1D(), PINN()
    assert resolve_knob("beta", problem, method) == ("problem", "beta")
    assert resolve_knob("width", problem, method) == ("method", "width")
    assert resolve_knob("seed", problem, method) == ("training", "seed")
    assert resolve_knob("training.steps", problem, method) == ("training", "steps")


def _cluster():
    from distributed import Client

    cluster = local_cluster(2)
    return cluster, Client(cluster)


def test_local_cluster_gives_the_same_numbers_as_serial():
    grid = {"beta": [1.0, 10.0], "seed": [0, 1]}
    serial = tiny_sweep(grid)
    cluster, client = _cluster()
    try:
        parallel = tiny_sweep(grid, scheduler=client)
    finally:
        client.close()
        cluster.close()
    assert (parallel["status"] == "done").all()
    np.testing.assert_allclose(parallel["l2re"].values, serial["l2re"].values, rtol=1e-6)


def test_killing_a_worker_mid_sweep_loses_no_point():
    cluster, client = _cluster()
    try:
        plan = Sweep(
            Convection1D(),
            PINN(**TINY),
            grid={"beta": [1.0, 5.0, 10.0], "seed": [0, 1]},
            steps=300,
            eval_every=0,
        )
        killed = False
        for record in plan.run(client):
            if record.point is not None and not killed:
                pid = next(iter(client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)  # the nanny restarts it; its task runs elsewhere
                killed = True
        assert killed
        assert record.finished and record.done == 6
        assert (record.result["status"] == "done").all()
    finally:
        client.close()
        cluster.close()


# --- the CLI -------------------------------------------------------------------------------
CLI = [
    "sweep",
    "--problem",
    "convection1d",
    "--set",
    "width=8",
    "--set",
    "depth=1",
    "--set",
    "n_interior=64",
    "--steps",
    "20",
    "--scheduler",
    "serial",
    "--quiet",
]


def test_cli_sweep_prints_a_table_and_resumes(tmp_path, capsys):
    argv = [*CLI, "--grid", "beta=1,10", "--seeds", "0,1", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ran=4 reused=0 done=4" in out
    assert out.splitlines()[0].split() == ["beta", "seed", "status", "l2re", "wall_s"]
    assert len([line for line in out.splitlines() if " done " in line]) == 4
    ds = xr.open_dataset(tmp_path / SWEEP_FILE)
    assert ds["status"].dims == ("beta", "seed")
    assert ds["seed"].dtype.kind == "i" and ds["beta"].dtype.kind == "f"
    assert main([*argv[:-2], "--grid", "beta=30", "--out", str(tmp_path)]) == 2
    assert "given twice" in capsys.readouterr().err
    grown = [*CLI, "--grid", "beta=1,10,20", "--seeds", "0,1", "--out", str(tmp_path)]
    assert main(grown) == 0
    assert "ran=2 reused=4 done=6" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, match",
    [
        ([], "at least one --grid"),
        (["--grid", "beta"], "--grid expects name=value"),
        (["--grid", "beta=fast"], "'fast' is not valid"),
        (["--grid", "beta=1,500"], "grid 'beta': 500.0 is not allowed"),
        (["--grid", "nope=1"], "no such knob"),
        (["--grid", "seed=0,1", "--seeds", "2"], "seed is already swept"),
        (["--grid", "beta=,"], "give values separated by commas"),
    ],
)
def test_cli_sweep_bad_input_is_one_line_exit_2(extra, match, tmp_path, capsys):
    assert main([*CLI, *extra, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err
    assert not (tmp_path / "s").exists()
