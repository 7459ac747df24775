"""Views of what a latent generative model decodes: reconstructions, extrapolation, samples.

:mod:`workbench.views.latent_data` describes the groups of a generative Run these views read;
:mod:`workbench.views.latent` draws the latent space itself.

The views: :func:`reconstructions` (data against reconstruction of test samples),
:func:`extrapolation` (beyond the training range) and :func:`samples` (prior draws).
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import SAMPLE_DIM, field, per_sample, sample_labels, select_sample
from workbench.views.latent_data import (
    _HEIGHT,
    _WIDTH,
    IN_RANGE_COLOUR,
    OOD_DIM,
    OUT_OF_RANGE_COLOUR,
    _check_grid,
    _require,
    _tile,
    _training_range,
    _variable_dimension,
    parameters,
)
from workbench.views.operators import (
    TRAIN_COLOUR,
    TRUTH_COLOUR,
    _label,
    _rel_l2,
    _shared_range,
    _symmetric_range,
)

_REL_L2 = hv.Dimension("rel_l2", label="relative L2 error")


def _overlay_pair(data: xr.DataArray, recon: xr.DataArray, title: str) -> hv.Overlay:
    """Data (dashed) and reconstruction (solid) curves of one 1D sample."""
    curves = [
        field(data).relabel("data").opts(line_dash="dashed", color=TRUTH_COLOUR, backend="bokeh"),
        field(recon).relabel("reconstruction").opts(color=TRAIN_COLOUR, backend="bokeh"),
    ]
    return hv.Overlay(curves).opts(title=title, legend_position="top_right", backend="bokeh")


def _reconstruction_row(one: xr.Dataset) -> hv.Layout:
    """Data | reconstruction | error images of one 2D sample (no ``sample`` dim left)."""
    shared = _shared_range([one[v].values for v in ("u_ref", "u")])
    panels = [
        field(one["u_ref"], title="data", clim=shared),
        field(one["u"], title="reconstruction", clim=shared),
    ]
    error = one["error"] if "error" in one.data_vars else (one["u"] - one["u_ref"]).rename("error")
    rel = _rel_l2(one)
    panels.append(field(error, title="error" + (f", rel L2 {rel:.2e}" if rel is not None else "")))
    label = _label(one)
    if label is not None:
        panels[0] = panels[0].opts(title=f"data, sample {label}", backend="bokeh")
    return hv.Layout(panels).cols(3)


def reconstructions(ds: xr.Dataset, sample=None, max_samples: int = 6) -> hv.Layout:
    """Data against reconstruction, for some test samples.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/fields`` of a generative run, or a live snapshot: ``u_ref`` (data) and ``u``
        (reconstruction) on ``(sample, *grid)``; ``error`` and ``rel_l2`` when present.
    sample : int, optional
        Label of the one sample to draw. Default: for a 1D grid the first ``max_samples``
        samples, for a 2D grid every sample behind a sample slider.
    max_samples : int
        Most samples drawn side by side for a 1D grid.

    Returns
    -------
    holoviews.Layout
        For a 1D grid one panel per sample, data (dashed) over reconstruction, titled with
        the sample and its relative L2 error. For a 2D grid data | reconstruction | error
        images, data and reconstruction on one colour range; with a slider each panel is a
        lazy ``DynamicMap`` over ``sample``.

    Raises
    ------
    ValueError
        If ``u`` or ``u_ref`` is missing, there is no ``sample`` dim, or ``sample`` is not
        one of its labels.
    """
    _require(ds, ["u", "u_ref"], "reconstructions", "data and reconstructions")
    if SAMPLE_DIM not in ds.dims:
        raise ValueError(f"reconstructions() needs a {SAMPLE_DIM!r} dim, got {dict(ds.sizes)}")
    grid = _check_grid(ds["u"], "reconstructions")
    # Only what is drawn: the slider's callback keeps the dataset alive.
    ds = ds[[v for v in ("u", "u_ref", "error", "rel_l2") if v in ds.data_vars]]
    if len(grid) == 2:
        return per_sample(ds, _reconstruction_row, sample)
    labels = [sample] if sample is not None else sample_labels(ds)[:max_samples].tolist()
    panels = []
    for label in labels:
        one = select_sample(ds, label)
        rel = _rel_l2(one)
        title = f"sample {label}" + (f", rel L2 {rel:.2e}" if rel is not None else "")
        panels.append(_overlay_pair(one["u_ref"], one["u"], title))
    return hv.Layout(panels).cols(min(len(panels), 3))


def _ood_picks(ds: xr.Dataset, parameter: str | None, count: int) -> list[int]:
    """Positions along ``ood_sample`` of ``count`` samples spread over the parameter."""
    n = ds.sizes[OOD_DIM]
    far = f"ood_{parameter}"
    order = (
        np.argsort(np.asarray(ds[far].values, float), kind="stable")
        if parameter is not None and far in ds.data_vars
        else np.arange(n)
    )
    where = np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int))
    return [int(order[w]) for w in where]


def _error_panel(ds: xr.Dataset, parameter: str | None) -> hv.Overlay:
    """Relative L2 error in and out of the training range, against the parameter if known."""
    inside = np.asarray(ds["rel_l2"].values, float)
    outside = np.asarray(ds["ood_rel_l2"].values, float)
    mean_in, mean_out = np.nanmean(inside), np.nanmean(outside)
    ratio = mean_out / mean_in if mean_in > 0 else np.nan
    title = f"mean rel L2: {mean_in:.2e} in range, {mean_out:.2e} out (x{ratio:.1f})"
    far = f"ood_{parameter}"
    if parameter is not None and parameter in ds.data_vars and far in ds.data_vars:
        x_dim = _variable_dimension(ds, parameter)
        style = dict(size=7, tools=["hover"], backend="bokeh")
        layers = []
        span = _training_range(ds, parameter)
        if span is not None:
            layers.append(
                hv.VSpan(*span).opts(color="grey", alpha=0.15, line_alpha=0, backend="bokeh")
            )
        layers += [
            hv.Points((ds[parameter].values, inside), [x_dim, _REL_L2], label="in range").opts(
                color=IN_RANGE_COLOUR, **style
            ),
            hv.Points((ds[far].values, outside), [x_dim, _REL_L2], label="out of range").opts(
                color=OUT_OF_RANGE_COLOUR, marker="triangle", **style
            ),
        ]
        positive = np.concatenate([inside, outside])
        log = bool(np.isfinite(positive).any() and np.nanmin(positive) > 0)
        return hv.Overlay(layers).opts(
            title=title,
            logy=log,
            xlabel=x_dim.pprint_label,
            ylabel=_REL_L2.pprint_label,
            legend_position="top_left",
            width=_WIDTH + 140,
            height=_HEIGHT + 60,
            backend="bokeh",
        )
    values = np.concatenate([inside, outside])
    values = values[np.isfinite(values)]
    edges = np.histogram_bin_edges(values, bins=10) if values.size else np.linspace(0.0, 1.0, 6)
    layers = []
    for v, label, colour in (
        (inside, "in range", IN_RANGE_COLOUR),
        (outside, "out of range", OUT_OF_RANGE_COLOUR),
    ):
        counts, _ = np.histogram(v[np.isfinite(v)], bins=edges)
        hist = hv.Histogram((edges, counts), kdims=[_REL_L2], vdims=["count"], label=label)
        layers.append(
            hist.opts(fill_color=colour, fill_alpha=0.5, line_color=colour, backend="bokeh")
        )
    return hv.Overlay(layers).opts(
        title=title, legend_position="top_right", width=_WIDTH + 140, backend="bokeh"
    )


def extrapolation(ds: xr.Dataset, max_samples: int = 3) -> hv.Layout:
    """Out of the training range: reconstructions of data the model never saw, and errors.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` of a generative run on a parameter family: ``ood_u`` (data) and
        ``ood_recon`` on ``(ood_sample, *grid)``, ``ood_rel_l2`` and ``rel_l2``, the
        extrapolated parameter named by the attr ``ood_parameter`` (its values
        ``ood_<parameter>`` and ``<parameter>``, its ranges ``ood_range`` and
        ``range_<parameter>``).
    max_samples : int
        Out-of-range samples drawn, spread evenly over the parameter's values.

    Returns
    -------
    holoviews.Layout
        Per drawn sample, for a 1D grid one panel of data (dashed) over reconstruction, for
        a 2D grid data | reconstruction | error images; each titled with the parameter's
        value and the relative L2 error. Last, when both errors are present, the relative L2
        error of every sample against the parameter (training range shaded; a histogram of
        both sets when the parameter's values are missing), titled with the mean error in
        and out of range and their ratio.

    Raises
    ------
    ValueError
        If ``ds`` has no out-of-range variables (a function family has no range to leave),
        or its grid is not 1D or 2D.
    """
    if "ood_u" not in ds.data_vars or "ood_recon" not in ds.data_vars:
        raise ValueError(
            "extrapolation() needs the out-of-range reconstructions 'ood_u' and 'ood_recon' "
            "of a parameter family's /latent; this dataset has none (a function family, or a "
            "parameter whose range could not be widened)"
        )
    grid = _check_grid(ds["ood_u"], "extrapolation")
    parameter = ds.attrs.get("ood_parameter")
    if parameter is None:
        found = [str(n)[4:] for n in ds.data_vars if str(n).startswith("ood_")]
        parameter = next((p for p in found if p in parameters(ds)), None)
    panels = []
    for i in _ood_picks(ds, parameter, max_samples):
        one = ds.isel({OOD_DIM: i})
        words = []
        far = f"ood_{parameter}"
        if parameter is not None and far in one.data_vars:
            words.append(f"{parameter} = {float(one[far]):.3g}")
        if "ood_rel_l2" in one.data_vars and np.isfinite(float(one["ood_rel_l2"])):
            words.append(f"rel L2 {float(one['ood_rel_l2']):.2e}")
        text = ", ".join(words) or f"out-of-range sample {i}"
        data, recon = one["ood_u"], one["ood_recon"]
        if len(grid) == 1:
            panels.append(_overlay_pair(data, recon, text))
        else:
            shared = _shared_range([data.values, recon.values])
            error = (recon - data).rename("error")
            panels += [
                field(data, title=f"data, {text}", clim=shared),
                field(recon, title="reconstruction", clim=shared),
                field(error, title="error", clim=_symmetric_range([error.values])),
            ]
    if "ood_rel_l2" in ds.data_vars and "rel_l2" in ds.data_vars:
        panels.append(_error_panel(ds, parameter))
    title = "out of the training range"
    ood_range, span = ds.attrs.get("ood_range"), _training_range(ds, str(parameter))
    if parameter is not None and ood_range is not None and len(ood_range) == 2:
        title += f": {parameter} in [{float(ood_range[0]):.3g}, {float(ood_range[1]):.3g}]"
        if span is not None:
            title += f" (trained on [{span[0]:.3g}, {span[1]:.3g}])"
    return hv.Layout(panels).cols(3 if len(grid) == 2 else 2).opts(title=title, backend="bokeh")


def samples(ds: xr.Dataset, max_samples: int = 16) -> hv.Overlay | hv.Layout:
    """Fields decoded from draws of the latent prior: what the model generates.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/samples`` of a generative run: ``u`` on ``(sample, *grid)`` (``z``, the draws, is
        not drawn).
    max_samples : int
        Most draws shown: the first ``max_samples`` along ``sample``.

    Returns
    -------
    holoviews.Overlay or holoviews.Layout
        For a 1D grid one ``hv.Overlay`` of a curve per draw. For a 2D grid an
        ``hv.Layout`` of ``hv.Image`` panels on one colour range, four to a row.

    Raises
    ------
    ValueError
        If ``u`` or the ``sample`` dim is missing, or the grid is not 1D or 2D.
    """
    _require(ds, ["u"], "samples", "decoded prior draws")
    if SAMPLE_DIM not in ds["u"].dims:
        raise ValueError(f"samples() needs u on a {SAMPLE_DIM!r} dim, got {ds['u'].dims}")
    grid = _check_grid(ds["u"], "samples")
    u = ds["u"].isel({SAMPLE_DIM: slice(0, max_samples)})
    n, total = u.sizes[SAMPLE_DIM], ds.sizes[SAMPLE_DIM]
    count = f"{n} of {total}" if n < total else f"{n}"
    title = f"{count} draws from the prior, decoded"
    if len(grid) == 1:
        curves = [
            field(u.isel({SAMPLE_DIM: k}, drop=True)).opts(
                color=hv.Cycle("Category10").values[k % 10], alpha=0.8, backend="bokeh"
            )
            for k in range(n)
        ]
        return hv.Overlay(curves).opts(
            title=title,
            show_legend=False,
            width=_WIDTH + 200,
            height=_HEIGHT + 40,
            backend="bokeh",
        )
    shared = _shared_range([u.values])
    columns = min(n, 4)
    panels = [
        _tile(
            field(u.isel({SAMPLE_DIM: k}, drop=True), title=f"draw {k}", clim=shared),
            colorbar=k % columns == columns - 1 or k == n - 1,
        )
        for k in range(n)
    ]
    return hv.Layout(panels).cols(columns).opts(title=title, backend="bokeh")
