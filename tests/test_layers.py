"""The layering contract of ``pyproject.toml`` ([tool.importlinter]) holds, and it catches an
import that points up a layer (ARCHITECTURE.md rule 11)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` with the project's contracts on the ``workbench`` package in
    ``tree`` (which must hold ``pyproject.toml`` and ``workbench/``)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_layering_contract_holds():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "workbench", tmp_path / "workbench", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a problem reaching up for the training loop
        (
            "problems/heat1d.py",
            "from workbench.train import fit",
            "workbench.problems is not allowed to import workbench.train",
        ),
        # a view reaching for torch
        ("views/fields.py", "import torch", "workbench.views is not allowed to import torch"),
        # the core reaching for the app
        (
            "train/loop.py",
            "from workbench.app import Workbench",
            "workbench.train is not allowed to import workbench.app",
        ),
    ],
)
def test_an_upward_import_breaks_the_contract(tree_copy: Path, module: str, line: str, broken: str):
    path = tree_copy / "workbench" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout
