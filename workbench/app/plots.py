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
from bokeh.core.properties import value
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    Span,
)
from bokeh.palettes import Category10_10, RdBu11, Viridis256, interp_palette
from bokeh.plotting import figure

from workbench.views.fields import SYMMETRIC_NAMES, plot_dims

#: Diverging palette, blue (negative) to red (positive), like matplotlib's RdBu_r; smooth,
#: because 11 bands would draw contour-like steps into an error field.
DIVERGING = interp_palette(RdBu11, 256)

_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


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


class LossPlot:
    """Loss terms and the total loss against step, on a log axis.

    The lines exist from the start (one for the total, :data:`MAX_TERMS` for terms) and are
    named and shown as terms appear: adding renderers to a figure already in a page makes the
    browser rebuild it, which took over a second here, while relabelling costs nothing.
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
        slots = [f"v{i}" for i in range(self.MAX_TERMS + 1)]
        self.source = ColumnDataSource({"step": [], **{slot: [] for slot in slots}})
        self.lines, items = [], []
        for i, slot in enumerate(slots):
            line = self.figure.line(
                "step",
                slot,
                source=self.source,
                color="black" if i == 0 else Category10_10[(i - 1) % 10],
                line_width=2.5 if i == 0 else 1.6,
                visible=False,
            )
            self.lines.append(line)
            items.append(LegendItem(label=value(""), renderers=[line], visible=False))
        self.legend = Legend(items=items, location="top_right", click_policy="hide")
        self.figure.add_layout(self.legend)
        self.names: list[str] = []

    def clear(self) -> None:
        """Empty every curve (the next training usually logs the same terms)."""
        self.source.data = {key: [] for key in self.source.data}

    def update(self, columns: dict[str, np.ndarray]) -> None:
        """Redraw from ``step`` and one array per loss term (``loss`` is the total)."""
        if not columns:
            return
        terms = [k for k in columns if k not in ("step", "loss")][: self.MAX_TERMS]
        names = ["loss", *terms]
        if names != self.names:
            self.names = names
            for i, (line, item) in enumerate(zip(self.lines, self.legend.items)):
                used = i < len(names)
                label = ("total loss" if i == 0 else names[i]) if used else ""
                line.update(visible=used, name=label)
                # value(): a bare string label would be read as a column name.
                item.update(label=value(label), visible=used)
        values = [columns[name] for name in names]
        positive = [v[v > 0] for v in values]
        positive = [v for v in positive if v.size]
        # Zeros and negatives cannot sit on a log axis: raise them just below the data.
        floor = 0.1 * min(float(v.min()) for v in positive) if positive else 1e-12
        data = {"step": columns["step"]}
        empty = np.full(len(columns["step"]), np.nan, dtype=np.float32)
        for i in range(len(self.lines)):
            if i < len(values):
                y = np.where(np.isfinite(values[i]), np.maximum(values[i], floor), np.nan)
                # float32 halves what travels to the browser; a plot needs no more precision.
                data[f"v{i}"] = y.astype(np.float32)
            else:
                data[f"v{i}"] = empty
        self.source.data = data


class FieldPlot:
    """One field of the live snapshot: curves for 1D problems, an image for 2D ones.

    Parameters
    ----------
    names : sequence of str
        Variables drawn: for 1D problems each one is a curve (the first solid, the others
        dashed), for 2D problems only the first is drawn.
    dims : sequence of str
        The problem's dims; 2D plots put ``t`` on the horizontal axis.
    title : str
        Figure title (:meth:`set_title` changes it later).
    """

    def __init__(
        self, names: Sequence[str], dims: Sequence[str], title: str, width=300, height=250
    ):
        self.names = list(names)
        self.dims = plot_dims(dims)
        self.symmetric = self.names[0] in SYMMETRIC_NAMES
        self.figure = figure(title=title, width=width, height=height, tools=_TOOLS)
        self.points = ColumnDataSource({"a": [], "b": [], "set": []})
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
                    legend_label={"u": "prediction", "u_ref": "reference"}.get(name, name),
                )
            self.figure.legend.location = "top_right"
            self.points_renderer = self.figure.scatter(
                "a", "b", source=self.points, size=4, alpha=0.6, color="#444444"
            )
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
            self.points_renderer = self.figure.scatter(
                "a", "b", source=self.points, size=3, alpha=0.55, color="black"
            )
            if "t" in dims:
                self.marker = Span(
                    location=0, dimension="height", line_dash="dotted", line_width=1.5
                )
                self.figure.add_layout(self.marker)
        self.points_renderer.visible = False
        self._labelled = False

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
        """Collocation points to overlay (shown with :meth:`show_points`)."""
        a, b = [], []
        if ds_points is not None:
            for s in ds_points.dims:
                names = [f"{s}_{d}" for d in self.dims]
                if all(n in ds_points.data_vars for n in names):
                    a.append(ds_points[names[0]].values)
                    b.append(
                        ds_points[names[1]].values
                        if len(names) == 2
                        else np.zeros(ds_points.sizes[s])
                    )
        a = np.concatenate(a) if a else np.empty(0)
        b = np.concatenate(b) if b else np.empty(0)
        self.points.data = {"a": a, "b": b, "set": np.zeros(len(a))}

    def show_points(self, show: bool) -> None:
        self.points_renderer.visible = show

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
