"""Live fields: a snapshot's fields as curves (1D) or images (2D), and a profile at one time.

A residual's plot can carry the collocation points and a PIG's Gaussians on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from bokeh.core.properties import field as column
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, HoverTool, LegendItem, LinearColorMapper, Span
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from workbench.app.plots.style import (
    CURVE_LABELS,
    DIVERGING,
    FIELD_HEIGHT,
    KEPT_COLOUR,
    MIN_WIDTH,
    NEW_COLOUR,
    ROW_WIDTH,
    SET_COLOURS,
    TOOLS,
    WEIGHTS,
    colour_bar,
    finite_range,
    label_of,
    outside_legend,
)
from workbench.views.fields import SYMMETRIC_NAMES, plot_dims
from workbench.views.points import gaussian_table, point_layers


class FieldPlot:
    """One field of the live snapshot: curves for 1D problems, an image for 2D ones.

    On top it can draw a ``/points`` dataset (:meth:`update_points`): the collocation points
    (the sampler's kept and new points in different colours, with a legend) and, for PIG
    models, the Gaussians' centres coloured by weight and their 1-sigma ellipses (segments
    on the axis for 1D problems). Both are drawn by glyphs made here, whose data is replaced.

    Parameters
    ----------
    names : sequence of str
        Variables drawn: for 1D problems each one is a curve (the first solid, the others
        dashed), for 2D problems only the first is drawn.
    dims : sequence of str
        The problem's dims; 2D plots put ``t`` on the horizontal axis.
    title : str
        Figure title (:meth:`set_title` changes it later).
    legend : dict, optional
        Legend labels of 1D curves by variable (default: ``u`` "prediction", ``u_ref``
        "reference"; a generative model's are "reconstruction" and "data").
    width, height : int
        Of the figure (px); the width at least ``MIN_WIDTH``.
    label_y : bool
        Label the vertical axis (a row of plots on one grid labels it once, on the left).

    Legends sit beside the frame, colour bars are slim with compact labels, and the toolbar
    sits above the plot: a row of four fits a 1366 px wide window.
    """

    def __init__(
        self,
        names: Sequence[str],
        dims: Sequence[str],
        title: str,
        width: int = ROW_WIDTH // 4,
        height: int = FIELD_HEIGHT,
        legend: dict[str, str] | None = None,
        label_y: bool = True,
    ):
        self.names = list(names)
        self.dims = plot_dims(dims)
        self.symmetric = self.names[0] in SYMMETRIC_NAMES
        self.label_y = label_y
        self.figure = figure(
            title=title,
            width=max(width, MIN_WIDTH),
            height=height,
            tools=TOOLS,
            toolbar_location="above",
        )
        self.figure.title.text_font_size = "10pt"
        self.figure.axis.major_label_text_font_size = "8pt"
        self.figure.xaxis.ticker.desired_num_ticks = 4
        self.figure.yaxis.ticker.desired_num_ticks = 5
        self.legend = None
        self.points = ColumnDataSource({"a": [], "b": [], "colour": [], "label": []})
        self.anchors = ColumnDataSource(
            {"a": [], "b": [], "w": [], "h": [], "weight": [], "size": [], "channel": []}
        )
        self.weight_mapper = LinearColorMapper(palette=WEIGHTS, low=-1.0, high=1.0)
        self.marker: Span | None = None
        if len(self.dims) == 1:
            self.source = ColumnDataSource({"coord": [], **{n: [] for n in self.names}})
            curves, items = [], []
            for i, name in enumerate(self.names):
                line = self.figure.line(
                    "coord",
                    name,
                    source=self.source,
                    line_width=2,
                    color=Category10_10[i],
                    line_dash="solid" if i == 0 else "dashed",
                )
                curves.append(line)
                label = (legend or CURVE_LABELS).get(name, name)
                # value(): the label may also be a column's name ("error"), read as a field.
                items.append(LegendItem(label=value(label), renderers=[line]))
            # One curve needs no legend (the title names it) until points join it.
            self.legend = outside_legend(self.figure, items, visible=len(items) > 1)
        else:
            self.mapper = LinearColorMapper(palette=DIVERGING if self.symmetric else Viridis256)
            self.source = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
            image = self.figure.image(
                image="image",
                x="x",
                y="y",
                dw="dw",
                dh="dh",
                source=self.source,
                color_mapper=self.mapper,
            )
            self.figure.add_tools(
                HoverTool(
                    renderers=[image],
                    tooltips=[(self.dims[0], "$x"), (self.dims[1], "$y"), ("value", "@image")],
                )
            )
            self.figure.add_layout(colour_bar(self.mapper), "right")
            curves = [image]
            if "t" in dims:
                self.marker = Span(
                    location=0, dimension="height", line_dash="dotted", line_width=1.5
                )
                self.figure.add_layout(self.marker)
        # The field alone sets the axes: Gaussians reaching past the domain must not shrink it.
        self.figure.x_range.renderers = curves
        self.figure.y_range.renderers = curves
        self._add_overlays()
        self._labelled = False

    def _add_overlays(self) -> None:
        # Gaussians first: the collocation points, fewer and smaller, stay visible on top.
        # Faint outlines and see-through centres: the residual underneath stays readable.
        self.widths_renderer = self.figure.ellipse(
            x="a",
            y="b",
            width="w",
            height="h",
            source=self.anchors,
            fill_alpha=0,
            line_color="#333333",
            line_alpha=0.2,
            line_width=0.6,
            name="Gaussian widths",
        )
        weight_colour = {"field": "weight", "transform": self.weight_mapper}
        self.centres_renderer = self.figure.scatter(
            "a",
            "b",
            source=self.anchors,
            size="size",
            fill_color=weight_colour,
            fill_alpha=0.3,
            line_color=weight_colour,
            line_width=1.2,
            name="Gaussian centres",
        )
        self.figure.add_tools(
            HoverTool(
                renderers=[self.centres_renderer],
                tooltips=[("Gaussian weight", "@weight"), ("channel", "@channel")],
            )
        )
        one_d = len(self.dims) == 1
        self.points_renderer = self.figure.scatter(
            "a",
            "b",
            source=self.points,
            size=4 if one_d else 2.5,
            alpha=0.5,
            color="colour",
            name="collocation points",
        )
        self.points_renderer.visible = False
        # One legend entry per distinct label, grouped by the browser from the data.
        self.points_legend = LegendItem(
            label=column("label"), renderers=[self.points_renderer], visible=False
        )
        if one_d:
            self.legend.items.append(self.points_legend)
        else:  # below the image: the colour bar has the right side
            self.legend = outside_legend(
                self.figure,
                [self.points_legend],
                place="below",
                orientation="horizontal",
                visible=False,
            )
        self._curve_legend = one_d and len(self.names) > 1

    def set_title(self, text: str) -> None:
        self.figure.title.text = text

    def update(self, ds: xr.Dataset, clim: tuple[float, float] | None = None) -> None:
        """Draw the named variables of ``ds`` (a ``/fields`` group or a live snapshot)."""
        if not self._labelled:
            self._label_axes(ds)
        if len(self.dims) == 1:
            (dim,) = self.dims
            self.source.data = {"coord": ds[dim].values, **{n: ds[n].values for n in self.names}}
            return
        h, v = self.dims
        da = ds[self.names[0]].sortby([h, v]).transpose(v, h)
        x, y = da[h].values, da[v].values
        # Pixel centres sit on the grid points, so the image spans half a cell beyond them.
        dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
        dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
        self.source.data = {
            "image": [da.values],
            "x": [x[0] - dx / 2],
            "y": [y[0] - dy / 2],
            "dw": [x[-1] - x[0] + dx],
            "dh": [y[-1] - y[0] + dy],
        }
        low, high = clim if clim is not None else finite_range(da.values, self.symmetric)
        self.mapper.update(low=low, high=high)

    def _label_axes(self, ds: xr.Dataset) -> None:
        self.figure.xaxis.axis_label = label_of(ds[self.dims[0]], self.dims[0])
        if len(self.dims) == 2:
            if self.label_y:
                self.figure.yaxis.axis_label = label_of(ds[self.dims[1]], self.dims[1])
            self.figure.x_range.range_padding = self.figure.y_range.range_padding = 0
        self._labelled = True

    def update_points(self, ds_points: xr.Dataset | None) -> None:
        """Collocation points (shown with :meth:`show_points`) and Gaussians to overlay.

        ``ds_points`` is a ``/points`` group or a live ``Progress.points``; None clears both.
        """
        a, b, colours, labels = [], [], [], []
        layers = point_layers(ds_points, self.dims) if ds_points is not None else []
        others = iter(SET_COLOURS[1:])
        for i, (label, columns) in enumerate(layers):
            if label.endswith("(kept)"):
                colour = KEPT_COLOUR
            elif label.endswith("(new)"):
                colour = NEW_COLOUR
            else:
                colour = SET_COLOURS[0] if i == 0 else next(others, SET_COLOURS[-1])
            n = len(columns[0])
            a.append(columns[0])
            b.append(columns[1] if len(columns) == 2 else np.zeros(n))
            colours += [colour] * n
            labels += [label] * n
        self.points.data = {
            "a": np.concatenate(a) if a else np.empty(0),
            "b": np.concatenate(b) if b else np.empty(0),
            "colour": colours,
            "label": labels,
        }
        self._update_gaussians(ds_points)

    def _update_gaussians(self, ds_points: xr.Dataset | None) -> None:
        table = gaussian_table(ds_points, self.dims) if ds_points is not None else None
        if table is None:
            self.anchors.data = {key: [] for key in self.anchors.data}
            return
        centre, sigma, weight = table["centre"], table["sigma"], table["weight"]
        magnitude = np.where(np.isfinite(weight), np.abs(weight), 0.0)
        bound = float(magnitude.max()) if magnitude.size and magnitude.max() > 0 else 1.0
        zeros = np.zeros_like(centre[0])
        two_d = len(centre) == 2
        self.anchors.data = {
            "a": centre[0],
            "b": centre[1] if two_d else zeros,
            # Bokeh's ellipse takes full axes: 2 sigma wide. In 1D a flat one is a segment.
            "w": 2 * sigma[0],
            "h": 2 * sigma[1] if two_d else zeros,
            "weight": weight,
            # Size grows with |weight|: a Gaussian that barely contributes is a dot.
            "size": 3 + 7 * magnitude / bound,
            "channel": table["channel"],
        }
        self.weight_mapper.update(low=-bound, high=bound)

    def show_points(self, show: bool) -> None:
        self.points_renderer.visible = show
        self.points_legend.visible = show
        self.legend.visible = show or self._curve_legend

    def show_gaussians(self, show: bool) -> None:
        self.widths_renderer.visible = show
        self.centres_renderer.visible = show

    def mark_time(self, t: float) -> None:
        if self.marker is not None:
            self.marker.location = t


class ProfilePlot:
    """Prediction and reference along ``x`` at one time ``t`` (for space-time problems)."""

    def __init__(self, dims: Sequence[str], width: int = 400, height: int = FIELD_HEIGHT):
        self.space = [d for d in dims if d != "t"][0]
        self.figure = figure(
            title="u at t",
            width=width,
            height=height,
            tools=TOOLS,
            toolbar_location="above",
        )
        self.figure.title.text_font_size = "10pt"
        self.source = ColumnDataSource({"coord": [], "u": [], "u_ref": []})
        u = self.figure.line("coord", "u", source=self.source, line_width=2)
        u_ref = self.figure.line(
            "coord",
            "u_ref",
            source=self.source,
            line_width=2,
            line_dash="dashed",
            color=Category10_10[1],
        )
        outside_legend(
            self.figure,
            [
                LegendItem(label=value(CURVE_LABELS["u"]), renderers=[u]),
                LegendItem(label=value(CURVE_LABELS["u_ref"]), renderers=[u_ref]),
            ],
        )
        self.figure.xaxis.axis_label = self.space

    def update(self, ds: xr.Dataset, t: float) -> None:
        cut = ds.sel(t=t, method="nearest")
        self.source.data = {
            "coord": cut[self.space].values,
            "u": cut["u"].values,
            "u_ref": cut["u_ref"].values,
        }
        self.figure.title.text = f"prediction vs reference at t = {float(cut['t']):.3g}"
