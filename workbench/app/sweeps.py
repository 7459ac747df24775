"""The Sweeps tab: sweep one knob (and seeds) from the Workbench's set-up, watch it fill in.

A sweep here is :class:`workbench.sweep.Sweep` run from the current set-up: one knob takes a
few values, each repeated over a few seeds, and every point is a full training. The points run
in a background thread, one after another in this process (``workers=0``) or on a Dask
``LocalCluster`` of worker processes. The live pattern is the Workbench's own
(:mod:`workbench.app.live`): the thread only stores the newest
:class:`~workbench.sweep.SweepProgress` under a lock, and a periodic callback on the event
loop calls :meth:`SweepPanel.flush`, which redraws the plot, the status line and the point
picker. No Bokeh or HoloViews object is touched off the loop thread.

Bad input (a value that is not the knob's type, out of its bounds, none at all, too many
points, a set-up over the server's caps) is reported before anything starts.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import numpy as np
import panel as pn
import param
import xarray as xr

from workbench.app.limits import ServeLimits
from workbench.app.live import Ticker, show_message
from workbench.app.setup import Setup
from workbench.results import describe_bounds, knobs, parse_knob
from workbench.sweep import FINISHED, Sweep, SweepProgress, resolve_knob
from workbench.train import Training
from workbench.views.sweeps import SEED_DIM, sweep_plot, sweep_point

log = logging.getLogger(__name__)

#: Training knobs offered for a sweep. The seed has its own box; device, threads and the
#: snapshot/evaluation cadence change how a point runs, not what it learns.
SWEEP_TRAINING_KNOBS = ("steps", "lr", "schedule", "lr_final", "ema", "lbfgs_steps", "dtype")

#: Metrics the plot can show (variables of every sweep's Dataset).
METRICS = ("l2re", "loss", "wall_s")


def metric_options(method) -> dict[str, str]:
    """The plot's metric choices ``{shown name: variable}`` for a sweep of ``method``.

    The headline metric is stored as ``l2re`` whatever it is; it is offered under its own
    name (``l2re``, ``energy distance`` for field generators).
    """
    return {method.metric.label: "l2re", "final loss": "loss", "wall time (s)": "wall_s"}


#: Every state a SweepPanel can be in; the last three are final.
STATES = ("idle", "running", "stopping", "done", "stopped", "failed")


def _format(value) -> str:
    """A value as text that parses back to the same value (short when that is exact)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        short = f"{value:.6g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _allowed(p: param.Parameter, value) -> bool:
    try:
        p._validate(value)
    except (ValueError, TypeError):
        return False
    return True


def guess_values(p: param.Parameter, current) -> str:
    """A first guess of values to sweep around ``current``, as comma-separated text.

    Numbers: half, the value and twice it (within the knob's bounds); booleans: both;
    selectors: every choice.
    """
    if isinstance(p, param.Boolean):
        return "false, true"
    if isinstance(p, param.Selector):
        return ", ".join(map(str, p.objects))
    if current is None:
        return "none"
    if isinstance(p, param.Number):
        integer = isinstance(p, param.Integer)
        if current == 0:  # scaling zero gives zero: try the next decades instead
            candidates = [0, 10, 100] if integer else [0.0, 0.1, 1.0]
        else:
            candidates = [current / 2, current, current * 2]
            if integer:
                candidates = [int(round(c)) for c in candidates]
        chosen = []
        for value in candidates:
            if value not in chosen and _allowed(p, value):
                chosen.append(value)
        return ", ".join(map(_format, chosen or [current]))
    return _format(current)


def parse_value(key: str, p: param.Parameter, text: str):
    """Text as a value of the knob ``p``, or ``ValueError`` naming ``key`` and what is allowed."""
    allowed = describe_bounds(p)
    try:
        value = parse_knob(p, text)
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not a valid value; allowed: {allowed}") from None
    if not _allowed(p, value):
        raise ValueError(f"{key}: {text} is out of bounds; allowed: {allowed}")
    return value


def parse_values(key: str, p: param.Parameter, text: str) -> list:
    """Comma-separated text as a list of distinct values of the knob ``p``."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError(f"{key}: give at least one value, separated by commas (e.g. 1, 2, 4)")
    values = [parse_value(key, p, item) for item in items]
    if len(set(map(repr, values))) < len(values):
        raise ValueError(f"{key}: a value is given twice: {', '.join(items)}")
    return values


def _part(setup: Setup, owner: str) -> param.Parameterized:
    """The object of ``setup`` that holds the knobs of ``owner`` (as named by resolve_knob)."""
    if owner in ("problem", "method", "training", "combiner"):
        return getattr(setup, owner)
    return next(r for r in setup.regularizers if r.name == owner)


def sweepable_knobs(setup: Setup) -> dict[str, str]:
    """The knobs of ``setup`` a sweep can vary: ``{label: key}`` with keys ``owner.name``.

    Numbers, booleans and selectors of the problem, the method, the training (see
    :data:`SWEEP_TRAINING_KNOBS`), the chosen regularizers and the combiner.
    """
    parts = [("problem", setup.problem), ("method", setup.method), ("training", setup.training)]
    parts += [(r.name, r) for r in setup.regularizers] + [("combiner", setup.combiner)]
    found = {}
    for owner, obj in parts:
        for name in knobs(obj):
            if owner == "training" and name not in SWEEP_TRAINING_KNOBS:
                continue
            if isinstance(obj.param[name], (param.Number, param.Boolean, param.Selector)):
                found[f"{name} ({owner})"] = f"{owner}.{name}"
    return found


def _point_label(point: dict) -> str:
    return ", ".join(f"{d}={_format(v)}" for d, v in point.items())


class SweepPanel(pn.viewable.Viewer):
    """Sweep one knob of the current set-up over a few values and seeds, drawn as it fills in.

    Parameters
    ----------
    setup : callable
        Returns the set-up to sweep from: a fresh :class:`~workbench.app.setup.Setup` the sweep
        may keep (the Workbench passes a copy of its own).
    limits : ServeLimits, optional
        The server's caps: every point's set-up is checked against them, and a sweep takes
        one of its training slots while it runs.
    **params
        ``refresh_ms``, ``max_points``.

    Examples
    --------
    Without a browser (scripts, tests)::

        panel = SweepPanel(lambda: setup.copy())
        panel.knob.value = "problem.beta"
        panel.values.value = "1, 10"
        panel.workers.value = 0           # one after another, in this process
        panel.start()
        panel.wait()                      # "done"
        panel.result                      # the sweep's Dataset
    """

    refresh_ms = param.Integer(200, bounds=(50, 5000), doc="How often the views refresh (ms).")
    max_points = param.Integer(64, bounds=(1, None), doc="Most points one sweep may have.")

    def __init__(
        self,
        setup: Callable[[], Setup],
        limits: ServeLimits | None = None,
        **params,
    ):
        super().__init__(**params)
        self._setup = setup
        self._limits = limits
        self._lock = threading.Lock()
        self._stop_wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._holds_slot = False
        self._ticker = Ticker(self._tick, self.refresh_ms)
        self._record: SweepProgress | None = None
        self._version = 0  # bumped by the worker per record; flush draws each version once
        self._drawn_version = 0
        self._state = "idle"
        self._shown_state = "idle"  # the state the last flush drew
        self._metric = None  # what the sweep's l2re measures (its method's Metric)
        self._message = ""
        self._reported = ""
        #: The sweep's Dataset as last drawn (None before the first sweep).
        self.result: xr.Dataset | None = None
        self._points: dict[str, dict] = {}
        self._build()
        self.refresh()

    # --- widgets -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.knob = pn.widgets.Select(label="Knob to sweep", width=220)
        self.values = pn.widgets.TextInput(
            label="Values (comma-separated)", placeholder="e.g. 1, 10, 30", width=260
        )
        self.seeds = pn.widgets.TextInput(
            label="Seeds", value="0", placeholder="e.g. 0, 1, 2", width=120
        )
        cores = os.cpu_count() or 1
        self.workers = pn.widgets.IntInput(
            label="Workers (0: here, one by one)",
            value=min(2, cores),
            start=0,
            end=cores,
            width=200,
        )
        self.metric = pn.widgets.Select(
            label="Metric", options=metric_options(self._setup().method), width=160
        )
        self._run_button = pn.widgets.Button(label="Run sweep", color="primary", width=110)
        self._stop_button = pn.widgets.Button(label="Stop", width=80, disabled=True)
        self._refresh_button = pn.widgets.Button(
            label="Refresh knobs", width=120, description="Read the knobs of the set-up again"
        )
        # Callbacks only start the worker or set a flag; drawing happens in the periodic tick.
        self._run_button.on_click(lambda event: self.start())
        self._stop_button.on_click(lambda event: self.stop())
        self._refresh_button.on_click(lambda event: self.refresh())
        self.knob.param.watch(self._on_knob, "value")
        self.metric.param.watch(lambda event: self._draw_plot(), "value")
        self._alert = pn.pane.Alert(
            "", alert_type="danger", visible=False, sizing_mode="stretch_width"
        )
        self._status = pn.pane.Markdown("No sweep yet.", sizing_mode="stretch_width")
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width")
        self.point = pn.widgets.Select(label="Point", options=[], width=320)
        self.point.param.watch(lambda event: self._draw_point(), "value")
        self._point_fields = pn.pane.HoloViews(None, sizing_mode="stretch_width")
        self._layout = pn.Column(
            pn.pane.Markdown(
                "Train the current set-up at every value of one knob (and every seed); the "
                "plot fills in as points finish.",
                sizing_mode="stretch_width",
            ),
            pn.Row(self.knob, self.values, self.seeds),
            pn.Row(self.workers, self.metric),
            pn.Row(self._run_button, self._stop_button, self._refresh_button),
            self._alert,
            self._status,
            self._plot,
            self.point,
            self._point_fields,
            sizing_mode="stretch_width",
        )

    def refresh(self) -> None:
        """Offer the knobs of the current set-up (after its problem or method changed)."""
        setup = self._setup()
        if not self.active:  # a running sweep's plot keeps its method's metric names
            self.metric.options = metric_options(setup.method)
        options = sweepable_knobs(setup)
        previous = self.knob.value
        self.knob.options = options
        if previous in options.values():
            self.knob.value = previous
        elif options:
            # Setting options may already have moved the value (and guessed); say it anyway.
            self.knob.value = next(iter(options.values()))
            self._guess()

    def _on_knob(self, event) -> None:
        self._guess()

    def _guess(self) -> None:
        key = self.knob.value
        if key is None:
            return
        setup = self._setup()
        owner, name = key.split(".", 1)
        part = _part(setup, owner)
        self.values.value = guess_values(part.param[name], getattr(part, name))

    # --- the plan ----------------------------------------------------------------------------
    def grid(self, setup: Setup | None = None) -> dict[str, list]:
        """The grid the widgets describe, checked against the set-up and the caps.

        Returns
        -------
        dict
            ``{knob key: values, "seed": seeds}``.

        Raises
        ------
        ValueError
            Naming the knob at fault: no knob chosen, a value that is not the knob's type or
            out of its bounds, no values, too many points, or a point over the server's caps.
        """
        setup = setup or self._setup()
        key = self.knob.value
        if not key:
            raise ValueError("pick a knob to sweep")
        try:
            owner, name = resolve_knob(
                key, setup.problem, setup.method, setup.regularizers, setup.combiner
            )
        except ValueError as err:
            raise ValueError(f"{err} (the set-up changed: press Refresh knobs)") from None
        part = _part(setup, owner)
        values = parse_values(key, part.param[name], self.values.value)
        seeds = parse_values("seeds", Training.param.seed, self.seeds.value)
        count = len(values) * len(seeds)
        if count > self.max_points:
            raise ValueError(
                f"{len(values)} values x {len(seeds)} seeds = {count} points, over the cap of "
                f"{self.max_points}; give fewer values or seeds"
            )
        if self._limits is not None:
            self._limits.check(setup)
            # A swept knob can raise steps or batch size above the caps the base respects.
            original = getattr(part, name)
            try:
                for value in values:
                    setattr(part, name, value)
                    try:
                        self._limits.check(setup)
                    except ValueError as err:
                        raise ValueError(f"{key}={_format(value)}: {err}") from None
            finally:
                setattr(part, name, original)
        return {key: values, SEED_DIM: seeds}

    # --- actions (widget callbacks and the Python API) -------------------------------------------
    def start(self) -> bool:
        """Check the input and start the sweep in the background.

        Returns
        -------
        bool
            False when the input was refused (the reason is shown in the panel) or a sweep is
            already running.
        """
        if self.active:
            self.notify("a sweep is already running: stop it first")
            return False
        setup = self._setup()
        try:
            grid = self.grid(setup)
            if len(grid[SEED_DIM]) == 1:  # one seed is the base set-up's, not a dim of one value
                setup.training.seed = grid.pop(SEED_DIM)[0]
            settings = {**knobs(setup.training), "weights": dict(setup.weights)}
            # Fields of every point, for the point picker; nothing is written to disk.
            plan = Sweep(
                setup.problem,
                setup.method,
                setup.regularizers,
                setup.combiner,
                grid=grid,
                fields=True,
                **settings,
            )
            if self._limits is not None:
                if not self._limits.acquire():
                    raise ValueError(
                        f"the server is running its maximum of {self._limits.max_trainings} "
                        "trainings; try again in a moment"
                    )
                self._holds_slot = True
        except (ValueError, TypeError) as err:
            self.notify(str(err))
            return False
        workers = int(self.workers.value or 0)
        scheduler = "serial" if workers == 0 else None
        self._metric = setup.method.metric
        self.metric.options = metric_options(setup.method)
        self._alert.visible = False  # a new sweep: old messages no longer apply
        self._stop_wanted.clear()
        with self._lock:
            self._record, self._state, self._message = None, "running", ""
        self._reported = ""
        self._points = {}
        self.point.options = []
        self._point_fields.object = None
        self._thread = threading.Thread(
            target=self._work,
            args=(plan, scheduler, workers or None),
            name="workbench-sweep",
            daemon=True,
        )
        self._thread.start()
        self._ticker.start()
        self._update_controls()
        return True

    def stop(self, wait: bool = False, timeout: float | None = None) -> None:
        """End the sweep after the point in progress; finished points are kept.

        With ``wait``, block until the worker has ended and draw the final state (for
        scripts, tests and session teardown; widget callbacks only set the flag).
        """
        self._stop_wanted.set()
        with self._lock:
            if self._state == "running":
                self._state = "stopping"
        if wait:
            self.wait(timeout)

    def wait(self, timeout: float | None = None) -> str:
        """Block until the sweep ends, draw it, and return the final state."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self.flush()
        return self.state

    @property
    def active(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> str:
        """One of :data:`STATES`."""
        with self._lock:
            return self._state

    def notify(self, message: str, level: str = "error") -> None:
        """Show a message above the plot (and as a toast where Panel has notifications)."""
        show_message(self._alert, message, level)

    # --- the worker ------------------------------------------------------------------------------
    def _work(self, plan: Sweep, scheduler, workers: int | None) -> None:
        records = plan.run(scheduler, workers)
        state, message = "done", ""
        try:
            for record in records:
                with self._lock:
                    self._record = record
                    self._version += 1
                if self._stop_wanted.is_set() and not record.finished:
                    # Closing cancels the points not started and shuts the sweep's own
                    # cluster down; the points in progress are lost, the finished kept.
                    records.close()
                    state = "stopped"
                    break
        except Exception as err:  # shown to the user; the traceback goes to the server log
            log.exception("sweep failed")
            records.close()
            state, message = "failed", f"sweep failed: {type(err).__name__}: {err}"
        finally:
            with self._lock:
                self._state, self._message = state, message
            if self._holds_slot:
                self._holds_slot = False
                self._limits.release()

    # --- the UI tick -----------------------------------------------------------------------------
    def _tick(self) -> None:
        finished = not self.active
        self.flush()
        if finished:  # the worker had ended before this flush, so it drew the final state
            self._ticker.stop()

    def flush(self) -> None:
        """Draw what the worker produced since the last call (runs on the event-loop thread)."""
        with self._lock:
            record, version = self._record, self._version
            state, message = self._state, self._message
        if record is not None and version != self._drawn_version:
            self._drawn_version = version
            self.result = record.result
            self._draw_plot()
            self._update_points()
        if state == "failed" and message and message != self._reported:
            self._reported = message
            self.notify(message)
        elif state in ("done", "stopped") and self._shown_state != state:
            # A sweep that ended well leaves no error beside its status (a refused click
            # while it ran, a metric it lacked): they were about what came before.
            self._alert.visible = False
        self._shown_state = state
        self._status.object = self._status_text(record, state)
        self._update_controls()

    def _status_text(self, record: SweepProgress | None, state: str) -> str:
        if record is None:
            return "Starting the sweep..." if state in ("running", "stopping") else "No sweep yet."
        status = record.result["status"].values.ravel().astype(str)
        text = f"**{record.done} of {record.total} points**"
        for kind in ("diverged", "failed", "stopped"):
            count = int((status == kind).sum())
            if count:
                text += f", {count} {kind}"
        return f"{text} ({state})"

    def _update_controls(self) -> None:
        active = self.active
        self._run_button.disabled = active
        self._stop_button.disabled = not active

    def _draw_plot(self) -> None:
        if self.result is None:
            return
        ds = self.result
        if self._metric is not None and "l2re" in ds:
            # The sweep stores the headline metric as l2re: name it for what it measures.
            named = {"long_name": self._metric.long_name, "units": "1"}
            ds = ds.assign(l2re=ds["l2re"].assign_attrs(named))
        try:
            self._plot.object = sweep_plot(ds, self.metric.value)
        except ValueError as err:  # a metric this sweep lacks
            self.notify(str(err))

    def _update_points(self) -> None:
        """Offer the finished points of the Dataset in the point picker."""
        ds = self.result
        dims = list(ds["status"].dims)
        status = ds["status"].transpose(*dims).values
        coords = [ds[d].values.tolist() for d in dims]
        points = {}
        for index in np.ndindex(status.shape):
            # Failed points have no fields to show.
            if status[index] in FINISHED and status[index] != "failed":
                point = {d: coords[k][i] for k, (d, i) in enumerate(zip(dims, index))}
                points[_point_label(point)] = point
        if list(points) != list(self._points):
            self._points = points
            chosen = self.point.value
            self.point.options = list(points)
            # Keep the point on view; else show the first (Select does not always pick one).
            if points:
                self.point.value = chosen if chosen in points else next(iter(points))

    def _draw_point(self) -> None:
        point = self._points.get(self.point.value)
        if point is None or self.result is None:
            self._point_fields.object = None
            return
        self._point_fields.object = sweep_point(self.result, **point)

    def __panel__(self):
        self.flush()
        return self._layout
