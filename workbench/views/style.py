"""Tick styling shared by the views and the live plots: compact colour-bar labels, whole steps.

Bokeh's default colour-bar labels carry a fixed precision (``2.000e-3``) and its step axes
show half steps (``0.5, 1.5``) when a run is short. These helpers make fresh Bokeh models on
every call (a Bokeh model belongs to one document, and a view may be shown in several), and
HoloViews hooks that put them on a rendered plot.
"""

from __future__ import annotations

from bokeh.models import BasicTicker, CustomJSTickFormatter

# Plain numbers between 0.01 and 10^4, powers of ten (2e-3, 1.5e5) outside, decided once for
# all labels of an axis so that they read alike; at most four significant digits, no
# trailing zeros.
_COMPACT_JS = """
const big = Math.max(...ticks.map(v => Math.abs(v)));
if (tick === 0) return "0";
if (big >= 1e-2 && big < 1e4) return String(parseFloat(tick.toPrecision(4)));
const [m, e] = tick.toExponential(3).split("e");
return String(parseFloat(m)) + "e" + (e[0] === "+" ? e.slice(1) : e);
"""


def compact_formatter() -> CustomJSTickFormatter:
    """A tick formatter that writes ``2e-3``, ``0.25`` or ``1.5e5``, never ``2.000e-3``."""
    return CustomJSTickFormatter(code=_COMPACT_JS)


def integer_ticker() -> BasicTicker:
    """A ticker of whole numbers only (training steps): never ``0.5``, ``1.5``."""
    return BasicTicker(min_interval=1)


def compact_colorbar(plot, element) -> None:
    """HoloViews hook: compact labels on the plot's colour bar, if it has one."""
    bar = plot.handles.get("colorbar")
    if bar is not None:
        bar.formatter = compact_formatter()


def integer_x(plot, element) -> None:
    """HoloViews hook: whole-number ticks on the x axis (the step of a history plot)."""
    for axis in plot.state.xaxis:
        axis.ticker = integer_ticker()
