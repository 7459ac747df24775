"""Live fields: a snapshot's fields as curves (1D) or images (2D), and a profile at one time.

A residual's plot can carry the collocation points and a PIG's Gaussians on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from bokeh.core.properties import field as column
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    Span,
)
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from workbench.app.plots.style import (
    CURVE_LABELS,
    DIVERGING,
    KEPT_COLOUR,
    NEW_COLOUR,
    SET_COLOURS,
    TOOLS,
    WEIGHTS,
    finite_range,
    label_of,
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
    """

    def __init__(
        self,
        names: Sequence[str],
        dims: Sequence[str],
        title: str,
        width=300,
        height=250,
        legend: dict[str, str] | None = None,
    ):
        self.names = list(names)
        self.dims = plot_dims(dims)
        self.symmetric = self.names[0] in SYMMETRIC_NAMES
        self.figure = figure(title=title, width=width, height=height, tools=TOOLS)
        self.points = ColumnDataSource({"a": [], "b": [], "colour": [], "label": []})
        self.anchors = ColumnDataSource(
            {"a": [], "b": [], "w": [], "h": [], "weight": [], "size": [], "channel": []}
        )
        self.weight_mapper = LinearColorMapper(palette=WEIGHTS, low=-1.0, high=1.0)
        self.marker: Span | None = None
        if len(self.dims) == 1:
            self.source = ColumnDataSource({"coord": [], **{n: [] for n in self.names}})
            for i, name in enumerate(self.names):
                self.figure.line(
                    "coord",
                    name,
                    source=self.source,
                    line_width=2,
                    color=Category10_10[i],
                    line_dash="solid" if i == 0 else "dashed",
                    legend_label=(legend or CURVE_LABELS).get(name, name),
                )
            self.figure.legend.location = "top_right"
            curves = list(self.figure.renderers)
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
            self.figure.add_layout(ColorBar(color_mapper=self.mapper, width=10), "right")
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
        self.widths_renderer = self.figure.ellipse(
            x="a",
            y="b",
            width="w",
            height="h",
            source=self.anchors,
            fill_alpha=0,
            line_color="#333333",
            line_alpha=0.35,
            line_width=0.8,
            name="Gaussian widths",
        )
        self.centres_renderer = self.figure.scatter(
            "a",
            "b",
            source=self.anchors,
            size="size",
            fill_color={"field": "weight", "transform": self.weight_mapper},
            line_color="black",
            line_width=0.4,
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
            size=4 if one_d else 3,
            alpha=0.6,
            color="colour",
            name="collocation points",
        )
        self.points_renderer.visible = False
        # One legend entry per distinct label, grouped by the browser from the data.
        self.points_legend = LegendItem(
            label=column("label"), renderers=[self.points_renderer], visible=False
        )
        if one_d:
            self.figure.legend[0].items.append(self.points_legend)
        else:
            self.figure.add_layout(
                Legend(
                    items=[self.points_legend],
                    location="top_left",
                    label_text_font_size="8pt",
                    glyph_height=12,
                    label_height=12,
                    padding=4,
                    spacing=0,
                    background_fill_alpha=0.6,
                )
            )

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

    def show_gaussians(self, show: bool) -> None:
        self.widths_renderer.visible = show
        self.centres_renderer.visible = show

    def mark_time(self, t: float) -> None:
        if self.marker is not None:
            self.marker.location = t


class ProfilePlot:
    """Prediction and reference along ``x`` at one time ``t`` (for space-time problems)."""

    def __init__(self, dims: Sequence[str], width=480, height=300):
        self.space = [d for d in dims if d != "t"][0]
        self.figure = figure(title="u at t", width=width, height=height, tools=TOOLS)
        self.source = ColumnDataSource({"coord": [], "u": [], "u_ref": []})
        self.figure.line("coord", "u", source=self.source, line_width=2, legend_label="prediction")
        self.figure.line(
            "coord",
            "u_ref",
            source=self.source,
            line_width=2,
            line_dash="dashed",
            color=Category10_10[1],
            legend_label="reference",
        )
        self.figure.legend.location = "top_right"
        self.figure.xaxis.axis_label = self.space

    def update(self, ds: xr.Dataset, t: float) -> None:
        cut = ds.sel(t=t, method="nearest")
        self.source.data = {
            "coord": cut[self.space].values,
            "u": cut["u"].values,
            "u_ref": cut["u_ref"].values,
        }
        self.figure.title.text = f"prediction vs reference at t = {float(cut['t']):.3g}"
