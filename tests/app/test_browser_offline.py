"""Offline: the served page needs nothing but its server.

The browser is cut off from every host but the server (``page.route`` aborts the rest), as in
a classroom behind a firewall or on a laptop without a network. The page must still load every
script, stylesheet and font it asks for, draw the app, log no console error, and use its own
font stack rather than the browser's default (Panel's Fast design links a Google web font,
which :class:`workbench.app.workbench.LocalFast` leaves out).

The server, Chromium and the helpers are those of ``test_browser.py``; its fixtures are
imported, not moved to a ``conftest.py`` (a second one would shadow ``tests/conftest.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, Route, expect
from test_browser import (  # noqa: F401 (pytest fixtures, found by name)
    TIMEOUT_MS,
    _open,
    app_url,
    base_url,
    browser_type_launch_args,
)

from workbench.app.workbench import PAGE_FONT

# [href, number of CSS rules] of each stylesheet <link> in the document; -1 rules when the
# sheet did not load (a failed or blocked link has no sheet).
STYLESHEETS_JS = """() => Array.from(document.querySelectorAll('link[rel=stylesheet]'))
  .map(l => [l.href, l.sheet ? l.sheet.cssRules.length : -1])"""


def test_page_needs_nothing_but_its_server(page: Page, app_url):  # noqa: F811
    server = urlsplit(app_url).netloc
    blocked: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def only_the_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            blocked.append(f"{route.request.resource_type} {route.request.url}")
            route.abort("internetdisconnected")

    def on_response(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    def on_failed(request: Request) -> None:
        if urlsplit(request.url).netloc == server:  # the blocked ones are listed already
            failed.append(f"{request.failure} {request.url}")

    page.route("**/*", only_the_server)
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))

    _open(page, app_url)
    # The app is drawn: Bokeh has put the live plots' canvases in the page.
    expect(page.locator("canvas").first).to_be_attached(timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle")

    assert not blocked, "the page asked for other hosts than its server:\n" + "\n".join(blocked)
    assert not failed, "requests to the server failed:\n" + "\n".join(failed)
    assert not errors, "the console logged errors:\n" + "\n".join(errors)

    sheets = page.evaluate(STYLESHEETS_JS)
    assert sheets, "the page links no stylesheet (the template's CSS is missing)"
    empty = [href for href, rules in sheets if rules <= 0]
    assert not empty, f"stylesheets that did not load: {empty}"

    # The page's own font, not the browser's default (a serif on Chromium).
    header = page.locator("#header").evaluate("e => getComputedStyle(e).fontFamily")
    assert header == PAGE_FONT, f"the header's font is {header!r}, not {PAGE_FONT!r}"
    train = page.get_by_role("button", name="Train", exact=True)
    assert train.evaluate("e => getComputedStyle(e).fontFamily") == PAGE_FONT
