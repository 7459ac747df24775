"""Per-pair recipes: every entry names real knobs with allowed values, trains, and the front
ends (``recipe()``, the CLI, the app) apply it while explicit values win."""

from __future__ import annotations

import pytest

from workbench import PIG, Helmholtz2D, fit, recipe
from workbench.cli import build_run_inputs, make_parser
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.recipes import RECIPES, Recipe, recipe_for
from workbench.train import Training, train

PAIRS = sorted(RECIPES)

# Test-only sizes: a recipe's knobs at a size that trains in a second on one core.
TINY = {
    "width": 8,
    "depth": 1,
    "gaussians": 16,
    "n_interior": 64,
    "n_initial": 16,
    "n_boundary": 16,
    # Field generators (kolmogorov2d): a small dataset on a coarse grid, brief evaluations.
    "resolution": 16,
    "n_train": 16,
    "n_test": 4,
    "batch_size": 4,
    "n_samples": 4,
    "posterior_samples": 2,
    "sample_steps": 2,
    "guided_steps": 2,
}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_a_recipe_names_real_knobs_with_allowed_values(pair):
    problem_name, method_name = pair
    found = RECIPES[pair]
    assert isinstance(found, Recipe) and found.source
    problem = PROBLEMS[problem_name]()
    method = METHODS[method_name]()
    assert method.supports(problem)
    for name in found.method:
        assert name in method.param and name != "name", name
    # Assigning checks bounds and types (param raises on a bad value).
    method.param.update(**found.method)
    Training(**found.training)
    assert set(found.weights) <= set(method.term_names(problem))
    # The whole combination as train() sees it, checked before any work starts.
    train(problem, method, combiner=found.combiner, **found.training, weights=found.weights).close()


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_each_recipe_trains_a_few_steps(pair):
    args = recipe(*pair)
    method = args["method"]
    method.param.update(**{k: v for k, v in TINY.items() if k in method.param})
    settings = {**args, "steps": 3, "eval_every": 0, "threads": 1}
    run = fit(PROBLEMS[pair[0]](), progress=False, **settings)
    assert run.status == "done"
    assert run.tree.attrs["method"]  # provenance written


def test_recipe_gives_fit_arguments_and_explicit_objects_stay_as_built():
    args = recipe("helmholtz2d", "pig")
    assert args["method"].sampler == "resample"
    assert args["weights"] == {"residual": 1e-4} and args["steps"] == 1000
    assert recipe("burgers1d", "pinn").keys() == {"method"}  # no recipe: generic defaults
    assert recipe_for("burgers1d", "pinn") is None
    with pytest.raises(ValueError, match="problem"):
        recipe("nope", "pinn")
    with pytest.raises(ValueError, match="method"):
        recipe("burgers1d", "nope")
    # fit() never consults the recipes: a PIG built by hand keeps its fixed points.
    run = fit(
        Helmholtz2D(),
        PIG(gaussians=8, n_interior=32, n_boundary=8),
        steps=1,
        eval_every=0,
        progress=False,
    )
    assert run.method.sampler == "fixed"


def _cli(*argv):
    return build_run_inputs(make_parser().parse_args(["run", *argv]))


def test_cli_applies_the_pair_recipe_under_explicit_flags():
    _, method, _, _, settings = _cli("--problem", "helmholtz2d", "--method", "pig")
    assert method.sampler == "resample"
    assert settings["steps"] == 1000 and settings["weights"] == {"residual": 1e-4}
    _, method, _, _, settings = _cli(
        "--problem", "helmholtz2d", "--method", "pig", "--set", "sampler=fixed",
        "--steps", "7", "--weight", "residual=0.5",
    )  # fmt: skip
    assert method.sampler == "fixed"
    assert settings["steps"] == 7 and settings["weights"] == {"residual": 0.5}
    _, method, _, _, settings = _cli("--problem", "helmholtz2d", "--method", "pig", "--no-recipe")
    assert method.sampler == "fixed"
    assert settings["steps"] == Training.steps and settings["weights"] == {}


def test_app_applies_a_recipe_when_the_pair_changes_and_undoes_it():
    pytest.importorskip("panel")
    from workbench.app import Workbench

    workbench = Workbench()
    panel, setup = workbench.setup_panel, workbench.setup
    panel._problem_select.value = "helmholtz2d"
    first = setup.training.steps  # the app's own first-run steps
    assert first != 1000  # helmholtz2d + pinn: no recipe, nothing changed
    panel._method_select.value = "pig"
    assert setup.method.sampler == "resample"
    assert setup.training.steps == 1000 and setup.weights == {"residual": 1e-4}
    assert panel._weights_input.value == "residual=0.0001"
    setup.training.lr = 3e-3  # the user's own choice survives a pair change
    panel._problem_select.value = "convection1d"
    assert setup.method.name == "pig" and setup.method.n_interior == 1000
    assert setup.weights == {"initial": 100.0, "periodic": 100.0}
    assert setup.training.steps == 3000 and setup.training.lr == 1e-2  # the recipe's lr
    panel._problem_select.value = "poisson1d"  # no recipe: back to the generic defaults
    assert setup.method.sampler == "fixed" and setup.method.n_interior is None
    assert setup.weights == {} and setup.training.steps == first
    assert setup.training.lr == 3e-3


@pytest.mark.slow
def test_the_helmholtz_pig_recipe_beats_the_generic_defaults():
    # Measured at 100 Adam steps (1 thread): recipe l2re 0.129, generic defaults 0.531.
    problem = Helmholtz2D()
    common = dict(steps=100, eval_every=0, progress=False, threads=1, seed=0)
    generic = fit(problem, PIG(), **common)
    tuned = fit(problem, **{**recipe("helmholtz2d", "pig"), **common})
    assert tuned.l2re < 0.25 < 0.4 < generic.l2re
