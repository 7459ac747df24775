"""Views of latent generative models: what the latent space learned, and what it decodes to.

Generative runs (``vae``, ``phys_vae``, ...) encode each field of a problem family into a few
latent dims and decode it back. Their Run holds, besides ``/history``:

- ``/latent``: the test samples' encodings ``z_mean`` and ``z_std`` on ``(sample, latent)``,
  each sample's ``rel_l2`` (relative L2 error of its reconstruction), for a parameter family
  the true parameters (e.g. ``omega`` on ``sample``, with the training range in the attr
  ``range_omega``), a ``traversal`` on ``(latent, offset, *grid)`` (the field decoded with one
  latent dim swept, at the values ``traversal_value`` on ``(latent, offset)``), and, for a
  parameter family, the same for data from outside the training range: ``ood_z_mean``,
  ``ood_u`` (data), ``ood_recon``, ``ood_rel_l2`` and ``ood_<parameter>`` on dim
  ``ood_sample``, with attrs ``ood_parameter`` and ``ood_range``;
- ``/samples``: fields decoded from prior draws, ``u`` on ``(sample, *grid)``, and the draws
  ``z`` on ``(sample, latent)``;
- ``/fields`` (and each live snapshot): data ``u_ref``, reconstruction ``u``, ``error`` and
  ``rel_l2`` of the first test samples, plus ``traversal`` and ``traversal_value``.

The grid is 1D (``t`` of a pendulum, ``x`` of a Burgers initial condition), drawn as curves,
or 2D (``(x, y)`` of Darcy flow, ``(x, t)`` of advection-diffusion), drawn as images.

The views: :func:`traversal_grid` (what each latent dim does to the decoded field),
:func:`latent_scatter` (the test encodings, coloured by a true parameter),
:func:`latent_parity` (an inferred latent against the parameter it should stand for),
:func:`latent_spectrum` (how many latent dims are in use), :func:`reconstructions`,
:func:`extrapolation` (beyond the training range) and :func:`samples` (prior draws).
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import numpy as np
import xarray as xr
from bokeh.palettes import Viridis256

from workbench.views.fields import (
    SAMPLE_DIM,
    _dimension,
    field,
    per_sample,
    sample_labels,
    select_sample,
)
from workbench.views.operators import (
    TRAIN_COLOUR,
    TRANSFER_COLOUR,
    TRUTH_COLOUR,
    _label,
    _rel_l2,
    _shared_range,
    _symmetric_range,
)

#: Dims of ``/latent`` that index latent dims, traversal steps and out-of-range samples.
LATENT_DIM, OFFSET_DIM, OOD_DIM = "latent", "offset", "ood_sample"

#: Colours of the test samples (in the training range) and of those from outside it.
IN_RANGE_COLOUR, OUT_OF_RANGE_COLOUR = TRAIN_COLOUR, TRANSFER_COLOUR

#: Colours of the latent value along a traversal, low to high: viridis without its palest
#: yellows, which would vanish against a white plot.
TRAVERSAL_CMAP = list(Viridis256[:224])

#: Latent dims drawn at most by :func:`traversal_grid` unless asked otherwise.
MAX_LATENTS = 8

_NOT_GRID = frozenset({SAMPLE_DIM, LATENT_DIM, OFFSET_DIM, OOD_DIM})
_REL_L2 = hv.Dimension("rel_l2", label="relative L2 error")
_WIDTH, _HEIGHT = 320, 260
_SMALL = 130  # side of the frame of one image of a grid of images


def _tile(image: hv.Element, colorbar: bool) -> hv.Element:
    """An image of a grid of images: a fixed frame (a colour bar beside it must not shrink
    it), no axes, the grid's shared colour bar on the last column only."""
    return image.opts(
        frame_width=_SMALL,
        frame_height=_SMALL,
        colorbar=colorbar,
        xaxis=None,
        yaxis=None,
        toolbar=None,
        backend="bokeh",
    )


# --- reading the groups -----------------------------------------------------------------------
def _require(ds: xr.Dataset, names: Sequence[str], view: str, what: str) -> None:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise ValueError(
            f"{view}() needs {what}: variables {missing} are missing; the dataset has "
            f"{sorted(map(str, ds.data_vars))}"
        )


def _grid_dims(da: xr.DataArray) -> tuple[str, ...]:
    """The dims of the family's grid: those of ``da`` but sample, latent, offset, ood_sample."""
    return tuple(str(d) for d in da.dims if d not in _NOT_GRID)


def _check_grid(da: xr.DataArray, view: str) -> tuple[str, ...]:
    grid = _grid_dims(da)
    if len(grid) not in (1, 2):
        raise ValueError(f"{view}() draws fields on 1D or 2D grids, got {da.name} on {da.dims}")
    return grid


def latent_names(ds: xr.Dataset) -> list[str]:
    """Names of the latent dims: the ``latent`` coordinate, else ``"0"``, ``"1"``, ...

    Parameters
    ----------
    ds : xarray.Dataset
        Data with a ``latent`` dim (``/latent``, ``/samples`` or a live snapshot).

    Returns
    -------
    list of str
    """
    if LATENT_DIM in ds.coords:
        return [str(v) for v in ds[LATENT_DIM].values]
    return [str(i) for i in range(ds.sizes[LATENT_DIM])]


def _latent_index(ds: xr.Dataset, latent) -> int:
    names = latent_names(ds)
    if isinstance(latent, (int, np.integer)) and not isinstance(latent, bool):
        if 0 <= latent < len(names):
            return int(latent)
    elif str(latent) in names:
        return names.index(str(latent))
    raise ValueError(f"latent={latent!r} is not a latent dim; they are {names}")


def parameters(ds: xr.Dataset) -> list[str]:
    """The family's true parameters held by ``/latent`` (empty for a function family).

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/latent`` group.

    Returns
    -------
    list of str
        Variables on ``sample`` alone, other than ``rel_l2``, in dataset order, with the one
        named by the ``ood_parameter`` attr (the one extrapolated) first.
    """
    names = [
        str(n)
        for n, v in ds.data_vars.items()
        if v.dims == (SAMPLE_DIM,) and n != "rel_l2" and not str(n).startswith("ood_")
    ]
    first = ds.attrs.get("ood_parameter")
    if first in names:
        names.remove(first)
        names.insert(0, first)
    return names


def _training_range(ds: xr.Dataset, name: str) -> tuple[float, float] | None:
    value = ds.attrs.get(f"range_{name}")
    if value is None or len(value) != 2:
        return None
    return float(value[0]), float(value[1])


def _spread(ds: xr.Dataset) -> np.ndarray:
    """How much each latent dim varies over the test samples (for ranking dims)."""
    if "z_mean" in ds.data_vars:
        return np.nan_to_num(ds["z_mean"].std(SAMPLE_DIM).values.astype(float))
    values = ds["traversal_value"]  # mean +- 2 std of the test encodings: same ranking
    return np.nan_to_num((values.max(OFFSET_DIM) - values.min(OFFSET_DIM)).values.astype(float))


def ranked_latents(ds: xr.Dataset, max_latents: int = MAX_LATENTS) -> list[int]:
    """Positions of the latent dims to draw: all, or the ``max_latents`` that vary most.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` (ranked by the spread of ``z_mean`` over the test samples) or a live
        snapshot (ranked by the span of ``traversal_value``, which is that spread times 4).
    max_latents : int
        Most dims returned.

    Returns
    -------
    list of int
        In latent order (not by rank), so that the rows of a grid keep the model's order.
    """
    size = ds.sizes[LATENT_DIM]
    if size <= max_latents:
        return list(range(size))
    order = np.argsort(-_spread(ds), kind="stable")[:max_latents]
    return sorted(int(i) for i in order)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 2 or np.std(a) == 0 or np.std(b) == 0:
        return np.nan
    return float(np.corrcoef(a, b)[0, 1])


def _latent_dimension(ds: xr.Dataset, index: int) -> hv.Dimension:
    name = latent_names(ds)[index]
    return hv.Dimension(f"z_{name}", label=f"latent mean {name}")


def _variable_dimension(ds: xr.Dataset, name: str) -> hv.Dimension:
    return _dimension(name, ds[name].attrs)


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


# --- fields -----------------------------------------------------------------------------------
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
