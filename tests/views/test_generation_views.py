"""Tests of the views of field generators (sample gallery, posterior summary and gallery, the
Pareto picture), on synthetic groups laid out like a field generator's ``/samples`` and
``/posterior`` on 1D and 2D grids, with and without a residual, and on a real tiny fit."""

import holoviews as hv
import numpy as np
import pytest
import torch
import xarray as xr

from workbench import fit, views
from workbench.methods import FlowMatching
from workbench.problems import PROBLEMS
from workbench.views import (
    decoded,
    generated_channels,
    pareto,
    posterior_channels,
    posterior_gallery,
    posterior_summary,
    sample_gallery,
)
from workbench.views.generation import MAGNITUDE_CMAP


def _coords(dims, size):
    return {
        d: (d, np.linspace(0, 1, size), {"long_name": f"position {d}", "units": "m"}) for d in dims
    }


def generated(dims=("x", "y"), n=5, size=8, residual=True, name="a", **attrs):
    """A field generator's ``/samples``: input ``name``, ``u`` and maybe ``|residual|``."""
    rng = np.random.default_rng(size + n)
    shape = (n, *(size,) * len(dims))
    var = ("sample", *dims)
    ds = xr.Dataset(
        {
            name: (var, rng.uniform(1, 10, shape), {"long_name": f"input {name}"}),
            "u": (var, rng.normal(size=shape), {"long_name": "solution u"}),
        },
        coords=_coords(dims, size),
    )
    if residual:
        ds["residual"] = (var, np.abs(rng.normal(size=shape)), {"long_name": "|PDE residual|"})
        attrs = {"residual_mae": 0.5, "data_residual_mae": 0.01, **attrs}
    ds.attrs = {"distance": 2.0, "distance_normalised": 0.1, "l2re": 0.1, "seed": 0, **attrs}
    return ds


def posterior(dims=("x", "y"), n=4, size=8, residual=True, observed=("u",)):
    """A ``/posterior``: samples of ``a`` and ``u``, per channel truth, mean, std and mask."""
    ds = generated(dims, n, size, residual)
    ds.attrs = {"observed": "solution", "fraction": 0.05, "seed": 0}
    rng = np.random.default_rng(1)
    grid = tuple(dims)
    for name in ("a", "u"):
        ds[f"{name}_true"] = (grid, ds[name].values[0] + 0.1, {"long_name": f"true {name}"})
        ds[f"{name}_mean"] = ds[name].mean("sample").assign_attrs(long_name=f"mean of {name}")
        ds[f"{name}_std"] = ds[name].std("sample").assign_attrs(long_name=f"std of {name}")
        mask = np.zeros((size,) * len(dims))
        if name in observed:
            mask.flat[rng.choice(mask.size, 3, replace=False)] = 1.0
        ds[f"{name}_mask"] = (grid, mask)
        ds.attrs[f"l2re_{name}"] = 0.25
        ds.attrs[f"coverage_{name}"] = 0.875
    return ds


def _render(obj):
    return hv.render(obj, backend="bokeh")


def _title(obj) -> str:
    return obj.opts.get().kwargs["title"]


def _elements(obj, kind):
    """Every element of type ``kind`` inside a layout or overlay."""
    return [e for e in obj.traverse(lambda x: x, [kind])]


# --- reading the groups -----------------------------------------------------------------------
def test_channels_tell_a_generator_apart_from_test_sets_and_prior_draws():
    ds = generated()
    assert generated_channels(ds) == ["a", "u"]
    assert generated_channels(generated(("x",), name="u0", residual=False)) == ["u0", "u"]
    assert generated_channels(posterior()) == ["a", "u"]
    assert generated_channels(ds.assign(u_ref=ds.u)) == []  # an operator's test set
    assert generated_channels(ds[["u"]].assign(z=(("sample", "latent"), np.zeros((5, 2))))) == []
    assert generated_channels(ds[["u", "residual"]]) == []  # u alone: a VAE's prior draws
    assert generated_channels(ds.isel(sample=0)) == []
    assert posterior_channels(posterior()) == ["a", "u"]
    assert posterior_channels(ds) == []
    # The module's name does not shadow the view of a latent model's prior draws.
    assert views.samples is decoded.samples


# --- sample gallery ---------------------------------------------------------------------------
@pytest.mark.parametrize("residual", [True, False])
def test_sample_gallery_2d_is_a_row_of_tiles_per_channel(residual):
    ds = generated(residual=residual)
    gallery = sample_gallery(ds)
    rows = 3 if residual else 2
    assert isinstance(gallery, hv.Layout) and len(gallery) == rows * 5
    assert all(isinstance(p, hv.Image) for p in gallery)
    titles = [_title(p) for p in gallery]
    assert titles[:2] == ["a #0", "a #1"] and titles[5] == "u #0"
    # One colour range per row, and a colour bar at its end only.
    u_tiles = list(gallery)[5:10]
    assert len({p.opts.get().kwargs["clim"] for p in u_tiles}) == 1
    assert [p.opts.get().kwargs["colorbar"] for p in u_tiles] == [False] * 4 + [True]
    if residual:
        last = list(gallery)[-1].opts.get().kwargs
        assert last["cmap"] == MAGNITUDE_CMAP and last["clim"][0] == 0
        assert "residual MAE 0.5 (test data 0.01)" in _title(gallery)
    else:
        assert "residual" not in _title(gallery)
    assert _title(gallery).startswith("5 generated samples of a, u: ")
    assert "energy distance 2 (normalised 0.1)" in _title(gallery)
    _render(gallery)


@pytest.mark.parametrize("residual", [True, False])
def test_sample_gallery_1d_overlays_a_curve_per_sample(residual):
    ds = generated(("x",), size=32, residual=residual, name="u0")
    gallery = sample_gallery(ds, n=3)
    assert isinstance(gallery, hv.Layout) and len(gallery) == (3 if residual else 2)
    for panel in gallery:
        assert isinstance(panel, hv.Overlay) and len(panel) == 3
        assert all(isinstance(c, hv.Curve) for c in panel)
    assert [_title(p) for p in gallery][:2] == ["input u0", "solution u"]
    assert _title(gallery).startswith("3 of 5 generated samples of u0, u")
    _render(gallery)


def test_a_live_snapshot_names_its_normalised_distance():
    snapshot = generated()
    snapshot.attrs = {"l2re": 0.25}
    title = _title(sample_gallery(snapshot))
    assert "normalised energy distance 0.25" in title and "mean |residual|" in title


def test_sample_gallery_says_what_is_missing():
    ds = generated()
    with pytest.raises(ValueError, match=r"\['u'\] are missing"):
        sample_gallery(ds.drop_vars("u"))
    with pytest.raises(ValueError, match="u_ref"):
        sample_gallery(ds.assign(u_ref=ds.u))
    with pytest.raises(ValueError, match="'z'"):
        sample_gallery(ds.assign(z=(("sample", "latent"), np.zeros((5, 2)))))
    with pytest.raises(ValueError, match="'sample' dim"):
        sample_gallery(ds.isel(sample=0))
    with pytest.raises(ValueError, match="input channel"):
        sample_gallery(ds.drop_vars("a"))
    with pytest.raises(ValueError, match="1D or 2D"):
        sample_gallery(ds.expand_dims(z3=2).transpose("sample", ...))
    with pytest.raises(ValueError, match="n must be >= 1"):
        sample_gallery(ds, n=0)
    with pytest.raises(ValueError, match="xarray.Dataset"):
        sample_gallery(xr.DataTree(ds))


# --- posterior --------------------------------------------------------------------------------
def _markers(panel):
    return _elements(panel, hv.Points) + _elements(panel, hv.Scatter)


def test_posterior_summary_2d_marks_the_observed_points():
    ds = posterior()
    summary = posterior_summary(ds)
    assert isinstance(summary, hv.Layout) and len(summary) == 8
    panels = list(summary)
    # Only u was observed: its four panels carry the 3 observed points, a's none.
    assert all(isinstance(p, hv.Image) for p in panels[:4])
    for panel in panels[4:]:
        (points,) = _elements(panel, hv.Points)
        assert len(points) == 3
        assert set(points.data["x"]) <= set(ds.x.values)
    titles = [_title(p) for p in panels]
    assert titles[4] == "true u, 3 observed"
    assert titles[1] == "mean of a, l2re 2.50e-01" and titles[2] == "std of a, 90% coverage 88%"
    assert titles[3] == "|mean - true| of a"
    assert panels[3].opts.get().kwargs["cmap"] == MAGNITUDE_CMAP
    assert _title(summary) == ("posterior of a, u given u at 3 points (5% of the grid) (4 samples)")
    _render(summary)


def test_posterior_markers_sit_on_the_observed_grid_points():
    ds = posterior(size=6)
    (points,) = _elements(list(posterior_summary(ds))[4], hv.Points)
    mask = ds["u_mask"]
    seen = {(float(x), float(y)) for x, y in zip(points.data["x"], points.data["y"])}
    where = mask.where(mask == 1).to_series().dropna().index
    assert seen == {(float(x), float(y)) for x, y in where}


@pytest.mark.parametrize("residual", [True, False])
def test_posterior_summary_1d_band_truth_and_markers(residual):
    ds = posterior(("x",), size=32, residual=residual, observed=("a", "u"))
    summary = posterior_summary(ds)
    assert len(summary) == 4
    first, second = list(summary)[:2]
    assert len(_elements(first, hv.Spread)) == 1
    (markers,) = _elements(first, hv.Scatter)
    assert len(markers) == 3
    np.testing.assert_allclose(
        sorted(markers.data["a"]), sorted(ds.a_true.values[ds.a_mask.values == 1])
    )
    assert _title(first) == "a: l2re 2.50e-01, 90% coverage 88%"
    assert len(_elements(second, hv.Curve)) == 2
    _render(summary)


def test_a_channel_observed_everywhere_gets_no_markers():
    ds = posterior(observed=())
    ds["a_mask"] = xr.ones_like(ds["a_mask"])  # a forward problem: all of the input seen
    panels = list(posterior_summary(ds))
    assert not _markers(hv.Layout(panels))
    assert _title(panels[0]) == "true a, all observed"


def test_posterior_without_masks_or_metrics_still_draws():
    ds = posterior().drop_vars(["a_mask", "u_mask"])
    ds.attrs = {"observed": "input", "fraction": 1.0}
    summary = posterior_summary(ds)
    assert not _markers(summary)
    assert "given the input at 100% of the grid" in _title(summary)
    assert _title(list(summary)[1]) == "mean of a"


def test_posterior_summary_says_what_is_missing():
    with pytest.raises(ValueError, match=r"\['u_mean'\] are missing"):
        posterior_summary(posterior().drop_vars("u_mean"))
    with pytest.raises(ValueError, match="<channel>_true"):
        posterior_summary(generated())
    with pytest.raises(ValueError, match="xarray.Dataset"):
        posterior_summary({"u_true": 1})


@pytest.mark.parametrize("dims", [("x", "y"), ("x",)])
@pytest.mark.parametrize("residual", [True, False])
def test_posterior_gallery_draws_each_channel_and_residual(dims, residual):
    ds = posterior(dims, size=8 if len(dims) == 2 else 32, residual=residual)
    gallery = posterior_gallery(ds, n=3)
    rows = 3 if residual else 2
    title = _title(gallery)
    assert title.startswith("3 of 4 posterior samples, given u at 3 points")
    assert ("mean |residual|" in title) == residual
    if len(dims) == 2:
        assert len(gallery) == rows * 3 and all(isinstance(p, hv.Image) for p in gallery)
    else:
        assert len(gallery) == rows
        u_panel = list(gallery)[1]
        # Three samples, the dashed truth, and the observed values.
        assert len(_elements(u_panel, hv.Curve)) == 4
        assert len(_elements(u_panel, hv.Scatter)[0]) == 3
        assert _title(u_panel) == "solution u (dashed: truth)"
    _render(gallery)


# --- pareto -----------------------------------------------------------------------------------
def _points(overlay):
    (points,) = _elements(overlay, hv.Points)
    return points


def test_pareto_from_samples_datasets():
    runs = {
        "flow_matching": generated(residual_mae=2.0, distance=1.0),
        "pbfm": generated(residual_mae=0.5, distance=1.2),
        "worse": generated(residual_mae=3.0, distance=2.0),
    }
    plot = pareto(runs)
    points = _points(plot)
    assert list(points.data["case"]) == list(runs)
    np.testing.assert_allclose(points.data["residual"], [2.0, 0.5, 3.0])
    np.testing.assert_allclose(points.data["distance"], [1.0, 1.2, 2.0])
    (labels,) = _elements(plot, hv.Labels)
    assert list(labels.data["case"]) == list(runs)
    # The front joins the two cases no other beats on both axes, by distance.
    (front,) = [c for c in _elements(plot, hv.Curve) if c.label == "Pareto front"]
    np.testing.assert_allclose(front.data["distance"], [1.0, 1.2])
    assert len(_elements(plot, hv.HLine)) == 1  # the test data's residual
    opts = plot.opts.get().kwargs
    assert opts["logx"] and opts["logy"] and opts["ylim"][0] < 0.01
    _render(plot)
    # A list is labelled by position.
    assert list(_points(pareto(list(runs.values()))).data["case"]) == ["0", "1", "2"]


def test_pareto_from_a_table():
    table = xr.Dataset(
        {
            "residual": ("case", [0.4, 0.1]),
            "data residual": ("case", [0.01, 0.01]),
            "distance": ("case", [0.2, 0.3]),
        },
        coords={"case": ["flow_matching", "pbfm"]},
    )
    plot = pareto(table)
    points = _points(plot)
    assert list(points.data["case"]) == ["flow_matching", "pbfm"]
    np.testing.assert_allclose(points.data["residual"], [0.4, 0.1])
    (line,) = _elements(plot, hv.HLine)
    assert line.data == pytest.approx(0.01)
    _render(plot)
    # Zero residual: linear axes, and no floor without a data residual.
    flat = pareto(table.drop_vars("data residual").assign(residual=("case", [0.0, 1.0])))
    assert not flat.opts.get().kwargs["logy"] and not _elements(flat, hv.HLine)


def test_pareto_keeps_a_rounding_level_floor_off_the_axis():
    runs = {
        "flow_matching": generated(residual_mae=0.3, distance=0.05, data_residual_mae=2e-7),
        "pbfm": generated(residual_mae=0.1, distance=0.06, data_residual_mae=2e-7),
    }
    plot = pareto(runs)
    assert not _elements(plot, hv.HLine)
    low, high = plot.opts.get().kwargs["ylim"]
    assert 0.01 < low < 0.1 < 0.3 < high < 1.0  # no decades of empty space down to 2e-7
    (text,) = _elements(plot, hv.Text)
    assert "2.0e-07" in text.text
    _render(plot)


def test_pareto_says_what_is_missing():
    with pytest.raises(ValueError, match=r"'pbfm' lacks the attrs \['residual_mae'\]"):
        pareto({"pbfm": generated(residual=False)})
    with pytest.raises(ValueError, match="'case' dim"):
        pareto(generated())
    table = xr.Dataset({"residual": ("case", [0.1])})
    with pytest.raises(ValueError, match=r"\['distance'\] are missing"):
        pareto(table)
    with pytest.raises(ValueError, match="at least one case"):
        pareto([])
    with pytest.raises(ValueError, match="got float"):
        pareto(1.0)
    with pytest.raises(ValueError, match="not a /samples Dataset"):
        pareto({"a": 1.0})


# --- report -----------------------------------------------------------------------------------
def generator_tree(dims=("x", "y"), residual=True):
    snapshot = generated(dims, n=3, residual=residual)
    snapshot.attrs = {"l2re": 0.1}
    tree = xr.DataTree.from_dict(
        {
            "history": xr.Dataset(
                {"loss": ("step", [1.0, 0.5], {"role": "loss_total"})}, coords={"step": [0, 1]}
            ),
            "fields": snapshot,
            "samples": generated(dims, residual=residual),
            "posterior": posterior(dims, residual=residual),
        }
    )
    tree.attrs = {"problem": "darcy2d", "method": "flow_matching", "status": "done"}
    return tree


@pytest.mark.parametrize("dims", [("x", "y"), ("x",)])
def test_report_has_the_generator_panels(tmp_path, dims):
    page = views.report(generator_tree(dims), tmp_path / "report.html").read_text()
    for text in ("generated samples of a, u", "posterior of a, u given u", "posterior samples"):
        assert text in page
    # Neither an operator's test set nor a latent model's prior draws, nor one sample's fields.
    for text in ("draws from the prior", "test sample", "fields of"):
        assert text not in page
    assert "<script src=" not in page


# --- a real run -------------------------------------------------------------------------------
def test_views_of_a_real_tiny_fit():
    torch.set_num_threads(1)
    method = FlowMatching(
        resolution=16, n_train=40, n_test=10, batch_size=8, n_samples=8, posterior_samples=4
    )
    run = fit(PROBLEMS["darcy2d"](), method, steps=2, progress=False, eval_every=0)
    samples, post, fields = (run.tree[g].to_dataset() for g in ("samples", "posterior", "fields"))
    assert generated_channels(samples) == ["a", "u"] == generated_channels(fields)
    assert posterior_channels(post) == ["a", "u"]
    gallery = sample_gallery(samples, n=4)
    assert len(gallery) == 3 * 4 and "residual MAE" in _title(gallery)
    summary = posterior_summary(post)
    (points,) = _elements(list(summary)[4], hv.Points)  # the solution is observed
    assert len(points) == int(post.u_mask.sum())
    _render(summary)
    _render(posterior_gallery(post, n=2))
    _render(pareto({"flow_matching": samples}))
