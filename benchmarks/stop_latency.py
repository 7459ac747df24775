"""How fast Stop and Pause act in the served app, and how fast the page paints (issue 24).

Starts ``workbench serve`` on a free loopback port, opens it in Chromium (Playwright, Debian's
``/usr/bin/chromium``) and measures, ``--tries`` times each (default 20):

- ``stop pinn``: Stop during a PINN's training (pinn on burgers1d);
- ``stop generator``: Stop during a field generator's training (flow_matching on darcy2d,
  small, with slow sampling so that live snapshots take long);
- ``stop data``: Stop during data generation (fno on darcy2d, a dataset the server's fresh
  cache folder does not hold);
- ``pause``: Pause during a PINN's training.

A latency runs from the press of the button (its ``pointerdown`` in the page) to the status
line's state in the page's DOM, both on the page's clock: ``ack`` until it says
``stopping``/``stopped`` (``paused``), ``done`` until it says ``stopped``, which the server
shows once the training thread has ended. Playwright's checks before a click and the polling
do not count. With ``--second-training`` a second page
trains a PINN on burgers1d meanwhile. Once per run it also measures the time to first paint
(navigation start -> first contentful paint, from the page's performance API), to the app's
first render (the Train button visible) and from Train to the live loss plot's first point.

torch runs on one thread in the server (``OMP_NUM_THREADS=1``, as the app's tests do): on
small shared CPUs more threads make OpenMP spin and slow everything down.

Usage::

    python benchmarks/stop_latency.py                  # 20 tries, quiet
    python benchmarks/stop_latency.py --second-training
    python benchmarks/stop_latency.py --tries 3        # a quick check
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
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
TIMEOUT_S = 120.0
POLL_S = 0.025

PINN = "problem=burgers1d&method=pinn&t.steps=1000000"
GENERATOR = (
    "problem=darcy2d&method=flow_matching&t.steps=100000&m.resolution=16&m.n_train=16"
    "&m.n_test=4&m.batch_size=4&m.n_samples=4&m.posterior_samples=2&m.sample_steps=800"
    "&m.guided_steps=2&m.width=4&m.levels=1"
)
# A new data_seed per try: a dataset the cache cannot hold yet (2100 samples, over a minute).
DATA = "problem=darcy2d&method=fno&m.n_train=2000&m.data_seed={seed}"

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """``workbench serve`` with a fresh data cache in ``folder``: (process, URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WORKBENCH_DATA": str(folder / "data")}
    command = [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)]
    command += ["--address", "127.0.0.1", "--runs-dir", str(folder / "runs")]
    log = open(folder / "serve.log", "w")  # noqa: SIM115 (open while the server runs)
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "liveness", timeout=2):
                return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"workbench serve did not start; see {folder / 'serve.log'}"
                ) from None
            time.sleep(0.2)


def open_page(page: Page, url: str) -> None:
    page.goto(url, timeout=TIMEOUT_S * 1000)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=TIMEOUT_S * 1000)


def state(page: Page) -> str:
    return page.locator(".wb-state").text_content(timeout=TIMEOUT_S * 1000) or ""


def step(page: Page) -> int:
    return int(page.locator(".wb-step").text_content(timeout=TIMEOUT_S * 1000))


def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def click(page: Page, name: str) -> float:
    """Click the button ``name`` once it is enabled; the time of the click."""
    button = page.get_by_role("button", name=name, exact=True)
    wait_until(button.is_enabled, f"{name} to be enabled")
    start = time.perf_counter()
    button.click()
    return start


# Timestamps taken in the page (performance.now()), so neither Playwright's actionability
# checks before a click nor the polling in Python count: from the press of the button to the
# status line's new state in the DOM, which is what a visitor waits for. The status line is
# re-rendered on every update (its span replaced, inside Bokeh's shadow roots, where a
# MutationObserver on one root misses it), so a 10 ms timer in the page reads it, finding the
# span again through the shadow roots when the old one has left the page.
WATCH_JS = """(status) => {
  const find = (root) => {
    const hit = root.querySelector('.wb-state');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const inner = find(el.shadowRoot); if (inner) return inner; }
    }
    return null;
  };
  const marks = {down: null, states: []};
  let span = status;
  const note = () => {
    if (!span || !span.isConnected) span = find(document);
    const text = span ? span.textContent : '';
    const last = marks.states[marks.states.length - 1];
    if (!last || last[1] !== text) marks.states.push([performance.now(), text]);
  };
  note();
  // On the window, capturing: the press reaches it first, whatever element is under it.
  // The event's own time stamp (when the input reached the browser), not the handler's: a
  // page busy drawing handles the press late, and that wait counts.
  window.addEventListener('pointerdown', (e) => { marks.down = e.timeStamp; },
                          {capture: true, once: true});
  window.__wbLatency = {marks, timer: setInterval(note, 10)};
}"""


def latency(page: Page, button: str, ack: tuple[str, ...], done: str) -> tuple[float, float]:
    """Press ``button``; seconds (page clock) from the press until the status line says one of
    ``ack``, and until it says ``done``."""
    handle = page.get_by_role("button", name=button, exact=True)
    wait_until(handle.is_enabled, f"{button} to be enabled")
    status = page.locator(".wb-state").element_handle(timeout=TIMEOUT_S * 1000)
    page.evaluate(WATCH_JS, status)
    start = time.perf_counter()
    handle.click()
    while True:
        marks = page.evaluate("() => window.__wbLatency.marks")
        states = marks["states"]
        if marks["down"] is not None and any(text == done for _, text in states):
            break
        if time.perf_counter() - start > TIMEOUT_S:
            now_state = states[-1][1] if states else state(page)
            raise TimeoutError(f"{button}: state still {now_state!r} after {TIMEOUT_S} s")
        time.sleep(0.1)
    page.evaluate("() => clearInterval(window.__wbLatency.timer)")
    down = marks["down"]
    acked = next(t for t, text in states if text in ack) - down
    finished = next(t for t, text in states if text == done) - down
    return acked / 1000, finished / 1000


def one_try(page: Page, url: str, case: str, seed: int) -> tuple[float, float]:
    if case == "stop data":
        open_page(page, f"{url}?{DATA.format(seed=seed)}")
        click(page, "Train")
        wait_until(
            lambda: "generating" in (page.locator(".wb-work").first.text_content() or ""),
            "data generation",
        )
        return latency(page, "Stop", ("stopping", "stopped"), "stopped")
    query = GENERATOR if case == "stop generator" else PINN
    open_page(page, f"{url}?{query}")
    click(page, "Train")
    wait_until(lambda: step(page) > 1, "training steps")
    if case == "pause":
        return latency(page, "Pause", ("paused",), "paused")
    return latency(page, "Stop", ("stopping", "stopped"), "stopped")


def first_paint(page: Page, url: str) -> tuple[float, float, float]:
    """(first contentful paint, app rendered, Train to first loss point), seconds."""
    start = time.perf_counter()
    page.goto(f"{url}?{PINN}", timeout=TIMEOUT_S * 1000)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=TIMEOUT_S * 1000)
    rendered = time.perf_counter() - start
    fcp = page.evaluate(
        "() => { const e = performance.getEntriesByName('first-contentful-paint')[0];"
        " return e ? e.startTime / 1000 : null; }"
    )
    assert page.evaluate(LOSS_POINTS_JS) <= 0, "the loss plot has points before training"
    start = click(page, "Train")
    page.wait_for_function(f"() => ({LOSS_POINTS_JS})() > 0", timeout=TIMEOUT_S * 1000)
    plotted = time.perf_counter() - start
    click(page, "Stop")
    wait_until(lambda: state(page) == "stopped", "the training to stop")
    return fcp, rendered, plotted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=20, help="tries per case (default 20)")
    parser.add_argument(
        "--second-training",
        action="store_true",
        help="a second page trains a PINN on burgers1d while measuring",
    )
    parser.add_argument(
        "--cases",
        default="stop pinn,stop generator,stop data,pause",
        help="comma-separated subset of: stop pinn, stop generator, stop data, pause",
    )
    args = parser.parse_args(argv)
    if args.tries < 1:
        parser.error(f"--tries must be at least 1; got {args.tries}")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    known = {"stop pinn", "stop generator", "stop data", "pause"}
    if unknown := set(cases) - known:
        parser.error(f"--cases: unknown {sorted(unknown)}; known: {sorted(known)}")

    with tempfile.TemporaryDirectory(prefix="stop-latency-") as tmp:
        server, url = start_server(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                other = None
                if args.second_training:
                    other = browser.new_context().new_page()
                    open_page(other, f"{url}?{PINN}")
                    click(other, "Train")
                    wait_until(lambda: step(other) > 1, "the second training")
                fcp, rendered, plotted = first_paint(page, url)
                rows = []
                for case in cases:
                    times = [one_try(page, url, case, seed=1000 + i) for i in range(args.tries)]
                    rows.append((case, [a for a, _ in times], [d for _, d in times]))
                    print(f"  {case}: {' '.join(f'{d:.2f}' for _, d in times)}", flush=True)
                if other is not None:
                    other.get_by_role("button", name="Stop", exact=True).click()
                browser.close()
        finally:
            server.terminate()
            server.wait(15)

    load = "with a second training" if args.second_training else "quiet"
    print(f"\nstop latency, {args.tries} tries each, {load} (torch threads: 1; page clock)")
    print(f"{'case':<16} {'ack median':>11} {'ack max':>8} {'done median':>12} {'done max':>9}")
    for case, acks, dones in rows:
        print(
            f"{case:<16} {statistics.median(acks):>10.2f}s {max(acks):>7.2f}s "
            f"{statistics.median(dones):>11.2f}s {max(dones):>8.2f}s"
        )
    fcp_text = "n/a" if fcp is None else f"{fcp:.2f} s"
    print(f"\nfirst contentful paint {fcp_text}; app rendered (Train visible) {rendered:.2f} s")
    print(f"Train -> first live loss point {plotted:.2f} s")


if __name__ == "__main__":
    main()
