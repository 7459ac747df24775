"""Tests of the views of latent generative models (traversal, encodings, parity, spectrum,
reconstructions, extrapolation, prior draws), on synthetic groups laid out like a generative
Run's ``/latent``, ``/fields`` and ``/samples`` on 1D and 2D grids, and on a real tiny fit."""

import holoviews as hv
import numpy as np
import pytest
import torch
import xarray as xr

from workbench import fit, views
from workbench.methods import PhysVAE
from workbench.problems import PROBLEMS
from workbench.views import (
    extrapolation,
    latent_parity,
    latent_scatter,
    latent_spectrum,
    reconstructions,
    samples,
    traversal_grid,
)
from workbench.views.latent_data import parameters, ranked_latents

LATENTS = ("omega", "aux_0", "aux_1")
OFFSETS = np.linspace(-2, 2, 5)


def _grid(dims, size):
    return {
        d: (d, np.linspace(0, 1, size), {"long_name": f"position {d}", "units": "m"}) for d in dims
    }


def latent_group(dims=("t",), size=16, n=12, latents=LATENTS, ood=True, spreads=None):
    """A ``/latent``-like group: encodings, errors, parameters, traversal, and out-of-range data.

    The first latent is the parameter ``omega`` plus noise, so it is the physical latent; the
    latents' spreads over the test samples are ``spreads`` (default decreasing).
    """
    rng = np.random.default_rng(size + n)
    k = len(latents)
    spreads = np.asarray(spreads if spreads is not None else 1.0 / (1 + np.arange(k)), float)
    omega = rng.uniform(1.0, 3.0, n)
    z = rng.normal(size=(n, k)) * spreads
    z[:, 0] = omega + 0.05 * rng.normal(size=n)
    shape = (size,) * len(dims)
    trav = rng.normal(size=(k, len(OFFSETS), *shape))
    values = z.mean(0)[:, None] + z.std(0)[:, None] * OFFSETS
    coords = {
        "sample": np.arange(n),
        "latent": list(latents),
        "offset": OFFSETS,
        **_grid(dims, size),
    }
    ds = xr.Dataset(
        {
            "z_mean": (("sample", "latent"), z, {"long_name": "latent mean"}),
            "z_std": (("sample", "latent"), np.full((n, k), 0.1)),
            "rel_l2": ("sample", rng.uniform(0.01, 0.1, n), {"long_name": "relative L2 error"}),
            "omega": ("sample", omega, {"long_name": "angular frequency omega", "units": "1/s"}),
            "gamma": ("sample", rng.uniform(0, 0.5, n), {"long_name": "damping gamma"}),
            "traversal": (
                ("latent", "offset", *dims),
                trav,
                {"long_name": "decoded u with one latent dim swept (test sample 0)"},
            ),
            "traversal_value": (("latent", "offset"), values, {"long_name": "latent value"}),
        },
        coords=coords,
        attrs={"range_omega": [1.0, 3.0], "range_gamma": [0.0, 0.5], "l2re": 0.05},
    )
    if ood:
        m = n // 2
        far_omega = rng.uniform(3.0, 4.5, m)
        far_z = rng.normal(size=(m, k))
        far_z[:, 0] = far_omega
        data = rng.normal(size=(m, *shape))
        ood_dims = ("ood_sample", *dims)
        ds["ood_z_mean"] = (("ood_sample", "latent"), far_z)
        ds["ood_u"] = (ood_dims, data, {"long_name": "data u"})
        ds["ood_recon"] = (ood_dims, data + 0.3, {"long_name": "reconstruction u"})
        ds["ood_rel_l2"] = ("ood_sample", rng.uniform(0.2, 0.4, m))
        ds["ood_omega"] = ("ood_sample", far_omega, dict(ds["omega"].attrs))
        ds["ood_gamma"] = ("ood_sample", rng.uniform(0, 0.5, m))
        ds.attrs.update(ood_parameter="omega", ood_range=[3.0, 4.5], ood_l2re=0.3)
    return ds


def fields_group(dims=("t",), size=16, n=8, labels=None):
    """A ``/fields``-like group (a live snapshot): data, reconstruction, error, traversal."""
    rng = np.random.default_rng(n)
    shape = (n,) + (size,) * len(dims)
    data = rng.normal(size=shape)
    recon = data + 0.1 * rng.normal(size=shape)
    vdims = ("sample", *dims)
    coords = {"sample": np.asarray(labels if labels is not None else range(n)), **_grid(dims, size)}
    ds = xr.Dataset(
        {
            "u": (vdims, recon, {"long_name": "reconstruction u"}),
            "u_ref": (vdims, data, {"long_name": "data u"}),
            "error": (vdims, recon - data, {"long_name": "error"}),
            "rel_l2": ("sample", rng.uniform(0.01, 0.2, n)),
        },
        coords=coords,
    )
    trav = latent_group(dims, size, ood=False)
    return ds.merge(trav[["traversal", "traversal_value"]])


def samples_group(dims=("t",), size=16, n=10):
    rng = np.random.default_rng(3)
    return xr.Dataset(
        {
            "u": (
                ("sample", *dims),
                rng.normal(size=(n,) + (size,) * len(dims)),
                {"long_name": "sample u from the prior"},
            ),
            "z": (("sample", "latent"), rng.normal(size=(n, len(LATENTS)))),
        },
        coords={"latent": list(LATENTS), **_grid(dims, size)},
    )


def _render(obj):
    return hv.render(obj, backend="bokeh")


def _title(obj) -> str:
    return obj.opts.get().kwargs["title"]


# --- traversal --------------------------------------------------------------------------------
def test_traversal_1d_is_a_panel_per_latent_of_curves_coloured_by_value():
    ds = latent_group()
    grid = traversal_grid(ds)
    assert isinstance(grid, hv.Layout) and len(grid) == len(LATENTS)
    assert all(isinstance(p, hv.Path) for p in grid)
    first = list(grid)[0]
    assert len(first.split()) == len(OFFSETS)
    assert first.kdims[0].name == "t" and first.kdims[0].label == "position t"
    np.testing.assert_allclose(
        first.dimension_values("value", expanded=False), ds.traversal_value[0]
    )
    np.testing.assert_allclose(first.split()[2].dimension_values("decoded"), ds.traversal[0, 2])
    assert "all 3 latent dims" in _title(grid)
    plot = _render(first)
    assert plot.right and plot.title.text == "latent omega swept"  # a colour bar of the value


def test_traversal_2d_is_a_grid_of_images_on_one_colour_range():
    ds = latent_group(dims=("x", "y"), size=8)
    grid = traversal_grid(ds)
    assert len(grid) == len(LATENTS) * len(OFFSETS)
    assert all(isinstance(p, hv.Image) for p in grid)
    titles = [p.opts.get().kwargs["title"] for p in grid]
    assert titles[0] == f"omega = {float(ds.traversal_value[0, 0]):.3g}"
    assert titles[len(OFFSETS)].startswith("aux_0 = ")  # a row per latent
    mappers = [next(r.glyph.color_mapper for r in _render(p).renderers) for p in list(grid)[:3]]
    assert len({(m.low, m.high) for m in mappers}) == 1


def test_traversal_of_many_latents_draws_those_that_vary_most():
    names = [f"z{i}" for i in range(10)]
    spreads = [0.01, 1, 0.02, 2, 0.03, 3, 0.04, 0.05, 4, 0.06]
    ds = latent_group(latents=names, spreads=spreads, ood=False)
    assert ranked_latents(ds, 4) == [1, 3, 5, 8]
    grid = traversal_grid(ds, max_latents=4)
    assert len(grid) == 4 and "4 of 10 latent dims" in _title(grid)
    assert [p.opts.get().kwargs["title"] for p in grid] == [
        "latent z1 swept",
        "latent z3 swept",
        "latent z5 swept",
        "latent z8 swept",
    ]
    assert len(traversal_grid(ds, latents=["z0", 2])) == 2
    with pytest.raises(ValueError, match="not a latent dim"):
        traversal_grid(ds, latents=["nope"])


def test_traversal_of_a_live_snapshot():
    for dims, count in ((("t",), 3), (("x", "t"), 15)):
        grid = traversal_grid(fields_group(dims, size=8))
        assert len(grid) == count
    _render(grid.Image.I)  # one image of the grid: rendering all 15 only costs time
    with pytest.raises(ValueError, match="traversal"):
        traversal_grid(fields_group().drop_vars("traversal"))


# --- the latent space -------------------------------------------------------------------------
def test_scatter_colours_by_the_extrapolated_parameter_and_adds_out_of_range():
    ds = latent_group()
    assert parameters(ds) == ["omega", "gamma"]
    scatter = latent_scatter(ds)
    assert isinstance(scatter, hv.Overlay) and len(scatter) == 2
    test, far = scatter
    assert test.vdims[0].name == "omega" and far.vdims[0].name == "omega"
    assert [d.name for d in test.kdims] == ["z_omega", "z_aux_0"]  # the two that vary most
    assert _title(scatter) == "test encodings: 12 in range, 6 out of range"
    _render(scatter)

    chosen = latent_scatter(
        ds.drop_vars([v for v in ds.data_vars if "ood" in v]), "gamma", 2, "aux_0"
    )
    assert len(chosen) == 1 and chosen.get(0).vdims[0].name == "gamma"
    assert [d.name for d in chosen.get(0).kdims] == ["z_aux_1", "z_aux_0"]
    assert _title(chosen) == "test encodings: 12 test samples"
    with pytest.raises(ValueError, match="same latent"):
        latent_scatter(ds, x="aux_0", y=1)
    with pytest.raises(ValueError, match="color='nope'"):
        latent_scatter(ds, "nope")
    with pytest.raises(ValueError, match="has one"):
        latent_scatter(latent_group(latents=("z0",), ood=False))


def test_scatter_of_a_function_family_colours_by_the_error():
    ds = latent_group(ood=False).drop_vars(["omega", "gamma"])
    assert parameters(ds) == []
    scatter = latent_scatter(ds)
    assert scatter.get(0).vdims[0].name == "rel_l2"


def test_parity_of_a_physical_latent_shades_the_range_and_marks_out_of_range():
    ds = latent_group()
    parity = latent_parity(ds)
    types = [type(e) for e in parity]
    assert types == [hv.VSpan, hv.Slope, hv.ErrorBars, hv.Points, hv.Points]
    span = parity.get(0)
    assert (span.data[0], span.data[1]) == (1.0, 3.0)
    test, far = parity.get(3), parity.get(4)
    np.testing.assert_allclose(test.dimension_values(0), ds.omega)
    np.testing.assert_allclose(test.dimension_values(1), ds.z_mean[:, 0])
    np.testing.assert_allclose(far.dimension_values(0), ds.ood_omega)
    r = np.corrcoef(ds.omega, ds.z_mean[:, 0])[0, 1]
    assert _title(parity) == f"latent omega vs true omega: r = {r:.2f} (grey: training range)"
    plot = _render(parity)
    assert plot.xaxis[0].axis_label == "angular frequency omega (1/s)"
    assert plot.yaxis[0].axis_label == "latent mean omega"


def test_parity_of_an_unnamed_latent_picks_the_most_correlated():
    ds = latent_group(latents=("z0", "z1", "z2"), ood=False)
    z = ds.z_mean.values.copy()
    z[:, [0, 2]] = z[:, [2, 0]]  # the parameter's latent is now z2
    ds["z_mean"] = (("sample", "latent"), z)
    parity = latent_parity(ds, "omega")
    assert [type(e) for e in parity] == [hv.VSpan, hv.ErrorBars, hv.Points]  # no diagonal
    assert _title(parity).startswith("latent z2 vs true omega")
    assert _title(latent_parity(ds, "omega", latent="z1")).startswith("latent z1 vs")
    with pytest.raises(ValueError, match="parameter='nope'"):
        latent_parity(ds, "nope")
    with pytest.raises(ValueError, match="function family"):
        latent_parity(ds.drop_vars(["omega", "gamma"]))


def test_spectrum_sorts_the_latent_spread_and_counts_the_dims_in_use():
    ds = latent_group(latents=("a", "b", "c", "d"), ood=False)
    z = np.random.default_rng(0).normal(size=(12, 4)) * np.array([1e-4, 1.0, 0.0, 0.5])
    ds["z_mean"] = (("sample", "latent"), z)
    spectrum = latent_spectrum(ds)
    bars, line = spectrum
    assert isinstance(bars, hv.Bars) and isinstance(line, hv.HLine)
    assert list(bars.dimension_values(0)) == ["b", "d", "a", "c"]
    assert np.all(np.diff(bars.dimension_values("std")) <= 0)
    assert list(bars.dimension_values("used")) == ["used", "used", "unused", "unused"]
    assert _title(spectrum) == "latent spectrum: 2 of 4 dims above 1% of the largest"
    plot = _render(spectrum)
    assert plot.y_scale.__class__.__name__ == "LogScale"
    assert plot.y_range.start > 0


# --- fields -----------------------------------------------------------------------------------
def test_reconstructions_1d_overlay_data_and_reconstruction_per_sample():
    ds = fields_group(labels=range(20, 28))
    panels = reconstructions(ds)
    assert isinstance(panels, hv.Layout) and len(panels) == 6
    first = list(panels)[0]
    assert isinstance(first, hv.Overlay) and [c.label for c in first] == ["data", "reconstruction"]
    rel = float(ds.rel_l2.sel(sample=20))
    assert _title(first) == f"sample 20, rel L2 {rel:.2e}"
    assert len(reconstructions(ds, sample=25)) == 1
    assert len(reconstructions(ds, max_samples=2)) == 2
    _render(panels)


def test_reconstructions_2d_data_reconstruction_error_behind_a_lazy_slider():
    ds = fields_group(dims=("x", "y"), size=8, labels=range(5, 13))
    row = reconstructions(ds, sample=7)
    assert len(row) == 3 and all(isinstance(p, hv.Image) for p in row)
    assert [p.vdims[0].name for p in row] == ["u_ref", "u", "error"]
    titles = [_render(p).title.text for p in row]
    assert titles[0] == "data, sample 7" and titles[1] == "reconstruction"
    assert titles[2] == f"error, rel L2 {float(ds.rel_l2.sel(sample=7)):.2e}"
    data, recon = (next(r.glyph.color_mapper for r in _render(p).renderers) for p in list(row)[:2])
    assert (data.low, data.high) == (recon.low, recon.high)
    slider = reconstructions(ds)
    assert all(isinstance(p, hv.DynamicMap) for p in slider)
    assert list(slider)[0].kdims[0].values == list(range(5, 13))
    with pytest.raises(ValueError, match="u_ref"):
        reconstructions(ds.drop_vars("u_ref"))


def test_extrapolation_1d_curves_and_the_error_in_and_out_of_range():
    ds = latent_group()
    panels = extrapolation(ds)
    assert isinstance(panels, hv.Layout) and len(panels) == 4
    curves, error = list(panels)[:3], list(panels)[-1]
    assert all(isinstance(p, hv.Overlay) and len(p) == 2 for p in curves)
    # Spread over the parameter: lowest first, highest last.
    omegas = np.sort(ds.ood_omega.values)
    assert _title(curves[0]).startswith(f"omega = {omegas[0]:.3g}, rel L2 ")
    assert _title(curves[-1]).startswith(f"omega = {omegas[-1]:.3g}")
    assert [type(e) for e in error] == [hv.VSpan, hv.Points, hv.Points]
    inside, outside = ds.rel_l2.mean().item(), ds.ood_rel_l2.mean().item()
    assert _title(error) == (
        f"mean rel L2: {inside:.2e} in range, {outside:.2e} out (x{outside / inside:.1f})"
    )
    assert _title(panels) == "out of the training range: omega in [3, 4.5] (trained on [1, 3])"
    _render(panels)


def test_extrapolation_2d_images_and_a_histogram_without_parameter_values():
    ds = latent_group(dims=("x", "t"), size=8).drop_vars(["omega", "ood_omega"])
    panels = extrapolation(ds, max_samples=2)
    assert len(panels) == 2 * 3 + 1
    assert all(isinstance(p, hv.Image) for p in list(panels)[:6])
    assert all(isinstance(h, hv.Histogram) for h in list(panels)[-1])
    _render(panels)


def test_extrapolation_without_out_of_range_data_says_so():
    with pytest.raises(ValueError, match="ood_u"):
        extrapolation(latent_group(ood=False))


def test_samples_curves_in_1d_and_an_image_gallery_in_2d():
    curves = samples(samples_group())
    assert isinstance(curves, hv.Overlay) and len(curves) == 10
    assert all(isinstance(c, hv.Curve) for c in curves)
    assert _title(curves) == "10 draws from the prior, decoded"
    gallery = samples(samples_group(dims=("x", "y"), size=8), max_samples=6)
    assert isinstance(gallery, hv.Layout) and len(gallery) == 6
    assert all(isinstance(p, hv.Image) for p in gallery)
    assert _title(gallery) == "6 of 10 draws from the prior, decoded"
    _render(gallery)
    with pytest.raises(ValueError, match="decoded prior draws"):
        samples(samples_group().drop_vars("u"))


def test_report_has_the_latent_panels(tmp_path):
    tree = xr.DataTree.from_dict(
        {
            "history": xr.Dataset(
                {"loss": ("step", [1.0, 0.5], {"role": "loss_total"})}, coords={"step": [0, 1]}
            ),
            "fields": fields_group(),
            "latent": latent_group(),
            "samples": samples_group(),
        }
    )
    tree.attrs = {"problem": "pendulum", "method": "phys_vae", "status": "done"}
    page = views.report(tree, tmp_path / "report.html").read_text()
    for text in (
        "latent traversal",
        "test encodings",
        "latent spectrum",
        "out of the training range",
        "draws from the prior",
    ):
        assert text in page
    assert "first test sample" not in page  # prior draws are no operator test set


# --- a real run -------------------------------------------------------------------------------
def test_views_of_a_real_tiny_fit():
    torch.set_num_threads(1)
    method = PhysVAE(n_train=40, n_test=10, batch_size=20)
    run = fit(PROBLEMS["pendulum"](), method, steps=3, progress=False)
    latent, fields, prior = (run.tree[g].to_dataset() for g in ("latent", "fields", "samples"))
    shown = [
        traversal_grid(latent),
        traversal_grid(fields),
        latent_scatter(latent),
        latent_parity(latent),
        latent_spectrum(latent),
        reconstructions(fields),
        extrapolation(latent),
        samples(prior),
    ]
    for view in (shown[0], shown[3]):  # the synthetic tests render the others
        _render(view)
    assert len(shown[0]) == latent.sizes["latent"]
    assert _title(shown[3]).startswith("latent omega vs true omega")
