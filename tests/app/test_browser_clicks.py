"""In a real browser: 200 seeded random clicks cannot desynchronise page and server (issue 24).

Train, Pause, Step, Stop, Reset and Save, and switches of the problem and the method among
cheap pairs, are clicked in a seeded random order with short waits, as an impatient user
would. Afterwards the page must have logged no errors (Bokeh's "reference ... isn't known"
among them), the server no tracebacks, and the status line, the loss plot and the server's own
state must agree.

The server runs in this process (``pn.serve(threaded=True)``) with the page factory of
``workbench serve`` (:func:`workbench.app.serve.make_session`), so the test reads the
session's :class:`~workbench.app.workbench.Workbench` itself: its worker's state and step and
the loss plot's data on the server's side. Everything the server logs at ERROR, or with a
traceback, is collected. Chromium fixtures and helpers are ``test_browser.py``'s.
"""

from __future__ import annotations

import logging
import os
import random
import time

import panel as pn
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from test_browser import (  # noqa: F401 (pytest fixtures, found by name)
    TIMEOUT_MS,
    _free_port,
    _is_live,
    _open,
    _select_with,
    _step,
    _wait_for,
    base_url,
    browser_type_launch_args,
)

from workbench.app.limits import ServeLimits
from workbench.app.serve import Sessions, make_session
from workbench.app.workbench import Workbench

CLICKS = 200
# Another seed replays another sequence: WORKBENCH_CLICK_SEED=7 pytest ...
SEED = int(os.environ.get("WORKBENCH_CLICK_SEED", "24"))
BUTTONS = ["Train", "Pause", "Step", "Stop", "Reset", "Save"]
PROBLEMS = ["poisson1d", "heat1d", "burgers1d"]
METHODS = ["pinn", "pig"]
# A training that has ended: the page must then hold still and agree with the server.
FINAL = ("idle", "stopped", "done")

# The "step" column of the page's copy of a Bokeh data source, found by its id (the page also
# holds the Runs tab's plots of finished runs, which have "step" columns too); null if absent.
STEPS_JS = """(id) => {
  for (const doc of window.Bokeh.documents) {
    const m = doc.get_model_by_id(id);
    if (m == null || m.data == null) continue;
    const s = m.data instanceof Map ? m.data.get('step') : m.data['step'];
    return s == null ? [] : Array.from(s);
  }
  return null;
}"""


class _Collect(logging.Handler):
    """Every record at ERROR or above, and every record with a traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(self.format(record))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The Workbench served in this process: (URL, its sessions by id, the error records)."""
    runs = tmp_path_factory.mktemp("serve-clicks") / "runs"
    watched = Sessions(ServeLimits())
    sessions: dict[str, Workbench] = watched.workbenches
    collect = _Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(collect)
    port = _free_port()
    pn.extension(notifications=True)
    thread = pn.serve(
        {"/": lambda: make_session(ServeLimits(), watched, runs_dir=str(runs))},
        port=port,
        address="127.0.0.1",
        websocket_origin=[f"127.0.0.1:{port}"],
        show=False,
        verbose=False,
        liveness=True,
        threaded=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while not _is_live(url):
            assert time.monotonic() < deadline, f"the in-process server did not come up at {url}"
            time.sleep(0.2)
        yield url, sessions, collect.records
    finally:
        for workbench in list(sessions.values()):
            workbench.shutdown()
        thread.stop()
        root.removeHandler(collect)


def _button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _switch(page: Page, rng: random.Random) -> bool:
    """Pick another problem or method, if the sidebar allows it now (not while training);
    True if it did."""
    options = PROBLEMS if rng.random() < 0.5 else METHODS
    select = _select_with(page, options[0])
    choice = rng.choice(options)
    try:
        if select.is_enabled():
            select.select_option(choice, timeout=2000)
            return True
    except PlaywrightError:  # locked between the check and the choice, as a user would find
        pass
    return False


def test_200_random_clicks_leave_page_and_server_in_agreement(page: Page, served):
    url, sessions, server_errors = served
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # Tiny networks and few points: every Train, Step and Stop is quick on a shared CPU.
    tiny = "m.width=8&m.depth=1&m.n_interior=32&m.n_boundary=8&m.n_initial=8&t.steps=3000"
    _open(page, url + f"?problem=burgers1d&{tiny}")
    (workbench,) = sessions.values()

    # Mouse clicks at the buttons' places, as a user's: a disabled button takes the click and
    # does nothing (Playwright's own click would wait for it to be enabled).
    places = {}
    for name in BUTTONS:
        box = _button(page, name).bounding_box()
        places[name] = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    rng = random.Random(SEED)
    started, switches = time.monotonic(), 0
    for _ in range(CLICKS):
        if rng.random() < 0.1:
            switches += _switch(page, rng)
        else:
            page.mouse.click(*places[rng.choice(BUTTONS)])
        page.wait_for_timeout(rng.uniform(0, 60))
    print(f"{CLICKS} clicks ({switches} switches) in {time.monotonic() - started:.1f} s")

    # Settle: end any training (clicks of the burst may still be queued) until the status line
    # and the plot hold still in a final state.
    def reading() -> tuple:
        steps = _plotted(page, workbench)[0]
        # None while the page has not yet got a plot the server has just built.
        last = None if steps is None else steps[-1] if steps else -1
        return page.locator(".wb-state").text_content(), _step(page), last

    previous = None

    def settled() -> bool:
        nonlocal previous
        now = reading()
        if now[0] not in FINAL and _button(page, "Stop").is_enabled():
            _button(page, "Stop").click()
        page.wait_for_timeout(700)
        steady, previous = now == previous and now[0] in FINAL and now[2] is not None, now
        return steady and not workbench.live.active

    _wait_for(settled, bool, "the page to settle after the clicks")
    state, step, last = previous
    # The page's status line and its loss plot tell the same story...
    assert step == last + 1 or (state == "idle" and step == 0 and last == -1), previous
    # ...and so does the server: its worker, and the plot's data it holds for the page.
    assert (workbench.live.state, workbench.live.step_count) == (state, step)
    on_page, on_server = _plotted(page, workbench)
    assert on_page == on_server

    # The server answers the next clicks as the page expects.
    _button(page, "Reset").click()
    expect(page.locator(".wb-state")).to_have_text("idle", timeout=TIMEOUT_MS)
    expect(page.locator(".wb-step")).to_have_text("0")
    _wait_for(lambda: _points(page, workbench), lambda n: n == 0, "an empty loss plot")
    _button(page, "Step").click()
    expect(page.locator(".wb-state")).to_have_text("paused", timeout=TIMEOUT_MS)
    expect(page.locator(".wb-step")).to_have_text("1", timeout=TIMEOUT_MS)
    _wait_for(lambda: _points(page, workbench), lambda n: n == 1, "one loss point")
    _button(page, "Stop").click()
    expect(page.locator(".wb-state")).to_have_text("stopped", timeout=TIMEOUT_MS)
    assert (workbench.live.state, workbench.live.step_count) == ("stopped", 1)
    assert _plotted(page, workbench) == ([0], [0])

    assert errors == [], errors[:5]
    assert server_errors == [], server_errors[:3]


def _points(page: Page, workbench: Workbench) -> int:
    """Points in the page's live loss plot; -1 while it lacks the server's data source."""
    on_page = _plotted(page, workbench)[0]
    return -1 if on_page is None else len(on_page)


def _plotted(page: Page, workbench: Workbench) -> tuple[list[int] | None, list[int]]:
    """The steps in the live loss plot: the page's copy (None if the page does not hold the
    server's data source), and the server's."""
    source = workbench.live_view._loss_plot.source
    on_server = [int(s) for s in source.data.get("step", [])]
    on_page = page.evaluate(STEPS_JS, source.id)
    return (None if on_page is None else [int(s) for s in on_page]), on_server
