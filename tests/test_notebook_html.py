"""``workbench notebooks --html``: executed notebooks as pages that draw their figures offline.

Two small notebooks are rendered at the smoke size into a scratch folder, then each page is
opened in Chromium with every request that is not for a local file aborted (as on a laptop
without a network). The page must draw its Bokeh figures (painted canvases), pan when dragged,
ask for nothing outside, and log no console error. Screenshots of each page's first figure,
as drawn and after the drag, are saved next to the pages; their paths are printed
(``pytest -s``).

The browser is Debian's ``/usr/bin/chromium`` through pytest-playwright's ``browser`` fixture,
pointed at it as in ``tests/app/test_browser.py``; the test skips when it is not installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("nbconvert")
pytest.importorskip("ipykernel", reason="executing notebooks needs ipykernel")

from workbench.cli import main  # noqa: E402
from workbench.notebook_html import inline_panel_stylesheets, static_outputs  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
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

# Two of the quickest notebooks at the smoke size (10-20 s each on one core): PINN training
# curves and fields, and the operator views (galleries with a sample slider).
NOTEBOOKS = ("03_loss_balancing", "05_operators")
TIMEOUT_MS = 60_000

# Painted pixels (non-transparent) of each 2D canvas in the page; Bokeh's canvases sit in
# shadow roots, which document.querySelectorAll does not enter.
PAINTED_JS = """() => {
  const found = [];
  const walk = root => {
    for (const el of root.querySelectorAll("*")) {
      if (el.tagName === "CANVAS") found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found.map(c => {
    if (!c.width || !c.height) return 0;
    const ctx = c.getContext("2d");
    if (!ctx) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
    return n;
  });
}"""

# [start, end] of every numeric range in the page's Bokeh documents.
RANGES_JS = """() => {
  const out = [];
  for (const doc of window.Bokeh.documents)
    for (const m of doc.all_models)
      if (m.type === "Range1d" || m.type === "DataRange1d") out.push([m.start, m.end]);
  return out;
}"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name):
    """pytest-playwright's launch options plus the system Chromium (as in tests/app)."""
    if browser_name not in (None, "chromium"):
        return browser_type_launch_args
    if not CHROMIUM.is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}, which is not installed")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The two notebooks rendered by the command, at the smoke size."""
    out = tmp_path_factory.mktemp("notebook-html")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")  # the kernels inherit it
        mp.setenv("WORKBENCH_SIZE", "full")  # --size must win over the caller's environment
        code = main(["notebooks", "--html", str(out), "--size", "smoke", *NOTEBOOKS])
    assert code == 0
    return out


def test_index_lists_every_page_by_title(site: Path):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="03_loss_balancing.html">Balancing loss terms:' in index
    assert '<a href="05_operators.html">Neural operators:' in index
    assert "smoke" in index
    assert sorted(p.name for p in site.glob("*.html")) == sorted(
        ["index.html", *(f"{n}.html" for n in NOTEBOOKS)]
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_page_draws_interactive_figures_offline(browser, site: Path, name: str):
    page_file = site / f"{name}.html"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    aborted: list[str] = []
    errors: list[str] = []

    def local_only(route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            aborted.append(f"{route.request.resource_type} {url}")
            route.abort("internetdisconnected")

    page.route("**/*", local_only)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        page.goto(page_file.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => window.Bokeh && Bokeh.documents.length > 0", timeout=TIMEOUT_MS
        )
        page.wait_for_function(f"() => ({PAINTED_JS})().some(n => n > 1000)", timeout=TIMEOUT_MS)
        painted = page.evaluate(PAINTED_JS)
        figures = page.evaluate("() => Bokeh.documents.length")

        # Interactive: dragging the first figure pans it (HoloViews' default drag tool).
        canvas = page.locator("canvas").first
        canvas.scroll_into_view_if_needed()
        shot = site / f"{name}.png"
        page.screenshot(path=str(shot))
        box = canvas.bounding_box()
        assert box is not None
        before = page.evaluate(RANGES_JS)
        page.wait_for_timeout(300)
        steady = page.evaluate(RANGES_JS)  # nothing moves by itself
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 80, y + 40, steps=8)
        page.mouse.up()
        page.wait_for_timeout(300)
        after = page.evaluate(RANGES_JS)
        panned = site / f"{name}-panned.png"
        page.screenshot(path=str(panned))
        print(f"\n{name}: {figures} figures, {len(painted)} canvases; screenshots {shot}, {panned}")
    finally:
        context.close()

    assert not aborted, "the page asked for other hosts:\n" + "\n".join(aborted)
    assert not errors, "the console logged errors:\n" + "\n".join(errors)
    assert sum(n > 1000 for n in painted) >= 1, f"no canvas was drawn: {painted}"
    assert before == steady and before != after, "dragging the first figure did not pan it"


def test_static_outputs_drop_what_needs_a_kernel():
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "0%"}
    cell = v4.new_code_cell(
        "x",
        outputs=[
            v4.new_output("display_data", data=widget),
            v4.new_output("display_data", data={}),
            v4.new_output("stream", name="stdout", text="hi\n"),
            v4.new_output("execute_result", data={"text/html": "<b>x</b>"}, execution_count=1),
        ],
    )
    nb = v4.new_notebook(cells=[cell], metadata={"widgets": {"state": {}}})
    static_outputs(nb)
    assert "widgets" not in nb.metadata
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream", "execute_result"]


def test_panel_cdn_stylesheets_become_data_urls():
    from panel.io.resources import CDN_DIST

    page = f'{{"url":"{CDN_DIST}css/loading.css?v=1"}} {{"url":"{CDN_DIST}css/not-there.css"}}'
    out = inline_panel_stylesheets(page)
    assert '{"url":"data:text/css;base64,' in out
    assert f"{CDN_DIST}css/not-there.css" in out  # no local copy: left as it was
    assert f"{CDN_DIST}css/loading.css" not in out


def test_unknown_size_is_refused(tmp_path: Path, capsys):
    assert main(["notebooks", "--html", str(tmp_path), "--size", "huge"]) == 2
    assert "--size" in capsys.readouterr().err


def test_importing_the_views_leaves_the_notebook_loader_whole():
    """``import workbench`` creates no HoloViews extension object in a notebook cell.

    pyviz_comms records the cell of every extension object; the notebooks' own
    ``hv.extension("bokeh", inline=True)`` in the same cell then counted as a re-run and
    published its loader without BokehJS and Panel's JS, so no exported page drew a figure.
    Run in a fresh interpreter posing as an IPython kernel at cell 7.
    """
    code = """
import types, IPython, pyviz_comms
pyviz_comms._in_ipython = True
IPython.get_ipython = lambda: types.SimpleNamespace(execution_count=7)
import workbench.views
assert pyviz_comms.extension._last_execution_count is None, "an extension was created"
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
