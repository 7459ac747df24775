"""Offline in a notebook: ``pn.extension(inline=True)`` and a Workbench cell fetch nothing.

In JupyterLab, ``pn.extension(inline=True)`` publishes Panel's loader (BokehJS, Panel's JS and
CSS inlined) and a cell ending in ``Workbench()`` publishes the app's Bokeh document. Both are
checked for what a browser would fetch: the loader's lists of scripts, modules and stylesheets
to load, ``<script src>``/``<link href>`` tags, and stylesheet URLs in the Bokeh models.

Not covered: where the notebook page has RequireJS (the classic Notebook, not JupyterLab or
Notebook 7), Panel's loader asks RequireJS for ``notyf`` (the toasts of
``notifications=True``) from cdn.jsdelivr.net; messages also show in the Workbench's sidebar.
"""

from __future__ import annotations

import re

import bokeh.io.notebook
import panel as pn
import pytest
from panel.io.notebook import load_notebook

from workbench.app import Workbench

# The loader's lists of what to fetch, e.g. ``js_urls = [...]``.
LOADER_LISTS = re.compile(
    r"\b(js_urls|css_urls|js_modules|js_exports)\s*=\s*(\[[^\]]*\]|\{[^}]*\})"
)
TAG_URLS = re.compile(r"<(?:script|link)\b[^>]*?\b(?:src|href)=[\"']([^\"']+)")
# Stylesheet models in the document JSON: {"url": "..."} (escaped inside a script string).
MODEL_URLS = re.compile(r"\\?\"url\\?\":\s*\\?\"([^\"\\]+)")


def _outside(urls) -> list[str]:
    return [u for u in urls if re.match(r"(https?:)?//", u)]


@pytest.fixture
def notebook_outputs(monkeypatch) -> list[dict]:
    """What ``pn.extension(inline=True)`` publishes in a kernel, without a kernel.

    Outside IPython ``pn.extension`` publishes nothing, so this does its notebook part: load
    Panel inline and mark it loaded (else a Viewer's notebook repr is empty).
    """
    published: list[dict] = []
    monkeypatch.setattr(
        "IPython.display.publish_display_data", lambda data, *a, **k: published.append(data)
    )
    # It also switches Bokeh's global output to the notebook; keep the tests' state as it was.
    monkeypatch.setattr(bokeh.io.notebook.curstate(), "output_notebook", lambda *a, **k: None)
    load_notebook(inline=True)
    monkeypatch.setattr(pn.config, "inline", True)
    monkeypatch.setattr(pn.extension, "_loaded", True)
    return published


def test_inline_loader_and_workbench_cell_fetch_nothing(notebook_outputs):
    texts = [v for data in notebook_outputs for v in data.values() if isinstance(v, str)]
    loader = [t for t in texts if "js_urls" in t]
    assert loader, "load_notebook published no loader script"
    lists = [m.groups() for t in loader for m in LOADER_LISTS.finditer(t)]
    assert {name for name, _ in lists} == {"js_urls", "css_urls", "js_modules", "js_exports"}
    to_fetch = [(name, value) for name, value in lists if value not in ("[]", "{}")]
    assert not to_fetch, f"the inline loader still fetches: {to_fetch}"

    html = Workbench()._repr_mimebundle_()[0]["text/html"]
    assert "Bokeh" in html
    outside = _outside(u for t in [*texts, html] for u in TAG_URLS.findall(t))
    outside += _outside(MODEL_URLS.findall(html))
    assert not outside, f"the notebook outputs link other hosts: {sorted(set(outside))}"
