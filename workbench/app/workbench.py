"""The Workbench: pick a PDE, a method, regularizers and a combiner, press Train, watch it learn.

One Panel ``Viewer`` serves three front ends: it renders inline in JupyterLab
(``Workbench()`` as a cell's value), as a served page (``workbench serve``), and as an
ipywidget (``pn.ipywidget(Workbench())``).

The Workbench composes parts, each in its own module, and wires them; no part imports it:

- :class:`~workbench.app.setup_panel.SetupPanel`: the sidebar's widgets, which edit the
  Parameters of a :class:`~workbench.app.setup.Setup`;
- :class:`~workbench.app.controller.TrainingController`: the worker
  (:class:`~workbench.app.live.LiveTraining`, a thread running ``train()``), the server's
  training slot, the periodic refresh, the buttons and the status line;
- :class:`~workbench.app.live_view.LiveView`: the Live tab's figures (:mod:`workbench.app.plots`);
- :class:`~workbench.app.runs.RunsTab`: finished, loaded and uploaded Runs, two compared;
- :class:`~workbench.app.sweeps.SweepPanel`: the Sweeps tab, one knob at several values;
- :class:`~workbench.app.result_tabs.ResultTabs`: a tab per kind of result of the last Run.

Data flow: Train copies the Setup and hands it to the controller's worker; a periodic callback
on the event loop (every ``refresh_ms``) copies the thinned loss history, the combiner's
diagnostics and the latest coarse snapshot (with its collocation points and any PIG Gaussians)
into the Live tab's Bokeh figures. Each tick sends the full (thinned) state, not deltas: deltas
streamed through the Jupyter comm lose or duplicate rows, full state heals on the next tick.
When the training ends the views switch to the Run's full-resolution fields, the Run joins the
Runs tab, and the result tabs its data calls for appear, drawn with the pure views of
:mod:`workbench.views`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import panel as pn
import param
import xarray as xr
from bokeh.models import CustomJS
from panel.io.resources import CDN_DIST
from panel.theme.fast import Fast

from workbench import views
from workbench.app.controller import TrainingController
from workbench.app.limits import ServeLimits
from workbench.app.live import LiveTraining, show_message
from workbench.app.live_view import LiveView
from workbench.app.recovery import Recovered, RecoveryStore, browser_token, cookie_script
from workbench.app.result_tabs import ResultTabs
from workbench.app.runs import RunsTab, zip_run
from workbench.app.setup import Setup, from_query, to_query
from workbench.app.setup_panel import SetupPanel
from workbench.app.sweeps import SweepPanel
from workbench.methods import METHODS, FieldGenerator
from workbench.problems import PROBLEMS
from workbench.problems.base import Problem
from workbench.results import REPORT_FILE
from workbench.train import Training

log = logging.getLogger(__name__)

#: Seconds a closed page's training may take to stop with its Run (the final evaluation)
#: before it is discarded instead, so that its slot of the server's cap comes free.
RECOVER_WAIT_S = 10.0

#: The served page's text font: fonts every desktop has, so nothing is fetched for it.
PAGE_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


class LocalFast(Fast):
    """Panel's Fast design without its web font, so the served page needs no other host.

    Fast links Open Sans from fonts.googleapis.com in the page's head, twice. Stylesheets in
    the head block rendering: behind a firewall that drops packets the page waits for the
    connection to time out, then shows a fallback font anyway.
    Everything else the design needs (its scripts and stylesheets) Panel serves itself.
    """

    _resources = {
        **Fast._resources,
        "font": {},
        # Panel looks a relative path up under the class's lower-cased name ("localfast/"),
        # which Panel does not ship; this spelling resolves to the file served for Fast.
        "js_modules": {
            **Fast._resources["js_modules"],
            "fast-design": f"{CDN_DIST}bundled/fast/js/fast_design.js",
        },
    }


def _in_own_callback(action: Callable[[], None]) -> None:
    """Run ``action`` now, or on a server in a next-tick callback of the session's document.

    A widget's change can reach its watchers while the document's lock is not held (Panel
    processes it in a coroutine that a click's callback may await). Panel's own widgets
    reschedule their updates then; Bokeh figures edited directly raise ("_pending_writes should
    be non-None") and the page never gets the edit. A callback of its own holds the lock.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        action()
    else:
        pn.state.execute(partial(_in_one_message, action), schedule=True)


def _in_one_message(action: Callable[[], None]) -> None:
    """Run ``action``; on a server with the document's events held, so that the page gets
    all of its changes in one message, in the order they were made.

    Unheld, a callback's changes take two ways to the page that can overtake each other: Panel
    queues its objects' updates (a layout's new children: the new figures' definitions) while
    the page's socket is still busy, and sends them later; Bokeh sends changes made to its
    models directly (a new figure's width, its ranges) at the callback's end, before that
    queue. The page then got changes to figures it had not been sent yet ("reference pNNNN
    isn't known"), and missed them. Held, both go through Panel's queue, in order.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        action()
        return
    with pn.io.hold():
        action()


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
    recovery = param.ClassSelector(
        class_=RecoveryStore,
        default=None,
        doc="Where a served page that closes while it trains leaves its Run for the same "
        "browser's next page (see workbench.app.recovery); None: a closed page's training is "
        "discarded.",
    )

    def __init__(self, setup: Setup | None = None, **params):
        params.setdefault("limits", ServeLimits())
        super().__init__(**params)
        self.setup = setup or Setup(PROBLEMS["burgers1d"](), METHODS["pinn"](), [], Training())
        if setup is None:
            self.setup.training.steps = 2000  # a first run should finish while one watches
        self._shown_run = None  # the Run whose results the page shows
        #: The worker, the buttons and the status line.
        self.controller = TrainingController(
            self.limits, self.refresh_ms, tick=self.flush, download=self._zip_run
        )
        self._wire_buttons()
        # Messages (bad input, failed trainings) appear above the set-up, and as toasts.
        self._alert = pn.pane.Alert(
            "", alert_type="danger", visible=False, sizing_mode="stretch_width"
        )
        #: The sidebar's widgets; editing them edits ``setup``.
        self._previewing_generator = False  # what the live plots preview (set by each build)
        self.setup_panel = SetupPanel(
            self.setup,
            self.limits,
            notify=self.notify,
            on_change=self._on_setup_change,
            on_problem=self._on_problem,
            on_problem_knob=self._on_problem_knob,
            locked=lambda: self.live.active,
        )
        self.sidebar = pn.Column(
            self._alert,
            self.setup_panel.lock_note,
            *self.setup_panel.objects,
            sizing_mode="stretch_width",
        )
        self.controls = self.controller.controls
        #: The Live tab, headed by the training's status line and progress bar.
        self.live_view = LiveView(header=(self.controller.status, self.controller.progress))
        #: The Runs tab.
        self.runs_tab = RunsTab(self.limits, notify=self.notify, runs_dir=self.runs_dir)
        #: Sweeps of one knob from the current set-up (its own worker and refresh).
        self.sweeps = SweepPanel(
            lambda: self.setup.copy(), limits=self.limits, refresh_ms=self.refresh_ms
        )
        #: Live, Runs and Sweeps, then a tab per result view the last Run has data for.
        self.tabs = pn.Tabs(
            ("Live", self.live_view.layout),
            ("Runs", self.runs_tab.layout),
            ("Sweeps", self.sweeps),
            sizing_mode="stretch_width",
        )
        self.result_tabs = ResultTabs(self.tabs)
        # The problem or method may have changed since the Sweeps tab was last seen.
        self.tabs.param.watch(self._on_tab, "active")
        self._built = False
        self.setup_panel.show_problem()
        self._built = True
        self._adopted = None  # a closed page's Run shown as this page's (see recovery)
        self._token = self._recovery_token() if self.recovery is not None else None
        self._recovering = False  # shutdown() has handed the training to the recovery

    @classmethod
    def from_query(cls, query, **params) -> Workbench:
        """A Workbench set up from URL query parameters (see :mod:`workbench.app.setup`)."""
        return cls(from_query(query), **params)

    @property
    def live(self) -> LiveTraining:
        """The worker of the training started last (see :mod:`workbench.app.live`)."""
        return self.controller.live

    @property
    def runs(self) -> list[tuple[str, xr.DataTree]]:
        """The Runs tab's Runs, ``(label, tree)``, oldest first."""
        return self.runs_tab.runs

    # --- wiring ------------------------------------------------------------------------------
    def _wire_buttons(self) -> None:
        # Callbacks only set flags or start the worker; drawing happens in the periodic tick.
        # The page disabled the buttons on the click: the server does the same, acts, then
        # enables those that apply to the new state, so page and server agree after any burst.
        controller = self.controller

        def clicked(action):
            def act():
                controller.hold()
                try:
                    action()
                finally:
                    self._show_lock()
                    controller.update_status()

            # On a server, in a callback of its own: Panel runs a click as a coroutine that
            # may resume after another callback has released the document's lock, and edits
            # made then raise ("_pending_writes should be non-None") and never reach the page.
            # Held: a Train or Reset replaces and edits figures, which must reach the page in
            # that order (see _in_one_message).
            return lambda event: pn.state.execute(partial(_in_one_message, act), schedule=True)

        controller.train_button.on_click(clicked(self.train))
        controller.pause_button.on_click(clicked(self.pause))
        controller.step_button.on_click(clicked(self.step))
        controller.stop_button.on_click(clicked(self.stop))
        controller.reset_button.on_click(clicked(self.reset))
        controller.save_button.on_click(lambda event: self.save())

    def _show_lock(self) -> None:
        # The sidebar shows what trains: locked while the worker lives (training or paused).
        if self.live.active:
            setup = self.setup
            what = f"{setup.problem.name} with {setup.method.name} ({self.live.state})"
            self.setup_panel.show_lock(what)
        else:
            self.setup_panel.show_lock(None)

    def _on_problem(self, problem: Problem) -> None:
        # A training keeps its plots; the new problem's appear when the next one starts.
        def build() -> None:
            if not self.live.active and self.setup.problem is problem:
                self._previewing_generator = isinstance(self.setup.method, FieldGenerator)
                self.live_view.build(problem, self.snapshot_points, self.setup.method)

        if self._built:
            _in_own_callback(build)
        else:  # the first plots, while the page is being made
            build()

    def _on_setup_change(self) -> None:
        self.sync_query()
        # A field generator previews its gallery, the other methods the problem's reference:
        # a method of the other kind needs the plots built again (not during a training).
        generator = isinstance(self.setup.method, FieldGenerator)
        if generator != self._previewing_generator:
            self._on_problem(self.setup.problem)

    def _on_problem_knob(self) -> None:
        def preview() -> None:
            if not self.live.active:
                self.live_view.show_preview(
                    self.setup.problem, self.snapshot_points, self.setup.method
                )
                self.live_view.push()

        _in_own_callback(preview)

    def _on_tab(self, event) -> None:
        names = self.tabs._names
        if 0 <= event.new < len(names) and names[event.new] == "Sweeps":
            self.sweeps.refresh()

    # --- actions (widget callbacks and the Python API) -----------------------------------------
    def train(self) -> None:
        """Start a new training from the current set-up, or resume a paused one."""
        if self.live.state == "paused":
            self.live.resume()
        elif not self.live.active:
            self._start(paused=False)
        self.controller.ticker.start()

    def pause(self) -> None:
        """Pause after the current step (Train resumes, Step advances one step)."""
        self.live.pause()

    def step(self) -> None:
        """Take one step: of a paused training, or of a new one started paused."""
        if not self.live.active:
            if not self._start(paused=True):
                return
        self.live.step()
        self.controller.ticker.start()

    def stop(self) -> None:
        """End the training; its Run is kept (status ``stopped``) and can be saved."""
        self.live.stop()

    def reset(self) -> None:
        """Stop any training and clear the live views (the Runs tab keeps its runs)."""
        self.controller.reset()
        self._shown_run = None
        self.result_tabs.show(None)
        self._alert.visible = False
        # Reuse the figures when the problem is the same: replacing Bokeh models at every click
        # of a fast Reset/Train sequence left the page patching models it no longer had.
        self.live_view.restart(self.setup, self.snapshot_points)
        self.flush()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the training ends (for scripts and tests); returns the final state."""
        self.live.wait(timeout)
        self.flush()
        return self.live.state

    def release_if_idle(self, limit_s: float) -> bool:
        """Stop a training paused for ``limit_s`` seconds without a Step or Resume, so its
        slot of the server's cap goes to other visitors; its Run so far is kept (Save or
        Download it). True if it was stopped."""
        idle = self.live.idle_s
        if idle < limit_s:
            return False
        self.live.stop(
            reason=f"paused for {idle:.0f} s: stopped to free its training slot for other "
            "visitors; the run so far is kept (Save or Download it)"
        )
        return True

    def shutdown(self) -> None:
        """End the training and stop timers; called when a browser session closes.

        The training is not waited for (this runs on the server's event loop): it ends
        within a checkpoint and frees its slot then. With a :attr:`recovery` store (a served
        page) it stops keeping its Run, which waits there for the browser's next page
        (:mod:`workbench.app.recovery`); otherwise it is discarded, skipping its final
        evaluation.
        """
        live = self.live
        if self.recovery is not None and self._token is not None and live.active:
            if not self._recovering:  # a second call (session destroyed after lost) waits
                self._recovering = True
                live.stop(reason="its page was closed")
                # Nobody waits for the Run's final evaluation (at most RECOVER_WAIT_S): the
                # slot goes to other visitors now.
                self.controller.release_slot()
                threading.Thread(
                    target=self._keep_for_recovery, name="workbench-recovery", daemon=True
                ).start()
        else:
            live.stop(discard=True)
        self.sweeps.stop(wait=True, timeout=30)
        self.controller.ticker.stop()

    # --- a closed page's training, recovered by the browser's next page ---------------------------
    def _recovery_token(self) -> str | None:
        # The browser's token (see workbench.app.recovery); only a served page has one.
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            return None
        token, new = browser_token(pn.state.cookies)
        if new:
            doc.js_on_event("document_ready", CustomJS(code=cookie_script(token)))
        # The runs of this browser's closed pages, as they come in: a reloaded page's training
        # is stopped and kept a second or more after this page has started, or only when
        # Bokeh destroys the old session (15-32 s) if the server missed the lost connection.
        # A look into the store costs microseconds, so it goes on while the page lives.
        pn.state.add_periodic_callback(partial(_in_one_message, self._take_recovered), period=1000)
        return token

    def _keep_for_recovery(self) -> None:
        # In a thread of its own: wait for the stopped training's Run and keep it.
        live, setup = self.live, self.setup  # the set-up is locked while it trains
        what = f"{setup.method.name} on {setup.problem.name}"
        if not live.wait(RECOVER_WAIT_S):  # a slow final evaluation: free the slot instead
            live.stop(discard=True)
            live.wait()
        run, step = live.run, live.step_count
        if run is None:
            message = f"the training of a closed page ({what}) ended at step {step} without a run"
            kept = Recovered(f"recovered: {what}", f"{message}: {live.message}")
        else:
            step = int(run.attrs.get("steps", step))
            kept = Recovered(
                f"recovered: {what}, step {step}",
                f"Recovered the training of a closed page ({what}, stopped at step {step})",
                run,
            )
        self.recovery.put(self._token, kept)
        log.info("kept a closed page's training for recovery: %s", kept.label)

    def _take_recovered(self) -> None:
        # Add this browser's kept runs to the Runs tab; an idle page with the same problem and
        # method shows the newest as its own (status line, plots, Save, Download).
        for kept in self.recovery.take(self._token):
            run = kept.run
            if run is None:
                self.notify(kept.message, "warning")
                continue
            self.runs_tab.add(run, label=kept.label)
            pair = (self.setup.problem.name, self.setup.method.name)
            shown = (
                pair == (run.problem.name, run.method.name)
                and not self.live.active
                and self.live.run is None
            )
            if shown:
                self._adopted = run  # already in the Runs tab, under its label
                self.live.adopt(run)
                self.flush()
            where = "shown here and in the Runs tab" if shown else "in the Runs tab"
            self.notify(f"{kept.message}: {where}", "info")

    def _start(self, paused: bool) -> bool:
        setup = self.setup.copy()
        try:
            self.controller.start(setup, self.snapshot_points, paused)
        except (ValueError, TypeError, RuntimeError) as err:
            self.notify(str(err))
            return False
        self._alert.visible = False
        self._shown_run = None
        self.result_tabs.show(None)
        self.live_view.restart(setup, self.snapshot_points)
        self._show_lock()
        return True

    def notify(self, message: str, level: str = "error") -> None:
        """Show a message in the page (a toast where Panel has notifications, and the sidebar)."""
        show_message(self._alert, message, level)

    # --- the UI tick -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Copy what the worker produced into the views (runs on the event-loop thread)."""
        live = self.live
        self.live_view.draw_curves(live)
        snapshot = live.take_snapshot()
        run = live.run
        if run is not None and run is not self._shown_run:
            self._shown_run = run
            tree = run.tree
            # A Run need not have /points (operators have no collocation points).
            points = tree["points"].to_dataset() if "points" in tree.children else None
            self.live_view.draw_fields(run.fields, points)  # the final state on the full grid
            if run is not self._adopted:
                self.runs_tab.add(run)
            self.result_tabs.show(tree)
            if run.status == "diverged":
                self.notify(run.attrs["message"] + "; the last good state is kept", "warning")
            elif run.status == "stopped" and live.stop_reason:
                self.notify(live.stop_reason, "warning")
        elif snapshot is not None:
            self.live_view.draw_fields(*snapshot)
        if live.state == "failed" and not self._alert.visible:
            self.notify(live.message)
        self._show_lock()
        self.controller.update_status()
        self.live_view.push()

    # --- runs ----------------------------------------------------------------------------------
    def save(self, directory: str | Path | None = None) -> Path | None:
        """Save the finished Run (run.nc, weights, report.html) under ``runs_dir``."""
        # Checked here, not only by the disabled button: a page can re-enable a widget.
        if not self.limits.allow_disk:
            self.notify("this server does not save to its disk; use Download run instead")
            return None
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
            # The report is written with the run: a folder holds both, or neither.
            run.save(directory, extra=lambda folder: views.report(run.tree, folder / REPORT_FILE))
        except OSError as err:
            self.notify(f"could not save to {directory}: {err}")
            return None
        self.notify(f"saved to {directory}", "success")
        return Path(directory)

    def _zip_run(self):
        # The Download button's file: the finished Run, zipped.
        return zip_run(self.live.run)

    def load(self, directory: str | Path) -> None:
        """Add a saved Run (a folder written by ``Run.save``) to the Runs tab."""
        self.runs_tab.load(directory)

    # --- layout ------------------------------------------------------------------------------
    def sync_query(self) -> None:
        """Show the set-up in a served page's URL (defaults left out); elsewhere nothing."""
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
            design=LocalFast,
            font=PAGE_FONT,  # the plots' axis and title font (the page's is set by raw_css)
            # FAST's own font token sets --body-font on :root from an adopted stylesheet, which
            # beats the template's; set on body, ours reaches every element below it.
            raw_css=[f"body {{ --body-font: {PAGE_FONT}; }}"],
        )
