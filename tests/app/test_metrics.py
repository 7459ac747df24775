"""One number per meaning: every place that shows a Run's metric shows the same value.

For a PINN, a PIG, a latent model and a field generator trained through the Workbench, the
status line, the fields panel (or the generator's gallery), the Runs tab, ``Run.l2re``, the
one-line summary and the report's final value agree, and name the metric: a field generator's
is an energy distance, never called ``l2re``. While training, a value computed on the coarse
live grid says so in the status line and on the panel alike.
"""

import re
import time

import pytest
from bokeh.document import Document

from workbench import views
from workbench.app import Setup, Workbench
from workbench.methods import PIG, PINN, FlowMatching, PhysVAE
from workbench.problems import Darcy2D, Pendulum, Poisson1D, Poisson2D
from workbench.train import Training
from workbench.views.metric import METRIC_FORMAT

TINY_2D = dict(n_interior=64, n_boundary=16)
SETUPS = {
    "pinn": lambda: (Poisson1D(), PINN(width=16, depth=2, n_interior=128, n_boundary=16)),
    "pig": lambda: (Poisson2D(), PIG(gaussians=20, **TINY_2D)),
    "phys_vae": lambda: (Pendulum(), PhysVAE(n_train=40, n_test=10, batch_size=20, width=16)),
    "flow_matching": lambda: (
        Darcy2D(),
        FlowMatching(
            resolution=16,
            n_train=40,
            n_test=10,
            batch_size=8,
            n_samples=8,
            posterior_samples=4,
            sample_steps=4,
            width=8,
            levels=2,
        ),
    ),
}


def status_metric(workbench: Workbench) -> str:
    return re.search(r'class="wb-metric">([^<]*)<', workbench.controller.status.object).group(1)


def shown_metric(workbench: Workbench) -> str:
    """What the Live tab says of the metric: the error panel's title, or the gallery's text."""
    plots = workbench.live_view._field_plots
    if "error" in plots:
        return plots["error"].figure.title.text
    return workbench.live_view._gallery_metric.object


@pytest.mark.parametrize("name", list(SETUPS))
def test_every_place_shows_the_final_states_metric(tmp_path, name):
    problem, method = SETUPS[name]()
    # eval_every=7: the history's last value (step 35) is not the final state's (step 40).
    setup = Setup(problem, method, [], Training(steps=40, eval_every=7))
    workbench = Workbench(setup)
    workbench.__panel__().get_root(Document())
    workbench.train()
    assert workbench.wait(120) == "done"
    workbench.flush()
    run = workbench.live.run

    label = "energy distance" if name == "flow_matching" else "l2re"
    text = f"{label} {run.l2re:{METRIC_FORMAT}}"
    assert status_metric(workbench) == text
    assert shown_metric(workbench).endswith(text) or f"{text}**" in shown_metric(workbench)
    # The Runs table's column is named for the metric and holds its value.
    assert workbench.runs_tab._runs_table.object[label].iloc[-1] == f"{run.l2re:{METRIC_FORMAT}}"
    summary_key = "energy_distance" if name == "flow_matching" else "l2re"
    assert f" {summary_key}={run.l2re:{METRIC_FORMAT}} " in run.summary()
    html = views.report(run.tree, tmp_path / "report.html").read_text()
    final = re.search(r"<th>final ([^<]*)</th><td>([^<]*)</td>", html)
    assert final.group(2) == text
    assert run.history["l2re"].attrs["long_name"] == final.group(1) == run.metric.long_name
    if name == "flow_matching":
        assert run.metric.long_name == "normalised energy distance"
        for shown in (status_metric(workbench), shown_metric(workbench), run.summary()):
            assert "l2re" not in shown
        assert "l2re" not in final.group(0)


def test_a_live_value_on_the_coarse_grid_says_so():
    setup = Setup(Poisson2D(), PINN(width=8, depth=1, **TINY_2D), [], Training(steps=100_000))
    setup.training.eval_every = 0  # only snapshots: every live value is a coarse one
    workbench = Workbench(setup, snapshot_points=12)
    workbench.__panel__().get_root(Document())
    workbench.train()
    start = time.perf_counter()
    while workbench.live._snapshot_version < 2 and time.perf_counter() - start < 60:
        time.sleep(0.02)
    workbench.pause()
    while workbench.live.state != "paused":
        time.sleep(0.02)
    time.sleep(0.1)
    workbench.flush()
    status = status_metric(workbench)
    assert status.startswith("l2re ") and status.endswith(" (live, 12x12)")
    assert shown_metric(workbench) == f"error, {status}"
    workbench.reset()
