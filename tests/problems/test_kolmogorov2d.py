"""The kolmogorov2d family: datasets, trajectories, resolutions, refusals."""

import numpy as np
import pytest

from workbench.numerics.navier_stokes import kolmogorov_forcing, solve_vorticity
from workbench.problems import PROBLEMS, dataset_cache

QUICK = {"spinup": 1.0, "dt": 0.5}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "data"))
    dataset_cache.MEMORY_CACHE.clear()
    yield
    dataset_cache.MEMORY_CACHE.clear()


def test_trajectories_start_from_the_dataset_and_step_by_dt():
    problem = PROBLEMS["kolmogorov2d"](**QUICK)
    data = problem.dataset(3, 16, seed=4, progress=False)
    traj = problem.trajectories(3, 4, 16, seed=4)
    assert traj["w"].dims == ("sample", "t", "x", "y")
    assert traj["w"].shape == (3, 5, 16, 16)
    np.testing.assert_allclose(traj["t"].values, 1.0 + 0.5 * np.arange(5))
    np.testing.assert_array_equal(traj["w"].isel(t=0).values, data["w0"].values)
    np.testing.assert_array_equal(traj["w"].isel(t=1).values, data["u"].values)
    # Cached: asked again, the same numbers without solving.
    again = problem.trajectories(3, 4, 16, seed=4)
    np.testing.assert_array_equal(again["w"].values, traj["w"].values)
    # On the solver's grid each state is one step of the family from the last: one more step
    # from state 3 gives state 4 (up to rounding amplified by the flow over dt).
    assert problem.family_time_step() == 0.5
    full = problem.trajectories(1, 4, 32, seed=4)["w"]
    step = problem.family_solve(full.isel(t=slice(3, 4)).values[:, 0], 32)
    np.testing.assert_allclose(step[0], full.isel(sample=0, t=4).values, atol=1e-11)


def test_same_functions_at_every_resolution():
    problem = PROBLEMS["kolmogorov2d"](**QUICK)
    assert problem.solver_points() == 32
    coarse = problem.dataset(2, 16, seed=0, cache=False, progress=False)
    base = problem.dataset(2, 32, seed=0, cache=False, progress=False)
    fine = problem.dataset(2, 64, seed=0, cache=False, progress=False)
    for name in ("w0", "u"):
        np.testing.assert_array_equal(coarse[name].values, base[name].values[:, ::2, ::2])
        # 64 points hold the 32-point spectral solution's trigonometric interpolant.
        np.testing.assert_allclose(fine[name].values[:, ::2, ::2], base[name].values, atol=1e-13)


def test_outputs_solve_the_navier_stokes_equations():
    problem = PROBLEMS["kolmogorov2d"](**QUICK)
    data = problem.dataset(2, 32, seed=1, cache=False, progress=False)
    # An independent solve with half the time step agrees to the scheme's accuracy.
    w = solve_vorticity(
        data["w0"].values,
        problem.nu,
        0.5 / 64,
        [0.5],
        forcing=kolmogorov_forcing(32, 4),
        drag=problem.drag,
    ).w[..., 0]
    scale = np.abs(w).max()
    assert np.abs(w - data["u"].values).max() < 1e-6 * scale
    # The flow moved: one step is not the identity.
    assert np.abs(w - data["w0"].values).max() > 0.05 * scale


def test_smaller_viscosity_refines_the_solver_grid():
    assert PROBLEMS["kolmogorov2d"](nu=0.02).solver_points() == 64
    assert PROBLEMS["kolmogorov2d"](nu=0.01).solver_points() == 128
    assert PROBLEMS["kolmogorov2d"](nu=0.01).family_solver_resolution(32) == 128


@pytest.mark.parametrize("resolution", [15, 12, 48])
def test_bad_resolution_is_refused_before_work(resolution):
    problem = PROBLEMS["kolmogorov2d"]()
    with pytest.raises(ValueError, match="resolution must"):
        problem.dataset(2, resolution, progress=False)
    with pytest.raises(ValueError, match="resolution must"):
        problem.trajectories(2, 3, resolution)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 0}, "n must"), ({"steps": 0}, "steps must"), ({"seed": -1}, "seed must")],
)
def test_bad_trajectory_arguments_name_the_parameter(kwargs, match):
    args = {"n": 2, "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        PROBLEMS["kolmogorov2d"]().trajectories(**args)


def test_bad_knobs_name_the_parameter():
    with pytest.raises(ValueError, match="nu"):
        PROBLEMS["kolmogorov2d"](nu=0.0)
    with pytest.raises(ValueError, match="forcing_wavenumber"):
        PROBLEMS["kolmogorov2d"](forcing_wavenumber=20)


def test_laminar_single_instance_is_a_steady_state_of_the_solver():
    problem = PROBLEMS["kolmogorov2d"]()
    ref = problem.reference({"x": 33, "y": 33}).values[:-1, :-1]
    w = solve_vorticity(
        ref, problem.nu, 0.01, [1.0], forcing=kolmogorov_forcing(32, 4), drag=problem.drag
    ).w[..., 0]
    assert np.abs(w - ref).max() < 1e-12 * np.abs(ref).max()
