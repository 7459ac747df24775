"""Views of the ``/points`` group: collocation points and model anchors (PIG Gaussians).

Pure functions ``xarray -> HoloViews``. A Run's ``/points`` holds, per point set ``S``, a dim
``S`` and its coordinates ``S_<d>`` for each problem dim ``d``; next to them sit per-point
values (``interior_retained``: 1 where a sampler kept the point, 0 where it was drawn anew)
and, for Physics-Informed Gaussians, the set ``gaussian`` with centres ``gaussian_<d>``,
widths ``gaussian_sigma_<d>``, ``gaussian_weight`` and ``gaussian_channel``. Both views lay
their axes out with :func:`~workbench.views.fields.plot_dims`, so they overlay directly on
:func:`~workbench.views.fields.field` images.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import plot_dims
from workbench.views.style import compact_colorbar

#: Point sets that are parts of the model rather than places where a loss is evaluated; they
#: have views of their own (:func:`gaussians`) and are left out of :func:`points`.
ANCHOR_SETS = frozenset({"gaussian"})

#: Suffixes of ``S_<suffix>`` variables that are per-point values, not coordinates.
POINT_VALUES = frozenset({"retained", "weight", "channel"})

#: Diverging palette of the Gaussians' weights: not ``RdBu``, which the residual image they
#: sit on already uses, so that a red centre is not read as a large residual.
WEIGHT_CMAP = "PiYG"

_KEPT, _NEW = "kept", "new"


def _suffixes(ds_points: xr.Dataset) -> dict[str, list[str]]:
    """For each point set, the suffixes ``d`` of its ``S_d`` variables, in dataset order."""
    found: dict[str, list[str]] = {}
    for name, var in ds_points.data_vars.items():
        # Matching on the variable's own dimension keeps set names with "_" unambiguous.
        if var.ndim != 1 or not str(name).startswith(f"{var.dims[0]}_"):
            continue
        found.setdefault(str(var.dims[0]), []).append(str(name)[len(str(var.dims[0])) + 1 :])
    return found


def point_dims(ds_points: xr.Dataset) -> list[str]:
    """The problem dimensions named by the coordinate variables of a ``/points`` group.

    Parameters
    ----------
    ds_points : xarray.Dataset
        The ``/points`` group of a Run (or a live ``Progress.points``).

    Returns
    -------
    list of str
        Suffixes ``d`` of the variables ``S_d`` that every point set has, less the known
        per-point values (``retained``, ``weight``, ``channel``) and Gaussian widths
        (``sigma_<d>``), in order of first appearance. Requiring every set to have ``d``
        drops values that only one set carries (``interior_retained``) whenever there is
        more than one set; the list of known values covers a lone set.
    """
    per_set = _suffixes(ds_points)
    if not per_set:
        return []
    common = set.intersection(*(set(s) for s in per_set.values()))
    ordered = dict.fromkeys(d for suffixes in per_set.values() for d in suffixes)
    return [
        d for d in ordered if d in common and d not in POINT_VALUES and not d.startswith("sigma_")
    ]


def _thin(n: int, max_points: int | None) -> np.ndarray | slice:
    # A deterministic stride: the same Run always draws the same points.
    if max_points is None or n <= max_points:
        return slice(None)
    return np.linspace(0, n - 1, max_points).round().astype(int)


def point_layers(ds_points: xr.Dataset, dims: Sequence[str]) -> list[tuple[str, list[np.ndarray]]]:
    """The collocation points to draw, as labelled layers of coordinate arrays.

    Shared by :func:`points` and the app's live plots, so that both split and label the
    sets alike.

    Parameters
    ----------
    ds_points : xarray.Dataset
        A ``/points`` group (see :func:`points`).
    dims : sequence of str
        Problem dims in plot order (:func:`~workbench.views.fields.plot_dims`).

    Returns
    -------
    list of (str, list of numpy.ndarray)
        Per non-empty layer its label and one coordinate array per dim in ``dims``. Anchor
        sets and sets lacking a coordinate are skipped; a set with ``S_retained`` is split
        into ``"S (kept)"`` and ``"S (new)"`` when the sampler kept any point.
    """
    layers = []
    if not dims:
        return layers
    for s in ds_points.dims:
        if s in ANCHOR_SETS or ds_points.sizes[s] == 0:
            continue
        names = [f"{s}_{d}" for d in dims]
        if any(n not in ds_points.data_vars for n in names):
            continue
        columns = [np.asarray(ds_points[name].values) for name in names]
        kept = None
        if f"{s}_retained" in ds_points.data_vars:
            kept = np.asarray(ds_points[f"{s}_retained"].values) > 0.5
        # Nothing kept: a first or fixed cloud, or a full resample; "new" would mislead.
        if kept is None or not kept.any():
            layers.append((str(s), columns))
            continue
        for label, mask in ((f"{s} ({_KEPT})", kept), (f"{s} ({_NEW})", ~kept)):
            if mask.any():
                layers.append((label, [c[mask] for c in columns]))
    return layers


def points(
    ds_points: xr.Dataset,
    dims: Sequence[str] | None = None,
    *,
    max_points: int | None = 2000,
) -> hv.Overlay:
    """Collocation points, one coloured layer per point set.

    Parameters
    ----------
    ds_points : xarray.Dataset
        The ``/points`` group of a Run: for each point set ``S`` a dimension ``S`` and
        variables ``f"{S}_{d}"`` for each problem dimension ``d``; optionally
        ``f"{S}_retained"`` (1 = kept by the sampler from the previous cloud, 0 = new).
        Anchor sets (:data:`ANCHOR_SETS`, the PIG Gaussians) are left out: see
        :func:`gaussians`.
    dims : sequence of str, optional
        Problem dimensions; inferred with :func:`point_dims` when omitted. They are ordered
        with :func:`~workbench.views.fields.plot_dims`, so the result overlays directly on
        :func:`~workbench.views.fields.field` images (``field(u) * points(pts)``).
    max_points : int, optional
        Largest number of points drawn per layer; larger layers are thinned by a
        deterministic stride so that reports stay small. ``None`` draws all.

    Returns
    -------
    holoviews.Overlay
        One ``hv.Points`` per non-empty point set (``hv.Scatter`` at zero height for 1D
        problems), labelled with the set name for the legend. A set whose sampler kept some
        points is split into ``"S (kept)"`` and ``"S (new)"``; when it kept none (a first or
        a fixed cloud, or a full resample) it is drawn as plain ``"S"``. Empty when there are
        no points.
    """
    dims = plot_dims(point_dims(ds_points) if dims is None else dims)
    layers = []
    for label, columns in point_layers(ds_points, dims):
        idx = _thin(len(columns[0]), max_points)
        columns = [c[idx] for c in columns]
        if len(dims) == 1:
            # A 1D problem's points sit on the axis, under the curves of the field.
            layer = hv.Scatter(
                (columns[0], np.zeros_like(columns[0])),
                kdims=list(dims),
                vdims=["collocation"],
                label=label,
            )
        else:
            layer = hv.Points(tuple(columns[:2]), kdims=list(dims[:2]), label=label)
        layers.append(layer.opts(size=4, alpha=0.7, backend="bokeh"))
    return hv.Overlay(layers)


def _gaussian_dims(ds_points: xr.Dataset) -> list[str]:
    # A Gaussian's coordinates are exactly the dims that have both a centre and a width.
    suffixes = _suffixes(ds_points).get("gaussian", [])
    return [d for d in suffixes if f"sigma_{d}" in suffixes]


def _ellipses(centre: list[np.ndarray], radius: list[np.ndarray], segments: int) -> np.ndarray:
    """Polylines of axis-aligned ellipses, one after another, separated by NaN rows."""
    theta = np.linspace(0.0, 2.0 * np.pi, segments + 1)
    # (n, segments + 1) per axis: every ellipse in one vectorised expression.
    a = centre[0][:, None] + radius[0][:, None] * np.cos(theta)
    b = centre[1][:, None] + radius[1][:, None] * np.sin(theta)
    gap = np.full((len(a), 1), np.nan)
    return np.column_stack([np.hstack([a, gap]).ravel(), np.hstack([b, gap]).ravel()])


def gaussian_table(
    ds_points: xr.Dataset,
    dims: Sequence[str] | None = None,
    max_gaussians: int | None = None,
) -> dict[str, np.ndarray] | None:
    """The Gaussians of a PIG model as plain arrays, weakest first.

    Shared by :func:`gaussians` and the app's live plots.

    Parameters
    ----------
    ds_points : xarray.Dataset
        A ``/points`` group (see :func:`gaussians`).
    dims : sequence of str, optional
        Problem dims; inferred from the variables that have both a centre and a width when
        omitted. Put in plot order with :func:`~workbench.views.fields.plot_dims`.
    max_gaussians : int, optional
        Keep only this many, those of largest ``|weight|`` (they shape the field most).

    Returns
    -------
    dict or None
        ``dims`` (tuple of str, plot order), ``centre`` and ``sigma`` (lists with one array
        per dim, widths made positive), ``weight`` and ``channel``, sorted by ascending
        ``|weight|`` so that drawing in order puts the strongest on top. None when there is
        no non-empty ``gaussian`` dim, or a centre or width is missing, or there are more
        than two dims.
    """
    if "gaussian" not in ds_points.dims or ds_points.sizes["gaussian"] == 0:
        return None
    dims = plot_dims(_gaussian_dims(ds_points) if dims is None else dims)
    needed = [f"gaussian_{d}" for d in dims] + [f"gaussian_sigma_{d}" for d in dims]
    if not dims or len(dims) > 2 or any(n not in ds_points.data_vars for n in needed):
        return None
    n = ds_points.sizes["gaussian"]
    weight = (
        np.asarray(ds_points["gaussian_weight"].values, dtype=float)
        if "gaussian_weight" in ds_points.data_vars
        else np.ones(n)
    )
    channel = (
        np.asarray(ds_points["gaussian_channel"].values)
        if "gaussian_channel" in ds_points.data_vars
        else np.zeros(n, dtype=int)
    )
    magnitude = np.where(np.isfinite(weight), np.abs(weight), 0.0)
    order = np.argsort(magnitude, kind="stable")
    if max_gaussians is not None and n > max_gaussians:
        order = order[n - max_gaussians :]
    return {
        "dims": dims,
        "centre": [np.asarray(ds_points[f"gaussian_{d}"].values, dtype=float)[order] for d in dims],
        # PIG stores raw widths whose sign is meaningless (only sigma^2 enters the model).
        "sigma": [
            np.abs(np.asarray(ds_points[f"gaussian_sigma_{d}"].values, dtype=float))[order]
            for d in dims
        ],
        "weight": weight[order],
        "channel": channel[order],
    }


def gaussians(
    ds_points: xr.Dataset,
    dims: Sequence[str] | None = None,
    *,
    max_gaussians: int | None = 2000,
    segments: int = 24,
) -> hv.Overlay:
    """Centres and one-sigma ellipses of the Gaussians of a PIG model.

    Parameters
    ----------
    ds_points : xarray.Dataset
        The ``/points`` group of a Run (or a live ``Progress.points``) with the dim
        ``gaussian`` and variables ``gaussian_<d>`` (centre), ``gaussian_sigma_<d>`` (width)
        for each problem dim ``d``, and ``gaussian_weight``; ``gaussian_channel`` is shown
        on hover when present.
    dims : sequence of str, optional
        Problem dimensions; inferred from the variables that have both a centre and a width
        when omitted. Ordered with :func:`~workbench.views.fields.plot_dims`, so the result
        overlays on :func:`~workbench.views.fields.field` images.
    max_gaussians : int, optional
        Largest number of Gaussians drawn: the ones of largest ``|weight|`` are kept, as they
        shape the field most. ``None`` draws all.
    segments : int
        Straight segments per ellipse; 24 look round at report sizes and keep ~2000
        ellipses a single cheap polyline.

    Returns
    -------
    holoviews.Overlay
        An ``hv.Path`` of the ellipses with semi-axes ``sigma_<d>`` (for 1D problems, segments
        ``x +- sigma`` on the axis) labelled ``"Gaussian widths (1 sigma)"``, under an
        ``hv.Points`` of the centres (``hv.Scatter`` at zero height in 1D) labelled
        ``"Gaussian centres"``, coloured by weight with a diverging colormap centred on 0
        and sized by ``|weight|``; the largest weights are drawn on top. Empty when there is
        no ``gaussian`` dim, it is empty, or a centre or width variable is missing.
    """
    table = gaussian_table(ds_points, dims, max_gaussians)
    if table is None:
        return hv.Overlay([])
    dims, centre, sigma = table["dims"], table["centre"], table["sigma"]
    weight, channel = table["weight"], table["channel"]
    magnitude = np.where(np.isfinite(weight), np.abs(weight), 0.0)
    bound = float(magnitude.max()) if magnitude.size and magnitude.max() > 0 else 1.0

    if len(dims) == 1:
        # Each width is the segment centre +- sigma on the axis, then a NaN row to break.
        x = np.column_stack(
            [centre[0] - sigma[0], centre[0] + sigma[0], np.full(len(sigma[0]), np.nan)]
        )
        outline = np.column_stack([x.ravel(), np.where(np.isnan(x), np.nan, 0.0).ravel()])
    else:
        outline = _ellipses(centre, sigma, segments)
    widths = hv.Path([outline], kdims=list(dims) if len(dims) == 2 else [dims[0], "collocation"])
    widths = widths.relabel("Gaussian widths (1 sigma)").opts(
        color="#333333", alpha=0.35, line_width=0.8, backend="bokeh"
    )

    vdims = [hv.Dimension("weight", label="Gaussian weight"), "channel"]
    if len(dims) == 1:
        centres = hv.Scatter(
            (centre[0], np.zeros_like(centre[0]), weight, channel),
            kdims=[dims[0]],
            vdims=["collocation", *vdims],
        )
    else:
        centres = hv.Points((*centre, weight, channel), kdims=list(dims), vdims=vdims)
    centres = centres.relabel("Gaussian centres").opts(
        color="weight",
        cmap=WEIGHT_CMAP,
        clim=(-bound, bound),
        # Size grows with |weight|: a Gaussian that barely contributes is a dot.
        size=3 + 7 * abs(hv.dim("weight")) / bound,
        line_color="black",
        line_width=0.4,
        colorbar=True,
        hooks=[compact_colorbar],
        # The field image underneath has its colour bar on the right.
        colorbar_position="bottom",
        tools=["hover"],
        backend="bokeh",
    )
    return hv.Overlay([widths, centres])
