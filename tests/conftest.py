"""Test settings: one torch thread (the shared 2-core box crawls with more), a scratch folder
for generated datasets, shared data, and the harness of the lesson tests."""

import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)


def shared_data(name: str) -> Path:
    """Path of an external reference file, skipping the test when it is not available.

    The files live in ``<repo>/../shared/data``; ``WORKBENCH_SHARED_DATA`` names another folder.
    Import it in tests as ``from conftest import shared_data``.
    """
    root = os.environ.get("WORKBENCH_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"
    path = base / name
    if not path.is_file():
        pytest.skip(f"external reference data not available: {path}")
    return path


@pytest.fixture(autouse=True, scope="session")
def generated_data_folder(tmp_path_factory):
    """Generated family datasets go to one scratch folder per test session, not the checkout.

    Set in the environment, so notebook kernels started by the tests inherit it too.
    """
    previous = os.environ.get("WORKBENCH_DATA")
    os.environ["WORKBENCH_DATA"] = str(tmp_path_factory.mktemp("generated-data"))
    yield
    if previous is None:
        os.environ.pop("WORKBENCH_DATA", None)
    else:
        os.environ["WORKBENCH_DATA"] = previous


# --- the lesson tests (tests/lessons) ------------------------------------------------------
# Here rather than in a tests/lessons/conftest.py: a second ``conftest`` module would shadow
# this one for ``from conftest import shared_data``.
#
# Each ``tests/lessons/test_<notebook>.py`` names its notebook in ``NOTEBOOK`` and asks the
# ``lesson`` fixture for the ``LESSON`` dict that notebook computed at lecture size. The first
# request starts every selected notebook (in test order, ``WORKBENCH_LESSON_WORKERS`` at a
# time, default 2: one per core, each kernel on one torch thread), so a full test run pays for
# the slowest pairs rather than the sum, and a single selected test runs only its own notebook.

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXECUTE = Path(__file__).resolve().parent / "lessons" / "execute_lesson.py"
WORKERS = int(os.environ.get("WORKBENCH_LESSON_WORKERS", "2"))
TIMEOUT_S = 1800

_pool: ThreadPoolExecutor | None = None
_runs: dict[str, Future] = {}


def _execute(stem: str, out: Path) -> dict:
    env = {
        **os.environ,
        "WORKBENCH_SIZE": "lecture",
        "WORKBENCH_SMALL": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, str(EXECUTE), str(NOTEBOOKS / f"{stem}.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{stem} failed at lecture size (executed notebook: {out / stem}.ipynb)\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
        )
    return json.loads((out / "lesson.json").read_text())


@pytest.fixture
def lesson(request, tmp_path_factory):
    """``lesson(stem)`` -> the ``LESSON`` dict notebook ``stem`` computed at lecture size."""
    for package in ("jupytext", "nbclient", "nbformat", "ipykernel"):
        pytest.importorskip(package, reason="executing notebooks needs the app extra")

    def get(stem: str) -> dict:
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS)
            wanted = [
                getattr(getattr(item, "module", None), "NOTEBOOK", None)
                for item in request.session.items
            ]
            for name in dict.fromkeys(n for n in wanted if n):
                out = tmp_path_factory.mktemp(f"lesson-{name}")
                _runs[name] = _pool.submit(_execute, name, out)
        if stem not in _runs:
            _runs[stem] = _pool.submit(_execute, stem, tmp_path_factory.mktemp(f"lesson-{stem}"))
        result = _runs[stem].result()
        print(f"{stem}: lecture size ran {result['seconds']:.0f} s; LESSON = {result['lesson']}")
        return result["lesson"]

    return get


def pytest_sessionfinish(session, exitstatus):
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
