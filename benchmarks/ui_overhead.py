"""What the live Workbench costs: training speed with live plots vs headless, and click latency.

Three measurements on one configuration (burgers1d + pinn at default knobs, CPU, 1 torch
thread, the Workbench's default 200 ms refresh and 48-point snapshots):

1. ``fit()`` headless: steps/s over a fixed wall-time budget.
2. The Workbench in this process, its periodic refresh replaced by a loop that calls
   ``flush()`` every ``refresh_ms`` into a real Bokeh document (no browser): steps/s.
3. ``workbench serve`` in a subprocess with headless Chromium on the same machine, the browser
   cut off from every host but the server (as offline): for each of ``--loads`` page loads,
   in a fresh browser context, the times from navigation start (the page's own
   ``performance`` clock) to the first byte of the page, to its first contentful paint and to
   the Train button; then, in the last load, Train pressed as soon as it shows: the time from
   navigation start and from the click to the first points in the page's loss plot, and
   steps/s read from the page's status line while the live plots update. Skipped when
   Chromium is absent.

Run::

    python benchmarks/ui_overhead.py [--seconds 15] [--loads 3] [--chromium /usr/bin/chromium]

Prints two tables. On a 2-core machine the browser in (3) competes with training for the same
cores, so (2) isolates the Workbench's own overhead. The server builds each session's
Workbench before it sends the page, so the first byte, not the browser, dominates first paint.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from urllib.parse import urlencode

import torch

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

#: Bokeh data of the page's loss plot: the length of the longest ``step`` column.
LOSS_POINTS_JS = """() => { let n = 0;
  for (const doc of window.Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data; if (d == null || typeof d !== 'object') continue;
    const s = d instanceof Map ? d.get('step') : d['step'];
    if (s && s.length > n) n = s.length; }
  return n; }"""


def headless(seconds: float) -> tuple[float, str]:
    """Steps/s of ``fit()`` at default knobs in a time budget, and its compile decision."""
    from workbench import PINN, Burgers1D, fit

    run = fit(Burgers1D(), PINN(), steps=10**6, max_wall_s=seconds, progress=False)
    return run.attrs["steps"] / run.attrs["wall_s"], run.attrs["compile"]


def in_process(seconds: float) -> tuple[float, float]:
    """Steps/s of a Workbench with flushes into a Bokeh document, and mean flush ms."""
    from bokeh.document import Document

    from workbench.app import Workbench

    workbench = Workbench()
    workbench.setup.training.steps = 10**6
    workbench.__panel__().get_root(Document())
    workbench.train()
    flush_s, flushes, start = 0.0, 0, time.perf_counter()
    first_step = None
    while time.perf_counter() - start < seconds:
        time.sleep(workbench.refresh_ms / 1000)
        t = time.perf_counter()
        workbench.flush()
        flush_s += time.perf_counter() - t
        flushes += 1
        if first_step is None and workbench.live.step_count > 0:
            first_step, first_wall = workbench.live.step_count, workbench.live.wall_s
    steps, wall = workbench.live.step_count, workbench.live.wall_s
    workbench.stop()
    workbench.wait()
    return (steps - first_step) / (wall - first_wall), 1000 * flush_s / flushes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Milliseconds from navigation start to the first contentful paint (null before it).
FIRST_PAINT_JS = """() => { const e = performance.getEntriesByName('first-contentful-paint');
  return e.length ? e[0].startTime : null; }"""

#: Milliseconds from navigation start to the first byte of the page.
FIRST_BYTE_JS = "() => performance.getEntriesByType('navigation')[0].responseStart"


def _only_host(host: str):
    """A ``page.route`` handler that aborts requests to any other host (the page is offline)."""

    def route(r) -> None:
        if urllib.parse.urlsplit(r.request.url).netloc == host:
            r.continue_()
        else:
            r.abort("internetdisconnected")

    return route


def served(seconds: float, chromium: str, loads: int) -> dict[str, list[float] | float]:
    """Page-load times (ms from navigation start, one per load) and the live-plot timings.

    Keys: ``first_byte``, ``first_paint``, ``train_shown`` (lists, ms), ``first_update`` (ms
    from navigation start to the first loss points, Train pressed as soon as it shows),
    ``click_to_update`` (s), ``steps_per_s``.
    """
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out: dict = {"first_byte": [], "first_paint": [], "train_shown": []}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        query = urlencode({"problem": "burgers1d", "method": "pinn", "t.steps": 10**6})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for _ in range(loads):
                # A fresh context per load: nothing cached from the previous one.
                context = browser.new_context(viewport={"width": 1500, "height": 1000})
                page = context.new_page()
                page.route("**/*", _only_host(f"127.0.0.1:{port}"))
                page.goto(f"http://127.0.0.1:{port}/?{query}")
                train = page.get_by_role("button", name="Train", exact=True)
                train.wait_for(timeout=60_000)
                out["train_shown"].append(page.evaluate("() => performance.now()"))
                page.wait_for_function(f"() => ({LOSS_POINTS_JS})() === 0", timeout=30_000)
                out["first_paint"].append(
                    page.wait_for_function(FIRST_PAINT_JS, timeout=30_000).json_value()
                )
                out["first_byte"].append(page.evaluate(FIRST_BYTE_JS))
                if len(out["first_paint"]) < loads:
                    context.close()
            clicked = time.perf_counter()
            train.click()
            first = page.wait_for_function(
                f"() => ({LOSS_POINTS_JS})() > 0 ? performance.now() : false",
                polling=20,
                timeout=60_000,
            )
            out["click_to_update"] = time.perf_counter() - clicked
            out["first_update"] = first.json_value()
            page.wait_for_timeout(2000)  # past the first step's one-off costs

            def step() -> tuple[float, int]:
                return time.perf_counter(), int(page.locator(".wb-step").inner_text())

            t0, s0 = step()
            page.wait_for_timeout(seconds * 1000)
            t1, s1 = step()
            out["steps_per_s"] = (s1 - s0) / (t1 - t0)
            page.get_by_role("button", name="Stop", exact=True).click()
            browser.close()
        return out
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--loads", type=int, default=3, help="page loads timed in (3)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"burgers1d + pinn (default knobs), CPU, torch threads = 1, {os.cpu_count()} cores")
    base, decision = headless(args.seconds)
    # compile="auto" (the default): the app stays eager (a compile could not be stopped), and
    # so does fit() here, whose time budget is too short for a compile to pay.
    print(f"fit() headless: compile {decision}; the app: eager under compile='auto'")
    live, flush_ms = in_process(args.seconds)
    rows = [
        ("fit() headless", base, ""),
        ("Workbench, in-process flushes", live, f"flush {flush_ms:.1f} ms / 200 ms"),
    ]
    page = None
    if os.path.exists(args.chromium):
        page = served(args.seconds, args.chromium, args.loads)
        note = f"click->first plot {page['click_to_update']:.2f} s"
        rows.append(("Workbench served + Chromium", page["steps_per_s"], note))
    print(f"{'set-up':<32} {'steps/s':>8} {'ratio':>6}  note")
    for name, rate, note in rows:
        print(f"{name:<32} {rate:8.1f} {rate / base:6.2f}  {note}")
    if page is None:
        return
    print(f"\nserved page, offline, ms from navigation start ({args.loads} loads, first..last)")
    for key, label in [
        ("first_byte", "first byte of the page"),
        ("first_paint", "first contentful paint"),
        ("train_shown", "Train button shown"),
    ]:
        print(f"{label:<32} " + " ".join(f"{v:7.0f}" for v in page[key]))
    print(f"{'first live plot update':<32} {page['first_update']:7.0f}  (last load, Train at once)")


if __name__ == "__main__":
    threading.current_thread().name = "benchmark"
    main()
