"""Views of sweeps on hand-made sweep Datasets (no training, no torch)."""

import holoviews as hv
import numpy as np
import pytest
import xarray as xr

from workbench.views import sweep_curve, sweep_heatmap, sweep_plot, sweep_point


def made_sweep(knobs: dict, seeds=(0, 1, 2), fields=False, pending=()):
    """A sweep's Dataset: l2re = 0.01 * beta * (1 + seed / 10), other knobs scale it."""
    dims = [*knobs, "seed"] if seeds else list(knobs)
    coords = {k: (k, np.asarray(v), {"long_name": f"knob {k}"}) for k, v in knobs.items()}
    if seeds:
        coords["seed"] = ("seed", np.asarray(seeds), {"long_name": "seed"})
    grids = np.meshgrid(*(np.asarray(coords[d][1]) for d in dims), indexing="ij")
    values = dict(zip(dims, grids))
    l2re = 0.01 * np.ones(grids[0].shape)
    for name, grid in values.items():
        if name == "seed":
            l2re = l2re * (1 + grid / 10)
        elif grid.dtype.kind in "fi":
            l2re = l2re * grid
    status = np.full(l2re.shape, "done", dtype=object)
    for index in pending:
        l2re[index] = np.nan
        status[index] = "pending"
    ds = xr.Dataset(
        {
            "l2re": (dims, l2re, {"long_name": "relative L2 error", "units": "1"}),
            "wall_s": (dims, np.ones(l2re.shape), {"long_name": "wall time", "units": "s"}),
            "status": (dims, status),
        },
        coords=coords,
    )
    if fields:
        x = np.linspace(0, 1, 5)
        t = np.linspace(0, 1, 4)
        shape = (*l2re.shape, 5, 4)
        for name in ("u", "u_ref", "error", "residual"):
            ds[name] = ([*dims, "x", "t"], np.random.default_rng(0).normal(size=shape))
        ds = ds.assign_coords(x=("x", x), t=("t", t))
    return ds


def elements(overlay, kind):
    return [e for e in overlay if type(e) is kind]


def test_curve_has_median_line_seed_points_and_band():
    ds = made_sweep({"beta": [1.0, 10.0, 30.0]})
    plot = sweep_curve(ds)
    (curve,) = elements(plot, hv.Curve)
    np.testing.assert_allclose(curve.dimension_values(1), 0.01 * np.array([1, 10, 30]) * 1.1)
    (area,) = elements(plot, hv.Area)
    np.testing.assert_allclose(area.dimension_values(1), 0.01 * np.array([1, 10, 30]))
    np.testing.assert_allclose(area.dimension_values(2), 0.01 * np.array([1, 10, 30]) * 1.2)
    (scatter,) = elements(plot, hv.Scatter)
    assert len(scatter) == 9
    assert plot.opts.get().kwargs["logy"] is True
    assert "median and range over 3 seeds" in plot.opts.get().kwargs["title"]
    hv.render(plot, backend="bokeh")


def test_one_line_per_value_of_another_knob_and_pending_points_left_out():
    ds = made_sweep({"beta": [1.0, 10.0], "sampler": ["fixed", "r3"]}, pending=[(1, 1, 0)])
    plot = sweep_curve(ds)
    curves = elements(plot, hv.Curve)
    assert [c.label for c in curves] == ["sampler=fixed", "sampler=r3"]
    scatters = elements(plot, hv.Scatter)
    assert [len(s) for s in scatters] == [6, 5]  # the pending seed is not drawn
    assert isinstance(sweep_plot(ds), hv.Overlay)  # a string knob: curves, not a heatmap
    hv.render(plot, backend="bokeh")


def test_without_seeds_the_curve_is_the_values():
    ds = made_sweep({"width": [8, 16, 32]}, seeds=())
    plot = sweep_curve(ds, "wall_s")
    assert not elements(plot, hv.Area)
    (curve,) = elements(plot, hv.Curve)
    np.testing.assert_array_equal(curve.dimension_values(1), [1, 1, 1])
    assert plot.opts.get().kwargs["logy"] is False


def test_true_false_knob_is_a_categorical_axis():
    ds = made_sweep({"hard_constraints": [False, True]}, seeds=(0, 1))
    plot = sweep_curve(ds)
    (curve,) = elements(plot, hv.Curve)
    assert list(curve.dimension_values(0)) == ["False", "True"]
    hv.render(plot, backend="bokeh")


def test_heatmap_over_two_numeric_knobs_is_median_over_seeds():
    ds = made_sweep({"beta": [1.0, 10.0], "width": [8, 16, 32]})
    plot = sweep_plot(ds)
    assert isinstance(plot, hv.HeatMap)
    assert len(plot) == 6
    values = dict(
        zip(zip(plot.dimension_values(0), plot.dimension_values(1)), plot.dimension_values(2))
    )
    assert values[("10.0", "16")] == pytest.approx(0.01 * 10 * 16 * 1.1)
    hv.render(plot, backend="bokeh")
    with pytest.raises(ValueError, match="two swept knobs besides seed"):
        sweep_heatmap(made_sweep({"beta": [1.0, 2.0]}))


def test_point_shows_its_fields_and_bad_points_are_named():
    ds = made_sweep({"beta": [1.0, 10.0]}, fields=True)
    layout = sweep_point(ds, beta=10.0, seed=2)
    assert len(layout) == 4
    assert "beta=10, seed=2: done, l2re 0.12" in layout.opts.get().kwargs["title"]
    hv.render(layout, backend="bokeh")
    with pytest.raises(ValueError, match="missing"):
        sweep_point(ds, beta=10.0)
    with pytest.raises(ValueError, match="beta=3.0 is not in the sweep"):
        sweep_point(ds, beta=3.0, seed=0)
    with pytest.raises(ValueError, match="kept no fields"):
        sweep_point(made_sweep({"beta": [1.0]}), beta=1.0, seed=0)


def test_unknown_metric_or_axis_is_named():
    ds = made_sweep({"beta": [1.0, 10.0]})
    with pytest.raises(ValueError, match="metric 'speed'.*allowed: l2re, wall_s"):
        sweep_curve(ds, "speed")
    with pytest.raises(ValueError, match="x: 'width' is not a swept knob"):
        sweep_curve(ds, x="width")
