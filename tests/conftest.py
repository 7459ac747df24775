"""Test settings: one torch thread (the shared 2-core box crawls with more), a scratch folder
for generated datasets, and shared data."""

import os
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
