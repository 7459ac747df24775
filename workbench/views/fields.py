"""Views of solution fields.

Pure functions ``xarray -> HoloViews``: they read names, coordinates and the
``long_name``/``units`` attrs of the ``/fields`` group of a Run and never touch
the model that produced them. Points and Gaussians drawn over these fields are
in :mod:`workbench.views.points`.

Operator runs hold several instances of a problem family in ``/fields``, along a
``sample`` dim. Every view here takes a ``sample`` argument: a label of that
dim draws one instance, ``None`` puts a sample slider on the plot (a lazy
``DynamicMap``, so a test set of hundreds of samples costs one frame at a
time). Data without a ``sample`` dim is drawn as before.

Runs of a multi-component problem (a flow's ``u, v, p``) hold ``u``, ``u_ref`` and ``error``
along a ``component`` dim and the residual along an ``equation`` dim.
:func:`component_fields` turns such fields into the one-field layout every view draws: a
chosen component, or a derived quantity (``speed`` ``sqrt(u^2 + v^2)``, ``vorticity``
``v_x - u_y`` by second-order differences on the grid), with the residual as its Euclidean
norm over the equations and, for fields over ``(x, y, t)``, one time slice (the last by
default). :func:`compare` and :func:`profile` take a ``component`` argument and apply it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.style import compact_colorbar


def load_bokeh_backend() -> None:
    """Register HoloViews' bokeh renderer and options, quietly, once.

    Importing the plotting module (rather than ``hv.extension`` or ``hv.renderer``, which
    calls it) emits no notebook output and keeps a previously selected, loaded backend
    current. It also creates no ``extension`` object: pyviz_comms records the cell of each
    one it creates, and a notebook's own ``hv.extension("bokeh", inline=True)`` in the same
    cell as ``import workbench`` would then count as a re-run and publish its loader without
    BokehJS and Panel's JS, so saved and exported notebooks drew no figure.
    """
    if "bokeh" in hv.Store.renderers:
        return
    previous = hv.Store.current_backend
    import holoviews.plotting.bokeh  # noqa: F401  (registers Store.renderers["bokeh"])

    if previous not in hv.Store.renderers:
        hv.Store.set_current_backend("bokeh")


load_bokeh_backend()

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

#: Dim indexing the instances of a problem family (the samples of operator runs).
SAMPLE_DIM = "sample"
#: Dims of a multi-component field's components and of its residual's equations.
COMPONENT_DIM, EQUATION_DIM = "component", "equation"
#: Quantities derived from a 2D velocity (components ``u`` and ``v`` over ``x`` and ``y``).
DERIVED = ("speed", "vorticity")


def components(ds: xr.Dataset) -> tuple[str, ...]:
    """What :func:`component_fields` can show of ``ds``: its components, then the derived
    quantities when it has a 2D velocity; empty for single-component fields."""
    if COMPONENT_DIM not in ds.dims:
        return ()
    names = tuple(str(c) for c in ds[COMPONENT_DIM].values)
    planar = "x" in ds.dims and "y" in ds.dims
    return names + (DERIVED if {"u", "v"} <= set(names) and planar else ())


def _derived(da: xr.DataArray, quantity: str) -> xr.DataArray:
    u, v = da.sel({COMPONENT_DIM: "u"}, drop=True), da.sel({COMPONENT_DIM: "v"}, drop=True)
    if quantity == "speed":
        out = np.sqrt(u**2 + v**2)
        return out.assign_attrs(long_name="speed |(u, v)|", units="1")
    axis = {d: i for i, d in enumerate(u.dims)}
    dv_dx = np.gradient(v.values, v["x"].values, axis=axis["x"], edge_order=2)
    du_dy = np.gradient(u.values, u["y"].values, axis=axis["y"], edge_order=2)
    return u.copy(data=dv_dx - du_dy).assign_attrs(long_name="vorticity v_x - u_y", units="1")


def component_fields(
    ds: xr.Dataset, component: str | None = None, at: dict | None = None
) -> xr.Dataset:
    """A multi-component ``/fields`` Dataset as one field (see the module docs).

    Parameters
    ----------
    ds : xarray.Dataset
        Fields with a ``component`` dim; others are returned unchanged.
    component : str, optional
        A component (``"v"``) or a derived quantity (``"speed"``, ``"vorticity"``); default
        the first component.
    at : dict, optional
        ``dim -> value`` cuts (nearest grid line) to leave two dims; by default a third dim
        ``t`` is cut at its last value.

    Returns
    -------
    xarray.Dataset
        ``u``, ``u_ref``, ``error`` (``u - u_ref``) of the chosen quantity and ``residual`` (the
        norm over equations) on the remaining dims; attr ``l2re`` is the chosen component's
        (``l2re_<c>``) where stored, else recomputed on the shown grid; attrs ``component``
        and the cut coordinates (``t``) say what is shown.

    Raises
    ------
    ValueError
        For an unknown ``component``, naming the allowed ones.
    """
    if COMPONENT_DIM not in ds.dims:
        return ds
    allowed = components(ds)
    component = allowed[0] if component is None else component
    if component not in allowed:
        raise ValueError(f"component: {component!r} is not one of {', '.join(allowed)}")
    spatial = [d for d in ds["u_ref"].dims if d not in (COMPONENT_DIM, SAMPLE_DIM)]
    cuts = dict(at or {})
    if not cuts and len(spatial) > 2 and "t" in spatial:
        cuts = {"t": float(ds["t"].values[-1])}
    cut = ds.sel(cuts, method="nearest") if cuts else ds
    out = {}
    for name in ("u", "u_ref"):
        if name in cut.data_vars:
            da = cut[name]
            if component in DERIVED:
                out[name] = _derived(da, component)
            else:
                out[name] = da.sel({COMPONENT_DIM: component}, drop=True)
            out[name] = out[name].assign_attrs(
                long_name=f"{ds[name].attrs.get('long_name', name)} ({component})"
            )
    if "u" in out and "u_ref" in out:
        out["error"] = (out["u"] - out["u_ref"]).assign_attrs(
            long_name=f"error ({component})", units="1"
        )
    if "residual" in cut.data_vars:
        r = cut["residual"]
        if EQUATION_DIM in r.dims:
            r = np.sqrt((r**2).sum(EQUATION_DIM))
        elif COMPONENT_DIM in r.dims:  # a preview's blank residual
            r = r.isel({COMPONENT_DIM: 0}, drop=True)
        out["residual"] = r.assign_attrs(long_name="PDE residual (norm over equations)", units="1")
    attrs = {k: v for k, v in ds.attrs.items() if not k.startswith("l2re_")}
    stored = ds.attrs.get(f"l2re_{component}")
    if stored is not None:
        attrs["l2re"] = stored
    elif "error" in out and "l2re" in ds.attrs:
        norm = float(np.sqrt(np.nansum(out["u_ref"].values ** 2)))
        attrs["l2re"] = float(np.sqrt(np.nansum(out["error"].values ** 2))) / norm
    attrs["component"] = component
    attrs.update({f"shown_{d}": float(cut[d].values) for d in cuts})
    drop = [d for d in cuts if d in cut.coords]
    return xr.Dataset(out, attrs=attrs).drop_vars(drop, errors="ignore")


_WIDTH, _HEIGHT = 320, 260


def _dimension(name: str, attrs: dict) -> hv.Dimension:
    """HoloViews dimension named after the data, labelled from its attrs."""
    # An empty unit would render as "label ()" on the axis, and CF's "1" (dimensionless) as
    # "label (1)", which reads as a footnote: both are left off.
    unit = attrs.get("units")
    unit = None if unit in (None, "", "1") else unit
    return hv.Dimension(name, label=attrs.get("long_name", name), unit=unit)


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


def sample_labels(obj: xr.Dataset | xr.DataArray) -> np.ndarray:
    """Labels along the ``sample`` dim: its coordinate, else positions 0..n-1.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        Data with a ``sample`` dim.

    Returns
    -------
    numpy.ndarray
        One label per sample, in order.
    """
    if SAMPLE_DIM in obj.coords:
        return np.asarray(obj[SAMPLE_DIM].values)
    return np.arange(obj.sizes[SAMPLE_DIM])


def select_sample(obj: xr.Dataset | xr.DataArray, sample) -> xr.Dataset | xr.DataArray:
    """One sample of ``obj``, chosen by its label along the ``sample`` dim.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        Data with a ``sample`` dim.
    sample : int
        A label of that dim (see :func:`sample_labels`). Test sets keep the indices they had
        in the generated dataset, so labels need not start at 0.

    Returns
    -------
    xarray.Dataset or xarray.DataArray
        ``obj`` without the ``sample`` dim; its label stays as a scalar coordinate.

    Raises
    ------
    ValueError
        If ``sample`` is not a label of ``obj``.
    """
    labels = sample_labels(obj)
    where = np.flatnonzero(labels == sample)
    if where.size == 0:
        shown = f"{labels[0]}..{labels[-1]}" if labels.size else "none"
        raise ValueError(f"sample={sample!r} is not in the data; its samples are {shown}")
    return obj.isel({SAMPLE_DIM: int(where[0])})


def per_sample(
    obj: xr.Dataset | xr.DataArray,
    make: Callable[[xr.Dataset | xr.DataArray], hv.core.Dimensioned],
    sample=None,
) -> hv.core.Dimensioned:
    """``make(obj)`` for one sample, or behind a sample slider.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        Data with or without a ``sample`` dim.
    make : callable
        Draws data without a ``sample`` dim.
    sample : int, optional
        Label of the sample to draw. ``None`` draws every sample behind a slider when ``obj``
        has a ``sample`` dim (and ``obj`` itself when it has none).

    Returns
    -------
    holoviews object
        What ``make`` returns; with a slider a ``DynamicMap`` over ``sample`` (a Layout of
        them when ``make`` returns a Layout, so that the result composes like one).
    """
    if SAMPLE_DIM not in obj.dims:
        if sample is not None:
            raise ValueError(f"sample={sample!r} given, but the data has no {SAMPLE_DIM!r} dim")
        return make(obj)
    if sample is not None:
        return make(select_sample(obj, sample))
    labels = sample_labels(obj)
    # Lazy: an eager HoloMap of 200 samples x 4 images took 80 s to render here.
    kdim = hv.Dimension(SAMPLE_DIM, label="sample", values=[v.item() for v in labels])
    dmap = hv.DynamicMap(lambda sample: make(select_sample(obj, sample)), kdims=[kdim])
    return dmap.collate()


def field(
    da: xr.DataArray,
    *,
    title: str | None = None,
    cmap: str | None = None,
    symmetric: bool | None = None,
    clim: tuple[float, float] | None = None,
    sample=None,
) -> hv.Curve | hv.Image | hv.QuadMesh | hv.DynamicMap:
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
    sample : int, optional
        For data with a ``sample`` dim: the label of the sample to plot;
        ``None`` plots them all behind a sample slider.

    Returns
    -------
    holoviews.Curve or holoviews.Image or holoviews.QuadMesh or holoviews.DynamicMap
        A ``Curve`` for 1D data; for 2D data an ``Image`` (``QuadMesh`` if the
        grid is not uniformly spaced) with key dimensions ordered by
        :func:`plot_dims`: ``[t, x]`` for space-time and ``[x, y]`` otherwise.
        With a sample slider, a ``DynamicMap`` of those over ``sample``.

    Raises
    ------
    ValueError
        If ``da`` has more than two dimensions besides ``sample``, or
        ``sample`` is not one of its samples.
    """
    if SAMPLE_DIM in da.dims or sample is not None:
        return per_sample(
            da,
            lambda one: field(one, title=title, cmap=cmap, symmetric=symmetric, clim=clim),
            sample,
        )
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
        hooks=[compact_colorbar],
        width=_WIDTH,
        height=_HEIGHT,
        tools=["hover"],
        # (nan, nan) is holoviews' own "range from the data" default.
        clim=clim if clim is not None else (np.nan, np.nan),
        backend="bokeh",
    )


def compare(ds: xr.Dataset, sample=None, component: str | None = None) -> hv.Layout:
    """Prediction, reference, error and residual side by side.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/fields`` group of a Run; any of ``u``, ``u_ref``, ``error`` and
        ``residual`` that are present are shown, in that order.
    sample : int, optional
        For fields with a ``sample`` dim (operator runs): the label of the
        sample to show; ``None`` shows them all behind a sample slider.

    Returns
    -------
    holoviews.Layout
        For 2D fields one panel per variable, with prediction and reference
        sharing a colour range so they can be compared by eye. For 1D fields
        prediction and reference are overlaid in a single panel (reference
        dashed), followed by error and residual curves. With a sample slider
        each panel is a ``DynamicMap`` over ``sample``.
    component : str, optional
        For multi-component fields: what to show (see :func:`component_fields`).
    """
    ds = component_fields(ds, component)
    if SAMPLE_DIM in ds.dims or sample is not None:
        return per_sample(ds, compare, sample)
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


def profile(
    ds: xr.Dataset, dim: str, value: float, sample=None, component: str | None = None
) -> hv.Overlay:
    """Prediction and reference along the other dimension, at ``dim = value``.

    Parameters
    ----------
    ds : xarray.Dataset
        A 2D ``/fields`` group (or live snapshot) with ``u`` and ``u_ref``.
    dim : str
        The dimension to cut across, e.g. ``"t"`` for ``u(x)`` at one time.
    value : float
        Where to cut; the nearest grid line is used and named in the title.
    sample : int, optional
        For fields with a ``sample`` dim: the label of the sample to cut;
        ``None`` cuts them all, behind a sample slider.

    Returns
    -------
    holoviews.Overlay
        Two curves, prediction (solid) and reference (dashed); with a sample
        slider a ``DynamicMap`` of them over ``sample``.
    component : str, optional
        For multi-component fields: what to show (see :func:`component_fields`).
    """
    ds = component_fields(ds, component)
    if SAMPLE_DIM in ds.dims or sample is not None:
        return per_sample(ds, lambda one: profile(one, dim, value), sample)
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
