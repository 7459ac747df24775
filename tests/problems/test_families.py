"""Tests of problem families: datasets (shapes, seeds, caching) and grid residuals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr

from workbench.numerics import burgers_cole_hopf
from workbench.numerics.finite_differences import solve_diffusion
from workbench.problems import PROBLEMS, dataset_cache

FAMILIES = sorted(n for n, cls in PROBLEMS.items() if cls.family_input is not None)
WITH_RESIDUAL = sorted(n for n in FAMILIES if PROBLEMS[n].family_has_residual)
#: Small, quick settings per family: knobs and a resolution.
QUICK = {
    "darcy2d": ({}, 17),
    "poisson2d": ({}, 17),
    "burgers1d": ({"nu": 0.05}, 32),
    "kolmogorov2d": ({"spinup": 0.5, "dt": 0.25}, 16),
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test caches into its own folder and starts with an empty memory cache."""
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "data"))
    dataset_cache.MEMORY_CACHE.clear()
    yield
    dataset_cache.MEMORY_CACHE.clear()


def _quick(name):
    params, resolution = QUICK[name]
    return PROBLEMS[name](**params), resolution


def test_the_expected_problems_have_families():
    assert FAMILIES == ["burgers1d", "darcy2d", "kolmogorov2d", "poisson2d"]
    assert WITH_RESIDUAL == ["darcy2d", "poisson2d"]
    for name in FAMILIES:
        cls = PROBLEMS[name]
        assert len(cls.family_periodic) == len(cls.family_dims)
        assert set(cls.family_attrs) == {cls.family_input, "u", *cls.family_extra_fields}
    assert PROBLEMS["burgers1d"].family_periodic == (True,)
    np.testing.assert_allclose(PROBLEMS["burgers1d"]().family_grid(4)["x"], [-1, -0.5, 0, 0.5])


@pytest.mark.parametrize("name", FAMILIES)
def test_dataset_layout_and_attrs(name):
    problem, res = _quick(name)
    data = problem.dataset(3, res, seed=5, progress=False)
    dims = ("sample", *problem.family_dims)
    name_in = problem.family_input
    extras = problem.family_extra_fields
    assert set(data.data_vars) == {name_in, "u", *extras}
    for var in (name_in, "u", *extras):
        assert data[var].dims == dims
        assert data[var].shape == (3,) + (res,) * len(problem.family_dims)
        assert data[var].dtype == np.float64
        assert data[var].attrs["long_name"] and "units" in data[var].attrs
        assert np.isfinite(data[var].values).all()
    np.testing.assert_array_equal(data["sample"].values, np.arange(3))
    for d in problem.family_dims:
        np.testing.assert_array_equal(data[d].values, problem.family_grid(res)[d])
        assert data[d].attrs["long_name"]
    attrs = data.attrs
    assert attrs["problem"] == name and attrs["input"] == name_in
    assert (attrs["n"], attrs["resolution"], attrs["seed"]) == (3, res, 5)
    assert json.loads(attrs["problem_params"]) == {
        k: v for k, v in problem.param.values().items() if k != "name"
    }
    assert attrs["solver_resolution"] == problem.family_solver_resolution(res)
    assert attrs["solver"] and attrs["input_distribution"] and attrs["workbench_version"]
    assert attrs["wall_s"] >= 0
    # The default resolution is the family's.
    assert problem.family_resolution >= 8


@pytest.mark.parametrize("name", FAMILIES)
def test_dataset_is_seeded_and_sample_i_does_not_depend_on_n(name, monkeypatch):
    problem, res = _quick(name)
    five = problem.dataset(5, res, seed=1, cache=False, progress=False)
    again = problem.dataset(5, res, seed=1, cache=False, progress=False)
    xr.testing.assert_identical(five.drop_attrs(), again.drop_attrs())
    other = problem.dataset(5, res, seed=2, cache=False, progress=False)
    assert not np.array_equal(other["u"].values, five["u"].values)
    three = problem.dataset(3, res, seed=1, cache=False, progress=False)
    np.testing.assert_array_equal(three[problem.family_input], five[problem.family_input][:3])
    np.testing.assert_array_equal(three["u"], five["u"][:3])
    # Solving in chunks of two (as for n > family_chunk) changes nothing either.
    monkeypatch.setattr(type(problem), "family_chunk", 2)
    chunked = problem.dataset(5, res, seed=1, cache=False, progress=False)
    np.testing.assert_array_equal(chunked[problem.family_input], five[problem.family_input])
    np.testing.assert_allclose(chunked["u"], five["u"], rtol=0, atol=1e-15)


@pytest.mark.parametrize(("name", "coarse", "fine"), [("darcy2d", 17, 33), ("poisson2d", 17, 33)])
def test_node_grid_families_hold_the_same_functions_at_every_resolution(name, coarse, fine):
    problem = PROBLEMS[name]()
    low = problem.dataset(3, coarse, seed=0, cache=False, progress=False)
    high = problem.dataset(3, fine, seed=0, cache=False, progress=False)
    shared = {"x": slice(None, None, 2), "y": slice(None, None, 2)}
    inp = problem.family_input
    np.testing.assert_array_equal(high[inp].isel(shared).values, low[inp].values)
    # Both resolutions are solved on the same 129-node grid here, so the solutions agree too.
    assert problem.family_solver_resolution(coarse) == problem.family_solver_resolution(fine)
    np.testing.assert_allclose(high["u"].isel(shared).values, low["u"].values, atol=1e-14)
    # Inputs at 32 and 64 nodes are evaluations of the same functions: compare against the
    # field itself at the points both grids share (the corners).
    a32 = problem.family_inputs(2, 32, np.random.default_rng(0))
    a64 = problem.family_inputs(2, 64, np.random.default_rng(0))
    corners = np.ix_([0, 1], [0, -1], [0, -1])
    np.testing.assert_allclose(a32[corners], a64[corners], rtol=0, atol=1e-13)


def test_burgers_inputs_nest_across_resolutions():
    problem = PROBLEMS["burgers1d"](nu=0.05)
    low = problem.dataset(2, 64, seed=0, cache=False, progress=False)
    high = problem.dataset(2, 128, seed=0, cache=False, progress=False)
    np.testing.assert_allclose(high["u0"][:, ::2], low["u0"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(high["u"][:, ::2], low["u"], rtol=0, atol=1e-8)


def test_cache_round_trip_and_corrupt_files(tmp_path):
    problem, res = _quick("darcy2d")
    made = problem.dataset(4, res, seed=3, progress=False)
    files = list((tmp_path / "data").glob("*.nc"))
    assert len(files) == 1
    assert files[0].name.startswith(f"darcy2d-n4-r{res}-s3-")
    assert len(files[0].stem.split("-")[-1]) == 12
    assert not list((tmp_path / "data").glob("*.tmp"))
    # From memory, then (memory cleared) from the file: the same dataset, attrs included.
    xr.testing.assert_identical(problem.dataset(4, res, seed=3, progress=False), made)
    dataset_cache.MEMORY_CACHE.clear()
    loaded = problem.dataset(4, res, seed=3, progress=False)
    xr.testing.assert_identical(loaded, made)
    # Callers get copies: changing one does not change the cache.
    loaded["u"].values[:] = 0.0
    assert problem.dataset(4, res, seed=3, progress=False)["u"].values.any()
    # Other parameters, another file.
    PROBLEMS["darcy2d"](smoothing=0.5).dataset(4, res, seed=3, progress=False)
    assert len(list((tmp_path / "data").glob("*.nc"))) == 2
    # A corrupt file is regenerated, with a warning.
    dataset_cache.MEMORY_CACHE.clear()
    files[0].write_bytes(b"not a netcdf file")
    with pytest.warns(UserWarning, match="regenerating"):
        again = problem.dataset(4, res, seed=3, progress=False)
    xr.testing.assert_identical(again.drop_attrs(), made.drop_attrs())
    dataset_cache.MEMORY_CACHE.clear()
    xr.testing.assert_identical(problem.dataset(4, res, seed=3, progress=False), again)


def test_unwritable_cache_only_warns(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("WORKBENCH_DATA", str(blocker / "data"))
    problem, res = _quick("poisson2d")
    with pytest.warns(UserWarning, match="could not cache"):
        data = problem.dataset(2, res, progress=False)
    assert data["u"].shape == (2, res, res)


def test_default_data_directory(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DATA")
    path = dataset_cache.data_directory()
    assert path.parts[-2:] == ("data", "generated") or path.parts[-2:] == (".cache", "workbench")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must"),
        ({"n": 2.5}, "n must"),
        ({"n": 2, "resolution": 4}, r"resolution must .*\[8, 1024\]"),
        ({"n": 2, "resolution": 5000}, "resolution must"),
        ({"n": 2, "seed": -1}, "seed must"),
    ],
)
def test_bad_dataset_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PROBLEMS["darcy2d"]().dataset(**kwargs, cache=False, progress=False)


def test_problems_without_family_say_which_have_one():
    problem = PROBLEMS["heat1d"]()
    with pytest.raises(ValueError, match="no family.*darcy2d"):
        problem.dataset(2, cache=False, progress=False)
    with pytest.raises(ValueError, match="no family"):
        problem.grid_residual(torch.zeros(1, 8), torch.zeros(1, 8))
    with pytest.raises(ValueError, match="no grid residual.*poisson2d"):
        PROBLEMS["burgers1d"]().grid_residual(torch.zeros(1, 8), torch.zeros(1, 8))


@pytest.mark.parametrize("name", WITH_RESIDUAL)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_grid_residual_vanishes_on_the_coarse_solution(name, dtype):
    problem = PROBLEMS[name]()
    res = 24
    inputs = problem.family_inputs(3, res, np.random.default_rng(0))
    # The solver's own solution at this resolution (no refinement).
    if name == "darcy2d":
        u = solve_diffusion(inputs, 1.0)
    else:
        u = solve_diffusion(np.ones((res, res)), inputs)
    t_in = torch.tensor(inputs, dtype=dtype)
    t_u = torch.tensor(u, dtype=dtype, requires_grad=True)
    r = problem.grid_residual(t_in, t_u)
    assert r.shape == t_u.shape and r.dtype == dtype
    tol = 1e-9 if dtype == torch.float64 else 1e-3
    tol *= 10 if name == "poisson2d" else 1  # max |f| is a few times its mean
    scale = float(np.abs(inputs).mean()) if name == "poisson2d" else 1.0
    assert r.abs().max().item() < tol * scale
    # Differentiable, for physics losses.
    r.square().mean().backward()
    assert torch.isfinite(t_u.grad).all()
    # A wrong field has an O(1) residual: the dataset's own (finer-solved) solution at this
    # resolution is off by the discretisation error, a perturbed one by more.
    wrong = problem.grid_residual(t_in, (1.2 * t_u).detach())
    assert wrong[:, 1:-1, 1:-1].abs().mean().item() > 0.05 * scale
    with pytest.raises(ValueError, match="same shape"):
        problem.grid_residual(t_in, t_u[:, :-1])


@pytest.mark.parametrize("name", WITH_RESIDUAL)
def test_grid_residual_penalises_the_boundary(name):
    problem = PROBLEMS[name]()
    inputs = torch.tensor(problem.family_inputs(1, 16, np.random.default_rng(0)))
    u = torch.zeros(1, 16, 16, dtype=torch.float64)
    u[0, 0, 5] = 1e-3
    r = problem.grid_residual(inputs, u)
    mean_a = float(inputs.mean()) if name == "darcy2d" else 1.0
    assert r[0, 0, 5].item() == pytest.approx(1e-3 * mean_a * 15**2)


def test_darcy_family_is_two_valued_and_solve_matches_dataset_on_its_solver_grid():
    problem = PROBLEMS["darcy2d"]()
    data = problem.dataset(6, 17, seed=0, cache=False, progress=False)
    a = data["a"].values
    assert set(np.unique(a)) == {3.0, 12.0}
    assert 0.25 < (a == 12.0).mean() < 0.75
    u = data["u"].values
    assert (u[:, 1:-1, 1:-1] > 0).all() and (u[:, 0] == 0).all() and (u[:, :, -1] == 0).all()
    # Solving coarse inputs interpolates them (nearest node) to the solver grid: close to the
    # dataset, which evaluates the field there, but not equal.
    solved = problem.family_solve(a, 17)
    rel = np.linalg.norm(solved - u) / np.linalg.norm(u)
    assert 0 < rel < 0.2
    fine = problem.family_solver_resolution(17)
    assert problem.family_solver_resolution(fine) == fine


def test_darcy_coefficient_gradient_is_exact():
    problem = PROBLEMS["darcy2d"](coefficient_seed=7, smoothing=0.3)
    x = torch.rand(50, 1, dtype=torch.float64, requires_grad=True)
    y = torch.rand(50, 1, dtype=torch.float64, requires_grad=True)
    a, ax, ay = problem.coefficient(x, y)
    gx, gy = torch.autograd.grad(a.sum(), (x, y))
    torch.testing.assert_close(gx, ax)
    torch.testing.assert_close(gy, ay)
    assert ((a > 3.0) & (a < 12.0)).all()
    # The single instance's field is the family's sample 0 for that seed.
    coarse = PROBLEMS["darcy2d"]().family_inputs(1, 9, np.random.default_rng(7))[0]
    grid = np.linspace(0, 1, 9)
    mx, my = np.meshgrid(grid, grid, indexing="ij")
    smooth, _, _ = problem.coefficient(mx, my)
    np.testing.assert_array_equal(smooth >= 7.5, coarse == 12.0)


def test_darcy_reference_on_other_grids_interpolates():
    problem = PROBLEMS["darcy2d"]()
    nested = problem.reference({"x": 33, "y": 33}).values
    other = problem.solve_reference({"x": np.linspace(0, 1, 33), "y": np.linspace(0, 1, 17)})
    np.testing.assert_allclose(other, nested[:, ::2], atol=1e-5 * np.abs(nested).max())


def test_poisson_family_solution_matches_finer_solve():
    problem = PROBLEMS["poisson2d"]()
    data = problem.dataset(2, 17, seed=0, cache=False, progress=False)
    # Second order on smooth sources: the 129-node solve is within ~1e-4 of a 513-node one.
    f = problem.family_inputs(2, 513, np.random.default_rng(0))
    fine = solve_diffusion(np.ones((513, 513)), f)[:, ::32, ::32]
    rel = np.linalg.norm(data["u"].values - fine) / np.linalg.norm(fine)
    assert rel < 1e-3


def test_burgers_family_matches_cole_hopf():
    # The periodic problem with u0 = -sin(pi x) is the Dirichlet benchmark, solved exactly.
    problem = PROBLEMS["burgers1d"](nu=0.02)
    x = problem.family_grid(64)["x"]
    u = problem.family_solve(-np.sin(np.pi * x)[None], 64)[0]
    exact = burgers_cole_hopf(x, [1.0], 0.02)[:, 0]
    assert np.abs(u - exact).max() < 1e-7


def test_burgers_family_conserves_the_mean_and_is_smooth():
    problem = PROBLEMS["burgers1d"]()  # the default nu = 0.01 / pi: shocks form
    data = problem.dataset(4, 128, seed=0, cache=False, progress=False)
    u0, u = data["u0"].values, data["u"].values
    # The mean is conserved exactly on the solver grid (on the dataset grid the shocks make
    # the grid mean only an approximation of the integral).
    fine = problem.family_solver_resolution(128)
    u0_fine = problem.family_inputs(2, fine, np.random.default_rng(0))
    u_fine = problem.family_solve(u0_fine, fine)
    assert np.abs(u0_fine.mean(axis=1)).max() < 1e-12
    assert np.abs(u_fine.mean(axis=1) - u0_fine.mean(axis=1)).max() < 1e-12
    np.testing.assert_allclose(u_fine[:, ::8], u[:2], rtol=0, atol=1e-13)
    # Maximum principle and no new oscillations: total variation does not grow.
    assert np.abs(u).max() <= np.abs(u0).max() + 1e-8
    tv0 = np.abs(np.diff(u0, append=u0[:, :1])).sum(axis=1)
    tv = np.abs(np.diff(u, append=u[:, :1])).sum(axis=1)
    assert (tv <= tv0 + 1e-8).all()
    # With more viscosity the solution is smooth: its spectrum decays to rounding level.
    smooth = PROBLEMS["burgers1d"](nu=0.05).dataset(2, 128, seed=0, cache=False, progress=False)
    spectrum = np.abs(np.fft.rfft(smooth["u"].values))
    assert (spectrum[:, 48:].max(axis=1) < 1e-6 * spectrum.max(axis=1)).all()
    # Coarse inputs at the default resolution represent u0 exactly: solving them directly
    # reproduces the dataset.
    solved = problem.family_solve(u0[:2], 128)
    np.testing.assert_allclose(solved, u[:2], rtol=0, atol=1e-10)
