"""In a real browser: the Runs tab's upload refuses a run over the server's cap (in the page,
before sending it) and a zip bomb (on the server), with a message in the page naming the cap,
and the server's memory does not grow by more than the cap; a page whose own check is
switched off is refused by the server as the file arrives, within the same bound.

The caps themselves are unit-tested in ``test_demo_authority.py``; these send the files the
way a visitor does, through the page's file input and the websocket, to a server started
with ``--max-upload-mb 20``. The server's RSS is read before and after each refusal (psutil).
Server, Chromium and helpers are those of ``test_browser.py``.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_browser import (  # noqa: F401 (pytest fixtures, found by name)
    TIMEOUT_MS,
    _open,
    base_url,
    browser_type_launch_args,
    serving,
)

psutil = pytest.importorskip("psutil")

# Large enough that the allocator's noise (a few MB on a busy machine) is small against it.
CAP_MB = 20.0
# What a refused upload may leave: the bound, the cap. The page checks the size before
# sending, so an over-cap file never reaches the server; a page without that check sends it in
# 1 MB pieces, which the server drops once they pass the cap.
GROWTH_MB = CAP_MB
RUN_UPLOAD = ".wb-run-upload input[type=file]"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``workbench serve --max-upload-mb 20``: (URL, its process)."""
    with serving(tmp_path_factory.mktemp("serve-upload"), "--max-upload-mb", str(CAP_MB)) as (
        url,
        _,
    ):
        port = url.rstrip("/").rsplit(":", 1)[1]
        processes = [
            child
            for child in psutil.Process().children(recursive=True)
            if "serve" in child.cmdline() and port in child.cmdline()
        ]
        assert len(processes) == 1, processes
        yield url, processes[0]


def _rss_settled(process, seconds: float = 3.0) -> int:
    """The process's RSS once it has stopped changing for a moment (a busy box is noisy)."""
    time.sleep(seconds)
    return process.memory_info().rss


def _open_runs_tab(page: Page) -> None:
    # Before the baseline: drawing the tab the first time costs the server memory too.
    page.locator(".bk-tab", has_text="Runs").first.click(timeout=TIMEOUT_MS)
    expect(page.locator(RUN_UPLOAD)).to_be_attached(timeout=TIMEOUT_MS)


def _upload(page: Page, path: Path) -> None:
    page.locator(RUN_UPLOAD).set_input_files(str(path))


def _over_the_cap(folder: Path) -> Path:
    big = folder / "run.nc"
    big.write_bytes(b"\0" * int(1.04 * CAP_MB * 1e6))
    return big


def test_an_upload_over_the_cap_is_refused_by_the_page(page: Page, server, tmp_path):
    url, process = server
    _open(page, url)
    _open_runs_tab(page)
    before = _rss_settled(process)
    _upload(page, _over_the_cap(tmp_path))
    expect(page.get_by_text("File is too large").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(f"Maximum file size is {CAP_MB:g} MB").first).to_be_visible()
    grown = _rss_settled(process) - before
    assert grown <= GROWTH_MB * 1e6, f"the server grew by {grown / 1e6:.2f} MB"


def test_a_page_without_its_check_is_refused_by_the_server(page: Page, server, tmp_path):
    url, process = server
    _open(page, url)
    _open_runs_tab(page)
    # What a tampered page does: switch off the browser's size check (the uploads' models).
    switched = page.evaluate(
        """() => {
            let n = 0
            for (const doc of Bokeh.documents)
                for (const m of doc.all_models)
                    if (m.properties.max_file_size !== undefined) { m.max_file_size = null; n++ }
            return n
        }"""
    )
    assert switched >= 1
    before = _rss_settled(process)
    _upload(page, _over_the_cap(tmp_path))
    expect(page.get_by_text(f"over this server's upload cap of {CAP_MB:g} MB").first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    grown = _rss_settled(process) - before
    assert grown <= GROWTH_MB * 1e6, f"the server grew by {grown / 1e6:.2f} MB"


def test_a_zip_bomb_is_refused_from_its_directory(page: Page, server, tmp_path):
    url, process = server
    _open(page, url)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run.nc", b"\0" * 200_000_000)  # 200 MB of zeros in ~200 kB
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(buffer.getvalue())
    assert bomb.stat().st_size < CAP_MB * 1e6
    _open_runs_tab(page)
    before = _rss_settled(process)
    _upload(page, bomb)
    expect(
        page.get_by_text(
            f"unpacks to 200.0 MB, over this server's upload cap of {CAP_MB:g} MB"
        ).first
    ).to_be_visible(timeout=TIMEOUT_MS)
    grown = _rss_settled(process) - before
    assert grown <= GROWTH_MB * 1e6, f"the server grew by {grown / 1e6:.2f} MB"
