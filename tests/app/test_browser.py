"""End to end in a real browser: ``workbench serve`` driven by Playwright (system Chromium).

The unit tests drive the Workbench from Python; these check what only a browser shows: that
the page's widgets reach the server, that the live status and loss plot update over the
websocket, that Pause holds, that each tab is its own session, and that a link's query sets
the page up (or is refused with a message, without breaking the page).

Locators: Panel renders widgets inside shadow roots. Playwright's role, text and CSS locators
pierce them; ``document.querySelector`` in page JavaScript does not, so JavaScript is only used
to read Bokeh's models (``window.Bokeh.documents``).

The browser is Debian's ``/usr/bin/chromium`` (Playwright's own download does not work on the
project's machines); the tests skip when it is not installed. The fixtures that point
pytest-playwright at it live here, not in a ``tests/app/conftest.py``: a second ``conftest``
module would shadow ``tests/conftest.py`` for ``from conftest import shared_data``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

CHROMIUM = Path("/usr/bin/chromium")

# No display, no GPU, no sandbox (containers) and no calls home at start-up.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name):
    """pytest-playwright's launch options (--headed, --slowmo, ...) plus the system Chromium."""
    if browser_name not in (None, "chromium"):
        return browser_type_launch_args
    if not CHROMIUM.is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}, which is not installed")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """pytest-playwright's own ``base_url``, as a plain function.

    The plugin defines it as a method of a plugin class, which pytest 9 warns about
    (PytestRemovedIn10Warning) in every run that uses a page.
    """
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None


# The number of points in the loss plot: the longest "step" column of any Bokeh data source,
# or -1 when the page has no such source (so "0 points" is not confused with "no plot yet").
LOSS_POINTS_JS = """() => {
  let n = -1;
  for (const doc of window.Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data;
    if (d == null || typeof d !== 'object') continue;
    const s = d instanceof Map ? d.get('step') : d['step'];
    if (s != null && s.length > n) n = s.length;
  }
  return n;
}"""

# Generous: the shared 2-core box runs the server's training and the browser side by side.
TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_live(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "liveness", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serving(
    folder: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, Path]]:
    """``workbench serve`` on a free loopback port: its URL, and the log of its output.

    ``options`` are more ``serve`` flags (``--max-trainings 1``), ``env`` more environment.
    """
    log_path = folder / "serve.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    # One torch thread leaves the second core to Chromium (tests/conftest.py does the same
    # for the tests' own process).
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    command = [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)]
    command += ["--address", "127.0.0.1", "--runs-dir", str(folder / "runs"), *options]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        deadline = time.monotonic() + 60
        while not _is_live(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"workbench serve did not come up at {url} (exit code {server.poll()}):\n"
                    + log_path.read_text()
                )
            time.sleep(0.2)
        yield url, log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """``workbench serve`` on a free loopback port, for this module's tests; its URL."""
    with serving(tmp_path_factory.mktemp("serve")) as (url, _):
        yield url


def _open(page: Page, url: str) -> None:
    page.goto(url)
    # The Train button exists once Panel has rendered the template from the server's document.
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible(timeout=TIMEOUT_MS)


def _step(page: Page) -> int:
    return int(page.locator(".wb-step").text_content(timeout=TIMEOUT_MS))


def _loss_points(page: Page) -> int:
    return page.evaluate(LOSS_POINTS_JS)


def _wait_for(read: Callable[[], int], ok: Callable[[int], bool], what: str) -> int:
    """Poll ``read()`` until ``ok`` holds (integers Playwright's ``expect`` cannot compare)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    value = read()
    while not ok(value):
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last value {value}"
        time.sleep(0.1)
        value = read()
    return value


def _select_with(page: Page, option: str):
    """The <select> offering ``option`` (the sidebar has several selects; order may change)."""
    select = page.locator("select").filter(has=page.locator(f"option[value='{option}']"))
    expect(select).to_have_count(1, timeout=TIMEOUT_MS)
    return select


def test_train_pause_and_separate_sessions(page: Page, new_context, app_url, tmp_path):
    # Many steps, so the training is still running when Pause is pressed on a fast machine.
    _open(page, app_url + "?t.steps=100000")
    problem = _select_with(page, "burgers1d")

    # Switch away and back, so the test covers a problem change reaching the server; the page
    # URL follows the set-up, which tells when the server has taken each choice.
    problem.select_option("poisson1d")
    expect(page).to_have_url(re.compile(r"problem=poisson1d"), timeout=TIMEOUT_MS)
    problem.select_option("burgers1d")
    expect(page).to_have_url(re.compile(r"problem=burgers1d"), timeout=TIMEOUT_MS)
    method = _select_with(page, "pinn")
    method.select_option("pinn")
    expect(problem).to_have_value("burgers1d")
    expect(method).to_have_value("pinn")
    assert _step(page) == 0 and _loss_points(page) == 0

    page.get_by_role("button", name="Train", exact=True).click()
    first = _wait_for(lambda: _step(page), lambda s: s > 0, "the step count to leave 0")
    _wait_for(lambda: _step(page), lambda s: s > first, f"the step count to pass {first}")
    _wait_for(lambda: _loss_points(page), lambda n: n > 0, "points in the loss plot")
    expect(page.locator(".wb-state")).to_have_text("training")

    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator(".wb-state")).to_have_text("paused", timeout=TIMEOUT_MS)
    # Pause acts after the step in flight, which may still land on the next refresh (200 ms):
    # wait until two readings half a second apart agree before checking that it holds.
    previous = _step(page)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        page.wait_for_timeout(500)
        paused_at = _step(page)
        if paused_at == previous:
            break
        assert time.monotonic() < deadline, "the step count kept moving after Pause"
        previous = paused_at
    points = _loss_points(page)
    page.wait_for_timeout(1000)
    assert _step(page) == paused_at, "the step count moved while paused"
    assert _loss_points(page) == points, "the loss plot grew while paused"
    expect(page.locator(".wb-state")).to_have_text("paused")

    shot = tmp_path / "paused.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 10_000

    # A second browser context is a new session: its own idle Workbench on the same server.
    other = new_context().new_page()
    _open(other, app_url)
    expect(other.locator(".wb-state")).to_have_text("idle")
    expect(other.locator(".wb-step")).to_have_text("0")
    assert _loss_points(other) == 0

    # ...and the first session is untouched by it.
    expect(page.locator(".wb-state")).to_have_text("paused")
    assert _step(page) == paused_at
    assert _loss_points(page) == points


def test_url_query_sets_up_the_page(page: Page, app_url):
    _open(page, app_url + "?problem=helmholtz2d&method=pinn&t.steps=1234")
    expect(_select_with(page, "helmholtz2d")).to_have_value("helmholtz2d")
    expect(_select_with(page, "pinn")).to_have_value("pinn")
    values = page.locator("input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert "1234" in values, f"no input shows t.steps=1234; inputs hold {values}"

    # A bad link still opens the default set-up, and says what was wrong with it.
    _open(page, app_url + "?problem=nope")
    expect(_select_with(page, "burgers1d")).to_have_value("burgers1d")
    message = page.locator(".alert").filter(has_text="unknown problem 'nope'")
    expect(message).to_be_visible(timeout=TIMEOUT_MS)
