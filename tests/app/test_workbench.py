"""The Workbench without a browser: widgets, Train/Pause/Step/Reset, divergence, caps, runs.

The periodic refresh needs an event loop; here ``flush()`` (what each tick calls) and
``wait()`` are called directly, and the Bokeh models are rendered into a plain Document.
"""

import time

import holoviews as hv
import numpy as np
import pytest
import torch
from bokeh.document import Document

from workbench import PINN, Burgers1D, Poisson1D, Poisson2D, fit, views
from workbench.app import ServeLimits, Setup, Workbench, from_query, to_query
from workbench.app.live import LiveTraining
from workbench.app.plots import KEPT_COLOUR, NEW_COLOUR
from workbench.combiners import LRA, ConFIG, MConFIG, Sum
from workbench.methods import METHODS
from workbench.train import Training

SMALL = dict(width=16, depth=2, n_interior=128, n_boundary=16, n_initial=16)


def small_setup(problem=None, steps=200, **training) -> Setup:
    return Setup(problem or Poisson1D(), PINN(**SMALL), [], Training(steps=steps, **training))


def rendered(workbench: Workbench) -> Workbench:
    workbench.__panel__().get_root(Document())
    return workbench


def wait_until(condition, timeout=30.0):
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def loss_points(workbench: Workbench) -> int:
    return len(workbench.live_view._loss_plot.source.data["step"])


# --- views ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run():
    return fit(Burgers1D(), PINN(**SMALL), steps=5, progress=False)


def test_views_render_to_bokeh_for_each_group(small_run):
    tree = small_run.tree
    history, fields, points = (tree[g].to_dataset() for g in ("history", "fields", "points"))
    elements = [
        views.history(history),
        views.error_history(history),
        views.compare(fields),
        views.field(fields["residual"]),
        views.profile(fields, "t", 0.5),
        views.points(points),
    ]
    for element in elements:
        model = hv.render(element, backend="bokeh")
        assert model is not None and model.to_serializable is not None


# --- choosing -------------------------------------------------------------------------------
def test_choosing_a_problem_swaps_the_knobs():
    workbench = rendered(Workbench())
    knob_names = lambda: set(workbench.setup_panel._problem_knobs[0].widgets) - {"name"}  # noqa: E731
    assert knob_names() == {"nu"}
    workbench.setup_panel._problem_select.value = "helmholtz2d"
    assert workbench.setup.problem.name == "helmholtz2d"
    assert {"a1", "a2"} <= knob_names() and "nu" not in knob_names()
    assert set(workbench.live_view._field_plots) == {"u", "u_ref", "error", "residual"}
    workbench.setup_panel._problem_select.value = "poisson1d"
    assert set(workbench.live_view._field_plots) == {
        "u",
        "error",
        "residual",
    }  # 1D: u and u_ref together
    assert workbench.setup_panel._method_select.options == ["pinn", "pig"]


def test_regularizer_checkboxes_edit_the_setup():
    workbench = Workbench()
    workbench.setup_panel._reg_checks["weight_decay"].value = True
    assert [r.name for r in workbench.setup.regularizers] == ["weight_decay"]
    workbench.setup_panel._reg_checks["weight_decay"].value = False
    assert workbench.setup.regularizers == []


# --- training -------------------------------------------------------------------------------
def test_train_pushes_records_to_the_views_then_pause_and_reset():
    workbench = rendered(Workbench(small_setup(steps=100_000)))
    assert (
        not workbench.live_view._field_plots["u"].source.data["u"].any()
    )  # the preview: no model yet
    workbench.train()
    wait_until(lambda: workbench.live.step_count > 50)
    # Wait for a snapshot newer than any so far without taking it: flush() must draw it.
    version = workbench.live._snapshot_version
    wait_until(lambda: workbench.live._snapshot_version > version)
    workbench.flush()
    assert loss_points(workbench) > 10
    assert workbench.live_view._field_plots["u"].source.data["u"].any()
    assert (
        "training" in workbench.controller.status.object
        and workbench.controller.pause_button.disabled is False
    )

    workbench.pause()
    wait_until(lambda: workbench.live.state == "paused")
    time.sleep(0.1)
    paused_at = workbench.live.step_count
    time.sleep(0.4)
    workbench.flush()
    assert workbench.live.step_count == paused_at
    assert (
        workbench.controller.train_button.disabled is False
        and workbench.controller.step_button.disabled is False
    )

    workbench.step()
    wait_until(lambda: workbench.live.step_count == paused_at + 1)

    workbench.reset()
    assert workbench.live.state == "idle" and workbench.live.step_count == 0
    assert loss_points(workbench) == 0
    assert 'class="wb-state">idle' in workbench.controller.status.object


def test_finished_training_fills_the_runs_tab_and_saves(tmp_path):
    workbench = rendered(Workbench(small_setup(steps=30), runs_dir=str(tmp_path)))
    workbench.train()
    assert workbench.wait(60) == "done"
    assert len(workbench.runs) == 1 and workbench.controller.save_button.disabled is False
    # After the end the views show the Run's full grid, not the coarse snapshot.
    assert len(workbench.live_view._field_plots["u"].source.data["coord"]) == 201
    folder = workbench.save()
    assert (folder / "run.nc").is_file() and (folder / "report.html").is_file()
    workbench.load(folder)
    assert len(workbench.runs) == 2 and workbench.runs_tab._compare_b.value.endswith(folder.name)
    archive = workbench._zip_run()
    assert archive.getbuffer().nbytes > 1000


def test_uploaded_run_joins_the_runs_tab(tmp_path):
    run = fit(Poisson1D(), PINN(**SMALL), steps=5, progress=False)
    run.save(tmp_path)
    workbench = Workbench()
    workbench.runs_tab._upload.value = {"run.nc": (tmp_path / "run.nc").read_bytes()}
    assert len(workbench.runs) == 1
    workbench.runs_tab._upload.value = {"broken.nc": b"not a netcdf file"}
    assert len(workbench.runs) == 1 and "broken.nc" in workbench._alert.object


def test_diverging_setup_ends_in_state_diverged_with_a_message():
    setup = small_setup(Burgers1D(), steps=2000, lr=10.0, eval_every=0)
    workbench = rendered(Workbench(setup))
    workbench.train()
    assert workbench.wait(60) == "diverged"
    assert "diverged at step" in workbench.live.message
    assert workbench._alert.visible and "last good state" in workbench._alert.object
    assert 'class="wb-state">diverged' in workbench.controller.status.object


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_bad_setup_is_a_message_not_an_exception():
    workbench = Workbench(small_setup())
    workbench.setup.training.device = "cuda"
    workbench.train()
    assert workbench.live.state == "idle"
    assert workbench._alert.visible and "device" in workbench._alert.object


# --- training aids: PIG Gaussians, samplers, combiners ---------------------------------------
TINY_2D = dict(n_interior=64, n_boundary=16)


def trained(setup: Setup) -> Workbench:
    workbench = rendered(Workbench(setup))
    workbench.train()
    assert workbench.wait(60) == "done"
    return workbench


def test_pig_training_draws_gaussians_on_the_residual():
    method = METHODS["pig"](gaussians=20, **TINY_2D)
    workbench = trained(Setup(Poisson2D(), method, [], Training(steps=20)))
    residual = workbench.live_view._field_plots["residual"]
    data = residual.anchors.data
    assert len(data["a"]) == 80  # 20 Gaussians x 4 channels
    points = workbench.live.run.points
    order = np.argsort(np.abs(points["gaussian_weight"].values), kind="stable")
    np.testing.assert_allclose(data["w"], 2 * points["gaussian_sigma_x"].values[order])
    np.testing.assert_allclose(data["h"], 2 * points["gaussian_sigma_y"].values[order])
    bound = np.abs(data["weight"]).max()
    assert (residual.weight_mapper.low, residual.weight_mapper.high) == (-bound, bound)
    assert workbench.live_view._show_gaussians.visible and residual.centres_renderer.visible
    workbench.live_view._show_gaussians.value = False
    assert not residual.centres_renderer.visible and not residual.widths_renderer.visible
    # The collocation points leave the Gaussians out.
    collocation = sum(n for s, n in points.sizes.items() if s != "gaussian")
    assert len(residual.points.data["a"]) == collocation == 64 + 16
    # A new training of a model without Gaussians clears them.
    workbench.setup.method = PINN(width=8, depth=1, **TINY_2D)
    workbench.train()
    assert len(residual.anchors.data["a"]) == 0 and not workbench.live_view._show_gaussians.visible
    workbench.wait(60)


def test_r3_sampler_colours_kept_and_new_points():
    method = PINN(width=8, depth=1, sampler="r3", **TINY_2D)
    workbench = trained(Setup(Poisson2D(), method, [], Training(steps=20)))
    residual = workbench.live_view._field_plots["residual"]
    labels = list(residual.points.data["label"])
    colours = dict(zip(labels, residual.points.data["colour"]))
    assert {"interior (kept)", "interior (new)"} <= set(colours)
    assert colours["interior (kept)"] == KEPT_COLOUR and colours["interior (new)"] == NEW_COLOUR
    assert labels.count("interior (kept)") + labels.count("interior (new)") == 64
    assert not workbench.live_view._show_gaussians.visible
    workbench.live_view._show_points.value = True
    assert residual.points_renderer.visible and residual.points_legend.visible


def test_config_combiner_fills_the_diagnostics_plot():
    setup = small_setup(steps=20)
    setup.combiner = ConFIG()
    workbench = trained(setup)
    plot = workbench.live_view._diagnostics_plot
    assert plot.names == ["grad_cosine"] and plot.has_agreement and not plot.has_weights
    cosines = plot.source.data["c0"]
    assert len(cosines) == 20 and np.all((-1 <= cosines) & (cosines <= 1))
    assert plot.agreement.visible and not plot.weights.visible
    assert loss_points(workbench) == 20  # the loss plot is not mixed up with diagnostics
    assert workbench.runs_tab._runs_table.object["combiner"].iloc[0] == "config"


def test_lra_weights_and_a_sum_training_hides_the_diagnostics():
    setup = small_setup(steps=12)
    setup.combiner = LRA(every=2)
    workbench = trained(setup)
    plot = workbench.live_view._diagnostics_plot
    assert plot.has_weights and plot.weights.visible
    assert [line.name for line in plot._weights.lines if line.visible] == ["residual", "boundary"]
    assert workbench.runs_tab._runs_table.object["combiner"].iloc[0].startswith("lra (")
    workbench.setup.combiner = Sum()
    workbench.train()
    workbench.wait(60)
    assert not plot.weights.visible and not plot.agreement.visible


def test_live_diagnostics_pad_steps_without_a_report():
    live = LiveTraining()
    live.start(Poisson1D(), PINN(**SMALL), combiner=MConFIG(), steps=6)
    live.wait(60)
    columns = live.diagnostics()
    assert len(columns["step"]) == len(columns["grad_cosine"]) == 6
    # M-ConFIG reports once it has seen every term (two terms: from the second step).
    assert np.isnan(columns["grad_cosine"][0]) and np.isfinite(columns["grad_cosine"][1:]).all()
    assert "grad_cosine" not in live.history()


def test_combiner_select_swaps_the_knobs_and_copies():
    workbench = Workbench()
    assert (
        workbench.setup.combiner.name == "sum"
        and workbench.setup_panel._combiner_knobs.objects == []
    )
    workbench.setup_panel._combiner_select.value = "lra"
    assert isinstance(workbench.setup.combiner, LRA)
    assert {"alpha", "every"} <= set(workbench.setup_panel._combiner_knobs[0].widgets)
    workbench.setup.combiner.alpha = 0.3
    copy = workbench.setup.copy()
    assert copy.combiner is not workbench.setup.combiner and copy.combiner.alpha == 0.3


# --- serving caps ---------------------------------------------------------------------------
def test_caps_refuse_too_many_steps_points_and_trainings():
    limits = ServeLimits(max_steps=500, max_points=200, max_trainings=1)
    big = Workbench(small_setup(steps=1000), limits=limits)
    big.train()
    assert big.live.state == "idle" and "cap of 500" in big._alert.object

    crowded = Workbench(small_setup(steps=100), limits=limits)
    crowded.setup.method.n_interior = 1000
    crowded.train()
    assert crowded.live.state == "idle" and "cap of 200" in crowded._alert.object

    first = Workbench(small_setup(steps=400), limits=limits)
    second = Workbench(small_setup(steps=400), limits=limits)
    first.step()  # starts paused: it holds the one slot
    second.train()
    assert second.live.state == "idle" and "maximum of 1" in second._alert.object
    first.stop()
    first.wait(60)
    second.train()  # the slot came back when the first ended
    assert second.live.state in ("training", "done")
    second.stop()
    second.wait(60)


def test_sessions_share_nothing():
    a, b = Workbench(), Workbench()
    a.setup_panel._problem_select.value = "heat1d"
    assert b.setup.problem.name == "burgers1d"
    assert a.live is not b.live and a.live_view._loss_plot is not b.live_view._loss_plot


# --- shareable set-ups ----------------------------------------------------------------------
def test_query_round_trip_reproduces_the_setup():
    setup = Setup(Burgers1D(nu=0.005), PINN(width=64, activation="sin"), [], Training(steps=3000))
    query = to_query(setup)
    assert query["p.nu"] == "0.005" and query["m.activation"] == "sin" and "m.depth" not in query
    workbench = Workbench.from_query(query)
    assert workbench.setup_panel._problem_select.value == "burgers1d"
    assert workbench.setup.method.width == 64 and workbench.setup.training.steps == 3000
    assert to_query(workbench.setup) == query
    assert "combiner" not in query  # the default sum stays out of links


def test_the_weight_average_is_a_training_knob_of_the_panel_and_the_link():
    workbench = Workbench()
    workbench.setup_panel._training_knobs._widgets["ema"].value = 0.999
    assert workbench.setup.training.ema == 0.999
    query = to_query(workbench.setup)
    assert query["t.ema"] == "0.999"
    assert Workbench.from_query(query).setup.training.ema == 0.999


def test_query_round_trip_of_a_combiner_with_a_knob():
    setup = small_setup()
    setup.combiner = LRA(alpha=0.2, reference="boundary")
    query = to_query(setup)
    assert query["combiner"] == "lra" and query["c.alpha"] == "0.2"
    assert query["c.reference"] == "boundary" and "c.every" not in query
    workbench = Workbench.from_query(query)
    combiner = workbench.setup.combiner
    assert isinstance(combiner, LRA) and combiner.alpha == 0.2 and combiner.reference == "boundary"
    assert workbench.setup_panel._combiner_select.value == "lra"
    assert to_query(workbench.setup) == query


def test_term_weights_round_trip_and_reach_training():
    setup = small_setup(steps=3)
    setup.weights = {"boundary": 10.0}
    query = to_query(setup)
    assert query["w.boundary"] == "10.0"
    workbench = Workbench.from_query(query)
    assert workbench.setup.weights == {"boundary": 10.0}
    assert workbench.setup_panel._weights_input.value == "boundary=10"
    workbench.setup_panel._weights_input.value = "residual=0.5, boundary=2"
    assert workbench.setup.weights == {"residual": 0.5, "boundary": 2.0}
    workbench.train()
    assert workbench.live.wait(timeout=60)
    loss = workbench.live.run.history.isel(step=0)
    expected = 0.5 * float(loss["residual"]) + 2.0 * float(loss["boundary"])
    assert float(loss["loss"]) == pytest.approx(expected, rel=1e-5)
    workbench.setup_panel._weights_input.value = "boundary=lots"
    assert workbench._alert.visible and "'lots' is not a number" in workbench._alert.object
    assert workbench.setup.weights == {"residual": 0.5, "boundary": 2.0}  # kept the last good


def test_a_weight_for_a_term_the_method_lacks_is_refused():
    workbench = Workbench(small_setup(steps=3))
    workbench.setup_panel._weights_input.value = "initial=3"  # poisson1d has no initial condition
    workbench.train()
    assert workbench.live.state == "idle" and "has no term 'initial'" in workbench._alert.object


@pytest.mark.parametrize(
    "query, message",
    [
        ({"w.boundary": "-1"}, "w.boundary: the weight must be a finite number >= 0"),
        ({"w.boundary": "x"}, "w.boundary: 'x' is not a number"),
        ({"problem": "nope"}, "unknown problem 'nope'"),
        ({"p.nu": "-1"}, "p.nu=-1"),
        ({"m.activation": "relu"}, "allowed: tanh"),
        ({"reg": "weight_decay", "r.l2.weight": "1"}, "r.l2.weight"),
        ({"x": "1"}, "unknown query key 'x'"),
        ({"combiner": "nope"}, "unknown combiner 'nope'; allowed: sum, lra"),
        ({"combiner": "lra", "c.beta": "1"}, "c.beta: 'lra' has no knob 'beta'"),
        ({"combiner": "lra", "c.alpha": "2"}, "c.alpha=2"),
        ({"c.alpha": "0.5"}, "c.alpha: 'sum' has no knob 'alpha'"),
    ],
)
def test_bad_queries_name_the_key(query, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        from_query(query)


# --- the controller -------------------------------------------------------------------------
def test_live_training_steps_while_paused_and_stops_before_starting():
    live = LiveTraining()
    live.start(Poisson1D(), PINN(**SMALL), steps=100, paused=True)
    time.sleep(0.2)
    assert live.step_count == 0 and live.state == "paused"
    live.step(3)
    wait_until(lambda: live.step_count == 3)
    assert live.take_snapshot() is not None  # a single step shows its own state
    live.stop(wait=True)
    assert live.state == "stopped" and live.run is not None
    with pytest.raises(ValueError, match="steps"):
        live.start(Poisson1D(), PINN(**SMALL), steps=-1)


def test_a_failing_training_is_reported_not_raised(monkeypatch):
    def broken(self, model, problem, batch):
        raise RuntimeError("boom")

    monkeypatch.setattr(PINN, "loss", broken)
    workbench = Workbench(small_setup())
    workbench.train()
    assert workbench.wait(30) == "failed"
    assert "boom" in workbench._alert.object
