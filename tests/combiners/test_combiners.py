"""Combiners of loss terms: the defining property of each, and the contract with train()."""

import warnings

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

from workbench.combiners import COMBINERS, LRA, MConFIG, MultiAdam, config_direction
from workbench.methods import PINN
from workbench.problems import PROBLEMS
from workbench.train import fit, train


@settings(max_examples=80, deadline=None)
@given(
    m=st.integers(2, 5),
    size=st.integers(6, 40),
    seed=st.integers(0, 10_000),
    scales=st.lists(st.floats(1e-3, 1e3), min_size=5, max_size=5),
)
def test_config_update_never_opposes_a_term(m, size, seed, scales):
    generator = torch.Generator().manual_seed(seed)
    grads = torch.randn(m, size, generator=generator, dtype=torch.float64)
    grads = grads * torch.tensor(scales[:m], dtype=torch.float64)[:, None]
    update = config_direction(grads)
    inner = grads @ update
    assert (inner >= -1e-9 * grads.norm(dim=1) * update.norm()).all()
    # Equal angle with every term's gradient (the unit gradients' projections agree).
    if update.norm() > 0:
        cosines = inner / (grads.norm(dim=1) * update.norm())
        assert torch.allclose(cosines, cosines[0].expand(m), atol=1e-6)


def test_config_of_agreeing_gradients_is_their_sum():
    g = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=torch.float64)
    assert torch.allclose(config_direction(g), g.sum(0))


def _sequence(seed=0, steps=6, terms=("residual", "initial", "boundary"), size=12):
    generator = torch.Generator().manual_seed(seed)
    return [
        {k: torch.randn(size, generator=generator, dtype=torch.float64) for k in terms}
        for _ in range(steps)
    ]


def _directions(combiner, grads_sequence, scale=None):
    state = combiner.start(list(grads_sequence[0]), grads_sequence[0]["residual"])
    out = []
    for step, grads in enumerate(grads_sequence):
        chosen = combiner.select(list(grads), state, step)
        given = {k: grads[k] * (scale or {}).get(k, 1.0) for k in chosen}
        out.append(combiner.combine(given, state, step)[0])
    return out


def test_multiadam_is_invariant_to_rescaling_a_term():
    sequence = _sequence()
    plain = _directions(MultiAdam(), sequence)
    scaled = _directions(MultiAdam(), sequence, {"initial": 1e3, "boundary": 1e-2})
    for a, b in zip(plain, scaled):
        assert torch.allclose(a, b, atol=1e-4)  # up to the eps in the denominators
    # The plain sum is not: Adam on the summed gradient follows the big term.
    summed = [sum(g.values()) for g in sequence]
    rescaled = [g["residual"] + 1e3 * g["initial"] + 1e-2 * g["boundary"] for g in sequence]
    assert not torch.allclose(summed[0] / summed[0].norm(), rescaled[0] / rescaled[0].norm())


def test_multiadam_training_ignores_a_term_scale():
    problem = PROBLEMS["poisson1d"]()
    method = PINN(width=8, depth=2, n_interior=64)

    def final_u(weight):
        run = fit(
            problem,
            method,
            combiner="multiadam",
            steps=30,
            eval_every=0,
            dtype="float64",
            weights={"boundary": weight},
            progress=False,
        )
        return run.fields["u"].values

    assert np.allclose(final_u(1.0), final_u(1e3), rtol=1e-6, atol=1e-8)


def test_lra_weights_balance_gradient_magnitudes():
    lra = LRA(alpha=1.0, every=1)
    residual = torch.tensor([4.0, -1.0, 0.0, 1.0])
    boundary = torch.tensor([0.5, 0.5, -0.5, 0.5])
    state = lra.start(["residual", "boundary"], residual)
    direction, diagnostics = lra.combine({"residual": residual, "boundary": boundary}, state, 0)
    assert diagnostics == {"weight_residual": 1.0, "weight_boundary": pytest.approx(8.0)}
    assert torch.allclose(direction, residual + 8.0 * boundary)


def test_mconfig_differentiates_one_term_per_step_and_waits_for_all():
    sequence = _sequence(steps=4)
    combiner = MConFIG()
    state = combiner.start(list(sequence[0]), sequence[0]["residual"])
    picked = [combiner.select(list(sequence[0]), state, step) for step in range(4)]
    assert picked == [["residual"], ["initial"], ["boundary"], ["residual"]]
    directions = _directions(MConFIG(), sequence)
    assert directions[0].abs().sum() == 0 and directions[1].abs().sum() == 0
    assert directions[2].abs().sum() > 0


@pytest.mark.parametrize("name", sorted(COMBINERS))
def test_every_combiner_trains_and_logs(name):
    problem = PROBLEMS["burgers1d"]()
    method = PINN(width=16, depth=2, n_interior=128, n_boundary=32, n_initial=32)
    lr = 1e-2 if name != "mconfig" else 5e-3
    run = fit(problem, method, combiner=name, steps=60, lr=lr, eval_every=0, progress=False)
    loss = run.history["loss"].values
    assert run.status == "done" and np.isfinite(loss).all()
    assert loss[-10:].mean() < loss[:10].mean()
    assert f'"name": "{name}"' in run.attrs["combiner"]
    roles = {v.attrs.get("role") for v in run.history.data_vars.values()}
    if name in ("config", "lra", "multiadam", "mconfig"):
        assert "diagnostic" in roles
        assert -1.0 <= float(run.history["grad_cosine"].min()) <= 1.0


def test_sum_combiner_is_the_default():
    problem = PROBLEMS["poisson1d"]()
    method = PINN(width=8, depth=2, n_interior=64)
    a = fit(problem, method, steps=10, eval_every=0, progress=False)
    b = fit(problem, method, combiner="sum", steps=10, eval_every=0, progress=False)
    assert np.array_equal(a.history["loss"].values, b.history["loss"].values)


def test_bad_combiners_are_named():
    problem = PROBLEMS["poisson1d"]()
    with pytest.raises(ValueError, match="combiner: unknown 'adamw'"):
        train(problem, PINN(), combiner="adamw")
    with pytest.raises(TypeError, match="combiner"):
        train(problem, PINN(), combiner=3)


def test_compile_with_a_per_term_combiner_warns_and_runs_eagerly():
    problem = PROBLEMS["poisson1d"]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = fit(
            problem,
            PINN(width=8, depth=1, n_interior=32),
            combiner="config",
            compile=True,
            steps=3,
            eval_every=0,
            progress=False,
        )
    assert run.status == "done"
    assert any("runs eagerly" in str(w.message) for w in caught)


def test_config_and_mconfig_match_the_authors_package():
    pytest.importorskip("conflictfree")
    from conflictfree.grad_operator import ConFIG_update
    from conflictfree.momentum_operator import PseudoMomentumOperator

    generator = torch.Generator().manual_seed(0)
    for m in (2, 3, 4):
        grads = torch.randn(m, 50, generator=generator)
        assert torch.allclose(config_direction(grads), ConFIG_update(grads), atol=1e-5)
    terms = ["residual", "initial", "boundary"]
    ours = MConFIG()
    state = ours.start(terms, torch.zeros(50))
    theirs = PseudoMomentumOperator(num_vectors=3)
    for step in range(9):
        grad = torch.randn(50, generator=generator)
        mine, _ = ours.combine({terms[step % 3]: grad}, state, step)
        assert torch.allclose(mine, theirs.calculate_gradient(step % 3, grad), atol=1e-5)
