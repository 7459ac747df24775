"""The Live tab on a flow (several components): a component selector, one component drawn."""

import numpy as np
import pytest
from bokeh.document import Document

from workbench import PINN
from workbench.app import Setup, Workbench
from workbench.problems import Kovasznay2D, TaylorGreen2D
from workbench.train import Training


def workbench(problem):
    setup = Setup(problem, PINN(width=8, depth=1), [], Training(steps=10))
    wb = Workbench(setup)
    wb.__panel__().get_root(Document())
    return wb


def image(wb: Workbench, key: str) -> np.ndarray:
    return wb.live_view._field_plots[key].source.data["image"][0]


def test_the_preview_shows_the_chosen_component_of_the_reference():
    wb = workbench(Kovasznay2D())
    view = wb.live_view
    assert view._component.visible
    assert view._component.options == ["u", "v", "p", "speed", "vorticity"]
    assert view._component.value == "u"
    reference = view._fields["u_ref"]
    np.testing.assert_allclose(image(wb, "u_ref"), reference.sel(component="u").T)
    view._component.value = "v"
    np.testing.assert_allclose(image(wb, "u_ref"), reference.sel(component="v").T)
    view._component.value = "speed"
    speed = np.hypot(reference.sel(component="u"), reference.sel(component="v"))
    np.testing.assert_allclose(image(wb, "u_ref"), speed.T)


def test_a_snapshot_keeps_the_component_and_the_status_line_shows_the_overall_metric():
    wb = workbench(Kovasznay2D())
    view = wb.live_view
    view._component.value = "p"
    reference = Kovasznay2D().reference({"x": 16, "y": 16})
    snapshot = (
        reference.to_dataset(name="u_ref")
        .assign(u=reference * 1.1, error=reference * 0.1)
        .assign(residual=reference.rename(component="equation") * 0)
        .assign_attrs(l2re=0.1, l2re_u=0.1, l2re_v=0.1, l2re_p=0.1)
    )
    view.draw_fields(snapshot, None)
    assert view._component.value == "p"
    np.testing.assert_allclose(image(wb, "u"), 1.1 * reference.sel(component="p").T)


@pytest.mark.parametrize("problem", [TaylorGreen2D()])
def test_a_flow_in_time_shows_its_last_time(problem):
    wb = workbench(problem)
    view = wb.live_view
    reference = view._fields["u_ref"]
    np.testing.assert_allclose(image(wb, "u_ref"), reference.sel(component="u").isel(t=-1).T)
