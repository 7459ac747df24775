"""PINNs on the flow problems: multi-component outputs, the stream-function formulation, the
viscosity learned from observations, and Runs of multi-component fields saved and loaded."""

import numpy as np
import pytest
import torch

from workbench import PINN, Data, Run, fit
from workbench.calculus import coordinate_jets
from workbench.methods.physics_informed.base import autograd_jet
from workbench.problems import Heat1D, Kovasznay2D, TaylorGreen2D
from workbench.views import compare, component_fields, components

SMALL = dict(width=24, depth=3, n_interior=256, n_boundary=64, n_initial=64)


@pytest.fixture(scope="module")
def kovasznay_run():
    return fit(Kovasznay2D(), PINN(**SMALL), steps=600, lr=1e-2, eval_every=100, progress=False)


def test_short_training_reduces_the_error_on_kovasznay(kovasznay_run):
    errors = kovasznay_run.history["l2re"].dropna("step").values
    assert errors[-1] < 0.7 * errors[0]  # 1.13 -> 0.68 (seed 0)
    attrs = kovasznay_run.fields.attrs
    for c in "uvp":
        assert np.isfinite(attrs[f"l2re_{c}"])
    # The overall value is the relative error of all components together.
    f = kovasznay_run.fields
    overall = float(np.linalg.norm(f["error"]) / np.linalg.norm(f["u_ref"]))
    assert attrs["l2re"] == pytest.approx(overall)


def test_short_training_reduces_the_error_on_taylor_green():
    method = PINN(**SMALL)
    run = fit(TaylorGreen2D(), method, steps=200, lr=5e-3, eval_every=100, progress=False)
    errors = run.history["l2re"].dropna("step").values
    assert errors[-1] < 0.8 * errors[0]
    assert run.fields["residual"].dims == ("equation", "x", "y", "t")


def test_fields_carry_components_and_equations(kovasznay_run):
    f = kovasznay_run.fields
    assert f["u"].dims == ("component", "x", "y")
    assert list(f["component"].values) == ["u", "v", "p"]
    assert list(f["equation"].values) == ["continuity", "momentum_x", "momentum_y"]
    assert components(f) == ("u", "v", "p", "speed", "vorticity")
    shown = component_fields(f, "v")
    assert shown["u"].dims == ("x", "y")
    assert shown.attrs["l2re"] == f.attrs["l2re_v"]
    np.testing.assert_allclose(shown["u"], f["u"].sel(component="v"))
    vorticity = component_fields(f, "vorticity")
    assert np.isfinite(vorticity["u_ref"]).all()
    with pytest.raises(ValueError, match="component"):
        component_fields(f, "w")
    assert len(compare(f, component="speed")) == 4


def test_multi_component_run_round_trips(tmp_path, kovasznay_run):
    path = kovasznay_run.save(tmp_path / "kov")
    loaded = Run.load(path)
    for name in ("u", "u_ref", "error", "residual"):
        np.testing.assert_array_equal(loaded.fields[name], kovasznay_run.fields[name])
    assert list(loaded.fields["component"].values) == ["u", "v", "p"]
    assert loaded.fields.attrs["l2re_u"] == kovasznay_run.fields.attrs["l2re_u"]
    points = Kovasznay2D().grid_points({"x": np.array([0.1]), "y": np.array([0.2, 0.3])})
    with torch.no_grad():
        a = loaded.method.predict(loaded.model, loaded.problem, points)
        b = kovasznay_run.method.predict(kovasznay_run.model, kovasznay_run.problem, points)
    torch.testing.assert_close(a, b)


def test_stream_function_output_is_divergence_free():
    problem = Kovasznay2D()
    method = PINN(width=16, depth=2, formulation="stream_function")
    model = method.build(problem, torch.Generator().manual_seed(0)).double()
    assert method.outputs(problem) == 2  # psi and p
    points = problem.sample_interior(200, torch.Generator().manual_seed(1)).double()
    jet = method.field(model, problem, points, {"x": 1, "y": 1})
    divergence = jet.d("x")[:, 0] + jet.d("y")[:, 1]
    assert divergence.abs().max() < 1e-12
    # A primitive network of the same size is not (its divergence is whatever it learned).
    primitive = PINN(width=16, depth=2)
    other = primitive.build(problem, torch.Generator().manual_seed(0)).double()
    jet = primitive.field(other, problem, points, {"x": 1, "y": 1})
    assert (jet.d("x")[:, 0] + jet.d("y")[:, 1]).abs().max() > 1e-3


def test_stream_function_velocity_is_the_curl_of_psi():
    problem = Kovasznay2D()
    method = PINN(width=8, depth=2, formulation="stream_function")
    model = method.build(problem, torch.Generator().manual_seed(0)).double()
    points = problem.sample_interior(50, torch.Generator().manual_seed(2)).double()

    def psi(p):
        return model(coordinate_jets(p, problem.dims, {})).value[:, :1]

    grad = autograd_jet(psi, points, problem.dims, {"x": 1, "y": 1})
    field = method.field(model, problem, points, {}).value
    torch.testing.assert_close(field[:, 0:1], grad.d("y"))
    torch.testing.assert_close(field[:, 1:2], -grad.d("x"))


def test_stream_function_trains_and_autograd_matches_forward_for_primitive():
    problem = Kovasznay2D()
    run = fit(
        problem,
        PINN(width=16, depth=2, n_interior=128, n_boundary=32, formulation="stream_function"),
        steps=30,
        lr=5e-3,
        eval_every=0,
        progress=False,
    )
    loss = run.history["loss"].values
    assert np.isfinite(loss).all() and loss[-5:].mean() < loss[:5].mean()
    # Primitive outputs: forward jets and autograd give the same residual columns.
    model = PINN(width=8, depth=2).build(problem, torch.Generator().manual_seed(0)).double()
    points = problem.sample_interior(40, torch.Generator().manual_seed(3)).double()
    forward = PINN(width=8, depth=2).residuals(model, problem, points)
    backward = PINN(width=8, depth=2, derivatives="autograd").residuals(model, problem, points)
    torch.testing.assert_close(forward, backward)


def test_stream_function_is_refused_where_it_does_not_apply():
    with pytest.raises(ValueError, match="formulation.*kovasznay2d"):
        fit(Heat1D(), PINN(formulation="stream_function"), steps=1, progress=False)
    assert "formulation" in PINN().unused_knobs(Heat1D())
    assert "formulation" not in PINN().unused_knobs(Kovasznay2D())


def test_viscosity_is_learned_from_velocity_observations():
    problem = TaylorGreen2D(nu=0.1)
    method = PINN(**SMALL, infer={"nu": 0.3})
    data = Data(n=200, noise=0.0)
    observed = data.observed(problem)
    assert {"u", "v", "u_true", "v_true", "sigma"} <= set(observed.data_vars)
    assert "p" not in observed.data_vars
    run = fit(problem, method, [data], steps=150, lr=1e-2, eval_every=0, progress=False)
    first, last = run.history["nu"].values[[0, -1]]
    assert first == pytest.approx(0.3)
    assert abs(last - 0.1) < 0.5 * abs(first - 0.1)
    assert "observations_v" in run.points.data_vars


def test_hard_constraints_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="hard_constraints"):
        fit(
            Kovasznay2D(),
            PINN(hard_constraints=True, formulation="stream_function"),
            steps=1,
            progress=False,
        )
    with pytest.raises(ValueError, match="infer: Re"):
        fit(Kovasznay2D(), PINN(hard_constraints=True, infer={"Re": 10.0}), [Data()], steps=1)
