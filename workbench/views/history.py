"""Views of the training history of a Run (the ``/history`` group)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import _dimension

#: ``role`` attrs that mark the loss variables of ``/history``.
LOSS_ROLES = ("loss_term", "loss_total")


def _loss_names(ds: xr.Dataset) -> list[str]:
    return [str(n) for n, v in ds.data_vars.items() if v.attrs.get("role") in LOSS_ROLES]


def _finite(ds: xr.Dataset, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps and values of ``name`` where the value is finite."""
    values = np.asarray(ds[name].values, dtype=float)
    keep = np.isfinite(values)
    return np.asarray(ds["step"].values)[keep], values[keep]


def _auto_floor(arrays: list[np.ndarray]) -> float:
    # A tenth of the smallest positive value puts zeros just below the data
    # instead of stretching the log axis over hundreds of decades.
    positive = [a[a > 0] for a in arrays]
    positive = [a for a in positive if a.size]
    return 0.1 * float(min(a.min() for a in positive)) if positive else 1e-12


def _step_dim(ds: xr.Dataset) -> hv.Dimension:
    return _dimension("step", ds["step"].attrs if "step" in ds.coords else {})


def history(ds: xr.Dataset, *, floor: float | None = None) -> hv.Overlay:
    """Loss terms and total loss against training step, on a log scale.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/history`` group of a Run. Every variable whose ``role`` attr
        is ``"loss_term"`` or ``"loss_total"`` is drawn.
    floor : float, optional
        Values at or below zero are raised to ``floor`` so that they stay on
        the log axis. Defaults to a tenth of the smallest positive value
        plotted (``1e-12`` if there is none).

    Returns
    -------
    holoviews.Overlay
        One ``hv.Curve`` per loss variable, in dataset order, with the
        variable as value dimension and its ``long_name`` as legend label;
        NaN and infinite entries are dropped. The total loss is drawn black
        and thicker.
    """
    names = _loss_names(ds)
    data = {name: _finite(ds, name) for name in names}
    if floor is None:
        floor = _auto_floor([values for _, values in data.values()])
    curves = []
    for name, (steps, values) in data.items():
        vdim = _dimension(name, ds[name].attrs)
        curve = hv.Curve(
            (steps, np.maximum(values, floor)),
            kdims=[_step_dim(ds)],
            vdims=[vdim],
            label=vdim.label,
        )
        if ds[name].attrs.get("role") == "loss_total":
            curve = curve.opts(color="black", line_width=2.5, backend="bokeh")
        curves.append(curve)
    return hv.Overlay(curves).opts(
        hv.opts.Curve(logy=True, tools=["hover"], backend="bokeh"),
        hv.opts.Overlay(
            logy=True,
            ylabel="loss",
            title="training loss",
            legend_position="right",
            width=620,
            height=340,
            backend="bokeh",
        ),
    )


def error_history(ds: xr.Dataset, *, floor: float | None = None) -> hv.Curve:
    """Relative L2 error against training step, on a log scale.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/history`` group of a Run. ``l2re`` is NaN at steps where it was
        not evaluated; those steps are skipped.
    floor : float, optional
        Lower clip for non-positive values, as in :func:`history`.

    Returns
    -------
    holoviews.Curve
        ``l2re`` against ``step``; empty if ``l2re`` is absent or never
        evaluated.
    """
    step = _step_dim(ds)
    if "l2re" not in ds.data_vars:
        curve = hv.Curve([], kdims=[step], vdims=["l2re"])
    else:
        steps, values = _finite(ds, "l2re")
        if floor is None:
            floor = _auto_floor([values])
        vdim = _dimension("l2re", ds["l2re"].attrs)
        curve = hv.Curve((steps, np.maximum(values, floor)), kdims=[step], vdims=[vdim])
    return curve.opts(
        logy=True,
        title="relative L2 error",
        width=420,
        height=340,
        tools=["hover"],
        backend="bokeh",
    )
