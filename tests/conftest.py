"""Test settings: one torch thread (the shared 2-core box crawls with more) and shared data."""

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)


def shared_data(name: str) -> Path:
    """Path of an external reference file, or skip the test when it is not available."""
    root = os.environ.get("WORKBENCH_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"
    path = base / name
    if not path.is_file():
        pytest.skip(f"external reference data {name} not available")
    return path
