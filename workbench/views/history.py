"""Views of the training history of a Run (the ``/history`` group).

``/history`` tells its variables apart by their ``role`` attr: loss terms (``loss_term``), the
weighted total (``loss_total``) and what a combiner of the terms reports about each update
(``diagnostic``: term weights ``weight_<term>``, the smallest cosine between two terms'
gradients ``grad_cosine``) and coefficients learned in an inverse problem (``estimate``).
:func:`history` draws the losses, :func:`diagnostics` the combiner's reports and
:func:`estimates` the learned coefficients against their truth.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import _dimension
from workbench.views.style import integer_x

#: ``role`` attrs that mark the loss variables of ``/history``.
LOSS_ROLES = ("loss_term", "loss_total")

#: ``role`` attr of the combiner's diagnostics in ``/history``.
DIAGNOSTIC_ROLE = "diagnostic"


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
            hooks=[integer_x],
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
        hooks=[integer_x],
        backend="bokeh",
    )


def _curves(
    ds: xr.Dataset, names: list[str], floor: float | None = None, short: bool = False
) -> list[hv.Curve]:
    curves = []
    for name in names:
        steps, values = _finite(ds, name)
        if floor is not None:
            values = np.maximum(values, floor)
        vdim = _dimension(name, ds[name].attrs)
        # Term names make a legend that leaves the plot its width; hover keeps the long name.
        label = name.removeprefix("weight_") if short else vdim.label
        curves.append(hv.Curve((steps, values), kdims=[_step_dim(ds)], vdims=[vdim], label=label))
    return curves


def diagnostics(ds: xr.Dataset, *, floor: float | None = None) -> hv.Layout:
    """What the combiner of the loss terms reported at each step.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/history`` group of a Run. Variables whose ``role`` attr is ``"diagnostic"``
        are drawn: term weights ``weight_<term>`` (e.g. from learning-rate annealing),
        cosines between gradients (``grad_cosine``) and any other diagnostic.
    floor : float, optional
        Lower clip of the weights on their log axis, as in :func:`history`.

    Returns
    -------
    holoviews.Layout
        Up to three panels, each present only when it has variables: the term weights
        against step on a log scale (they span decades), one curve per term labelled with
        the term's name; the gradient cosines on a linear axis fixed to ``[-1, 1]`` with a
        dashed line at 0 (below it two terms pull the weights in conflicting directions);
        other diagnostics on a linear axis. Empty when ``ds`` has no diagnostic variables
        (the ``sum`` combiner logs none).
    """
    names = [str(n) for n, v in ds.data_vars.items() if v.attrs.get("role") == DIAGNOSTIC_ROLE]
    weights = [n for n in names if n.startswith("weight_")]
    cosines = [n for n in names if "cosine" in n and n not in weights]
    others = [n for n in names if n not in weights and n not in cosines]
    size = dict(width=420, height=300, backend="bokeh")
    panels = []
    if weights:
        if floor is None:
            floor = _auto_floor([_finite(ds, n)[1] for n in weights])
        panels.append(
            hv.Overlay(_curves(ds, weights, floor, short=True)).opts(
                hv.opts.Curve(logy=True, tools=["hover"], backend="bokeh"),
                hv.opts.Overlay(
                    logy=True,
                    ylabel="term weight",
                    title="loss-term weights",
                    legend_position="right",
                    hooks=[integer_x],
                    **size,
                ),
            )
        )
    if cosines:
        curves = _curves(ds, cosines)
        # Drawn after the curves: an overlay takes its axis labels from its first element.
        zero = hv.HLine(0).opts(color="gray", line_dash="dashed", line_width=1, backend="bokeh")
        label = curves[0].vdims[0].label if len(curves) == 1 else "cosine"
        panels.append(
            hv.Overlay([*curves, zero]).opts(
                hv.opts.Curve(tools=["hover"], backend="bokeh"),
                hv.opts.Overlay(
                    ylim=(-1.05, 1.05),
                    ylabel=label,
                    title="gradient agreement (below 0: terms conflict)",
                    show_legend=len(curves) > 1,
                    legend_position="right",
                    hooks=[integer_x],
                    **size,
                ),
            )
        )
    if others:
        panels.append(
            hv.Overlay(_curves(ds, others)).opts(
                hv.opts.Curve(tools=["hover"], backend="bokeh"),
                hv.opts.Overlay(
                    title="combiner diagnostics",
                    legend_position="right",
                    hooks=[integer_x],
                    **size,
                ),
            )
        )
    return hv.Layout(panels)


#: ``role`` attr of learned coefficients (inverse problems) in ``/history``.
ESTIMATE_ROLE = "estimate"


def estimates(ds: xr.Dataset) -> hv.Layout:
    """Learned coefficients of an inverse problem against training step, with their truth.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/history`` group of a Run. Variables whose ``role`` attr is ``"estimate"`` are
        drawn; their ``true_value`` attr (when the observations came from the problem's own
        reference) is drawn as a dashed line.

    Returns
    -------
    holoviews.Layout
        One panel per coefficient (they have different scales), titled with the final
        estimate and its relative error where the truth is known. Empty when nothing was
        inferred.
    """
    names = [str(n) for n, v in ds.data_vars.items() if v.attrs.get("role") == ESTIMATE_ROLE]
    panels = []
    for name in names:
        steps, values = _finite(ds, name)
        vdim = hv.Dimension(name, label=name)
        layers = [hv.Curve((steps, values), [_step_dim(ds)], [vdim], label="estimate")]
        title = f"{name}: {values[-1]:.4g}" if values.size else name
        truth = ds[name].attrs.get("true_value")
        if truth is not None:
            layers.append(
                # apply_ranges: the truth stays inside the axes even when the estimate is far off.
                hv.HLine(truth, label="truth").opts(
                    color="black",
                    line_dash="dashed",
                    line_width=1,
                    apply_ranges=True,
                    backend="bokeh",
                )
            )
            if values.size and truth:
                title += f" (truth {truth:.4g}, error {abs(values[-1] - truth) / abs(truth):.1%})"
        panels.append(
            hv.Overlay(layers).opts(
                hv.opts.Curve(tools=["hover"], line_width=2, backend="bokeh"),
                hv.opts.Overlay(
                    title=title,
                    width=420,
                    height=300,
                    legend_position="right",
                    hooks=[integer_x],
                    backend="bokeh",
                ),
            )
        )
    return hv.Layout(panels)
