"""The Workbench on operator data, without a browser and without training an operator.

Fake snapshots and a fake Run, laid out like an operator run's (``sample`` dim, an input
field, ``/samples`` and ``/transfer``), go through the same code as real ones: ``_draw_fields``
(what each UI tick does with a snapshot) and ``flush()`` (which picks up a finished Run).
"""

import numpy as np
import panel as pn
import torch
import xarray as xr
from bokeh.document import Document

from workbench import PINN, Poisson2D
from workbench.app import Setup, Workbench
from workbench.app.result_tabs import RESULT_TABS
from workbench.results import Run
from workbench.train import Training


def operator_fields(dims=("x", "y"), labels=(0, 1, 2), resolution=12, input_name="f", **attrs):
    """Fields of a few test samples: input, u, u_ref, error, rel_l2 (+ residual in 2D)."""
    rng = np.random.default_rng(resolution)
    n = len(labels)
    coords = {d: (d, np.linspace(0, 1, resolution), {"long_name": d}) for d in dims}
    coords["sample"] = ("sample", np.asarray(labels))
    grid = np.meshgrid(*(np.linspace(0, 1, resolution) for _ in dims), indexing="ij")
    # Each sample its own amplitude, so a wrong sample shows in the drawn data.
    amplitude = np.arange(1, n + 1, dtype=float).reshape((n,) + (1,) * len(dims))
    truth = amplitude * np.prod([np.sin(np.pi * g) for g in grid], axis=0)
    prediction = truth + 0.01 * rng.normal(size=truth.shape)
    var_dims = ("sample", *dims)
    ds = xr.Dataset(
        {
            input_name: (var_dims, rng.normal(size=truth.shape)),
            "u": (var_dims, prediction),
            "u_ref": (var_dims, truth),
            "error": (var_dims, prediction - truth),
        },
        coords=coords,
    )
    if len(dims) == 2:
        ds["residual"] = (var_dims, 0.1 * (prediction - truth))
    axes = tuple(range(1, len(dims) + 1))
    rel = np.sqrt(((prediction - truth) ** 2).sum(axes) / (truth**2).sum(axes))
    ds["rel_l2"] = ("sample", rel)
    ds.attrs = {"input": input_name, "resolution": resolution, "l2re": float(rel.mean()), **attrs}
    return ds


def operator_run(transfer=True) -> Run:
    groups = {
        "history": xr.Dataset(
            {"loss": ("step", [1.0, 0.1], {"role": "loss_total"})}, coords={"step": [0, 1]}
        ),
        "fields": operator_fields(),
        "points": xr.Dataset(),  # operators keep no collocation points
        "samples": operator_fields(labels=range(100, 110)),
    }
    if transfer:
        groups["transfer"] = operator_fields(
            labels=range(100, 110), resolution=24, train_resolution=12
        )
    tree = xr.DataTree.from_dict(groups)
    tree.attrs = {"problem": "poisson2d", "method": "fno", "status": "done", "l2re": 0.01}
    return Run(tree, Poisson2D(), PINN(), [], torch.nn.Linear(1, 1))


def workbench() -> Workbench:
    setup = Setup(Poisson2D(), PINN(width=8, depth=1), [], Training(steps=10))
    wb = Workbench(setup)
    wb.__panel__().get_root(Document())
    return wb


def image(wb: Workbench, key: str) -> np.ndarray:
    return wb.live_view._field_plots[key].source.data["image"][0]


def test_a_snapshot_with_samples_draws_the_chosen_sample_and_the_input():
    wb = workbench()
    view = wb.live_view
    assert not view._sample.visible and set(view._field_plots) == {
        "u",
        "u_ref",
        "error",
        "residual",
    }
    snapshot = operator_fields()
    view.draw_fields(snapshot, None)
    assert list(view._field_plots) == ["f", "u", "u_ref", "error", "residual"]
    assert view._sample.visible and list(view._sample.options.values()) == [0, 1, 2]
    assert view._sample.value == 0
    np.testing.assert_allclose(image(wb, "u_ref"), snapshot.u_ref.isel(sample=0).T)
    np.testing.assert_allclose(image(wb, "f"), snapshot.f.isel(sample=0).T)
    assert view._field_plots["f"].figure.title.text == "input f"
    assert not view._show_points.visible  # operators have no collocation points

    view._sample.value = 2
    np.testing.assert_allclose(image(wb, "u_ref"), snapshot.u_ref.isel(sample=2).T)
    rel = float(snapshot.rel_l2.isel(sample=2))
    # The sample's own error, then the metric the status line shows (the test set's mean).
    mean = snapshot.attrs["l2re"]
    assert view._field_plots["error"].figure.title.text == (
        f"error, this sample's rel L2 {rel:.3g}, test set l2re {mean:.4g}"
    )
    # The next snapshot keeps the chosen sample and reuses the plots.
    plots = dict(view._field_plots)
    view.draw_fields(operator_fields(), None)
    assert view._field_plots == plots and view._sample.value == 2

    # A 1D family without a residual (u0 -> u(T)): plots for its data, no profile.
    view.draw_fields(operator_fields(dims=("x",), labels=(5, 6), input_name="u0"), None)
    assert list(view._field_plots) == ["u0", "u", "error"]
    assert view._profile_plot is None and view._sample.value == 5
    assert len(view._field_plots["u"].source.data["u"]) == 12

    wb.reset()  # back to the problem's point-based preview
    assert set(view._field_plots) == {"u", "u_ref", "error", "residual"}
    assert not view._sample.visible and view._show_points.visible


def test_a_finished_operator_run_adds_result_tabs():
    wb = workbench()
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]
    wb.live._run = operator_run()  # as the worker would hand it over
    wb.flush()
    # No /rollout group (not an evolution family): no Rollout tab.
    operator_tabs = ["Gallery", "Error histogram", "Resolution transfer"]
    assert wb.tabs._names == ["Live", "Runs", "Sweeps", *operator_tabs]
    assert set(operator_tabs) < set(RESULT_TABS)
    gallery = dict(zip(wb.tabs._names, wb.tabs.objects))["Gallery"]
    sliders = [w for w in gallery.select(pn.widgets.Widget) if w.name == "sample"]
    assert len(sliders) == 1 and list(sliders[0].options.values()) == list(range(100, 110))
    wb.tabs.get_root(Document())  # every tab renders
    assert wb.live_view._sample.visible and len(wb.runs) == 1
    wb.runs_tab._compare(wb.runs[0][0], wb.runs[0][0]).get_root(Document())  # the Runs tab copes

    wb.live._run = operator_run(transfer=False)
    wb.flush()
    assert wb.tabs._names == ["Live", "Runs", "Sweeps", "Gallery", "Error histogram"]
    wb.reset()
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]
