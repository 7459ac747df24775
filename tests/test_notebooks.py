"""The teaching notebooks: paired .ipynb in sync with the jupytext source, and they run.

Each ``notebooks/*.py`` (jupytext percent format) is the source of truth; its ``.ipynb`` twin
is generated with ``jupytext --to ipynb`` and committed without outputs.

A notebook with a lesson test (``tests/lessons/test_<notebook>.py``) is executed there at
lecture size, which covers every cell; the others are executed here at the smoke size
(``WORKBENCH_SIZE=smoke``), which shrinks every training to a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))
LESSON_TESTS = Path(__file__).resolve().parent / "lessons"
WITHOUT_LESSON = [s for s in SOURCES if not (LESSON_TESTS / f"test_{s.stem}.py").exists()]


def _cells(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_there_are_notebooks():
    assert SOURCES, f"no jupytext sources in {NOTEBOOKS}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_in_sync(source: Path):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} missing: run jupytext --to ipynb {source.name}"
    expected = jupytext.read(source)
    actual = nbformat.read(paired, as_version=4)
    assert _cells(actual) == _cells(expected), (
        f"{paired.name} is out of sync with {source.name}: run jupytext --to ipynb {source.name}"
    )
    outputs = [c for c in actual.cells if c.cell_type == "code" and c.get("outputs")]
    assert not outputs, f"{paired.name} has committed outputs; regenerate it with jupytext"


@pytest.mark.parametrize("source", WITHOUT_LESSON, ids=lambda p: p.stem)
def test_notebook_runs(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("ipykernel", reason="executing notebooks needs ipykernel")
    nbclient = pytest.importorskip("nbclient")
    # The kernel inherits this process's environment.
    monkeypatch.setenv("WORKBENCH_SIZE", "smoke")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = jupytext.read(source)
    # Run in a scratch folder so nothing the notebook writes lands in the checkout.
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError with the failing cell and traceback
