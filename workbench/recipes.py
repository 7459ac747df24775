"""Best-known recipes: per (problem, method) pair, the knobs that differ from the generic defaults.

A method's and a training's defaults are generic: one value for every problem. Some pairs need
others to train at all (a PIG on Helmholtz wants fresh points every step and a residual
weighted 1e-4; a PINN on convection wants R3 sampling and heavy initial/periodic terms). This
module holds those values in one place, for the front ends that *pick a pair*:

* :func:`recipe` gives Python users the arguments of :func:`~workbench.fit` for a pair:
  ``fit(Helmholtz2D(), **recipe("helmholtz2d", "pig"))``. ``fit(problem, method)`` itself
  never looks here: objects the user built are trained exactly as built.
* the app's set-up applies a pair's recipe when the problem or method selection changes;
* ``workbench run`` / ``sweep`` apply it when the user names a pair, under any ``--set``,
  ``--weight`` or training flag given (explicit values win), unless ``--no-recipe``.

Only recipes measured in this project are listed; each entry cites where. A pair without an
entry trains with the generic defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workbench.methods import METHODS
from workbench.methods.base import Method


@dataclass(frozen=True)
class Recipe:
    """The knobs of one pair that differ from the generic defaults.

    Attributes
    ----------
    method : dict
        Method knobs (names of Parameters of the method class).
    training : dict
        Knobs of :class:`workbench.train.Training` (``steps``, ``lr``, ``lr_final``, ...).
    weights : dict
        Fixed weights of the method's loss terms (``train(weights=...)``).
    combiner : str or None
        A combiner name, when the recipe needs one other than the method's default.
    source : str
        Where the recipe was measured.
    """

    method: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    combiner: str | None = None
    source: str = ""


# Convection (beta = 30, the problem's default): notebooks/02_failure_modes and
# benchmarks/solvers.py "convection" (README "Command line" gives the same run): 4x50 tanh,
# 1000 points, initial/periodic terms weighted 100, Adam 5e-3 decaying to 0.1x over 12000
# steps; with fixed points the PINN fails, R3 fixes it.
_CONVECTION_POINTS = {"n_interior": 1000, "n_initial": 256, "n_boundary": 128}
_CONVECTION_WEIGHTS = {"initial": 100.0, "periodic": 100.0}
# The flows' PINN (kovasznay2d, taylor_green2d, cavity2d): DeepXDE's Kovasznay network (4x50
# tanh) with the conditions built into the output where the problem offers it.
_FLOW_NETWORK = {"width": 50, "depth": 4, "n_boundary": 400, "hard_constraints": True}

# Flow matching and PBFM on kolmogorov2d's velocity: benchmarks/generative.py "kolmogorov"
# (`--only kolmogorov --steps 1000`): batch 16, Adam 2e-3 decaying to 2e-4 over 1000 steps,
# the weights' moving average (0.999, as the PBFM code samples with); the generic lr of 1e-2
# is a PINN's, too large for a U-Net generator. Numbers in the PBFM docstring.
_KOLMOGOROV_GENERATOR = Recipe(
    method={"batch_size": 16},
    training={"steps": 1000, "lr": 2e-3, "ema": 0.999},
    source="benchmarks/generative.py kolmogorov",
)

RECIPES: Mapping[tuple[str, str], Recipe] = MappingProxyType(
    {
        ("kolmogorov2d", "flow_matching"): _KOLMOGOROV_GENERATOR,
        ("kolmogorov2d", "pbfm"): _KOLMOGOROV_GENERATOR,
        # README "Why does my PINN fail? Training aids" (the `pig = fit(Helmholtz2D(a1=4, a2=1),
        # ...)` line) and benchmarks/solvers.py "helmholtz" (PIG, 1000 Adam its): fresh points
        # every step and the residual weighted 1e-4 as in the paper's code; lr 1e-2 with the
        # generic exponential decay. Measured on this project's 2-core VM, 1 thread, seed 0:
        # 1000 steps l2re 4.6e-3 (147 s) vs generic defaults 0.475 (132 s); 100 steps 0.129
        # vs 0.531 (tests/test_recipes.py checks the latter).
        ("helmholtz2d", "pig"): Recipe(
            method={"sampler": "resample"},
            training={"steps": 1000},
            weights={"residual": 1e-4},
            source="README 'Training aids'; benchmarks/solvers.py helmholtz",
        ),
        ("convection1d", "pinn"): Recipe(
            method={"width": 50, "depth": 4, **_CONVECTION_POINTS, "sampler": "r3"},
            training={"steps": 12_000, "lr": 5e-3, "lr_final": 0.1},
            weights=_CONVECTION_WEIGHTS,
            source="notebooks/02_failure_modes (PINN + R3); benchmarks/solvers.py convection; "
            "README 'Command line'",
        ),
        # benchmarks/solvers.py "convection", "PIG, resampled points"; notebooks/02_failure_modes.
        ("convection1d", "pig"): Recipe(
            method={**_CONVECTION_POINTS, "sampler": "resample"},
            training={"steps": 3000, "lr": 1e-2, "lr_final": 0.1},
            weights=_CONVECTION_WEIGHTS,
            source="benchmarks/solvers.py convection (PIG); notebooks/02_failure_modes",
        ),
        # benchmarks/solvers.py "allen_cahn", "PIG, 4000 its": at lr 1e-2 and 5e-3 the PIG
        # diverged within 30 steps; the initial condition weighted 100 and lr 1e-3 train.
        ("allen_cahn1d", "pig"): Recipe(
            method={"gaussians": 400, "n_interior": 2048, "sampler": "resample"},
            training={"steps": 4000, "lr": 1e-3},
            weights={"initial": 100.0},
            source="benchmarks/solvers.py allen_cahn (PIG)",
        ),
        # benchmarks/navier_stokes_pinn.py row (a): DeepXDE's Kovasznay network (4x50 tanh) with
        # 2000 interior points, the walls and the outlet pressure exact (hard_constraints), Adam
        # 1e-3 then L-BFGS. Measured on this project's 2-core VM, 1 thread, seed 0: l2re of
        # u 1.2e-4, v 4.9e-4 in 101 s of CPU; with the conditions as loss terms instead, u
        # 3.0e-3 and v 9.8e-3 in 105 s.
        ("kovasznay2d", "pinn"): Recipe(
            method={**_FLOW_NETWORK, "n_interior": 2000},
            training={"steps": 2000, "lr": 1e-3, "lbfgs_steps": 1500},
            source="benchmarks/navier_stokes_pinn.py (a)",
        ),
        # benchmarks/navier_stokes_pinn.py rows (b) and (c): the initial condition exact
        # (hard_constraints), walls and the pressure on x = 0 as loss terms. Measured on this
        # project's 2-core VM, 1 thread, seed 0: l2re 6.6e-3 (u 1.1e-3, v 1.1e-3, p 2.1e-2) in
        # 225 s of CPU in the benchmark (294 s with the error evaluated every 500 steps); with
        # 1500 L-BFGS steps 1.6e-2 in 189 s. Row (c): nu = 0.1008 from 200 observations, 1 % noise.
        ("taylor_green2d", "pinn"): Recipe(
            method={**_FLOW_NETWORK, "n_interior": 3000},
            training={"steps": 2000, "lr": 1e-3, "lbfgs_steps": 3000},
            source="benchmarks/navier_stokes_pinn.py (b), (c)",
        ),
        # benchmarks/navier_stokes_pinn.py row (f), Re = 100: the walls and the lid exact
        # (hard_constraints, the lid lift), the pressure gauge a loss term, collocation points
        # kept 0.02 from the lid corners (cavity2d.CORNER_EXCLUSION), Adam then L-BFGS.
        # Measured on this project's 2-core VM, 1 thread (max centreline difference / lid
        # speed, u and v): seed 0: 2.1 % and 2.1 % in 249 s of CPU, l2re u 6.2e-2, v 1.2e-1;
        # seed 1: 4.1 % and 5.2 % in 242 s (target 5 %; with 2000 + 2000 steps 7.0 % and
        # 6.4 % in 158 s). The velocity error is 4-6x larger (rms) in the two 0.1 x 0.1
        # lid-corner squares (2 % of the area, 26-46 % of the squared error) than elsewhere.
        ("cavity2d", "pinn"): Recipe(
            method={**_FLOW_NETWORK, "n_interior": 3000},
            training={"steps": 3000, "lr": 1e-3, "lbfgs_steps": 3000},
            source="benchmarks/navier_stokes_pinn.py (f)",
        ),
    }
)


def recipe_for(problem: str, method: str) -> Recipe | None:
    """The registered :class:`Recipe` of a pair, or None (generic defaults)."""
    return RECIPES.get((problem, method))


def apply_to_method(method: Method, problem: str, previous: Recipe | None = None) -> Method:
    """Set ``method``'s knobs to its pair's recipe in place (and return it).

    Knobs that still hold the value ``previous`` (the recipe of the pair shown before) gave
    them go back to the method's generic defaults; other knobs keep what the user chose.
    """
    new = recipe_for(problem, method.name)
    values = {}
    if previous is not None:
        values = unset(method, previous.method)
    if new is not None:
        values.update(new.method)
    if values:
        method.param.update(**values)
    return method


def unset(obj, values: Mapping[str, Any]) -> dict[str, Any]:
    """The generic defaults of the knobs of ``obj`` that still hold ``values`` (a recipe's)."""
    return {
        k: obj.param[k].default
        for k, v in values.items()
        if k in obj.param and k != "name" and getattr(obj, k) == v
    }


def recipe(problem: str, method: str) -> dict[str, Any]:
    """The arguments of :func:`~workbench.fit` / :func:`~workbench.train` for a pair.

    Parameters
    ----------
    problem, method : str
        Registry names (``workbench list``).

    Returns
    -------
    dict
        ``method`` (a fresh Method with the recipe's knobs), ``weights``, the training knobs
        that differ from the generic defaults (``steps``, ``lr``, ...) and ``combiner`` when
        the recipe names one. For a pair without a recipe: the method with its defaults.

    Examples
    --------
    >>> from workbench import Helmholtz2D, fit, recipe
    >>> run = fit(Helmholtz2D(), **recipe("helmholtz2d", "pig"))  # doctest: +SKIP
    >>> run = fit(Helmholtz2D(), **{**recipe("helmholtz2d", "pig"), "steps": 200})  # doctest: +SKIP
    """
    from workbench.problems import PROBLEMS

    if problem not in PROBLEMS:
        raise ValueError(f"problem: unknown {problem!r}; allowed: {', '.join(PROBLEMS)}")
    if method not in METHODS:
        raise ValueError(f"method: unknown {method!r}; allowed: {', '.join(METHODS)}")
    found = recipe_for(problem, method)
    spec = METHODS[method]()
    if found is None:
        return {"method": spec}
    spec.param.update(**found.method)
    args: dict[str, Any] = {"method": spec, "weights": dict(found.weights), **found.training}
    if found.combiner is not None:
        args["combiner"] = found.combiner
    return args
