"""The sidebar's own-data upload: a NetCDF file becomes the method's ``data``, checked on the
server (size cap, layout) with the refusal shown, and the training then runs on it."""

import pytest
from bokeh.document import Document

from workbench import FNO, Darcy2D
from workbench.app import ServeLimits, Setup, Workbench
from workbench.train import Training

SMALL_FNO = dict(n_train=24, n_test=8, batch_size=8, modes=4, width=8, layers=2, projection=16)


@pytest.fixture(scope="module")
def darcy_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "mine.nc"
    Darcy2D().dataset(40, 16, seed=2, progress=False).to_netcdf(path, engine="h5netcdf")
    return path.read_bytes()


def workbench(**limits) -> Workbench:
    setup = Setup(Darcy2D(), FNO(**SMALL_FNO), [], Training(steps=6, eval_every=0))
    bench = Workbench(setup, limits=ServeLimits(**limits))
    bench.__panel__().get_root(Document())
    return bench


def upload(bench: Workbench, name: str, content: bytes) -> None:
    widget = bench.setup_panel._data_upload.upload
    widget.value = {name: content}


def test_an_uploaded_file_is_the_training_data(darcy_bytes):
    bench = workbench()
    section = bench.setup_panel._data_upload
    assert section.panel.visible and "generated samples" in section.status.object
    upload(bench, "mine.nc", darcy_bytes)
    method = bench.setup.method
    assert method.data is not None and method.data.sizes["sample"] == 40
    assert "**mine.nc**: 40 samples on a 16 x 16 grid" in section.status.object
    assert method.data_resolution(bench.setup.problem) == 16
    bench.train()
    assert bench.wait(120) == "done"
    _, tree = bench.runs[-1]
    assert tree["data"].sizes["sample"] == 8 + 24 and tree.attrs["status"] == "done"
    section.generated.clicks += 1
    assert method.data is None and "generated samples" in section.status.object


def test_a_file_with_more_than_the_split_needs_fits_the_split(darcy_bytes):
    bench = workbench()
    bench.setup.method.param.update(n_train=1000, n_test=100)
    upload(bench, "mine.nc", darcy_bytes)
    method = bench.setup.method
    assert (method.n_test, method.n_train) == (4, 36)
    assert "n_test=4 and n_train=36 now fit it" in bench._alert.object


def test_bad_uploads_are_refused_with_the_reason(darcy_bytes):
    bench = workbench(max_upload_mb=0.01)
    upload(bench, "big.nc", darcy_bytes)
    assert bench.setup.method.data is None
    assert "over this server's upload cap of 0.01 MB" in bench._alert.object
    bench = workbench()
    upload(bench, "junk.nc", b"not a netcdf file")
    assert bench.setup.method.data is None and "cannot read 'junk.nc'" in bench._alert.object


def test_the_section_is_only_for_methods_that_learn_from_data():
    bench = workbench()
    bench.setup_panel._method_select.value = "deeponet"
    assert bench.setup_panel._data_upload.panel.visible
    bench.setup_panel._problem_select.value = "burgers1d"
    bench.setup_panel._method_select.value = "pinn"
    assert not bench.setup_panel._data_upload.panel.visible
