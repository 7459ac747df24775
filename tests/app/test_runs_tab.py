"""The Runs tab's Load: a good folder joins the table; a missing or spoilt one is not added and
Run.load's message (which file, group or attr, and what was expected) is shown in the page."""

import json
import shutil

import pytest

from workbench import PINN, Poisson1D, Run, fit
from workbench.app import ServeLimits, Workbench
from workbench.app.runs import RunsTab, differing_knobs, zip_run

SMALL = dict(width=8, depth=2, n_interior=32, n_boundary=8, n_initial=8)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    run = fit(Poisson1D(), PINN(**SMALL), steps=3, progress=False)
    return run.save(tmp_path_factory.mktemp("runs") / "good")


def spoil_dtype(folder):
    run = Run.load(folder)
    run.tree.attrs["dtype"] = "float16"
    shutil.rmtree(folder)
    run.save(folder)


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda f: shutil.rmtree(f), "does not exist"),
        (lambda f: (f / "weights.safetensors").unlink(), "has no weights.safetensors"),
        (lambda f: (f / "run.nc").write_bytes(b"junk"), "run.nc: 4 bytes, manifest.json expects"),
        (spoil_dtype, "root attr 'dtype' is 'float16'"),
    ],
)
def test_load_shows_why_a_run_is_refused(spoil, message, saved, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(saved, folder)
    spoil(folder)
    shown = []
    tab = RunsTab(ServeLimits(), notify=shown.append)
    tab.load(folder)
    assert tab.runs == [] and len(shown) == 1 and message in shown[0]


def test_load_adds_a_good_run_and_the_workbench_shows_refusals(saved, tmp_path):
    tab = RunsTab(ServeLimits(), notify=pytest.fail)
    tab.load(saved)
    assert [label for label, _ in tab.runs] == ["#1 good"]
    workbench = Workbench()
    workbench.load(tmp_path / "missing")
    assert workbench._alert.visible and "does not exist" in workbench._alert.object


def test_download_zip_holds_a_complete_run(saved, tmp_path):
    import zipfile

    archive = zipfile.ZipFile(zip_run(Run.load(saved)))
    assert sorted(archive.namelist()) == [
        "manifest.json",
        "report.html",
        "run.nc",
        "weights.safetensors",
    ]
    archive.extractall(tmp_path / "unzipped")
    manifest = json.loads((tmp_path / "unzipped" / "manifest.json").read_text())
    assert "report.html" in manifest["files"]
    Run.load(tmp_path / "unzipped")


def test_the_table_is_readable_and_says_how_two_runs_of_one_pair_differ():
    tab = RunsTab(ServeLimits(), notify=pytest.fail)
    tab.add(fit(Poisson1D(), PINN(**SMALL), steps=3, progress=False))
    wider = dict(SMALL, width=16)
    tab.add(fit(Poisson1D(), PINN(**wider), steps=3, lr=1e-3, seed=2, progress=False))
    table = tab._runs_table.object
    assert list(table.columns) == [
        "run",
        "problem",
        "method",
        "status",
        "steps",
        "l2re",
        "wall s",
        "regularizers",
        "combiner",
        "differs in",
    ]
    assert list(table["problem"]) == ["poisson1d"] * 2 and list(table["method"]) == ["pinn"] * 2
    assert list(table["differs in"]) == ["width=8, lr=0.01, seed=0", "width=16, lr=0.001, seed=2"]
    assert list(table["regularizers"]) == ["none", "none"]
    assert list(table["combiner"]) == ["sum", "sum"]
    assert not any("{" in str(v) for v in table.to_numpy().ravel())  # no raw JSON
    assert float(table["l2re"][0]) == pytest.approx(tab.runs[0][1].attrs["l2re"], rel=1e-3)
    # The comparison's choices tell the two apart too.
    assert list(tab._compare_a.options) == [
        "#1 pinn on poisson1d (width=8, lr=0.01, seed=0)",
        "#2 pinn on poisson1d (width=16, lr=0.001, seed=2)",
    ]
    assert tab._compare_b.value == "#2 pinn on poisson1d"


def test_knobs_are_compared_only_where_runs_share_them():
    base = {"problem": "poisson1d", "method": "pinn", "regularizers": "[]"}
    attrs = [
        {**base, "method_params": '{"width": 8, "depth": 2}', "training": '{"lr": 0.01}'},
        {**base, "method_params": '{"width": 8, "depth": 3}', "training": '{"lr": 0.01}'},
        {
            **base,
            "method": "fno",
            "method_params": '{"modes": 12}',
            "training": '{"lr": 0.01}',
            "regularizers": '[{"name": "weight_decay", "params": {"weight": 0.001}}]',
        },
    ]
    assert differing_knobs(attrs) == ["depth=2", "depth=3", ""]
    assert differing_knobs(attrs[:1]) == [""]  # one run differs from nothing
