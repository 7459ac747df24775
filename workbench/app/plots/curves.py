"""Live curves against step: the loss terms, the combiner's diagnostics, learned coefficients."""

from __future__ import annotations

import numpy as np
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, HoverTool, LegendItem, Range1d, Span
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from workbench.app.plots.style import LOSS_HEIGHT, ROW_WIDTH, TOOLS, outside_legend, step_axis


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

    The legend sits beside the frame (never on the lines), and the step axis has whole
    numbers only.
    """

    def __init__(self, fig, source, prefix, colours, widths):
        self.columns = [f"{prefix}{i}" for i in range(len(colours))]
        self.lines, items = [], []
        for slot, colour, width in zip(self.columns, colours, widths):
            line = fig.line(
                "step", slot, source=source, color=colour, line_width=width, visible=False
            )
            self.lines.append(line)
            items.append(LegendItem(label=value(""), renderers=[line], visible=False))
        self.legend = outside_legend(fig, items)
        step_axis(fig)
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

    def __init__(self, width: int = ROW_WIDTH, height: int = LOSS_HEIGHT):
        # The Live tab narrows it when plots join it in the top row (see live_view).
        self.figure = figure(
            title="training loss",
            y_axis_type="log",
            x_axis_label="step",
            y_axis_label="loss",
            width=width,
            height=height,
            tools=TOOLS,
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

    def __init__(self, width: int = 460, height: int = 280):
        self.weights = figure(
            title="loss-term weights",
            y_axis_type="log",
            x_axis_label="step",
            y_axis_label="term weight",
            width=width,
            height=height,
            tools=TOOLS,
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
            tools=TOOLS,
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

    def __init__(self, width: int = 460, height: int = 280):
        self.figure = figure(
            title="learned coefficients (truth dashed)",
            x_axis_label="step",
            y_axis_label="estimate",
            width=width,
            height=height,
            tools=TOOLS,
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
