"""The sidebar shows only what applies to the chosen problem and method (issue 24, item 5).

Regularizers are offered where they mean something (``Regularizer.unsuitable``), a method's
knobs sit under the headings it declares (``Method.knob_groups``) and knobs without effect are
hidden (``Method.unused_knobs``). Checked server-side on the Panel objects: what a page would
show is what is visible down the layout tree.
"""

import panel as pn
import pytest

from workbench import PINN, Data, Poisson1D, WeightDecay, fit
from workbench.app import Setup, Workbench, from_query
from workbench.app.setup import read_query
from workbench.methods import FNO
from workbench.problems import Darcy2D
from workbench.regularizers import REGULARIZERS
from workbench.train import Training


def shown(obj):
    """The visible leaves under ``obj`` (a hidden container hides all it holds)."""
    if not getattr(obj, "visible", True):
        return
    if isinstance(obj, pn.Param):
        for widget in obj._widget_box:
            yield from shown(widget)
    elif isinstance(obj, pn.layout.ListLike):
        for child in obj:
            yield from shown(child)
    else:
        yield obj


def sidebar(workbench: Workbench) -> list[str]:
    """The sidebar as text: ``### heading`` lines and widget labels, top to bottom."""
    lines = []
    for item in shown(pn.Column(*workbench.setup_panel.objects)):
        if isinstance(item, pn.pane.Markdown) and str(item.object).startswith("#"):
            lines.append(str(item.object))
        elif isinstance(item, pn.widgets.Widget):
            lines.append(item.name)
    return lines


def section(lines: list[str], heading: str) -> list[str]:
    """The labels under ``### heading`` up to the next heading."""
    start = lines.index(f"### {heading}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def offered_regularizers(lines: list[str]) -> set[str]:
    titles = {cls.title: name for name, cls in REGULARIZERS.items()}
    return {titles[label] for label in section(lines, "Regularizers") if label in titles}


CASES = {
    ("burgers1d", "pinn"): {"weight_decay", "l2", "grad_norm", "de_elbo", "data"},
    ("poisson1d", "pinn"): {"weight_decay", "l2", "grad_norm", "de_elbo", "data"},
    ("darcy2d", "fno"): {"weight_decay", "l2", "grad_norm", "de_elbo", "pde_residual"},
    ("pendulum", "phys_vae"): {
        "weight_decay",
        "l2",
        "grad_norm",
        "de_elbo",
        "kl_annealing",
        "least_volume",
        "jacobian_nuclear",
    },
    ("darcy2d", "pbfm"): {"weight_decay", "l2", "grad_norm", "de_elbo"},
}


@pytest.mark.parametrize("pair", list(CASES), ids=["/".join(p) for p in CASES])
def test_only_the_regularizers_that_apply_are_offered_under_plain_headings(pair):
    problem, method = pair
    lines = sidebar(Workbench(from_query({"problem": problem, "method": method})))
    assert offered_regularizers(lines) == CASES[pair]
    headings = [line for line in lines if line.startswith("#")]
    assert headings[:2] == ["### Problem", "### Method"]
    assert headings[-3:] == ["### Regularizers", "### Loss combination", "### Training"]
    assert len(set(lines) & {"Sampling", "Sampler"}) == 0  # no two knobs that read alike
    # An unchecked regularizer shows its check box, not its knobs.
    assert "Weight" not in section(lines, "Regularizers")
    assert {"Adam steps", "Learning rate", "Seed"} <= set(section(lines, "Training"))


def test_a_pinns_points_are_their_own_group_and_a_steady_problem_has_no_initial_points():
    burgers = sidebar(Workbench(from_query({"problem": "burgers1d", "method": "pinn"})))
    points = section(burgers, "Sampling (collocation points)")
    assert points == [
        "Interior points",
        "Points per boundary condition",
        "Initial-condition points",
        "Point draws",
        "Interior point updates",
    ]
    assert "Interior points" not in section(burgers, "Method")
    assert "Causal eps" in section(burgers, "Method")  # burgers1d has time

    poisson = sidebar(Workbench(from_query({"problem": "poisson1d", "method": "pinn"})))
    points = section(poisson, "Sampling (collocation points)")
    assert "Initial-condition points" not in points and "Interior points" in points
    assert "Causal eps" not in section(poisson, "Method")  # no time: no causal weighting


def test_the_samplers_cadence_shows_only_for_a_moving_sampler():
    workbench = Workbench(from_query({"problem": "burgers1d", "method": "pinn"}))
    points = lambda: section(sidebar(workbench), "Sampling (collocation points)")  # noqa: E731
    assert "Steps between updates" not in points() and "RAR-D points per update" not in points()
    workbench.setup.method.sampler = "rar_d"
    assert {"Steps between updates", "RAR-D points per update"} <= set(points())
    workbench.setup.method.sampler = "r3"
    assert "Steps between updates" in points() and "RAR-D points per update" not in points()


def test_operators_and_generators_group_their_data_and_sampling_knobs():
    fno = sidebar(Workbench(from_query({"problem": "darcy2d", "method": "fno"})))
    assert {"N train", "Batch size", "Labels"} <= set(section(fno, "Data"))
    assert "N train" not in section(fno, "Method")
    pbfm = sidebar(Workbench(from_query({"problem": "darcy2d", "method": "pbfm"})))
    assert {"Sample steps", "N samples"} <= set(section(pbfm, "Sampling (generation)"))
    assert "Guided steps" in section(pbfm, "Inverse problem (posterior)")


def test_a_checked_regularizer_shows_its_knobs_and_is_unchecked_where_it_stops_applying():
    workbench = Workbench(Setup(Poisson1D(), PINN(), [], Training(steps=10)))
    panel = workbench.setup_panel
    panel._reg_checks["data"].value = True
    assert [r.name for r in workbench.setup.regularizers] == ["data"]
    regs = section(sidebar(workbench), "Regularizers")
    assert regs[regs.index(Data.title) + 1] == "Weight"  # the data misfit's knobs follow it

    panel._problem_select.value = "darcy2d"  # fno, say: a PINN's data misfit means nothing
    panel._method_select.value = "fno"
    assert workbench.setup.regularizers == [] and not panel._reg_checks["data"].value
    assert "data unchecked: it does not apply to darcy2d" in workbench._alert.object
    assert "data" not in offered_regularizers(sidebar(workbench))


def test_an_inapplicable_regularizer_is_refused_by_fit_and_by_a_link():
    with pytest.raises(ValueError, match="regularizer 'data' fits a PINN-family model"):
        fit(Darcy2D(), FNO(n_train=2, n_test=1, batch_size=2), [Data()], steps=1, progress=False)
    setup, errors = read_query({"problem": "darcy2d", "method": "fno", "reg": "data,weight_decay"})
    assert [r.name for r in setup.regularizers] == ["weight_decay"]
    assert errors == [
        "reg=data: regularizer 'data' fits a PINN-family model at points (pinn, pig), got "
        "'fno'; operators and generative models learn from their dataset"
    ]


def test_every_regularizer_has_a_title_and_says_where_it_applies():
    problem, method = Poisson1D(), PINN()
    for name, cls in REGULARIZERS.items():
        assert cls.title and cls.title != name
        reason = cls().unsuitable(problem, method)
        assert reason is None or name in reason  # a refusal names the regularizer
    assert WeightDecay().unsuitable(Darcy2D(), FNO()) is None
