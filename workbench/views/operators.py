"""Views of operator runs: many instances of a problem family, one model.

Operator runs (FNO, DeepONet, ...) learn a map from an input function (a
coefficient, a source, an initial condition) to the solution, and are judged on a
test set of such instances. Their Run holds, besides ``/history``:

- ``/samples``: the whole test set, dims ``(sample, *spatial)``, with the input
  (named by the ``input`` attr), ``u_ref`` (truth), ``u`` (prediction), ``error``
  and ``rel_l2`` (dim ``sample``: each sample's relative L2 error); attr
  ``resolution``;
- ``/transfer``: the same test inputs at another resolution (attrs
  ``resolution`` and ``train_resolution``), absent when transfer is off;
- ``/fields``: the first few test samples, drawn by :mod:`workbench.views.fields`.

The views here read those groups: :func:`gallery` (one sample's input, truth,
prediction and error), :func:`error_histogram` (the spread of the test error) and
:func:`resolution_transfer` (one sample at two resolutions). Samples are picked
by their label along ``sample``: test sets keep their indices in the generated
dataset, and the transfer set shares them, so one label names the same input
function in both.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import (
    SAMPLE_DIM,
    field,
    per_sample,
    sample_labels,
    select_sample,
)

#: Colours of the training and transfer resolutions, and of the truth in 1D overlays.
TRAIN_COLOUR, TRANSFER_COLOUR, TRUTH_COLOUR = "#1f77b4", "#ff7f0e", "black"

_REL_L2 = hv.Dimension("rel_l2", label="relative L2 error")


def _spatial_dims(ds: xr.Dataset) -> tuple[str, ...]:
    """The dims of the family's fields: those of ``u`` (or any field) but ``sample``."""
    names = [n for n in ("u", "u_ref", "error") if n in ds.data_vars] or list(ds.data_vars)
    for name in names:
        dims = tuple(d for d in ds[name].dims if d != SAMPLE_DIM)
        if dims:
            return dims
    return ()


def _input_name(ds: xr.Dataset) -> str | None:
    name = ds.attrs.get("input")
    return str(name) if name is not None and str(name) in ds.data_vars else None


def _rel_l2(ds: xr.Dataset) -> float | None:
    """The relative L2 error of a one-sample Dataset, when the Run stored it."""
    if "rel_l2" not in ds.data_vars:
        return None
    value = float(ds["rel_l2"].values)
    return value if np.isfinite(value) else None


def _label(ds: xr.Dataset):
    """The sample label kept as a scalar coordinate by :func:`select_sample`, if any."""
    if SAMPLE_DIM in ds.coords and ds[SAMPLE_DIM].ndim == 0:
        return ds[SAMPLE_DIM].values.item()
    return None


def _shared_range(arrays: list[np.ndarray]) -> tuple[float, float] | None:
    """One colour range over several fields (e.g. truth and prediction), NaN ignored."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return None
    low, high = min(float(a.min()) for a in finite), max(float(a.max()) for a in finite)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _symmetric_range(arrays: list[np.ndarray]) -> tuple[float, float]:
    bound = max((float(np.nanmax(np.abs(a))) for a in arrays if np.isfinite(a).any()), default=0)
    return (-bound, bound) if bound > 0 else (-1.0, 1.0)


def _resolution(ds: xr.Dataset) -> str:
    """``"32×32"`` or ``"128"``: the ``resolution`` attr per spatial dim, else the sizes."""
    dims = _spatial_dims(ds)
    if "resolution" in ds.attrs:
        return "×".join([str(int(ds.attrs["resolution"]))] * max(len(dims), 1))
    return "×".join(str(ds.sizes[d]) for d in dims)


def _gallery_row(one: xr.Dataset) -> hv.Layout:
    """Input, truth, prediction and error of one sample (no ``sample`` dim left)."""
    name = _input_name(one)
    present = [v for v in (name, "u_ref", "u", "error") if v is not None and v in one.data_vars]
    panels: list[tuple[hv.Element | hv.Overlay, str]] = []  # (panel, title)
    if name in present:
        panels.append((field(one[name]), f"input {name}"))
    if len(_spatial_dims(one)) == 1:
        curves = [
            field(one[var]).relabel(legend).opts(line_dash=dash, color=colour, backend="bokeh")
            for var, legend, dash, colour in (
                ("u_ref", "truth", "dashed", TRUTH_COLOUR),
                ("u", "prediction", "solid", TRAIN_COLOUR),
            )
            if var in present
        ]
        if curves:
            overlay = hv.Overlay(curves).opts(legend_position="top_right", backend="bokeh")
            panels.append((overlay, " vs ".join(c.label for c in curves)))
    else:
        # Truth and prediction share a colour range so that they compare by eye.
        shared = _shared_range([one[v].values for v in ("u_ref", "u") if v in present])
        panels += [
            (field(one[var], clim=shared), title)
            for var, title in (("u_ref", "truth"), ("u", "prediction"))
            if var in present
        ]
    if "error" in present:
        rel = _rel_l2(one)
        title = "error" + (f", rel L2 {rel:.2e}" if rel is not None else "")
        panels.append((field(one["error"], symmetric=True), title))
    label = _label(one)
    elements = [
        # The first panel says which sample the row shows.
        panel.opts(
            title=title + (f", sample {label}" if i == 0 and label is not None else ""),
            backend="bokeh",
        )
        for i, (panel, title) in enumerate(panels)
    ]
    return hv.Layout(elements).cols(max(len(elements), 1))


def gallery(ds: xr.Dataset, sample=None) -> hv.Layout:
    """One row per sample: input | truth | prediction | error.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/samples``, ``/transfer`` or ``/fields`` of an operator run: dims
        ``(sample, *spatial)`` with 1 or 2 spatial dims. Drawn when present:
        the input named by ``ds.attrs["input"]``, ``u_ref`` (truth), ``u``
        (prediction), ``error``; a ``rel_l2`` variable puts each sample's
        relative L2 error into the error panel's title.
    sample : int, optional
        Label of the sample to draw (see
        :func:`~workbench.views.fields.sample_labels`). ``None`` draws every
        sample behind a sample slider.

    Returns
    -------
    holoviews.Layout
        For 2D fields ``hv.Image`` panels, truth and prediction sharing a
        colour range, the error with a diverging colour map centred on 0. For
        1D fields three ``hv.Curve`` panels: the input, truth (dashed) over
        prediction, and the error. With a slider each panel is a
        ``DynamicMap`` over ``sample``, drawn lazily. Empty when ``ds`` has
        none of these variables.

    Raises
    ------
    ValueError
        If ``ds`` has no ``sample`` dim, or ``sample`` is not one of its labels.
    """
    if SAMPLE_DIM not in ds.dims:
        raise ValueError(
            f"gallery() needs data with a {SAMPLE_DIM!r} dim, got dims {dict(ds.sizes)}"
        )
    return per_sample(ds, _gallery_row, sample)


def _finite_rel_l2(ds: xr.Dataset, argument: str) -> np.ndarray:
    if "rel_l2" not in ds.data_vars:
        raise ValueError(
            f"{argument} has no 'rel_l2' variable (each test sample's relative L2 error); "
            f"its variables are {sorted(map(str, ds.data_vars))}"
        )
    values = np.asarray(ds["rel_l2"].values, dtype=float).ravel()
    return values[np.isfinite(values)]


def error_histogram(samples: xr.Dataset, transfer: xr.Dataset | None = None) -> hv.Overlay:
    """How the relative L2 error spreads over the test set, with its mean marked.

    Parameters
    ----------
    samples : xarray.Dataset
        ``/samples`` of an operator run, with ``rel_l2`` along ``sample``.
    transfer : xarray.Dataset, optional
        ``/transfer``, also with ``rel_l2``: its histogram is overlaid, on the
        same bins, so the two resolutions compare bar by bar.

    Returns
    -------
    holoviews.Overlay
        One ``hv.Histogram`` per dataset, labelled by its resolution (the
        ``resolution`` attr) and mean, and one dashed ``hv.VLine`` per dataset
        at its mean. NaN errors (a diverged sample) are left out.

    Raises
    ------
    ValueError
        If ``samples`` or ``transfer`` has no ``rel_l2`` variable.
    """
    sets = [(samples, _finite_rel_l2(samples, "samples"), TRAIN_COLOUR)]
    if transfer is not None:
        sets.append((transfer, _finite_rel_l2(transfer, "transfer"), TRANSFER_COLOUR))
    values = np.concatenate([v for _, v, _ in sets])
    if values.size:
        # sqrt(n) bins, within reason: a test set of 100 gets 10.
        bins = int(np.clip(np.ceil(np.sqrt(max(v.size for _, v, _ in sets))), 5, 40))
        edges = np.histogram_bin_edges(values, bins=bins)
    else:
        edges = np.linspace(0.0, 1.0, 6)
    alpha = 0.5 if len(sets) > 1 else 0.8
    layers = []
    for ds, v, colour in sets:
        counts, _ = np.histogram(v, bins=edges)
        mean = float(v.mean()) if v.size else np.nan
        label = f"test set at {_resolution(ds)}" + (f": mean {mean:.2e}" if v.size else "")
        hist = hv.Histogram(
            (edges, counts),
            kdims=[_REL_L2],
            vdims=[hv.Dimension("count", label="test samples")],
            label=label,
        )
        layers.append(
            hist.opts(fill_color=colour, fill_alpha=alpha, line_color=colour, backend="bokeh")
        )
        if v.size:
            layers.append(
                hv.VLine(mean).opts(color=colour, line_dash="dashed", line_width=2, backend="bokeh")
            )
    return hv.Overlay(layers).opts(
        title="relative L2 error per test sample (dashed: mean)",
        # Below the axes: inside, the legend would hide the bars of the largest errors.
        legend_position="bottom",
        width=520,
        height=320,
        backend="bokeh",
    )


def resolution_transfer(samples: xr.Dataset, transfer: xr.Dataset, sample=None) -> hv.Layout:
    """One test sample at the training resolution and at the transfer resolution.

    Parameters
    ----------
    samples : xarray.Dataset
        ``/samples`` of an operator run (the test set at the training
        resolution): ``u``, and when present ``u_ref``, ``error``, ``rel_l2``.
    transfer : xarray.Dataset
        ``/transfer``: the same test inputs at another resolution, same variables.
    sample : int, optional
        Label of the sample to draw, present in both. ``None`` draws every
        sample the two share behind a sample slider.

    Returns
    -------
    holoviews.Layout
        For 2D fields, prediction and error side by side, a row per resolution
        (titles name the resolution and the sample's relative L2 error; the
        sample itself is named by the slider, or by the caller);
        predictions share a colour range, and so do the errors, so that the
        two rows compare by eye. For 1D fields one panel overlays the truth
        and both predictions, one both errors. Last, when both datasets have
        ``rel_l2``, an ``hv.Bars`` of the mean relative L2 error per resolution.
        With a slider each panel is a ``DynamicMap`` over ``sample``.

    Raises
    ------
    ValueError
        If ``sample`` is missing from either dataset, either has no ``sample``
        dim, or (for a slider) they share no sample.
    """
    for argument, ds in (("samples", samples), ("transfer", transfer)):
        if SAMPLE_DIM not in ds.dims:
            raise ValueError(f"{argument} needs a {SAMPLE_DIM!r} dim, got dims {dict(ds.sizes)}")
    if sample is None:
        theirs = set(sample_labels(transfer).tolist())
        common = [v for v in sample_labels(samples).tolist() if v in theirs]
        if not common:
            raise ValueError("samples and transfer share no sample label")
        kdim = hv.Dimension(SAMPLE_DIM, label="sample", values=common)
        return hv.DynamicMap(
            lambda sample: resolution_transfer(samples, transfer, sample), kdims=[kdim]
        ).collate()
    rows = [
        (select_sample(samples, sample), f"{_resolution(samples)} (training)", TRAIN_COLOUR),
        (select_sample(transfer, sample), _resolution(transfer), TRANSFER_COLOUR),
    ]
    panels = []
    if len(_spatial_dims(samples)) == 1:
        truth = next((one["u_ref"] for one, _, _ in reversed(rows) if "u_ref" in one), None)
        curves = []
        if truth is not None:
            # The finer grid draws the truth best; both hold the same function.
            curves.append(
                field(truth)
                .relabel("truth")
                .opts(line_dash="dashed", color=TRUTH_COLOUR, backend="bokeh")
            )
        errors = []
        for one, res, colour in rows:
            curves.append(field(one["u"]).relabel(f"prediction at {res}").opts(color=colour))
            if "error" in one.data_vars:
                rel = _rel_l2(one)
                text = f"error at {res}" + (f", rel L2 {rel:.2e}" if rel is not None else "")
                errors.append(field(one["error"]).relabel(text).opts(color=colour))
        panels.append(
            hv.Overlay(curves).opts(
                title=f"sample {sample}: prediction at two resolutions",
                # Below the axes: three curves fill the plot, a legend inside would hide them.
                legend_position="bottom",
                legend_cols=1,
                height=360,
                backend="bokeh",
            )
        )
        if errors:
            panels.append(
                hv.Overlay(errors).opts(
                    title="error",
                    legend_position="bottom",
                    legend_cols=1,
                    height=360,
                    backend="bokeh",
                )
            )
    else:
        shared = _shared_range(
            [one[v].values for one, _, _ in rows for v in ("u", "u_ref") if v in one]
        )
        bound = _symmetric_range([one["error"].values for one, _, _ in rows if "error" in one])
        for one, res, _ in rows:
            # Short titles: a bokeh title is clipped at the plot's width. The prediction's
            # says which row is the training resolution; the sample is the caller's choice.
            panels.append(field(one["u"], title=f"prediction at {res}", clim=shared))
            if "error" in one.data_vars:
                rel = _rel_l2(one)
                text = f"error at {res.removesuffix(' (training)')}"
                text += f", rel L2 {rel:.2e}" if rel is not None else ""
                panels.append(field(one["error"], title=text, clim=bound))
    if "rel_l2" in samples.data_vars and "rel_l2" in transfer.data_vars:
        means = [
            (res, float(np.nanmean(ds["rel_l2"].values)))
            for ds, (_, res, _) in zip((samples, transfer), rows)
        ]
        bars = hv.Bars(
            means,
            kdims=[hv.Dimension("resolution")],
            vdims=[hv.Dimension("rel_l2", label="mean relative L2 error")],
        )
        panels.append(
            bars.opts(
                title="mean over the test set",
                color=hv.dim("resolution").categorize(
                    {means[0][0]: TRAIN_COLOUR, means[1][0]: TRANSFER_COLOUR}
                ),
                width=300,
                height=260,
                tools=["hover"],
                backend="bokeh",
            )
        )
    return hv.Layout(panels).cols(2 if len(_spatial_dims(samples)) == 2 else 3)


def rollout(ds: xr.Dataset, sample=None, t: float | None = None) -> hv.Layout:
    """An autoregressive rollout against the solver: truth | rollout | error at each time
    (a time slider), and every trajectory's relative error over time.

    Parameters
    ----------
    ds : xarray.Dataset
        A Run's ``/rollout`` group: ``u`` (the rollout), ``u_ref`` (the solver's trajectory)
        and ``error`` on ``(sample, t, x, y)``, ``rel_l2`` on ``(sample, t)``.
    sample : int, optional
        Label of the trajectory whose fields are drawn; default the first.
    t : float, optional
        Draw the fields at this time only (the nearest stored one; for static pages, which
        have no slider); default every time, behind a slider.

    Returns
    -------
    holoviews.Layout
        Three panels, ``HoloMap`` s over ``t`` unless ``t`` is given (truth and rollout share
        one colour range for all times, so the drift shows as a change of colour), and a curve
        per trajectory of the relative L2 error against ``t``, their mean in black.

    Raises
    ------
    ValueError
        If ``ds`` lacks a variable or dim named above, or ``sample`` is not one of its labels.
    """
    missing = [v for v in ("u", "u_ref", "error", "rel_l2") if v not in ds.data_vars]
    if missing or SAMPLE_DIM not in ds.dims or "t" not in ds.dims:
        raise ValueError(
            f"rollout() needs u, u_ref, error and rel_l2 on dims (sample, t, ...); "
            f"missing variables {missing}, dims {dict(ds.sizes)}"
        )
    labels = sample_labels(ds)
    one = select_sample(ds, labels[0] if sample is None else sample)
    shared = _shared_range([one["u_ref"].values, one["u"].values])
    errors = _symmetric_range([one["error"].values])
    t_dim = hv.Dimension("t", label=one["t"].attrs.get("long_name", "t"))
    times = one["t"].values if t is None else [one["t"].sel(t=t, method="nearest").item()]
    panels = []
    for var, title, clim in (
        ("u_ref", "solver", shared),
        ("u", "rollout", shared),
        ("error", "error", errors),
    ):
        frames = {
            float(k): field(one[var].sel(t=k), clim=clim).opts(title=title, backend="bokeh")
            for k in times
        }
        if t is None:
            panels.append(hv.HoloMap(frames, kdims=[t_dim]))
        else:
            ((time_, frame),) = frames.items()
            panels.append(frame.opts(title=f"{title}, t = {time_:g}", backend="bokeh"))
    curves = [
        hv.Curve(
            (ds["t"].values, ds["rel_l2"].sel({SAMPLE_DIM: label}).values), t_dim, _REL_L2
        ).opts(color="#9ecae1", backend="bokeh")
        for label in labels
    ]
    mean = ds["rel_l2"].mean(SAMPLE_DIM)
    curves.append(
        hv.Curve((ds["t"].values, mean.values), t_dim, _REL_L2, label="mean").opts(
            color="black", line_width=2, backend="bokeh"
        )
    )
    drift = hv.Overlay(curves).opts(
        title=f"rollout error over time ({len(labels)} trajectories)",
        show_legend=False,
        backend="bokeh",
    )
    return hv.Layout([*panels, drift]).cols(4)
