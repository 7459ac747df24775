"""The Workbench: pick a PDE, a method, regularizers and a combiner, press Train, watch it learn.

One Panel ``Viewer`` serves three front ends: it renders inline in JupyterLab
(``Workbench()`` as a cell's value), as a served page (``workbench serve``), and as an
ipywidget (``pn.ipywidget(Workbench())``).

Data flow: widgets edit the Parameters of a :class:`~workbench.app.setup.Setup`; Train copies
it and hands it to a :class:`~workbench.app.live.LiveTraining` (a worker thread running
``train()``); a periodic callback on the event loop (every ``refresh_ms``) copies the thinned
loss history, the combiner's diagnostics and the latest coarse snapshot (with its collocation
points and any PIG Gaussians) into the Live tab's Bokeh figures (:mod:`workbench.app.plots`).
Each tick sends the full (thinned) state, not deltas: deltas streamed through the Jupyter comm
lose or duplicate rows, full state heals on the next tick. When the training ends the views
switch to the Run's full-resolution fields and the Run joins the Runs tab, drawn with the
pure views of :mod:`workbench.views`. The Sweeps tab (:mod:`workbench.app.sweeps`) trains
the current set-up at several values of one knob, in its own worker thread.

The data decides what is drawn, never the method's type: fields with a ``sample`` dim (an
operator's test samples) get a sample selector and a plot of the input function, and a Run
with ``/samples`` holding a test set with its truth (and ``/transfer``) gets result tabs: a
gallery of the test set, its error histogram (and the resolution transfer). Fields with a
``traversal`` (a latent generative model's) add a live latent traversal, and a Run with
``/latent`` gets tabs of its latent space (traversal, encodings, reconstructions and, for a
parameter family, extrapolation), ``/samples`` without a truth (prior draws) a Samples tab.
Fields holding a family's input and ``u`` on ``sample`` with neither a truth ``u_ref`` nor
latent draws ``z`` (a field generator's samples from fixed noise) are drawn as a live gallery
instead of one sample's fields, and such ``/samples`` get a Samples tab of their gallery, a
``/posterior`` a Posterior tab.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import panel as pn
import param
import torch
import xarray as xr

from workbench import views
from workbench.app.live import LiveTraining, Ticker, show_message
from workbench.app.plots import (
    DiagnosticsPlot,
    EstimatesPlot,
    FieldPlot,
    GalleryPlot,
    LossPlot,
    ProfilePlot,
    TraversalPlot,
)
from workbench.app.setup import Setup, from_query, parse_weights, to_query
from workbench.app.sweeps import SweepPanel
from workbench.combiners import COMBINERS
from workbench.methods import METHODS, Operator
from workbench.problems import PROBLEMS
from workbench.regularizers import REGULARIZERS, Data
from workbench.results import RUN_FILE, Run, knobs
from workbench.train import Training
from workbench.views.fields import FIELD_TITLES, SAMPLE_DIM, sample_labels, select_sample
from workbench.views.generation import generated_channels, posterior_channels
from workbench.views.latent import latent_names, parameters, ranked_latents

log = logging.getLogger(__name__)

#: Training knobs shown in the sidebar (``device`` is added when CUDA is present).
TRAINING_KNOBS = ["steps", "lr", "schedule", "ema", "lbfgs_steps", "seed", "compile"]

#: Loss-history points drawn at most; more only cost transfer time, not information.
MAX_PLOT_POINTS = 500

_FIELD_SIZE = dict(width=330, height=250)


class ServeLimits(param.Parameterized):
    """Caps for a public demo server, shared by all its sessions.

    The concurrency cap is the one piece of state sessions share; it lives in this object,
    which ``workbench serve`` creates once and hands to every session's Workbench.
    """

    max_steps = param.Integer(
        None, allow_None=True, bounds=(1, None), doc="Largest steps + lbfgs_steps per training."
    )
    max_points = param.Integer(
        None, allow_None=True, bounds=(1, None), doc="Largest number of points in a batch."
    )
    max_trainings = param.Integer(
        None, allow_None=True, bounds=(1, None), doc="Trainings running at once, all sessions."
    )
    allow_disk = param.Boolean(True, doc="Save runs to, and load runs from, the server's disk.")

    def __init__(self, **params):
        super().__init__(**params)
        self._slots = threading.BoundedSemaphore(self.max_trainings) if self.max_trainings else None

    def check(self, setup: Setup) -> None:
        """Raise ``ValueError`` if ``setup`` asks for more than the caps allow."""
        steps = setup.training.steps + setup.training.lbfgs_steps
        if self.max_steps is not None and steps > self.max_steps:
            raise ValueError(
                f"steps + lbfgs_steps = {steps} is over this server's cap of {self.max_steps}"
            )
        if self.max_points is not None and isinstance(setup.method, Operator):
            # An operator's cost is its dataset (generated by a solver), not a batch.
            method, problem = setup.method, setup.problem
            samples = method.n_train + method.n_test
            count = samples * method.data_resolution(problem) ** len(problem.family_dims)
            if count > self.max_points:
                raise ValueError(
                    f"a dataset of {count} grid values ({samples} samples) is over this "
                    f"server's cap of {self.max_points}; lower n_train / n_test / resolution"
                )
        elif self.max_points is not None:
            batch = next(setup.method.batches(setup.problem, torch.Generator().manual_seed(0)))
            # "S:v" keys are per-point values of a set, not more points.
            count = sum(len(points) for key, points in batch.items() if ":" not in key)
            if count > self.max_points:
                raise ValueError(
                    f"a batch of {count} collocation points is over this server's cap of "
                    f"{self.max_points}; lower n_interior / n_boundary / n_initial"
                )

    def acquire(self) -> bool:
        """Take a training slot; False when the server is at its concurrency cap."""
        return self._slots is None or self._slots.acquire(blocking=False)

    def release(self) -> None:
        if self._slots is not None:
            self._slots.release()


def _preview(problem, points: int) -> xr.Dataset:
    """Fields before training: the reference, and zeros where there is no model yet."""
    reference = problem.reference({d: points for d in problem.dims})
    # Zeros, not NaN: all-NaN images make Bokeh's colour mapping warn and draw nothing useful.
    blank = xr.zeros_like(reference)
    return xr.Dataset(
        {"u": blank, "u_ref": reference, "error": blank, "residual": blank}
    ).assign_attrs(l2re=np.nan, preview=1)


def _knob_panel(obj: param.Parameterized) -> pn.Param:
    """Widgets for an object's knobs: number boxes rather than sliders.

    Coefficients such as Burgers' nu = 0.01/pi need exact values, which a slider cannot type,
    and a slider cannot show "none" (e.g. ``n_interior=None``, meaning "the default size").
    """
    widgets = {}
    for name, p in obj.param.objects("existing").items():
        if isinstance(p, param.Integer):
            widgets[name] = pn.widgets.IntInput
        elif isinstance(p, param.Number):
            widgets[name] = pn.widgets.FloatInput
    return pn.Param(
        obj,
        parameters=list(knobs(obj)),
        widgets=widgets,
        show_name=False,
        sizing_mode="stretch_width",
    )


def _first_doc_line(obj) -> str:
    # Docstrings use reST roles (:math:`...`); Markdown shows their content as code.
    return (type(obj).__doc__ or "").strip().splitlines()[0].replace(":math:`", "`")


class Workbench(pn.viewable.Viewer):
    """Train physics-informed models from widgets and watch them learn, live.

    Parameters
    ----------
    setup : Setup, optional
        The starting choice (default: ``burgers1d`` with ``pinn``).
    limits : ServeLimits, optional
        Caps for public serving (none by default).
    **params
        ``refresh_ms``, ``snapshot_points``, ``runs_dir``.

    Examples
    --------
    In a notebook cell::

        import panel as pn
        from workbench.app import Workbench
        pn.extension(inline=True, notifications=True)
        Workbench()

    Scripts and tests drive it without a browser: ``wb.train()``, ``wb.wait()``.
    """

    limits = param.ClassSelector(class_=ServeLimits, doc="Caps for public serving.")
    refresh_ms = param.Integer(200, bounds=(50, 5000), doc="How often the views refresh (ms).")
    snapshot_points = param.Integer(
        48, bounds=(8, 256), doc="Grid points per dim of live snapshots (the Run uses all)."
    )
    runs_dir = param.String("workbench-runs", doc="Folder where Save writes runs.")

    def __init__(self, setup: Setup | None = None, **params):
        params.setdefault("limits", ServeLimits())
        super().__init__(**params)
        self.setup = setup or Setup(PROBLEMS["burgers1d"](), METHODS["pinn"](), [], Training())
        if setup is None:
            self.setup.training.steps = 2000  # a first run should finish while one watches
        self.live = LiveTraining(
            snapshot_interval=self.refresh_ms / 1000, on_finish=self._training_ended
        )
        self.runs: list[tuple[str, xr.DataTree]] = []
        self._holds_slot = False
        self._bokeh_panes: list[pn.pane.Bokeh] = []
        self._field_plots: dict[str, FieldPlot] = {}
        self._profile_plot = None
        self._fields: xr.Dataset | None = None
        self._sample_dim = False
        self._choosing_sample = False
        self._ticker = Ticker(self._tick, self.refresh_ms)
        self._shown_run = None
        self._rate = (time.perf_counter(), 0, 0.0)
        self._reg_objects = {name: cls() for name, cls in REGULARIZERS.items()}
        for reg in self.setup.regularizers:
            self._reg_objects[reg.name] = reg
        self._build_widgets()
        self._build_runs_tab()
        #: Sweeps of one knob from the current set-up (its own worker and refresh).
        self.sweeps = SweepPanel(
            lambda: self.setup.copy(), limits=self.limits, refresh_ms=self.refresh_ms
        )
        #: Live, Runs and Sweeps, then a tab per result view the last Run has data for.
        self.tabs = pn.Tabs(
            ("Live", self._live_views),
            ("Runs", self.runs_tab),
            ("Sweeps", self.sweeps),
            sizing_mode="stretch_width",
        )
        # The problem or method may have changed since the Sweeps tab was last seen.
        self.tabs.param.watch(self._on_tab, "active")
        self._show_problem()

    @classmethod
    def from_query(cls, query, **params) -> Workbench:
        """A Workbench set up from URL query parameters (see :mod:`workbench.app.setup`)."""
        return cls(from_query(query), **params)

    # --- widgets -----------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        setup = self.setup
        self._problem_select = pn.widgets.Select(
            label="Problem",
            options=list(PROBLEMS),
            value=setup.problem.name,
            sizing_mode="stretch_width",
        )
        self._problem_info = pn.pane.Markdown(sizing_mode="stretch_width", margin=(0, 10))
        self._problem_knobs = pn.Column(sizing_mode="stretch_width")
        self._method_select = pn.widgets.Select(label="Method", sizing_mode="stretch_width")
        self._method_knobs = pn.Column(sizing_mode="stretch_width")
        self._problem_select.param.watch(self._on_problem, "value")
        self._method_select.param.watch(self._on_method, "value")

        chosen = {r.name for r in setup.regularizers}
        self._reg_checks = {}
        reg_rows = []
        for name, reg in self._reg_objects.items():
            check = pn.widgets.Checkbox(
                label=f"{name}: {_first_doc_line(reg)}", value=name in chosen
            )
            check.param.watch(self._on_regularizers, "value")
            self._reg_checks[name] = check
            knob_panel = _knob_panel(reg)
            reg_rows += [check, knob_panel]
            reg.param.watch(self._on_knob, list(knobs(reg)))

        self._combiner_select = pn.widgets.Select(
            label="Combiner",
            options=list(COMBINERS),
            value=setup.combiner.name,
            sizing_mode="stretch_width",
        )
        self._combiner_info = pn.pane.Markdown(sizing_mode="stretch_width", margin=(0, 10))
        self._combiner_knobs = pn.Column(sizing_mode="stretch_width")
        self._combiner_select.param.watch(self._on_combiner, "value")
        self._show_combiner()
        self._weights_input = pn.widgets.TextInput(
            label="Term weights",
            value=", ".join(f"{k}={v:g}" for k, v in setup.weights.items()),
            placeholder="e.g. residual=1e-4, boundary=10 (default 1 each)",
            sizing_mode="stretch_width",
        )
        self._weights_input.param.watch(self._on_weights, "value")

        training_knobs = TRAINING_KNOBS + (["device"] if torch.cuda.is_available() else [])
        steps_cap = self.limits.max_steps
        self._training_knobs = pn.Param(
            setup.training,
            parameters=training_knobs,
            show_name=False,
            widgets={
                "steps": {"type": pn.widgets.IntInput, "start": 0, "end": steps_cap, "step": 500},
                "lr": {"type": pn.widgets.FloatInput, "start": 1e-6, "step": 1e-3},
                "ema": {"type": pn.widgets.FloatInput, "start": 0.0, "end": 0.9999, "step": 0.001},
                "lbfgs_steps": {
                    "type": pn.widgets.IntInput,
                    "start": 0,
                    "end": steps_cap,
                    "step": 100,
                },
                "seed": pn.widgets.IntInput,
            },
            sizing_mode="stretch_width",
        )
        setup.training.param.watch(self._on_knob, training_knobs)

        self._train_button = pn.widgets.Button(label="Train", color="primary", width=80)
        self._pause_button = pn.widgets.Button(label="Pause", width=80, disabled=True)
        self._step_button = pn.widgets.Button(label="Step", width=80)
        self._stop_button = pn.widgets.Button(label="Stop", width=80, disabled=True)
        self._reset_button = pn.widgets.Button(label="Reset", width=80)
        self._save_button = pn.widgets.Button(label="Save", width=80, disabled=True)
        # Callbacks only set flags or start the worker; drawing happens in the periodic tick.
        self._train_button.on_click(lambda event: self.train())
        self._pause_button.on_click(lambda event: self.pause())
        self._step_button.on_click(lambda event: self.step())
        self._stop_button.on_click(lambda event: self.stop())
        self._reset_button.on_click(lambda event: self.reset())
        self._save_button.on_click(lambda event: self.save())
        self._download = pn.widgets.FileDownload(
            callback=self._zip_run,
            filename="run.zip",
            label="Download run (.zip)",
            color="light",
            disabled=True,
            sizing_mode="stretch_width",
        )

        self._alert = pn.pane.Alert(
            "", alert_type="danger", visible=False, sizing_mode="stretch_width"
        )
        self._status = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["wb-status"])
        self._progress = pn.indicators.Progress(
            value=0, max=100, sizing_mode="stretch_width", height=14
        )
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
        self._sample = pn.widgets.Select(label="test sample", options=[], visible=False, width=140)
        self._sample.param.watch(self._on_sample, "value")
        self._live_views = pn.Column(sizing_mode="stretch_width")

        self.sidebar = pn.Column(
            self._alert,
            pn.pane.Markdown("### Problem"),
            self._problem_select,
            self._problem_info,
            self._problem_knobs,
            pn.pane.Markdown("### Method"),
            self._method_select,
            self._method_knobs,
            pn.pane.Markdown("### Regularizers"),
            *reg_rows,
            pn.pane.Markdown("### Loss combination"),
            self._combiner_select,
            self._combiner_info,
            self._combiner_knobs,
            self._weights_input,
            pn.pane.Markdown("### Training"),
            self._training_knobs,
            sizing_mode="stretch_width",
        )
        self.controls = pn.Column(
            pn.Row(self._train_button, self._pause_button, self._step_button),
            pn.Row(self._stop_button, self._reset_button, self._save_button),
            self._download,
            sizing_mode="stretch_width",
        )

    def _on_problem(self, event) -> None:
        self.setup.problem = PROBLEMS[event.new]()
        self._show_problem()
        self._sync_query()

    def _on_method(self, event) -> None:
        if event.new and event.new != self.setup.method.name:
            self.setup.method = METHODS[event.new]()
            self._show_method()
            self._sync_query()

    def _on_regularizers(self, event) -> None:
        self.setup.regularizers = [
            self._reg_objects[name] for name, check in self._reg_checks.items() if check.value
        ]
        self._sync_query()

    def _on_combiner(self, event) -> None:
        if event.new and event.new != self.setup.combiner.name:
            self.setup.combiner = COMBINERS[event.new]()
            self._show_combiner()
            self._sync_query()

    def _on_weights(self, event) -> None:
        try:
            self.setup.weights = parse_weights(event.new)
        except ValueError as err:
            self.notify(str(err))
            return
        self._sync_query()

    def _show_combiner(self) -> None:
        combiner = self.setup.combiner
        self._combiner_info.object = _first_doc_line(combiner)
        names = list(knobs(combiner))
        # The sum has no knobs; an empty Param panel would still draw a box.
        self._combiner_knobs.objects = [_knob_panel(combiner)] if names else []
        if names:
            combiner.param.watch(self._on_knob, names)

    def _on_knob(self, *events) -> None:
        if any(e.obj is self.setup.problem for e in events) and not self.live.active:
            self._draw_fields(_preview(self.setup.problem, self.snapshot_points), None)
            self._push()
        self._sync_query()

    def _show_problem(self) -> None:
        problem = self.setup.problem
        self._problem_info.object = _first_doc_line(problem)
        self._problem_knobs.objects = [_knob_panel(problem)]
        problem.param.watch(self._on_knob, list(knobs(problem)))
        supported = [n for n, cls in METHODS.items() if cls().supports(problem)]
        self._method_select.options = supported
        if self.setup.method.name not in supported:
            self.setup.method = METHODS[supported[0]]()
        self._method_select.value = self.setup.method.name
        self._show_method()
        if not self.live.active:
            self._build_live_views(problem)

    def _on_tab(self, event) -> None:
        names = self.tabs._names
        if 0 <= event.new < len(names) and names[event.new] == "Sweeps":
            self.sweeps.refresh()

    def _show_method(self) -> None:
        method = self.setup.method
        self._method_knobs.objects = [_knob_panel(method)]
        method.param.watch(self._on_knob, list(knobs(method)))

    # --- live views --------------------------------------------------------------------------
    def _build_live_views(self, problem) -> None:
        """Fresh live plots for ``problem``, showing its reference until training."""
        self._problem_name = problem.name
        self._loss_plot = LossPlot()
        self._diagnostics_plot = DiagnosticsPlot()
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
        self._top = pn.FlexBox(self._loss_pane)
        self._fields_box = pn.FlexBox()
        self._field_layout = None  # so that the preview below builds the field plots
        # Filled while the fields carry a latent traversal (a generative model's).
        self._traversal_box = pn.Column(sizing_mode="stretch_width")
        self._traversal_plot: TraversalPlot | None = None
        self._traversal_key = None
        self._traversal_positions: list[int] = []
        self._traversal_panes: list[pn.pane.Bokeh] = []
        # Filled while the fields are a field generator's samples, in place of the field plots.
        self._gallery_box = pn.Column(sizing_mode="stretch_width")
        self._gallery_plot: GalleryPlot | None = None
        self._gallery_key = None
        self._gallery_panes: list[pn.pane.Bokeh] = []
        self._live_views.objects = [
            self._status,
            self._progress,
            self._top,
            pn.Row(self._show_points, self._show_gaussians, self._sample),
            self._fields_box,
            self._gallery_box,
            self._traversal_box,
            pn.FlexBox(*self._diagnostics_panes),
        ]
        self._show_gaussians.visible = False  # until a snapshot brings Gaussians
        self._draw_fields(_preview(problem, self.snapshot_points), None)

    def _build_field_plots(self, layout: tuple, shown: xr.Dataset) -> None:
        """Field plots (and the profile for space-time data) for a :func:`_field_layout`."""
        dims, panels, generative = layout
        self._field_layout = layout
        self._dims = dims
        self._generative = generative
        self._space_time = len(dims) == 2 and "t" in dims
        legend = GENERATIVE_LABELS if generative else None
        self._field_plots = {
            key: FieldPlot(
                variables, dims, _panel_title(key, variables, dims, generative), legend=legend
            )
            for key, variables in panels
        }
        field_panes = [pn.pane.Bokeh(plot.figure) for plot in self._field_plots.values()]
        self._bokeh_panes = [self._loss_pane, *field_panes, *self._diagnostics_panes]
        self._profile_plot = ProfilePlot(dims) if self._space_time else None
        if self._space_time:
            t0, t1 = float(shown["t"].min()), float(shown["t"].max())
            self._time.param.update(start=t0, end=t1, step=(t1 - t0) / 100, value=(t0 + t1) / 2)
        top = [self._loss_pane]
        if self._profile_plot is not None:
            profile_pane = pn.pane.Bokeh(self._profile_plot.figure)
            self._bokeh_panes.append(profile_pane)
            top.append(pn.Column(self._time, profile_pane))
        self._top.objects = top
        self._fields_box.objects = field_panes
        for plot in self._field_plots.values():
            plot.mark_time(self._time.value)
        residual = self._field_plots.get("residual")
        # Collocation points and Gaussians belong to point-based methods, drawn on a residual.
        self._show_points.visible = residual is not None and not self._sample_dim
        if residual is not None:
            residual.show_points(self._show_points.value)
            residual.show_gaussians(self._show_gaussians.value)

    def _one_sample(self, fields: xr.Dataset) -> xr.Dataset:
        """``fields`` at the chosen sample when it has a ``sample`` dim (operator runs)."""
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

    def _draw_fields(self, fields: xr.Dataset, points: xr.Dataset | None) -> None:
        """Put a snapshot (or the Run's full fields) into the field plots."""
        self._fields = fields
        if generated_channels(fields):
            self._draw_gallery(fields)
            return
        self._clear_gallery()
        shown = self._one_sample(fields)
        layout = _field_layout(shown)
        if layout != self._field_layout:
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
        l2re = fields.attrs.get("l2re", np.nan)
        for key, plot in self._field_plots.items():
            plot.update(shown, clim if key in ("u", "u_ref") else None)
            title = _panel_title(key, plot.names, self._dims, self._generative)
            if preview and key != "u_ref":
                title += " (press Train)"
            if key == "error":
                if self._sample_dim:  # the sample's own error; the selector names it
                    rel = _relative_l2(shown)
                    title += f", rel L2 {rel:.2e}" if rel is not None else ""
                elif np.isfinite(l2re):
                    title += f", l2re {l2re:.2e}"
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
        if self._field_layout is not None:
            self._field_plots, self._field_layout, self._profile_plot = {}, None, None
            self._fields_box.objects = []
            self._top.objects = [self._loss_pane]
            self._bokeh_panes = [self._loss_pane, *self._diagnostics_panes]
            self._sample_dim = False
            self._sample.visible = self._show_points.visible = False
            self._show_gaussians.visible = False
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
            self._gallery_box.objects = [
                pn.pane.Markdown(text, sizing_mode="stretch_width"),
                pn.FlexBox(*self._gallery_panes),
            ]
        self._gallery_plot.update(fields)
        self._draw_traversal(fields)

    def _clear_gallery(self) -> None:
        if self._gallery_plot is not None:
            self._gallery_plot, self._gallery_key, self._gallery_panes = None, None, []
            self._gallery_box.objects = []

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
        if self._choosing_sample or self._fields is None:
            return
        self._draw_fields(self._fields, None)
        self._push()

    def _on_time(self, event) -> None:
        for plot in self._field_plots.values():
            plot.mark_time(event.new)
        if self._profile_plot is not None:
            self._profile_plot.update(self._one_sample(self._fields), event.new)
        self._push()

    def _on_show_points(self, event) -> None:
        if "residual" in self._field_plots:
            self._field_plots["residual"].show_points(event.new)
            self._push()

    def _on_show_gaussians(self, event) -> None:
        if "residual" in self._field_plots:
            self._field_plots["residual"].show_gaussians(event.new)
            self._push()

    def _push(self) -> None:
        # In a notebook, changes made directly to Bokeh models travel only when pushed; on a
        # server the document syncs them by itself and this does nothing.
        pn.io.push_notebook(*self._bokeh_panes, *self._traversal_panes, *self._gallery_panes)

    # --- actions (widget callbacks and the Python API) -----------------------------------------
    def train(self) -> None:
        """Start a new training from the current set-up, or resume a paused one."""
        if self.live.state == "paused":
            self.live.resume()
        elif not self.live.active:
            self._start(paused=False)
        self._ticker.start()

    def pause(self) -> None:
        """Pause after the current step (Train resumes, Step advances one step)."""
        self.live.pause()

    def step(self) -> None:
        """Take one step: of a paused training, or of a new one started paused."""
        if not self.live.active:
            if not self._start(paused=True):
                return
        self.live.step()
        self._ticker.start()

    def stop(self) -> None:
        """End the training; its Run is kept (status ``stopped``) and can be saved."""
        self.live.stop()

    def reset(self) -> None:
        """Stop any training and clear the live views (the Runs tab keeps its runs)."""
        self.live.reset()
        self._ticker.stop()
        self._shown_run = None
        self._show_results(None)
        self._alert.visible = False
        self._build_live_views(self.setup.problem)
        self.flush()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the training ends (for scripts and tests); returns the final state."""
        self.live.wait(timeout)
        self.flush()
        return self.live.state

    def shutdown(self) -> None:
        """Stop training and timers; called when a browser session closes."""
        self.live.stop(wait=True, timeout=30)
        self.sweeps.stop(wait=True, timeout=30)
        self._ticker.stop()

    def _start(self, paused: bool) -> bool:
        setup = self.setup.copy()
        try:
            self.limits.check(setup)
            if not self.limits.acquire():
                raise ValueError(
                    f"the server is running its maximum of {self.limits.max_trainings} "
                    "trainings; try again in a moment"
                )
            self._holds_slot = True
            try:
                settings = {
                    **knobs(setup.training),
                    "snapshot_points": self.snapshot_points,
                    "weights": setup.weights,
                }
                self.live.start(
                    setup.problem,
                    setup.method,
                    setup.regularizers,
                    combiner=setup.combiner,
                    paused=paused,
                    **settings,
                )
            except Exception:
                self._training_ended()
                raise
        except (ValueError, TypeError, RuntimeError) as err:
            self.notify(str(err))
            return False
        self._alert.visible = False
        self._shown_run = None
        self._show_results(None)
        self._rate = (time.perf_counter(), 0, 0.0)
        if setup.problem.name != self._problem_name:  # switched while the last one trained
            self._build_live_views(setup.problem)
        else:  # same kind of plots: reuse them, so the page need not build new ones
            self._loss_plot.clear()
            self._diagnostics_plot.clear()
            self._estimates_plot.clear()
            # The last training's points and Gaussians would sit on this one's preview.
            if "residual" in self._field_plots:
                self._field_plots["residual"].update_points(None)
            self._show_gaussians.visible = False  # a rebuild above starts hidden too
            self._draw_fields(_preview(setup.problem, self.snapshot_points), None)
        self._estimates_plot.set_truths(_truths(setup))
        self._device = (
            "cuda" if setup.training.device != "cpu" and torch.cuda.is_available() else "cpu"
        )
        return True

    def _training_ended(self) -> None:
        if self._holds_slot:
            self._holds_slot = False
            self.limits.release()

    def notify(self, message: str, level: str = "error") -> None:
        """Show a message in the page (a toast where Panel has notifications, and the sidebar)."""
        show_message(self._alert, message, level)

    # --- the UI tick -----------------------------------------------------------------------------
    def _tick(self) -> None:
        finished = not self.live.active
        self.flush()
        if finished:  # the worker had ended before this flush, so it drew the final state
            self._ticker.stop()

    def flush(self) -> None:
        """Copy what the worker produced into the views (runs on the event-loop thread)."""
        live = self.live
        columns = live.history(MAX_PLOT_POINTS)
        if columns:
            self._loss_plot.update(columns)
        diagnostics = live.diagnostics(MAX_PLOT_POINTS)
        if diagnostics:
            self._diagnostics_plot.update(diagnostics)
        learned = live.estimates(MAX_PLOT_POINTS)
        if learned:
            self._estimates_plot.update(learned)
        snapshot = live.take_snapshot()
        run = live.run
        if run is not None and run is not self._shown_run:
            self._shown_run = run
            tree = run.tree
            # A Run need not have /points (operators have no collocation points).
            points = tree["points"].to_dataset() if "points" in tree.children else None
            self._draw_fields(run.fields, points)  # the final state on the full grid
            self._add_run(run)
            self._show_results(tree)
            if run.status == "diverged":
                self.notify(run.attrs["message"] + "; the last good state is kept", "warning")
        elif snapshot is not None:
            self._draw_fields(*snapshot)
        if live.state == "failed" and not self._alert.visible:
            self.notify(live.message)
        self._update_status()
        self._push()

    def _update_status(self) -> None:
        live = self.live
        state, step, total = live.state, live.step_count, live.total_steps
        now = time.perf_counter()
        then, last_step, rate = self._rate
        if now - then >= 0.5:
            fresh = (step - last_step) / (now - then)
            rate = fresh if state == "training" else 0.0
            self._rate = (now, step, rate)
        l2re = live.l2re
        parts = [
            f'<b>step <span class="wb-step">{step}</span></b>' + (f" / {total}" if total else ""),
            f"{rate:.0f} steps/s",
            f"l2re {l2re:.3e}" if l2re is not None else "l2re -",
            getattr(self, "_device", "cuda" if torch.cuda.is_available() else "cpu"),
            f'<span class="wb-state">{state}</span>',
        ]
        self._status.object = " &nbsp;|&nbsp; ".join(parts)
        self._progress.value = int(100 * min(step / total, 1.0)) if total else 0
        active = live.active
        self._train_button.disabled = state == "training"
        self._pause_button.disabled = state != "training"
        self._step_button.disabled = state == "training"
        self._stop_button.disabled = not active
        self._save_button.disabled = live.run is None or not self.limits.allow_disk
        self._download.disabled = live.run is None

    # --- runs ----------------------------------------------------------------------------------
    def _build_runs_tab(self) -> None:
        self._runs_table = pn.pane.DataFrame(None, index=False, sizing_mode="stretch_width")
        self._compare_a = pn.widgets.Select(label="Run A", options=[])
        self._compare_b = pn.widgets.Select(label="Run B", options=[])
        self._upload = pn.widgets.FileInput(accept=".nc,.zip", multiple=False)
        self._upload.param.watch(self._on_upload, "value")
        self._load_path = pn.widgets.TextInput(placeholder="folder of a saved run", width=300)
        load_button = pn.widgets.Button(label="Load", width=80)
        load_button.on_click(lambda event: self.load(self._load_path.value))
        loaders = [
            pn.pane.Markdown("Load a saved run: upload its `run.nc` or `.zip`"),
            self._upload,
        ]
        if self.limits.allow_disk:
            loaders += [pn.Row(self._load_path, load_button)]
        self.runs_tab = pn.Column(
            self._runs_table,
            pn.Row(*loaders),
            pn.Row(self._compare_a, self._compare_b),
            pn.bind(self._compare, self._compare_a, self._compare_b),
            sizing_mode="stretch_width",
        )

    def _show_results(self, tree: xr.DataTree | None) -> None:
        """Result tabs for the groups ``tree`` holds (none for ``None``), replacing the last."""
        tabs = _result_tabs(tree) if tree is not None else {}
        shown = {*RESULT_TABS, *LATENT_TABS, *GENERATOR_TABS, *INVERSE_TABS}
        kept = [(n, o) for n, o in zip(self.tabs._names, self.tabs.objects) if n not in shown]
        if len(kept) == len(self.tabs) and not tabs:
            return  # nothing shown, nothing to show: leave the page alone
        self.tabs[:] = kept + list(tabs.items())

    def _add_run(self, run: Run | xr.DataTree, label: str | None = None) -> None:
        tree = run.tree if isinstance(run, Run) else run
        a = tree.attrs
        label = label or f"#{len(self.runs) + 1} {a.get('method', '?')} on {a.get('problem', '?')}"
        self.runs.append((label, tree))
        rows = []
        for name, t in self.runs:
            at = t.attrs
            rows.append(
                {
                    "run": name,
                    "status": at.get("status", ""),
                    "steps": at.get("steps", ""),
                    "l2re": f"{float(at.get('l2re', np.nan)):.3e}",
                    "wall s": f"{float(at.get('wall_s', np.nan)):.1f}",
                    "problem knobs": at.get("problem_params", ""),
                    "method knobs": at.get("method_params", ""),
                    "regularizers": at.get("regularizers", ""),
                    "combiner": _combiner_text(at.get("combiner", "")),
                }
            )
        import pandas as pd

        self._runs_table.object = pd.DataFrame(rows)
        labels = [name for name, _ in self.runs]
        previous_a = self._compare_a.value
        self._compare_a.options = labels
        self._compare_b.options = labels
        self._compare_a.value = previous_a if previous_a in labels else labels[0]
        self._compare_b.value = labels[-1]

    def _compare(self, a: str | None, b: str | None):
        trees = dict(self.runs)
        chosen = [(n, trees[n]) for n in (a, b) if n in trees]
        if not chosen:
            return pn.pane.Markdown("Finished runs appear here; pick two to compare.")
        columns = []
        for name, tree in chosen:
            history_ds = tree["history"].to_dataset()
            history = views.history(history_ds).opts(title=f"{name}: loss", width=480, height=280)
            fields = tree["fields"].to_dataset()
            # A field generator's fields are samples without a truth: their residual, or u.
            shown = next(n for n in ("error", "residual", "u") if n in fields.data_vars)
            error = fields[shown]
            l2re = float(tree.attrs.get("l2re", np.nan))
            title = f"{name}: {shown} (l2re {l2re:.2e})"
            if SAMPLE_DIM in error.dims:  # an operator run's first test sample, or a sample
                first = sample_labels(error)[0].item()
                error = select_sample(error, first)
                which = "generated sample" if generated_channels(fields) else "test sample"
                title = f"{name}: {shown} of {which} {first} (l2re {l2re:.2e})"
            panes = [
                pn.pane.HoloViews(history),
                pn.pane.HoloViews(views.field(error, title=title).opts(width=480, height=300)),
            ]
            diagnostics = views.diagnostics(history_ds)
            if len(diagnostics):
                panes.append(pn.pane.HoloViews(diagnostics.cols(1)))
            columns.append(pn.Column(*panes))
        return pn.Row(*columns)

    def save(self, directory: str | Path | None = None) -> Path | None:
        """Save the finished Run (run.nc, weights, report.html) under ``runs_dir``."""
        run = self.live.run
        if run is None:
            self.notify("nothing to save yet: train (and stop) first", "warning")
            return None
        if directory is None:
            base = Path(self.runs_dir) / f"{run.problem.name}-{run.method.name}"
            n = 1
            while Path(f"{base}-{n}").exists():
                n += 1
            directory = Path(f"{base}-{n}")
        try:
            run.save(directory)
            views.report(run.tree, Path(directory) / "report.html")
        except OSError as err:
            self.notify(f"could not save to {directory}: {err}")
            return None
        self.notify(f"saved to {directory}", "success")
        return Path(directory)

    def _zip_run(self):
        run = self.live.run
        if run is None:
            return None
        with tempfile.TemporaryDirectory() as folder:
            run.save(folder)
            views.report(run.tree, Path(folder) / "report.html")
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(Path(folder).iterdir()):
                    archive.write(path, path.name)
        buffer.seek(0)
        return buffer

    def load(self, directory: str | Path) -> None:
        """Add a saved Run (a folder written by ``Run.save``) to the Runs tab."""
        if not self.limits.allow_disk:
            self.notify("this server does not read runs from its disk; upload run.nc instead")
            return
        try:
            run = Run.load(directory)
        except (OSError, ValueError) as err:
            self.notify(str(err))
            return
        self._add_run(run, label=f"#{len(self.runs) + 1} {Path(directory).name}")

    def _on_upload(self, event) -> None:
        if not event.new:
            return
        name = self._upload.filename or "upload"
        try:
            tree = _read_uploaded(name, event.new)
        except ValueError as err:
            self.notify(str(err))
            return
        self._add_run(tree, label=f"#{len(self.runs) + 1} {name}")

    # --- layout ------------------------------------------------------------------------------
    def _sync_query(self) -> None:
        location = pn.state.location
        if location is None or pn.state.curdoc is None or pn.state.curdoc.session_context is None:
            return  # only a served page has a URL worth updating
        from urllib.parse import urlencode

        location.search = "?" + urlencode(to_query(self.setup))

    def __panel__(self):
        sidebar = pn.Column(self.controls, self.sidebar, width=340)
        self.flush()
        return pn.Row(sidebar, self.tabs, sizing_mode="stretch_width")

    def template(self) -> pn.template.FastListTemplate:
        """The served page: sidebar of choices and controls, tabs of views."""
        self.flush()
        return pn.template.FastListTemplate(
            title="workbench: physics-informed ML, live",
            sidebar=[self.controls, self.sidebar],
            main=[self.tabs],
            sidebar_width=360,
            accent="#1f6f8b",
        )


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

    ``fields`` has no ``sample`` dim (see ``Workbench._one_sample``). The input of an operator
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


#: Titles of the result tabs, in order; each appears when the Run holds its data.
RESULT_TABS = ("Gallery", "Error histogram", "Resolution transfer")

#: Titles of the result tabs of latent generative models (a Run with ``/latent``, and
#: ``/samples`` of prior draws), after :data:`RESULT_TABS`; each appears when its data does.
LATENT_TABS = ("Latent traversal", "Latent space", "Reconstructions", "Extrapolation", "Samples")

#: Titles of the result tabs of field generators: ``/samples`` holding a family's input and
#: ``u`` (no truth ``u_ref``, no latent draws ``z``), and ``/posterior``.
GENERATOR_TABS = ("Samples", "Posterior")

#: Title of the result tab of an inverse problem: ``/history`` holding learned coefficients.
INVERSE_TABS = ("Estimates",)


def _group(tree: xr.DataTree, name: str) -> xr.Dataset | None:
    if name not in tree.children:
        return None
    ds = tree[name].to_dataset()
    return ds if SAMPLE_DIM in ds.dims and ds.data_vars else None


def _result_tabs(tree: xr.DataTree) -> dict[str, pn.viewable.Viewable]:
    """The result tabs a finished Run has data for, by title (see :data:`RESULT_TABS`,
    :data:`LATENT_TABS`, :data:`GENERATOR_TABS` and :data:`INVERSE_TABS`)."""
    samples, transfer = _group(tree, "samples"), _group(tree, "transfer")
    tabs = {}
    # An operator's test set holds the truth (u_ref); a generative model's samples do not.
    if samples is not None and "u_ref" in samples.data_vars:
        tabs.update(_operator_tabs(samples, transfer))
    tabs.update(_latent_tabs(tree))
    if samples is not None and generated_channels(samples):
        # A field generator's: the family's input and u, each sample's residual.
        tabs["Samples"] = pn.pane.HoloViews(views.sample_gallery(samples))
    elif samples is not None and "u" in samples.data_vars and "u_ref" not in samples.data_vars:
        tabs["Samples"] = pn.pane.HoloViews(views.samples(samples))
    posterior = _group(tree, "posterior")
    if posterior is not None and posterior_channels(posterior):
        tabs["Posterior"] = _posterior_tab(posterior)
    if "history" in tree.children:
        learned = views.estimates(tree["history"].to_dataset())
        if len(learned):  # coefficients of an inverse problem, against their truth
            tabs["Estimates"] = pn.pane.HoloViews(learned.cols(2))
    return tabs


def _posterior_tab(posterior: xr.Dataset) -> pn.Column:
    """The inverse problem's summary (truth, mean, std, error) over its posterior samples."""
    panes = [pn.pane.HoloViews(views.posterior_summary(posterior))]
    if generated_channels(posterior):
        panes.append(pn.pane.HoloViews(views.posterior_gallery(posterior)))
    return pn.Column(*panes, sizing_mode="stretch_width")


def _operator_tabs(samples: xr.Dataset, transfer: xr.Dataset | None) -> dict:
    """Gallery, error histogram and resolution transfer of an operator's test set."""
    tabs = {}
    # The views' sample slider is lazy: one sample is drawn at a time, whatever the test size.
    tabs["Gallery"] = pn.panel(views.gallery(samples), widget_location="top")
    if "rel_l2" in samples.data_vars:
        with_rel = transfer if transfer is not None and "rel_l2" in transfer.data_vars else None
        tabs["Error histogram"] = pn.pane.HoloViews(views.error_histogram(samples, with_rel))
    if transfer is not None:
        try:
            transferred = views.resolution_transfer(samples, transfer)
        except ValueError as err:  # no sample in common: say so instead of no tab
            tabs["Resolution transfer"] = pn.pane.Markdown(f"Cannot compare: {err}.")
        else:
            tabs["Resolution transfer"] = pn.panel(transferred, widget_location="top")
    return tabs


def _latent_tabs(tree: xr.DataTree) -> dict[str, pn.viewable.Viewable]:
    """The tabs of a Run's ``/latent`` (and its fields' reconstructions), by title."""
    if "latent" not in tree.children:
        return {}
    latent = tree["latent"].to_dataset()
    tabs: dict[str, pn.viewable.Viewable] = {}
    if "traversal" in latent.data_vars:
        tabs["Latent traversal"] = pn.pane.HoloViews(views.traversal_grid(latent))
    if "z_mean" in latent.data_vars:
        tabs["Latent space"] = _latent_space(latent)
    fields = tree["fields"].to_dataset() if "fields" in tree.children else None
    if fields is not None and SAMPLE_DIM in fields.dims and {"u", "u_ref"} <= set(fields):
        tabs["Reconstructions"] = pn.panel(views.reconstructions(fields), widget_location="top")
    if "ood_u" in latent.data_vars and "ood_recon" in latent.data_vars:
        tabs["Extrapolation"] = pn.pane.HoloViews(views.extrapolation(latent))
    return tabs


def _latent_space(latent: xr.Dataset) -> pn.Column:
    """Encodings coloured by a parameter, a latent against its parameter, the spectrum."""
    names = latent_names(latent)
    known = parameters(latent)
    colours = known + (["rel_l2"] if "rel_l2" in latent.data_vars else [])
    ranked = sorted(np.argsort(-latent["z_mean"].std(SAMPLE_DIM).values, kind="stable")[:2])
    colour = pn.widgets.Select(label="colour by / parameter", options=colours, width=180)
    x = pn.widgets.Select(label="x latent", options=names, value=names[ranked[0]], width=110)
    y = pn.widgets.Select(
        label="y latent", options=names, value=names[ranked[-1]], width=110, visible=len(names) > 1
    )
    auto = "most correlated"
    parity_latent = pn.widgets.Select(
        label="latent against the parameter",
        options=[auto, *names],
        value=auto,
        width=200,
        visible=bool(known),
    )

    def scatter(colour, x, y):
        try:
            return pn.pane.HoloViews(views.latent_scatter(latent, colour, x, y))
        except ValueError as err:
            return pn.pane.Markdown(f"No scatter: {err}.")

    def parity(colour, chosen):
        if not known:
            return pn.pane.Markdown("No true parameters to compare with: a function family.")
        parameter = colour if colour in known else known[0]
        latent_dim = None if chosen == auto else chosen
        return pn.pane.HoloViews(views.latent_parity(latent, parameter, latent_dim))

    return pn.Column(
        pn.Row(colour, x, y, parity_latent),
        pn.FlexBox(
            pn.panel(pn.bind(scatter, colour, x, y)),
            pn.panel(pn.bind(parity, colour, parity_latent)),
            pn.pane.HoloViews(views.latent_spectrum(latent)),
        ),
        sizing_mode="stretch_width",
    )


def _combiner_text(stored: str) -> str:
    """A Run's ``combiner`` attr (JSON) as ``name`` or ``name {knobs}`` for the Runs table."""
    try:
        spec = json.loads(stored)
        name, params = spec["name"], spec.get("params") or {}
    except (ValueError, TypeError, KeyError):
        return str(stored)  # a Run from before combiners, or an odd file: show it as it is
    return f"{name} {json.dumps(params, sort_keys=True)}" if params else str(name)


def _read_uploaded(name: str, data: bytes) -> xr.DataTree:
    """The DataTree of an uploaded ``run.nc`` or a ``.zip`` holding one."""
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = archive.read(RUN_FILE)
        with xr.open_datatree(io.BytesIO(data), engine="h5netcdf") as stored:
            tree = stored.load().copy()
    except Exception as err:
        raise ValueError(f"cannot read {name!r} as a saved run: {err}") from None
    for group in ("history", "fields"):
        if group not in tree.children:
            raise ValueError(f"{name!r} is not a workbench run: it has no /{group} group")
    return tree
