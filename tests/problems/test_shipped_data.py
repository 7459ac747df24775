"""Tests of the reference files shipped in ``data/``: they equal what the solvers compute, they
are read only for the defaults, and a missing or broken file falls back to solving."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from workbench.problems import PROBLEMS, shipped

SHIPPED = sorted(shipped.SHIPPED)
#: The files are small enough to keep in git and to read at start-up.
MAX_BYTES = 2 * 1024 * 1024


def _spy_solve(monkeypatch, name: str) -> list:
    """Record each call of problem ``name``'s solver (still solving) and return the record."""
    cls = PROBLEMS[name]
    calls = []
    solve = cls.solve_reference

    def spied(self, grid):
        calls.append(grid)
        return solve(self, grid)

    monkeypatch.setattr(cls, "solve_reference", spied)
    return calls


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_equals_what_the_solver_computes(name):
    path = shipped.data_folder() / shipped.filename(name)
    assert path.is_file(), f"{path} is missing; run python data/make_references.py {name}"
    assert path.stat().st_size < MAX_BYTES
    problem = PROBLEMS[name]()
    expected = shipped.reference_dataset(problem)
    with xr.open_dataset(path, engine="h5netcdf") as stored:
        data = stored.load()
    assert data["u_ref"].dtype == np.float64
    for dim in problem.dims:
        np.testing.assert_array_equal(data[dim].values, expected[dim].values)
    # Rounding-level slack only, in case another machine's FFT or libm rounds differently.
    np.testing.assert_allclose(
        data["u_ref"].values, expected["u_ref"].values, rtol=1e-10, atol=1e-13
    )
    assert data.attrs["problem"] == name
    assert json.loads(data.attrs["problem_params"]) == json.loads(expected.attrs["problem_params"])


@pytest.mark.parametrize("name", SHIPPED)
def test_defaults_read_the_file_instead_of_solving(name, monkeypatch):
    calls = _spy_solve(monkeypatch, name)
    read = PROBLEMS[name]().reference()
    assert calls == []
    monkeypatch.setattr(shipped, "data_folder", lambda: None)
    solved = PROBLEMS[name]().reference()
    assert len(calls) == 1
    # The same DataArray as a solve gives: name, dims, coords and attrs, and the values.
    xr.testing.assert_allclose(read, solved, rtol=1e-10, atol=1e-13)
    assert read.name == solved.name and read.attrs == solved.attrs
    for dim in read.dims:
        assert read[dim].attrs == solved[dim].attrs


def test_other_parameters_or_grids_are_solved(monkeypatch):
    calls = _spy_solve(monkeypatch, "burgers1d")
    burgers = PROBLEMS["burgers1d"]
    burgers(nu=0.02).reference()
    assert len(calls) == 1
    assert burgers().reference({"x": 64}).shape == (64, 100)
    assert len(calls) == 2
    burgers().reference()  # the defaults again: read, not solved
    assert len(calls) == 2


def test_a_subclass_is_solved(monkeypatch):
    class Sharper(PROBLEMS["burgers1d"]):
        def solve_reference(self, grid):
            return 2.0 * super().solve_reference(grid)

    default = PROBLEMS["burgers1d"]().reference()
    np.testing.assert_allclose(Sharper().reference().values, 2.0 * default.values, rtol=1e-12)


def test_a_missing_file_is_solved_silently(tmp_path, monkeypatch, recwarn):
    monkeypatch.setattr(shipped, "data_folder", lambda: tmp_path)
    calls = _spy_solve(monkeypatch, "burgers1d")
    PROBLEMS["burgers1d"]().reference()
    assert len(calls) == 1
    assert not [w for w in recwarn if "reference" in str(w.message)]


def test_a_corrupt_file_is_solved_with_a_warning(tmp_path, monkeypatch):
    (tmp_path / shipped.filename("burgers1d")).write_bytes(b"not a NetCDF file")
    monkeypatch.setattr(shipped, "data_folder", lambda: tmp_path)
    calls = _spy_solve(monkeypatch, "burgers1d")
    with pytest.warns(UserWarning, match=r"solving the burgers1d reference: cannot read"):
        PROBLEMS["burgers1d"]().reference()
    assert len(calls) == 1


def test_a_file_for_other_parameters_is_solved(tmp_path, monkeypatch, recwarn):
    path = shipped.write("burgers1d", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as stored:
        data = stored.load()
    data.attrs["problem_params"] = json.dumps({"nu": 0.5})
    data.to_netcdf(path, engine="h5netcdf")
    monkeypatch.setattr(shipped, "data_folder", lambda: tmp_path)
    calls = _spy_solve(monkeypatch, "burgers1d")
    PROBLEMS["burgers1d"]().reference()
    assert len(calls) == 1
    assert not [w for w in recwarn if "reference" in str(w.message)]


def test_write_round_trips_the_values_exactly(tmp_path, monkeypatch):
    path = shipped.write("allen_cahn1d", tmp_path)
    assert path.stat().st_size < MAX_BYTES
    monkeypatch.setattr(shipped, "data_folder", lambda: tmp_path)
    problem = PROBLEMS["allen_cahn1d"]()
    read = shipped.load(problem, problem.grid())
    np.testing.assert_array_equal(read, problem.solve_reference(problem.grid()))
