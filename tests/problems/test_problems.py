"""Contract tests over the problem registry: references, residuals, conditions, sampling."""

import numpy as np
import pytest
import torch

from workbench.calculus import Jet, coordinate_jets, jet_on_grid, stack_jets
from workbench.problems import PROBLEMS, Problem
from workbench.problems.points import columns

# Smoother coefficients and finer grids where the default solution has a shock or thin
# interfaces, so that second-order finite differences can check the residual.
CHECK_SETTINGS = {
    "burgers1d": ({"nu": 0.05}, {"x": 801, "t": 401}),
    "allen_cahn1d": ({"eps2": 1e-3}, {"x": 801, "t": 801}),
    "convection1d": ({"beta": 5.0}, {"x": 801, "t": 401}),
    "helmholtz2d": ({"a1": 2, "a2": 1}, {"x": 401, "y": 401}),
    # The default smoothing (0.25) leaves coefficient layers ~0.03 wide, where the conservative
    # scheme and the strong form differ by 0.5% at 401 nodes (second order: 0.13% at 801).
    "darcy2d": ({"smoothing": 1.0}, {"x": 601, "y": 601}),
    # Three dims: 401^3 nodes would be 64 million; the vortex is smooth at 81 per side.
    "taylor_green2d": ({}, {"x": 81, "y": 81, "t": 41}),
    # The classical solver's own nodes (129 per side), where the reference is its values.
    "cavity2d": ({}, {"x": 129, "y": 129}),
}


def grid_jet(problem, values, coords):
    """The jet of gridded reference values: one channel, or one per component (stacked)."""
    if not problem.multi_component():
        return jet_on_grid(values, coords, problem.derivatives)
    return stack_jets([jet_on_grid(v, coords, problem.derivatives) for v in values])


ALL = sorted(PROBLEMS)


@pytest.mark.parametrize("name", ALL)
def test_reference_satisfies_its_residual(name):
    params, size = CHECK_SETTINGS.get(name, ({}, None))
    problem = PROBLEMS[name](**params)
    size = size or {d: 401 for d in problem.dims}
    ref = problem.reference(size)
    coords = {d: ref[d].values for d in problem.dims}
    jet = grid_jet(problem, ref.values, coords)
    mesh = np.meshgrid(*coords.values(), indexing="ij")
    cols = {d: torch.from_numpy(m.reshape(-1, 1)) for d, m in zip(problem.dims, mesh)}
    r = problem.residual(cols, jet).numpy()
    assert r.shape == (mesh[0].size, len(problem.equations))
    # One equation per leading row (several for a flow: continuity, momentum).
    r = r.T.reshape(len(problem.equations), *mesh[0].shape)
    # Compare with the size of the derivative terms; drop the first/last rows (one-sided FD).
    interior = (slice(None), *(slice(2, -2) for _ in problem.dims))
    scale = sum(np.linalg.norm(p.numpy()) for p in jet.parts[1:])
    assert np.linalg.norm(r[interior]) / scale * np.sqrt(r.size / r[interior].size) < 5e-3


@pytest.mark.parametrize("name", ALL)
def test_reference_is_xarray_with_named_coords(name):
    problem = PROBLEMS[name]()
    ref = problem.reference()
    if problem.multi_component():
        assert ref.dims == ("component", *problem.dims)
        assert list(ref["component"].values) == list(problem.components)
    else:
        assert ref.dims == problem.dims
    assert ref.name == "u_ref"
    for d in problem.dims:
        assert ref[d].attrs["long_name"]
        assert ref[d].values[0] == problem.domain[d][0]
        assert ref[d].values[-1] == problem.domain[d][1]
    assert np.isfinite(ref.values).all()


@pytest.mark.parametrize("name", ALL)
def test_sampling_is_seeded_and_inside_the_domain(name):
    problem = PROBLEMS[name]()
    a = problem.sample_interior(500, torch.Generator().manual_seed(3))
    b = problem.sample_interior(500, torch.Generator().manual_seed(3))
    c = problem.sample_interior(500, torch.Generator().manual_seed(4))
    assert a.shape == (500, len(problem.dims))
    assert torch.equal(a, b) and not torch.equal(a, c)
    for i, d in enumerate(problem.dims):
        lo, hi = problem.domain[d]
        assert lo <= a[:, i].min() and a[:, i].max() <= hi
    for cond in problem.conditions():
        pts = cond.sample(37, torch.Generator().manual_seed(0))
        assert pts.shape == (37, len(problem.dims))


@pytest.mark.parametrize("name", ALL)
def test_conditions_hold_for_the_reference(name):
    """Each condition's mismatch vanishes for the reference at condition points on the grid."""
    problem = PROBLEMS[name]()
    ref = problem.reference()
    grids = [torch.from_numpy(ref[d].values.copy()) for d in problem.dims]

    def evaluate(points, orders):
        index = tuple((points[:, i : i + 1] - g).abs().argmin(dim=1) for i, g in enumerate(grids))
        if problem.multi_component():  # (component, *grid): one column per component
            value = torch.from_numpy(ref.values)[(slice(None), *index)].reshape(
                len(problem.components), -1
            )
            value = value.T
        else:
            value = torch.from_numpy(ref.values)[index].reshape(-1, 1)
        # Only values are checked here; derivative parts are zero placeholders.
        first = tuple(d for d in problem.dims if orders.get(d, 0) >= 1)
        second = tuple(d for d in problem.dims if orders.get(d, 0) >= 2)
        zeros = [torch.zeros_like(value) for _ in first + second]
        return Jet([value, *zeros], first, second)

    for cond in problem.conditions():
        pts = cond.sample(64, torch.Generator().manual_seed(0)).double()
        for i, grid in enumerate(grids):  # snap onto grid lines so the lookup is exact
            pts[:, i] = grid[(pts[:, i : i + 1] - grid).abs().argmin(dim=1)]
        assert cond.mismatch(evaluate, pts).abs().max() < 1e-6, cond.name


@pytest.mark.parametrize("name", [n for n in ALL if PROBLEMS[n].constrained])
def test_exact_constraint_transform_satisfies_its_conditions(name):
    problem = PROBLEMS[name]()
    generator = torch.Generator().manual_seed(0)

    def evaluate(points, orders):
        coords = coordinate_jets(points.double(), problem.dims, orders)
        # An arbitrary smooth "network": sum of sines of the coordinates.
        net = sum(((k + 1.3) * coords[d]).sin() for k, d in enumerate(problem.dims))
        if problem.multi_component():  # one channel per component, each different
            net = stack_jets([net * (1.0 + c) for c in range(len(problem.components))])
        return problem.constrain(coords, net)

    for cond in problem.conditions():
        if cond.name in problem.constrained:
            pts = cond.sample(200, generator)
            assert cond.mismatch(evaluate, pts).abs().max() < 1e-6, cond.name


@pytest.mark.parametrize("name", ALL)
def test_problem_is_documented_and_bounded(name):
    cls = PROBLEMS[name]
    assert issubclass(cls, Problem)
    assert "math::" in cls.__doc__, "the docstring must state the equations"
    for pname, p in cls.param.objects("existing").items():
        if pname == "name":
            continue
        assert p.doc, f"{name}.{pname} needs a doc string"
        assert p.bounds is not None, f"{name}.{pname} needs bounds"


def test_bad_coefficient_names_the_parameter():
    with pytest.raises(ValueError, match="nu"):
        PROBLEMS["burgers1d"](nu=-1.0)


def test_columns_split_points():
    pts = torch.arange(6.0).reshape(3, 2)
    cols = columns(pts, ("x", "t"))
    assert torch.equal(cols["t"], pts[:, 1:2])
