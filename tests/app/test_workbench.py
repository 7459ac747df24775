"""The Workbench without a browser: widgets, Train/Pause/Step/Reset, divergence, caps, runs.

The periodic refresh needs an event loop; here ``flush()`` (what each tick calls) and
``wait()`` are called directly, and the Bokeh models are rendered into a plain Document.
"""

import time

import holoviews as hv
import pytest
import torch
from bokeh.document import Document

from workbench import PINN, Burgers1D, Poisson1D, fit, views
from workbench.app import ServeLimits, Setup, Workbench, from_query, to_query
from workbench.app.live import LiveTraining
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
    return len(workbench._loss_plot.source.data["step"])


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
    knob_names = lambda: set(workbench._problem_knobs[0].widgets) - {"name"}  # noqa: E731
    assert knob_names() == {"nu"}
    workbench._problem_select.value = "helmholtz2d"
    assert workbench.setup.problem.name == "helmholtz2d"
    assert {"a1", "a2"} <= knob_names() and "nu" not in knob_names()
    assert set(workbench._field_plots) == {"u", "u_ref", "error", "residual"}
    workbench._problem_select.value = "poisson1d"
    assert set(workbench._field_plots) == {"u", "error", "residual"}  # 1D: u and u_ref together
    assert workbench._method_select.options == ["pinn", "pig"]


def test_regularizer_checkboxes_edit_the_setup():
    workbench = Workbench()
    workbench._reg_checks["weight_decay"].value = True
    assert [r.name for r in workbench.setup.regularizers] == ["weight_decay"]
    workbench._reg_checks["weight_decay"].value = False
    assert workbench.setup.regularizers == []


# --- training -------------------------------------------------------------------------------
def test_train_pushes_records_to_the_views_then_pause_and_reset():
    workbench = rendered(Workbench(small_setup(steps=100_000)))
    assert not workbench._field_plots["u"].source.data["u"].any()  # the preview: no model yet
    workbench.train()
    wait_until(lambda: workbench.live.step_count > 50 and workbench.live.take_snapshot() is None)
    wait_until(lambda: workbench.live._snapshot_version > 1)
    workbench.flush()
    assert loss_points(workbench) > 10
    assert workbench._field_plots["u"].source.data["u"].any()
    assert "training" in workbench._status.object and workbench._pause_button.disabled is False

    workbench.pause()
    wait_until(lambda: workbench.live.state == "paused")
    time.sleep(0.1)
    paused_at = workbench.live.step_count
    time.sleep(0.4)
    workbench.flush()
    assert workbench.live.step_count == paused_at
    assert workbench._train_button.disabled is False and workbench._step_button.disabled is False

    workbench.step()
    wait_until(lambda: workbench.live.step_count == paused_at + 1)

    workbench.reset()
    assert workbench.live.state == "idle" and workbench.live.step_count == 0
    assert loss_points(workbench) == 0
    assert 'class="wb-state">idle' in workbench._status.object


def test_finished_training_fills_the_runs_tab_and_saves(tmp_path):
    workbench = rendered(Workbench(small_setup(steps=30), runs_dir=str(tmp_path)))
    workbench.train()
    assert workbench.wait(60) == "done"
    assert len(workbench.runs) == 1 and workbench._save_button.disabled is False
    # After the end the views show the Run's full grid, not the coarse snapshot.
    assert len(workbench._field_plots["u"].source.data["coord"]) == 201
    folder = workbench.save()
    assert (folder / "run.nc").is_file() and (folder / "report.html").is_file()
    workbench.load(folder)
    assert len(workbench.runs) == 2 and workbench._compare_b.value.endswith(folder.name)
    archive = workbench._zip_run()
    assert archive.getbuffer().nbytes > 1000


def test_uploaded_run_joins_the_runs_tab(tmp_path):
    run = fit(Poisson1D(), PINN(**SMALL), steps=5, progress=False)
    run.save(tmp_path)
    workbench = Workbench()
    workbench._upload.filename = "run.nc"
    workbench._upload.value = (tmp_path / "run.nc").read_bytes()
    assert len(workbench.runs) == 1
    workbench._upload.filename = "broken.nc"
    workbench._upload.value = b"not a netcdf file"
    assert len(workbench.runs) == 1 and "broken.nc" in workbench._alert.object


def test_diverging_setup_ends_in_state_diverged_with_a_message():
    setup = small_setup(Burgers1D(), steps=2000, lr=10.0, eval_every=0)
    workbench = rendered(Workbench(setup))
    workbench.train()
    assert workbench.wait(60) == "diverged"
    assert "diverged at step" in workbench.live.message
    assert workbench._alert.visible and "last good state" in workbench._alert.object
    assert 'class="wb-state">diverged' in workbench._status.object


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_bad_setup_is_a_message_not_an_exception():
    workbench = Workbench(small_setup())
    workbench.setup.training.device = "cuda"
    workbench.train()
    assert workbench.live.state == "idle"
    assert workbench._alert.visible and "device" in workbench._alert.object


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
    a._problem_select.value = "heat1d"
    assert b.setup.problem.name == "burgers1d"
    assert a.live is not b.live and a._loss_plot is not b._loss_plot


# --- shareable set-ups ----------------------------------------------------------------------
def test_query_round_trip_reproduces_the_setup():
    setup = Setup(Burgers1D(nu=0.005), PINN(width=64, activation="sin"), [], Training(steps=3000))
    query = to_query(setup)
    assert query["p.nu"] == "0.005" and query["m.activation"] == "sin" and "m.depth" not in query
    workbench = Workbench.from_query(query)
    assert workbench._problem_select.value == "burgers1d"
    assert workbench.setup.method.width == 64 and workbench.setup.training.steps == 3000
    assert to_query(workbench.setup) == query


@pytest.mark.parametrize(
    "query, message",
    [
        ({"problem": "nope"}, "unknown problem 'nope'"),
        ({"p.nu": "-1"}, "p.nu=-1"),
        ({"m.activation": "relu"}, "allowed: tanh"),
        ({"reg": "weight_decay", "r.l2.weight": "1"}, "r.l2.weight"),
        ({"x": "1"}, "unknown query key 'x'"),
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
