"""The lid-driven cavity problem: its reference (velocity from the classical solver, pressure
recovered from the momentum equations), its conditions and lid lift, a short PINN run, and
its knobs refused out of range."""

import numpy as np
import pytest
import torch

from workbench import PINN, fit
from workbench.calculus import coordinate_jets, jet_on_grid, stack_jets
from workbench.numerics.cavity import (
    GHIA_RE100_U,
    GHIA_RE100_V,
    cavity_pressure,
    ghia_nodes,
    solve_cavity,
)
from workbench.problems import Cavity2D
from workbench.problems.cavity2d import CORNER_EXCLUSION, lid_lift


def momentum_residual(problem: Cavity2D, size: int, band: float = 0.15) -> float:
    """Largest residual of the three equations (finite differences of the reference on the
    solver's own nodes) away from the walls (``band``), where the lid corners' singularity
    does not reach, relative to the largest derivative term there."""
    ref = problem.reference({"x": size, "y": size})
    coords = {d: ref[d].values for d in problem.dims}
    jet = stack_jets([jet_on_grid(v, coords, problem.derivatives) for v in ref.values])
    mesh = np.meshgrid(*coords.values(), indexing="ij")
    cols = {d: torch.from_numpy(m.reshape(-1, 1)) for d, m in zip(problem.dims, mesh)}
    r = problem.residual(cols, jet).numpy().T.reshape(3, size, size)
    inside = (mesh[0] > band) & (mesh[0] < 1 - band) & (mesh[1] > band) & (mesh[1] < 1 - band)
    scale = max(np.abs(p.numpy()).reshape(3, size, size)[:, inside].max() for p in jet.parts[1:])
    return float(np.abs(r[:, inside]).max() / scale)


def test_reference_satisfies_the_discrete_equations_to_truncation_level():
    # Each grid's reference is the solver's own nodes; the residual of second-order
    # differences falls like h^2 as the solver grid is refined (65 -> 129 nodes).
    coarse = momentum_residual(Cavity2D(resolution=65), 65)
    fine = momentum_residual(Cavity2D(resolution=129), 129)
    assert fine < 2e-3
    assert coarse / fine > 3.0


def test_recovered_pressure_converges_with_the_grid():
    # p at fixed nodes (the centre and (0.25, 0.75)) on 33, 65 and 129 nodes: second order.
    values = []
    for n in (33, 65, 129):
        flow = solve_cavity(n, 100.0)
        p = cavity_pressure(flow, 100.0)
        assert p[n // 2, 0] == 0.0  # the gauge
        values.append(np.array([p[n // 2, n // 2], p[n // 4, 3 * (n - 1) // 4]]))
    first, second = np.abs(values[1] - values[0]), np.abs(values[2] - values[1])
    assert (first / second > 2.5).all()
    assert second.max() < 3e-3


def test_pressure_helper_refuses_what_it_cannot_do():
    flow = solve_cavity(17, 10.0)
    with pytest.raises(ValueError, match="re"):
        cavity_pressure(flow, 0.5)


def test_conditions_hold_on_the_reference_and_it_matches_ghia():
    problem = Cavity2D()
    ref = problem.reference()
    u, v, p = ref.values
    np.testing.assert_array_equal(u[:, -1], 1.0)  # the lid, corners included
    np.testing.assert_array_equal(v[:, -1], 0.0)
    for wall in (u[0, :-1], u[-1, :-1], u[:, 0], v[0], v[-1], v[:, 0]):
        np.testing.assert_array_equal(wall, 0.0)
    assert float(ref.sel(component="p", x=0.5, y=0.0)) == 0.0
    # The centrelines at Ghia's nodes (k / 128 are solver nodes at resolution 129) within 1 %
    # of the lid speed of the classical table.
    nodes = ref.sel(component="u", x=0.5).interp(y=ghia_nodes(GHIA_RE100_U[:, 0]), method="cubic")
    assert np.abs(nodes.values - GHIA_RE100_U[:, 1]).max() < 0.01
    nodes = ref.sel(component="v", y=0.5).interp(x=ghia_nodes(GHIA_RE100_V[:, 0]), method="cubic")
    assert np.abs(nodes.values - GHIA_RE100_V[:, 1]).max() < 0.01


def test_reference_off_the_solver_nodes_is_interpolated():
    coarse = Cavity2D(resolution=65)
    on_nodes = coarse.reference({"x": 65, "y": 65})  # the solver's own values
    between = coarse.reference({"x": 129, "y": 129})  # cubic splines between them
    assert np.isfinite(between.values).all()
    np.testing.assert_allclose(between.values[:, ::2, ::2], on_nodes.values, atol=1e-12)
    # Between the nodes, the interpolation adds little to the coarse solver's own
    # discretisation error (its difference from the fine solver at the coarse nodes, ~1e-2
    # below y = 0.9; up to 0.06 in the lid's boundary layer, rows left out here).
    fine = Cavity2D(resolution=129).reference({"x": 129, "y": 129})
    diff = abs(between - fine).sel(component=["u", "v"], y=slice(0.0, 0.9))
    at_nodes = float(diff.isel(x=slice(0, None, 2), y=slice(0, None, 2)).max())
    assert float(diff.max()) < 1.2 * at_nodes < 0.015


def test_lid_lift_has_the_exact_wall_data_and_correct_derivatives():
    points = torch.rand(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    coords = coordinate_jets(points, ("x", "y"), {"x": 2, "y": 2})
    g = lid_lift(coords["x"], coords["y"])
    # Derivatives against autograd's.
    xy = points.clone().requires_grad_(True)
    x, y = xy[:, 0:1], xy[:, 1:2]
    s = 2 / np.pi
    value = y * (1 - s * torch.atan2(1 - y, x)) * (1 - s * torch.atan2(1 - y, 1 - x))
    (grad,) = torch.autograd.grad(value.sum(), xy, create_graph=True)
    for i, d in enumerate("xy"):
        torch.testing.assert_close(g.d(d), grad[:, i : i + 1])
        (second,) = torch.autograd.grad(grad[:, i].sum(), xy, retain_graph=True)
        torch.testing.assert_close(g.dd(d), second[:, i : i + 1])
    edge = torch.linspace(0.0, 0.99, 50, dtype=torch.float64)[:, None]
    one, zero = torch.ones_like(edge), torch.zeros_like(edge)

    def lift(x, y):
        c = coordinate_jets(torch.cat([x, y], 1), ("x", "y"), {"x": 2, "y": 2})
        return lid_lift(c["x"], c["y"]).value

    assert torch.allclose(lift(edge + 0.005, one), one)  # the lid
    for x, y in ((zero, edge), (one, edge), (edge, zero)):  # the other walls
        assert lift(x, y).abs().max() < 1e-12


@pytest.mark.parametrize("sobol", [False, True])
def test_collocation_points_keep_away_from_the_lid_corners(sobol):
    problem = Cavity2D()
    points = problem.sample_interior(5000, torch.Generator().manual_seed(0), sobol)
    assert points.shape == (5000, 2)
    x, y = points[:, 0], points[:, 1]
    distance = (torch.minimum(x, 1 - x).square() + (1 - y).square()).sqrt()
    assert distance.min() >= CORNER_EXCLUSION
    assert len(torch.unique(points, dim=0)) == 5000
    assert (y > 0.97).any()  # the lid's boundary layer itself is sampled


def test_short_pinn_run_reduces_the_error():
    method = PINN(width=24, depth=3, n_interior=256, n_boundary=64, hard_constraints=True)
    run = fit(Cavity2D(resolution=65), method, steps=300, lr=5e-3, eval_every=100, progress=False)
    errors = run.history["l2re"].dropna("step").values
    assert errors[-1] < 0.8 * errors[0]
    for c in "uvp":
        assert np.isfinite(run.fields.attrs[f"l2re_{c}"])


@pytest.mark.parametrize(
    ("knob", "value"), [("Re", 0.5), ("Re", 5000.0), ("resolution", 17), ("resolution", 128)]
)
def test_bad_knobs_are_refused_naming_the_knob(knob, value):
    with pytest.raises(ValueError, match=knob):
        Cavity2D(**{knob: value})
