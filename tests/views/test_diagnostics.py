"""Tests of the combiner diagnostics view and of history() keeping to the loss roles."""

import holoviews as hv
import numpy as np
import pytest
import xarray as xr
from bokeh.models import LinearScale, LogScale

from workbench.views import diagnostics, history


def history_dataset(weights=("residual", "boundary"), cosine=True, other=False, n=30):
    step = np.arange(n)
    ds = xr.Dataset(coords={"step": ("step", step, {"long_name": "step"})})
    for term in ("residual", "boundary"):
        ds[term] = (
            "step",
            np.exp(-step / 10),
            {"long_name": f"loss term {term}", "role": "loss_term"},
        )
    ds["loss"] = ("step", 2 * np.exp(-step / 10), {"long_name": "total loss", "role": "loss_total"})
    for term in weights:
        ds[f"weight_{term}"] = (
            "step",
            np.geomspace(1, 1e4, n) if term != "residual" else np.ones(n),
            {"long_name": f"weight of term {term}", "role": "diagnostic"},
        )
    if cosine:
        values = np.cos(step / 5.0)
        values[:3] = np.nan  # not reported before every term was seen
        ds["grad_cosine"] = (
            "step",
            values,
            {"long_name": "smallest cosine between two terms' gradients", "role": "diagnostic"},
        )
    if other:
        ds["step_norm"] = (
            "step",
            np.linspace(0, 5, n),
            {"long_name": "norm", "role": "diagnostic"},
        )
    ds["lr"] = ("step", np.full(n, 1e-3), {"long_name": "learning rate"})
    return ds


def test_diagnostics_weights_on_log_axis_and_cosine_on_fixed_range():
    layout = diagnostics(history_dataset())
    assert isinstance(layout, hv.Layout) and len(layout) == 2
    weights, agreement = layout
    assert [c.label for c in weights] == ["residual", "boundary"]
    assert [c.vdims[0].name for c in weights] == ["weight_residual", "weight_boundary"]
    curves = [e for e in agreement if isinstance(e, hv.Curve)]
    assert [c.vdims[0].name for c in curves] == ["grad_cosine"]
    assert len(curves[0]) == 27  # NaN steps dropped
    assert any(isinstance(e, hv.HLine) and e.data == 0 for e in agreement)

    fig = hv.render(weights, backend="bokeh")
    assert isinstance(fig.y_scale, LogScale) and fig.title.text == "loss-term weights"
    fig = hv.render(agreement, backend="bokeh")
    assert isinstance(fig.y_scale, LinearScale)
    assert (fig.y_range.start, fig.y_range.end) == pytest.approx((-1.05, 1.05))
    assert fig.xaxis[0].axis_label == "step"
    hv.render(layout, backend="bokeh")


def test_diagnostics_only_the_panels_with_data():
    only_cosine = diagnostics(history_dataset(weights=()))
    assert len(only_cosine) == 1
    assert list(only_cosine)[0].get(0).vdims[0].name == "grad_cosine"
    only_weights = diagnostics(history_dataset(cosine=False))
    assert len(only_weights) == 1 and len(list(only_weights)[0]) == 2
    with_other = diagnostics(history_dataset(other=True))
    assert len(with_other) == 3
    assert [c.vdims[0].name for c in list(with_other)[2]] == ["step_norm"]


def test_diagnostics_empty_without_diagnostic_variables():
    layout = diagnostics(history_dataset(weights=(), cosine=False))
    assert isinstance(layout, hv.Layout) and len(layout) == 0
    assert len(diagnostics(xr.Dataset())) == 0


def test_history_draws_only_losses():
    overlay = history(history_dataset(other=True))
    assert [c.vdims[0].name for c in overlay] == ["residual", "boundary", "loss"]
