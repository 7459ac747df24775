"""``workbench serve``: the Workbench as a web app, one independent Workbench per browser tab."""

from __future__ import annotations

import logging
import time

import panel as pn
from panel.io.state import set_curdoc
from tornado.ioloop import PeriodicCallback

from workbench.app.limits import UPLOAD_CHUNK_BYTES, ServeLimits, release_memory
from workbench.app.recovery import RecoveryStore
from workbench.app.setup import read_query
from workbench.app.workbench import Workbench

log = logging.getLogger(__name__)

#: A session whose page has had no connection for this long has been closed: its training is
#: discarded at once, instead of when Bokeh destroys the session (15-18 s later, a delay
#: that covers slow page loads, which a training cannot be in: it starts from the page).
LOST_PAGE_MS = 1500


def _query_of_session() -> dict[str, str]:
    # session_args holds the page's query string as {key: [bytes, ...]}.
    args = pn.state.session_args or {}
    return {k: v[-1].decode() for k, v in args.items() if v}


class Sessions:
    """The server's sessions: each one's Workbench, and when its visitor last did anything.

    The server's watchdog (:meth:`watch`, every half second) acts on them:

    - a session whose page has had no connection for :data:`LOST_PAGE_MS` (a closed tab) has
      its training stopped at once (its Run kept for the browser's next page, see
      :meth:`Workbench.shutdown`), instead of when Bokeh destroys the session;
    - a training paused ``idle_release_s`` without a Step or Resume is stopped, its Run kept;
    - a page open ``session_idle_s`` with no input from its visitor, and nothing training or
      sweeping, is told so and closed: Bokeh then destroys the session, which frees its
      Workbench, Runs and plots;
    - after sessions are destroyed, memory is collected and handed back to the system, so the
      server's footprint returns to what it was before the visitors came;
    - every :data:`KEEP_ALIVE_S` the open pages are pinged (instead of Bokeh's keep-alive).
    """

    def __init__(self, limits: ServeLimits):
        self.limits = limits
        self.workbenches: dict[str, Workbench] = {}
        self._touched: dict[str, float] = {}
        self._closing: dict[str, float] = {}
        self._trim_at: list[float] = []
        self._pinged = time.monotonic()

    def add(self, session_id: str, workbench: Workbench, doc) -> None:
        """Keep ``workbench`` under ``session_id`` while its session lives; watch ``doc`` for
        its visitor's input (what the page changes, and clicks of the Workbench's buttons)."""
        self.workbenches[session_id] = workbench
        self.touch(session_id)

        def changed(event) -> None:
            # The server's own redraws have no setter; what the page sends has its session.
            if getattr(event, "setter", None) is not None:
                self.touch(session_id)

        doc.on_change(changed)
        # A click reaches the server as an event, not a change: watch each button's count.
        page = pn.Column(workbench.controls, workbench.sidebar, workbench.tabs)
        for button in page.select(pn.widgets.Button):
            button.param.watch(lambda event: self.touch(session_id), "clicks")

    def touch(self, session_id: str) -> None:
        """Note input from the visitor of ``session_id`` now."""
        self._touched[session_id] = time.monotonic()
        self._closing.pop(session_id, None)

    def remove(self, session_id: str) -> None:
        """Forget a destroyed session; collect memory soon (its worker may still be ending)."""
        self.workbenches.pop(session_id, None)
        self._touched.pop(session_id, None)
        self._closing.pop(session_id, None)
        now = time.monotonic()
        # Once when its training has surely ended (a checkpoint), once more for stragglers.
        self._trim_at = [now + 1.0, now + 10.0]

    def idle_s(self, session_id: str) -> float:
        """Seconds since the visitor of ``session_id`` last did anything (or its training or
        sweep last ran)."""
        return time.monotonic() - self._touched.get(session_id, time.monotonic())

    def watch(self, server) -> None:
        """One pass of the watchdog over ``server``'s sessions (see the class's notes)."""
        now = time.monotonic()
        for session in server.get_sessions():
            workbench = self.workbenches.get(session.id)
            if workbench is None:
                continue
            connected = session.connection_count > 0
            if workbench.live.active:
                self.touch(session.id)  # a training is not an idle page
                if not connected and session.milliseconds_since_last_unsubscribe >= LOST_PAGE_MS:
                    log.info("session %s lost its page: its training stops", session.id)
                    workbench.shutdown()
                elif self.limits.idle_release_s is not None and workbench.release_if_idle(
                    self.limits.idle_release_s
                ):
                    log.info("session %s paused too long: its training stopped", session.id)
                continue
            if workbench.sweeps.active:
                self.touch(session.id)
                continue
            limit = self.limits.session_idle_s
            if limit is None or not connected:
                continue
            asked = self._closing.get(session.id)
            if asked is None and self.idle_s(session.id) >= limit:
                log.info("session %s idle for %.0f s: closing it", session.id, limit)
                self._closing[session.id] = now
                _tell(session.document, workbench, _idle_message(limit))
            elif asked is not None and now - asked >= CLOSE_AFTER_NOTICE_S:
                _close_connections(session)
        if now - self._pinged >= KEEP_ALIVE_S:
            self._pinged = now
            for session in server.get_sessions():
                _ping(session)
        if self._trim_at and now >= self._trim_at[0]:
            self._trim_at.pop(0)
            release_memory()


class _ClosedPageWrites(logging.Filter):
    """Bokeh's "Failed sending message as connection was closed", moved to debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "connection was closed" in record.getMessage():
            log.debug("a message to a page that had just closed was dropped")
            return False
        return True


def quiet_closed_pages(loop) -> None:
    """Log a write to a page that closed while it was under way at debug level, not as a
    warning or an unretrieved task's traceback.

    The watchdog and the redraws skip pages that have gone (see
    :func:`workbench.app.live.page_state`), but a tab can close while a message to it is being
    written. Bokeh then logs a warning per message, and Panel's writes of a message's parts,
    gathered as tasks, leave the remaining parts' ``WebSocketClosedError`` unretrieved, which
    asyncio prints as tracebacks. Nothing is lost (the page is gone), and a public demo's log
    should show the errors that matter. Every other exception still reaches the loop's
    handler, and every other Bokeh message its log.
    """
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    logging.getLogger("bokeh.server.views.ws").addFilter(_ClosedPageWrites())

    def handler(loop, context) -> None:
        if isinstance(context.get("exception"), WebSocketClosedError | StreamClosedError):
            log.debug("a write to a page that had just closed failed: %s", context.get("message"))
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


#: Largest websocket message a page may send: an upload's piece and room for its header.
WEBSOCKET_MAX_MESSAGE_BYTES = 4 * UPLOAD_CHUNK_BYTES

#: Seconds between telling an idle page it is closed and closing it (for the message to land).
CLOSE_AFTER_NOTICE_S = 2.0

#: Bokeh's check for sessions without a page, every this many ms (its default is 17 s).
CHECK_UNUSED_SESSIONS_MS = 3_000
#: A session whose page has had no connection this long is destroyed (Bokeh's default, 15 s:
#: the session exists from the page's HTTP request until its websocket connects, which a
#: busy machine can take seconds to do). A closed tab's memory is free within ~18 s.
UNUSED_SESSION_LIFETIME_MS = 15_000


def _idle_message(limit_s: float) -> str:
    minutes = f"{limit_s / 60:.0f} min" if limit_s >= 120 else f"{limit_s:.0f} s"
    return (
        f"This page had no input for {minutes} and nothing training, so the server closed it "
        "to free its memory for other visitors. Reload the page to start again."
    )


def _tell(doc, workbench: Workbench, message: str) -> None:
    # From the watchdog (not in the session's document): the message is drawn on the
    # document's own next tick, under its lock.
    def show() -> None:
        with set_curdoc(doc):
            workbench.notify(message, "warning")

    doc.add_next_tick_callback(show)


def _close_connections(session) -> None:
    """Close the websockets of a Bokeh ``ServerSession`` (Bokeh then destroys the session
    after :data:`UNUSED_SESSION_LIFETIME_MS`)."""
    # Bokeh has no public call that closes a session with its page still connected.
    for connection in list(getattr(session, "_subscribed_connections", ())):
        socket = getattr(connection, "_socket", None)
        if socket is not None:
            socket.close(code=1000, reason="idle page closed by the server")


#: Seconds between keep-alive pings to every page (Bokeh's own are off, see :func:`_ping`).
KEEP_ALIVE_S = 37.0


def _ping(session) -> None:
    """Ping the pages of a Bokeh ``ServerSession``, so proxies keep idle websockets open.

    Bokeh's own keep-alive, on a tab that has just closed (its stream closed, Bokeh not yet
    told), detaches the connection from its session; the page's last messages and then
    Bokeh's own close handler fail on that with AssertionErrors in the log. Pings here skip
    closed streams and leave the closing to the close handler.
    """
    from tornado.websocket import WebSocketClosedError

    for connection in list(getattr(session, "_subscribed_connections", ())):
        websocket = getattr(getattr(connection, "_socket", None), "ws_connection", None)
        if websocket is None or websocket.is_closing() or websocket.stream.closed():
            continue
        try:
            connection.send_ping()
        except WebSocketClosedError:
            pass  # closing: the close handler cleans up


def make_session(
    limits: ServeLimits, sessions: Sessions | None = None, **params
) -> pn.template.FastListTemplate:
    """Build one session's page: a fresh Workbench, set up from the URL query if it has one
    (and kept in ``sessions`` while the session lives).

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
    doc = pn.state.curdoc
    context = doc.session_context if doc is not None else None
    if sessions is not None and context is not None:
        sessions.add(context.id, workbench, doc)

    def destroyed(context) -> None:
        if sessions is not None:
            sessions.remove(context.id)
        workbench.shutdown()

    pn.state.on_session_destroyed(destroyed)
    return workbench.template()


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
    sessions = Sessions(limits)
    server = pn.serve(
        {"/": lambda: make_session(limits, sessions, **params)},
        verbose=False,
        address=address,
        port=port,
        websocket_origin=allow_websocket_origin or [f"{address}:{port}", f"localhost:{port}"],
        show=show,
        title="workbench",
        liveness=True,
        # Uploads arrive in pieces of UPLOAD_CHUNK_BYTES (see CappedUpload), and nothing else
        # a page sends comes near that: a larger message closes its connection unread.
        websocket_max_message_size=WEBSOCKET_MAX_MESSAGE_BYTES,
        check_unused_sessions_milliseconds=CHECK_UNUSED_SESSIONS_MS,
        unused_session_lifetime_milliseconds=UNUSED_SESSION_LIFETIME_MS,
        keep_alive_milliseconds=0,  # the watchdog pings instead (see _ping)
        threaded=False,
        start=False,
    )
    quiet_closed_pages(server.io_loop.asyncio_loop)
    watch = PeriodicCallback(lambda: sessions.watch(server), 500)
    server.io_loop.add_callback(watch.start)
    server.start()
    try:
        server.io_loop.start()
    finally:
        watch.stop()
    return server
