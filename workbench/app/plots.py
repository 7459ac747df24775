"""Live plots: Bokeh figures whose data is replaced in place at every UI tick.

The views in :mod:`workbench.views` build a new HoloViews element for every update, which is
right for Runs and reports but costs 7-11 ms per plot per update here (measured: an image
through a ``Pipe``/``DynamicMap`` 11 ms, a curve overlay 14 ms). Five plots refreshed five
times a second would take about a third of a core away from training. Replacing a
``ColumnDataSource``'s data costs well under a millisecond, so the Live tab draws with these;
labels, titles and colour conventions follow the views (``long_name``/``units`` attrs,
diverging colours centred on 0 for error and residual, time running horizontally).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from bokeh.core.properties import field as column
from bokeh.core.properties import value
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    Range1d,
    Span,
)
from bokeh.palettes import Category10_10, PiYG11, RdBu11, Reds256, Viridis256, interp_palette
from bokeh.plotting import figure

from workbench.views.fields import SYMMETRIC_NAMES, plot_dims
from workbench.views.generation import generated_channels
from workbench.views.latent import LATENT_DIM, OFFSET_DIM, TRAVERSAL_CMAP
from workbench.views.points import gaussian_table, point_layers

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

_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"

#: Legend labels of the 1D field curves.
CURVE_LABELS = {"u": "prediction", "u_ref": "reference"}


def _label(da: xr.DataArray, fallback: str) -> str:
    name = da.attrs.get("long_name", fallback)
    units = da.attrs.get("units")
    return f"{name} ({units})" if units and units != "1" else name


def _finite_range(values: np.ndarray, symmetric: bool) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (-1.0, 1.0)
    if symmetric:
        bound = float(np.abs(finite).max()) or 1.0
        return (-bound, bound)
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


class _Lines:
    """Line renderers made up front on one figure, named and shown as data appears.

    Adding renderers to a figure already in a page makes the browser rebuild it, which took
    over a second here, while relabelling and hiding lines costs nothing.

    Parameters
    ----------
    fig : bokeh.plotting.figure
        Where the lines go; gets a legend of its own.
    source : ColumnDataSource
        Holds ``step`` and one column per line: ``f"{prefix}{i}"``.
    prefix : str
        Column name prefix of these lines in ``source``.
    colours, widths : sequence
        One per line; their number is the most lines shown.
    """

    def __init__(self, fig, source, prefix, colours, widths, location="top_right"):
        self.columns = [f"{prefix}{i}" for i in range(len(colours))]
        self.lines, items = [], []
        for slot, colour, width in zip(self.columns, colours, widths):
            line = fig.line(
                "step", slot, source=source, color=colour, line_width=width, visible=False
            )
            self.lines.append(line)
            items.append(LegendItem(label=value(""), renderers=[line], visible=False))
        self.legend = Legend(items=items, location=location, click_policy="hide")
        fig.add_layout(self.legend)
        self.labels: list[str] = []

    def label(self, labels: list[str]) -> None:
        """Show the first ``len(labels)`` lines, named ``labels``; hide the others."""
        labels = labels[: len(self.lines)]
        if labels == self.labels:
            return
        self.labels = labels
        for i, (line, item) in enumerate(zip(self.lines, self.legend.items)):
            used = i < len(labels)
            text = labels[i] if used else ""
            line.update(visible=used, name=text)
            # value(): a bare string label would be read as a column name.
            item.update(label=value(text), visible=used)

    def data(self, values: list[np.ndarray], n: int, transform=None) -> dict[str, np.ndarray]:
        """Columns for ``source``: ``values`` in the first slots, NaN in the rest."""
        out = {}
        empty = np.full(n, np.nan, dtype=np.float32)
        for i, slot in enumerate(self.columns):
            if i < len(values):
                y = np.asarray(values[i], dtype=float)
                y = transform(y) if transform is not None else y
                # float32 halves what travels to the browser; a plot needs no more precision.
                out[slot] = y.astype(np.float32)
            else:
                out[slot] = empty
        return out


def _log_floor(values: list[np.ndarray]) -> float:
    # Zeros and negatives cannot sit on a log axis: raise them just below the data.
    positive = [v[v > 0] for v in values]
    positive = [v for v in positive if v.size]
    return 0.1 * min(float(v.min()) for v in positive) if positive else 1e-12


class LossPlot:
    """Loss terms and the total loss against step, on a log axis.

    The lines exist from the start (one for the total, :data:`MAX_TERMS` for terms) and are
    named and shown as terms appear (see :class:`_Lines`).
    """

    MAX_TERMS = 9

    def __init__(self, width: int = 540, height: int = 300):
        self.figure = figure(
            title="training loss",
            y_axis_type="log",
            x_axis_label="step",
            y_axis_label="loss",
            width=width,
            height=height,
            tools=_TOOLS,
        )
        self.figure.add_tools(
            HoverTool(tooltips=[("term", "$name"), ("step", "@step"), ("loss", "$y")])
        )
        count = self.MAX_TERMS + 1
        self.source = ColumnDataSource({"step": [], **{f"v{i}": [] for i in range(count)}})
        colours = ["black", *(Category10_10[i % 10] for i in range(self.MAX_TERMS))]
        self._lines = _Lines(self.figure, self.source, "v", colours, [2.5] + [1.6] * self.MAX_TERMS)
        self.lines, self.legend = self._lines.lines, self._lines.legend
        self.names: list[str] = []

    def clear(self) -> None:
        """Empty every curve (the next training usually logs the same terms)."""
        self.source.data = {key: [] for key in self.source.data}

    def update(self, columns: dict[str, np.ndarray]) -> None:
        """Redraw from ``step`` and one array per loss term (``loss`` is the total)."""
        if not columns:
            return
        terms = [k for k in columns if k not in ("step", "loss")][: self.MAX_TERMS]
        self.names = ["loss", *terms]
        self._lines.label(["total loss", *terms])
        values = [columns[name] for name in self.names]
        floor = _log_floor(values)
        self.source.data = {
            "step": columns["step"],
            **self._lines.data(
                values,
                len(columns["step"]),
                lambda y: np.where(np.isfinite(y), np.maximum(y, floor), np.nan),
            ),
        }


class DiagnosticsPlot:
    """What the combiner of the loss terms reports, against step: two small figures.

    :attr:`weights` draws the term weights ``weight_<term>`` on a log axis (learning-rate
    annealing moves them over decades); :attr:`agreement` draws ``grad_cosine``, the smallest
    cosine between two terms' gradients, on a fixed ``[-1, 1]`` axis with a line at 0 (below
    it the terms pull the weights in conflicting directions), and any other diagnostic.
    Each figure is visible only while it has data (:attr:`has_weights`,
    :attr:`has_agreement`): the default ``sum`` combiner logs nothing.
    """

    MAX_TERMS = 9
    MAX_OTHERS = 3

    def __init__(self, width: int = 400, height: int = 300):
        self.weights = figure(
            title="loss-term weights",
            y_axis_type="log",
            x_axis_label="step",
            y_axis_label="term weight",
            width=width,
            height=height,
            tools=_TOOLS,
            visible=False,
        )
        self.weights.add_tools(
            HoverTool(tooltips=[("term", "$name"), ("step", "@step"), ("weight", "$y")])
        )
        self.agreement = figure(
            title="gradient agreement (below 0: terms conflict)",
            x_axis_label="step",
            y_axis_label="smallest gradient cosine",
            y_range=Range1d(-1.05, 1.05),
            width=width,
            height=height,
            tools=_TOOLS,
            visible=False,
        )
        self.agreement.add_tools(
            HoverTool(tooltips=[("value", "$name"), ("step", "@step"), ("", "$y")])
        )
        self.agreement.add_layout(
            Span(location=0, dimension="width", line_dash="dashed", line_color="gray")
        )
        columns = [f"w{i}" for i in range(self.MAX_TERMS)]
        columns += [f"c{i}" for i in range(self.MAX_OTHERS)]
        self.source = ColumnDataSource({"step": [], **{c: [] for c in columns}})
        self._weights = _Lines(
            self.weights,
            self.source,
            "w",
            [Category10_10[i % 10] for i in range(self.MAX_TERMS)],
            [1.6] * self.MAX_TERMS,
        )
        self._others = _Lines(
            self.agreement,
            self.source,
            "c",
            ["black", *Category10_10[1 : self.MAX_OTHERS]],
            [1.6] * self.MAX_OTHERS,
            location="bottom_right",
        )
        self.names: list[str] = []

    @property
    def has_weights(self) -> bool:
        return bool(self._weights.labels)

    @property
    def has_agreement(self) -> bool:
        return bool(self._others.labels)

    def clear(self) -> None:
        """Empty every curve and hide both figures' lines until the next data."""
        self.source.data = {key: [] for key in self.source.data}
        self._weights.label([])
        self._others.label([])
        self.names = []
        self.weights.visible = self.agreement.visible = False

    def update(self, columns: dict[str, np.ndarray]) -> None:
        """Redraw from ``step`` and one array per diagnostic (see the class docs)."""
        if not columns:
            return
        names = [k for k in columns if k != "step"]
        weights = [n for n in names if n.startswith("weight_")][: self.MAX_TERMS]
        others = [n for n in names if not n.startswith("weight_")][: self.MAX_OTHERS]
        self.names = [*weights, *others]
        self._weights.label([n.removeprefix("weight_") for n in weights])
        self._others.label(others)
        self.weights.visible, self.agreement.visible = bool(weights), bool(others)
        n = len(columns["step"])
        floor = _log_floor([columns[w] for w in weights])
        self.source.data = {
            "step": columns["step"],
            **self._weights.data(
                [columns[w] for w in weights],
                n,
                lambda y: np.where(np.isfinite(y), np.maximum(y, floor), np.nan),
            ),
            **self._others.data([columns[o] for o in others], n),
        }


class EstimatesPlot:
    """Coefficients learned in an inverse problem against step, each with its truth dashed.

    Hidden until a training reports an estimate (:attr:`visible`); one line per coefficient
    (at most :data:`MAX_COEFFICIENTS`), and a dashed line of the same colour at the value the
    observations were made with, when known (:meth:`set_truths`).
    """

    MAX_COEFFICIENTS = 3

    def __init__(self, width: int = 400, height: int = 300):
        self.figure = figure(
            title="learned coefficients (truth dashed)",
            x_axis_label="step",
            y_axis_label="estimate",
            width=width,
            height=height,
            tools=_TOOLS,
            visible=False,
        )
        self.figure.add_tools(
            HoverTool(tooltips=[("coefficient", "$name"), ("step", "@step"), ("value", "$y")])
        )
        count = self.MAX_COEFFICIENTS
        self.source = ColumnDataSource({"step": [], **{f"e{i}": [] for i in range(count)}})
        colours = [Category10_10[i] for i in range(count)]
        self._lines = _Lines(self.figure, self.source, "e", colours, [2.0] * count)
        self.truths = [
            Span(location=0, dimension="width", line_dash="dashed", line_color=c, visible=False)
            for c in colours
        ]
        for span in self.truths:
            self.figure.add_layout(span)
        self._known: dict[str, float] = {}

    @property
    def visible(self) -> bool:
        return bool(self.figure.visible)

    def set_truths(self, truths: dict[str, float]) -> None:
        """The true value of each coefficient (only those known; drawn once it has a line)."""
        self._known = dict(truths)

    def clear(self) -> None:
        """Empty the lines and hide the figure until the next estimates."""
        self.source.data = {key: [] for key in self.source.data}
        self._lines.label([])
        for span in self.truths:
            span.visible = False
        self.figure.visible = False

    def update(self, columns: dict[str, np.ndarray]) -> None:
        """Redraw from ``step`` and one array per coefficient."""
        if not columns:
            return
        names = [k for k in columns if k != "step"][: self.MAX_COEFFICIENTS]
        self._lines.label(names)
        for name, span in zip([*names, *[None] * len(self.truths)], self.truths):
            known = name is not None and name in self._known
            span.update(location=self._known[name] if known else 0.0, visible=known)
        self.source.data = {
            "step": columns["step"],
            **self._lines.data([columns[n] for n in names], len(columns["step"])),
        }
        self.figure.visible = bool(names)


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
        self.figure = figure(title=title, width=width, height=height, tools=_TOOLS)
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
        low, high = clim if clim is not None else _finite_range(da.values, self.symmetric)
        self.mapper.update(low=low, high=high)

    def _label_axes(self, ds: xr.Dataset) -> None:
        self.figure.xaxis.axis_label = _label(ds[self.dims[0]], self.dims[0])
        if len(self.dims) == 2:
            self.figure.yaxis.axis_label = _label(ds[self.dims[1]], self.dims[1])
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
        self.figure = figure(title="u at t", width=width, height=height, tools=_TOOLS)
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


class TraversalPlot:
    """A generative model's latent traversal, live: the field decoded with one latent swept.

    Drawn like :func:`workbench.views.traversal_grid`: for a 1D grid one figure per latent dim
    with a line per swept value, coloured low to high by the latent value (with a colour bar);
    for a 2D grid one figure tiling the decoded images, a row per latent dim and a column per
    swept value, on one colour range (hover names the latent and its value).

    Parameters
    ----------
    latents : sequence of str
        Names of the latent dims drawn (a row or a figure each).
    offsets : int
        Swept values per latent dim.
    dims : sequence of str
        The grid's dims; 2D images put ``t`` on the horizontal axis.
    """

    def __init__(self, latents: Sequence[str], offsets: int, dims: Sequence[str]):
        self.latents, self.offsets, self.dims = list(latents), int(offsets), plot_dims(dims)
        if len(self.dims) == 1:
            palette = interp_palette(tuple(TRAVERSAL_CMAP), max(self.offsets, 2))
            self.figures, self.sources, self.mappers = [], [], []
            for name in self.latents:
                fig = figure(title=f"latent {name} swept", width=330, height=250, tools=_TOOLS)
                source = ColumnDataSource(
                    {"coord": [], **{f"v{k}": [] for k in range(self.offsets)}}
                )
                for k in range(self.offsets):
                    fig.line("coord", f"v{k}", source=source, color=palette[k], line_width=2)
                mapper = LinearColorMapper(palette=tuple(TRAVERSAL_CMAP), low=-1.0, high=1.0)
                fig.add_layout(
                    ColorBar(color_mapper=mapper, width=10, title=f"latent {name}"), "right"
                )
                self.figures.append(fig)
                self.sources.append(source)
                self.mappers.append(mapper)
            return
        rows = len(self.latents)
        self.mapper = LinearColorMapper(palette=Viridis256)
        self.source = ColumnDataSource(
            {"image": [], "x": [], "y": [], "dw": [], "dh": [], "latent": [], "value": []}
        )
        fig = figure(
            title="latent traversal: a row per latent dim",
            width=min(110 * self.offsets + 140, 1000),
            height=min(90 * rows + 80, 900),
            tools=_TOOLS,
            x_range=Range1d(-0.5, self.offsets - 0.5),
            y_range=Range1d(-0.5, rows - 0.5),
            x_axis_label="offset (test-encoding standard deviations)",
            y_axis_label="latent dim",
        )
        image = fig.image(
            image="image",
            x="x",
            y="y",
            dw="dw",
            dh="dh",
            source=self.source,
            color_mapper=self.mapper,
        )
        fig.add_tools(
            HoverTool(renderers=[image], tooltips=[("latent", "@latent"), ("value", "@value")])
        )
        fig.add_layout(ColorBar(color_mapper=self.mapper, width=10), "right")
        # The first latent on top. Not a flipped y range: that would turn each image upside down.
        fig.yaxis.ticker = list(range(rows))
        fig.yaxis.major_label_overrides = {rows - 1 - i: n for i, n in enumerate(self.latents)}
        fig.grid.visible = False
        self.figures = [fig]

    @staticmethod
    def key(ds: xr.Dataset, latents: Sequence[str]) -> tuple:
        """What fixes the plot's shape: a new one is needed when this changes."""
        dims = tuple(d for d in ds["traversal"].dims if d not in (LATENT_DIM, OFFSET_DIM))
        return (tuple(latents), ds.sizes[OFFSET_DIM], dims)

    def update(self, ds: xr.Dataset, positions: Sequence[int]) -> None:
        """Draw ``traversal`` (and ``traversal_value``) of ``ds`` at latent ``positions``."""
        trav = ds["traversal"].isel({LATENT_DIM: list(positions)})
        if "traversal_value" in ds.data_vars:
            values = ds["traversal_value"].isel({LATENT_DIM: list(positions)})
            values = np.asarray(values.transpose(LATENT_DIM, OFFSET_DIM).values, dtype=float)
        else:
            values = np.tile(np.asarray(ds[OFFSET_DIM].values, float), (len(positions), 1))
        if len(self.dims) == 1:
            (dim,) = self.dims
            trav = trav.transpose(LATENT_DIM, OFFSET_DIM, dim)
            coord = trav[dim].values
            for i, (source, mapper) in enumerate(zip(self.sources, self.mappers)):
                source.data = {
                    "coord": coord,
                    **{f"v{k}": trav.values[i, k] for k in range(self.offsets)},
                }
                low, high = _finite_range(values[i], symmetric=False)
                mapper.update(low=low, high=high)
            return
        h, v = self.dims
        trav = trav.sortby([h, v]).transpose(LATENT_DIM, OFFSET_DIM, v, h)
        gap = 0.06  # of a cell: white space between the tiles
        images, xs, ys, names, shown = [], [], [], [], []
        for i, name in enumerate(self.latents):
            for k in range(self.offsets):
                images.append(trav.values[i, k])
                xs.append(k - 0.5 + gap / 2)
                ys.append(len(self.latents) - 1 - i - 0.5 + gap / 2)
                names.append(name)
                shown.append(float(values[i, k]))
        size = [1 - gap] * len(images)
        self.source.data = {
            "image": images,
            "x": xs,
            "y": ys,
            "dw": size,
            "dh": size,
            "latent": names,
            "value": shown,
        }
        low, high = _finite_range(trav.values, symmetric=False)
        self.mapper.update(low=low, high=high)
        self.figures[0].xaxis.ticker = list(range(self.offsets))
        if OFFSET_DIM in ds.coords:
            offsets = np.asarray(ds[OFFSET_DIM].values, float)
            self.figures[0].xaxis.major_label_overrides = {
                k: f"{o:+.2g}" if o else "0" for k, o in enumerate(offsets)
            }


class GalleryPlot:
    """A field generator's live gallery: its samples from fixed noise becoming fields.

    Drawn like :func:`workbench.views.sample_gallery`: a figure per channel (the family's
    input, ``u``) and, when the snapshot has one, per ``residual``. For a 1D grid each figure
    has a line per sample, sample ``k`` in the same colour in every figure; for a 2D grid each
    tiles the samples' images side by side on the channel's colour range (the residual white
    at 0 to red), with a colour bar; hover names the sample and its value.

    Parameters
    ----------
    rows : sequence of str
        The variables drawn, a figure each: the channels, then ``residual`` if present.
    samples : int
        Samples per figure.
    dims : sequence of str
        The grid's dims; 2D images put ``t`` on the horizontal axis.
    """

    def __init__(self, rows: Sequence[str], samples: int, dims: Sequence[str]):
        self.rows, self.samples, self.dims = list(rows), int(samples), plot_dims(dims)
        self.figures, self.sources, self.mappers = [], [], []
        for name in self.rows:
            if len(self.dims) == 1:
                fig = figure(title=name, width=330, height=250, tools=_TOOLS)
                source = ColumnDataSource(
                    {"coord": [], **{f"s{k}": [] for k in range(self.samples)}}
                )
                for k in range(self.samples):
                    fig.line(
                        "coord", f"s{k}", source=source, color=Category10_10[k % 10], alpha=0.8
                    )
                self.mappers.append(None)
            else:
                # Square tiles a unit apart; the frame, not the figure, is sized so that a
                # colour bar beside it does not squeeze them.
                fig = figure(
                    title=name,
                    frame_width=80 * self.samples,
                    frame_height=80,
                    tools=_TOOLS,
                    x_range=Range1d(-0.5, self.samples - 0.5),
                    y_range=Range1d(-0.5, 0.5),
                )
                source = ColumnDataSource(
                    {"image": [], "x": [], "y": [], "dw": [], "dh": [], "sample": []}
                )
                mapper = LinearColorMapper(palette=MAGNITUDES if name == "residual" else Viridis256)
                image = fig.image(
                    image="image",
                    x="x",
                    y="y",
                    dw="dw",
                    dh="dh",
                    source=source,
                    color_mapper=mapper,
                )
                fig.add_tools(
                    HoverTool(
                        renderers=[image], tooltips=[("sample", "@sample"), ("value", "@image")]
                    )
                )
                fig.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
                fig.axis.visible = False
                fig.grid.visible = False
                self.mappers.append(mapper)
            self.figures.append(fig)
            self.sources.append(source)

    @staticmethod
    def key(ds: xr.Dataset) -> tuple:
        """What fixes the plots' shape: new ones are needed when this changes."""
        channels = generated_channels(ds)
        rows = [*channels, *(["residual"] if "residual" in ds.data_vars else [])]
        dims = tuple(d for d in ds["u"].dims if d != "sample")
        return (tuple(rows), ds.sizes["sample"], dims)

    def update(self, ds: xr.Dataset) -> None:
        """Draw the rows of ``ds`` (a snapshot, or ``/fields``, of a field generator)."""
        for name, fig, source, mapper in zip(self.rows, self.figures, self.sources, self.mappers):
            da = ds[name]
            fig.title.text = _label(da, name)
            if len(self.dims) == 1:
                (dim,) = self.dims
                values = da.transpose("sample", dim).values
                source.data = {
                    "coord": da[dim].values,
                    **{f"s{k}": values[k] for k in range(self.samples)},
                }
                # Bokeh sends a property only when its value changes: no cost after the first.
                fig.xaxis.axis_label = _label(da[dim], dim)
                fig.yaxis.axis_label = _label(da, name)
                continue
            h, v = self.dims
            da = da.sortby([h, v]).transpose("sample", v, h)
            gap = 0.06  # of a tile: white space between the samples
            labels = da["sample"].values if "sample" in da.coords else np.arange(self.samples)
            source.data = {
                "image": list(da.values),
                "x": [k - 0.5 + gap / 2 for k in range(self.samples)],
                "y": [-0.5 + gap / 2] * self.samples,
                "dw": [1 - gap] * self.samples,
                "dh": [1 - gap] * self.samples,
                "sample": [str(v) for v in labels],
            }
            if name == "residual":
                high = _finite_range(np.abs(da.values), symmetric=True)[1]
                mapper.update(low=0.0, high=high)
            else:
                low, high = _finite_range(da.values, symmetric=False)
                mapper.update(low=low, high=high)
