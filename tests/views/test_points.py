"""Tests of the ``/points`` views: collocation points (kept/new) and PIG Gaussians."""

import holoviews as hv
import numpy as np
import pytest
import xarray as xr

from workbench.views import field, gaussians, points
from workbench.views.points import gaussian_table, point_dims


def _point_set(name, dims, n, rng):
    return {f"{name}_{d}": (name, rng.uniform(0, 1, n)) for d in dims}


def points_dataset(dims=("x", "y"), n_interior=300, kept=None, n_gaussians=0, lone=False):
    """A synthetic ``/points`` group shaped like ``evaluation.points_dataset`` + PIG anchors."""
    rng = np.random.default_rng(2)
    variables = _point_set("interior", dims, n_interior, rng)
    if kept is not None:
        variables["interior_retained"] = ("interior", np.asarray(kept, dtype=float))
    if not lone:
        variables |= _point_set("boundary", dims, 40, rng)
    for d in dims:
        variables[f"gaussian_{d}"] = ("gaussian", rng.uniform(0, 1, n_gaussians))
        variables[f"gaussian_sigma_{d}"] = ("gaussian", rng.uniform(-0.1, 0.1, n_gaussians))
    variables["gaussian_weight"] = ("gaussian", rng.normal(0, 1, n_gaussians))
    variables["gaussian_channel"] = ("gaussian", np.arange(n_gaussians) % 4)
    return xr.Dataset(variables)


def _image(dims):
    h, v = dims
    coords = {h: np.linspace(0, 1, 11), v: np.linspace(0, 1, 9)}
    da = xr.DataArray(np.zeros((11, 9)), dims=(h, v), coords=coords, name="residual")
    return field(da)


# --- dims -----------------------------------------------------------------------------------
def test_point_dims_ignore_values_widths_and_weights():
    ds = points_dataset(kept=np.ones(300), n_gaussians=10)
    assert point_dims(ds) == ["x", "y"]
    # A lone set keeps its per-point values out through the list of known value names.
    assert point_dims(points_dataset(("x", "t"), kept=np.ones(300), lone=True)) == ["x", "t"]
    assert point_dims(xr.Dataset()) == []


# --- collocation points ---------------------------------------------------------------------
def test_points_split_kept_and_new_and_skip_the_gaussians():
    kept = np.arange(300) % 3 == 0
    overlay = points(points_dataset(kept=kept, n_gaussians=12))
    assert [p.label for p in overlay] == ["interior (kept)", "interior (new)", "boundary"]
    assert [len(p) for p in overlay] == [100, 200, 40]
    assert all(isinstance(p, hv.Points) for p in overlay)
    hv.render(_image(("x", "y")) * overlay, backend="bokeh")


@pytest.mark.parametrize("kept, labels", [(0.0, ["interior"]), (1.0, ["interior (kept)"])])
def test_points_unsplit_when_nothing_or_everything_was_kept(kept, labels):
    overlay = points(points_dataset(kept=np.full(300, kept), lone=True))
    assert [p.label for p in overlay] == labels and len(overlay.get(0)) == 300


def test_points_thin_each_layer_and_follow_plot_dims():
    kept = np.arange(5000) % 2 == 0
    ds = points_dataset(("x", "t"), n_interior=5000, kept=kept)
    overlay = points(ds, max_points=100)
    assert [len(p) for p in overlay] == [100, 100, 40]
    assert all([d.name for d in p.kdims] == ["t", "x"] for p in overlay)


# --- Gaussians ------------------------------------------------------------------------------
def test_gaussians_centres_and_ellipses_overlay_on_a_field():
    ds = points_dataset(n_gaussians=50)
    overlay = gaussians(ds)
    widths, centres = overlay
    assert isinstance(widths, hv.Path) and isinstance(centres, hv.Points)
    assert widths.label == "Gaussian widths (1 sigma)" and centres.label == "Gaussian centres"
    assert [d.name for d in centres.kdims] == ["x", "y"] and len(centres) == 50
    weight = centres.dimension_values("weight")
    # Weakest first, so the strongest are drawn on top.
    assert np.all(np.diff(np.abs(weight)) >= 0)
    bound = float(np.abs(ds["gaussian_weight"]).max())
    opts = centres.opts.get().kwargs
    assert opts["clim"] == pytest.approx((-bound, bound)) and opts["color"] == "weight"
    hv.render(_image(("x", "y")) * overlay, backend="bokeh")


def test_gaussian_ellipses_have_one_sigma_semi_axes():
    ds = points_dataset(n_gaussians=3)
    table = gaussian_table(ds)
    path = gaussians(ds, segments=16).get(0)
    xy = path.array([0, 1])
    breaks = np.flatnonzero(np.isnan(xy[:, 0]))
    assert len(breaks) == 3 and np.all(np.diff(np.r_[-1, breaks]) == 18)  # 17 points + NaN
    for i, rows in enumerate(np.split(xy, breaks + 1)[:3]):
        (cx, cy), (sx, sy) = [c[i] for c in table["centre"]], [s[i] for s in table["sigma"]]
        rows = rows[~np.isnan(rows[:, 0])]
        radius = ((rows[:, 0] - cx) / sx) ** 2 + ((rows[:, 1] - cy) / sy) ** 2
        np.testing.assert_allclose(radius, 1.0)
    assert all(s.min() >= 0 for s in table["sigma"])  # raw widths may be negative


def test_gaussians_keep_the_strongest_and_put_time_horizontally():
    ds = points_dataset(("x", "t"), n_gaussians=40)
    centres = gaussians(ds, max_gaussians=10).get(1)
    assert [d.name for d in centres.kdims] == ["t", "x"] and len(centres) == 10
    strongest = np.sort(np.abs(ds["gaussian_weight"].values))[-10:]
    np.testing.assert_allclose(np.abs(centres.dimension_values("weight")), strongest)
    hv.render(_image(("t", "x")) * gaussians(ds), backend="bokeh")


def test_gaussians_1d_sit_on_the_axis():
    ds = points_dataset(("x",), n_gaussians=5)
    widths, centres = gaussians(ds)
    assert isinstance(centres, hv.Scatter) and len(centres) == 5
    assert not centres.dimension_values("collocation").any()
    segments = widths.array([0, 1])
    ends = segments[~np.isnan(segments[:, 0])]
    assert len(ends) == 10 and not ends[:, 1].any()
    hv.render(gaussians(ds) * points(ds), backend="bokeh")


def test_gaussians_empty_without_a_gaussian_set():
    assert len(gaussians(points_dataset())) == 0  # a zero-size gaussian dim
    assert len(gaussians(points_dataset().drop_dims("gaussian"))) == 0
    assert len(gaussians(xr.Dataset())) == 0
    no_widths = points_dataset(n_gaussians=5).drop_vars(["gaussian_sigma_x", "gaussian_sigma_y"])
    assert len(gaussians(no_widths)) == 0
    assert len(gaussians(points_dataset(n_gaussians=5), dims=("x", "z"))) == 0
