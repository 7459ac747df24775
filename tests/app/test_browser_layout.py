"""In a real browser: the Live tab fits common windows without scrolling.

For one pair of each kind (a physics-informed model on a space-time and on a 2D problem, an
operator, a latent model, a field generator) at 1366x768 and 1920x1080: train a few steps
at tiny sizes, then check from the elements' bounding boxes that the status line, the loss
plot and every field panel (for a field generator: its sample gallery) lie inside the
window, and save a screenshot (to ``WORKBENCH_SCREENSHOTS`` when set, else the test's
temporary folder) for a person to look at.

One server and one page serve every case; the server, Chromium and the helpers are those of
``test_browser.py`` (imported, not moved to a ``conftest.py``: a second one would shadow
``tests/conftest.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_browser import (  # noqa: F401 (pytest fixtures, found by name)
    TIMEOUT_MS,
    _open,
    app_url,
    base_url,
    browser_type_launch_args,
)

VIEWPORTS = [(1366, 768), (1920, 1080)]

# Tiny sizes: a few steps, small data sets (the darcy2d families are generated on a coarse
# solver grid), so that the whole file runs in a few minutes on a loaded 2-core machine.
_DARCY = "p.solver_nodes=33&m.n_train=8&m.n_test=4&m.resolution=16&m.batch_size=4"
PAIRS = {
    "burgers1d/pinn": "problem=burgers1d&method=pinn&m.width=8&m.depth=2&t.steps=20",
    "helmholtz2d/pig": "problem=helmholtz2d&method=pig&m.gaussians=30&m.n_interior=64&t.steps=20",
    "darcy2d/fno": f"problem=darcy2d&method=fno&{_DARCY}&m.width=8&m.modes=4&m.layers=1"
    "&m.projection=8&t.steps=10",
    "pendulum/phys_vae": "problem=pendulum&method=phys_vae&m.n_train=16&m.n_test=4"
    "&m.batch_size=8&m.width=16&t.steps=10",
    "darcy2d/pbfm": f"problem=darcy2d&method=pbfm&{_DARCY}&m.width=8&m.levels=1&m.n_samples=4"
    "&m.posterior_samples=2&m.sample_steps=2&m.guided_steps=2&t.steps=10",
}

# The panels each pair must show (by figure name, see workbench.app.live_view); every other
# field or gallery figure in the page must fit too.
REQUIRED = {
    "burgers1d/pinn": ["field-u", "field-u_ref", "field-error", "field-residual"],
    "helmholtz2d/pig": ["field-u", "field-u_ref", "field-error", "field-residual"],
    "darcy2d/fno": ["field-a", "field-u", "field-u_ref", "field-error"],
    "pendulum/phys_vae": ["field-u", "field-error"],
    "darcy2d/pbfm": ["gallery-a", "gallery-u"],
}

# {name: [left, top, right, bottom]} of every visible named Bokeh figure in the page.
BOXES_JS = """() => {
  const boxes = {};
  for (const v of Bokeh.index.all_views()) {
    const m = v.model;
    if (!m || !m.name || !m.visible || !v.el || m.title === undefined) continue;
    const r = v.el.getBoundingClientRect();
    if (r.width > 0) boxes[m.name] = [r.left, r.top, r.right, r.bottom];
  }
  return boxes;
}"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go: ``WORKBENCH_SCREENSHOTS``, else a temporary folder."""
    folder = os.environ.get("WORKBENCH_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _inside(box, width: int, height: int) -> bool:
    left, top, right, bottom = box
    return left >= 0 and top >= 0 and right <= width + 0.5 and bottom <= height + 0.5


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_tab_fits_the_window(page: Page, app_url, shots, size):  # noqa: F811
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    failures = []
    for pair, query in PAIRS.items():
        _open(page, app_url + "?" + query)
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.locator(".wb-state")).to_have_text("done", timeout=3 * TIMEOUT_MS)
        required = ["loss", *REQUIRED[pair]]
        # The Run's full fields are drawn on the tick after it ends: wait for the panels.
        page.wait_for_function(
            "([js, names]) => { const b = eval(js)(); return names.every(n => n in b); }",
            arg=[BOXES_JS, required],
            timeout=TIMEOUT_MS,
        )
        page.wait_for_timeout(500)  # the last layout pass
        shot = shots / f"{pair.replace('/', '-')}-{width}x{height}.png"
        page.screenshot(path=str(shot))
        boxes = page.evaluate(BOXES_JS)
        status = page.locator(".wb-status").bounding_box()
        shown = {n: b for n, b in boxes.items() if n.startswith(("field-", "gallery-"))}
        checked = {
            "status": [
                status["x"],
                status["y"],
                status["x"] + status["width"],
                status["y"] + status["height"],
            ],
            "loss": boxes["loss"],
            **shown,
        }
        outside = [n for n, b in checked.items() if not _inside(b, width, height)]
        if outside:
            failures.append(f"{pair}: {outside} outside {width}x{height} ({shot})")
        if pair.endswith("pbfm") and any(n.startswith("field-") for n in boxes):
            failures.append(f"{pair}: a field generator shows one instance's field panels")
    assert not failures, "\n".join(failures)
