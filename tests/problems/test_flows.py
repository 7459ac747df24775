"""The flow problems with exact solutions (kovasznay2d, taylor_green2d): their exact solutions
satisfy their own equations and conditions, references carry components, bad knobs are refused."""

import numpy as np
import pytest
import torch

from workbench.methods.physics_informed.base import autograd_jet
from workbench.problems import PROBLEMS, Kovasznay2D, TaylorGreen2D
from workbench.problems.points import columns

FLOWS = ["kovasznay2d", "taylor_green2d"]


def exact_field(problem):
    """The exact ``(u, v, p)`` as a function of points ``(N, D)``, in torch (differentiable)."""

    def fn(points):
        return torch.cat(problem.exact(*columns(points, problem.dims).values()), 1)

    return fn


@pytest.mark.parametrize("name", FLOWS)
@pytest.mark.parametrize("params", [{}, "low", "high"])
def test_exact_solution_satisfies_its_residual_in_float64(name, params):
    cls = PROBLEMS[name]
    knob = "Re" if name == "kovasznay2d" else "nu"
    if params != {}:
        params = {knob: cls.param[knob].bounds[0 if params == "low" else 1]}
    problem = cls(**params)
    points = problem.sample_interior(400, torch.Generator().manual_seed(0)).double()
    jet = autograd_jet(exact_field(problem), points, problem.dims, problem.derivatives)
    r = problem.residual(columns(points, problem.dims), jet)
    assert r.shape == (400, 3)
    assert r.abs().max() < 1e-10


@pytest.mark.parametrize("name", FLOWS)
def test_exact_solution_meets_every_condition(name):
    problem = PROBLEMS[name]()
    field = exact_field(problem)

    def evaluate(points, orders):
        return autograd_jet(field, points, problem.dims, orders)

    names = []
    for cond in problem.conditions():
        points = cond.sample(64, torch.Generator().manual_seed(1)).double()
        assert cond.mismatch(evaluate, points).abs().max() < 1e-12, cond.name
        names.append(cond.name)
    # Velocity on the walls, and the pressure pinned somewhere (else it floats by a constant).
    assert "boundary" in names and ("outlet" in names or "pressure" in names)


def test_kovasznay_reference_is_the_exact_solution_by_component():
    problem = Kovasznay2D(Re=40.0)
    ref = problem.reference({"x": 7, "y": 9})
    assert ref.dims == ("component", "x", "y")
    lam = 20.0 - np.sqrt(400.0 + 4 * np.pi**2)
    x, y = np.meshgrid(ref["x"].values, ref["y"].values, indexing="ij")
    np.testing.assert_allclose(ref.sel(component="u"), 1 - np.exp(lam * x) * np.cos(2 * np.pi * y))
    np.testing.assert_allclose(ref.sel(component="p"), 0.5 * (1 - np.exp(2 * lam * x)))
    assert ref["x"].values[[0, -1]].tolist() == [-0.5, 1.0]
    assert ref["y"].values[[0, -1]].tolist() == [-0.5, 1.5]


def test_taylor_green_decays_at_the_viscous_rate():
    problem = TaylorGreen2D(nu=0.2)
    ref = problem.reference({"x": 9, "y": 9, "t": 3})
    u = ref.sel(component="u")
    ratio = u.isel(t=-1) / u.isel(t=0).where(np.abs(u.isel(t=0)) > 0.1)
    np.testing.assert_allclose(ratio.values[np.isfinite(ratio.values)], np.exp(-2 * 0.2 * 1.0))


@pytest.mark.parametrize(
    ("cls", "knob", "value"),
    [(Kovasznay2D, "Re", 0.5), (Kovasznay2D, "Re", 1e4), (TaylorGreen2D, "nu", 0.0)],
)
def test_bad_knobs_are_refused_naming_the_knob(cls, knob, value):
    with pytest.raises(ValueError, match=knob):
        cls(**{knob: value})
