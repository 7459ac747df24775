"""Tests of the pure xarray -> HoloViews views on synthetic Runs."""

import json
import subprocess
import sys

import holoviews as hv
import numpy as np
import pytest
import xarray as xr
from bokeh.models import LogScale

from workbench.views import compare, error_history, field, history, points, report

LOSS_TERMS = {
    "residual": "PDE residual loss",
    "boundary": "boundary loss",
    "initial": "initial condition loss",
    "weight_decay": "weight decay",
}


def _coord(name, values, long_name, units):
    attrs = {"long_name": long_name, "units": units}
    return xr.DataArray(values, dims=name, coords={name: (name, values, attrs)})


def _history(n=50):
    step = np.arange(n) * 10
    rng = np.random.default_rng(0)
    hist = xr.Dataset(coords={"step": ("step", step, {"long_name": "training step"})})
    for name, long_name in LOSS_TERMS.items():
        hist[name] = ("step", np.exp(-step / 200) * rng.uniform(0.5, 1.5, n))
        hist[name].attrs = {"long_name": long_name, "role": "loss_term"}
    hist["weight_decay"][:] = 0.0  # an unused regulariser: zeros on a log axis
    hist["residual"][3] = np.nan  # a skipped evaluation
    hist["loss"] = sum(hist[name] for name in LOSS_TERMS).fillna(1.0)
    hist["loss"].attrs = {"long_name": "total loss", "role": "loss_total"}
    l2re = np.full(n, np.nan)
    l2re[::10] = np.linspace(1.0, 1e-3, len(l2re[::10]))
    hist["l2re"] = ("step", l2re, {"long_name": "relative L2 error"})
    hist["lr"] = ("step", np.full(n, 1e-3), {"long_name": "learning rate"})
    hist["wall_s"] = (
        "step",
        np.linspace(0, 12.5, n),
        {"long_name": "wall time", "units": "s"},
    )
    return hist


def _fields(kind):
    x = _coord("x", np.linspace(-1, 1, 41), "position", "m")
    if kind == "1d":
        u_ref = np.sin(np.pi * x)
        u = u_ref + 0.01 * x**2
    else:
        second = (
            _coord("t", np.linspace(0, 1, 21), "time", "s")
            if kind == "xt"
            else _coord("y", np.linspace(0, 2, 21), "height", "m")
        )
        u_ref = np.sin(np.pi * x) * np.exp(-second)
        u = u_ref + 0.01 * x * second
    ds = xr.Dataset(
        {
            "u": u.assign_attrs(long_name="prediction", units="m/s"),
            "u_ref": u_ref.assign_attrs(long_name="reference", units="m/s"),
            "error": (u - u_ref).assign_attrs(long_name="pointwise error", units="m/s"),
            "residual": (0.1 * (u - u_ref) - 1e-3).assign_attrs(long_name="PDE residual", units=""),
        }
    )
    return ds.transpose("x", ...)


def _points(dims, sizes=None):
    sizes = sizes or {"interior": 300, "boundary": 40, "initial": 20}
    rng = np.random.default_rng(1)
    return xr.Dataset(
        {f"{s}_{d}": (s, rng.uniform(0, 1, n)) for s, n in sizes.items() for d in dims}
    )


def make_run(kind="xt", with_points=True):
    dims = {"1d": ("x",), "xt": ("x", "t"), "xy": ("x", "y")}[kind]
    groups = {"history": _history(), "fields": _fields(kind)}
    if with_points:
        groups["points"] = _points(dims)
    tree = xr.DataTree.from_dict(groups)
    tree.attrs = {
        "problem": f"toy_{kind}",
        "method": "pinn",
        "problem_params": json.dumps({"nu": 0.01}),
        "method_params": json.dumps({"width": 32, "depth": 4}),
        "regularizers": json.dumps([]),
        "seed": 0,
        "device": "cpu",
        "status": "done",
        "message": "",
        "workbench_version": "0.0.0",
        "torch_version": "none",
        "created": "2026-01-01T00:00:00",
        # The final model state's metric: the history's last value (1e-3) is an earlier step's.
        "l2re": 2e-3,
    }
    return tree


def _color_mapper(element):
    fig = hv.render(element, backend="bokeh")
    return next(r.glyph.color_mapper for r in fig.renderers if hasattr(r.glyph, "color_mapper"))


def test_field_1d_is_curve_labelled_from_attrs():
    ds = _fields("1d")
    curve = field(ds["u"])
    assert isinstance(curve, hv.Curve)
    assert [d.name for d in curve.kdims] == ["x"] and [d.name for d in curve.vdims] == ["u"]
    assert curve.kdims[0].label == "position" and curve.kdims[0].unit == "m"
    assert curve.vdims[0].label == "prediction"
    np.testing.assert_allclose(curve.dimension_values("u"), ds["u"].values)
    fig = hv.render(curve, backend="bokeh")
    assert fig.xaxis[0].axis_label == "position (m)"


def test_field_xt_is_image_with_time_horizontal():
    ds = _fields("xt")
    img = field(ds["u"], title="my title")
    assert isinstance(img, hv.Image)
    assert [d.name for d in img.kdims] == ["t", "x"] and [d.name for d in img.vdims] == ["u"]
    assert [d.label for d in img.kdims] == ["time", "position"]
    # Orientation: sampling the image at (t, x) gives the field value there.
    t, x = 0.5, ds.x.values[7]
    assert img[t, x] == pytest.approx(float(ds["u"].sel(t=t, x=x)))
    fig = hv.render(img, backend="bokeh")
    assert fig.title.text == "my title"


def test_field_xy_keeps_x_horizontal():
    img = field(_fields("xy")["u"])
    assert [d.name for d in img.kdims] == ["x", "y"]


def test_field_irregular_grid_uses_quadmesh():
    ds = _fields("xt")
    ds = ds.assign_coords(x=np.cos(np.linspace(np.pi, 0, ds.sizes["x"])))
    assert isinstance(field(ds["u"]), hv.QuadMesh)


def test_field_symmetric_colormap():
    ds = _fields("xt")
    mapper = _color_mapper(field(ds["error"]))
    bound = float(np.abs(ds["error"]).max())
    assert (mapper.low, mapper.high) == pytest.approx((-bound, bound))
    assert mapper.palette[0] != _color_mapper(field(ds["u"])).palette[0]
    # symmetric=False opts out of the centred range
    mapper = _color_mapper(field(ds["error"], symmetric=False))
    assert mapper.low == pytest.approx(float(ds["error"].min()))


def test_field_rejects_3d():
    with pytest.raises(ValueError, match="1D or 2D"):
        field(xr.DataArray(np.zeros((2, 2, 2)), dims=("x", "y", "t")))


def test_compare_xt_panels_and_shared_colour_range():
    ds = _fields("xt")
    layout = compare(ds)
    assert isinstance(layout, hv.Layout) and len(layout) == 4
    assert all(isinstance(p, hv.Image) for p in layout)
    assert [p.vdims[0].name for p in layout] == ["u", "u_ref", "error", "residual"]
    pred, ref = (_color_mapper(p) for p in list(layout)[:2])
    assert (pred.low, pred.high) == (ref.low, ref.high)
    hv.render(layout, backend="bokeh")
    assert len(compare(ds[["u", "error"]])) == 2


def test_compare_1d_overlays_prediction_and_reference():
    layout = compare(_fields("1d"))
    assert len(layout) == 3
    first = next(iter(layout))
    assert isinstance(first, hv.Overlay)
    assert [c.label for c in first] == ["prediction", "reference"]
    assert [c.vdims[0].name for c in list(layout)[1:]] == ["error", "residual"]
    hv.render(layout, backend="bokeh")


def test_points_xt_layers_per_set():
    overlay = points(_points(("x", "t"), {"interior": 300, "boundary": 40, "initial": 0}))
    assert isinstance(overlay, hv.Overlay)
    assert [p.label for p in overlay] == ["interior", "boundary"]  # empty set skipped
    assert all(isinstance(p, hv.Points) for p in overlay)
    assert all([d.name for d in p.kdims] == ["t", "x"] for p in overlay)
    assert len(overlay.get(0)) == 300
    # overlays directly on a field image
    hv.render(field(_fields("xt")["residual"]) * overlay, backend="bokeh")


def test_points_subsampling_and_explicit_dims():
    overlay = points(_points(("x", "t"), {"interior": 5000}), ("x", "t"), max_points=100)
    assert len(overlay.get(0)) == 100


def test_points_1d_and_empty():
    overlay = points(_points(("x",)))
    assert all(isinstance(p, hv.Scatter) for p in overlay) and len(overlay) == 3
    hv.render(field(_fields("1d")["u"]) * overlay, backend="bokeh")
    assert len(points(xr.Dataset())) == 0


def test_history_one_curve_per_loss_variable_on_log_axis():
    hist = _history()
    overlay = history(hist)
    assert isinstance(overlay, hv.Overlay)
    assert [c.vdims[0].name for c in overlay] == [*LOSS_TERMS, "loss"]
    assert [c.label for c in overlay] == [*LOSS_TERMS.values(), "total loss"]
    assert all(c.kdims[0].name == "step" for c in overlay)
    by_name = {c.vdims[0].name: c for c in overlay}
    assert len(by_name["residual"]) == hist.sizes["step"] - 1  # NaN dropped
    for curve in overlay:
        values = curve.dimension_values(1)
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    fig = hv.render(overlay, backend="bokeh")
    assert isinstance(fig.y_scale, LogScale)
    assert 0 < fig.y_range.start < fig.y_range.end


def test_history_explicit_floor():
    overlay = history(_history(), floor=1e-8)
    wd = next(c for c in overlay if c.vdims[0].name == "weight_decay")
    assert np.all(wd.dimension_values("weight_decay") == 1e-8)


def test_error_history_skips_nan():
    hist = _history()
    curve = error_history(hist)
    assert isinstance(curve, hv.Curve)
    assert [d.name for d in curve.dimensions()] == ["step", "l2re"]
    assert len(curve) == int(np.isfinite(hist["l2re"]).sum())
    fig = hv.render(curve, backend="bokeh")
    assert isinstance(fig.y_scale, LogScale)
    hv.render(error_history(hist.drop_vars("l2re")), backend="bokeh")


def _assert_self_contained(text):
    assert "cdn.bokeh.org" not in text and "cdn.holoviz.org" not in text
    assert "<script src=" not in text and '<link rel="stylesheet"' not in text
    assert "BEGIN bokeh" in text  # BokehJS itself is inlined


@pytest.mark.parametrize("kind", ["1d", "xt"])
def test_report_is_self_contained(tmp_path, kind):
    out = report(make_run(kind), tmp_path / "sub" / "report.html")
    assert out == tmp_path / "sub" / "report.html" and out.exists()
    text = out.read_text()
    assert f"toy_{kind}" in text and "pinn" in text
    # The final state's value (the root attr, as the summary prints it), not the history's last.
    assert "<th>final relative L2 error</th><td>l2re 0.002</td>" in text
    assert "&quot;nu&quot;: 0.01" in text  # pretty-printed, escaped params
    _assert_self_contained(text)


def test_report_shows_combiner_diagnostics_and_gaussians(tmp_path):
    tree = make_run("xy")
    hist = tree["history"].to_dataset()
    step = hist["step"].values
    hist["grad_cosine"] = ("step", np.cos(step / 50), {"long_name": "cosine", "role": "diagnostic"})
    hist["weight_boundary"] = ("step", 1 + step, {"long_name": "weight", "role": "diagnostic"})
    pts = tree["points"].to_dataset()
    rng = np.random.default_rng(3)
    pts["interior_retained"] = ("interior", (np.arange(300) % 2).astype(float))
    for d in ("x", "y"):
        pts[f"gaussian_{d}"] = ("gaussian", rng.uniform(-1, 1, 30))
        pts[f"gaussian_sigma_{d}"] = ("gaussian", rng.uniform(0.05, 0.1, 30))
    pts["gaussian_weight"] = ("gaussian", rng.normal(size=30))
    pts["gaussian_channel"] = ("gaussian", np.zeros(30, dtype=int))
    tree["history"] = xr.DataTree(hist)
    tree["points"] = xr.DataTree(pts)
    tree.attrs["combiner"] = json.dumps({"name": "lra", "params": {"alpha": 0.2}})
    text = report(tree, tmp_path / "aids.html").read_text()
    for title in ("loss-term weights", "gradient agreement", "PIG Gaussians", "interior (kept)"):
        assert title in text
    assert "&quot;alpha&quot;: 0.2" in text  # the combiner in the header
    _assert_self_contained(text)
    # Without them: no such panels.
    text = report(make_run("xy"), tmp_path / "plain.html").read_text()
    assert "gradient agreement" not in text and "PIG Gaussians" not in text


def test_report_without_points(tmp_path):
    tree = make_run("xt", with_points=False)
    _assert_self_contained(report(tree, tmp_path / "a.html").read_text())
    tree["points"] = xr.DataTree(xr.Dataset())
    _assert_self_contained(report(tree, tmp_path / "b.html").read_text())


def test_report_degenerate_groups(tmp_path):
    # History without loss terms or l2re values, fields with only a prediction.
    tree = make_run("xt")
    tree["history"] = xr.DataTree(_history()[["lr", "wall_s"]])
    tree["fields"] = xr.DataTree(tree["fields"].to_dataset()[["u"]])
    _assert_self_contained(report(tree, tmp_path / "r.html").read_text())


def test_report_without_plots_marks_failure(tmp_path):
    tree = xr.DataTree()
    tree.attrs = {
        "problem": "burgers",
        "method": "pinn",
        "status": "diverged",
        "message": "NaN loss",
    }
    text = report(tree, tmp_path / "r.html").read_text()
    assert "burgers" in text and "status-bad" in text and "NaN loss" in text


def test_import_is_quiet():
    # No notebook comm/JS output when the views are imported in plain Python.
    proc = subprocess.run(
        [sys.executable, "-c", "import workbench.views"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == ""


def test_dimensionless_axes_carry_no_unit():
    import numpy as np
    import xarray as xr

    from workbench.views import field

    da = xr.DataArray(
        np.zeros((3, 4)),
        dims=("x", "t"),
        coords={
            "x": ("x", np.linspace(0, 1, 3), {"long_name": "position x", "units": "1"}),
            "t": ("t", np.linspace(0, 1, 4), {"long_name": "time t", "units": "s"}),
        },
        name="u",
        attrs={"long_name": "solution u", "units": "1"},
    )
    labels = {d.name: d.pprint_label for d in field(da).dimensions()}
    assert labels["x"] == "position x" and labels["t"] == "time t (s)"
    assert labels["u"] == "solution u"
