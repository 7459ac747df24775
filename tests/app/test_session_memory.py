"""A closed page's session leaves nothing behind on the server: its Workbench (and with it
its widgets, Bokeh models, plots and Runs) is collected once Bokeh destroys the session.

A real Bokeh server runs in this process (a thread) with ``workbench serve``'s session
factory; each page is opened by an HTTP request, which builds the session's document, and
never connects, so Bokeh destroys the session after its unused lifetime (shortened here).
Then every Workbench must be unreachable: anything that keeps one (a class-level registry,
a callback on ``pn.state``, a watcher on a shared object) fails the test and names what holds
it. The served load test (``benchmarks/serve_load.py``) measures the memory itself.
"""

from __future__ import annotations

import gc
import socket
import time
import urllib.request
import weakref

import panel as pn
import pytest

from workbench.app import serve
from workbench.app.limits import ServeLimits
from workbench.app.recovery import RecoveryStore

PAGES = 3


@pytest.fixture
def served():
    """A server with ``workbench serve``'s sessions: (its URL, Sessions, weakrefs to each
    session's Workbench)."""
    limits = ServeLimits()
    sessions = serve.Sessions(limits)
    recovery = RecoveryStore()
    built: list[weakref.ref] = []

    def page():
        template = serve.make_session(limits, sessions, recovery=recovery, refresh_ms=200)
        built.append(weakref.ref(sessions.workbenches[pn.state.curdoc.session_context.id]))
        return template

    port = serve.free_port("127.0.0.1")
    server = pn.serve(
        {"/": page},
        address="127.0.0.1",
        port=port,
        threaded=True,
        show=False,
        verbose=False,
        check_unused_sessions_milliseconds=100,
        unused_session_lifetime_milliseconds=300,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # the server starts in its thread: wait until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/", sessions, built
    finally:
        server.stop()


def _holders(obj, ignore, depth: int = 6) -> str:
    """A chain of what holds ``obj`` (each time the first referrer that is neither a frame nor
    in ``ignore``, ``depth`` deep), for the failure message."""
    chain = []
    for _ in range(depth):
        holders = [
            h
            for h in gc.get_referrers(obj)
            if type(h).__name__ != "frame" and not any(h is i for i in ignore)
        ]
        if not holders:
            break
        obj = holders[0]
        chain.append(type(obj).__qualname__)
    return " <- ".join(chain)


def test_closed_sessions_free_their_workbench(served):
    url, sessions, built = served
    for _ in range(PAGES):
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.status == 200
    assert len(built) == PAGES
    deadline = time.monotonic() + 30
    while sessions.workbenches and time.monotonic() < deadline:
        time.sleep(0.1)  # Bokeh destroys each session 300 ms after its last connection
    assert not sessions.workbenches, "Bokeh did not destroy the sessions"
    # Bokeh and Panel finish a destroyed session's clean-up after its destroyed callback.
    deadline = time.monotonic() + 10
    while True:
        gc.collect()
        if all(ref() is None for ref in built) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    alive = [ref() for ref in built if ref() is not None]
    assert not alive, (
        f"{len(alive)} of {PAGES} closed sessions' Workbenches are still alive; "
        f"held by {_holders(alive[0], ignore=[alive])}"
    )
