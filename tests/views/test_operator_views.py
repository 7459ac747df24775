"""Tests of the operator-run views (gallery, error histogram, resolution transfer) and of the
fields views on data with a ``sample`` dim, on synthetic groups laid out like an operator Run."""

import holoviews as hv
import numpy as np
import pytest
import xarray as xr

from workbench.views import (
    compare,
    error_histogram,
    field,
    gallery,
    profile,
    report,
    resolution_transfer,
)
from workbench.views.fields import sample_labels, select_sample

#: Test samples keep their indices in the generated dataset: labels need not start at 0.
LABELS = np.arange(100, 106)


def operator_group(dims=("x", "y"), resolution=16, labels=LABELS, input_name="a", **attrs):
    """A ``/samples``-like group: input, u_ref, u, error, rel_l2 along ``sample``."""
    rng = np.random.default_rng(resolution)
    n = len(labels)
    coords = {d: (d, np.linspace(0, 1, resolution), {"long_name": d, "units": "m"}) for d in dims}
    coords["sample"] = ("sample", np.asarray(labels))
    shape = (n,) + (resolution,) * len(dims)
    grid = np.meshgrid(*(np.linspace(0, 1, resolution) for _ in dims), indexing="ij")
    scale = rng.uniform(0.5, 2.0, n).reshape((n,) + (1,) * len(dims))
    truth = scale * np.prod([np.sin(np.pi * g) for g in grid], axis=0)
    prediction = truth + 0.05 * rng.normal(size=shape)
    vdims = ("sample", *dims)
    ds = xr.Dataset(
        {
            input_name: (
                vdims,
                np.where(rng.normal(size=shape) > 0, 12.0, 3.0),
                {"long_name": "coefficient"},
            ),
            "u_ref": (vdims, truth, {"long_name": "reference solution"}),
            "u": (vdims, prediction, {"long_name": "prediction"}),
            "error": (vdims, prediction - truth, {"long_name": "pointwise error"}),
        },
        coords=coords,
    )
    axes = tuple(range(1, len(dims) + 1))
    rel = np.sqrt(((prediction - truth) ** 2).sum(axes) / (truth**2).sum(axes))
    ds["rel_l2"] = ("sample", rel, {"long_name": "relative L2 error"})
    ds.attrs = {"input": input_name, "resolution": resolution, **attrs}
    return ds


def _render(obj):
    return hv.render(obj, backend="bokeh")


def _titles(layout):
    return [_render(p).title.text for p in layout]


# --- gallery ------------------------------------------------------------------------------------
def test_gallery_2d_one_sample_is_a_row_of_images():
    ds = operator_group()
    row = gallery(ds, sample=102)
    assert isinstance(row, hv.Layout) and len(row) == 4
    assert all(isinstance(p, hv.Image) for p in row)
    assert [p.vdims[0].name for p in row] == ["a", "u_ref", "u", "error"]
    titles = _titles(row)
    assert titles[0] == "input a, sample 102"
    assert titles[-1] == f"error, rel L2 {float(ds.rel_l2.sel(sample=102)):.2e}"
    truth, pred, error = (
        next(r.glyph.color_mapper for r in _render(p).renderers) for p in list(row)[1:]
    )
    assert (truth.low, truth.high) == (pred.low, pred.high)
    assert error.low == -error.high and error.high > 0  # diverging, centred on 0
    assert error.palette[0] != truth.palette[0]
    np.testing.assert_allclose(
        np.sort(list(row)[2].dimension_values("u")), np.sort(ds.u.sel(sample=102).values.ravel())
    )


def test_gallery_slider_over_sample_labels():
    ds = operator_group()
    layout = gallery(ds)
    assert isinstance(layout, hv.Layout) and len(layout) == 4
    for panel in layout:
        assert isinstance(panel, hv.DynamicMap)
        assert panel.kdims[0].name == "sample" and panel.kdims[0].values == list(LABELS)
    image = list(layout)[2][104]
    assert isinstance(image, hv.Image)
    np.testing.assert_allclose(
        np.sort(image.dimension_values("u")), np.sort(ds.u.sel(sample=104).values.ravel())
    )
    _render(layout)


def test_gallery_1d_curves_and_missing_parts():
    ds = operator_group(dims=("x",), resolution=64, input_name="u0")
    row = gallery(ds, sample=100)
    assert len(row) == 3
    inp, both, error = row
    assert isinstance(inp, hv.Curve) and inp.vdims[0].name == "u0"
    assert isinstance(both, hv.Overlay) and [c.label for c in both] == ["truth", "prediction"]
    assert isinstance(error, hv.Curve) and error.vdims[0].name == "error"
    assert _titles(row)[0] == "input u0, sample 100"
    _render(row)
    # No input attr, no rel_l2, no truth: what is there is drawn, the titles say less.
    bare = ds.drop_vars(["rel_l2", "u_ref"])
    bare.attrs = {}
    row = gallery(bare, sample=101)
    assert len(row) == 2 and isinstance(list(row)[0], hv.Overlay)
    assert _titles(row) == ["prediction, sample 101", "error"]
    assert len(gallery(ds[["rel_l2"]], sample=100)) == 0
    assert len(gallery(operator_group(dims=("x",)))) == 3


def test_gallery_rejects_bad_input():
    ds = operator_group()
    with pytest.raises(ValueError, match="sample=7 is not in the data; its samples are 100..105"):
        gallery(ds, sample=7)
    with pytest.raises(ValueError, match="'sample' dim"):
        gallery(ds.isel(sample=0))


# --- error histogram ----------------------------------------------------------------------------
def test_error_histogram_marks_the_mean():
    ds = operator_group(labels=np.arange(50))
    overlay = error_histogram(ds)
    hist, mean = overlay
    assert isinstance(hist, hv.Histogram) and isinstance(mean, hv.VLine)
    assert hist.dimension_values("count").sum() == 50
    assert mean.data == pytest.approx(float(ds.rel_l2.mean()))
    assert "16×16" in hist.label and f"{float(ds.rel_l2.mean()):.2e}" in hist.label
    _render(overlay)


def test_error_histogram_overlays_the_transfer_resolution_on_shared_bins():
    ds = operator_group(labels=np.arange(50))
    fine = operator_group(resolution=32, labels=np.arange(50), train_resolution=16)
    fine["rel_l2"][3] = np.nan  # a diverged sample is left out, not a crash
    overlay = error_histogram(ds, fine)
    hists = [e for e in overlay if isinstance(e, hv.Histogram)]
    assert len(hists) == 2 and len([e for e in overlay if isinstance(e, hv.VLine)]) == 2
    assert "16×16" in hists[0].label and "32×32" in hists[1].label
    np.testing.assert_array_equal(hists[0].edges, hists[1].edges)
    assert hists[1].dimension_values("count").sum() == 49
    _render(overlay)
    with pytest.raises(ValueError, match="transfer has no 'rel_l2'"):
        error_histogram(ds, fine.drop_vars("rel_l2"))


# --- resolution transfer --------------------------------------------------------------------------
def test_resolution_transfer_2d_rows_and_bars():
    coarse = operator_group()
    fine = operator_group(resolution=32, train_resolution=16)
    layout = resolution_transfer(coarse, fine, sample=103)
    panels = list(layout)
    assert len(panels) == 5 and isinstance(panels[-1], hv.Bars)
    assert [p.vdims[0].name for p in panels[:4]] == ["u", "error", "u", "error"]
    assert panels[0].dimension_values("u").size == 16 * 16
    assert panels[2].dimension_values("u").size == 32 * 32
    titles = _titles(panels[:4])
    assert titles[:3] == ["prediction at 16×16 (training)", titles[1], "prediction at 32×32"]
    assert titles[1].startswith("error at 16×16, rel L2")
    assert titles[3] == f"error at 32×32, rel L2 {float(fine.rel_l2.sel(sample=103)):.2e}"
    mappers = [next(r.glyph.color_mapper for r in _render(p).renderers) for p in panels[:4]]
    assert (mappers[0].low, mappers[0].high) == (mappers[2].low, mappers[2].high)
    assert mappers[1].low == mappers[3].low == -mappers[3].high
    np.testing.assert_allclose(
        panels[-1].dimension_values("rel_l2"), [coarse.rel_l2.mean(), fine.rel_l2.mean()]
    )
    _render(layout)
    # No rel_l2 -> no bars.
    assert len(resolution_transfer(coarse.drop_vars("rel_l2"), fine, sample=100)) == 4


def test_resolution_transfer_slider_over_shared_samples():
    coarse = operator_group()
    fine = operator_group(resolution=32).isel(sample=slice(2, None))
    layout = resolution_transfer(coarse, fine)
    assert len(layout) == 5 and all(isinstance(p, hv.DynamicMap) for p in layout)
    assert list(layout)[0].kdims[0].values == list(LABELS[2:])
    _render(layout)
    with pytest.raises(ValueError, match="share no sample"):
        resolution_transfer(coarse.isel(sample=[0]), fine)


def test_resolution_transfer_1d_overlays_both_resolutions():
    coarse = operator_group(dims=("x",), resolution=64, input_name="u0")
    fine = operator_group(dims=("x",), resolution=128, input_name="u0")
    layout = resolution_transfer(coarse, fine, sample=100)
    both, errors, bars = layout
    assert [c.label for c in both] == ["truth", "prediction at 64 (training)", "prediction at 128"]
    assert len(both.get(0)) == 128  # the truth on the finer grid
    assert [c.label.split(",")[0] for c in errors] == ["error at 64 (training)", "error at 128"]
    assert isinstance(bars, hv.Bars)
    _render(layout)
    with pytest.raises(ValueError, match="sample=100 is not in the data"):
        resolution_transfer(coarse, fine.isel(sample=slice(1, None)), sample=100)


# --- the fields views on a sample dim -----------------------------------------------------------
def fields_group(dims=("x", "y")):
    """``/fields`` of an operator run: the first few test samples, a residual, no rel_l2."""
    ds = operator_group(dims=dims, labels=np.arange(3)).drop_vars("rel_l2")
    ds["residual"] = 0.1 * ds["error"]
    ds.attrs["l2re"] = 0.05
    return ds


def test_sample_helpers():
    ds = operator_group()
    np.testing.assert_array_equal(sample_labels(ds), LABELS)
    np.testing.assert_array_equal(sample_labels(ds.drop_vars("sample")), np.arange(6))
    one = select_sample(ds, 101)
    assert "sample" not in one.dims and int(one["sample"]) == 101


@pytest.mark.parametrize("dims", [("x", "y"), ("x",)])
def test_compare_and_field_with_a_sample_dim(dims):
    ds = fields_group(dims)
    one = compare(ds, sample=1)
    expected = compare(ds.isel(sample=1))
    assert len(one) == len(expected) == (4 if len(dims) == 2 else 3)
    slider = compare(ds)
    assert len(slider) == len(expected)
    assert all(isinstance(p, hv.DynamicMap) for p in slider)
    assert list(slider)[0].kdims[0].values == [0, 1, 2]
    _render(slider)
    assert isinstance(field(ds["u"], sample=2), hv.Image if len(dims) == 2 else hv.Curve)
    assert isinstance(field(ds["error"]), hv.DynamicMap)
    with pytest.raises(ValueError, match="no 'sample' dim"):
        field(ds["u"].isel(sample=0), sample=0)


def test_profile_with_a_sample_dim():
    ds = fields_group(("x", "t"))
    assert isinstance(profile(ds, "t", 0.5, sample=0), hv.Overlay)
    assert isinstance(profile(ds, "t", 0.5), hv.DynamicMap)


def test_point_based_fields_are_unchanged():
    ds = fields_group().isel(sample=0, drop=True)
    assert all(isinstance(p, hv.Image) for p in compare(ds))


# --- report -------------------------------------------------------------------------------------
def operator_tree(dims=("x", "y"), transfer=True):
    res = 16 if len(dims) == 2 else 64
    groups = {
        "history": xr.Dataset(
            {"loss": ("step", [1.0, 0.5], {"role": "loss_total", "long_name": "total loss"})},
            coords={"step": [0, 1]},
        ),
        "fields": fields_group(dims),
        "samples": operator_group(dims, resolution=res, labels=np.arange(20)),
    }
    if transfer:
        groups["transfer"] = operator_group(
            dims, resolution=2 * res, labels=np.arange(20), train_resolution=res
        )
    tree = xr.DataTree.from_dict(groups)
    tree.attrs = {"problem": "darcy2d", "method": "fno", "status": "done"}
    return tree


@pytest.mark.parametrize("dims", [("x", "y"), ("x",)])
def test_report_of_an_operator_run(tmp_path, dims):
    text = report(operator_tree(dims), tmp_path / "r.html").read_text()
    assert "relative L2 error per test sample" in text
    assert "worst test sample" in text and "best test sample" in text
    assert "mean over the test set" in text  # the transfer panel
    assert "<script src=" not in text
    text = report(operator_tree(dims, transfer=False), tmp_path / "s.html").read_text()
    assert "relative L2 error per test sample" in text and "mean over the test set" not in text
