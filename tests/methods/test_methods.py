"""Contract tests over PINN-family methods x problems: a few steps give finite, decreasing loss.

Operator methods learn problem families; their contract tests are in test_operators.py.
"""

import math

import pytest
import torch

from workbench.methods import METHODS, PhysicsInformed
from workbench.problems import PROBLEMS
from workbench.train import fit

FIELD_METHODS = sorted(m for m, cls in METHODS.items() if issubclass(cls, PhysicsInformed))
PAIRS = [(m, p) for m in FIELD_METHODS for p in sorted(PROBLEMS)]


@pytest.mark.parametrize(("method_name", "problem_name"), PAIRS)
def test_few_steps_give_finite_decreasing_loss(method_name, problem_name):
    problem = PROBLEMS[problem_name]()
    method = METHODS[method_name](n_interior=256, n_boundary=32, n_initial=32, width=16, depth=2)
    assert method.supports(problem)
    run = fit(problem, method, steps=60, lr=5e-3, eval_every=0, progress=False)
    loss = run.history["loss"].values
    assert run.status == "done"
    assert all(math.isfinite(v) for v in loss)
    assert loss[-10:].mean() < loss[:10].mean()
    fields = run.fields
    assert set(fields.data_vars) == {"u", "u_ref", "error", "residual"}
    components = ("component",) if problem.multi_component() else ()
    assert fields["u"].dims == (*components, *problem.dims)


@pytest.mark.parametrize("problem_name", sorted(PROBLEMS))
def test_hard_constraints_remove_satisfied_terms(problem_name):
    problem = PROBLEMS[problem_name]()
    method = METHODS["pinn"](hard_constraints=True, n_interior=64, width=8, depth=1)
    if not problem.constrained:
        # Periodic conditions only (kolmogorov2d): no output transform to offer.
        with pytest.raises(ValueError, match="hard_constraints"):
            fit(problem, method, steps=3, eval_every=0, progress=False)
        return
    run = fit(problem, method, steps=3, eval_every=0, progress=False)
    terms = set(run.history.data_vars)
    for name in problem.constrained:
        assert name not in terms


def test_forward_and_autograd_derivatives_train_identically():
    problem = PROBLEMS["burgers1d"]()
    runs = [
        fit(
            problem,
            METHODS["pinn"](derivatives=mode, n_interior=128, width=8, depth=2),
            steps=20,
            eval_every=0,
            dtype="float64",
            progress=False,
        )
        for mode in ("forward", "autograd")
    ]
    a, b = (r.history["loss"].values for r in runs)
    assert a == pytest.approx(b, rel=1e-8)


def test_pinn_reduces_error_on_poisson1d():
    problem = PROBLEMS["poisson1d"]()
    run = fit(
        problem, METHODS["pinn"](n_interior=256), steps=600, lr=1e-2, eval_every=100, progress=False
    )
    l2re = run.history["l2re"].dropna("step").values
    assert run.l2re < 0.05 < l2re[0]


def test_pinn_rejects_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        METHODS["pinn"](activation="relu")


def test_fourier_features_change_the_model():
    method = METHODS["pinn"](fourier_features=8)
    model = method.build(PROBLEMS["poisson1d"](), torch.Generator().manual_seed(0))
    assert model.mlp.fourier is not None
    assert "mlp.fourier.freqs" in model.state_dict()
