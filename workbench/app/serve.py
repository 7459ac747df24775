"""``workbench serve``: the Workbench as a web app, one independent Workbench per browser tab."""

from __future__ import annotations

import logging

import panel as pn
from tornado.ioloop import PeriodicCallback

from workbench.app.limits import ServeLimits
from workbench.app.recovery import RecoveryStore
from workbench.app.setup import read_query
from workbench.app.workbench import Workbench

log = logging.getLogger(__name__)

#: A session whose page has had no connection for this long has been closed: its training is
#: discarded at once, instead of when Bokeh destroys the session (15-32 s later, a delay
#: that covers slow page loads, which a training cannot be in: it starts from the page).
LOST_PAGE_MS = 1500


def _query_of_session() -> dict[str, str]:
    # session_args holds the page's query string as {key: [bytes, ...]}.
    args = pn.state.session_args or {}
    return {k: v[-1].decode() for k, v in args.items() if v}


def make_session(
    limits: ServeLimits, sessions: dict[str, Workbench] | None = None, **params
) -> pn.template.FastListTemplate:
    """Build one session's page: a fresh Workbench, set up from the URL query if it has one
    (and kept in ``sessions`` under the session's id while the session lives).

    A query's bad keys are left out and listed in one message, all of them; the page's URL then
    shows the set-up actually used, so a reload or a shared link does not repeat the mistakes.
    """
    query = _query_of_session()
    setup, errors = read_query(query) if query else (None, [])
    workbench = Workbench(setup, limits=limits, **params)
    if errors:
        listed = "\n".join(f"- {error}" for error in errors)
        workbench.notify(
            f"The link's set-up had {len(errors)} bad "
            f"{'entry' if len(errors) == 1 else 'entries'}, left out:\n\n{listed}"
        )
    if query:
        pn.state.onload(workbench.sync_query)
    context = pn.state.curdoc.session_context if pn.state.curdoc is not None else None
    if sessions is not None and context is not None:
        sessions[context.id] = workbench

    def destroyed(context) -> None:
        if sessions is not None:
            sessions.pop(context.id, None)
        workbench.shutdown()

    pn.state.on_session_destroyed(destroyed)
    return workbench.template()


def stop_lost_trainings(
    server, sessions: dict[str, Workbench], idle_release_s: float | None = None
) -> None:
    """Discard the training of every session whose page has had no connection for
    :data:`LOST_PAGE_MS` (a closed tab): the worker ends within a checkpoint and frees its
    slot. With ``idle_release_s``, also stop (keeping the Run) every training paused that
    long without a Step or Resume."""
    for session in server.get_sessions():
        workbench = sessions.get(session.id)
        if workbench is None or not workbench.live.active:
            continue
        if (
            session.connection_count == 0
            and session.milliseconds_since_last_unsubscribe >= LOST_PAGE_MS
        ):
            log.info("session %s lost its page: discarding its training", session.id)
            workbench.shutdown()
        elif idle_release_s is not None and workbench.release_if_idle(idle_release_s):
            log.info("session %s paused too long: its training stopped", session.id)


def free_port(address: str) -> int:
    """A port on ``address`` that nothing listens on now (the OS's choice for port 0)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def serve(
    *,
    address: str = "127.0.0.1",
    port: int = 5006,
    allow_websocket_origin: list[str] | None = None,
    show: bool = False,
    limits: ServeLimits | None = None,
    **params,
):
    """Serve the Workbench until interrupted; prints the URL first.

    Parameters
    ----------
    address, port
        Where to listen (loopback by default: serving beyond this machine is a choice).
    allow_websocket_origin : list of str, optional
        Hosts (``host[:port]``) allowed to open the page's websocket, needed behind a proxy or
        when serving on a public address.
    show : bool
        Open the page in a browser.
    limits : ServeLimits, optional
        Caps on steps, points and concurrent trainings for a public demo.
    **params
        Passed to every session's :class:`Workbench` (``refresh_ms``, ``runs_dir``, ...).
    """
    limits = limits or ServeLimits()
    # One store for every session: a closed page's training waits there for its browser.
    params.setdefault("recovery", RecoveryStore())
    pn.extension(notifications=True)
    if port == 0:  # "any free port": pick it now, so the URL and origins name the real one
        port = free_port(address)
    url = f"http://{address}:{port}/"
    print(f"workbench serving at {url}  (Ctrl-C to stop)", flush=True)
    sessions: dict[str, Workbench] = {}
    server = pn.serve(
        {"/": lambda: make_session(limits, sessions, **params)},
        verbose=False,
        address=address,
        port=port,
        websocket_origin=allow_websocket_origin or [f"{address}:{port}", f"localhost:{port}"],
        show=show,
        title="workbench",
        liveness=True,
        # Uploads arrive base64-encoded in one websocket message: the transport refuses
        # anything much over the upload cap before the app sees it.
        websocket_max_message_size=int(limits.max_upload_bytes * 1.4) + 1_000_000,
        threaded=False,
        start=False,
    )
    watch = PeriodicCallback(
        lambda: stop_lost_trainings(server, sessions, limits.idle_release_s), 500
    )
    server.io_loop.add_callback(watch.start)
    server.start()
    try:
        server.io_loop.start()
    finally:
        watch.stop()
    return server
