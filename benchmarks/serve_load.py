"""Load test of ``workbench serve``: N browser sessions training at once, then all closed.

Starts ``workbench serve --port 0`` on 127.0.0.1 in a subprocess (its URL read from what it
prints), opens ``--sessions`` pages in one headless Chromium (one browser context per page,
so each is its own session, as separate visitors are), presses Train in each on a cheap pair
(``burgers1d`` with ``pinn`` by default), lets them train ``--seconds``, closes every page while
the trainings still run, and waits ``--after-s``. Then it prints a table and checks three
musts:

- **tracebacks**: the server's log holds no traceback and none of Bokeh's closed-connection
  complaints (``Failed sending message``, ``AssertionError``, ``_pending_writes should be
  non-None``), which a tab closed under load used to leave; every such line counts;
- **memory**: the server's RSS ``--after-s`` after the pages closed is within ``--tolerance``
  (15 %) of its RSS at the start;
- **progress**: every session that got a training slot took steps.

The start is measured after one warm-up page has been opened, trained briefly and closed: a
server's first page imports the plotting and training code, once per process, and that is
not what a visitor's session leaves behind. The cold RSS (before the warm-up) is printed too.

Slot refusals are Train presses answered with the server's concurrency cap
(``--max-trainings``); a refused page presses Train again every 5 s, as a visitor would.
Steps/s per session is read from the page's status line (the steps the page was shown).

Run::

    python benchmarks/serve_load.py [--sessions 10] [--seconds 60] [--after-s 60]
                                    [--max-trainings N] [--pair burgers1d/pinn]

Exit status 0 when every must holds, 1 otherwise. RSS comes from psutil when installed,
else from /proc. ``tests/app/test_serve_load.py`` runs a 4-session, 20-second version.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

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

#: Lines of the server's log that count as tracebacks: Python's own, and what Bokeh logs when
#: a closing tab's connection is written to (each is a traceback or an error the server hid).
TRACEBACK_PATTERNS = (
    r"Traceback \(most recent call last\)",
    r"AssertionError",
    r"Failed sending message",
    r"_pending_writes should be non-None",
    r"\bERROR\b",
)

REFUSAL = "maximum of"


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return psutil.Process(pid).memory_info().rss


class RssWatch:
    """Samples a process's RSS every ``period`` seconds in a thread; keeps the peak and when it
    was (``time.monotonic()``)."""

    def __init__(self, pid: int, period: float = 0.25):
        self.pid, self.period, self.peak, self.peak_at = pid, period, 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.now()
            except (OSError, RuntimeError):
                return  # the process has gone
            self._stop.wait(self.period)

    def now(self) -> int:
        value = rss_bytes(self.pid)
        if value > self.peak:
            self.peak, self.peak_at = value, time.monotonic()
        return value

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def start_server(folder: Path, options: list[str]) -> tuple[subprocess.Popen, str, Path]:
    """``workbench serve --port 0`` in a subprocess: the process, its URL and its log."""
    log_path = folder / "serve.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "workbench.cli", "serve", "--port", "0"]
    command += ["--address", "127.0.0.1", "--runs-dir", str(folder / "runs"), *options]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + 120
    while True:
        match = re.search(r"serving at (http://\S+)", log_path.read_text())
        if match:
            url = match.group(1)
            break
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"workbench serve did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    import urllib.request

    while True:  # the URL is printed before the server listens
        try:
            with urllib.request.urlopen(url + "liveness", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(
                    f"workbench serve did not answer:\n{log_path.read_text()}"
                ) from None
            time.sleep(0.2)
    return server, url, log_path


def count_tracebacks(text: str) -> tuple[int, list[str]]:
    """How many lines of a server log count as tracebacks (see :data:`TRACEBACK_PATTERNS`),
    and those lines."""
    pattern = re.compile("|".join(TRACEBACK_PATTERNS))
    lines = [line for line in text.splitlines() if pattern.search(line)]
    return len(lines), lines


@dataclass
class Session:
    """One page of the load test and what it saw."""

    context: object
    page: object
    refusals: int = 0
    started_at: float | None = None  # when the page first showed a step > 0
    first_step: int = 0
    last_step: int = 0
    last_at: float = 0.0
    pressed_at: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        if self.started_at is None or self.last_at <= self.started_at:
            return None
        return (self.last_step - self.first_step) / (self.last_at - self.started_at)


def _step(page) -> int:
    text = page.locator(".wb-step").first.text_content(timeout=5_000) or "0"
    return int(text)


def _refused(page) -> bool:
    alert = page.get_by_text(REFUSAL).first
    return alert.count() > 0 and alert.is_visible()


def _open(browser, url: str, timeout_ms: int):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(url, timeout=timeout_ms)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=timeout_ms)
    return context, page


def _press_train(session: Session) -> None:
    session.page.get_by_role("button", name="Train", exact=True).click(timeout=30_000)
    session.pressed_at = time.monotonic()


def _poll(session: Session, now: float) -> None:
    page = session.page
    step = _step(page)
    if step > 0:
        if session.started_at is None:
            session.started_at, session.first_step = now, step
        session.last_step, session.last_at = step, now
    elif now - session.pressed_at > 5 and _refused(page):
        # A refused Train: count it, clear the message's trigger and press again.
        session.refusals += 1
        _press_train(session)


def run(args) -> dict:
    """Run the load test; the measurements as a dict (see :func:`report`)."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="serve-load-"))
    options = []
    if args.max_trainings:
        options += ["--max-trainings", str(args.max_trainings)]
    options += args.serve_option
    server, url, log_path = start_server(folder, options)
    problem, method = args.pair.split("/")
    query = f"?problem={problem}&method={method}&t.steps={args.steps}"
    timeout_ms = int(args.page_timeout_s * 1000)
    result: dict = {"sessions": args.sessions, "seconds": args.seconds, "after_s": args.after_s}
    try:
        with RssWatch(server.pid) as watch, sync_playwright() as playwright:
            result["rss_cold"] = watch.now()
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            # Warm-up: the server's first page imports what every later one reuses.
            context, page = _open(browser, url + query, timeout_ms)
            warm = Session(context, page)
            _press_train(warm)
            deadline = time.monotonic() + args.page_timeout_s
            while _step(page) == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            context.close()
            time.sleep(args.settle_s)
            result["rss_start"] = watch.now()
            watch.peak = result["rss_start"]

            sessions = []
            for _ in range(args.sessions):
                context, page = _open(browser, url + query, timeout_ms)
                sessions.append(Session(context, page))
            for session in sessions:
                _press_train(session)
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                for session in sessions:
                    try:
                        _poll(session, time.monotonic())
                    except Exception as err:  # a page that stopped answering: say so
                        session.errors.append(f"{type(err).__name__}: {err}"[:200])
                time.sleep(0.5)
            result["rss_loaded"] = watch.now()
            # Close every tab while its training still runs: the case that used to fill the
            # log with Bokeh's errors.
            for session in sessions:
                session.context.close()
            browser.close()
            closed_at = time.monotonic()
            time.sleep(args.after_s)
            result["rss_after"] = watch.now()
            result["rss_peak"] = watch.peak
            result["rss_peak_after_close_s"] = watch.peak_at - closed_at
            result["after_measured_s"] = time.monotonic() - closed_at
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    log_text = log_path.read_text()
    count, lines = count_tracebacks(log_text)
    rates = [s.rate for s in sessions]
    result.update(
        rates=rates,
        refusals=sum(s.refusals for s in sessions),
        page_errors=[e for s in sessions for e in s.errors],
        tracebacks=count,
        traceback_lines=lines[:20],
        log=str(log_path),
        trained=sum(r is not None for r in rates),
    )
    return result


def report(result: dict, tolerance: float) -> list[str]:
    """Print the table; the musts that failed (empty when all held)."""
    mb = 1e6
    rates = [r for r in result["rates"] if r is not None]
    start, after = result["rss_start"], result["rss_after"]
    growth = after / start - 1
    rows = [
        ("sessions", f"{result['sessions']} x {result['seconds']} s"),
        ("sessions that trained", f"{result['trained']} / {result['sessions']}"),
        (
            "steps/s per session (median / min / max)",
            f"{statistics.median(rates):.1f} / {min(rates):.1f} / {max(rates):.1f}"
            if rates
            else "-",
        ),
        ("steps/s, all sessions together", f"{sum(rates):.1f}" if rates else "-"),
        ("slot refusals", str(result["refusals"])),
        ("server tracebacks / errors in its log (must be 0)", str(result["tracebacks"])),
        ("page errors (pages that stopped answering)", str(len(result["page_errors"]))),
        ("RSS cold (before the warm-up page)", f"{result['rss_cold'] / mb:.0f} MB"),
        ("RSS start (after the warm-up page closed)", f"{start / mb:.0f} MB"),
        ("RSS with all sessions training", f"{result['rss_loaded'] / mb:.0f} MB"),
        (
            "RSS peak (when: seconds after the pages closed)",
            f"{result['rss_peak'] / mb:.0f} MB ({result['rss_peak_after_close_s']:+.1f} s)",
        ),
        (
            f"RSS {result['after_s']:.0f} s after closing (within {tolerance:.0%} of start)",
            f"{after / mb:.0f} MB ({growth:+.1%})",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    failed = []
    if result["tracebacks"]:
        failed.append(f"{result['tracebacks']} traceback/error lines in the server log")
        for line in result["traceback_lines"]:
            print("   ", line)
    if growth > tolerance:
        failed.append(f"RSS after closing is {growth:+.1%} from the start (over {tolerance:.0%})")
    slots = result.get("max_trainings") or result["sessions"]
    if result["trained"] < min(slots, result["sessions"]):
        failed.append(f"only {result['trained']} sessions trained (slots: {slots})")
    for line in failed:
        print("FAILED:", line)
    print(f"server log: {result['log']}")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of training")
    parser.add_argument(
        "--after-s", type=float, default=60.0, help="wait after closing the pages, then RSS"
    )
    parser.add_argument(
        "--max-trainings", type=int, default=None, help="the server's --max-trainings"
    )
    parser.add_argument("--pair", default="burgers1d/pinn", help="problem/method each trains")
    parser.add_argument("--steps", type=int, default=1_000_000, help="steps asked per training")
    parser.add_argument("--tolerance", type=float, default=0.15, help="allowed RSS growth")
    parser.add_argument("--settle-s", type=float, default=20.0, help="wait after the warm-up")
    parser.add_argument("--page-timeout-s", type=float, default=120.0, help="page load timeout")
    parser.add_argument(
        "--serve-option", action="append", default=[], help="another flag for serve (repeat)"
    )
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--json", help="write the measurements to this JSON file")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0 or args.after_s < 0:
        parser.error("--sessions must be >= 1, --seconds > 0 and --after-s >= 0")
    result = run(args)
    result["max_trainings"] = args.max_trainings
    failed = report(result, args.tolerance)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
