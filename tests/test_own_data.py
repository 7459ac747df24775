"""Bring your own data: a user's dataset for a problem family, checked before any work, trains
exactly as the generated one does, and travels inside the Run."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from workbench import FNO, VAE, Darcy2D, FlowMatching, Pendulum, fit
from workbench.problems.own_data import check_dataset, fingerprint
from workbench.results import Run

SMALL_FNO = dict(n_train=24, n_test=8, batch_size=8, modes=4, width=8, layers=2, projection=16)


@pytest.fixture(scope="module")
def darcy():
    """32 samples of darcy2d at 16 points per dim, generated (and cached) once."""
    return Darcy2D().dataset(32, 16, seed=0, progress=False)


def test_own_data_trains_exactly_as_the_generated_data(darcy):
    # The same samples, handed in by the user (without coordinates), give the same run.
    given = darcy.drop_vars(["x", "y", "sample"])
    generated = fit(Darcy2D(), FNO(resolution=16, **SMALL_FNO), steps=15, progress=False)
    own = fit(Darcy2D(), FNO(data=given, **SMALL_FNO), steps=15, progress=False)
    np.testing.assert_allclose(own.history["loss"], generated.history["loss"], rtol=1e-6)
    assert own.l2re == pytest.approx(generated.l2re, rel=1e-6)
    # No transfer test: the user's inputs exist at their own resolution only.
    assert own.transfer is None and generated.transfer is not None


def test_own_data_from_a_file_round_trips_through_a_saved_run(darcy, tmp_path):
    path = tmp_path / "mine.nc"
    darcy.to_netcdf(path, engine="h5netcdf")
    run = fit(Darcy2D(), FNO(data=str(path), **SMALL_FNO), steps=10, progress=False)
    assert run.attrs["method_params"].count('"source": "' + str(path)) == 1
    run.save(tmp_path / "run")
    path.unlink()  # the Run keeps the samples: the file is not needed to load it again
    loaded = Run.load(tmp_path / "run")
    assert fingerprint(loaded.method.data[["a", "u"]]) == fingerprint(darcy[["a", "u"]])
    error = loaded.method.error(loaded.model, loaded.problem)
    assert error == pytest.approx(run.l2re, rel=1e-6)


@pytest.mark.parametrize(
    "method, problem, n",
    [(VAE(), Pendulum(), 12), (FlowMatching(width=8, levels=2), Darcy2D(), 12)],
)
def test_latent_models_and_generators_take_own_data(method, problem, n):
    data = problem.dataset(n, 16 if problem.name == "darcy2d" else None, seed=1, progress=False)
    method.param.update(data=data, n_train=8, n_test=4, batch_size=4)
    torch.manual_seed(0)
    run = fit(problem, method, steps=3, progress=False)
    assert run.tree["data"].sizes["sample"] == n and np.isfinite(run.l2re)


def broken(darcy, how):
    if how == "no input":
        return darcy.drop_vars("a")
    if how == "renamed dim":
        return darcy.rename({"x": "q"})
    if how == "uneven grid":
        return darcy.isel(x=slice(0, 10))
    if how == "too coarse":
        return darcy.isel(x=slice(0, 4), y=slice(0, 4)).drop_vars(["x", "y"])
    if how == "shifted grid":
        return darcy.assign_coords(x=darcy.x + 0.5)
    if how == "nan":
        return darcy.assign(u=darcy.u.where(darcy.u < 0.01))
    if how == "text":
        return darcy.assign(a=darcy.a.astype(str))
    if how == "one sample":
        return darcy.isel(sample=slice(0, 1))
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how, says",
    [
        ("no input", "missing variable(s) 'a'"),
        ("renamed dim", "expected ('sample', 'x', 'y')"),
        ("uneven grid", "the same number along each"),
        ("too coarse", "allowed: 8 to 1024"),
        ("shifted grid", "coordinate 'x' runs 0.5 .. 1.5"),
        ("nan", "NaN or infinite"),
        ("text", "expected real numbers"),
        ("one sample", "at least 2"),
    ],
)
def test_bad_data_is_refused_naming_what_is_wrong(darcy, how, says):
    with pytest.raises(ValueError, match="data for 'darcy2d'") as caught:
        check_dataset(Darcy2D(), broken(darcy, how))
    assert says in str(caught.value)


def test_bad_sources_and_sizes_are_refused_before_any_work(darcy, tmp_path):
    with pytest.raises(ValueError, match="no file"):
        FNO(data=str(tmp_path / "nope.nc")).check(Darcy2D())
    (tmp_path / "junk.nc").write_bytes(b"not a netcdf file")
    with pytest.raises(ValueError, match="cannot read .* as NetCDF"):
        FNO(data=str(tmp_path / "junk.nc")).check(Darcy2D())
    with pytest.raises(ValueError, match=r"set n_test and n_train to fit, e.g. n_test=3"):
        FNO(data=darcy).check(Darcy2D())
    with pytest.raises(ValueError, match="leave resolution None"):
        FNO(data=darcy, resolution=32, **SMALL_FNO).check(Darcy2D())


def test_cli_trains_on_a_data_file_and_refuses_it_for_a_pinn(darcy, tmp_path):
    path = tmp_path / "mine.nc"
    darcy.to_netcdf(path, engine="h5netcdf")
    common = [sys.executable, "-m", "workbench.cli", "run", "--problem", "darcy2d"]
    sets = [f"--set={k}={v}" for k, v in SMALL_FNO.items()]
    done = subprocess.run(
        [*common, "--method", "fno", "--data", str(path), *sets, "--steps", "5", "--quiet"]
        + ["--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert Run.load(tmp_path / "run").tree["data"].sizes["sample"] == 32
    refused = subprocess.run(
        [*common, "--method", "pinn", "--data", str(path), "--steps", "5"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert refused.returncode == 2
    assert "--data: method 'pinn' does not learn from a dataset" in refused.stderr
