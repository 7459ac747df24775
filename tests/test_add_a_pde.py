"""The README's worked example holds: adding a PDE is one file plus its registry line, and the
new problem shows up in ``workbench list``, the app's problem selector and the contract tests
with no other edit.

The example's code is read from the README and applied to a copy of the tree, so the README
cannot drift from what works.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "screened_poisson1d"


def readme_blocks() -> tuple[str, str, str]:
    """The example's module source, its import line and its registry entry."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(f"`workbench/problems/{NAME}.py`:") :]
    module, registration = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    import_line, entry = (line.split("#")[0].rstrip() for line in registration.splitlines())
    return module, import_line, entry


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the package and of the contract tests, with the README's edit applied."""
    tree = tmp_path_factory.mktemp("added_pde")
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "workbench", tree / "workbench", ignore=ignore)
    for part in ("conftest.py", "problems", "methods/test_methods.py"):
        target = tree / "tests" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / "tests" / part).is_dir():
            shutil.copytree(ROOT / "tests" / part, target, ignore=ignore)
        else:
            shutil.copy(ROOT / "tests" / part, target)

    module, import_line, entry = readme_blocks()
    (tree / "workbench" / "problems" / f"{NAME}.py").write_text(module)
    registry = tree / "workbench" / "problems" / "__init__.py"
    text = registry.read_text()
    # The README's two lines: the import among the others, the entry at the tuple's end.
    text = text.replace("\nPROBLEMS:", f"{import_line}\n\nPROBLEMS:", 1)
    end_of_tuple = "\n    )\n}"
    assert text.count(end_of_tuple) == 1, "PROBLEMS changed shape; update the README's example"
    text = text.replace(end_of_tuple, f"\n{entry}{end_of_tuple}")
    registry.write_text(text)
    return tree


def run(tree: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_registry_edit_is_what_the_readme_says(tree: Path):
    _, import_line, entry = readme_blocks()
    text = (tree / "workbench" / "problems" / "__init__.py").read_text()
    original = (ROOT / "workbench" / "problems" / "__init__.py").read_text()
    added = [line for line in text.splitlines() if line not in original.splitlines()]
    assert added == [import_line, entry]


def test_the_new_pde_is_listed_by_the_cli(tree: Path):
    listing = run(tree, "-m", "workbench.cli", "list").stdout
    assert NAME in listing


def test_the_new_pde_is_offered_by_the_app(tree: Path):
    script = (
        "import panel as pn\n"
        "from workbench.app import Workbench\n"
        "selects = [w for w in Workbench().__panel__().select(pn.widgets.Select)\n"
        "           if 'burgers1d' in list(w.options)]\n"
        "assert selects, 'no problem selector found'\n"
        "print(list(selects[0].options))\n"
    )
    assert NAME in run(tree, "-c", script).stdout


def test_the_new_pde_passes_the_contract_tests(tree: Path):
    result = run(
        tree,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        NAME,
        "tests/problems/test_problems.py",
        "tests/methods/test_methods.py",
        timeout=1200,
    )
    # Every problem-parametrized contract test ran for the new PDE and passed.
    passed = int(re.search(r"(\d+) passed", result.stdout)[1])
    assert passed >= 8 and "failed" not in result.stdout, result.stdout[-2000:]
