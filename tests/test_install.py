"""``install.sh`` (the README's first command) picks the PyTorch build by ``nvidia-smi -L``.

Run with ``--dry-run`` and a PATH where ``nvidia-smi`` lists a GPU, fails, or is absent; the
real install is what ``.ci/run`` does before the test command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "install.sh"

if shutil.which("bash") is None:  # pragma: no cover
    pytest.skip("install.sh needs bash", allow_module_level=True)


def dry_run(tmp_path: Path, nvidia_smi: str | None, **env: str) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if nvidia_smi is not None:
        tool = bin_dir / "nvidia-smi"
        tool.write_text(f"#!/bin/sh\n{nvidia_smi}\n")
        tool.chmod(0o755)
    # Only the fake tool and the basics: a real nvidia-smi on the machine must not leak in.
    path = f"{bin_dir}:/usr/bin:/bin"
    environment = {"PATH": path, "HOME": str(tmp_path), **env}
    done = subprocess.run(
        ["bash", str(INSTALL), "--dry-run", "app,dev"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(Path("/usr/bin/nvidia-smi").exists(), reason="a real nvidia-smi is on PATH")
def test_cpu_build_without_a_gpu(tmp_path):
    out = dry_run(tmp_path, None)
    assert "CPU build" in out
    cpu_index = "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert f"pip install --no-deps torch==2.13.0 {cpu_index}" in out
    assert "pip install -e .[app,dev]" in out


def test_cpu_build_when_nvidia_smi_fails(tmp_path):
    out = dry_run(tmp_path, "exit 9")  # driver missing: the tool exists but lists nothing
    assert "CPU build" in out


def test_cuda_build_with_a_gpu(tmp_path):
    out = dry_run(tmp_path, "echo 'GPU 0: NVIDIA H200 (UUID: GPU-x)'")
    assert "CUDA build" in out
    assert "pip install torch==2.13.0\n" in out


def test_index_and_version_can_be_chosen(tmp_path):
    url = "https://download.pytorch.org/whl/cu126"
    out = dry_run(tmp_path, None, TORCH_INDEX_URL=url, TORCH_VERSION="2.14.1")
    assert f"pip install torch==2.14.1 --extra-index-url {url}" in out


def test_readme_first_command_is_install_sh():
    assert "bash install.sh && .venv/bin/workbench serve" in (ROOT / "README.md").read_text()
    assert os.access(INSTALL, os.X_OK) or INSTALL.read_text().startswith("#!/usr/bin/env bash")
