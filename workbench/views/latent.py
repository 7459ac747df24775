"""Views of the latent space of latent generative models: what it learned.

Generative runs (``vae``, ``phys_vae``, ...) encode each field of a problem family into a few
latent dims and decode it back; :mod:`workbench.views.latent_data` describes the groups of
their Run these views read.

The views: :func:`traversal_grid` (what each latent dim does to the decoded field),
:func:`latent_scatter` (the test encodings, coloured by a true parameter),
:func:`latent_parity` (an inferred latent against the parameter it should stand for) and
:func:`latent_spectrum` (how many latent dims are in use). What the latent space decodes to
(reconstructions, extrapolation beyond the training range, prior draws) is drawn by
:mod:`workbench.views.decoded`.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import numpy as np
import xarray as xr
from bokeh.palettes import Viridis256

from workbench.views.fields import SAMPLE_DIM, _dimension, field
from workbench.views.latent_data import (
    _HEIGHT,
    _WIDTH,
    IN_RANGE_COLOUR,
    LATENT_DIM,
    MAX_LATENTS,
    OFFSET_DIM,
    OOD_DIM,
    OUT_OF_RANGE_COLOUR,
    _check_grid,
    _latent_index,
    _require,
    _spread,
    _tile,
    _training_range,
    _variable_dimension,
    latent_names,
    parameters,
    ranked_latents,
)
from workbench.views.operators import _shared_range
from workbench.views.style import compact_colorbar

#: Colours of the latent value along a traversal, low to high: viridis without its palest
#: yellows, which would vanish against a white plot.
TRAVERSAL_CMAP = list(Viridis256[:224])


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 2 or np.std(a) == 0 or np.std(b) == 0:
        return np.nan
    return float(np.corrcoef(a, b)[0, 1])


def _latent_dimension(ds: xr.Dataset, index: int) -> hv.Dimension:
    name = latent_names(ds)[index]
    return hv.Dimension(f"z_{name}", label=f"latent mean {name}")


def _short(attrs: dict, fallback: str) -> str:
    return str(attrs.get("long_name", fallback))


# --- traversal --------------------------------------------------------------------------------
def traversal_grid(
    ds: xr.Dataset, latents: Sequence | None = None, max_latents: int = MAX_LATENTS
) -> hv.Layout:
    """What each latent dim does: the field decoded with one latent dim swept.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` of a generative run, or a live snapshot / ``/fields``: ``traversal`` on
        ``(latent, offset, *grid)`` and, when present, ``traversal_value`` on
        ``(latent, offset)`` (the latent values decoded; else the ``offset`` coordinate).
    latents : sequence of str or int, optional
        The latent dims to draw, by name or position. Default: all of them, or the
        ``max_latents`` that vary most over the test samples (see :func:`ranked_latents`).
    max_latents : int
        Most latent dims drawn by default.

    Returns
    -------
    holoviews.Layout
        For a 1D grid one panel per latent dim: an ``hv.Path`` of one curve per swept value,
        coloured by the latent value (with a colour bar). For a 2D grid a grid of small
        ``hv.Image`` panels, a row per latent dim and a column per swept value, all on one
        colour range; each is titled with its latent value. The layout's title says how
        many latent dims are drawn.

    Raises
    ------
    ValueError
        If ``ds`` has no ``traversal``, its grid is not 1D or 2D, or a latent is unknown.
    """
    _require(ds, ["traversal"], "traversal_grid", "a latent traversal")
    trav = ds["traversal"]
    grid = _check_grid(trav, "traversal_grid")
    names = latent_names(ds)
    chosen = (
        [_latent_index(ds, v) for v in latents]
        if latents is not None
        else ranked_latents(ds, max_latents)
    )
    if "traversal_value" in ds.data_vars:
        values = np.asarray(ds["traversal_value"].transpose(LATENT_DIM, OFFSET_DIM).values, float)
    else:
        offsets = np.asarray(ds[OFFSET_DIM].values if OFFSET_DIM in ds.coords else [], float)
        if offsets.size != ds.sizes[OFFSET_DIM]:
            offsets = np.arange(ds.sizes[OFFSET_DIM], dtype=float)
        values = np.tile(offsets, (len(names), 1))
    trav = trav.transpose(LATENT_DIM, OFFSET_DIM, *grid)
    u_dim = hv.Dimension(
        "decoded", label=_short(trav.attrs, "decoded field").split(" with ")[0], unit=None
    )
    panels = []
    if len(grid) == 1:
        (dim,) = grid
        coord = trav[dim].values
        x_dim = _dimension(dim, trav[dim].attrs)
        for i in chosen:
            name = names[i]
            value_dim = hv.Dimension("value", label=f"latent {name}")
            paths = [
                {dim: coord, "decoded": trav.values[i, k], "value": float(values[i, k])}
                for k in range(trav.sizes[OFFSET_DIM])
            ]
            low, high = np.nanmin(values[i]), np.nanmax(values[i])
            clim = (float(low), float(high)) if high > low else (float(low) - 1, float(high) + 1)
            path = hv.Path(paths, kdims=[x_dim, u_dim], vdims=[value_dim])
            panels.append(
                path.opts(
                    color="value",
                    cmap=TRAVERSAL_CMAP,
                    clim=clim,
                    colorbar=True,
                    hooks=[compact_colorbar],
                    line_width=2,
                    title=f"latent {name} swept",
                    width=_WIDTH + 40,
                    height=_HEIGHT,
                    tools=["hover"],
                    backend="bokeh",
                )
            )
        layout = hv.Layout(panels).cols(min(len(panels), 3) or 1)
    else:
        shared = _shared_range([trav.values[chosen]]) if chosen else None
        last = trav.sizes[OFFSET_DIM] - 1
        for i in chosen:
            for k in range(trav.sizes[OFFSET_DIM]):
                one = trav.isel({LATENT_DIM: i, OFFSET_DIM: k}, drop=True)
                one = one.rename("decoded").assign_attrs(long_name=u_dim.label)
                image = field(one, title=f"{names[i]} = {values[i, k]:.3g}", clim=shared)
                panels.append(_tile(image, colorbar=k == last))
        layout = hv.Layout(panels).cols(trav.sizes[OFFSET_DIM])
    shown = f"{len(chosen)} of {len(names)}" if len(chosen) < len(names) else f"all {len(names)}"
    title = f"latent traversal ({shown} latent dims): {_short(trav.attrs, 'decoded field')}"
    return layout.opts(title=title, backend="bokeh")


# --- the latent space -------------------------------------------------------------------------
def _default_colour(ds: xr.Dataset) -> str | None:
    names = parameters(ds)
    if names:
        return names[0]
    return "rel_l2" if "rel_l2" in ds.data_vars else None


def latent_scatter(ds: xr.Dataset, color: str | None = None, x=None, y=None) -> hv.Overlay:
    """The test samples' encodings in two latent dims, coloured by a true parameter.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` of a generative run: ``z_mean`` on ``(sample, latent)``; the colour
        variable on ``sample``; ``ood_z_mean`` (and ``ood_<color>``) add the out-of-range
        samples.
    color : str, optional
        A variable on ``sample`` to colour by. Default: the parameter extrapolated
        (attr ``ood_parameter``), else the family's first parameter, else ``rel_l2``.
    x, y : str or int, optional
        The latent dims on the axes, by name or position. Default: the two that vary most
        over the test samples, in latent order.

    Returns
    -------
    holoviews.Overlay
        ``hv.Points`` of the test encodings (with a colour bar) and, when present,
        triangles of the out-of-range encodings on the same colour scale. The title counts
        the samples.

    Raises
    ------
    ValueError
        If ``z_mean`` is missing, the model has one latent dim only (see
        :func:`latent_parity`), ``x`` equals ``y``, or ``color`` is not a variable on
        ``sample``.
    """
    _require(ds, ["z_mean"], "latent_scatter", "the test encodings")
    names = latent_names(ds)
    if len(names) < 2 and (x is None or y is None):
        raise ValueError(
            "latent_scatter() draws two latent dims and the model has one; "
            "latent_parity() draws it against a parameter"
        )
    ranked = sorted(np.argsort(-_spread(ds), kind="stable")[:2].tolist())
    i = _latent_index(ds, x) if x is not None else ranked[0]
    j = _latent_index(ds, y) if y is not None else ranked[1] if ranked[1] != i else ranked[0]
    if i == j:
        raise ValueError(f"x and y are the same latent dim {names[i]!r}")
    color = color if color is not None else _default_colour(ds)
    if color is not None and (color not in ds.data_vars or ds[color].dims != (SAMPLE_DIM,)):
        options = parameters(ds) + (["rel_l2"] if "rel_l2" in ds.data_vars else [])
        raise ValueError(f"color={color!r} is not a variable on 'sample'; try one of {options}")
    z = ds["z_mean"].transpose(SAMPLE_DIM, LATENT_DIM).values
    kdims = [_latent_dimension(ds, i), _latent_dimension(ds, j)]
    c_dim = _variable_dimension(ds, color) if color is not None else None
    layers = []
    style = dict(size=8, tools=["hover"], backend="bokeh")
    ood = "ood_z_mean" in ds.data_vars
    ood_colour = f"ood_{color}" if color is not None else None
    colours = [ds[color].values] if color is not None else []
    if ood and ood_colour in ds.data_vars:
        colours.append(ds[ood_colour].values)
    clim = _shared_range([np.asarray(c, float) for c in colours]) if colours else None
    if c_dim is not None:
        points = hv.Points(
            (z[:, i], z[:, j], ds[color].values), kdims=kdims, vdims=[c_dim], label="test"
        )
        layers.append(
            points.opts(
                color=c_dim.name,
                cmap="viridis",
                clim=clim or (np.nan, np.nan),
                colorbar=True,
                hooks=[compact_colorbar],
                line_color="black",
                line_width=0.5,
                **style,
            )
        )
    else:
        layers.append(
            hv.Points((z[:, i], z[:, j]), kdims=kdims, label="test").opts(
                color=IN_RANGE_COLOUR, **style
            )
        )
    count = f"{ds.sizes[SAMPLE_DIM]} test samples"
    if ood:
        far = ds["ood_z_mean"].transpose(OOD_DIM, LATENT_DIM).values
        label = "out of range"
        if c_dim is not None and ood_colour in ds.data_vars:
            ood_points = hv.Points(
                (far[:, i], far[:, j], ds[ood_colour].values),
                kdims=kdims,
                vdims=[c_dim],
                label=label,
            ).opts(
                color=c_dim.name,
                cmap="viridis",
                clim=clim or (np.nan, np.nan),
                marker="triangle",
                line_color=OUT_OF_RANGE_COLOUR,
                line_width=1.5,
                **style,
            )
        else:
            ood_points = hv.Points((far[:, i], far[:, j]), kdims=kdims, label=label).opts(
                color=OUT_OF_RANGE_COLOUR, marker="triangle", **style
            )
        layers.append(ood_points)
        count = f"{ds.sizes[SAMPLE_DIM]} in range, {ds.sizes[OOD_DIM]} out of range"
        legend = dict(legend_position="bottom_right")
    else:
        legend = dict(show_legend=False)  # one layer: the title says what it is
    # The colour bar names the colour; a longer title would be clipped at the plot's width.
    return hv.Overlay(layers).opts(
        title=f"test encodings: {count}",
        xlabel=kdims[0].pprint_label,
        ylabel=kdims[1].pprint_label,
        width=_WIDTH + 140,
        height=_HEIGHT + 60,
        backend="bokeh",
        **legend,
    )


def _parity_latent(ds: xr.Dataset, parameter: str) -> int:
    """The latent named like ``parameter`` (a physical latent), else the most correlated."""
    names = latent_names(ds)
    if parameter in names:
        return names.index(parameter)
    z = ds["z_mean"].transpose(SAMPLE_DIM, LATENT_DIM).values
    truth = np.asarray(ds[parameter].values, float)
    corr = np.array([abs(_pearson(z[:, k], truth)) for k in range(len(names))])
    return int(np.argmax(np.nan_to_num(corr, nan=-1.0)))


def latent_parity(ds: xr.Dataset, parameter: str | None = None, latent=None) -> hv.Overlay:
    """An inferred latent against the true parameter it should stand for.

    This is the "what does the physical latent mean" plot: a physics-integrated VAE's
    ``omega`` latent should lie on the diagonal; a plain VAE's latents at best correlate.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` of a generative run on a parameter family: ``z_mean`` (``z_std`` adds
        error bars) and the true ``parameter`` on ``sample``, the training range in the attr
        ``range_<parameter>``; ``ood_z_mean`` and ``ood_<parameter>`` add the
        out-of-range samples.
    parameter : str, optional
        Default: the one extrapolated (``ood_parameter``), else the first.
    latent : str or int, optional
        The latent dim, by name or position. Default: the one named like ``parameter`` (a
        physical latent), else the one most correlated with it over the test samples.

    Returns
    -------
    holoviews.Overlay
        The training range shaded (``hv.VSpan``), the test samples (``hv.Points`` with
        ``hv.ErrorBars`` of one latent standard deviation), the out-of-range samples in
        another colour, and for a physical latent the diagonal ``y = x``. The title gives
        Pearson's r over the test samples.

    Raises
    ------
    ValueError
        If ``ds`` holds no true parameters (a function family) or ``parameter`` or
        ``latent`` is unknown.
    """
    _require(ds, ["z_mean"], "latent_parity", "the test encodings")
    known = parameters(ds)
    if not known:
        raise ValueError(
            "latent_parity() needs the family's true parameters on 'sample'; this dataset "
            "has none (a function family has no parameters to compare with)"
        )
    parameter = parameter if parameter is not None else known[0]
    if parameter not in known:
        raise ValueError(f"parameter={parameter!r} is not one of {known}")
    k = _latent_index(ds, latent) if latent is not None else _parity_latent(ds, parameter)
    name = latent_names(ds)[k]
    x_dim = _variable_dimension(ds, parameter)
    y_dim = _latent_dimension(ds, k)
    truth = np.asarray(ds[parameter].values, float)
    z = ds["z_mean"].transpose(SAMPLE_DIM, LATENT_DIM).values[:, k]
    layers = []
    span = _training_range(ds, parameter)
    if span is not None:
        layers.append(hv.VSpan(*span).opts(color="grey", alpha=0.15, line_alpha=0, backend="bokeh"))
    if name == parameter:
        layers.append(
            hv.Slope(1.0, 0.0).opts(color="grey", line_dash="dashed", line_width=1, backend="bokeh")
        )
    if "z_std" in ds.data_vars:
        std = ds["z_std"].transpose(SAMPLE_DIM, LATENT_DIM).values[:, k]
        layers.append(
            hv.ErrorBars((truth, z, std), kdims=[x_dim], vdims=[y_dim, "z_std"]).opts(
                color=IN_RANGE_COLOUR, alpha=0.5, backend="bokeh"
            )
        )
    points = hv.Points((truth, z), kdims=[x_dim, y_dim], label="test (in range)")
    style = dict(size=7, tools=["hover"], backend="bokeh")
    layers.append(points.opts(color=IN_RANGE_COLOUR, **style))
    far = f"ood_{parameter}"
    if "ood_z_mean" in ds.data_vars and far in ds.data_vars:
        ood = hv.Points(
            (ds[far].values, ds["ood_z_mean"].transpose(OOD_DIM, LATENT_DIM).values[:, k]),
            kdims=[x_dim, y_dim],
            label="out of range",
        )
        layers.append(ood.opts(color=OUT_OF_RANGE_COLOUR, marker="triangle", **style))
    r = _pearson(truth, z)
    title = f"latent {name} vs true {parameter}: r = {r:.2f}"
    title += " (grey: training range)" if span is not None else ""
    return hv.Overlay(layers).opts(
        title=title,
        # The first layer (the shaded range) would otherwise name the axes x and y.
        xlabel=x_dim.pprint_label,
        ylabel=y_dim.pprint_label,
        legend_position="bottom_right",
        width=_WIDTH + 140,
        height=_HEIGHT + 60,
        backend="bokeh",
    )


def latent_spectrum(ds: xr.Dataset, threshold: float = 0.01) -> hv.Overlay:
    """The latent spectrum: each latent dim's spread over the test samples, sorted.

    A model that uses few of its latent dims (Least Volume regularization, or a VAE whose
    KL term switched dims off) shows a sharp drop: the count of dims above the threshold is
    the dimension of the data manifold the model found.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` of a generative run, with ``z_mean`` on ``(sample, latent)``.
    threshold : float
        Dims whose standard deviation is above ``threshold`` times the largest count as used.

    Returns
    -------
    holoviews.Overlay
        ``hv.Bars`` of the standard deviation of ``z_mean`` across the test samples, one per
        latent dim in decreasing order, on a log axis (dims below the threshold greyed), and
        an ``hv.HLine`` at the threshold. The title counts the dims above it.

    Raises
    ------
    ValueError
        If ``z_mean`` is missing.
    """
    _require(ds, ["z_mean"], "latent_spectrum", "the test encodings")
    std = np.asarray(ds["z_mean"].std(SAMPLE_DIM).values, float)
    names = np.asarray(latent_names(ds))
    order = np.argsort(-np.nan_to_num(std, nan=-1.0), kind="stable")
    std, names = std[order], names[order]
    largest = float(np.nanmax(std)) if np.isfinite(std).any() else 0.0
    cut = threshold * largest
    above = int(np.sum(std > cut)) if largest > 0 else 0
    positive = std[np.isfinite(std) & (std > 0)]
    # Zero spread (a dim switched off) must still show on the log axis: just above the floor.
    floor = 0.3 * float(min(positive.min(), cut if cut > 0 else np.inf)) if positive.size else 1e-3
    heights = np.where(np.isfinite(std) & (std > 0), std, 1.5 * floor)
    used = np.where(std > cut, "used", "unused") if largest > 0 else np.full(len(std), "unused")
    bars = hv.Bars(
        (names, heights, used),
        kdims=[hv.Dimension(LATENT_DIM, label="latent dim (sorted)")],
        vdims=[
            hv.Dimension("std", label="std of z_mean over test samples", range=(floor, None)),
            hv.Dimension("used"),
        ],
    ).opts(
        logy=True,
        color=hv.dim("used").categorize({"used": IN_RANGE_COLOUR, "unused": "lightgrey"}),
        tools=["hover"],
        xrotation=45 if len(names) > 12 else 0,
        backend="bokeh",
    )
    layers = [bars]
    if cut > 0:
        layers.append(hv.HLine(cut).opts(color="black", line_dash="dashed", backend="bokeh"))
    return hv.Overlay(layers).opts(
        title=(
            f"latent spectrum: {above} of {len(names)} dims above {threshold:.0%} of the largest"
        ),
        width=max(_WIDTH + 140, 18 * len(names) + 120),
        height=_HEIGHT + 40,
        backend="bokeh",
    )
