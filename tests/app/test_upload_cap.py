"""The server's side of the upload cap: a page that skips the browser's size check (a script,
a tampered page) sends its file in pieces, and the server drops it as soon as what it holds
passes the cap, never holding more than the cap and one piece.

The browser's check and the server's memory are tested in ``test_browser_upload.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.app.limits import UPLOAD_CHUNK_BYTES, CappedUpload


def _pieces(widget: CappedUpload, name: str, content: bytes, chunk: int = UPLOAD_CHUNK_BYTES):
    """Send ``content`` as the page does: ``upload_event`` pieces of ``chunk`` bytes."""
    parts = [content[i : i + chunk] for i in range(0, max(len(content), 1), chunk)]
    for number, part in enumerate(parts, start=1):
        data = dict(chunk=number, total_chunks=len(parts), data=part, name=name, type="")
        widget._process_event(SimpleNamespace(event_name="upload_event", data=data))
        yield sum(len(p) for pieces in widget._file_buffer.values() for p in pieces)


def test_a_file_within_the_cap_arrives_whole_and_is_let_go_of():
    refused = []
    widget = CappedUpload(5000, on_refused=refused.append)
    assert widget.max_file_size == "5KB" and widget.chunk_size == UPLOAD_CHUNK_BYTES
    content = bytes(range(256)) * 19  # 4864 bytes, in 3 pieces of 2000
    list(_pieces(widget, "run.nc", content, chunk=2000))
    assert refused == [] and widget.value == {"run.nc": content}
    assert widget.take() == ("run.nc", content)
    assert widget.value == {} and widget._file_buffer == {} and widget.take() is None


def test_a_file_over_the_cap_is_dropped_as_it_arrives():
    refused, seen = [], []
    widget = CappedUpload(5000, on_refused=refused.append)
    widget.param.watch(lambda event: seen.append(event.new), "value")
    held = list(_pieces(widget, "big.nc", b"\0" * 9000, chunk=2000))
    # Two pieces held (4000 bytes), the third would pass the cap: all dropped, the rest ignored.
    assert held == [2000, 4000, 0, 0, 0]
    assert refused == ["'big.nc' is over this server's upload cap of 0.005 MB"]
    assert widget.value == {} and seen == []
    # The same name sent again, within the cap, is taken.
    list(_pieces(widget, "big.nc", b"\1" * 3000, chunk=2000))
    assert widget.take() == ("big.nc", b"\1" * 3000) and len(refused) == 1


def test_pieces_of_several_files_at_once_count_together():
    refused = []
    widget = CappedUpload(5000, on_refused=refused.append)
    first = _pieces(widget, "a.nc", b"\0" * 4000, chunk=2000)
    second = _pieces(widget, "b.nc", b"\0" * 4000, chunk=2000)
    assert next(first) == 2000 and next(second) == 4000
    assert next(first) == 0 and len(refused) == 1  # 6000 held: both dropped
    assert list(second) == [0] and list(first) == [] and widget.value == {}


def test_a_cap_under_a_kilobyte_is_refused():
    with pytest.raises(ValueError, match="max_bytes: 999 is under 1000"):
        CappedUpload(999, on_refused=print)
