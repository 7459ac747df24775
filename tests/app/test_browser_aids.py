"""In a real browser: the Live tab's combiner diagnostics and PIG Gaussians reach the page.

The unit tests check the Bokeh models on the server; these check that the changes travel over
the websocket and leave the other plots working (an exception in a UI tick, such as Panel
raising when a Bokeh pane's visibility is toggled, drops that tick's updates for the page).
The server, Chromium and the helpers are those of ``test_browser.py``; its fixtures are
imported, not moved to a ``conftest.py`` (a second one would shadow ``tests/conftest.py``).
"""

from __future__ import annotations

from playwright.sync_api import Page
from test_browser import (  # noqa: F401 (pytest fixtures, found by name)
    _open,
    _wait_for,
    app_url,
    base_url,
    browser_type_launch_args,
)

# [visible, rows, finite values in the y column] of the renderer named ``name`` that has the
# most finite values (every field plot has a "Gaussian centres" layer; the residual's is
# filled), or null when no renderer has that name.
RENDERER_JS = """(name) => {
  let best = null;
  for (const doc of window.Bokeh.documents) for (const m of doc.all_models) {
    if (m.name !== name || m.data_source == null) continue;
    const d = m.data_source.data;
    const get = k => d instanceof Map ? d.get(k) : d[k];
    const keys = d instanceof Map ? [...d.keys()] : Object.keys(d);
    const field = m.glyph.y && m.glyph.y.field ? m.glyph.y.field : keys[0];
    const column = Array.from(get(field) || []);
    const found = [m.visible, column.length, column.filter(v => Number.isFinite(v)).length];
    if (best === null || found[2] > best[2]) best = found;
  }
  return best;
}"""


def _renderer(page: Page, name: str) -> list | None:
    return page.evaluate(RENDERER_JS, name)


def _shown(page: Page, name: str, rows: int = 1) -> None:
    _wait_for(
        lambda: _renderer(page, name) or [False, 0, 0],
        lambda r: r[0] and r[2] >= rows,
        f"a visible {name!r} with {rows}+ finite values",
    )


def test_combiner_diagnostics_and_losses_show(page: Page, app_url):  # noqa: F811
    _open(page, app_url + "?problem=poisson1d&combiner=config&t.steps=100000")
    assert _renderer(page, "grad_cosine") is None  # no line named so before training
    page.get_by_role("button", name="Train", exact=True).click()
    _shown(page, "grad_cosine", rows=5)
    _shown(page, "total loss", rows=5)
    page.get_by_role("button", name="Stop", exact=True).click()


def test_pig_gaussians_show_on_the_residual(page: Page, app_url):  # noqa: F811
    query = "?problem=poisson2d&method=pig&m.gaussians=10&m.n_interior=64&t.steps=100000"
    _open(page, app_url + query)
    page.get_by_role("button", name="Train", exact=True).click()
    _shown(page, "Gaussian centres", rows=40)  # 10 Gaussians x 4 channels
    _shown(page, "total loss")
    page.get_by_role("button", name="Stop", exact=True).click()
