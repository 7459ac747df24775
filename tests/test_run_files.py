"""A Run on disk is complete or absent: atomic saves, the manifest, and Run.load's contract
(FileNotFoundError or ValueError naming what is wrong, never another exception)."""

import json
import multiprocessing
import os
import random
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workbench import PINN, Poisson1D, Run, fit
from workbench.results import MANIFEST_FILE, RUN_FILE, WEIGHTS_FILE

SMALL = dict(n_interior=64, n_boundary=16, n_initial=16, width=16, depth=2)


@pytest.fixture(scope="module")
def run():
    return fit(Poisson1D(), PINN(**SMALL), steps=3, progress=False)


@pytest.fixture(scope="module")
def saved(run, tmp_path_factory):
    return run.save(tmp_path_factory.mktemp("good") / "run")


def variant(run, tree=None, model=None) -> Run:
    """``run`` with another tree or model (saved with a manifest that matches them)."""
    return Run(
        run.tree if tree is None else tree,
        run.problem,
        run.method,
        run.regularizers,
        run.model if model is None else model,
        run.combiner,
    )


def retagged(run, **attrs) -> xr.DataTree:
    """A copy of ``run``'s tree with some root attrs changed."""
    tree = run.tree.copy()
    tree.attrs = {**run.tree.attrs, **attrs}
    return tree


def hidden_siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


# --- atomic saves ------------------------------------------------------------------------
def test_save_writes_a_manifest_last_and_leaves_nothing_beside(tmp_path, run):
    folder = run.save(tmp_path / "r", extra=lambda f: (f / "report.html").write_text("<p>"))
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "report.html",
        "run.nc",
        "weights.safetensors",
    ]
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["format"] == "workbench-run" and manifest["version"] == 1
    assert manifest["files"][RUN_FILE]["size"] == (folder / RUN_FILE).stat().st_size
    assert len(manifest["files"][WEIGHTS_FILE]["sha256"]) == 64
    assert "report.html" in manifest["files"]
    run.save(folder)  # a replace: the old report goes with the old run
    assert not (folder / "report.html").exists() and hidden_siblings(folder) == []
    Run.load(folder)


def test_save_refuses_a_folder_with_other_files(tmp_path, run):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        run.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine" and not (tmp_path / RUN_FILE).exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        run.save(tmp_path / "file")


def test_run_without_manifest_still_loads(tmp_path, run, saved):
    # Runs saved before manifests existed hold run.nc and the weights only.
    old = tmp_path / "old"
    old.mkdir()
    for name in (RUN_FILE, WEIGHTS_FILE):
        shutil.copy(saved / name, old / name)
    xr.testing.assert_identical(Run.load(old).fields, run.fields)


def test_interrupt_while_writing_keeps_the_old_run(tmp_path, run):
    folder = run.save(tmp_path / "r")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def interrupted(staging):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        variant(run).save(folder, extra=interrupted)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert hidden_siblings(folder) == []
    with pytest.raises(KeyboardInterrupt):
        run.save(tmp_path / "new", extra=interrupted)
    assert not (tmp_path / "new").exists() and hidden_siblings(folder) == []


def test_a_run_moved_aside_by_a_killed_save_is_named_and_restored(tmp_path, run):
    folder = run.save(tmp_path / "r")
    aside = tmp_path / ".r.old-x1y2"
    os.rename(folder, aside)  # as a save killed between its two renames leaves it
    with pytest.raises(FileNotFoundError, match=r"\.r\.old-x1y2"):
        Run.load(folder)
    stale = tmp_path / ".r.saving-999999999-abc"  # half-written by a process that is gone
    stale.mkdir()
    (tmp_path / ".r.saving-999999999-abc" / RUN_FILE).write_bytes(b"half")
    run.save(folder)
    assert hidden_siblings(folder) == []
    Run.load(folder)


# --- the malformed-run corpus ------------------------------------------------------------
def _truncate(name, keep_manifest=True):
    def corrupt(folder, run):
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])
        if not keep_manifest:
            (folder / MANIFEST_FILE).unlink()

    return corrupt


def _random_bytes(name):
    def corrupt(folder, run):
        (folder / name).write_bytes(np.random.default_rng(0).bytes(4096))
        (folder / MANIFEST_FILE).unlink()

    return corrupt


def _tree(change):
    def corrupt(folder, run):
        tree = run.tree.copy(deep=True)
        change(tree)
        shutil.rmtree(folder)
        variant(run, tree=tree).save(folder)

    return corrupt


def _attr(name, value):
    def change(tree):
        if value is None:
            del tree.attrs[name]
        else:
            tree.attrs[name] = value

    return _tree(change)


def _params(attr, **update):
    def change(tree):
        params = json.loads(tree.attrs[attr])
        if attr == "regularizers":
            params = [*params, update]
        else:
            params.update(update)
        tree.attrs[attr] = json.dumps(params)

    return _tree(change)


def _drop_group(group):
    def change(tree):
        del tree[group]

    return _tree(change)


def _drop_history_var(name):
    def change(tree):
        tree["history"] = xr.DataTree(tree["history"].to_dataset().drop_vars(name))

    return _tree(change)


def _model(build):
    def corrupt(folder, run):
        shutil.rmtree(folder)
        variant(run, model=build(run)).save(folder)

    return corrupt


def _mixed(folder, run):
    # run.nc of another save beside this save's weights and manifest (the mix).
    other = folder.parent / "other"
    variant(run, tree=retagged(run, seed=7)).save(other)
    shutil.copy(other / RUN_FILE, folder / RUN_FILE)


def _manifest(text):
    def corrupt(folder, run):
        (folder / MANIFEST_FILE).write_text(text)

    return corrupt


def _manifest_entry(change):
    def corrupt(folder, run):
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        change(manifest)
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest))

    return corrupt


CORPUS = {
    # name: (how to spoil a good folder, exception, what the message must name)
    "no folder": (lambda f, r: shutil.rmtree(f), FileNotFoundError, "does not exist"),
    "a file": (
        lambda f, r: (shutil.rmtree(f), f.write_text("x")),
        FileNotFoundError,
        "not a folder",
    ),
    "no run.nc": (lambda f, r: (f / RUN_FILE).unlink(), FileNotFoundError, "run.nc"),
    "no weights": (lambda f, r: (f / WEIGHTS_FILE).unlink(), FileNotFoundError, WEIGHTS_FILE),
    "truncated run.nc": (_truncate(RUN_FILE), ValueError, r"run\.nc: \d+ bytes, manifest"),
    "truncated weights": (_truncate(WEIGHTS_FILE), ValueError, "weights.safetensors: .*manifest"),
    "truncated run.nc, no manifest": (
        _truncate(RUN_FILE, keep_manifest=False),
        ValueError,
        r"cannot read run .*run\.nc",
    ),
    "truncated weights, no manifest": (
        _truncate(WEIGHTS_FILE, keep_manifest=False),
        ValueError,
        "cannot read run weights .*weights.safetensors",
    ),
    "random run.nc": (_random_bytes(RUN_FILE), ValueError, r"cannot read run .*run\.nc"),
    "random weights": (_random_bytes(WEIGHTS_FILE), ValueError, "weights.safetensors"),
    "mixed saves": (_mixed, ValueError, r"run\.nc: SHA-256 differs from manifest"),
    "manifest not JSON": (_manifest("{"), ValueError, "manifest.json"),
    "manifest of another format": (_manifest('{"format": "x"}'), ValueError, "format"),
    "manifest without the weights": (
        _manifest_entry(lambda m: m["files"].pop(WEIGHTS_FILE)),
        ValueError,
        "manifest.json: has no size and sha256 for weights",
    ),
    "manifest from the future": (
        _manifest_entry(lambda m: m.update(version=99)),
        ValueError,
        "version 99 is newer",
    ),
    "no /history": (_drop_group("history"), ValueError, "no /history group"),
    "no /fields": (_drop_group("fields"), ValueError, "no /fields group"),
    "no history loss": (_drop_history_var("loss"), ValueError, "/history has no variable 'loss'"),
    "no seed": (_attr("seed", None), ValueError, "root attr 'seed' is missing"),
    "seed not a number": (_attr("seed", "abc"), ValueError, "'seed' is 'abc'; expected an int"),
    "no problem": (_attr("problem", None), ValueError, "root attr 'problem' is missing"),
    "unknown problem": (_attr("problem", "nope"), ValueError, "'problem' names unknown 'nope'"),
    "unknown method": (_attr("method", "nope"), ValueError, "'method' names unknown 'nope'"),
    "dtype nonexistent": (_attr("dtype", "nonexistent"), ValueError, "'dtype' is 'nonexistent'"),
    "dtype float16": (_attr("dtype", "float16"), ValueError, "'dtype' is 'float16'.*float64"),
    "bad status": (_attr("status", "great"), ValueError, "'status' is 'great'"),
    "steps not a number": (_attr("steps", "many"), ValueError, "'steps' is 'many'"),
    "params not JSON": (_attr("problem_params", "{"), ValueError, "'problem_params' is not valid"),
    "unknown problem knob": (
        _params("problem_params", bogus=1),
        ValueError,
        "problem_params.*bogus",
    ),
    "unknown method knob": (_params("method_params", bogus=1), ValueError, "method_params.*bogus"),
    "knob out of range": (_params("method_params", width=-3), ValueError, "method_params.*width"),
    "unknown regularizer": (
        _params("regularizers", name="nope", params={}),
        ValueError,
        "'regularizers' names unknown 'nope'",
    ),
    "regularizers not a list": (_attr("regularizers", "{}"), ValueError, "'regularizers'.*list"),
    "unknown combiner": (
        _attr("combiner", json.dumps({"name": "nope", "params": {}})),
        ValueError,
        "'combiner' names unknown 'nope'",
    ),
    "weights of another shape": (
        _model(lambda r: PINN(**{**SMALL, "width": 8}).build(r.problem, torch.Generator())),
        ValueError,
        r"weights.safetensors: tensor '.*' is torch.float32 \(8",
    ),
    "weights in float64": (
        _model(lambda r: PINN(**SMALL).build(r.problem, torch.Generator()).double()),
        ValueError,
        "is torch.float64 .* expects torch.float32",
    ),
    "weights of another model": (
        _model(lambda r: torch.nn.Linear(1, 1)),
        ValueError,
        "weights.safetensors: tensors do not match .*unexpected: bias, weight",
    ),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_malformed_run_gives_a_named_error(case, tmp_path, run, saved):
    spoil, error, message = CORPUS[case]
    folder = tmp_path / "run"
    shutil.copytree(saved, folder)
    spoil(folder, run)
    with pytest.raises(error, match=message):
        Run.load(folder)


# --- random corruption ---------------------------------------------------------------------
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from([RUN_FILE, WEIGHTS_FILE]),
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=8
    ),
    cut=st.one_of(st.none(), st.floats(0, 1, exclude_max=True)),
    keep_manifest=st.booleans(),
)
def test_corrupt_bytes_never_load_wrong_data(name, flips, cut, keep_manifest, saved, tmp_path):
    data = bytearray((saved / name).read_bytes())
    for where, xor in flips:
        data[int(where * len(data))] ^= xor  # a nonzero xor: the byte really changes
    if cut is not None:
        data = data[: int(cut * len(data))]
    assume(bytes(data) != (saved / name).read_bytes())  # two flips of one byte cancel
    folder = tmp_path / "corrupt"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved, folder)
    (folder / name).write_bytes(bytes(data))
    if not keep_manifest:
        (folder / MANIFEST_FILE).unlink()
    try:
        Run.load(folder)
    except (FileNotFoundError, ValueError) as err:
        assert str(err)
    else:
        # Without a manifest a flip in padding or in a weight's value is undetectable; with
        # one, no changed file ever loads.
        assert not keep_manifest


# --- SIGKILL during a re-save --------------------------------------------------------------
def _save_when_told(run, folder, ready):
    ready.send(True)
    run.save(folder)
    os._exit(0)


def _which(folder: Path, runs: dict) -> str:
    """The name of the run saved in ``folder`` (its tree and weights checked, not mixed)."""
    loaded = Run.load(folder)
    matches = [
        name
        for name, r in runs.items()
        if loaded.tree.attrs["message"] == r.tree.attrs["message"]
        and all(
            torch.equal(loaded.model.state_dict()[k], v) for k, v in r.model.state_dict().items()
        )
    ]
    assert len(matches) == 1, f"{folder} holds a mix of saves"
    return matches[0]


def test_sigkill_during_a_resave_leaves_the_old_or_the_new_run(tmp_path, run):
    folder = tmp_path / "run"
    scaled = PINN(**SMALL).build(run.problem, torch.Generator())
    scaled.load_state_dict({k: 2 * v for k, v in run.model.state_dict().items()})
    runs = {
        "a": variant(run, tree=retagged(run, message="a")),
        "b": variant(run, tree=retagged(run, message="b"), model=scaled),
    }
    runs["a"].save(folder)
    start = time.perf_counter()
    runs["b"].save(folder)
    save_s = time.perf_counter() - start
    context = multiprocessing.get_context("fork")
    rng = random.Random(25)
    outcome = {"old": 0, "new": 0, "aside": 0}
    current = "b"
    for _ in range(30):
        new = "a" if current == "b" else "b"
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_save_when_told, args=(runs[new], folder, send))
        child.start()
        receive.recv()
        time.sleep(rng.uniform(0, 1.3 * save_s))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        if folder.exists():
            found = _which(folder, runs)
            outcome["old" if found == current else "new"] += 1
        else:  # killed between the two renames: the old run waits under the aside name
            (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith(".run.old-")]
            assert _which(aside, runs) == current
            outcome["aside"] += 1
            found = current
        current = found
    print(f"30 kills during a re-save ({save_s:.2f} s each): {outcome}")
    # Every kill left a whole run (checked above, not mixed). Which one depends on where the
    # kill landed, and on a busy machine a save can take longer than the delays drawn from
    # the first, quiet save: no share of "new" outcomes is required.
    assert sum(outcome.values()) == 30
    runs["a"].save(folder)  # tidies every leftover of the killed saves
    assert hidden_siblings(folder) == [] and _which(folder, runs) == "a"
