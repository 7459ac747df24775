"""Tests of parameter families: datasets of random scalar parameters and their trajectories."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr
from scipy.integrate import solve_ivp

from workbench.calculus import coordinate_jets
from workbench.problems import PROBLEMS, DerivativeCondition, dataset_cache

PARAMETER_FAMILIES = sorted(n for n, cls in PROBLEMS.items() if cls.family_parameters)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test caches into its own folder and starts with an empty memory cache."""
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "data"))
    dataset_cache.MEMORY_CACHE.clear()
    yield
    dataset_cache.MEMORY_CACHE.clear()


def _pendulum_ivp(omega, gamma, theta0, t):
    sol = solve_ivp(
        lambda _, s: [s[1], -(omega**2) * np.sin(s[0]) - gamma * s[1]],
        (t[0], t[-1]),
        [theta0, 0.0],
        method="DOP853",
        t_eval=t,
        rtol=1e-10,
        atol=1e-12,
    )
    return sol.y[0]


def test_the_expected_problems_have_parameter_families():
    assert PARAMETER_FAMILIES == ["advection_diffusion1d", "pendulum"]
    assert PROBLEMS["pendulum"].family_parameters == ("omega", "gamma", "theta0")
    assert PROBLEMS["advection_diffusion1d"].family_parameters == ("a", "b", "amplitude")
    for name in PARAMETER_FAMILIES:
        cls = PROBLEMS[name]
        # Operator methods recognise their families by family_input: these are not theirs.
        assert cls.family_input is None
        assert len(cls.family_periodic) == len(cls.family_dims)
        assert set(cls.family_attrs) == {*cls.family_parameters, "u"}
        assert set(cls().family_ranges()) == set(cls.family_parameters)
    # The grids of the Phys-VAE paper: 50 times 0.05 apart; 20 points 0.1 apart x 50 times.
    t = PROBLEMS["pendulum"]().family_grid(50)["t"]
    np.testing.assert_allclose(np.diff(t), 0.05, rtol=0, atol=1e-14)
    grid = PROBLEMS["advection_diffusion1d"]().family_grid(20)
    np.testing.assert_allclose(grid["x"], 0.1 * np.arange(20), rtol=0, atol=1e-14)
    np.testing.assert_allclose(grid["t"], 0.02 * np.arange(50), rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", PARAMETER_FAMILIES)
def test_dataset_layout_and_attrs(name):
    problem = PROBLEMS[name]()
    data = problem.dataset(3, seed=5, progress=False)
    res = problem.family_resolution
    grid = problem.family_grid(res)
    dims = ("sample", *problem.family_dims)
    assert set(data.data_vars) == {*problem.family_parameters, "u"}
    assert data["u"].dims == dims
    assert data["u"].shape == (3, *(len(grid[d]) for d in problem.family_dims))
    for var in (*problem.family_parameters, "u"):
        if var != "u":
            assert data[var].dims == ("sample",)
        assert data[var].dtype == np.float64
        assert data[var].attrs["long_name"] and "units" in data[var].attrs
        assert np.isfinite(data[var].values).all()
    np.testing.assert_array_equal(data["sample"].values, np.arange(3))
    for d in problem.family_dims:
        np.testing.assert_array_equal(data[d].values, grid[d])
        assert data[d].attrs["long_name"]
    attrs = data.attrs
    assert attrs["problem"] == name and "input" not in attrs
    assert attrs["parameters"] == ", ".join(problem.family_parameters)
    assert (attrs["n"], attrs["resolution"], attrs["seed"]) == (3, res, 5)
    assert json.loads(attrs["problem_params"]) == {
        k: v for k, v in problem.param.values().items() if k != "name"
    }
    assert attrs["solver"] and attrs["parameter_distribution"] and attrs["equation"]
    assert attrs["wall_s"] >= 0 and attrs["workbench_version"]
    # Another resolution: more points along the dims that follow it.
    finer = problem.dataset(2, 64, seed=5, cache=False, progress=False)
    assert finer["u"].shape == (2, *(len(v) for v in problem.family_grid(64).values()))
    np.testing.assert_array_equal(
        finer[problem.family_parameters[0]], data[problem.family_parameters[0]][:2]
    )


@pytest.mark.parametrize("name", PARAMETER_FAMILIES)
@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_dataset_is_seeded_and_sample_i_does_not_depend_on_n(name, noise, monkeypatch):
    problem = PROBLEMS[name](noise=noise)
    five = problem.dataset(5, seed=1, cache=False, progress=False)
    again = problem.dataset(5, seed=1, cache=False, progress=False)
    xr.testing.assert_identical(five.drop_attrs(), again.drop_attrs())
    other = problem.dataset(5, seed=2, cache=False, progress=False)
    assert not np.array_equal(other["u"].values, five["u"].values)
    three = problem.dataset(3, seed=1, cache=False, progress=False)
    xr.testing.assert_identical(three.drop_attrs(), five.isel(sample=slice(3)).drop_attrs())
    # The parameters are the family's draws from default_rng(seed), whatever the noise.
    drawn = problem.family_draw(5, np.random.default_rng(1))
    for k in problem.family_parameters:
        np.testing.assert_array_equal(five[k].values, drawn[k])
    # Simulating in chunks of two (as for n > family_chunk) changes nothing either.
    monkeypatch.setattr(type(problem), "family_chunk", 2)
    chunked = problem.dataset(5, seed=1, cache=False, progress=False)
    xr.testing.assert_identical(chunked.drop_attrs(), five.drop_attrs())


@pytest.mark.parametrize("name", PARAMETER_FAMILIES)
def test_noise_is_gaussian_with_the_given_std(name):
    clean = PROBLEMS[name]().dataset(200, seed=0, cache=False, progress=False)
    noisy = PROBLEMS[name](noise=0.05).dataset(200, seed=0, cache=False, progress=False)
    for k in PROBLEMS[name].family_parameters:
        np.testing.assert_array_equal(noisy[k], clean[k])
    residual = (noisy["u"] - clean["u"]).values
    assert abs(residual.std() - 0.05) < 0.002 and abs(residual.mean()) < 0.002


@pytest.mark.parametrize("name", PARAMETER_FAMILIES)
def test_cache_round_trip_and_corrupt_files(name, tmp_path):
    problem = PROBLEMS[name]()
    made = problem.dataset(4, seed=3, progress=False)
    files = list((tmp_path / "data").glob("*.nc"))
    assert len(files) == 1
    assert files[0].name.startswith(f"{name}-n4-r{problem.family_resolution}-s3-")
    xr.testing.assert_identical(problem.dataset(4, seed=3, progress=False), made)
    dataset_cache.MEMORY_CACHE.clear()
    xr.testing.assert_identical(problem.dataset(4, seed=3, progress=False), made)
    dataset_cache.MEMORY_CACHE.clear()
    files[0].write_bytes(b"not a netcdf file")
    with pytest.warns(UserWarning, match="regenerating"):
        again = problem.dataset(4, seed=3, progress=False)
    xr.testing.assert_identical(again.drop_attrs(), made.drop_attrs())


@pytest.mark.parametrize("name", PARAMETER_FAMILIES)
def test_parameters_lie_in_their_ranges_and_cover_them(name):
    problem = PROBLEMS[name]()
    data = problem.dataset(500, seed=0, cache=False, progress=False)
    for k, (lo, hi) in problem.family_ranges().items():
        v = data[k].values
        assert lo <= v.min() and v.max() <= hi
        # Uniform: both ends of the range are reached within a few per cent.
        assert v.min() < lo + 0.05 * (hi - lo) and v.max() > hi - 0.05 * (hi - lo)


def test_out_of_distribution_ranges_make_another_dataset(tmp_path):
    train = PROBLEMS["pendulum"]()
    ood = PROBLEMS["pendulum"](omega_min=3.14, omega_max=4.71)
    a = train.dataset(50, seed=0, progress=False)
    b = ood.dataset(50, seed=0, progress=False)
    assert len(list((tmp_path / "data").glob("pendulum-n50-r50-s0-*.nc"))) == 2
    assert a.attrs["problem_params"] != b.attrs["problem_params"]
    assert (b["omega"].values >= 3.14).all() and (b["omega"].values <= 4.71).all()
    assert (a["omega"].values <= 3.14).all()
    # Same seed, same uniforms: the other parameters are the same draws.
    np.testing.assert_array_equal(a["gamma"], b["gamma"])
    # A range of a single value fixes the parameter.
    fixed = PROBLEMS["advection_diffusion1d"](amplitude_min=1.0, amplitude_max=1.0)
    assert (fixed.dataset(4, seed=0, cache=False, progress=False)["amplitude"] == 1.0).all()


@pytest.mark.parametrize(
    ("name", "knobs", "match"),
    [
        ("pendulum", {"omega_min": 3.0, "omega_max": 1.0}, r"omega_min must be <= omega_max"),
        ("pendulum", {"gamma_min": 0.5, "gamma_max": 0.1}, r"gamma_min must be <= gamma_max"),
        ("pendulum", {"theta0_min": 1.0, "theta0_max": -1.0}, r"theta0_min.*theta0_max"),
        ("advection_diffusion1d", {"a_min": 0.2, "a_max": 0.1}, r"a_min must be <= a_max"),
        ("advection_diffusion1d", {"b_min": 0.2, "b_max": 0.1}, r"b_min must be <= b_max"),
        ("advection_diffusion1d", {"amplitude_min": 2.0}, r"amplitude_min.*amplitude_max"),
    ],
)
def test_bad_ranges_raise_before_any_work(name, knobs, match, tmp_path):
    problem = PROBLEMS[name](**knobs)  # the knobs alone are fine: they may be set one by one
    with pytest.raises(ValueError, match=match):
        problem.dataset(10, seed=0, progress=False)
    with pytest.raises(ValueError, match=match):
        problem.family_draw(3, np.random.default_rng(0))
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").iterdir())


def test_family_kinds_are_told_apart_clearly():
    with pytest.raises(ValueError, match="no family.*darcy2d.*pendulum"):
        PROBLEMS["heat1d"]().dataset(2, cache=False, progress=False)
    with pytest.raises(ValueError, match="function family.*advection_diffusion1d"):
        PROBLEMS["darcy2d"]().family_draw(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="no family"):
        PROBLEMS["heat1d"]().family_simulate({}, 8)
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        PROBLEMS["pendulum"]().family_simulate(
            {"omega": [1.0], "gamma": [0.1, 0.2], "theta0": [1.0]}, 8
        )
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        PROBLEMS["advection_diffusion1d"]().family_simulate({"a": 0.1, "b": 0.1, "amplitude": 1}, 8)


def test_pendulum_family_matches_solve_ivp():
    problem = PROBLEMS["pendulum"](omega_max=6.0, gamma_max=2.0)
    data = problem.dataset(40, seed=0, cache=False, progress=False)
    t = data["t"].values
    order = np.argsort(-data["omega"].values)  # the fastest (hardest) first
    for i in (*order[:5], *order[-2:]):
        exact = _pendulum_ivp(*(data[k].values[i] for k in ("omega", "gamma", "theta0")), t)
        np.testing.assert_allclose(data["u"].values[i], exact, rtol=0, atol=1e-6)
    # Large swings too (theta0 near pi), and a fine time grid.
    p = {"omega": np.array([3.0]), "gamma": np.array([0.0]), "theta0": np.array([3.0])}
    u = problem.family_simulate(p, 1000)[0]
    exact = _pendulum_ivp(3.0, 0.0, 3.0, problem.family_grid(1000)["t"])
    np.testing.assert_allclose(u, exact, rtol=0, atol=1e-6)


def _energy(problem, omega, gamma, theta0, points=1024):
    """Energy per unit of m l^2 along a simulated trajectory, with the velocity from
    second-order differences (relative error ~1e-5 on this grid)."""
    p = {"omega": np.array([omega]), "gamma": np.array([gamma]), "theta0": np.array([theta0])}
    t = problem.family_grid(points)["t"]
    theta = problem.family_simulate(p, points)[0]
    velocity = np.gradient(theta, t, edge_order=2)
    return 0.5 * velocity**2 + omega**2 * (1.0 - np.cos(theta))


def test_pendulum_energy_is_conserved_without_damping_and_decays_with_it():
    problem = PROBLEMS["pendulum"]()
    e = _energy(problem, 2.5, 0.0, 1.2)
    e0 = 2.5**2 * (1 - np.cos(1.2))
    assert np.abs(e / e0 - 1).max() < 1e-4
    damped = _energy(problem, 2.5, 0.3, 1.2)
    # dE/dt = -gamma theta'^2 <= 0: never increasing (up to the differencing error).
    assert (np.diff(damped) < 1e-4 * e0).all()
    assert damped[-1] < 0.7 * e0


def test_pendulum_small_swings_have_period_two_pi_over_omega():
    problem = PROBLEMS["pendulum"]()
    theta0, omega = 1e-3, 3 * np.pi  # period 2/3: ~3.7 periods on [0, 2.45]
    p = {"omega": np.array([omega]), "gamma": np.array([0.0]), "theta0": np.array([theta0])}
    t = problem.family_grid(500)["t"]
    theta = problem.family_simulate(p, 500)[0]
    # Linearised solution; the nonlinearity shifts the frequency by ~theta0^2 / 16.
    np.testing.assert_allclose(theta, theta0 * np.cos(omega * t), rtol=0, atol=1e-6 * theta0 * 10)
    # The upward zero crossings are one period 2 pi / omega apart.
    s = theta / theta0
    up = np.flatnonzero((s[:-1] < 0) & (s[1:] >= 0))
    crossings = t[up] - s[up] * (t[up + 1] - t[up]) / (s[up + 1] - s[up])
    np.testing.assert_allclose(np.diff(crossings), 2 * np.pi / omega, rtol=1e-4)


def test_advection_diffusion_family_matches_the_exact_solution():
    problem = PROBLEMS["advection_diffusion1d"](b_min=-2.0, b_max=2.0, a_max=0.5)
    for res in (20, 64):
        data = problem.dataset(30, res, seed=0, cache=False, progress=False)
        x, t = np.meshgrid(data["x"].values, data["t"].values, indexing="ij")
        k = np.pi  # 2 pi / L with L = 2
        for i in range(30):
            a, b, amp = (data[v].values[i] for v in ("a", "b", "amplitude"))
            exact = 0.5 * amp * (1 - np.exp(-a * k * k * t) * np.cos(k * (x - b * t)))
            np.testing.assert_allclose(data["u"].values[i], exact, rtol=0, atol=1e-13)
        u = data["u"].values
        # The initial bump, zero at x = 0; the mean is conserved.
        np.testing.assert_allclose(u[:, 0, 0], 0.0, atol=1e-14)
        mean = u.mean(axis=1)
        np.testing.assert_allclose(mean, np.broadcast_to(mean[:, :1], mean.shape), rtol=1e-13)
        # The single instance's reference is the same closed form.
        single = PROBLEMS["advection_diffusion1d"](a=a, b=b, amplitude=amp)
        np.testing.assert_allclose(
            single.solve_reference({"x": data["x"].values, "t": data["t"].values}),
            u[-1],
            rtol=0,
            atol=1e-13,
        )


def test_pendulum_single_instance_is_the_family_member():
    single = PROBLEMS["pendulum"](omega=2.7, gamma=0.4, theta0=-1.1)
    t = single.family_grid(50)["t"]
    ref = single.solve_reference({"t": t})
    p = {"omega": np.array([2.7]), "gamma": np.array([0.4]), "theta0": np.array([-1.1])}
    np.testing.assert_allclose(single.family_simulate(p, 50)[0], ref, rtol=0, atol=1e-6)


def test_derivative_condition_measures_the_derivative():
    cond = DerivativeCondition(
        "velocity", ({"t": 0.0}, {"t": 1.0}), ("t",), "t", lambda c: torch.ones_like(c["t"])
    )
    points = cond.sample(6, torch.Generator().manual_seed(0))
    assert points.shape == (6, 1) and set(points[:, 0].tolist()) == {0.0, 1.0}

    def evaluate(pts, orders):
        t = coordinate_jets(pts.double(), ("t",), orders)["t"]
        return 3.0 * t * t + t  # u' = 6 t + 1: 1 at t = 0, 7 at t = 1

    mismatch = cond.mismatch(evaluate, points.double())
    expected = torch.where(points == 0.0, 0.0, 6.0).double()
    torch.testing.assert_close(mismatch, expected)
