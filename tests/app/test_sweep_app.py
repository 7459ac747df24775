"""The Sweeps tab without a browser: run a small sweep, watch it fill in, stop it, refuse input.

Points run one after another in this process (``workers=0``) unless a test says otherwise;
the core tests cover Dask. As in the Workbench tests, ``flush()`` (what each UI tick calls)
and ``wait()`` are called directly, and the panel is rendered into a plain Document.
"""

import holoviews as hv
import numpy as np
import pytest
import xarray as xr
from bokeh.document import Document

from workbench.app import ServeLimits, Setup, SweepPanel, Workbench
from workbench.app.sweeps import guess_values
from workbench.methods import PINN
from workbench.problems import Convection1D, Poisson1D
from workbench.train import Training

TINY = dict(width=8, depth=1, n_interior=64, n_boundary=16, n_initial=16)


def tiny_setup(steps=30) -> Setup:
    return Setup(Convection1D(), PINN(**TINY), [], Training(steps=steps))


def panel(setup=None, **params) -> SweepPanel:
    setup = setup or tiny_setup()
    sweeps = SweepPanel(lambda: setup.copy(), **params)
    sweeps.__panel__().get_root(Document())
    sweeps.workers.value = 0
    return sweeps


def choose(sweeps: SweepPanel, knob="problem.beta", values="1, 10", seeds="0") -> None:
    sweeps.knob.value = knob
    sweeps.values.value = values
    sweeps.seeds.value = seeds


def curves(element) -> list:
    return [layer for layer in element if isinstance(layer, hv.Curve)]


def test_a_serial_sweep_fills_in_the_status_the_plot_and_the_point_picker():
    sweeps = panel()
    choose(sweeps, values="1, 10, 20")
    assert sweeps.start()
    assert sweeps.wait(120) == "done" and not sweeps.active
    assert sweeps._status.object.startswith("**3 of 3 points**")
    assert "(done)" in sweeps._status.object
    ds = sweeps.result
    assert list(ds["status"].dims) == ["beta"] and (ds["status"] == "done").all()
    assert ds.attrs["points_done"] == 3

    # The plot: l2re against beta, one finite value per point.
    plot = sweeps._plot.object
    assert isinstance(plot, hv.Overlay)
    (curve,) = curves(plot)
    np.testing.assert_allclose(curve.dimension_values(0), [1.0, 10.0, 20.0])
    np.testing.assert_allclose(curve.dimension_values(1), ds["l2re"].values)
    sweeps.metric.value = "wall_s"
    (curve,) = curves(sweeps._plot.object)
    np.testing.assert_allclose(curve.dimension_values(1), ds["wall_s"].values)

    # The point picker: every finished point; the first is shown until another is picked.
    assert sweeps.point.options == ["beta=1", "beta=10", "beta=20"]
    assert sweeps.point.value == "beta=1"
    sweeps.point.value = "beta=10"
    fields = sweeps._point_fields.object
    assert isinstance(fields, hv.Layout) and fields.opts.get().kwargs["title"].startswith(
        "beta=10: done"
    )
    u = fields.Image.I
    np.testing.assert_allclose(
        u.dimension_values(2, flat=False),
        ds["u"].sel(beta=10.0).transpose("x", "t").values,
    )


def test_seeds_become_a_dimension_drawn_as_a_band():
    sweeps = panel()
    choose(sweeps, knob="method.width", values="4, 8", seeds="0, 1")
    assert sweeps.start() and sweeps.wait(120) == "done"
    ds = sweeps.result
    assert dict(ds["status"].sizes) == {"width": 2, "seed": 2}
    assert sweeps._status.object.startswith("**4 of 4 points**")
    assert any(isinstance(layer, hv.Area) for layer in sweeps._plot.object)
    assert sweeps.point.options[-1] == "width=8, seed=1"


@pytest.mark.parametrize(
    "knob, values, seeds, message",
    [
        ("problem.beta", "1, ten", "0", "'ten' is not a valid value; allowed: [0.0, 100.0]"),
        ("problem.beta", "1, 200", "0", "200 is out of bounds; allowed: [0.0, 100.0]"),
        ("problem.beta", " , ", "0", "give at least one value"),
        ("problem.beta", "1, 1.0", "0", "a value is given twice"),
        ("method.depth", "2.5", "0", "'2.5' is not a valid value; allowed: [1, 16]"),
        ("method.activation", "relu", "0", "allowed: one of tanh, sin, gelu, wavelet"),
        ("problem.beta", "1", "", "seeds: give at least one value"),
        ("problem.beta", "1", "-1", "seeds: -1 is out of bounds"),
        ("problem.beta", ", ".join(map(str, range(33))), "0, 1", "66 points, over the cap of 64"),
    ],
)
def test_bad_input_is_refused_before_anything_starts(knob, values, seeds, message):
    sweeps = panel()
    choose(sweeps, knob, values, seeds)
    with pytest.raises(ValueError) as raised:
        sweeps.grid()
    assert message in str(raised.value)
    assert not sweeps.start()
    assert sweeps._alert.visible and message in sweeps._alert.object
    assert sweeps._thread is None and sweeps.result is None and sweeps.state == "idle"


def test_the_server_caps_apply_to_every_point():
    limits = ServeLimits(max_steps=40, max_trainings=1)
    sweeps = panel(limits=limits)
    choose(sweeps, knob="training.lbfgs_steps", values="5, 20")
    assert not sweeps.start()
    message = "training.lbfgs_steps=20: steps + lbfgs_steps = 50 is over this server's cap of 40"
    assert message in sweeps._alert.object
    choose(sweeps, knob="training.lbfgs_steps", values="0, 5")
    assert sweeps.start()
    assert not limits.acquire()  # the sweep holds the one training slot while it runs
    assert sweeps.wait(120) == "done" and not sweeps._alert.visible
    assert limits.acquire()  # and gives it back
    limits.release()


def test_stop_ends_a_running_sweep_early_with_points_pending():
    sweeps = panel(tiny_setup(steps=400))
    choose(sweeps, values="1, 10, 20, 30")
    assert sweeps.start()
    assert sweeps._stop_button.disabled is False and sweeps._run_button.disabled is True
    sweeps.stop()
    assert sweeps.wait(120) == "stopped"
    status = sweeps.result["status"].values
    assert (status == "pending").sum() >= 2 and sweeps.result.attrs["points_done"] <= 2
    assert sweeps._status.object.endswith("(stopped)")
    (curve,) = curves(sweeps._plot.object)  # pending points are left out of the plot
    assert len(curve) == sweeps.result.attrs["points_done"]
    assert sweeps._stop_button.disabled and not sweeps._run_button.disabled
    assert len(sweeps.point.options) == sweeps.result.attrs["points_done"]
    # A new sweep starts afresh.
    choose(sweeps, values="1")
    sweeps._setup = lambda: tiny_setup(steps=10)
    assert sweeps.start() and sweeps.wait(60) == "done"
    assert sweeps._status.object.startswith("**1 of 1 points**")


def test_knobs_and_value_guesses_follow_the_workbench_setup():
    wb = Workbench(Setup(Convection1D(), PINN(**TINY), [], Training(steps=10)))
    wb.__panel__().get_root(Document())
    sweeps = wb.sweeps
    options = sweeps.knob.options
    assert options["beta (problem)"] == "problem.beta" and "seed (training)" not in options
    assert {"method.width", "method.activation", "training.lr"} <= set(options.values())
    assert sweeps.knob.value == "problem.beta" and sweeps.values.value == "15, 30, 60"
    sweeps.knob.value = "method.depth"
    assert sweeps.values.value == "1, 2"  # half of depth 1 is out of bounds
    sweeps.knob.value = "method.hard_constraints"
    assert sweeps.values.value == "false, true"
    sweeps.knob.value = "training.lbfgs_steps"
    assert sweeps.values.value == "0, 10, 100"
    assert guess_values(PINN.param.n_interior, None) == "none"

    # Another problem: its knobs once the Sweeps tab is opened.
    wb.setup_panel._problem_select.value = "poisson1d"
    wb.tabs.active = wb.tabs._names.index("Sweeps")
    assert "problem.beta" not in sweeps.knob.options.values()
    assert sweeps.knob.value in sweeps.knob.options.values()


def test_the_sweeps_tab_survives_a_trainings_result_tabs():
    wb = Workbench(Setup(Poisson1D(), PINN(**TINY), [], Training(steps=10)))
    wb.__panel__().get_root(Document())
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]
    sweeps = dict(zip(wb.tabs._names, wb.tabs.objects))["Sweeps"]
    prior_draws = xr.Dataset({"u": (("sample", "x"), np.zeros((3, 8)))}, coords={"x": range(8)})
    wb.result_tabs.show(xr.DataTree.from_dict({"samples": prior_draws}))
    assert wb.tabs._names == ["Live", "Runs", "Sweeps", "Samples"]
    wb.result_tabs.show(None)
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]
    assert dict(zip(wb.tabs._names, wb.tabs.objects))["Sweeps"] is sweeps
    wb.shutdown()


def test_a_sweep_on_a_local_dask_cluster():
    pytest.importorskip("distributed")
    sweeps = panel()
    choose(sweeps, values="1, 10")
    sweeps.workers.value = 2
    assert sweeps.start() and sweeps.wait(120) == "done"
    assert sweeps._status.object.startswith("**2 of 2 points**")
    assert np.isfinite(sweeps.result["l2re"].values).all()


def test_a_log_spaced_knob_gets_markers_a_log_axis_and_an_old_error_goes():
    sweeps = panel(tiny_setup(steps=5))
    choose(sweeps, knob="problem.beta", values="1, ten")
    assert not sweeps.start() and sweeps._alert.visible  # a refusal, shown
    choose(sweeps, knob="training.lr", values="0.001, 0.01, 0.1")
    assert sweeps.start()
    sweeps.notify("a sweep is already running: stop it first")  # a click while it ran
    assert sweeps.wait(120) == "done"
    assert "(done)" in sweeps._status.object and not sweeps._alert.visible
    plot = sweeps._plot.object
    (curve,) = curves(plot)
    (markers,) = [layer for layer in plot if isinstance(layer, hv.Scatter)]
    np.testing.assert_allclose(markers.dimension_values(0), [0.001, 0.01, 0.1])
    np.testing.assert_allclose(markers.dimension_values(1), curve.dimension_values(1))
    assert plot.opts.get().kwargs["logx"] is True
    assert curve.vdims[0].label == "relative L2 error"
    assert sweeps.metric.options == {
        "l2re": "l2re",
        "final loss": "loss",
        "wall time (s)": "wall_s",
    }


def test_evenly_spaced_values_keep_a_linear_axis():
    from workbench.views.sweeps import _spans_decades

    assert not _spans_decades(np.array([1.0, 10.0, 20.0]))  # a decade, but evenly stepped
    assert not _spans_decades(np.array([0.5, 1.0, 2.0]))  # under a decade
    assert _spans_decades(np.array([1e-3, 3e-3, 1e-2]))
    assert _spans_decades(np.array([1e-4, 1e-2]))
    assert not _spans_decades(np.array([0.0, 1.0, 10.0]))  # zero has no place on a log axis


def test_a_generators_metric_is_named_energy_distance():
    from workbench.methods import PBFM
    from workbench.problems import Darcy2D

    sweeps = panel(Setup(Darcy2D(), PBFM(), [], Training(steps=5)))
    assert sweeps.metric.options["energy distance"] == "l2re"
    assert "l2re" not in sweeps.metric.options
