"""Test settings: one torch thread (the shared 2-core box crawls with more) and shared data."""

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
