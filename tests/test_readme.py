"""The README teaches what the code does: its catalog is complete, every code block runs, and
every output a comment shows is what the code prints.

Each fenced block of ``README.md`` must have an entry in :data:`BLOCKS`, found by a snippet of
its text, saying how it is tested:

- ``Run``: executed as written (Python in a fresh interpreter, shell commands through bash
  with this environment's ``workbench``), in a scratch folder. Trainings that take minutes run
  *shrunk*: the listed text substitutions cut steps and sample counts, nothing else.
- ``Parse``: commands that start a server or render every notebook are parsed by the CLI's own
  parser (every flag and value is checked) and run at full size by the test named.
- ``Covered``: run by another test, named (the install and test commands by ``.ci/run``).

A comment after ``print(...)`` or after a bare expression is an output the README shows. The
test prints that value and compares: ``...`` stands for anything; numbers computed after the
first shrunk line are not compared (the README says those come from the full run), only the
shape of the line.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workbench import COMBINERS, METHODS, PROBLEMS, REGULARIZERS
from workbench.sampling import SAMPLERS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARK = "@@README-OUTPUT@@"


@dataclass(frozen=True)
class Run:
    """Execute the block; ``shrink`` is a list of (old, new) text substitutions."""

    shrink: tuple[tuple[str, str], ...] = ()
    timeout: int = 300


@dataclass(frozen=True)
class Parse:
    """Parse each command with the CLI's parser; ``covered_by`` runs it at full size."""

    covered_by: str


@dataclass(frozen=True)
class Covered:
    """Another test runs this block; ``by`` names it (a path under the checkout)."""

    by: str
    snippets: tuple[str, ...] = field(default=())


# Snippet of the block's text -> how it is tested. Every README block matches exactly one.
BLOCKS = {
    # .ci/run installs with install.sh (tests/test_install.py checks its choice of build).
    "bash install.sh && .venv/bin/workbench serve": Covered(".ci/run", ("bash install.sh",)),
    "pip install -e '.[app,dev]' && python -m pytest": Covered(
        ".ci/run", ("pip install -e '.[app,dev]' && python -m pytest",)
    ),
    "pn.ipywidget(Workbench())": Run(),
    "FNO(data=mine, n_test=20, n_train=100, modes=6), steps=200": Run(
        shrink=(("steps=200", "steps=5"),)
    ),
    "--max-trainings 4 --no-disk": Parse("tests/app/test_browser.py"),
    "run = fit(problem, method, [WeightDecay(weight=1e-4)], steps=2000": Run(
        shrink=(("steps=2000", "steps=40"), ("steps=500", "steps=20"), ("every=100", "every=10"))
    ),
    "convection = Convection1D(beta=30)": Run(
        shrink=(
            ("steps=12000", "steps=10"),
            ("steps=1000", "steps=5"),
            ('combiner="config")', 'combiner="config", steps=5)'),
        )
    ),
    'recipe("helmholtz2d", "pig")\n': Run(
        shrink=(
            ('**recipe("helmholtz2d", "pig"))', '**{**recipe("helmholtz2d", "pig"), "steps": 3})'),
            ('"steps": 300', '"steps": 3'),
        )
    ),
    "darcy.dataset(1100, resolution=32, seed=0)": Run(
        shrink=(
            ("dataset(1100", "dataset(32"),
            ("n_train=1000, n_test=100", "n_train=24, n_test=8"),
            ("steps=20 * fno.steps_per_epoch()", "steps=2"),
        )
    ),
    "pendulum = Pendulum(noise=0.01)": Run(
        shrink=(
            (
                "n_train=1000, n_test=200, batch_size=100), steps=4000",
                "n_train=40, n_test=10, batch_size=10), steps=3",
            ),
        )
    ),
    "darcy = Darcy2D(solver_nodes=16)": Run(
        shrink=(
            ("n_train=1000, n_test=200", "n_train=32, n_test=8"),
            ("steps=4000", "steps=3"),
            ("n=16)", "n=2)"),
        )
    ),
    "data = Data(n=200, noise=0.01)": Run(shrink=(("steps=5000", "steps=30"),)),
    "--infer nu=0.05 --observe 200": Run(shrink=(("--steps 5000", "--steps 30"),)),
    "ds = sweep(": Run(
        shrink=(
            ('"beta": [1, 10, 20, 30, 40, 50]', '"beta": [1, 30]'),
            ('"seed": [0, 1, 2]', '"seed": [0]'),
            ("steps=2000", "steps=5"),
        ),
        timeout=600,
    ),
    "workbench sweep --problem convection1d --method pinn --grid beta=1,10,20,30,40,50": Run(
        shrink=(
            ("beta=1,10,20,30,40,50", "beta=1,30"),
            ("--seeds 0,1,2 --out", "--seeds 0 --steps 5 --scheduler serial --out"),
        )
    ),
    "workbench list                       #": Run(
        shrink=(
            ("workbench serve  ", "# workbench serve  "),  # parsed by the Parse entry below
            ("--steps 12000", "--steps 5"),
            ("--steps 5000", "--steps 5"),
            ("--seeds 0,1 --out", "--seeds 0 --steps 5 --scheduler serial --out"),
        )
    ),
    "workbench run --problem burgers1d --set hard_constraints=true --set n_interior=8192": Run(
        # compile is covered by tests/combiners/test_combiners.py (tens of seconds here).
        shrink=(
            ("--steps 1000", "--steps 5"),
            ("--lbfgs-steps 100000", "--lbfgs-steps 5"),
            (" --compile", ""),
        )
    ),
    "workbench notebooks --html site/": Parse("tests/test_notebook_html.py"),
    "workbench/\n  problems/": Covered("README.md"),  # the layout: text, not code
    "class ScreenedPoisson1D(Problem):": Covered("tests/test_add_a_pde.py"),
    "ScreenedPoisson1D,  # at the end of the PROBLEMS tuple": Covered("tests/test_add_a_pde.py"),
}


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block in the README, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)


def spec_of(text: str):
    found = [key for key in BLOCKS if key in text]
    assert len(found) == 1, f"README block matches {found or 'no entry'} of BLOCKS:\n{text}"
    return BLOCKS[found[0]]


def shrunk(text: str, spec: Run) -> str:
    for old, new in spec.shrink:
        assert old in text, f"shrink {old!r} not in the README block (update tests/test_readme.py)"
        text = text.replace(old, new)
    return text


def expected_pattern(expected: str, numbers: bool) -> re.Pattern:
    """A shown output as a regex: ``...`` is anything; without ``numbers`` every number is."""
    parts = []
    for piece in re.split(r"(\.\.\.)", expected.strip()):
        if piece == "...":
            parts.append(".*?")
        elif numbers:
            parts.append(re.escape(piece))
        else:
            for bit in re.split(r"(?<![A-Za-z_])(\d[\d.e+-]*)", piece):
                parts.append(r"[-+\d.e]+" if bit and bit[0].isdigit() else re.escape(bit))
    return re.compile("".join(parts) + "$")


def instrumented(code: str, first_shrunk: int) -> tuple[str, list[tuple[str, bool]]]:
    """The Python block with each shown output printed behind :data:`MARK`, and the outputs
    with whether their numbers count (outputs before the first shrunk line)."""
    lines, shown = [], []
    for number, line in enumerate(code.splitlines()):
        match = re.match(r"^(\s*)(print\((.*)\)|([\w.]+\(.*\)|[\w.\[\]\"']+))\s+# (.*)$", line)
        if match and "," not in (match.group(3) or "") and _is_output(match.group(5)):
            indent, expr = match.group(1), match.group(3) or match.group(4)
            show = "str" if match.group(3) is not None else "repr"
            lines.append(f"{indent}print({MARK!r}, {show}({expr}))")
            shown.append((match.group(5), number < first_shrunk))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n", shown


def _is_output(comment: str) -> bool:
    """A comment that shows a value (``{'nu': ...}``, ``result problem=...``), not prose."""
    return comment.startswith(("{", "[", "result ", "'", "(")) or "=" in comment.split()[0]


def outputs(stdout: str) -> list[str]:
    return [line[len(MARK) + 1 :] for line in stdout.splitlines() if line.startswith(MARK)]


def environment(tmp_path: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "OMP_NUM_THREADS": "1",
        "WORKBENCH_DATA": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }


BLOCK_LIST = readme_blocks()


def test_readme_catalog_is_complete():
    text = README.read_text()
    for registry in (PROBLEMS, METHODS, REGULARIZERS, COMBINERS, SAMPLERS):
        for name in registry:
            assert f"`{name}`" in text, name


def test_every_block_has_exactly_one_entry():
    used = [key for key in BLOCKS if any(key in text for _, text in BLOCK_LIST)]
    assert set(used) == set(BLOCKS), f"entries matching no README block: {set(BLOCKS) - set(used)}"
    for _, text in BLOCK_LIST:
        spec_of(text)


@pytest.mark.parametrize(
    "lang, text",
    [b for b in BLOCK_LIST if isinstance(spec_of(b[1]), Covered)],
    ids=lambda v: v.split("\n")[0][:40],
)
def test_covered_elsewhere(lang, text):
    spec = spec_of(text)
    by = ROOT / spec.by
    assert by.exists(), spec.by
    for snippet in spec.snippets:
        assert snippet in by.read_text(), f"{spec.by} no longer runs {snippet!r}"


@pytest.mark.parametrize(
    "lang, text",
    [b for b in BLOCK_LIST if isinstance(spec_of(b[1]), Parse)],
    ids=lambda v: v.split("\n")[0][:40],
)
def test_server_commands_parse(lang, text):
    from workbench.cli import make_parser
    from workbench.notebook_html import notebook_sources

    spec = spec_of(text)
    assert (ROOT / spec.covered_by).exists(), spec.covered_by
    for command in _commands(text):
        argv = shlex.split(command, comments=True)
        assert argv[0] == "workbench", command
        args = make_parser().parse_args(argv[1:])
        if args.command == "notebooks":
            notebook_sources(args.names)  # every named notebook exists


def _commands(text: str) -> list[str]:
    """Shell lines with continuations joined, comments and blank lines dropped."""
    joined = text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "lang, text",
    [b for b in BLOCK_LIST if isinstance(spec_of(b[1]), Run)],
    ids=lambda v: v.split("\n")[0][:40],
)
def test_block_runs_and_prints_what_it_shows(lang, text, tmp_path):
    spec = spec_of(text)
    code = shrunk(text, spec)
    changed = [a != b for a, b in zip(text.splitlines(), code.splitlines())]
    first_shrunk = changed.index(True) if True in changed else len(changed)
    env = environment(tmp_path)
    if lang == "python":
        program, shown = instrumented(code, first_shrunk)
        done = subprocess.run(
            [sys.executable, "-c", program],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=spec.timeout,
        )
        assert done.returncode == 0, f"{program}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        printed = outputs(done.stdout)
    else:
        shown, printed = [], []
        for command in _commands(code):
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=spec.timeout,
            )
            assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        # A shown output on its own comment line below a command: that command's last line.
        for line in code.splitlines():
            if re.match(r"# (\.\.\. )?result ", line):  # "... ": lines before it left out
                shown.append((line.removeprefix("# ").removeprefix("... "), not spec.shrink))
                printed.append(done.stdout.strip().splitlines()[-1])
    assert len(printed) == len(shown), (shown, printed)
    for (expected, numbers), actual in zip(shown, printed):
        pattern = expected_pattern(expected, numbers)
        assert pattern.match(actual), f"README shows {expected!r}, the code printed {actual!r}"
