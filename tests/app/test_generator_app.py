"""The Workbench on field generators (flow matching, diffusion), without a browser.

A tiny flow-matching model trains on Darcy flow through the Workbench: its live snapshots (a
few samples from fixed noise) draw a gallery instead of one sample's fields, and the finished
Run gets the Samples and Posterior tabs. Fake snapshots (a 1D grid without a residual) go
through ``_draw_fields``, what each UI tick does with a snapshot; fake Runs show that the
tabs follow the groups, not the method.
"""

import time

import numpy as np
import panel as pn
import xarray as xr
from bokeh.document import Document

from workbench.app import Setup, Workbench
from workbench.app.result_tabs import GENERATOR_TABS, RESULT_TABS, result_tabs
from workbench.methods import PINN, FlowMatching
from workbench.problems import PROBLEMS, Darcy2D, Poisson2D
from workbench.train import Training


def wait_until(condition, timeout=60.0):
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def generated(dims=("x", "y"), n=4, size=8, residual=True, name="a"):
    """A field generator's snapshot (or ``/samples``): input, u and maybe |residual|."""
    rng = np.random.default_rng(size)
    shape = (n, *(size,) * len(dims))
    var = ("sample", *dims)
    ds = xr.Dataset(
        {name: (var, rng.uniform(1, 5, shape)), "u": (var, rng.normal(size=shape))},
        coords={d: (d, np.linspace(0, 1, size), {"long_name": f"position {d}"}) for d in dims},
    )
    if residual:
        ds["residual"] = (var, np.abs(rng.normal(size=shape)))
    ds.attrs = {"l2re": 0.3}
    return ds


def posterior(dims=("x", "y"), size=8):
    ds = generated(dims, size=size)
    for c in ("a", "u"):
        ds[f"{c}_true"] = ds[c].isel(sample=0, drop=True)
        ds[f"{c}_mean"] = ds[c].mean("sample")
        ds[f"{c}_std"] = ds[c].std("sample")
        ds[f"{c}_mask"] = xr.zeros_like(ds[f"{c}_true"]) + (c == "u")
    ds.attrs = {"l2re_a": 0.5, "coverage_a": 0.9, "l2re_u": 0.1, "coverage_u": 0.8}
    return ds


def workbench() -> Workbench:
    wb = Workbench(Setup(Poisson2D(), PINN(width=8, depth=1), [], Training(steps=10)))
    wb.__panel__().get_root(Document())
    return wb


def test_a_flow_matching_model_trains_live_and_its_run_gets_the_generator_tabs():
    method = FlowMatching(
        resolution=16,
        n_train=40,
        n_test=10,
        batch_size=8,
        n_samples=8,
        posterior_samples=4,
        sample_steps=4,
        width=8,
        levels=2,
    )
    wb = Workbench(Setup(Darcy2D(), method, [], Training(steps=100_000)))
    view = wb.live_view
    wb.__panel__().get_root(Document())
    wb.train()
    wait_until(lambda: wb.live._snapshot_version > 0)
    wb.flush()
    # Live: the gallery of the snapshot's samples in place of one sample's field plots.
    gallery = view._gallery_plot
    assert gallery is not None and gallery.rows == ["a", "u", "residual"]
    assert [f.title.text for f in gallery.figures][2] == "|PDE residual| / forcing scale"
    assert len(gallery.sources[1].data["image"]) == 8 == gallery.samples
    assert view._field_plots == {} and view._fields_box.objects == []
    assert not view._sample.visible and not view._show_points.visible
    # What the gallery is, its metric (named: an energy distance), then the samples.
    assert len(view._gallery_box.objects) == 3
    assert view._gallery_metric.object.startswith("**energy distance ")
    panes, seen = view._gallery_panes, wb.live._snapshot_version
    wait_until(lambda: wb.live._snapshot_version > seen)
    wb.flush()  # the next snapshot redraws the same figures
    assert view._gallery_panes is panes and view._gallery_plot is gallery
    wb.stop()
    assert wb.wait(120) == "stopped"

    names = wb.tabs._names
    # No operator gallery, no prior draws.
    assert names == ["Live", "Runs", "Sweeps", *GENERATOR_TABS]
    tabs = dict(zip(names, wb.tabs.objects))
    assert all(len(tab._models) == 1 for tab in tabs.values())
    assert tabs["Samples"].object.opts.get().kwargs["title"].startswith("8 generated samples")
    summary, samples = tabs["Posterior"].select(pn.pane.HoloViews)
    assert "posterior of a, u given u" in summary.object.opts.get().kwargs["title"]
    # After training the gallery shows the Run's fields.
    np.testing.assert_allclose(
        view._gallery_plot.sources[0].data["image"][0],
        wb.live.run.fields["a"].isel(sample=0).transpose("y", "x").values,
    )
    # The Runs tab compares generator runs too (they have no error field: their residual).
    label = wb.runs[0][0]
    image = wb.runs_tab._compare(label, label)[0][1].object
    assert "residual of generated sample 0" in image.opts.get().kwargs["title"]

    wb.reset()
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]
    assert view._gallery_plot is None and len(view._gallery_box.objects) == 1
    assert "appear here" in view._gallery_box.objects[0].object  # waits for its samples
    # A field generator learns a family: no instance's reference or blank prediction panels.
    assert view._field_plots == {} and not view._show_points.visible


def test_a_1d_snapshot_without_residual_draws_curves_and_other_fields_clear_it():
    wb = workbench()
    view = wb.live_view
    view.draw_fields(generated(("x",), size=16, residual=False, name="u0"), None)
    gallery = view._gallery_plot
    assert gallery.rows == ["u0", "u"] and len(gallery.figures) == 2
    data = gallery.sources[1].data
    assert len(data["coord"]) == 16 and [k for k in data if k != "coord"] == [
        f"s{k}" for k in range(4)
    ]
    assert gallery.figures[0].xaxis[0].axis_label == "position x"
    # A 2D snapshot needs other figures; one with a residual a row more.
    view.draw_fields(generated(), None)
    assert view._gallery_plot is not gallery and view._gallery_plot.rows == ["a", "u", "residual"]
    low, high = view._gallery_plot.mappers[2].low, view._gallery_plot.mappers[2].high
    assert low == 0 and high > 0  # magnitudes: white at zero
    # The problem's own fields take the field plots back.
    view.draw_fields(view._fields.isel(sample=0).drop_vars("a").rename(u="u_ref"), None)
    assert view._gallery_plot is None and list(view._field_plots) == ["u_ref", "residual"]


def test_tabs_follow_the_groups_not_the_method():
    samples = generated(n=6)
    tree = xr.DataTree.from_dict({"samples": samples, "posterior": posterior()})
    tabs = result_tabs(tree)
    assert list(tabs) == ["Samples", "Posterior"]
    for tab in tabs.values():
        tab.get_root(Document())
    assert len(tabs["Samples"].object) == 3 * 6  # a row per channel and residual
    assert len(tabs["Posterior"].select(pn.pane.HoloViews)) == 2
    assert list(result_tabs(xr.DataTree.from_dict({"posterior": posterior()}))) == ["Posterior"]
    # u alone is a latent model's prior draws; with a truth it is an operator's test set.
    prior = samples[["u"]]
    (tab,) = result_tabs(xr.DataTree.from_dict({"samples": prior})).values()
    assert "draws from the prior" in tab.object.opts.get().kwargs["title"]
    test_set = samples.assign(u_ref=samples.u)
    assert list(result_tabs(xr.DataTree.from_dict({"samples": test_set}))) == [RESULT_TABS[0]]
    with_z = samples.assign(z=(("sample", "latent"), np.zeros((6, 2))))
    (tab,) = result_tabs(xr.DataTree.from_dict({"samples": with_z})).values()
    assert "draws from the prior" in tab.object.opts.get().kwargs["title"]

    wb = workbench()
    wb.result_tabs.show(tree)
    assert wb.tabs._names == ["Live", "Runs", "Sweeps", "Samples", "Posterior"]
    wb.result_tabs.show(None)
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]


def test_switching_to_a_generator_and_back_swaps_the_preview():
    workbench = Workbench(Setup(Darcy2D(), PINN(), [], Training(steps=5)))
    workbench.__panel__().get_root(Document())
    view = workbench.live_view
    workbench.setup_panel._problem_select.value = "darcy2d"
    workbench.setup_panel._method_select.value = "flow_matching"
    assert "appear here" in view._gallery_box.objects[0].object
    assert not view._fields_box.objects
    workbench.setup_panel._method_select.value = "fno"
    assert view._fields_box.objects and not view._gallery_box.objects


def test_a_generator_of_kolmogorov_velocities_draws_its_channels_live(tmp_path, monkeypatch):
    # The channels are named by the problem (vel_x, vel_y), not the family's input and u.
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "data"))
    method = FlowMatching(
        resolution=16,
        n_train=16,
        n_test=4,
        batch_size=4,
        n_samples=4,
        posterior_samples=2,
        sample_steps=2,
        width=4,
        levels=1,
    )
    problem = PROBLEMS["kolmogorov2d"](spinup=1.0, dt=0.5)
    wb = Workbench(Setup(problem, method, [], Training(steps=100_000)))
    wb.__panel__().get_root(Document())
    wb.train()
    wait_until(lambda: wb.live._snapshot_version > 0, timeout=120)
    wb.flush()
    gallery = wb.live_view._gallery_plot
    assert gallery is not None and gallery.rows[:2] == ["vel_x", "vel_y"]
    wb.stop()
    assert wb.wait(120) == "stopped"
    assert "Samples" in wb.tabs._names
