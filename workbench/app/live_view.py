"""The Live tab: the training's loss, diagnostics and fields, redrawn in place as it learns.

A :class:`LiveView` holds the Live tab's Bokeh figures (:mod:`workbench.app.plots`) and the
widgets that steer them (time of a space-time profile, overlays on the residual, the test
sample). The Workbench hands it what the worker produced at every tick: the thinned loss
history, the combiner's diagnostics and the latest coarse snapshot, then the Run's full fields.

The data decides what is drawn, never the method's type: fields with a ``sample`` dim (an
operator's test samples) get a sample selector and a plot of the input function; fields with
a ``traversal`` (a latent generative model's) add a live latent traversal; fields holding a
family's input and ``u`` on ``sample`` with neither a truth ``u_ref`` nor latent draws ``z``
(a field generator's samples from fixed noise) are drawn as a gallery instead of one sample's
fields.

Layout: the status line, then a top row of the loss beside what steers or frames the fields
(the test sample and an operator's input, the time of a space-time profile, or a field
generator's gallery), then one row of the field panels, then the rest (traversal,
diagnostics). Figures share a row of fixed width, at fixed heights, chosen so that status,
loss and the field row fit a 1366x768 window without scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import panel as pn
import xarray as xr

from workbench.app.live import LiveTraining
from workbench.app.plots import (
    DiagnosticsPlot,
    EstimatesPlot,
    FieldPlot,
    GalleryPlot,
    LossPlot,
    ProfilePlot,
    TraversalPlot,
)
from workbench.app.plots.style import ROW_WIDTH
from workbench.app.setup import Setup
from workbench.methods.base import Method
from workbench.methods.field_generators.base import FieldGenerator
from workbench.problems.base import Problem
from workbench.regularizers import Data
from workbench.results import knobs
from workbench.views.fields import (
    FIELD_TITLES,
    SAMPLE_DIM,
    component_fields,
    components,
    sample_labels,
    select_sample,
)
from workbench.views.generation import generated_channels
from workbench.views.latent import latent_names, ranked_latents
from workbench.views.metric import live_note, metric_long_name, metric_text, metric_value

#: Width (px) of a plot beside the loss in the top row (profile, sample and input).
SIDE_WIDTH = 400

#: Loss-history points drawn at most; more only cost transfer time, not information.
MAX_PLOT_POINTS = 500


class LiveView:
    """The Live tab's plots and their widgets.

    Parameters
    ----------
    header : sequence of panel objects
        Shown above the plots (the training's status line and progress bar).

    Attributes
    ----------
    layout : panel.Column
        The tab's content; :meth:`build` fills it.
    """

    def __init__(self, header: Sequence = ()):
        self._header = list(header)
        self._bokeh_panes: list[pn.pane.Bokeh] = []
        self._field_plots: dict[str, FieldPlot] = {}
        self._profile_plot = None
        self._fields: xr.Dataset | None = None
        self._sample_dim = False
        self._choosing_sample = False
        self._time = pn.widgets.FloatSlider(label="time t", start=0, end=1, step=0.01, value=0.5)
        self._time.param.watch(self._on_time, "value")
        self._show_points = pn.widgets.Checkbox(label="overlay collocation points on the residual")
        self._show_points.param.watch(self._on_show_points, "value")
        # Shown once a snapshot carries Gaussians (a PIG training), as views follow the data.
        self._show_gaussians = pn.widgets.Checkbox(
            label="overlay the Gaussians (centres, 1 sigma)", value=True, visible=False
        )
        self._show_gaussians.param.watch(self._on_show_gaussians, "value")
        # Shown once fields come with a ``sample`` dim (an operator's test samples).
        self._sample = pn.widgets.Select(
            label="test sample", options=[], visible=False, width=140, margin=(0, 10)
        )
        self._sample.param.watch(self._on_sample, "value")
        # Shown once fields come with a ``component`` dim (a flow's u, v, p): the field plots
        # show one component, or a quantity derived from the velocity (speed, vorticity).
        self._component = pn.widgets.Select(
            label="component", options=[], visible=False, width=140, margin=(0, 10)
        )
        self._choosing_component = False
        self._component.param.watch(self._on_sample, "value")
        self.layout = pn.Column(sizing_mode="stretch_width")

    def build(self, problem: Problem, snapshot_points: int, method: Method | None = None) -> None:
        """Fresh live plots for ``problem``, showing its reference until training.

        ``method``: a field generator shows no reference (see :meth:`show_preview`).
        """
        self._problem_name = problem.name
        self._loss_plot = LossPlot()
        self._diagnostics_plot = DiagnosticsPlot()
        self._loss_plot.figure.name = "loss"  # names find the plots in the page (tests)
        self._loss_pane = pn.pane.Bokeh(self._loss_plot.figure)
        # The figures hide themselves until a combiner reports something (the default sum
        # reports nothing). Not pane.visible: toggling it makes Panel 1.9 copy the figure's
        # themed stylesheets into the pane, which raises and drops the rest of the tick.
        self._estimates_plot = EstimatesPlot()  # an inverse problem's learned coefficients
        self._diagnostics_panes = [
            pn.pane.Bokeh(self._diagnostics_plot.weights),
            pn.pane.Bokeh(self._diagnostics_plot.agreement),
            pn.pane.Bokeh(self._estimates_plot.figure),
        ]
        self._top = pn.Row(self._loss_pane, sizing_mode="stretch_width")
        self._fields_box = pn.Row(sizing_mode="stretch_width")
        self._built_sample_dim = False
        self._field_layout = None  # so that the preview below builds the field plots
        # Filled while the fields carry a latent traversal (a generative model's).
        self._traversal_box = pn.Column(sizing_mode="stretch_width")
        self._traversal_plot: TraversalPlot | None = None
        self._traversal_key = None
        self._traversal_positions: list[int] = []
        self._traversal_panes: list[pn.pane.Bokeh] = []
        # Filled while the fields are a field generator's samples, in place of the field plots.
        self._gallery_box = pn.Column()
        # Where a 1D gallery goes (a 2D one sits in the top row, beside the loss).
        self._gallery_slot = pn.Column(sizing_mode="stretch_width")
        #: The generated samples' metric, in the status line's words.
        self._gallery_metric = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._gallery_plot: GalleryPlot | None = None
        self._gallery_key = None
        self._gallery_panes: list[pn.pane.Bokeh] = []
        self.layout.objects = [
            # As wide as the rows below: a wider plot further down (a latent traversal) must
            # not push the status line and progress bar past the window's edge.
            pn.Column(*self._header, width=ROW_WIDTH, margin=0),
            self._top,
            pn.Row(self._show_points, self._show_gaussians, self._component, margin=0),
            self._fields_box,
            self._gallery_slot,
            self._traversal_box,
            pn.FlexBox(*self._diagnostics_panes),
        ]
        self._show_gaussians.visible = False  # until a snapshot brings Gaussians
        self.show_preview(problem, snapshot_points, method)

    def show_preview(
        self, problem: Problem, snapshot_points: int, method: Method | None = None
    ) -> None:
        """Show the problem's reference before training, on ``snapshot_points`` per dim.

        A field generator (``method``) learns a family, not this instance: its Live tab waits
        for its own samples instead of showing one instance's reference and blank panels.
        """
        if isinstance(method, FieldGenerator):
            self._clear_gallery()
            self._clear_field_plots()
            self._gallery_box.objects = [
                pn.pane.Markdown(
                    "**Generated samples** appear here, beside the loss, from the first "
                    "snapshot on (after the training set is generated).",
                    width=420,
                )
            ]
            self._top.objects = [self._gallery_box, self._loss_pane]
            self._fit_loss(440)
            self._fields = None
            return
        self.draw_fields(_preview(problem, snapshot_points), None)

    def restart(self, setup: Setup, snapshot_points: int) -> None:
        """Make the plots ready for a new training of ``setup``."""
        if setup.problem.name != self._problem_name:  # switched while the last one trained
            self.build(setup.problem, snapshot_points, setup.method)
        else:  # same kind of plots: reuse them, so the page need not build new ones
            self._loss_plot.clear()
            self._diagnostics_plot.clear()
            self._estimates_plot.clear()
            # The last training's points and Gaussians would sit on this one's preview.
            if "residual" in self._field_plots:
                self._field_plots["residual"].update_points(None)
            self._show_gaussians.visible = False  # a rebuild above starts hidden too
            self.show_preview(setup.problem, snapshot_points, setup.method)
        self._estimates_plot.set_truths(_truths(setup))

    def draw_curves(self, live: LiveTraining) -> None:
        """Redraw the loss, the diagnostics and the estimates from the worker's history."""
        columns = live.history(MAX_PLOT_POINTS)
        if columns:
            self._loss_plot.update(columns)
        diagnostics = live.diagnostics(MAX_PLOT_POINTS)
        if diagnostics:
            self._diagnostics_plot.update(diagnostics)
        learned = live.estimates(MAX_PLOT_POINTS)
        if learned:
            self._estimates_plot.update(learned)

    def _build_field_plots(self, layout: tuple, shown: xr.Dataset) -> None:
        """Field plots (and the profile for space-time data) for a :func:`_field_layout`."""
        dims, panels, generative = layout
        self._field_layout = layout
        self._dims = dims
        self._generative = generative
        self._space_time = len(dims) == 2 and "t" in dims
        self._built_sample_dim = self._sample_dim
        legend = GENERATIVE_LABELS if generative else None
        # An operator's input goes beside the loss, under the sample it belongs to; the
        # solution, error and residual share the field row (the first labels the y axis).
        inputs = [key for key, _ in panels if key not in FIELD_TITLES]
        beside = inputs if self._sample_dim else []
        in_row = [key for key, _ in panels if key not in beside]
        self._field_plots = {}
        for key, variables in panels:
            self._field_plots[key] = FieldPlot(
                variables,
                dims,
                _panel_title(key, variables, dims, generative),
                width=SIDE_WIDTH if key in beside else ROW_WIDTH // max(len(in_row), 2),
                legend=legend,
                label_y=key in beside or key == in_row[0],
            )
        for key, plot in self._field_plots.items():
            plot.figure.name = f"field-{key}"
        panes = {key: pn.pane.Bokeh(plot.figure) for key, plot in self._field_plots.items()}
        self._bokeh_panes = [self._loss_pane, *panes.values(), *self._diagnostics_panes]
        self._profile_plot = ProfilePlot(dims) if self._space_time else None
        if self._space_time:
            t0, t1 = float(shown["t"].min()), float(shown["t"].max())
            self._time.param.update(start=t0, end=t1, step=(t1 - t0) / 100, value=(t0 + t1) / 2)
        top = [self._loss_pane]
        if self._sample_dim:
            side = [self._sample, *(panes[key] for key in inputs)]  # the input it is about
            top.append(pn.Column(*side))
        if self._profile_plot is not None:
            profile_pane = pn.pane.Bokeh(self._profile_plot.figure)
            self._bokeh_panes.append(profile_pane)
            top.append(pn.Column(self._time, profile_pane))
        self._top.objects = top
        self._fit_loss(SIDE_WIDTH * (len(top) - 1))
        self._fields_box.objects = [pane for key, pane in panes.items() if key not in beside]
        for plot in self._field_plots.values():
            plot.mark_time(self._time.value)
        residual = self._field_plots.get("residual")
        # Collocation points and Gaussians belong to point-based methods, drawn on a residual.
        self._show_points.visible = residual is not None and not self._sample_dim
        if residual is not None:
            residual.show_points(self._show_points.value)
            residual.show_gaussians(self._show_gaussians.value)

    def _one_component(self, fields: xr.Dataset) -> xr.Dataset:
        """``fields`` as the chosen component when it has a ``component`` dim (flows)."""
        names = list(components(fields))
        if not names:
            self._component.visible = False
            return fields
        self._choosing_component = True  # new options may move the value: no redraw
        try:
            if self._component.options != names:
                self._component.options = names
            if self._component.value not in names:
                self._component.value = names[0]
        finally:
            self._choosing_component = False
        self._component.visible = True
        return component_fields(fields, self._component.value)

    def _one_sample(self, fields: xr.Dataset) -> xr.Dataset:
        """``fields`` at the chosen sample when it has a ``sample`` dim (operator runs), as the
        chosen component when it has a ``component`` dim (flows)."""
        fields = self._one_component(fields)
        self._sample_dim = SAMPLE_DIM in fields.dims
        if not self._sample_dim:
            self._sample.visible = False
            return fields
        labels = [v.item() for v in sample_labels(fields)]
        options = {str(v): v for v in labels}
        self._choosing_sample = True  # new options may move the value: no redraw from there
        try:
            if self._sample.options != options:
                self._sample.options = options
            if self._sample.value not in labels:
                self._sample.value = labels[0]
        finally:
            self._choosing_sample = False
        self._sample.visible = True
        return select_sample(fields, self._sample.value)

    def draw_fields(self, fields: xr.Dataset, points: xr.Dataset | None) -> None:
        """Put a snapshot (or the Run's full fields) into the field plots.

        ``points``: the ``/points`` drawn on the residual (collocation points, Gaussians).
        """
        self._fields = fields
        if generated_channels(fields):
            self._draw_gallery(fields)
            return
        self._clear_gallery()
        shown = self._one_sample(fields)
        layout = _field_layout(shown)
        if layout != self._field_layout or self._sample_dim != self._built_sample_dim:
            # The data decides the plots: an operator's snapshot (an input field, no t)
            # differs from the problem's preview, and a family may have no residual.
            self._build_field_plots(layout, shown)
        preview = bool(fields.attrs.get("preview"))
        clim = None
        if len(self._dims) == 2 and "u_ref" in shown:  # prediction, reference share a range
            both = np.concatenate(
                [shown["u_ref"].values.ravel()]
                + ([] if preview or "u" not in shown else [shown["u"].values.ravel()])
            )
            finite = both[np.isfinite(both)]
            if finite.size:
                clim = (float(finite.min()), float(finite.max()))
        # The same words as the status line: a snapshot's value says it is on the coarse grid.
        metric = "" if preview else metric_text(fields.attrs, note=live_note(fields.attrs))
        for key, plot in self._field_plots.items():
            plot.update(shown, clim if key in ("u", "u_ref") else None)
            title = _panel_title(key, plot.names, self._dims, self._generative)
            if preview and key != "u_ref":
                title += " (press Train)"
            if key == "error":
                if self._sample_dim:  # the sample's own error; the selector names it
                    rel = _relative_l2(shown)
                    title += f", this sample's rel L2 {rel:.3g}" if rel is not None else ""
                    metric = f"test set {metric}"  # the Run's metric is over all samples
                if metric_value(fields.attrs) is not None:
                    title += f", {metric}"
            plot.set_title(title)
        residual = self._field_plots.get("residual")
        if points is not None and residual is not None:
            residual.update_points(points)
            self._show_gaussians.visible = "gaussian" in points.dims
        if self._profile_plot is not None:
            self._profile_plot.update(shown, self._time.value)
        self._draw_traversal(fields)

    def _draw_gallery(self, fields: xr.Dataset) -> None:
        """A field generator's samples, all of them: there is no test sample to pick, and no
        truth to compare with, so the field plots give way to a gallery."""
        self._clear_field_plots()
        key = GalleryPlot.key(fields)
        if key != self._gallery_key:
            rows, samples, dims = key
            self._gallery_plot = GalleryPlot(rows, samples, dims)
            self._gallery_key = key
            self._gallery_panes = [pn.pane.Bokeh(f) for f in self._gallery_plot.figures]
            text = (
                f"**Generated samples**: {samples} samples from fixed noise, the same draws at "
                "every snapshot, so that one watches noise turn into fields"
            )
            if "residual" in rows:
                text += "; the last row is each sample's |PDE residual|"
            two_d = len(key[2]) == 2
            if two_d:  # the samples first, stacked a row per channel, beside the loss
                figures = pn.Column(*self._gallery_panes, margin=0)
                width = max(f.frame_width for f in self._gallery_plot.figures) + 90
            else:  # 1D: the loss on top, the channels' figures side by side below it
                figures = pn.Row(*self._gallery_panes)
                width = None
            sizing = {"width": width, "sizing_mode": None if two_d else "stretch_width"}
            self._gallery_metric.param.update(**sizing)
            self._gallery_box.param.update(**sizing)
            self._gallery_box.objects = [
                figures,
                self._gallery_metric,
                pn.pane.Markdown(text, styles={"font-size": "0.85em"}, **sizing),
            ]
            if two_d:
                self._top.objects = [self._gallery_box, self._loss_pane]
                self._gallery_slot.objects = []
                self._fit_loss(width + 20)
            else:
                self._top.objects = [self._loss_pane]
                self._gallery_slot.objects = [self._gallery_box]
                self._fit_loss(0)
        self._gallery_plot.update(fields)
        self._gallery_metric.object = (
            f"**{metric_text(fields.attrs, note=live_note(fields.attrs))}**: the "
            f"{metric_long_name(fields.attrs)} of all generated samples (not only these) from "
            "the test set"
            if metric_value(fields.attrs) is not None
            else ""
        )
        self._draw_traversal(fields)

    def _clear_gallery(self) -> None:
        if self._gallery_plot is not None:
            self._gallery_plot, self._gallery_key, self._gallery_panes = None, None, []
        if self._gallery_box.objects:
            self._gallery_box.objects = []
            self._gallery_slot.objects = []

    def _fit_loss(self, beside: int) -> None:
        """Narrow the loss figure to leave ``beside`` px of the top row to other plots."""
        self._loss_plot.figure.width = max(ROW_WIDTH - beside, 360)

    def _clear_field_plots(self) -> None:
        """Drop one instance's field plots (a field generator's samples replace them)."""
        if self._field_layout is not None:
            self._field_plots, self._field_layout, self._profile_plot = {}, None, None
            self._fields_box.objects = []
            self._top.objects = [self._loss_pane]
            self._fit_loss(0)
            self._bokeh_panes = [self._loss_pane, *self._diagnostics_panes]
        # Also before any field plot was built (a generator's first preview): the overlay
        # and sample widgets start visible.
        self._sample_dim = False
        self._sample.visible = self._show_points.visible = False
        self._show_gaussians.visible = False

    def _draw_traversal(self, fields: xr.Dataset) -> None:
        """The latent traversal of a generative model's fields; nothing for other fields."""
        if "traversal" not in fields.data_vars or "latent" not in fields.dims:
            if self._traversal_plot is not None:
                self._traversal_plot, self._traversal_key, self._traversal_panes = None, None, []
                self._traversal_box.objects = []
            return
        names = latent_names(fields)
        key = TraversalPlot.key(fields, names)
        if key != self._traversal_key:
            # Chosen once per plot: ranking again at every snapshot would rebuild the figures.
            self._traversal_positions = ranked_latents(fields)
            shown = [names[i] for i in self._traversal_positions]
            self._traversal_plot = TraversalPlot(shown, fields.sizes["offset"], key[2])
            self._traversal_key = key
            self._traversal_panes = [pn.pane.Bokeh(f) for f in self._traversal_plot.figures]
            text = (
                "**Latent traversal**: the first test sample decoded with one latent dim swept "
                "over the test encodings' spread (mean ± 2 std)"
            )
            if len(shown) < len(names):
                text += f"; the {len(shown)} of {len(names)} latent dims that vary most"
            self._traversal_box.objects = [
                pn.pane.Markdown(text, sizing_mode="stretch_width"),
                pn.FlexBox(*self._traversal_panes),
            ]
        self._traversal_plot.update(fields, self._traversal_positions)

    def _on_sample(self, event) -> None:
        if self._choosing_sample or self._choosing_component or self._fields is None:
            return
        self.draw_fields(self._fields, None)
        self.push()

    def _on_time(self, event) -> None:
        for plot in self._field_plots.values():
            plot.mark_time(event.new)
        if self._profile_plot is not None:
            self._profile_plot.update(self._one_sample(self._fields), event.new)
        self.push()

    def _on_show_points(self, event) -> None:
        if "residual" in self._field_plots:
            self._field_plots["residual"].show_points(event.new)
            self.push()

    def _on_show_gaussians(self, event) -> None:
        if "residual" in self._field_plots:
            self._field_plots["residual"].show_gaussians(event.new)
            self.push()

    def push(self) -> None:
        """Send the figures' changes to a notebook's page."""
        # In a notebook, changes made directly to Bokeh models travel only when pushed; on a
        # server the document syncs them by itself and this does nothing.
        pn.io.push_notebook(*self._bokeh_panes, *self._traversal_panes, *self._gallery_panes)


def _preview(problem, points: int) -> xr.Dataset:
    """Fields before training: the reference, and zeros where there is no model yet."""
    reference = problem.reference({d: points for d in problem.dims})
    # Zeros, not NaN: all-NaN images make Bokeh's colour mapping warn and draw nothing useful.
    blank = xr.zeros_like(reference)
    return xr.Dataset(
        {"u": blank, "u_ref": reference, "error": blank, "residual": blank}
    ).assign_attrs(l2re=np.nan, preview=1)


#: Legend labels and titles of a generative model's fields: its ``u`` reconstructs ``u_ref``.
GENERATIVE_LABELS = {"u": "reconstruction", "u_ref": "data"}


def _truths(setup: Setup) -> dict[str, float]:
    """The true values of the coefficients a set-up infers: the problem's own, when every
    observation is made from its reference (user-given data has no known truth)."""
    inferred = knobs(setup.method).get("infer") or {}
    data = [r for r in setup.regularizers if isinstance(r, Data)]
    if not inferred or not all(r.synthetic() for r in data):
        return {}
    return {name: float(getattr(setup.problem, name)) for name in inferred}


def _field_layout(fields: xr.Dataset) -> tuple:
    """``(dims, ((key, variables), ...), generative)``: the live field plots ``fields`` needs.

    ``fields`` has no ``sample`` dim (see ``LiveView._one_sample``). The input of an operator
    (named by the ``input`` attr) comes first; in 1D prediction and reference share a plot.
    ``generative``: the fields carry a latent ``traversal``, so ``u`` is a reconstruction of
    the data ``u_ref``.
    """
    generative = "traversal" in fields.data_vars
    present = [n for n in FIELD_TITLES if n in fields.data_vars]
    dims = tuple(fields[present[0]].dims) if present else ()
    name = fields.attrs.get("input")
    panels = [(name, (name,))] if name is not None and name in fields.data_vars else []
    if len(dims) == 1:
        solution = tuple(n for n in ("u", "u_ref") if n in present)
        panels += [("u", solution)] if solution else []
        panels += [(n, (n,)) for n in ("error", "residual") if n in present]
    else:
        panels += [(n, (n,)) for n in present]
    return dims, tuple(panels), generative


def _panel_title(key: str, variables, dims, generative: bool = False) -> str:
    if key not in FIELD_TITLES:
        return f"input {key}"
    words = GENERATIVE_LABELS if generative else FIELD_TITLES
    if key == "u" and len(dims) == 1 and len(variables) == 2:
        return f"{words['u']} vs {words['u_ref']}"
    return words.get(key, FIELD_TITLES[key])


def _relative_l2(fields: xr.Dataset) -> float | None:
    """One sample's relative L2 error: stored, or from ``u`` and ``u_ref``."""
    if "rel_l2" in fields.data_vars:
        value = float(fields["rel_l2"])
    elif "u" in fields.data_vars and "u_ref" in fields.data_vars:
        reference = float(np.sqrt(np.nansum(fields["u_ref"].values ** 2)))
        difference = float(np.sqrt(np.nansum((fields["u"] - fields["u_ref"]).values ** 2)))
        value = difference / reference if reference > 0 else np.nan
    else:
        return None
    return value if np.isfinite(value) else None
