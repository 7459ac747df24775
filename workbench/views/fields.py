"""Views of solution fields.

Pure functions ``xarray -> HoloViews``: they read names, coordinates and the
``long_name``/``units`` attrs of the ``/fields`` group of a Run and never touch
the model that produced them. Points and Gaussians drawn over these fields are
in :mod:`workbench.views.points`.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import numpy as np
import xarray as xr

# Loading the backend through ``hv.renderer`` (rather than ``hv.extension``)
# registers the bokeh options without emitting notebook comm/JS output in
# plain Python, and keeps a previously selected backend current.
hv.renderer("bokeh")

#: Variables that are signed deviations from zero: drawn with a diverging
#: colormap centred on 0 so that sign and magnitude read at a glance.
SYMMETRIC_NAMES = frozenset({"error", "residual"})

#: Display order and panel titles of the standard ``/fields`` variables.
FIELD_TITLES = {
    "u": "prediction",
    "u_ref": "reference",
    "error": "error",
    "residual": "residual",
}

_WIDTH, _HEIGHT = 320, 260


def _dimension(name: str, attrs: dict) -> hv.Dimension:
    """HoloViews dimension named after the data, labelled from its attrs."""
    # An empty unit would render as "label ()" on the axis.
    return hv.Dimension(name, label=attrs.get("long_name", name), unit=attrs.get("units") or None)


def plot_dims(dims: Sequence[str]) -> tuple[str, ...]:
    """Order problem dimensions as (horizontal, vertical) plot axes.

    Parameters
    ----------
    dims : sequence of str
        Problem dimensions, e.g. ``("x", "t")`` or ``("x", "y")``.

    Returns
    -------
    tuple of str
        ``dims`` unchanged, except that a space-time pair puts ``t`` first:
        PINN papers draw x-t solutions (Burgers, Allen-Cahn) with time running
        horizontally.
    """
    dims = tuple(dims)
    if len(dims) == 2 and "t" in dims:
        return ("t", dims[0] if dims[1] == "t" else dims[1])
    return dims


def _is_symmetric(da: xr.DataArray, symmetric: bool | None) -> bool:
    if symmetric is not None:
        return symmetric
    return da.name in SYMMETRIC_NAMES


def _is_regular(values: np.ndarray) -> bool:
    # hv.Image silently mis-draws (with only a warning) on non-uniform grids,
    # e.g. Chebyshev or spectral nodes, so those go to hv.QuadMesh instead.
    steps = np.diff(values)
    return steps.size == 0 or bool(np.allclose(steps, steps[0], rtol=1e-3))


def field(
    da: xr.DataArray,
    *,
    title: str | None = None,
    cmap: str | None = None,
    symmetric: bool | None = None,
    clim: tuple[float, float] | None = None,
) -> hv.Curve | hv.Image | hv.QuadMesh:
    """Plot one field of a Run.

    Parameters
    ----------
    da : xarray.DataArray
        1D or 2D field with coordinates along each dimension. Axis and colour
        bar labels come from the ``long_name``/``units`` attrs of the
        coordinates and of ``da`` itself.
    title : str, optional
        Plot title; defaults to the ``long_name`` of ``da`` (or its name).
    cmap : str, optional
        Colormap for 2D fields; defaults to ``"RdBu_r"`` for symmetric fields
        and ``"viridis"`` otherwise.
    symmetric : bool, optional
        Whether to centre the colour range on 0. ``None`` decides from the
        variable name (``error`` and ``residual`` are symmetric).
    clim : (float, float), optional
        Explicit colour range, e.g. to share one between prediction and
        reference. Overrides the symmetric range.

    Returns
    -------
    holoviews.Curve or holoviews.Image or holoviews.QuadMesh
        A ``Curve`` for 1D data; for 2D data an ``Image`` (``QuadMesh`` if the
        grid is not uniformly spaced) with key dimensions ordered by
        :func:`plot_dims`: ``[t, x]`` for space-time and ``[x, y]`` otherwise.

    Raises
    ------
    ValueError
        If ``da`` has more than two dimensions.
    """
    name = str(da.name) if da.name is not None else "value"
    vdim = _dimension(name, da.attrs)
    title = title if title is not None else vdim.label
    if da.ndim == 1:
        (dim,) = da.dims
        kdim = _dimension(dim, da[dim].attrs)
        curve = hv.Curve((da[dim].values, da.values), kdims=[kdim], vdims=[vdim])
        return curve.opts(
            title=title, width=_WIDTH, height=_HEIGHT, tools=["hover"], backend="bokeh"
        )
    if da.ndim != 2:
        raise ValueError(f"field() plots 1D or 2D data, got dims {da.dims}")

    h, v = plot_dims(da.dims)
    # Sorting makes both axes ascending, which hv.Image assumes.
    da = da.sortby([h, v]).transpose(v, h)
    kdims = [_dimension(h, da[h].attrs), _dimension(v, da[v].attrs)]
    data = (da[h].values, da[v].values, da.values)
    regular = _is_regular(da[h].values) and _is_regular(da[v].values)
    element = (hv.Image if regular else hv.QuadMesh)(data, kdims=kdims, vdims=[vdim])

    sym = _is_symmetric(da, symmetric)
    if clim is None and sym:
        bound = float(np.nanmax(np.abs(da.values))) if np.isfinite(da.values).any() else 0.0
        clim = (-bound, bound) if bound > 0 else (-1.0, 1.0)
    return element.opts(
        title=title,
        cmap=cmap or ("RdBu_r" if sym else "viridis"),
        colorbar=True,
        width=_WIDTH,
        height=_HEIGHT,
        tools=["hover"],
        # (nan, nan) is holoviews' own "range from the data" default.
        clim=clim if clim is not None else (np.nan, np.nan),
        backend="bokeh",
    )


def compare(ds: xr.Dataset) -> hv.Layout:
    """Prediction, reference, error and residual side by side.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/fields`` group of a Run; any of ``u``, ``u_ref``, ``error`` and
        ``residual`` that are present are shown, in that order.

    Returns
    -------
    holoviews.Layout
        For 2D fields one panel per variable, with prediction and reference
        sharing a colour range so they can be compared by eye. For 1D fields
        prediction and reference are overlaid in a single panel (reference
        dashed), followed by error and residual curves.
    """
    present = [name for name in FIELD_TITLES if name in ds.data_vars]
    if not present:
        return hv.Layout([])
    panels = []
    if ds[present[0]].ndim == 1:
        solution = [
            field(ds[name], title="prediction vs reference").relabel(FIELD_TITLES[name])
            for name in ("u", "u_ref")
            if name in present
        ]
        if len(solution) == 2:
            solution[1] = solution[1].opts(line_dash="dashed", backend="bokeh")
        if solution:
            panels.append(hv.Overlay(solution) if len(solution) > 1 else solution[0])
        panels += [field(ds[n], title=FIELD_TITLES[n]) for n in present if n in SYMMETRIC_NAMES]
    else:
        solution = [ds[n].values for n in ("u", "u_ref") if n in present]
        shared = None
        if solution and any(np.isfinite(a).any() for a in solution):
            shared = (
                float(min(np.nanmin(a) for a in solution)),
                float(max(np.nanmax(a) for a in solution)),
            )
        panels = [
            field(
                ds[n],
                title=FIELD_TITLES[n],
                clim=shared if n in ("u", "u_ref") else None,
            )
            for n in present
        ]
    return hv.Layout(panels).cols(4)


def profile(ds: xr.Dataset, dim: str, value: float) -> hv.Overlay:
    """Prediction and reference along the other dimension, at ``dim = value``.

    Parameters
    ----------
    ds : xarray.Dataset
        A 2D ``/fields`` group (or live snapshot) with ``u`` and ``u_ref``.
    dim : str
        The dimension to cut across, e.g. ``"t"`` for ``u(x)`` at one time.
    value : float
        Where to cut; the nearest grid line is used and named in the title.

    Returns
    -------
    holoviews.Overlay
        Two curves, prediction (solid) and reference (dashed).
    """
    cut = ds.sel({dim: value}, method="nearest")
    at = float(cut[dim].values)
    curves = []
    for name, dash in (("u", "solid"), ("u_ref", "dashed")):
        if name in cut.data_vars:
            curve = field(cut[name]).relabel(FIELD_TITLES[name])
            curves.append(curve.opts(line_dash=dash, backend="bokeh"))
    label = ds[dim].attrs.get("long_name", dim)
    return hv.Overlay(curves).opts(
        title=f"prediction vs reference at {label} = {at:.3g}",
        legend_position="top_right",
        backend="bokeh",
    )
