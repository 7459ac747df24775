"""Shared tick styling: compact colour-bar labels and whole-number step axes, as rendered."""

import holoviews as hv
import numpy as np
import xarray as xr
from bokeh.models import BasicTicker, ColorBar, CustomJSTickFormatter

from workbench.views import error_history, field, history
from workbench.views.style import compact_formatter, integer_ticker


def _history(n=4):
    step = np.arange(n)  # a short run: Bokeh's own ticks would fall on half steps
    ds = xr.Dataset(coords={"step": ("step", step, {"long_name": "training step"})})
    ds["residual"] = ("step", np.linspace(1.0, 0.1, n), {"role": "loss_term"})
    ds["loss"] = ("step", np.linspace(2.0, 0.2, n), {"role": "loss_total"})
    ds["l2re"] = ("step", np.linspace(1.0, 0.5, n))
    return ds


def _render(element):
    return hv.renderer("bokeh").get_plot(element).state


def test_helpers_make_fresh_models():
    # A Bokeh model belongs to one document: each plot needs its own.
    assert compact_formatter() is not compact_formatter()
    assert integer_ticker().min_interval == 1


def test_a_field_colour_bar_has_compact_labels():
    x = np.linspace(0, 1, 5)
    da = xr.DataArray(1e-3 * np.outer(x, x), dims=("x", "y"), coords={"x": x, "y": x}, name="error")
    fig = _render(field(da))
    bars = [r for r in fig.right if isinstance(r, ColorBar)]
    assert bars and isinstance(bars[0].formatter, CustomJSTickFormatter)
    assert "toExponential" in bars[0].formatter.code  # 2e-3, not 2.000e-3


def test_history_plots_tick_whole_steps():
    ds = _history()
    for view in (history, error_history):
        fig = _render(view(ds))
        ticker = fig.xaxis[0].ticker
        assert isinstance(ticker, BasicTicker) and ticker.min_interval == 1, view.__name__
