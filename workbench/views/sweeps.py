"""Views of sweeps: a metric against the swept knobs, and one point's fields.

A sweep's Dataset (see :mod:`workbench.sweep`) has one dimension per swept knob and a value
of each metric (``l2re``, ``loss``, ``loss_<term>``, ``wall_s``) per point; with
``fields=True`` also each point's fields. Points not finished yet have ``status="pending"``
and NaN metrics: the views skip them, so a sweep that is filling in draws what it has.

- :func:`sweep_curve`: the metric against one knob; over a ``seed`` dimension the line is the
  median and a band spans the smallest to the largest seed's value; one line per value of
  every other knob.
- :func:`sweep_heatmap`: the metric over two knobs (median over seeds).
- :func:`sweep_plot`: the heatmap for exactly two numeric knobs besides ``seed``, the curves
  otherwise.
- :func:`sweep_point`: the fields of one point (prediction, reference, error, residual).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import _dimension, compare, load_bokeh_backend
from workbench.views.style import compact_colorbar

load_bokeh_backend()

#: The dimension whose values are repeats of one experiment rather than a knob to explore.
SEED_DIM = "seed"

#: Metrics spanning decades, drawn on log axes when positive.
LOG_METRICS = ("l2re", "loss")

_WIDTH, _HEIGHT = 480, 320


def _knob_dims(ds: xr.Dataset, metric: str) -> list[str]:
    if metric not in ds.data_vars:
        allowed = [n for n, v in ds.data_vars.items() if v.dtype.kind in "fiu"]
        raise ValueError(f"metric {metric!r} is not in the sweep; allowed: {', '.join(allowed)}")
    sweep_dims = list(ds["status"].dims) if "status" in ds else list(ds[metric].dims)
    return sweep_dims


def _is_numeric(ds: xr.Dataset, dim: str) -> bool:
    return ds[dim].dtype.kind in "fiu"  # not "b": True/False are two choices, not numbers


def _log(metric: str, values: np.ndarray, logy: bool | None) -> bool:
    if logy is not None:
        return logy
    finite = values[np.isfinite(values)]
    return metric.startswith(LOG_METRICS) and finite.size > 0 and bool((finite > 0).all())


def _label(ds: xr.Dataset, dims: Sequence[str], values: Sequence) -> str:
    return ", ".join(
        f"{d}={v:g}" if _is_numeric(ds, d) else f"{d}={v}" for d, v in zip(dims, values)
    )


def sweep_curve(
    ds: xr.Dataset,
    metric: str = "l2re",
    *,
    x: str | None = None,
    logy: bool | None = None,
) -> hv.Overlay:
    """The metric against one swept knob: a line per value of the other knobs, a band over seeds.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep's Dataset (from :func:`workbench.sweep.sweep` or ``sweep.nc``).
    metric : str
        A numeric variable with the sweep's dims, e.g. ``l2re``, ``loss``, ``wall_s``.
    x : str, optional
        The knob on the horizontal axis (default: the first numeric knob other than
        ``seed``, else the first knob).
    logy : bool, optional
        Log vertical axis (default: for ``l2re`` and losses when all values are positive).

    Returns
    -------
    holoviews.Overlay
        Per line: the median over ``seed`` (or the value, without one) as ``hv.Curve``, the
        seeds' individual values as ``hv.Scatter`` and, with two seeds or more, an
        ``hv.Area`` from the smallest to the largest. Unfinished points are left out.

    Raises
    ------
    ValueError
        If ``metric`` or ``x`` is not in the sweep.
    """
    dims = _knob_dims(ds, metric)
    knobs = [d for d in dims if d != SEED_DIM]
    if x is None:
        numeric = [d for d in knobs if _is_numeric(ds, d)]
        x = (numeric or knobs or dims)[0]
    if x not in dims:
        raise ValueError(f"x: {x!r} is not a swept knob; the sweep's knobs: {', '.join(dims)}")
    others = [d for d in knobs if d != x]
    values = ds[metric]
    log = _log(metric, values.values, logy)
    xdim = _dimension(x, ds[x].attrs)
    ydim = _dimension(metric, values.attrs)
    layers = []
    combos = list(itertools.product(*(ds[d].values.tolist() for d in others))) or [()]
    colours = hv.Cycle("Category10").values
    for number, combo in enumerate(combos):
        line = values.sel(dict(zip(others, combo))) if others else values
        label = _label(ds, others, combo) if others else metric
        colour = colours[number % len(colours)]
        # True/false and named choices sit on a categorical axis, in the order swept.
        xs = ds[x].values if _is_numeric(ds, x) else np.array([str(v) for v in ds[x].values])
        if SEED_DIM in line.dims and x != SEED_DIM:
            line = line.transpose(x, SEED_DIM)
            with np.errstate(all="ignore"), _quiet_nan_warnings():
                middle = np.nanmedian(line.values, axis=1)
                low = np.nanmin(line.values, axis=1)
                high = np.nanmax(line.values, axis=1)
            seeds_x = np.repeat(xs, line.shape[1])
            seeds_y = line.values.ravel()
            keep = np.isfinite(seeds_y)
            layers.append(
                hv.Scatter((seeds_x[keep], seeds_y[keep]), [xdim], [ydim], label=label).opts(
                    color=colour, size=5, alpha=0.6, tools=["hover"], backend="bokeh"
                )
            )
            if line.shape[1] > 1:
                shown = np.isfinite(low)
                layers.append(
                    hv.Area(
                        (xs[shown], low[shown], high[shown]),
                        [xdim],
                        [ydim, f"{metric}_high"],
                        label=label,
                    ).opts(color=colour, alpha=0.2, line_alpha=0, backend="bokeh")
                )
        else:
            middle = np.asarray(line.values, dtype=float).ravel()
            keep = np.isfinite(middle)
            # A marker per point: a sweep has few, and a bare line hides where they are.
            layers.append(
                hv.Scatter((xs[keep], middle[keep]), [xdim], [ydim], label=label).opts(
                    color=colour, size=7, tools=["hover"], backend="bokeh"
                )
            )
        shown = np.isfinite(middle)
        layers.append(
            hv.Curve((xs[shown], middle[shown]), [xdim], [ydim], label=label).opts(
                color=colour, line_width=2, tools=["hover"], backend="bokeh"
            )
        )
    title = f"{ydim.label} vs {xdim.label}"
    if SEED_DIM in dims and x != SEED_DIM:
        title += f" (median and range over {ds.sizes[SEED_DIM]} seeds)"
    return hv.Overlay(layers).opts(
        title=title,
        logy=log,
        logx=bool(_is_numeric(ds, x) and ds[x].values.min() > 0 and _spans_decades(ds[x].values)),
        width=_WIDTH,
        height=_HEIGHT,
        legend_position="top_left",
        show_legend=bool(others),
        backend="bokeh",
    )


def _spans_decades(values: np.ndarray) -> bool:
    """Whether positive knob values are log-spaced (then a log x-axis reads better).

    They are when they span a decade or more and, with three or more, their ratios vary less
    than their differences (1e-4, 1e-3, 1e-2 or 1e-3, 3e-3, 1e-2; not 1, 10, 20).
    """
    values = np.unique(np.asarray(values, dtype=float))
    if values.size < 2 or values[0] <= 0 or values[-1] / values[0] < 10:
        return False
    if values.size == 2:
        return True
    ratios, steps = np.log(values[1:] / values[:-1]), np.log(np.diff(values))
    return bool(ratios.std() <= steps.std())


class _quiet_nan_warnings:
    """All-NaN rows (unfinished points) make numpy's nan-reductions warn; they are expected."""

    def __enter__(self):
        import warnings

        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catcher.__exit__(*exc)


def sweep_heatmap(
    ds: xr.Dataset,
    metric: str = "l2re",
    *,
    x: str | None = None,
    y: str | None = None,
    logz: bool | None = None,
) -> hv.HeatMap:
    """The metric over two swept knobs, the median over ``seed`` in each cell.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep's Dataset.
    metric : str
        A numeric variable with the sweep's dims.
    x, y : str, optional
        The two knobs (default: the first two other than ``seed``).
    logz : bool, optional
        Log colour scale (default: for ``l2re`` and losses when all values are positive).

    Returns
    -------
    holoviews.HeatMap
        One cell per (x, y) value pair, labelled by the value; unfinished cells are empty.

    Raises
    ------
    ValueError
        If the sweep has fewer than two knobs besides ``seed``, or ``x``/``y`` is not one.
    """
    dims = _knob_dims(ds, metric)
    knobs = [d for d in dims if d != SEED_DIM]
    if len(knobs) < 2:
        raise ValueError(
            f"sweep_heatmap needs two swept knobs besides seed; this sweep has {knobs}"
        )
    x = x or next(d for d in knobs if d != y)
    y = y or next(d for d in knobs if d != x)
    for name, dim in (("x", x), ("y", y)):
        if dim not in knobs:
            raise ValueError(f"{name}: {dim!r} is not a swept knob; the knobs: {', '.join(knobs)}")
    values = ds[metric]
    with _quiet_nan_warnings():
        reduced = values.median(SEED_DIM) if SEED_DIM in values.dims else values
        extra = [d for d in reduced.dims if d not in (x, y)]
        if extra:  # more knobs: the first value of each (sweep_curve shows them all)
            reduced = reduced.isel(dict.fromkeys(extra, 0))
    table = reduced.transpose(x, y)
    xs, ys = np.meshgrid(table[x].values, table[y].values, indexing="ij")
    data = (
        [str(v) for v in xs.ravel()],
        [str(v) for v in ys.ravel()],
        table.values.ravel().astype(float),
    )
    zdim = _dimension(metric, values.attrs)
    log = _log(metric, values.values, logz)
    title = f"{zdim.label} over {x} and {y}"
    if SEED_DIM in values.dims:
        title += f" (median over {ds.sizes[SEED_DIM]} seeds)"
    if extra:
        title += " at " + _label(ds, extra, [ds[d].values[0] for d in extra])
    return hv.HeatMap(data, [_dimension(x, ds[x].attrs), _dimension(y, ds[y].attrs)], [zdim]).opts(
        title=title,
        cmap="viridis",
        logz=log,
        colorbar=True,
        hooks=[compact_colorbar],
        tools=["hover"],
        width=_WIDTH,
        height=_HEIGHT,
        backend="bokeh",
    )


def sweep_plot(ds: xr.Dataset, metric: str = "l2re") -> hv.Overlay | hv.HeatMap:
    """The natural picture of a sweep: a heatmap for two numeric knobs, else curves.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep's Dataset.
    metric : str
        A numeric variable with the sweep's dims.

    Returns
    -------
    holoviews.HeatMap or holoviews.Overlay
        :func:`sweep_heatmap` when exactly two knobs besides ``seed`` are numeric (and no
        other is swept), :func:`sweep_curve` otherwise.
    """
    knobs = [d for d in _knob_dims(ds, metric) if d != SEED_DIM]
    if len(knobs) == 2 and all(_is_numeric(ds, d) for d in knobs):
        return sweep_heatmap(ds, metric)
    return sweep_curve(ds, metric)


def sweep_point(ds: xr.Dataset, **point) -> hv.Layout:
    """The fields of one point of a sweep kept with ``fields=True``.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep's Dataset holding fields (``u``, ``u_ref``, ``error``, ``residual``).
    **point
        One value for every swept knob, e.g. ``beta=30, seed=0``.

    Returns
    -------
    holoviews.Layout
        :func:`~workbench.views.compare` of that point's fields, titled with the point, its
        status and l2re.

    Raises
    ------
    ValueError
        If the sweep holds no fields, a knob is missing or unknown, or a value is not swept.
    """
    dims = list(ds["status"].dims)
    fields = [n for n in ("u", "u_ref", "error", "residual") if n in ds.data_vars]
    if not fields:
        raise ValueError("this sweep kept no fields; run it with fields=True (CLI: --fields)")
    unknown = sorted(set(point) - set(dims))
    missing = [d for d in dims if d not in point]
    if unknown or missing:
        raise ValueError(
            f"point: give one value for each swept knob ({', '.join(dims)}); "
            + (f"unknown {unknown}" if unknown else f"missing {missing}")
        )
    for dim, value in point.items():
        if value not in ds[dim].values.tolist():
            raise ValueError(f"{dim}={value!r} is not in the sweep; its values: {ds[dim].values}")
    one = ds.sel(point)
    status = str(one["status"].item())
    title = _label(ds, dims, [point[d] for d in dims]) + f": {status}"
    if status != "pending" and "l2re" in one:
        title += f", l2re {float(one['l2re']):.3g}"
    return compare(one[fields]).opts(title=title)
