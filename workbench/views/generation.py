"""Views of field generators: samples of a family's joint fields, and posteriors of inverse
problems.

Field generators (``flow_matching``, ``pbfm``, ``diffusion``) model a function family's input
and solution together (``darcy2d``: ``(a, u)``) and draw both from noise. Their Run holds,
besides ``/history``:

- ``/samples``: generated fields on ``(sample, *grid)``, the channels the problem names
  (attr ``channels``): by default the family's input (``a`` for ``darcy2d``, ``f`` for
  ``poisson2d``, ``u0`` for ``burgers1d``) and ``u``, for ``kolmogorov2d`` the velocity
  ``vel_x``, ``vel_y``; and for a family with a physics residual each sample's ``residual``
  (its absolute value, in units of the forcing; ``kolmogorov2d``: the divergence over the RMS
  velocity gradient);
  attrs ``residual_mae`` (physical units), ``residual_mean``, ``data_residual_mae`` (the same
  residual of the test data), ``distance`` and ``distance_normalised`` (energy distance to the
  test set), ``l2re`` and ``seed``. It has no truth ``u_ref`` (an operator's test set has) and
  no latent draws ``z`` (a latent model's prior draws have): that is how it is told apart;
- ``/posterior``: an inverse problem on one test sample. Posterior samples of every channel
  ``c`` (and their ``residual``) on ``(sample, *grid)``, and on the grid ``c_true``,
  ``c_mean``, ``c_std`` and ``c_mask`` (1 where ``c`` was observed); attrs ``l2re_<c>``
  (relative L2 error of the posterior mean), ``coverage_<c>`` (fraction of true values inside
  the samples' 90% interval), ``observed``, ``fraction`` and ``seed``;
- ``/fields`` (and each live snapshot): a few samples from fixed noise laid out like
  ``/samples``, with attr ``l2re`` (the normalised energy distance).

The grid is 1D (drawn as curves) or 2D (drawn as images). The views:
:func:`sample_gallery` (what the model generates), :func:`posterior_summary` (truth, posterior
mean, standard deviation and error, observed points marked), :func:`posterior_gallery`
(posterior samples) and :func:`pareto` (the residual-versus-distance trade-off across runs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import SAMPLE_DIM, _dimension, field, plot_dims, sample_labels
from workbench.views.latent_data import _WIDTH, _check_grid, _require, _tile
from workbench.views.operators import TRAIN_COLOUR, TRUTH_COLOUR, _shared_range

#: Colour map of magnitudes (``|residual|``, ``|mean - true|``): white at 0 like the centre of
#: the diverging maps of signed residuals and errors, red where the value is large.
MAGNITUDE_CMAP = "Reds"

#: Samples drawn at most by the galleries unless asked otherwise.
MAX_SAMPLES = 8

#: Dim of :func:`pareto`'s table that indexes the runs compared.
CASE_DIM = "case"

#: Half-width of the band drawn around a 1D posterior mean, in standard deviations: the
#: central 90% of a normal distribution, the interval whose coverage the Run reports.
BAND_STD = 1.645

_MARKERS = dict(marker="circle", size=6, fill_color="white", line_color="black", line_width=1)
_RESIDUAL = "residual"
_HEIGHT = 280
#: The Pareto plot draws the test data's residual as a line only within this factor below
#: the lowest case; further down it is written in the corner instead.
FLOOR_SPAN = 100.0


# --- reading the groups -----------------------------------------------------------------------
def generated_channels(ds: xr.Dataset) -> list[str]:
    """The field channels of a field generator's samples, or ``[]`` for other data.

    Parameters
    ----------
    ds : xarray.Dataset
        Any group: ``/samples``, ``/posterior``, ``/fields`` or a live snapshot.

    Returns
    -------
    list of str
        The channels named by attr ``channels`` (comma-separated, as field generators store
        it: ``["vel_x", "vel_y"]`` for ``kolmogorov2d``'s velocity) when they are all
        variables on a ``sample`` dim; otherwise the variables on the dims of ``u`` (which
        include ``sample``) other than ``u`` and ``residual``, in dataset order, then ``u``:
        ``["a", "u"]`` for ``darcy2d``. Empty when ``u`` is missing or has no ``sample`` dim,
        when ``ds`` holds a truth ``u_ref`` (an operator's test set) or latent draws ``z`` (a
        latent model's prior draws), or when ``u`` is the only channel.
    """
    if "u_ref" in ds.data_vars or "z" in ds.data_vars:
        return []
    named = [c.strip() for c in str(ds.attrs.get("channels", "")).split(",") if c.strip()]
    if named and all(c in ds.data_vars and SAMPLE_DIM in ds[c].dims for c in named):
        return named
    if "u" not in ds.data_vars or SAMPLE_DIM not in ds["u"].dims:
        return []
    if "u_ref" in ds.data_vars or "z" in ds.data_vars:
        return []
    dims = set(ds["u"].dims)
    inputs = [
        str(name)
        for name, v in ds.data_vars.items()
        if set(v.dims) == dims and name not in ("u", _RESIDUAL)
    ]
    return [*inputs, "u"] if inputs else []


def posterior_channels(ds: xr.Dataset) -> list[str]:
    """The channels ``c`` of a ``/posterior`` with ``c_true``, ``c_mean`` and ``c_std``.

    Parameters
    ----------
    ds : xarray.Dataset
        Any group.

    Returns
    -------
    list of str
        In the order of the ``c_true`` variables; empty for data that is no posterior.
    """
    return [
        name
        for name in (str(n)[: -len("_true")] for n in ds.data_vars if str(n).endswith("_true"))
        if f"{name}_mean" in ds.data_vars and f"{name}_std" in ds.data_vars
    ]


def _generated(ds: xr.Dataset, view: str) -> tuple[list[str], tuple[str, ...]]:
    """The channels and grid dims of a generator's samples, or a ValueError saying why not."""
    if not isinstance(ds, xr.Dataset):
        raise ValueError(
            f"{view}() takes an xarray.Dataset (a group such as run.tree['samples']"
            f".to_dataset()), got {type(ds).__name__}"
        )
    channels = generated_channels(ds)
    if not channels:
        _require(ds, ["u"], view, "generated fields")
    if "u_ref" in ds.data_vars:
        raise ValueError(
            f"{view}() draws a field generator's samples, but this dataset has a truth 'u_ref': "
            "an operator's test set, drawn by gallery()"
        )
    if "z" in ds.data_vars:
        raise ValueError(
            f"{view}() draws a field generator's samples, but this dataset has latent draws "
            "'z': a latent model's prior draws, drawn by samples()"
        )
    first = ds[channels[0]] if channels else ds["u"]
    if SAMPLE_DIM not in first.dims:
        raise ValueError(f"{view}() needs u on a {SAMPLE_DIM!r} dim, got {first.dims}")
    grid = _check_grid(first, view)
    if not channels:
        raise ValueError(
            f"{view}() needs the family's input channel beside u: a variable on "
            f"{ds['u'].dims} other than u and residual; the dataset has "
            f"{sorted(map(str, ds.data_vars))}"
        )
    return channels, grid


def _posterior(ds: xr.Dataset, view: str) -> list[str]:
    """The channels of a ``/posterior``, or a ValueError naming the variables missing."""
    if not isinstance(ds, xr.Dataset):
        raise ValueError(
            f"{view}() takes an xarray.Dataset (run.tree['posterior'].to_dataset()), "
            f"got {type(ds).__name__}"
        )
    truths = [str(n)[: -len("_true")] for n in ds.data_vars if str(n).endswith("_true")]
    if not truths:
        raise ValueError(
            f"{view}() needs a posterior: <channel>_true, <channel>_mean and <channel>_std "
            f"(e.g. u_true, u_mean, u_std); the dataset has {sorted(map(str, ds.data_vars))}"
        )
    for name in truths:
        _require(
            ds, [f"{name}_true", f"{name}_mean", f"{name}_std"], view, f"the posterior of {name}"
        )
    channels = posterior_channels(ds)
    for name in channels:
        _check_grid(ds[f"{name}_true"], view)
    return channels


def _magnitude_range(arrays: list[np.ndarray]) -> tuple[float, float]:
    """``(0, largest)`` over non-negative fields, NaN ignored."""
    top = max((float(np.nanmax(a)) for a in arrays if np.isfinite(a).any()), default=0.0)
    return (0.0, top) if top > 0 else (0.0, 1.0)


def _short(name: str) -> str:
    """A channel's name in tiny titles: ``|r|`` for the residual, else the variable."""
    return "|r|" if name == _RESIDUAL else name


def _observed_count(ds: xr.Dataset, name: str) -> int:
    mask = ds.get(f"{name}_mask")
    return int((np.asarray(mask.values) > 0.5).sum()) if mask is not None else 0


def _observed_text(ds: xr.Dataset, channels: Sequence[str]) -> str:
    """``"given u at 8 points (3% of the grid)"`` from the masks, else from the attrs."""
    seen = [(c, _observed_count(ds, c)) for c in channels if _observed_count(ds, c)]
    if seen:
        size = int(np.prod([ds.sizes[d] for d in ds[f"{seen[0][0]}_mask"].dims]))
        parts = [f"{c} at {k} points ({k / size:.0%} of the grid)" for c, k in seen]
        return "given " + " and ".join(parts)
    if "observed" in ds.attrs:
        fraction = ds.attrs.get("fraction")
        text = f"given the {ds.attrs['observed']}"
        return text + (f" at {float(fraction):.0%} of the grid" if fraction is not None else "")
    return "no observations stored"


def _metrics(ds: xr.Dataset) -> str:
    """The sample metrics a generator's Run stores, as one phrase (empty if none)."""
    attrs, words = ds.attrs, []
    if "residual_mae" in attrs:
        text = f"residual MAE {float(attrs['residual_mae']):.3g}"
        if "data_residual_mae" in attrs:
            text += f" (test data {float(attrs['data_residual_mae']):.3g})"
        words.append(text)
    elif _RESIDUAL in ds.data_vars:
        words.append(f"mean |residual| {float(np.nanmean(ds[_RESIDUAL].values)):.3g}")
    if "distance" in attrs:
        text = f"energy distance {float(attrs['distance']):.3g}"
        if "distance_normalised" in attrs:
            text += f" (normalised {float(attrs['distance_normalised']):.3g})"
        words.append(text)
    elif "l2re" in attrs:
        words.append(f"normalised energy distance {float(attrs['l2re']):.3g}")
    return ", ".join(words)


# --- galleries --------------------------------------------------------------------------------
def _curves(da: xr.DataArray, title: str, extra: Sequence[hv.Element] = ()) -> hv.Overlay:
    """One curve per sample of ``da`` (``(sample, x)``), then ``extra`` layers; sample ``k``
    has the same colour in every panel, so that an input and its solution match by eye."""
    colours = hv.Cycle("Category10").values
    curves = [
        field(da.isel({SAMPLE_DIM: k}, drop=True)).opts(
            color=colours[k % len(colours)], alpha=0.8, backend="bokeh"
        )
        for k in range(da.sizes[SAMPLE_DIM])
    ]
    return hv.Overlay([*curves, *extra]).opts(
        title=title, show_legend=False, width=_WIDTH + 40, height=_HEIGHT, backend="bokeh"
    )


def _gallery(
    ds: xr.Dataset, channels: list[str], grid, n: int, title: str, truth: bool = False
) -> hv.Layout:
    """The first ``n`` samples of each channel, and of the residual when present; ``truth``
    adds a 1D channel's stored truth and observed values (a posterior's) to its panel."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    shown = ds.isel({SAMPLE_DIM: slice(0, n)})
    rows = [*channels, *([_RESIDUAL] if _RESIDUAL in ds.data_vars else [])]
    if len(grid) == 1:
        panels = []
        for name in rows:
            extra = _truth_layers(ds, name) if truth else []
            text = str(shown[name].attrs.get("long_name", name))
            panels.append(_curves(shown[name], text + (" (dashed: truth)" if extra else ""), extra))
        return hv.Layout(panels).cols(len(panels)).opts(title=title, backend="bokeh")
    labels = sample_labels(shown)
    count = len(labels)
    panels = []
    for name in rows:
        da = shown[name]
        magnitude = name == _RESIDUAL
        # One colour range per row: samples of a channel compare by eye, channels differ.
        clim = _magnitude_range([da.values]) if magnitude else _shared_range([da.values])
        for k in range(count):
            image = field(
                da.isel({SAMPLE_DIM: k}, drop=True),
                title=f"{_short(name)} #{labels[k]}",
                clim=clim,
                symmetric=False,
                cmap=MAGNITUDE_CMAP if magnitude else None,
            )
            panels.append(_tile(image, colorbar=k == count - 1))
    return hv.Layout(panels).cols(count).opts(title=title, backend="bokeh")


def _count(shown: int, total: int) -> str:
    return f"{shown} of {total}" if shown < total else f"{shown}"


def sample_gallery(ds: xr.Dataset, n: int = MAX_SAMPLES) -> hv.Layout:
    """What a field generator generates: samples of each channel, and their residuals.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/samples`` (or ``/fields``, or a live snapshot) of a field generator: the family's
        input and ``u`` on ``(sample, *grid)``, and ``residual`` (the absolute PDE residual)
        when the family has one. Metrics in the attrs (``residual_mae``,
        ``data_residual_mae``, ``distance``, ``distance_normalised``, or a snapshot's
        ``l2re``) go into the title.
    n : int
        Most samples drawn: the first ``n`` along ``sample``.

    Returns
    -------
    holoviews.Layout
        For a 2D grid small ``hv.Image`` tiles, a row per channel (input, ``u``, then
        ``residual``) and a column per sample, each row on one colour range with its colour
        bar at the end; the residual white at 0 to red. For a 1D grid a panel per channel
        (and residual) overlaying a curve per sample, sample ``k`` in the same colour in every
        panel. The title counts the samples and names the metrics.

    Raises
    ------
    ValueError
        If ``u`` or the input channel is missing, ``u`` has no ``sample`` dim, the grid is not
        1D or 2D, ``n < 1``, or ``ds`` is an operator's test set (``u_ref``) or a latent
        model's prior draws (``z``).
    """
    channels, grid = _generated(ds, "sample_gallery")
    shown, total = min(n, ds.sizes[SAMPLE_DIM]), ds.sizes[SAMPLE_DIM]
    title = f"{_count(shown, total)} generated samples of {', '.join(channels)}"
    metrics = _metrics(ds)
    title += f": {metrics}" if metrics else ""
    return _gallery(ds, channels, grid, n, title)


def posterior_gallery(ds: xr.Dataset, n: int = MAX_SAMPLES) -> hv.Layout:
    """Posterior samples of an inverse problem: each channel, and each sample's residual.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/posterior`` of a field generator: the samples of every channel (and ``residual``)
        on ``(sample, *grid)``; for a 1D grid ``<c>_true`` and ``<c>_mask``, when present,
        add the truth and the observed points to each channel's panel.
    n : int
        Most samples drawn: the first ``n`` along ``sample``.

    Returns
    -------
    holoviews.Layout
        Laid out as :func:`sample_gallery`; for a 1D grid the truth is dashed black and the
        observed values are white markers. The title says what was observed and, with a
        residual, its mean over the samples.

    Raises
    ------
    ValueError
        As :func:`sample_gallery`.
    """
    channels, grid = _generated(ds, "posterior_gallery")
    shown, total = min(n, ds.sizes[SAMPLE_DIM]), ds.sizes[SAMPLE_DIM]
    title = f"{_count(shown, total)} posterior samples, {_observed_text(ds, channels)}"
    if _RESIDUAL in ds.data_vars:
        title += f": mean |residual| {float(np.nanmean(ds[_RESIDUAL].values)):.3g}"
    return _gallery(ds, channels, grid, n, title, truth=True)


def _truth_layers(ds: xr.Dataset, name: str) -> list:
    """The dashed truth of a 1D channel and the markers of its observed values, when stored."""
    if f"{name}_true" not in ds.data_vars:
        return []
    truth = ds[f"{name}_true"]
    layers = [
        field(truth).opts(color=TRUTH_COLOUR, line_dash="dashed", line_width=2, backend="bokeh")
    ]
    markers = _observed_markers(ds, name, truth)
    return layers + ([markers] if markers is not None else [])


# --- the posterior ----------------------------------------------------------------------------
def _observed_markers(ds: xr.Dataset, name: str, truth: xr.DataArray) -> hv.Element | None:
    """Markers at the observed points of channel ``name`` (``<name>_mask == 1``), or None
    when none or all of them are observed.

    On a 2D grid ``hv.Points`` at their positions, on the axes of :func:`field`'s image; on a
    1D grid ``hv.Scatter`` of the observed values (of the truth).
    """
    mask = ds.get(f"{name}_mask")
    observed = np.asarray(mask.values) > 0.5 if mask is not None else np.zeros(0, bool)
    # A channel observed everywhere (a forward problem's input) would be buried in markers.
    if not observed.any() or observed.all():
        return None
    if mask.ndim == 1:
        (dim,) = mask.dims
        where = np.asarray(mask.values) > 0.5
        vdim = _dimension(str(truth.name), truth.attrs)
        scatter = hv.Scatter(
            (mask[dim].values[where], truth.values[where]),
            kdims=[_dimension(dim, mask[dim].attrs)],
            vdims=[vdim],
            label="observed",
        )
        return scatter.opts(tools=["hover"], **_MARKERS, backend="bokeh")
    h, v = plot_dims(mask.dims)
    mask = mask.transpose(v, h)
    rows, columns = np.nonzero(np.asarray(mask.values) > 0.5)
    points = hv.Points(
        (mask[h].values[columns], mask[v].values[rows]),
        kdims=[_dimension(h, mask[h].attrs), _dimension(v, mask[v].attrs)],
        label="observed",
    )
    return points.opts(tools=["hover"], **_MARKERS, backend="bokeh")


def _with_markers(image: hv.Element, markers: hv.Element | None) -> hv.Element | hv.Overlay:
    if markers is None:
        return image
    # The image's title and size stay those of the panel; the markers only join it.
    return (image * markers).opts(
        title=image.opts.get().kwargs.get("title", ""), show_legend=False, backend="bokeh"
    )


def _coverage_text(ds: xr.Dataset, name: str) -> str:
    value = ds.attrs.get(f"coverage_{name}")
    return f"90% coverage {float(value):.0%}" if value is not None else ""


def _l2re_text(ds: xr.Dataset, name: str) -> str:
    value = ds.attrs.get(f"l2re_{name}")
    return f"l2re {float(value):.2e}" if value is not None else ""


def _posterior_row_2d(ds: xr.Dataset, name: str) -> list:
    """True | mean | std | |mean - true| images of one channel, observed points marked."""
    truth, mean, std = (ds[f"{name}_{k}"] for k in ("true", "mean", "std"))
    error = abs(mean - truth).rename("error").assign_attrs(long_name=f"|mean - true| of {name}")
    shared = _shared_range([truth.values, mean.values])
    markers = _observed_markers(ds, name, truth)
    seen = _observed_count(ds, name)
    seen = "all" if seen and seen == truth.size else seen
    l2re, coverage = _l2re_text(ds, name), _coverage_text(ds, name)
    images = [
        field(truth, title=f"true {name}" + (f", {seen} observed" if seen else ""), clim=shared),
        field(mean, title=f"mean of {name}" + (f", {l2re}" if l2re else ""), clim=shared),
        field(
            std,
            title=f"std of {name}" + (f", {coverage}" if coverage else ""),
            clim=_magnitude_range([std.values]),
            symmetric=False,
        ),
        field(
            error,
            title=f"|mean - true| of {name}",
            clim=_magnitude_range([error.values]),
            symmetric=False,
            cmap=MAGNITUDE_CMAP,
        ),
    ]
    return [_with_markers(image, markers) for image in images]


def _posterior_row_1d(ds: xr.Dataset, name: str) -> list:
    """Truth against the mean with a 90% band (observed values marked), and std against
    |mean - true| on one axis: is the error inside the uncertainty?"""
    truth, mean, std = (ds[f"{name}_{k}"] for k in ("true", "mean", "std"))
    (dim,) = truth.dims
    x = truth[dim].values
    x_dim = _dimension(dim, truth[dim].attrs)
    value = hv.Dimension(
        name, label=str(ds[name].attrs.get("long_name", name)) if name in ds else name
    )
    band = hv.Spread(
        (x, mean.values, BAND_STD * std.values),
        kdims=[x_dim],
        vdims=[value, "half_width"],
        label=f"mean ± {BAND_STD} std",
    ).opts(color=TRAIN_COLOUR, alpha=0.25, line_alpha=0, backend="bokeh")
    layers = [
        band,
        hv.Curve((x, mean.values), [x_dim], [value], label="posterior mean").opts(
            color=TRAIN_COLOUR, line_width=2, backend="bokeh"
        ),
        hv.Curve((x, truth.values), [x_dim], [value], label="truth").opts(
            color=TRUTH_COLOUR, line_dash="dashed", line_width=2, backend="bokeh"
        ),
    ]
    markers = _observed_markers(ds, name, truth.rename(name))
    if markers is not None:
        layers.append(markers)
    words = [w for w in (_l2re_text(ds, name), _coverage_text(ds, name)) if w]
    first = hv.Overlay(layers).opts(
        title=f"{name}: " + ", ".join(words) if words else name,
        legend_position="bottom",
        legend_cols=len(layers),
        width=_WIDTH + 120,
        height=320,
        backend="bokeh",
    )
    spread = hv.Dimension("spread", label=f"{name} (absolute)")
    second = hv.Overlay(
        [
            hv.Curve((x, std.values), [x_dim], [spread], label="posterior std").opts(
                color=TRAIN_COLOUR, line_width=2, backend="bokeh"
            ),
            hv.Curve(
                (x, np.abs(mean.values - truth.values)), [x_dim], [spread], label="|mean - true|"
            ).opts(color="#d62728", line_width=2, backend="bokeh"),
        ]
    ).opts(
        title=f"{name}: posterior std vs |mean - true|",
        legend_position="bottom",
        legend_cols=2,
        width=_WIDTH + 120,
        height=320,
        backend="bokeh",
    )
    return [first, second]


def posterior_summary(ds: xr.Dataset) -> hv.Layout:
    """An inverse problem's answer, per channel: truth, posterior mean, std and error.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/posterior`` of a field generator: per channel ``c`` the grid fields ``c_true``,
        ``c_mean``, ``c_std`` and, when present, ``c_mask`` (1 where ``c`` was observed);
        attrs ``l2re_<c>`` and ``coverage_<c>`` go into the titles, ``observed`` and
        ``fraction`` into the layout's title when there are no masks.

    Returns
    -------
    holoviews.Layout
        For a 2D grid a row per channel of four images: the truth and the posterior mean on
        one colour range, the posterior standard deviation and ``|mean - true|`` (white at
        0); the observed points of the channel are white markers (``hv.Points``) on each of
        the four, unless it is observed everywhere (the input of a forward problem). Titles
        carry the number of observed points, the mean's relative L2 error (``l2re``) and the
        coverage of the 90% interval. For a 1D grid two panels per
        channel: truth (dashed) against the mean with a band of ±1.645 std and the observed
        values marked (``hv.Scatter``), and std against ``|mean - true|``.

    Raises
    ------
    ValueError
        If ``ds`` is not a Dataset, has no ``<c>_true``, lacks the ``<c>_mean`` or
        ``<c>_std`` of a channel with a truth, or its grid is not 1D or 2D.
    """
    channels = _posterior(ds, "posterior_summary")
    grid = ds[f"{channels[0]}_true"].dims
    panels = []
    for name in channels:
        panels += _posterior_row_2d(ds, name) if len(grid) == 2 else _posterior_row_1d(ds, name)
    title = f"posterior of {', '.join(channels)} {_observed_text(ds, channels)}"
    if SAMPLE_DIM in ds.dims:
        title += f" ({ds.sizes[SAMPLE_DIM]} samples)"
    return hv.Layout(panels).cols(4 if len(grid) == 2 else 2).opts(title=title, backend="bokeh")


# --- across runs ------------------------------------------------------------------------------
def _case_rows(table) -> tuple[list[str], np.ndarray, np.ndarray, float | None]:
    """``(labels, residual, distance, data residual)`` of :func:`pareto`'s input."""
    if isinstance(table, xr.Dataset):
        if CASE_DIM not in table.dims:
            raise ValueError(
                f"pareto() needs a table with a {CASE_DIM!r} dim and variables 'residual' and "
                f"'distance' (or a list or dict of /samples datasets); this dataset has dims "
                f"{dict(table.sizes)}"
            )
        _require(table, ["residual", "distance"], "pareto", "a residual and a distance per case")
        labels = (
            [str(v) for v in table[CASE_DIM].values]
            if CASE_DIM in table.coords
            else [str(i) for i in range(table.sizes[CASE_DIM])]
        )
        data = next((table[n] for n in ("data residual", "data_residual") if n in table), None)
        floor = float(np.nanmean(data.values)) if data is not None else None
        residual = np.asarray(table["residual"].transpose(CASE_DIM, ...).values, float)
        distance = np.asarray(table["distance"].transpose(CASE_DIM, ...).values, float)
        if residual.ndim != 1 or distance.ndim != 1:
            raise ValueError(
                f"pareto() needs 'residual' and 'distance' on {CASE_DIM!r} alone, got "
                f"{table['residual'].dims} and {table['distance'].dims}"
            )
        return labels, residual, distance, floor
    if isinstance(table, Mapping):
        items = [(str(k), v) for k, v in table.items()]
    elif isinstance(table, Sequence) and not isinstance(table, str):
        items = [(str(i), v) for i, v in enumerate(table)]
    else:
        raise ValueError(
            "pareto() takes a list or dict of /samples datasets, or a Dataset with a "
            f"{CASE_DIM!r} dim; got {type(table).__name__}"
        )
    if not items:
        raise ValueError("pareto() needs at least one case; got none")
    labels, residual, distance, floors = [], [], [], []
    for label, ds in items:
        if isinstance(ds, xr.DataTree):  # a whole Run: its /samples, named by its method
            label = str(ds.attrs.get("method", label)) if isinstance(table, Sequence) else label
            if "samples" not in ds.children:
                raise ValueError(f"pareto(): case {label!r} is a Run without a /samples group")
            ds = ds["samples"].to_dataset()
        if not isinstance(ds, xr.Dataset):
            raise ValueError(
                f"pareto(): case {label!r} is a {type(ds).__name__}, not a /samples Dataset"
            )
        missing = [k for k in ("residual_mae", "distance") if k not in ds.attrs]
        if missing:
            raise ValueError(
                f"pareto(): case {label!r} lacks the attrs {missing} of a field generator's "
                f"/samples (a family with a PDE residual); its attrs are {sorted(ds.attrs)}"
            )
        labels.append(label)
        residual.append(float(ds.attrs["residual_mae"]))
        distance.append(float(ds.attrs["distance"]))
        if "data_residual_mae" in ds.attrs:
            floors.append(float(ds.attrs["data_residual_mae"]))
    floor = float(np.mean(floors)) if floors else None
    return labels, np.asarray(residual), np.asarray(distance), floor


def _front(residual: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Positions of the cases no other case beats on both residual and distance, by distance."""
    finite = np.isfinite(residual) & np.isfinite(distance)
    keep = []
    for i in np.flatnonzero(finite):
        beaten = (
            finite
            & (residual <= residual[i])
            & (distance <= distance[i])
            & ((residual < residual[i]) | (distance < distance[i]))
        )
        if not beaten.any():
            keep.append(i)
    return np.asarray(sorted(keep, key=lambda i: distance[i]), dtype=int)


def pareto(table) -> hv.Overlay:
    """The physics-versus-distribution trade-off: mean residual against distance, per run.

    Parameters
    ----------
    table : list or dict of xarray.Dataset, or xarray.Dataset
        Either the ``/samples`` of several field-generator runs (a dict ``label -> ds``, or a
        list labelled by position; a Run's ``DataTree`` stands for its ``/samples``, labelled
        by its method in a list), read from their attrs ``residual_mae``, ``distance`` and,
        when present, ``data_residual_mae``; or a table with dim ``case`` and variables
        ``residual`` and ``distance`` (and optionally ``data residual``), as the generative
        benchmark writes it, labelled by the ``case`` coordinate.

    Returns
    -------
    holoviews.Overlay
        ``hv.Points`` of distance (x) against mean absolute residual (y), one per case, with
        hover and an ``hv.Labels`` of the case names; a dashed line through the cases no other
        beats on both axes (the Pareto front, when two or more); a dotted ``hv.HLine`` at the
        residual of the test data when known, or, when that lies more than
        :data:`FLOOR_SPAN` times below every case (data solved on the residual's own grid:
        rounding level), its value written in the lower right corner instead, so that the
        axis does not span decades of empty space. Log axes when all values are positive.
        Lower left is better.

    Raises
    ------
    ValueError
        If ``table`` is of another type or empty, a dataset lacks ``residual_mae`` or
        ``distance``, or a table lacks the ``case`` dim or a variable.
    """
    labels, residual, distance, floor = _case_rows(table)
    x_dim = hv.Dimension("distance", label="energy distance to the test set")
    y_dim = hv.Dimension("residual", label="mean |PDE residual|")
    case = hv.Dimension(CASE_DIM)
    floor = floor if floor is not None and np.isfinite(floor) else None
    values = np.concatenate([residual, distance, [floor] if floor is not None else []])
    log = bool(np.isfinite(values).any() and np.nanmin(values) > 0)
    # Data solved on the residual's own grid have a residual at rounding level (~1e-7): drawn
    # as a line it would stretch the log axis over decades of empty space, so a floor far
    # below every case is only written in the corner.
    below = (
        floor is not None
        and log
        and np.isfinite(residual).any()
        and floor < np.nanmin(residual) / FLOOR_SPAN
    )
    data = (distance, residual, labels)
    layers = [
        hv.Points(data, [x_dim, y_dim], [case]).opts(
            color=CASE_DIM, cmap="Category10", size=11, tools=["hover"], backend="bokeh"
        ),
        hv.Labels(data, [x_dim, y_dim], [case]).opts(
            text_align="left",
            text_baseline="bottom",
            text_color="black",
            text_font_size="10pt",
            backend="bokeh",
        ),
    ]
    front = _front(residual, distance)
    if len(front) > 1:
        layers.append(
            hv.Curve(
                (distance[front], residual[front]), [x_dim], [y_dim], label="Pareto front"
            ).opts(color="grey", line_dash="dashed", backend="bokeh")
        )
    xlim = _limits(distance, log)
    ylim = _limits([*residual, *([floor] if floor is not None and not below else [])], log)
    if below:
        layers.append(
            hv.Text(
                xlim[1],
                ylim[0],
                f"test data: {floor:.1e} (below the axis)",
                halign="right",
                valign="bottom",
                fontsize=9,
            )
        )
    elif floor is not None:
        right = float(np.nanmax(distance)) if np.isfinite(distance).any() else 1.0
        layers += [
            hv.HLine(floor).opts(color="grey", line_dash="dotted", line_width=2, backend="bokeh"),
            hv.Text(right, floor, "test data", halign="right", valign="bottom", fontsize=9),
        ]
    return hv.Overlay(layers).opts(
        title="mean residual vs distance: lower left is better",
        xlabel=x_dim.pprint_label,
        ylabel=y_dim.pprint_label,
        # An HLine does not widen the axes: the test data's residual is the floor to show.
        ylim=ylim,
        xlim=xlim,
        logx=log,
        logy=log,
        show_legend=False,
        width=_WIDTH + 200,
        height=_HEIGHT + 100,
        backend="bokeh",
    )


def _limits(values, log: bool) -> tuple[float, float]:
    """An axis range around ``values`` with room for the labels: a factor on a log axis."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if not values.size:
        return (np.nan, np.nan)
    low, high = float(values.min()), float(values.max())
    if log:
        return (low / 1.5, high * 1.5)
    pad = 0.1 * (high - low) or 0.1 * abs(high) or 1.0
    return (low - pad, high + pad)
