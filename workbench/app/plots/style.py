"""What every live plot shares: palettes, colours, tools and axis labels.

Colour conventions follow :mod:`workbench.views` so that a Live tab and a Run's report read
alike (diverging colours centred on 0 for error and residual, magnitudes white at 0).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from bokeh.models import ColorBar, Legend
from bokeh.palettes import PiYG11, RdBu11, Reds256, interp_palette

from workbench.views.style import compact_formatter, integer_ticker

#: Diverging palette, blue (negative) to red (positive), like matplotlib's RdBu_r; smooth,
#: because 11 bands would draw contour-like steps into an error field.
DIVERGING = interp_palette(RdBu11, 256)

#: Palette of magnitudes (a generator's |residual|), white at 0 to red, like the views'
#: ``Reds``: the white centre of :data:`DIVERGING` is where a signed residual vanishes too.
MAGNITUDES = tuple(reversed(Reds256))

#: Palette of the PIG Gaussians' weights, pink (negative) to green (positive) like the views'
#: ``PiYG``: a second diverging palette, so a weight is not read as a residual underneath.
WEIGHTS = interp_palette(tuple(reversed(PiYG11)), 256)

#: Colours of collocation points by layer label: the sampler's kept points black, its new
#: ones green; other sets (boundary, initial, ...) take greys and browns in turn. Blue and
#: red are avoided, the residual image underneath uses them.
KEPT_COLOUR, NEW_COLOUR = "black", "#2ca02c"
SET_COLOURS = ("black", "#7f7f7f", "#8c564b", "#9467bd", "#bcbd22")

#: Bokeh tools of every live figure.
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"

#: Heights (px) of the Live tab's rows: the loss row and the field row. With the status line
#: they fit a 1366x768 window below the page header (the browser test checks it).
LOSS_HEIGHT, FIELD_HEIGHT = 255, 245

#: Width (px) the figures of one row share: the main area of a 1366 px wide window beside the
#: sidebar. Fixed widths, not stretching ones: a stretching pane added to a page already shown
#: (the plots a new kind of data needs) left the page patching models it never received.
ROW_WIDTH = 900

#: The narrowest a live figure gets.
MIN_WIDTH = 200


def colour_bar(mapper, **options) -> ColorBar:
    """A slim colour bar with compact labels (``2e-3``, not ``2.000e-3``)."""
    style = dict(
        width=8,
        padding=2,
        label_standoff=4,
        major_label_text_font_size="8pt",
        formatter=compact_formatter(),
    )
    return ColorBar(color_mapper=mapper, **{**style, **options})


def outside_legend(fig, items=(), place="right", **options) -> Legend:
    """A compact legend beside the plot frame, so it never covers the data."""
    style = dict(
        label_text_font_size="8pt",
        glyph_height=12,
        glyph_width=16,
        label_height=12,
        padding=3,
        spacing=0,
        margin=2,
        border_line_alpha=0,
        background_fill_alpha=0,
        click_policy="hide",
    )
    legend = Legend(items=list(items), **{**style, **options})
    fig.add_layout(legend, place)
    return legend


def step_axis(fig) -> None:
    """Whole-number ticks on a step axis (a short run must not show step 0.5)."""
    fig.xaxis.ticker = integer_ticker()


#: Legend labels of the 1D field curves.
CURVE_LABELS = {"u": "prediction", "u_ref": "reference"}


def label_of(da: xr.DataArray, fallback: str) -> str:
    """An axis label from ``long_name`` (or ``fallback``) and ``units`` (left out when 1)."""
    name = da.attrs.get("long_name", fallback)
    units = da.attrs.get("units")
    return f"{name} ({units})" if units and units != "1" else name


def finite_range(values: np.ndarray, symmetric: bool) -> tuple[float, float]:
    """A colour range ``(low, high)`` over the finite values, never empty.

    ``symmetric``: centred on 0, so that a diverging palette's white means zero.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (-1.0, 1.0)
    if symmetric:
        bound = float(np.abs(finite).max()) or 1.0
        return (-bound, bound)
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)
