"""A public demo's caps hold on the server, whatever the page sends (issue: a public demo that
cannot be broken): Save with ``--no-disk`` writes nothing even when the button is clicked
anyway, Load reads only the runs folder and answers the same for paths that exist and paths
that do not, and uploads are capped in size, zips by their unpacked size before unpacking."""

from __future__ import annotations

import io
import zipfile

import pytest

from workbench import PINN, Poisson1D, Training, fit
from workbench.app import ServeLimits, Workbench
from workbench.app.runs import RunsTab
from workbench.app.setup import Setup
from workbench.cli import main

SMALL = dict(width=8, depth=2, n_interior=32, n_boundary=8, n_initial=8)


@pytest.fixture(scope="module")
def run():
    return fit(Poisson1D(), PINN(**SMALL), steps=3, progress=False)


def finished(**params) -> Workbench:
    setup = Setup(Poisson1D(), PINN(**SMALL), [], Training(steps=5))
    workbench = Workbench(setup, **params)
    workbench.train()
    assert workbench.wait(60) == "done"
    return workbench


def test_no_disk_save_writes_nothing_even_if_clicked(tmp_path):
    runs_dir = tmp_path / "runs"
    workbench = finished(limits=ServeLimits(allow_disk=False), runs_dir=str(runs_dir))
    assert workbench.controller.save_button.disabled
    workbench.controller.save_button.disabled = False  # re-enabled by the page's JavaScript
    workbench.controller.save_button.clicks += 1
    assert workbench.save() is None
    assert not runs_dir.exists()
    assert "does not save to its disk" in workbench._alert.object


def test_save_with_disk_writes_under_runs_dir(tmp_path):
    workbench = finished(runs_dir=str(tmp_path / "runs"))
    workbench.controller.save_button.clicks += 1
    saved = sorted((tmp_path / "runs").iterdir())
    assert len(saved) == 1 and (saved[0] / "run.nc").exists()


@pytest.mark.parametrize("name", ["/etc", "../outside", "/nonexistent/x", "", "."])
def test_load_reads_only_the_runs_folder_and_is_no_oracle(name, tmp_path):
    (tmp_path / "outside").mkdir()
    shown = []
    tab = RunsTab(ServeLimits(), notify=shown.append, runs_dir=tmp_path / "runs")
    tab.load_saved(name)
    assert tab.runs == [] and len(shown) == 1
    # The same words whether the path exists or not: nothing about the server's files.
    assert shown[0].startswith("Load takes the name of a saved run in the runs folder (runs/)")


def test_load_by_name_inside_the_runs_folder(run, tmp_path):
    run.save(tmp_path / "runs" / "mine")
    shown = []
    tab = RunsTab(ServeLimits(), notify=shown.append, runs_dir=tmp_path / "runs")
    tab.load_saved("mine")
    assert [label for label, _ in tab.runs] == ["#1 mine"] and shown == []
    tab.load_saved("missing")
    assert "does not exist" in shown[-1]


def test_no_disk_load_refused(tmp_path):
    shown = []
    tab = RunsTab(ServeLimits(allow_disk=False), notify=shown.append, runs_dir=tmp_path)
    tab.load_saved("anything")
    assert "does not read runs from its disk" in shown[0]


def _upload(tab: RunsTab, filename: str, data: bytes) -> None:
    tab._upload.value = {filename: data}


def test_upload_over_the_cap_is_refused(tmp_path):
    shown = []
    tab = RunsTab(ServeLimits(max_upload_mb=0.01), notify=shown.append, runs_dir=tmp_path)
    _upload(tab, "run.nc", b"\0" * 20_000)
    assert tab.runs == [] and "over this server's upload cap of 0.01 MB" in shown[0]


def test_zip_bomb_refused_from_its_directory(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run.nc", b"\0" * 5_000_000)  # 5 MB of zeros: a ~5 kB archive
    data = buffer.getvalue()
    assert len(data) < 20_000
    shown = []
    tab = RunsTab(ServeLimits(max_upload_mb=1), notify=shown.append, runs_dir=tmp_path)
    _upload(tab, "bomb.zip", data)
    assert tab.runs == [] and "unpacks to 5.0 MB, over this server's upload cap" in shown[0]


def test_zip_with_other_members_refused(run, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run.nc", b"x")
        archive.writestr("../../etc/evil", b"x")
    shown = []
    tab = RunsTab(ServeLimits(), notify=shown.append, runs_dir=tmp_path)
    _upload(tab, "run.zip", buffer.getvalue())
    assert tab.runs == [] and "a saved run's zip holds only" in shown[0]


def test_download_zip_uploads_back(run, tmp_path):
    from workbench.app.runs import zip_run

    shown = []
    tab = RunsTab(ServeLimits(), notify=shown.append, runs_dir=tmp_path)
    _upload(tab, "run.zip", zip_run(run).getvalue())
    assert shown == [] and len(tab.runs) == 1


def test_upload_cap_flag_checked(capsys):
    assert main(["serve", "--max-upload-mb", "0", "--port", "0"]) == 2
    assert "max_upload_mb" in capsys.readouterr().err


def test_a_paused_training_frees_its_slot_after_the_idle_limit():
    import time

    limits = ServeLimits(max_trainings=1, idle_release_s=0.5)
    setup = Setup(Poisson1D(), PINN(**SMALL), [], Training(steps=1000))
    first, second = Workbench(setup, limits=limits), Workbench(setup.copy(), limits=limits)
    first.step()  # a training started paused: it holds the server's only slot
    second.train()
    assert not second.live.active and "maximum of 1 trainings" in second._alert.object
    # The server's watchdog asks every session; a Step keeps a paused training alive.
    time.sleep(0.3)
    first.step()
    assert not first.release_if_idle(limits.idle_release_s)
    deadline = time.monotonic() + 30
    while not first.release_if_idle(limits.idle_release_s):
        assert time.monotonic() < deadline, "never seen idle"
        time.sleep(0.1)
    assert first.wait(60) == "stopped" and first.live.run is not None  # the Run is kept
    assert "paused for" in first._alert.object and "free its training slot" in first._alert.object
    second.train()  # the slot is free again
    assert second.live.active
    second.live.stop(wait=True, discard=True)


def test_idle_release_flag_checked(capsys):
    assert main(["serve", "--idle-release-s", "-5", "--port", "0"]) == 2
    assert "idle_release_s" in capsys.readouterr().err


def test_session_idle_flag_checked(capsys):
    assert main(["serve", "--session-idle-s", "-5", "--port", "0"]) == 2
    assert "session_idle_s" in capsys.readouterr().err


def test_the_runs_tab_keeps_at_most_max_session_runs(run, tmp_path):
    tab = RunsTab(ServeLimits(max_session_runs=2), notify=print, runs_dir=tmp_path)
    for _ in range(3):
        tab.add(run)
    # The oldest went; the numbers go on counting.
    assert [label.split()[0] for label, _ in tab.runs] == ["#2", "#3"]


def test_the_live_history_stays_bounded(monkeypatch):
    from workbench.app import live as live_module

    monkeypatch.setattr(live_module, "HISTORY_ROWS", 100)
    live = live_module.LiveTraining()
    live.start(Poisson1D(), PINN(**SMALL), steps=450)
    live.wait(120)
    assert live.state == "done"
    rows = len(live._columns["step"])
    history = live.history(max_points=10_000)
    assert rows <= 100 and history["step"][-1] == 449 and history["step"][0] == 0
    assert len(history["loss"]) == len(history["step"]) == rows
