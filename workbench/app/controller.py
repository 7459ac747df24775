"""The training controller: one training at a time, its buttons and its status line.

A :class:`TrainingController` holds the worker (a :class:`~workbench.app.live.LiveTraining`),
the server's training slot while a training runs, and the periodic refresh that redraws the
page while the worker trains. It also owns what shows where the training stands: the Train,
Pause, Step, Stop, Reset and Save buttons, the download of the Run, the status line and the
progress bar. What a button does to the rest of the page is the Workbench's to wire.
"""

from __future__ import annotations

import html
import threading
import time
import uuid
from collections.abc import Callable

import panel as pn
import torch

from workbench.app.limits import ServeLimits
from workbench.app.live import LiveTraining, Ticker
from workbench.app.setup import Setup
from workbench.results import knobs


class TrainingController:
    """Start, steer and show one training at a time.

    Parameters
    ----------
    limits : ServeLimits
        The server's caps, checked before a training starts; a slot is held while it runs.
    refresh_ms : int
        How often ``tick`` runs while a training runs, and the worker's snapshot interval.
    tick : callable
        Redraws the page from the worker's state; runs on the event loop.
    download : callable
        Returns the finished Run as a zip archive (``io.BytesIO``), or None, for the download.

    Attributes
    ----------
    live : LiveTraining
        The worker.
    controls : panel.Column
        The buttons and the download, for the sidebar.
    status, progress : panel.pane.HTML, panel.indicators.Progress
        The status line (step, rate, metric, device, state) and the progress bar.
    """

    def __init__(
        self,
        limits: ServeLimits,
        refresh_ms: int,
        tick: Callable[[], None],
        download: Callable[[], object],
    ):
        self.limits = limits
        self.live = LiveTraining(snapshot_interval=refresh_ms / 1000, on_finish=self._release)
        self._holds_slot = False
        self._slot_lock = threading.Lock()
        self._tick = tick
        #: The periodic refresh; started by the actions, stopped once a training has ended.
        self.ticker = Ticker(self._on_tick, refresh_ms)
        self._rate = (time.perf_counter(), 0, 0.0)  # (when, at which step, steps/s)
        self._device: str | None = None  # of the training started last

        self.train_button = pn.widgets.Button(label="Train", color="primary", width=80)
        self.pause_button = pn.widgets.Button(label="Pause", width=80, disabled=True)
        self.step_button = pn.widgets.Button(label="Step", width=80)
        self.stop_button = pn.widgets.Button(label="Stop", width=80, disabled=True)
        self.reset_button = pn.widgets.Button(label="Reset", width=80)
        self.save_button = pn.widgets.Button(label="Save", width=80, disabled=True)
        self.download = pn.widgets.FileDownload(
            callback=download,
            filename="run.zip",
            label="Download run (.zip)",
            color="light",
            disabled=True,
            sizing_mode="stretch_width",
        )
        self.status = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["wb-status"])
        self.progress = pn.indicators.Progress(
            value=0, max=100, sizing_mode="stretch_width", height=14
        )
        # The page disables the buttons the moment one is clicked, so a burst of clicks cannot
        # queue actions the server has not answered yet; the server's answer (hold, act,
        # update_status) then enables the ones that apply.
        self._buttons = [
            self.train_button,
            self.pause_button,
            self.step_button,
            self.stop_button,
            self.reset_button,
        ]
        # The page finds the buttons by a tag of this controller's own, not through the
        # callback's args: Panel keeps each JS callback in a class-level registry keyed weakly
        # by its button, and args holding the buttons (the key among them) made that entry, and
        # with it the buttons, their watchers, the Workbench and its whole page, live for as
        # long as the server did (~25-40 MB per closed session).
        tag = f"wb-action-{uuid.uuid4().hex}"
        for button in self._buttons:
            button.tags = [*button.tags, tag]
            button.js_on_click(
                code=(
                    f"for (const m of source.document.all_models) "
                    f"if (m.tags.includes({tag!r})) m.disabled = true"
                ),
            )
        self.controls = pn.Column(
            pn.Row(self.train_button, self.pause_button, self.step_button),
            pn.Row(self.stop_button, self.reset_button, self.save_button),
            self.download,
            sizing_mode="stretch_width",
        )

    def start(self, setup: Setup, snapshot_points: int, paused: bool) -> None:
        """Start training ``setup`` (a copy the widgets no longer edit) in the worker.

        Raises ``ValueError``, ``TypeError`` or ``RuntimeError`` when it cannot start: over
        the server's caps, no free slot, or a set-up the training rejects.
        """
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
                "snapshot_points": snapshot_points,
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
            self._release()
            raise
        self._rate = (time.perf_counter(), 0, 0.0)
        self._device = (
            "cuda" if setup.training.device != "cpu" and torch.cuda.is_available() else "cpu"
        )

    def hold(self) -> None:
        """Disable the buttons, as the page does on a click, until :meth:`update_status`."""
        for button in self._buttons:
            button.disabled = True

    def reset(self) -> None:
        """Stop any training, forget it, and stop the refresh."""
        self.live.reset()
        self.ticker.stop()

    def _release(self) -> None:
        # Called by the worker when a training ends, when one fails to start, and by
        # release_slot: under a lock, so that two of them never release one slot twice.
        with self._slot_lock:
            held, self._holds_slot = self._holds_slot, False
        if held:
            self.limits.release()

    def release_slot(self) -> None:
        """Give the server's training slot back now, before the worker has ended: for a
        closed page's training, whose last moments (its Run's final evaluation, bounded) no
        visitor waits for."""
        self._release()

    def _on_tick(self) -> None:
        finished = not self.live.active
        self._tick()
        if finished:  # the worker had ended before this tick, so it drew the final state
            self.ticker.stop()

    def update_status(self) -> None:
        """Show the step, rate, metric, device and state; enable the buttons that apply."""
        live = self.live
        state, step, total = live.state, live.step_count, live.total_steps
        now = time.perf_counter()
        then, last_step, rate = self._rate
        if now - then >= 0.5:
            fresh = (step - last_step) / (now - then)
            rate = fresh if state == "training" else 0.0
            self._rate = (now, step, rate)
        work = live.work if live.active else None
        stopping = live.stopping
        # Before the first step (data generation, compile warm-up) say what is going on, with
        # its own progress, instead of "0 steps/s".
        doing = f'<span class="wb-work">{html.escape(work[0])}</span>' if work else None
        parts = [
            f'<b>step <span class="wb-step">{step}</span></b>' + (f" / {total}" if total else ""),
            doing or f"{rate:.0f} steps/s",
            f'<span class="wb-metric">{live.metric_text}</span>',
            self._device or ("cuda" if torch.cuda.is_available() else "cpu"),
            f'<span class="wb-state">{"stopping" if stopping else state}</span>',
        ]
        self.status.object = " &nbsp;|&nbsp; ".join(parts)
        if work is not None and work[1] is not None:
            self.progress.value = int(100 * min(work[1], 1.0))
        else:
            self.progress.value = int(100 * min(step / total, 1.0)) if total else 0
        active = live.active
        self.train_button.disabled = state == "training"
        self.pause_button.disabled = state != "training"
        self.step_button.disabled = state == "training"
        self.stop_button.disabled = not active or stopping
        self.reset_button.disabled = False  # after hold(): Reset always applies
        self.save_button.disabled = live.run is None or not self.limits.allow_disk
        self.download.disabled = live.run is None
