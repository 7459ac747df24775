"""Teaching notebooks as static HTML pages that draw their figures offline.

:func:`render_notebooks` executes each ``notebooks/*.py`` (jupytext source) in a fresh kernel
and writes one self-contained page per notebook plus an ``index.html`` listing them by title.
``workbench notebooks --html OUT`` runs it.

What makes the pages work without a network or a kernel:

- The figures are the notebook's own outputs. ``hv.extension("bokeh", inline=True)`` publishes
  a loader holding BokehJS and Panel's JavaScript, and every figure's output carries its whole
  Bokeh document, so the page draws interactive (pan, zoom, hover) figures with nothing else.
  (Exported pages drew nothing while ``import workbench`` in the same cell made the loader
  leave BokehJS out; see :func:`workbench.views.fields.load_bokeh_backend`.)
- Panel's stylesheets are inlined instead of linked from cdn.holoviz.org: the kernel runs
  with ``PANEL_INLINE=1`` (Panel objects), and the stylesheets that HoloViews' figures still
  link (``ImportedStyleSheet`` URLs in their Bokeh documents) become ``data:`` URLs of
  Panel's own copies (:func:`inline_panel_stylesheets`).
- The page template is nbconvert's ``lab`` one without RequireJS, MathJax, Mermaid and the
  ipywidgets manager (all fetched from CDNs). Formulas are typeset by KaTeX, which Panel
  ships, inlined into the page (with the system's fonts). Outputs that need a live kernel,
  ipywidgets such as progress bars, are left out; Panel widgets show but do nothing.

The size of the trainings comes from the environment, as when the notebook is opened
(``WORKBENCH_SIZE``, see :mod:`workbench.lessons`): by default the lecture size, at which each
notebook's lesson holds in a few minutes; ``size="smoke"`` the seconds-long setting that
proves a notebook runs, ``size="full"`` the papers' settings.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.lessons import SIZE_VARIABLE
from workbench.lessons import SIZES as LESSON_SIZES

#: Size name -> environment of the kernels (``None`` removes a variable). ``None`` as the
#: size: the notebooks' default when opened (the lecture size).
SIZES: dict[str | None, dict[str, str | None]] = {
    None: {SIZE_VARIABLE: None, "WORKBENCH_SMALL": None},
    **{size: {SIZE_VARIABLE: size, "WORKBENCH_SMALL": None} for size in LESSON_SIZES},
}

#: Packages the export needs (the ``app`` extra has them).
REQUIRES = ("jupytext", "nbclient", "nbconvert", "ipykernel", "panel")

#: Always set in the kernels: Panel inlines its stylesheets instead of linking its CDN.
KERNEL_ENV = {"PANEL_INLINE": "1"}

#: The checkout's notebooks (an installed package has none: pass ``folder``).
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

_NOTYF = ('var Notyf=function(){"use strict";', 'var Notyf=window.Notyf=function(){"use strict";')


_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}{{ resources.wb_math }}{%- endblock html_head_js_mathjax -%}
"""

# Typeset the markdown cells only: a "$" in a table or a printout is not math.
_RENDER_MATH = """
document.addEventListener("DOMContentLoaded", function () {
  const options = {
    delimiters: [
      {left: "$$", right: "$$", display: true}, {left: "\\\\[", right: "\\\\]", display: true},
      {left: "$", right: "$", display: false}, {left: "\\\\(", right: "\\\\)", display: false}
    ],
    throwOnError: false, strict: "ignore"
  };
  for (const cell of document.querySelectorAll(".jp-MarkdownOutput")) {
    renderMathInElement(cell, options);
  }
});
"""


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its source, title, page file (``None`` if it failed)."""

    source: Path
    title: str
    path: Path | None
    seconds: float
    error: str | None = None


def notebook_sources(names: Sequence[str] = (), folder: Path = NOTEBOOKS) -> list[Path]:
    """The jupytext sources to render: all of ``folder``, or those named (stem or file)."""
    sources = sorted(Path(folder).glob("*.py"))
    if not sources:
        raise ValueError(f"no notebooks (jupytext *.py sources) in {folder}")
    if not names:
        return sources
    by_stem = {p.stem: p for p in sources}
    chosen = []
    for name in names:
        stem = Path(name).stem
        if stem not in by_stem:
            raise ValueError(f"no notebook {name!r} in {folder}; choose from {sorted(by_stem)}")
        chosen.append(by_stem[stem])
    return chosen


@contextlib.contextmanager
def _environment(changes: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for ``None``, remove) variables for the kernels started inside."""
    before = {k: os.environ.get(k) for k in changes}
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def static_outputs(nb) -> None:
    """Drop what needs a live kernel, ipywidget views (progress bars) and their state, and
    the empty displays HoloViews leaves before each figure."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if _static(o)]


def _static(output) -> bool:
    if output.output_type not in ("display_data", "execute_result"):
        return True
    data = output.get("data", {})
    return bool(data) and WIDGET_VIEW not in data


def _math_head() -> str:
    """KaTeX (from Panel's bundled copy) inlined, typesetting the markdown cells."""
    import panel

    found = sorted(Path(panel.__file__).parent.glob("dist/bundled/katex/katex@*/dist"))
    if not found:  # another Panel layout: formulas stay TeX source, nothing is fetched
        return ""
    katex = found[-1]
    css = (katex / "katex.min.css").read_text(encoding="utf-8")
    # KaTeX's fonts are not shipped: without the @font-face rules the page uses the
    # system's fonts instead of asking for files that are not there.
    css = re.sub(r"@font-face\{[^}]*\}", "", css)
    js = (katex / "katex.min.js").read_text(encoding="utf-8")
    auto = (katex / "contrib" / "auto-render.min.js").read_text(encoding="utf-8")
    return (
        f"<style>{css}</style>\n<script>{js}</script>\n<script>{auto}</script>\n"
        f"<script>{_RENDER_MATH}</script>"
    )


def inline_panel_stylesheets(page: str) -> str:
    """Replace stylesheet URLs on Panel's CDN in Bokeh documents by ``data:`` URLs.

    HoloViews renders its figures' Panel layouts with ``ImportedStyleSheet`` models pointing
    at cdn.holoviz.org whatever ``pn.config.inline`` says; Panel ships those files. A URL
    whose file is not in this Panel install is left as it is.
    """
    from panel.io.resources import CDN_DIST, DIST_DIR

    def local(match: re.Match) -> str:
        path = Path(DIST_DIR) / match.group(2)
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"{match.group(1)}data:text/css;base64,{data}"

    pattern = rf'("url":\s*"){re.escape(CDN_DIST)}([^"?]+\.css)(\?[^"]*)?(?=")'
    return re.sub(pattern, local, page)


def to_html(nb, title: str) -> str:
    """One executed notebook as a page that needs no network (see the module docstring)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"workbench_page.html.j2": _TEMPLATE})],
        template_file="workbench_page.html.j2",
    )
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb, resources={"wb_math": _math_head()})
    # Panel's inline loader wraps its copy of Notyf (the toasts of notifications=True) in a
    # function, so ``var Notyf`` never becomes the global its NotificationArea calls.
    body = body.replace(*_NOTYF)
    return inline_panel_stylesheets(body)


def execute(source: Path, timeout: int = 3600):
    """Run a jupytext source in a fresh kernel, in a scratch folder; the executed notebook."""
    import jupytext
    import nbclient

    nb = jupytext.read(source)
    with tempfile.TemporaryDirectory(prefix=f"wb-{source.stem}-") as scratch:
        client = nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": scratch}}
        )
        client.execute()
    return nb


def write_index(out: Path, pages: Sequence[Page], size: str | None) -> Path:
    """``index.html``: a link per page with its title, or the error of one that failed."""
    e = html.escape
    rows = []
    for page in pages:
        if page.path is None:
            rows.append(
                f"<li><b>{e(page.title)}</b> ({e(page.source.name)}): failed"
                f"<pre>{e(page.error or '')}</pre></li>"
            )
        else:
            mb = page.path.stat().st_size / 1e6
            rows.append(
                f'<li><a href="{e(page.path.name)}">{e(page.title)}</a> '
                f"<small>{e(page.path.name)}, {mb:.1f} MB, ran {page.seconds:.0f} s</small></li>"
            )
    size_text = "default" if size is None else size
    index = out / "index.html"
    index.write_text(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>workbench notebooks</title><style>body{font-family:sans-serif;max-width:50em;"
        "margin:2em auto;line-height:1.6}small{color:#666}</style></head><body>"
        "<h1>workbench notebooks</h1>"
        f"<p>Executed at size <b>{e(size_text)}</b> on {time.strftime('%Y-%m-%d %H:%M')}. "
        "Each page is self-contained and opens offline; the figures pan and zoom, widgets "
        "that need a running kernel do nothing.</p>"
        f"<ol>{''.join(rows)}</ol></body></html>\n",
        encoding="utf-8",
    )
    return index


def render_notebooks(
    out: str | Path,
    names: Sequence[str] = (),
    size: str | None = None,
    *,
    folder: str | Path = NOTEBOOKS,
    timeout: int = 3600,
    log: Callable[[str], None] = print,
) -> list[Page]:
    """Execute notebooks and write them as offline HTML pages plus ``index.html`` into ``out``.

    Parameters
    ----------
    out : str or pathlib.Path
        Output folder (created); pages are ``<notebook>.html``.
    names : sequence of str
        Notebooks to render (``01_pinn_basics`` or ``01_pinn_basics.py``); all when empty.
    size : str or None
        ``"smoke"``, ``"lecture"`` or ``"full"`` (see :mod:`workbench.lessons`), passed to
        the kernels through ``WORKBENCH_SIZE``; ``None`` is the notebooks' default when
        opened (lecture).
    folder : str or pathlib.Path
        Where the jupytext sources are (default: the checkout's ``notebooks/``).
    timeout : int
        Seconds one cell may run.
    log : callable
        Gets one line per notebook.

    Returns
    -------
    list of Page
        One per notebook; a notebook whose cell raised has ``path=None`` and ``error``.
    """
    import jupytext

    if size not in SIZES:
        raise ValueError(f"size {size!r}: choose from {[s for s in SIZES if s]} (or the default)")
    sources = notebook_sources(names, folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    with _environment({**SIZES[size], **KERNEL_ENV}):
        for source in sources:
            start = time.perf_counter()
            try:
                nb = execute(source, timeout)
            except Exception as err:  # a failing notebook is reported, the others still render
                seconds = time.perf_counter() - start
                message = str(err).strip().splitlines()
                first = message[-1] if message else type(err).__name__
                log(f"{source.name}: FAILED after {seconds:.0f} s: {first}")
                title = _title(jupytext.read(source), source.stem)
                pages.append(Page(source, title, None, seconds, str(err)))
                continue
            seconds = time.perf_counter() - start
            title = _title(nb, source.stem)
            static_outputs(nb)
            path = out / f"{source.stem}.html"
            path.write_text(to_html(nb, title), encoding="utf-8")
            log(f"{path} ({path.stat().st_size / 1e6:.1f} MB, ran {seconds:.0f} s): {title}")
            pages.append(Page(source, title, path, seconds))
    index = write_index(out, pages, size)
    log(f"{index}: {sum(p.path is not None for p in pages)} of {len(pages)} notebooks")
    return pages
