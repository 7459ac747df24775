"""LiveTraining: one training run by a worker thread and read by a UI at its own pace.

Why a worker thread, and not a periodic callback that pulls k steps of ``train()``:

- The event loop stays free. In a notebook Panel runs periodic callbacks as an asyncio task,
  and a tick that takes longer than its period never yields, which starves the kernel (seen
  here: a 2 s sleep in a cell took 12.7 s). With torch work in its own thread the loop only
  draws, so widgets answer at once and Pause acts before the next tick.
- The refresh rate does not depend on the step rate: the UI draws whatever has arrived every
  200 ms, whether a step takes 1 ms or 1 s, instead of paying a redraw per k steps.
- No Bokeh or HoloViews object is touched off the loop thread: the worker only appends plain
  numbers to lists under a lock, and the UI copies them out when it draws.

Nothing here imports Panel, so the controller is tested, and usable from scripts, without a UI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from workbench.combiners.base import Combiner
from workbench.evaluation import RELATIVE_L2
from workbench.methods.base import Method
from workbench.problems.base import Problem
from workbench.regularizers.base import Regularizer
from workbench.results import Run
from workbench.train import Progress, Stopped, train
from workbench.views.metric import live_note, metric_text

log = logging.getLogger(__name__)

#: Every state a LiveTraining can be in. ``done``, ``stopped``, ``diverged`` and ``failed`` are
#: final; the first three hold a Run.
STATES = ("idle", "training", "paused", "done", "stopped", "diverged", "failed")


#: Most loss-history rows a LiveTraining keeps for its plots (about 2 MB at ten terms). Past
#: that every other older row is dropped (the newest always stays): a long training's memory
#: stays bounded, and the plots, which draw at most 1000 rows, look the same. The Run's own
#: history (``/history``) is train()'s and keeps every step.
HISTORY_ROWS = 20_000


class LiveTraining:
    """A training in a background thread, with Pause, Step, Stop and a history to draw.

    Parameters
    ----------
    snapshot_interval : float
        Seconds between fields snapshots the worker asks ``train()`` for (a live view draws
        at most this often, so more would be wasted work in the training thread).
    on_finish : callable, optional
        Called (in the worker thread) when a training ends for any reason; the app uses it to
        release a slot of the server's concurrency cap.

    Notes
    -----
    Every public method is safe to call from the UI thread. Reads (:meth:`history`,
    :meth:`take_snapshot`, the properties) return copies made under the lock.
    """

    def __init__(
        self, *, snapshot_interval: float = 0.2, on_finish: Callable[[], None] | None = None
    ):
        self.snapshot_interval = snapshot_interval
        self.on_finish = on_finish
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._clear()

    def _clear(self) -> None:
        self._records = None
        self._state = "idle"
        self._message = ""
        self._step = 0
        self._total_steps = 0
        self._columns: dict[str, list[float]] = {}
        self._diagnostics: dict[str, list[float]] = {}
        self._estimates: dict[str, list[float]] = {}
        # The newest value of the method's metric: (step, value, note). A full evaluation
        # (every ``eval_every`` steps) has no note but its step; a snapshot's, computed on the
        # coarse live grid, says so ("live, 48x48"); the Run's final value has neither.
        self._metric: tuple[int, float, str] | None = None
        self._metric_names: dict[str, str] = RELATIVE_L2.attrs()
        self._wall_s = 0.0
        self._snapshot: tuple[xr.Dataset, xr.Dataset | None] | None = None
        self._snapshot_version = 0
        self._taken_version = 0
        self._credits = 0
        self._stop_wanted = False
        # Stop without waiting for the final evaluation: nobody wants the Run (Reset, a
        # closed page).
        self._discard = False
        # The worker is taking a Step's step: a checkpoint must not hold it while paused.
        self._stepping = False
        # What train() is busy with before its first record: (message, fraction done).
        self._doing: tuple[str, float | None] | None = None
        self._run: Run | None = None
        # When the user last acted on this training (start, pause, step): how long a paused
        # training has sat untouched, for a server that frees idle slots.
        self._touched = time.monotonic()
        # Why a Stop came from elsewhere than the user (a server freeing an idle slot).
        self._stop_reason = ""

    # --- control ----------------------------------------------------------------------------
    def start(
        self,
        problem: Problem,
        method: Method,
        regularizers: Sequence[Regularizer] = (),
        combiner: Combiner | str | None = None,
        *,
        paused: bool = False,
        **settings,
    ) -> None:
        """Validate the set-up and start training in the background.

        Takes the arguments of :func:`workbench.train.train`. Bad input raises there, before
        anything starts. With ``paused=True`` the worker waits for :meth:`step` or
        :meth:`resume`.
        """
        if self.active:
            raise RuntimeError("a training is already running: pause, stop or reset it first")
        records = train(
            problem, method, regularizers, combiner, checkpoint=self._checkpoint, **settings
        )
        with self._lock:
            self._clear()
            self._records = records
            self._metric_names = method.metric.attrs()
            self._state = "paused" if paused else "training"
            self._touched = time.monotonic()
            steps, lbfgs = settings.get("steps", 0), settings.get("lbfgs_steps", 0)
            self._total_steps = int(steps or 0) + int(lbfgs or 0)
        self._thread = threading.Thread(target=self._work, name="workbench-training", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Stop taking steps after the current one (the generator stays alive)."""
        with self._lock:
            if self._state == "training":
                self._state = "paused"
                self._touched = time.monotonic()

    def resume(self) -> None:
        """Continue a paused training."""
        with self._wake:
            if self._state == "paused":
                self._state = "training"
                self._wake.notify_all()

    def step(self, n: int = 1) -> None:
        """While paused, take ``n`` more steps (each record carries a snapshot)."""
        with self._wake:
            if self._state == "paused":
                self._credits += n
                self._touched = time.monotonic()
                self._wake.notify_all()

    def stop(
        self,
        wait: bool = False,
        timeout: float | None = None,
        discard: bool = False,
        reason: str = "",
    ) -> None:
        """End the training; it keeps its Run (``status="stopped"``).

        The training ends within one checkpoint (see :func:`~workbench.train.train`): a
        fraction of a second into data generation, an evaluation or a step; then the Run's
        final evaluation runs. With ``discard=True`` that is abandoned too and there is no
        Run (Reset, a closed page). ``reason`` says why when the user did not ask
        (:attr:`stop_reason`).
        """
        with self._wake:
            if reason:
                self._stop_reason = reason
            self._stop_wanted = True
            self._discard = self._discard or discard
            self._wake.notify_all()
        if wait:
            self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker has finished; True if it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.active

    def reset(self) -> None:
        """Stop any training (waiting for it, without its final evaluation) and forget
        everything."""
        self.stop(wait=True, discard=True)
        with self._lock:
            self._clear()

    def adopt(self, run: Run) -> None:
        """Show a finished ``run`` as this worker's last training (a closed page's, recovered):
        its state, steps, loss history and metric; Save and Download then take it.

        Raises ``RuntimeError`` while a training runs.
        """
        if self.active:
            raise RuntimeError("a training is running: stop or reset it before adopting a run")
        history = run.history
        with self._lock:
            self._clear()
            steps = [int(s) for s in history["step"].values]
            self._columns = {"step": steps}
            for name in [*run.loss_terms, "loss"]:
                if name in history.data_vars:
                    self._columns[name] = [float(v) for v in history[name].values]
            self._step = int(run.attrs.get("steps", len(steps)))
            self._total_steps = self._step
            self._wall_s = float(run.attrs.get("wall_s", 0.0))
            self._metric_names = run.metric.attrs()
            self._metric = (self._step, run.l2re, "")
            self._run = run
            self._state = run.status
            self._message = str(run.attrs.get("message", ""))

    # --- the worker ---------------------------------------------------------------------------
    def _work(self) -> None:
        records, command, started = self._records, None, False
        last_request = -float("inf")
        try:
            while True:
                with self._wake:
                    while self._state == "paused" and not self._credits and not self._stop_wanted:
                        self._wake.wait()
                    stepping = self._state == "paused" and not self._stop_wanted
                    self._stepping = stepping
                    if self._stop_wanted:
                        command = "stop"
                    elif stepping:
                        self._credits -= 1
                        # A single step should show its own state, not one 200 ms old.
                        command = "snapshot"
                if not started:
                    # A stop before the first record: the checkpoint ends train() at once.
                    record = next(records)
                    started = True
                    if command == "stop" and not record.done:
                        record = records.send("stop")
                else:
                    record = records.send(command)
                now = time.perf_counter()
                command = None
                if now - last_request >= self.snapshot_interval:
                    command, last_request = "snapshot", now
                self._take(record)
                if record.done:
                    break
        except Stopped:
            # Discarded during the final evaluation: no Run.
            with self._lock:
                self._state = "stopped"
                self._message = "stopped by the user; the run was discarded"
                self._doing = None
        except Exception as err:  # shown to the user; the traceback goes to the server log
            log.exception("training failed")
            with self._lock:
                self._state = "failed"
                self._message = f"training failed: {type(err).__name__}: {err}"
        finally:
            if self.on_finish is not None:
                self.on_finish()

    def _checkpoint(self, record: Progress) -> None:
        """train()'s checkpoint, in the worker thread: note what it is doing, raise
        :class:`~workbench.train.Stopped` on Stop, wait while paused."""
        if record.phase in ("data", "compile") and record.message:
            with self._lock:
                self._doing = (record.message, record.fraction)
        # Plain reads first: this runs before every module call of an evaluation.
        if self._discard or (self._stop_wanted and record.phase != "finish"):
            raise Stopped
        if self._state == "paused" and not self._stepping:
            with self._wake:
                while (
                    self._state == "paused"
                    and not self._credits
                    and not self._stop_wanted
                    and not self._discard
                ):
                    self._wake.wait()
                if self._state == "paused" and self._credits:
                    # A Step released the step in flight: that is the Step's step.
                    self._credits -= 1
                    self._stepping = True
            if self._discard or (self._stop_wanted and record.phase != "finish"):
                raise Stopped

    def _take(self, record: Progress) -> None:
        with self._lock:
            self._doing = None
            self._step = record.completed
            self._wall_s = record.wall_s
            if not record.done:
                columns = self._columns
                columns.setdefault("step", []).append(record.step)
                for name, value in record.losses.items():
                    columns.setdefault(name, []).append(value)
                n = len(columns["step"])
                _append_padded(self._diagnostics, record.diagnostics, n)
                _append_padded(self._estimates, record.estimates, n)
                if n > HISTORY_ROWS:
                    _halve(columns, self._diagnostics, self._estimates)
            if record.l2re is not None and not record.done:
                self._newer_metric(record.step, record.l2re, f"step {record.step}")
            snapshot = record.snapshot
            if snapshot is not None and not record.done and "l2re" in snapshot.attrs:
                note = live_note(snapshot.attrs) or f"step {record.step}"
                self._newer_metric(record.step, float(snapshot.attrs["l2re"]), note)
            if record.snapshot is not None:
                self._snapshot = (record.snapshot, record.points)
                self._snapshot_version += 1
            if record.done and record.run is None:  # stopped before training began
                self._state = "stopped"
                self._message = record.message
            elif record.done:
                self._metric = (record.step, record.run.l2re, "")
                self._run = record.run
                self._state = record.run.status
                self._message = record.message

    def _newer_metric(self, step: int, value: float, note: str) -> None:
        # A snapshot and a full evaluation of the same step: the full one is the better value.
        held = self._metric
        if np.isfinite(value) and (held is None or step > held[0] or not note.startswith("live")):
            self._metric = (step, value, note)

    # --- reading ----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Whether the worker thread is alive (training or paused)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> str:
        """One of :data:`STATES`."""
        with self._lock:
            return self._state

    @property
    def message(self) -> str:
        """Why the last training ended early (divergence, stop, failure), if it did."""
        with self._lock:
            return self._message

    @property
    def idle_s(self) -> float:
        """Seconds this training has been paused with no Step, Resume or Pause since; 0 when
        it is not paused (or has Steps still to take)."""
        with self._lock:
            if self._state != "paused" or self._credits or self._stop_wanted:
                return 0.0
            return time.monotonic() - self._touched

    @property
    def stop_reason(self) -> str:
        """Why the training was stopped when the user did not ask (empty otherwise)."""
        with self._lock:
            return self._stop_reason

    @property
    def stopping(self) -> bool:
        """Whether a Stop was asked for and the worker is still finishing (the Run's final
        evaluation)."""
        with self._lock:
            return self._stop_wanted and self.active

    @property
    def work(self) -> tuple[str, float | None] | None:
        """What the training is busy with before its first step, and the fraction done:
        ``("generating darcy2d data 340/1100, ETA 40 s", 0.31)``; None once steps arrive."""
        with self._lock:
            return self._doing

    @property
    def step_count(self) -> int:
        """Optimizer steps completed so far."""
        with self._lock:
            return self._step

    @property
    def total_steps(self) -> int:
        """Steps asked for (Adam plus L-BFGS)."""
        with self._lock:
            return self._total_steps

    @property
    def wall_s(self) -> float:
        """Training seconds so far, as measured by ``train()``."""
        with self._lock:
            return self._wall_s

    @property
    def l2re(self) -> float | None:
        """The newest value of the method's headline metric (see :attr:`metric_text`): the
        Run's once it has finished."""
        with self._lock:
            return None if self._metric is None else self._metric[1]

    @property
    def metric_text(self) -> str:
        """The newest value of the method's metric, named, and with where it comes from
        unless it is the finished Run's: ``"l2re 0.502 (live, 48x48)"``,
        ``"energy distance 0.031 (step 100)"``, ``"l2re 0.4466"``; ``"l2re -"`` before any."""
        with self._lock:
            if self._metric is None:
                return metric_text(self._metric_names)
            _, value, note = self._metric
            return metric_text(self._metric_names, value, note)

    @property
    def run(self) -> Run | None:
        """The finished Run (done, stopped or diverged), else None."""
        with self._lock:
            return self._run

    def history(self, max_points: int = 1000) -> dict[str, np.ndarray]:
        """Loss history so far, thinned to at most ``max_points`` steps (always the last).

        Returns
        -------
        dict
            ``step`` and one array per loss term and the total ``loss``; empty before the
            first step.
        """
        with self._lock:
            n = len(self._columns.get("step", ()))
            columns = {k: v[:n] for k, v in self._columns.items()}
        return _thinned(columns, n, max_points)

    def diagnostics(self, max_points: int = 1000) -> dict[str, np.ndarray]:
        """The combiner's diagnostics so far, on the steps of :meth:`history`.

        Returns
        -------
        dict
            ``step`` and one array per diagnostic (``weight_<term>``, ``grad_cosine``), NaN
            at steps where it was not reported; empty before the first diagnostic (the
            ``sum`` combiner reports none).
        """
        return self._padded(self._diagnostics, max_points)

    def estimates(self, max_points: int = 1000) -> dict[str, np.ndarray]:
        """The learned coefficients so far (an inverse problem's), on the steps of
        :meth:`history`; empty when nothing is inferred."""
        return self._padded(self._estimates, max_points)

    def _padded(self, store: dict[str, list[float]], max_points: int) -> dict[str, np.ndarray]:
        with self._lock:
            n = len(self._columns.get("step", ()))
            if not store:
                return {}
            # A value not reported at the newest steps yet: NaN up to the last step.
            columns = {k: v[:n] + [np.nan] * (n - len(v)) for k, v in store.items()}
            columns["step"] = self._columns["step"][:n]
        return _thinned(columns, n, max_points)

    def take_snapshot(self) -> tuple[xr.Dataset, xr.Dataset | None] | None:
        """The newest (fields, points) snapshot if it arrived since the last call, else None."""
        with self._lock:
            if self._snapshot_version == self._taken_version:
                return None
            self._taken_version = self._snapshot_version
            return self._snapshot


def _append_padded(store: dict[str, list[float]], values: dict[str, float], n: int) -> None:
    """Append step ``n``'s ``values`` to the columns of ``store``, NaN where one is missing.

    Combiners report a diagnostic at some steps only (M-ConFIG after it has seen every term,
    none during L-BFGS): NaN pads each column to one value per step, which a plot draws as a
    gap.
    """
    for name in values:
        store.setdefault(name, [])
    for name, column in store.items():
        column.extend([np.nan] * (n - 1 - len(column)))
        column.append(values.get(name, np.nan))


def _halve(*stores: dict[str, list[float]]) -> None:
    """Drop every other row but the last from the columns of ``stores`` (all ``n`` rows)."""
    for store in stores:
        for name, column in store.items():
            store[name] = column[:-1:2] + column[-1:]


def _thinned(columns: dict[str, list[float]], n: int, max_points: int) -> dict[str, np.ndarray]:
    """Columns of ``n`` rows as arrays, thinned to ``max_points`` rows (always the last)."""
    if n == 0:
        return {}
    index = np.arange(n)
    if n > max_points:
        index = np.unique(np.r_[np.linspace(0, n - 1, max_points).astype(int), n - 1])
    return {k: np.asarray(v, dtype=float)[index] for k, v in columns.items()}


#: Ticks in a row a redraw may wait for a page still taking the last one (1 s at 200 ms).
MAX_SKIPPED_TICKS = 5


class Ticker:
    """A periodic refresh on the UI's event loop: ``tick`` every ``period_ms`` while started.

    Without an event loop (a plain script) starting does nothing, and the caller's own
    ``flush()``/``wait()`` still draw. Panel is imported on start, so this module stays
    usable without it.
    """

    def __init__(self, tick: Callable[[], None], period_ms: int):
        self.tick, self.period_ms = tick, period_ms
        self._callback = None
        self._skipped = 0  # ticks skipped in a row for a page still taking the last redraw

    def start(self) -> None:
        """Start ticking (once; a second call keeps the running callback)."""
        if self._callback is None:
            from panel.io.callbacks import PeriodicCallback

            try:
                # In the background: a foreground callback flips Panel's process-wide "busy"
                # flag at each tick, which redraws the busy indicator of every open page.
                callback = PeriodicCallback(
                    callback=self._tick_if_page_ready, period=self.period_ms, background=True
                )
                callback.start()
                self._callback = callback
            except Exception:  # no event loop (a plain script): flush() and wait() still work
                log.debug("no event loop for the periodic refresh", exc_info=True)

    def stop(self) -> None:
        """Stop ticking (nothing if not started)."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def _tick_if_page_ready(self) -> None:
        # A redraw for a page that cannot take it is skipped; the next tick draws newer state.
        import panel as pn

        if _served_session() is None:
            self.tick()
            return
        state = page_state()
        if state == "gone":
            return
        if state == "busy" and self._skipped < MAX_SKIPPED_TICKS:
            # A page still taking the last redraw gets a few ticks of grace, not more: a
            # starved browser is always a little behind, and skipping for good froze its page.
            self._skipped += 1
            return
        self._skipped = 0
        # One message per redraw, not one per changed model: a tab closed mid-redraw has
        # at most that one in flight.
        with pn.io.hold():
            self.tick()


def _served_session():
    """The Bokeh ``ServerSession`` of the current document; None outside a server."""
    import panel as pn

    context = getattr(pn.state.curdoc, "session_context", None)
    return getattr(context, "session", None)


def page_state() -> str:
    """Whether the served page of the current document can take a redraw now: ``"ready"``,
    ``"gone"`` or ``"busy"``.

    ``"gone"``: the page has no connection, or its websocket is closing (a closed tab, to which
    every message would fail, each logged by Bokeh as "Failed sending message"). ``"busy"``:
    it has not yet received the last redraw (messages still queued for its websocket: a
    browser starved of CPU or a slow network). ``"ready"`` outside a Bokeh server too (a
    notebook, a script).
    """
    import panel as pn

    doc, session = pn.state.curdoc, _served_session()
    if session is None:
        return "ready"
    if session.connection_count == 0:
        return "gone"
    # Neither Bokeh nor Panel says publicly whether a socket is still busy: Panel queues
    # messages per document while a socket's write lock is held, and checks it the same way.
    from panel.io import document as panel_document

    busy = doc in getattr(panel_document, "_WRITE_MSGS", {})
    for connection in getattr(session, "_subscribed_connections", ()):
        socket = getattr(connection, "_socket", None)
        # A closed tab's stream is closed before Bokeh hears of it (on the next read).
        websocket = getattr(socket, "ws_connection", None)
        if websocket is None or websocket.is_closing() or websocket.stream.closed():
            return "gone"
        if websocket.stream.writing():  # the last redraw has not all reached the socket yet
            busy = True
        block = getattr(getattr(socket, "write_lock", None), "_block", None)
        if block is not None and getattr(block, "_value", 1) == 0:
            busy = True
    return "busy" if busy else "ready"


def show_message(alert, message: str, level: str = "error") -> None:
    """Show ``message`` in a Panel ``Alert`` (and as a toast where Panel has notifications).

    ``level`` is a notification level (``error``, ``warning``, ``info``, ``success``).
    """
    import panel as pn

    alert.param.update(
        object=message, alert_type={"error": "danger"}.get(level, level), visible=True
    )
    notifications = pn.state.notifications
    if notifications is not None:
        getattr(notifications, level)(message, duration=8000)
