"""Runs of closed pages, kept a while for the same browser's next page (a reload, mostly).

A served page that closes (reload, closed tab, lost connection) while it trains or is paused
does not lose its training silently: the training is stopped, keeping its Run so far, and the
Run waits in a :class:`RecoveryStore` under the browser's token, a random value the page keeps
in a cookie. The next page of that browser finds it there: its Runs tab lists it as
``recovered: pinn on burgers1d, step 812`` and, if that page is idle with the same problem and
method, it shows the Run as its own (status line, plots, Save, Download).

The store lives in the server's memory, so it works with ``--no-disk``; it is bounded (runs,
megabytes) and its runs expire. A browser sees only its own token's runs; the token is 128
random bits, not derived from anything.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import param

from workbench.results import Run

#: The cookie holding a browser's token.
COOKIE = "workbench_browser"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass
class Recovered:
    """A closed page's training, as kept for the browser's next page.

    Attributes
    ----------
    label : str
        How the Runs tab names it: ``"recovered: pinn on burgers1d, step 812"``.
    message : str
        What the next page tells its user.
    run : Run or None
        The Run so far; None when it could not be kept (its final evaluation outlasted the
        wait), so that the page can still say what was lost.
    """

    label: str
    message: str
    run: Run | None = None
    created: float = field(default_factory=time.monotonic)

    @property
    def nbytes(self) -> int:
        """Memory held by the Run's arrays (0 without a Run)."""
        if self.run is None:
            return 0
        return sum(node.dataset.nbytes for node in self.run.tree.subtree)


class RecoveryStore(param.Parameterized):
    """Runs of closed pages by browser token, bounded in count, size and age.

    One store serves every session of a server (``workbench serve`` makes it); all methods
    are thread-safe (a closed page's worker thread puts, the next page's event loop takes).
    """

    keep_s = param.Number(
        600.0, bounds=(1.0, None), doc="Seconds a closed page's run waits for the next page."
    )
    max_runs = param.Integer(
        20, bounds=(1, None), doc="Runs kept at most, all browsers together (oldest go first)."
    )
    max_mb = param.Number(
        500.0,
        bounds=(0.001, None),
        doc="Megabytes (1e6 bytes) of run data kept at most, all browsers together (oldest "
        "go first; a run larger than this alone is not kept, only its note).",
    )

    def __init__(self, **params):
        super().__init__(**params)
        self._lock = threading.Lock()
        self._kept: list[tuple[str, Recovered]] = []  # oldest first

    def put(self, token: str, recovered: Recovered) -> None:
        """Keep ``recovered`` for ``token``'s next page, dropping the oldest over the bounds."""
        if recovered.nbytes > self.max_mb * 1e6:
            recovered.message += (
                f"; the run ({recovered.nbytes / 1e6:.0f} MB) was too large to keep "
                f"(this server keeps {self.max_mb:g} MB)"
            )
            recovered.run = None
        with self._lock:
            self._expire()
            self._kept.append((token, recovered))
            while len(self._kept) > self.max_runs or self._bytes() > self.max_mb * 1e6:
                self._kept.pop(0)

    def take(self, token: str) -> list[Recovered]:
        """Remove and return ``token``'s kept runs, oldest first."""
        with self._lock:
            self._expire()
            mine = [r for t, r in self._kept if t == token]
            self._kept = [(t, r) for t, r in self._kept if t != token]
        return mine

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._kept)

    def _expire(self) -> None:
        now = time.monotonic()
        self._kept = [(t, r) for t, r in self._kept if now - r.created < self.keep_s]

    def _bytes(self) -> int:
        return sum(r.nbytes for _, r in self._kept)


def browser_token(cookies: dict[str, str] | None) -> tuple[str, bool]:
    """The browser's token from its cookies, or a new one: ``(token, new)``.

    A cookie that does not look like a token (wrong characters or length) gets a new one.
    """
    token = (cookies or {}).get(COOKIE, "")
    if _TOKEN.fullmatch(token):
        return token, False
    return secrets.token_urlsafe(16), True


def cookie_script(token: str) -> str:
    """JavaScript that stores ``token`` in the page's cookie (same site only, one day)."""
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"token {token!r} is not a browser token (16-64 of A-Z a-z 0-9 _ -)")
    return f"document.cookie = '{COOKIE}={token}; path=/; max-age=86400; SameSite=Strict';"
