"""train()/fit(): determinism, divergence guard, bad input, stopping, L-BFGS, regularizers."""

import math
import time

import numpy as np
import pytest
import torch

from workbench import PINN, Burgers1D, GradientNorm, L2Penalty, Poisson1D, WeightDecay, fit, train
from workbench.train import Training, compiling
from workbench.train import session as session_module
from workbench.train.session import Budget

SMALL = dict(n_interior=128, n_boundary=16, n_initial=16, width=16, depth=2)


def test_same_seed_same_history():
    runs = [fit(Burgers1D(), PINN(**SMALL), steps=30, seed=7, progress=False) for _ in range(2)]
    a, b = (r.history for r in runs)
    for name in ("loss", "residual", "boundary", "initial"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    np.testing.assert_array_equal(runs[0].fields["u"].values, runs[1].fields["u"].values)
    other = fit(Burgers1D(), PINN(**SMALL), steps=30, seed=8, progress=False)
    assert not np.array_equal(a["loss"].values, other.history["loss"].values)


def test_progress_records_and_snapshots():
    records = list(
        train(
            Poisson1D(),
            PINN(**SMALL),
            steps=20,
            snapshot_every=10,
            snapshot_points=16,
            eval_every=5,
        )
    )
    assert [r.step for r in records[:-1]] == list(range(20))
    assert records[-1].done and records[-1].run is not None
    snaps = [r for r in records if r.snapshot is not None]
    assert [r.step for r in snaps] == [0, 10, 20]  # the final record carries the end state
    assert snaps[0].snapshot["u"].shape == (16,)
    assert {r.step for r in records[:-1] if r.l2re is not None} == {0, 5, 10, 15}
    assert set(records[0].losses) == {"loss", "residual", "boundary"}


def test_huge_learning_rate_diverges_cleanly_and_keeps_last_good_state():
    # compile=False: 2000 steps would compile under "auto", and this test is about divergence.
    records = list(
        train(Burgers1D(), PINN(**SMALL), steps=2000, lr=10.0, eval_every=0, compile=False)
    )
    run = records[-1].run
    assert run.status == "diverged"
    message = run.attrs["message"]
    assert "diverged at step" in message and "loss term" in message
    assert len(records) - 1 < 2000
    # The kept model is the last good one: its loss is the last logged (finite, not exploded).
    last_logged = run.history["loss"].values[-1]
    limit = 1e4 * run.history["loss"].values[0]
    assert math.isfinite(run.l2re) and last_logged < limit


def test_a_term_growing_from_almost_zero_is_learning_not_divergence():
    """A VAE's KL starts near 0 (the encoder ignores its input) and grows 10^4-fold as the
    latents start to carry the data; the whole loss falls meanwhile."""
    from workbench.methods import VAE
    from workbench.problems import PROBLEMS

    method = VAE(width=16, n_train=100, n_test=10, resolution=16)
    run = fit(PROBLEMS["darcy2d"](), method, steps=60, progress=False, eval_every=0)
    kl = run.history["kl"].values
    assert run.status == "done" and kl.max() > 1e4 * kl[0]


def test_non_finite_loss_names_the_term(monkeypatch):
    method = PINN(**SMALL)
    original = PINN.loss
    calls = {"n": 0}

    def poisoned(self, model, problem, batch):
        terms = original(self, model, problem, batch)
        calls["n"] += 1
        if calls["n"] > 5:
            terms["boundary"] = terms["boundary"] * float("nan")
        return terms

    monkeypatch.setattr(PINN, "loss", poisoned)
    run = fit(Poisson1D(), method, steps=50, progress=False)
    assert run.status == "diverged"
    assert "'boundary'" in run.attrs["message"] and "not finite" in run.attrs["message"]
    # Step 5's parameters gave the bad loss: the Run holds those of step 4, the last good ones.
    assert run.attrs["steps"] == 4
    assert np.isfinite(run.fields["u"].values).all()


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"steps": -1}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"schedule": "linear"}, "schedule"),
        ({"dtype": "float16"}, "dtype"),
        ({"ema": 1.0}, "ema"),
        ({"device": "tpu"}, "device"),
        ({"weights": {"residual": -1}}, "weights"),
        ({"weights": {"residul": 1.0}}, "has no term 'residul'; its terms are residual, boundary"),
    ],
)
def test_bad_settings_raise_before_work(settings, match):
    with pytest.raises(ValueError, match=match):
        train(Poisson1D(), PINN(**SMALL), **settings)


def test_unknown_setting_is_rejected():
    with pytest.raises(TypeError):
        train(Poisson1D(), PINN(**SMALL), stepz=3)


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="device"):
        train(Poisson1D(), PINN(**SMALL), device="cuda")


def test_wrong_types_are_rejected():
    with pytest.raises(TypeError, match="problem"):
        train("poisson1d", PINN())
    with pytest.raises(TypeError, match="regularizers"):
        train(Poisson1D(), PINN(), ["weight_decay"])


def test_stop_returns_a_run():
    records = train(Poisson1D(), PINN(**SMALL), steps=1000)
    for _ in range(5):
        next(records)
    final = records.send("stop")
    assert final.done and final.run.status == "stopped"
    assert final.run.attrs["steps"] == 5


def test_snapshot_on_request():
    records = train(Poisson1D(), PINN(**SMALL), steps=50, snapshot_points=8)
    first = next(records)
    assert first.snapshot is None
    asked = records.send("snapshot")  # the record after the request carries the snapshot
    assert asked.snapshot is not None and asked.snapshot["u"].shape == (8,)
    assert set(asked.points.data_vars) >= {"interior_x", "boundary_x"}
    assert next(records).snapshot is None
    with pytest.raises(ValueError, match="send"):
        records.send("faster")


def test_time_budget_ends_training():
    run = fit(Poisson1D(), PINN(**SMALL), steps=10**6, max_wall_s=1.0, progress=False)
    assert run.status == "done" and "time budget" in run.attrs["message"]


def test_time_budget_counts_the_data_preparation(monkeypatch):
    method = PINN(**SMALL)
    prepare = method.prepare

    def slow_prepare(problem):
        time.sleep(1.2)  # a dataset or reference that takes most of the budget
        prepare(problem)

    monkeypatch.setattr(method, "prepare", slow_prepare)
    began = time.perf_counter()
    run = fit(Poisson1D(), method, steps=10**6, max_wall_s=2.0, progress=False)
    elapsed = time.perf_counter() - began
    # The preparation is named, and the steps ended within the budget left after it.
    assert "time budget of 2 s" in run.attrs["message"] and "data 1 s" in run.attrs["message"]
    assert elapsed < 2.0 + 1.0, elapsed


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_budget_ends_the_steps_before_the_one_that_would_not_fit(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(session_module.time, "perf_counter", clock)
    budget = Budget(10.0, start=clock())
    clock.now += 1.0  # data preparation
    budget.began()
    clock.now += 6.0  # the compiling first step
    assert not budget.exhausted(compiling=True)
    budget.evaluated(1.0)
    for _ in range(3):  # steps of 0.5 s: 7.5, 8.0, then 8.5 + 0.5 + 1.0 no longer fits
        clock.now += 0.5
        if budget.exhausted(compiling=False):
            break
    assert clock.now - 100.0 == 8.5
    message = budget.message(step=4)
    assert "time budget of 10 s reached at step 4" in message and "compile 6 s" in message
    assert "train without compile" in message


def test_no_budget_never_ends_the_steps(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(session_module.time, "perf_counter", clock)
    budget = Budget(0.0, start=clock())
    budget.began()
    clock.now += 1e6
    assert not budget.exhausted(compiling=False)


def test_lbfgs_phase_lowers_the_loss():
    run = fit(
        Poisson1D(), PINN(**SMALL), steps=100, lbfgs_steps=40, lbfgs_float64=True, progress=False
    )
    loss = run.history["loss"]
    adam_end = float(loss.sel(step=99))
    assert float(loss.isel(step=-1)) < 0.5 * adam_end
    assert run.attrs["dtype"] == "float64"
    assert run.attrs["steps"] == 140


def test_regularizers_log_their_terms_and_decay_shrinks_weights():
    runs = {}
    for regs in ([], [WeightDecay(weight=0.5)], [L2Penalty(weight=1e-3)], [GradientNorm()]):
        run = fit(Poisson1D(), PINN(**SMALL), regs, steps=30, progress=False)
        runs[regs[0].name if regs else "none"] = run
    assert "l2" in runs["l2"].history and "grad_norm" in runs["grad_norm"].history

    def norm(run):
        return sum(float(p.detach().pow(2).sum()) for p in run.model.parameters())

    assert norm(runs["weight_decay"]) < norm(runs["none"])


def test_ema_keeps_the_moving_average_of_the_adam_iterates():
    steps, decay = 6, 0.5
    common = dict(steps=steps, schedule="constant", lr=1e-2, progress=False)
    averaged = fit(Poisson1D(), PINN(**SMALL), ema=decay, **common)
    plain = fit(Poisson1D(), PINN(**SMALL), **common)
    # The average is only evaluated and kept: Adam's own trajectory (the losses) is unchanged.
    np.testing.assert_array_equal(averaged.history["loss"].values, plain.history["loss"].values)
    # The raw iterate after k steps is what a k-step run ends with (constant learning rate).
    iterates = [fit(Poisson1D(), PINN(**SMALL), **{**common, "steps": k}) for k in range(steps + 1)]
    expected = {k: p.detach().clone() for k, p in iterates[0].model.named_parameters()}
    for k in range(steps):
        weight = 1 - min(decay, (1 + k) / (10 + k))
        raw = dict(iterates[k + 1].model.named_parameters())
        expected = {n: torch.lerp(p, raw[n].detach(), weight) for n, p in expected.items()}
    kept = dict(averaged.model.named_parameters())
    for name, p in expected.items():
        torch.testing.assert_close(kept[name].detach(), p)
        assert not torch.equal(kept[name], dict(plain.model.named_parameters())[name])
    assert averaged.l2re != plain.l2re


def test_loss_weights_scale_the_total():
    a = fit(Poisson1D(), PINN(**SMALL), steps=1, progress=False).history
    b = fit(Poisson1D(), PINN(**SMALL), steps=1, weights={"boundary": 3.0}, progress=False).history
    expected = float(a["residual"][0] + 3 * a["boundary"][0])
    assert float(b["loss"][0]) == pytest.approx(expected, rel=1e-5)


def test_training_knobs_are_documented_and_bounded():
    for name, p in Training.param.objects("existing").items():
        if name != "name":
            assert p.doc, name


def test_ctrl_c_during_a_step_keeps_the_run(monkeypatch):
    original = PINN.loss
    calls = {"n": 0}

    def interrupted(self, model, problem, batch):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return original(self, model, problem, batch)

    monkeypatch.setattr(PINN, "loss", interrupted)
    run = fit(Poisson1D(), PINN(**SMALL), steps=50, progress=False)
    assert run.status == "stopped" and "interrupted" in run.attrs["message"]
    assert run.attrs["steps"] == 7
    assert np.isfinite(run.fields["u"].values).all()


# --- compile="auto" and the compile cache ---------------------------------------------------
class FakeCompile:
    """Stands in for ``torch.compile``: records each call; the "compiled" step is the eager one
    (or one that raises, like a compile without a C++ compiler)."""

    def __init__(self, fails: bool = False, only: str | None = None):
        self.calls, self.fails, self.only = 0, fails, only

    def __call__(self, fn):
        self.calls += 1
        if not self.fails or (self.only and fn.__name__ != self.only):
            return fn

        def broken(*args, **kwargs):
            raise RuntimeError("no C++ compiler")

        return broken


@pytest.fixture
def cache_in_tmp(monkeypatch, tmp_path):
    """Keep the compile cache out of the user's home during a test."""
    monkeypatch.setenv(compiling.CACHE_ENV, str(tmp_path / "compile-cache"))
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "compile-cache"))


@pytest.mark.parametrize("value", ["yes", 1, None, "True"])
def test_compile_knob_refuses_other_values(value):
    with pytest.raises(ValueError, match="compile.*allowed: 'auto', True or False"):
        train(Poisson1D(), PINN(**SMALL), compile=value)


def test_compile_auto_is_eager_for_short_runs_and_compiles_long_ones(monkeypatch, cache_in_tmp):
    fake = FakeCompile()
    monkeypatch.setattr(torch, "compile", fake)
    short = fit(Poisson1D(), PINN(**SMALL), steps=5, eval_every=0, progress=False)
    assert fake.calls == 0 and short.attrs["compile"].startswith("auto: eager (fewer than")
    # A long run: shortened here by lowering the threshold instead of taking 2000 steps.
    monkeypatch.setattr(compiling, "MIN_STEPS", 5)
    long = fit(Poisson1D(), PINN(**SMALL), steps=5, eval_every=0, progress=False)
    assert fake.calls == 1 and long.attrs["compile"] == "auto: compiled"
    # The same run with a watching checkpoint (the app) stays eager: a Stop could not
    # interrupt the warm-up; and so does a per-term combiner.
    records = list(train(Poisson1D(), PINN(**SMALL), steps=5, checkpoint=lambda r: None))
    assert fake.calls == 1 and "could not be stopped" in records[-1].run.attrs["compile"]
    config = fit(Poisson1D(), PINN(**SMALL), combiner="config", steps=5, progress=False)
    assert fake.calls == 1 and "separately" in config.attrs["compile"]
    # Explicit settings win over the rule.
    fit(Poisson1D(), PINN(**SMALL), steps=5, compile=False, progress=False)
    assert fake.calls == 1
    monkeypatch.setattr(compiling, "MIN_STEPS", 2000)
    forced = fit(Poisson1D(), PINN(**SMALL), steps=5, compile=True, progress=False)
    assert fake.calls == 2 and forced.attrs["compile"] == "on"


def test_auto_needs_a_compiler_and_a_long_enough_budget():
    cpu = torch.device("cpu")
    args = dict(per_term=False, pays=True, interactive=False, device=cpu)
    assert compiling.decide("auto", 5000, 0.0, **args) == (
        compiling.compiler_available(cpu),
        "auto: compiled"
        if compiling.compiler_available(cpu)
        else "auto: eager (no compiler for torch.compile)",
    )
    assert compiling.decide("auto", 5000, 30.0, **args)[0] is False
    assert compiling.decide("auto", 5000, 0.0, **{**args, "pays": False})[0] is False
    assert compiling.decide(True, 5000, 30.0, **args) == (True, "on")
    assert compiling.decide(True, 0, 0.0, **args)[0] is False


def test_a_failing_compile_falls_back_to_eager(monkeypatch, cache_in_tmp):
    monkeypatch.setattr(torch, "compile", FakeCompile(fails=True))
    monkeypatch.setattr(compiling, "MIN_STEPS", 5)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" falls back without a word
        run = fit(Poisson1D(), PINN(**SMALL), steps=5, eval_every=0, progress=False)
    assert run.status == "done" and run.attrs["steps"] == 5
    assert "failed, ran eagerly: no C++ compiler" in run.attrs["compile"]
    eager = fit(Poisson1D(), PINN(**SMALL), steps=5, eval_every=0, compile=False, progress=False)
    np.testing.assert_array_equal(run.history["loss"].values, eager.history["loss"].values)
    with pytest.warns(UserWarning, match="torch.compile failed"):  # compile=True says so
        fit(Poisson1D(), PINN(**SMALL), steps=2, compile=True, progress=False)
    # A compiled Adam phase, then an L-BFGS loss whose compile fails: L-BFGS goes on eagerly.
    monkeypatch.setattr(torch, "compile", FakeCompile(fails=True, only="loss"))
    run = fit(Poisson1D(), PINN(**SMALL), steps=5, lbfgs_steps=3, eval_every=0, progress=False)
    assert run.status == "done" and run.attrs["steps"] > 5
    assert run.attrs["compile"].startswith("auto: compiled; failed, ran eagerly")


def test_compile_cache_dir_is_the_workbenchs_and_can_be_moved(monkeypatch, tmp_path):
    monkeypatch.delenv(compiling.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compiling.cache_dir() == tmp_path / "xdg" / "workbench" / "torch-compile"
    monkeypatch.setenv(compiling.CACHE_ENV, str(tmp_path / "mine"))
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/somewhere/else")
    assert compiling.use_cache_dir() == tmp_path / "mine"
    assert (tmp_path / "mine").is_dir()
    # Inductor's FX graph and AOTAutograd caches live below the folder it names.
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    assert cache_dir() == str(tmp_path / "mine")


def test_compile_flag_reads_as_a_switch_on_the_command_line():
    from workbench.results import parse_knob

    p = Training.param["compile"]
    assert [parse_knob(p, t) for t in ("true", "False", "auto")] == [True, False, "auto"]
    with pytest.raises(ValueError):
        parse_knob(p, "maybe")
