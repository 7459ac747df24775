"""The Workbench on latent generative models, without a browser.

A tiny VAE trains on the pendulum family through the Workbench: its live snapshots draw the
reconstructions and a latent traversal, and the finished Run gets the latent result tabs.
Fake snapshots (a 2D grid, many latent dims) go through ``_draw_fields``, what each UI tick
does with a snapshot.
"""

import time

import numpy as np
import panel as pn
import xarray as xr
from bokeh.document import Document

from workbench.app import Setup, Workbench
from workbench.app.result_tabs import LATENT_TABS, RESULT_TABS, result_tabs
from workbench.methods import PINN, VAE
from workbench.problems import Pendulum, Poisson2D
from workbench.train import Training


def wait_until(condition, timeout=30.0):
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def snapshot(dims=("x", "y"), size=8, n=3, latents=("z0", "z1"), offsets=5):
    """A generative model's live snapshot: data, reconstruction, error, rel_l2, traversal."""
    rng = np.random.default_rng(size)
    grid = {d: (d, np.linspace(0, 1, size), {"long_name": f"position {d}"}) for d in dims}
    shape = (size,) * len(dims)
    data = rng.normal(size=(n, *shape))
    vdims = ("sample", *dims)
    values = np.linspace(-1, 1, offsets)[None, :] * (1 + np.arange(len(latents)))[:, None]
    return xr.Dataset(
        {
            "u": (vdims, data + 0.1),
            "u_ref": (vdims, data),
            "error": (vdims, np.full(data.shape, 0.1)),
            "rel_l2": ("sample", np.full(n, 0.2)),
            "traversal": (
                ("latent", "offset", *dims),
                rng.normal(size=(len(latents), offsets, *shape)),
            ),
            "traversal_value": (("latent", "offset"), values),
        },
        coords={
            "sample": np.arange(n),
            "latent": list(latents),
            "offset": np.linspace(-2, 2, offsets),
            **grid,
        },
    )


def test_a_vae_trains_live_and_its_run_gets_the_latent_tabs():
    method = VAE(n_train=40, n_test=10, batch_size=20, width=16, latent=3)
    wb = Workbench(Setup(Pendulum(), method, [], Training(steps=100_000)))
    view = wb.live_view
    wb.__panel__().get_root(Document())
    wb.train()
    wait_until(lambda: wb.live._snapshot_version > 0)
    wb.flush()
    # Live: reconstructions of the chosen test sample, and a traversal figure per latent dim.
    assert view._sample.visible and list(view._field_plots) == ["u", "error"]
    assert view._field_plots["u"].figure.title.text == "reconstruction vs data"
    legend = [item.label.value for item in view._field_plots["u"].figure.legend[0].items[:2]]
    assert legend == ["reconstruction", "data"]
    traversal = view._traversal_plot
    assert [f.title.text for f in traversal.figures] == [f"latent z{i} swept" for i in range(3)]
    first = traversal.sources[0].data
    assert len(first["coord"]) == 50 and len([k for k in first if k.startswith("v")]) == 7
    assert len(view._traversal_box.objects) == 2
    wb.stop()
    assert wb.wait(60) == "stopped"

    names = wb.tabs._names
    assert names == ["Live", "Runs", "Sweeps", *LATENT_TABS]  # no operator gallery for prior draws
    tabs = dict(zip(names, wb.tabs.objects))
    # The tabs joined a rendered page, so each has been drawn into it already.
    assert all(len(tab._models) == 1 for tab in tabs.values())
    space = tabs["Latent space"]
    colour = next(w for w in space.select(pn.widgets.Select) if w.label == "colour by / parameter")
    assert colour.options == ["omega", "gamma", "theta0", "rel_l2"]
    scatter = space.select(pn.pane.HoloViews)[0]
    colour.value = "gamma"  # the scatter and the parity plot follow, in the same page
    now = space.select(pn.pane.HoloViews)[0]
    assert now.object.get(0).vdims[0].name == "gamma" and now is not scatter
    # After training the traversal shows the Run's fields (the same test sample 0).
    run_traversal = wb.live.run.fields["traversal"].isel(latent=0, offset=3).values
    np.testing.assert_allclose(view._traversal_plot.sources[0].data["v3"], run_traversal)

    wb.reset()
    assert wb.tabs._names == ["Live", "Runs", "Sweeps"]
    assert view._traversal_plot is None and view._traversal_box.objects == []


def test_a_2d_generative_snapshot_tiles_the_traversal_and_others_clear_it():
    wb = Workbench(Setup(Poisson2D(), PINN(width=8, depth=1), [], Training(steps=10)))
    view = wb.live_view
    wb.__panel__().get_root(Document())
    assert view._traversal_plot is None
    view.draw_fields(snapshot(), None)
    assert view._field_plots["u"].figure.title.text == "reconstruction"
    assert view._field_plots["u_ref"].figure.title.text == "data"
    (figure,) = view._traversal_plot.figures
    data = view._traversal_plot.source.data
    assert len(data["image"]) == 2 * 5 and data["latent"][:6] == ["z0"] * 5 + ["z1"]
    assert data["value"][5:] == list(np.linspace(-2, 2, 5))
    panes = view._traversal_panes
    view.draw_fields(snapshot(), None)  # the next snapshot reuses the figure
    assert view._traversal_panes == panes

    # Many latent dims: the 8 that vary most (the last 8 here) are drawn.
    many = snapshot(latents=[f"z{i}" for i in range(12)])
    view.draw_fields(many, None)
    assert view._traversal_plot.latents == [f"z{i}" for i in range(4, 12)]
    assert "8 of 12" in view._traversal_box.objects[0].object

    view.draw_fields(snapshot().drop_vars(["traversal", "traversal_value"]), None)
    assert view._traversal_plot is None and view._traversal_box.objects == []
    assert view._field_plots["u"].figure.title.text == "prediction"


def test_tabs_follow_the_groups_not_the_method():
    fields = snapshot(dims=("t",), size=16)
    latent = fields[["traversal", "traversal_value"]].assign(
        z_mean=(("sample", "latent"), np.random.default_rng(0).normal(size=(3, 2))),
        rel_l2=fields.rel_l2,
    )
    prior = xr.Dataset({"u": (("sample", "t"), np.zeros((4, 16)))}, coords={"t": fields.t})
    tree = xr.DataTree.from_dict({"fields": fields, "latent": latent, "samples": prior})
    tabs = result_tabs(tree)
    # A function family: no parity plot, no extrapolation.
    assert list(tabs) == ["Latent traversal", "Latent space", "Reconstructions", "Samples"]
    for tab in tabs.values():
        tab.get_root(Document())
    # /samples without /latent still shows its prior draws; with a truth it is a test set.
    assert list(result_tabs(xr.DataTree.from_dict({"samples": prior}))) == ["Samples"]
    test_set = prior.assign(u_ref=prior.u)
    assert list(result_tabs(xr.DataTree.from_dict({"samples": test_set}))) == [RESULT_TABS[0]]
