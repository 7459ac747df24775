"""One training's state and its steps: the functional Adam step (plain, compiled, or with a
gradient combiner), the weight average, the divergence guard, the records and snapshots,
the L-BFGS phase, and the Run at the end.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
import xarray as xr
from torch import nn
from torch.func import functional_call

from workbench.methods.base import Batch, Method
from workbench.methods.physics_informed.base import PhysicsInformed
from workbench.problems import families
from workbench.problems.base import Problem
from workbench.problems.plain import plain_view
from workbench.regularizers import Data
from workbench.regularizers.base import Objective
from workbench.results import Run, history_dataset, knobs, provenance
from workbench.train import compiling as compile_rule
from workbench.train.progress import Progress
from workbench.train.settings import Training, learning_rate

#: L-BFGS iterations per optimizer call, and so per Progress record.
LBFGS_CHUNK = 10


class _MethodCall(nn.Module):
    """``method.<name>(model, problem, arg)`` as a module, so that ``functional_call`` can swap
    the model's parameters in (``loss`` for training, ``predict`` for a data misfit)."""

    def __init__(self, model: nn.Module, method: Method, problem: Problem, name: str):
        super().__init__()
        self.model = model
        self.method = method
        self.problem = problem
        self.name = name

    def forward(self, arg):
        return getattr(self.method, self.name)(self.model, self.problem, arg)


def _load_params(model: nn.Module, params: Mapping[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(params[name])


def _flat(grads: Sequence[torch.Tensor | None], like: Sequence[torch.Tensor]) -> torch.Tensor:
    # A term that does not touch a tensor (a boundary term and a frozen part) has no gradient.
    return torch.cat(
        [(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, like)]
    )


def _smallest_cosine(grads: Sequence[torch.Tensor]) -> float | None:
    if len(grads) < 2:
        return None
    stacked = torch.stack(list(grads))
    unit = stacked / stacked.norm(dim=1, keepdim=True).clamp_min(1e-30)
    cosines = unit @ unit.T
    return float(cosines[~torch.eye(len(grads), dtype=torch.bool)].min())


class Budget:
    """The wall-clock budget (``max_wall_s``) of one training, counted from ``train()``'s
    start: data preparation, the compile, the steps and the final evaluation all spend it.

    The steps end *before* the one that would not fit: the check asks whether the time spent,
    plus a typical step (a running average of the time between checks) and the longest
    evaluation so far (the final one is at least as long), still fits. So a run ends within a
    step of its budget instead of overshooting it by a step and the final evaluation.
    """

    def __init__(self, seconds: float, start: float):
        self.seconds, self.start = seconds, start
        self.prepare_s = 0.0  # data preparation and model building, before the first step
        self.compile_s = 0.0  # the first, compiling step (when compiled)
        self.step_s = 0.0  # running average of the time between checks
        self.eval_s = 0.0  # the longest evaluation so far
        self.last = start

    def began(self) -> None:
        """The first step is about to start: what was spent so far was preparation."""
        self.last = time.perf_counter()
        self.prepare_s = self.last - self.start

    def new_phase(self) -> None:
        """L-BFGS follows Adam: its records are chunks of iterations, not one step each."""
        self.last, self.step_s = time.perf_counter(), 0.0

    def evaluated(self, seconds: float) -> None:
        self.eval_s = max(self.eval_s, seconds)

    def exhausted(self, compiling: bool) -> bool:
        """Record the time since the last check; True when the next step would not fit."""
        now = time.perf_counter()
        period, self.last = now - self.last, now
        if compiling:
            self.compile_s = period
        else:
            self.step_s = period if not self.step_s else 0.8 * self.step_s + 0.2 * period
        spent = now - self.start
        return bool(self.seconds) and spent + self.step_s + self.eval_s > self.seconds

    def message(self, step: int) -> str:
        """Why the steps ended, with where the budget went when it was not the steps."""
        spent = [
            f"{what} {seconds:.0f} s"
            for what, seconds in (("data", self.prepare_s), ("compile", self.compile_s))
            if seconds >= 0.1 * self.seconds
        ]
        line = f"time budget of {self.seconds:g} s reached at step {step}"
        if spent:
            line += f" ({' and '.join(spent)} of it)"
        if self.compile_s >= 0.5 * self.seconds:
            line += (
                "; the compile took most of the budget: train without compile for budgets "
                "this short"
            )
        return line


class Session:
    """The state of one training (model, parameters, records) and its two phases.

    ``adam_phase`` and ``lbfgs_phase`` are generators; ``_train`` chains them with
    ``yield from``, which also passes a caller's ``send("stop")`` through.

    ``checkpoint`` (optional) is called with a :class:`Progress` record of the work at hand
    while the dataset is generated (after every slice of samples), before ``torch.compile``'s
    warm-up, and during evaluations and the final one (before every call of a module of the
    model: sampling loops call the network at every step); it may block (Pause) or raise
    :class:`Stopped`.
    """

    def __init__(
        self,
        problem,
        method,
        regularizers,
        combiner,
        cfg: Training,
        weights,
        device,
        checkpoint: Callable[[Progress], None] | None = None,
    ):
        if device.type == "cpu" and cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.problem, self.method, self.regularizers = problem, method, regularizers
        self.combiner = combiner
        self.cfg, self.weights, self.device = cfg, weights, device
        self.dtype = getattr(torch, cfg.dtype)
        self.checkpoint = checkpoint
        self.finishing = False
        self.step = 0
        self.start = time.perf_counter()
        self.budget = Budget(cfg.max_wall_s, self.start)
        # The reference solution or the dataset is made once, before the clock starts.
        self.notify("data", f"preparing {problem.name}")
        with families.reporting(self.data_reporter()):
            method.prepare(problem)
        generator = torch.Generator().manual_seed(cfg.seed)
        self.model = method.build(problem, generator).to(device, self.dtype)
        # Frozen tensors (requires_grad=False, e.g. PIG's fixed means) stay as built.
        self.trainable = [k for k, p in self.model.named_parameters() if p.requires_grad]
        self.batches = method.batches(problem, generator, self.pointwise_residual)
        # Constant tensors of the regularizers (observations), made once and put in each batch.
        self.fixed: Batch = {}
        for reg in regularizers:
            self.fixed.update(reg.fixed(problem))
        # The regularizers' own noise comes from a generator of its own, so adding one does not
        # change the method's batches.
        self.reg_generator = torch.Generator().manual_seed(cfg.seed + 1)
        self.scales: dict[str, float] = {}

        self.snapshot_size = {d: min(n, cfg.snapshot_points) for d, n in problem.grid_size.items()}

        # Everything the loss touches is plain Python: param descriptors break torch.compile.
        self.plain_problem = plain_view(problem)
        self.wrapper = _MethodCall(self.model, plain_view(method), self.plain_problem, "loss")
        self.predictor = _MethodCall(self.model, plain_view(method), self.plain_problem, "predict")
        self.reg_terms = [(plain_view(r), float(r.weight)) for r in regularizers]
        self.decay = sum(r.decoupled_decay() for r in regularizers)
        self.use_compile, self.compile_note = compile_rule.decide(
            cfg.compile,
            cfg.steps,
            cfg.max_wall_s,
            per_term=combiner.per_term,
            pays=isinstance(method, PhysicsInformed),
            interactive=checkpoint is not None,
            device=device,
        )
        if cfg.compile is True and combiner.per_term:
            warnings.warn(
                f"compile: the {combiner.name!r} combiner differentiates each term separately "
                "and runs eagerly; only the 'sum' combiner is compiled",
                stacklevel=4,
            )
        self.combiner_state: dict | None = None
        self.diagnostic_names: dict[str, None] = {}

        self.params = {k: p.detach().clone() for k, p in self.model.named_parameters()}
        # The moving average of the weights (``ema``): what is evaluated and kept, while Adam
        # steps the raw weights.
        self.average = dict(self.params) if cfg.ema else None
        self.records: list[dict] = []
        self.first: dict[str, float] = {}
        self.last_marks: dict[str, int | None] = {"eval": None, "snapshot": None}
        self.snapshot_wanted = False
        self.status, self.message = "done", ""
        self.start = time.perf_counter()
        # CPU time of this process alongside: a run that got much less than its wall time
        # (a busy machine) says so in its summary, since it took fewer steps than it could.
        self.cpu_start = time.process_time()
        self.last_raw: Batch | None = None
        self.batch = self.next_batch()

    # --- the caller's checkpoint -----------------------------------------------------------
    def notify(self, phase: str, message: str = "", fraction: float | None = None) -> None:
        """Hand the caller's checkpoint a record of the work at hand (nothing without one)."""
        if self.checkpoint is not None:
            wall = time.perf_counter() - self.start
            record = Progress(
                self.step, {}, math.nan, None, wall, phase=phase, message=message, fraction=fraction
            )
            self.checkpoint(record)

    def data_reporter(self, phase: str = "data") -> families.Reporter | None:
        """What dataset generation reports to: ``"generating darcy2d data 340/1100, ETA 40
        s"`` records for the checkpoint (``phase`` ``"finish"`` during the final evaluation,
        which a Stop does not interrupt)."""
        if self.checkpoint is None:
            return None
        started: dict[str, float] = {}

        def report(name: str, done: int, total: int) -> None:
            now = time.perf_counter()
            start = started.setdefault(f"{name}/{total}", now)
            message = f"generating {name} data {done}/{total}"
            if done and now > start:
                eta = (now - start) / done * (total - done)
                message += f", ETA {eta:.0f} s"
            self.notify(phase, message, done / total)

        return report

    @contextmanager
    def interruptible(self, phase: str) -> Iterator[None]:
        """Within the block, every call of one of the model's modules (and any dataset
        generation) first hands the checkpoint a ``phase`` record: sampling and evaluation
        loops call the network at every step, so a Stop or Pause acts within one call."""
        if self.checkpoint is None:
            yield
            return
        if self.finishing:  # an evaluation inside the final one belongs to it
            phase = "finish"
        record = Progress(self.step, {}, math.nan, None, 0.0, phase=phase)
        checkpoint = self.checkpoint

        def hook(module, args):
            checkpoint(record)

        handles = [m.register_forward_pre_hook(hook) for m in self.model.modules()]
        try:
            checkpoint(record)
            with families.reporting(self.data_reporter("finish" if phase == "finish" else "data")):
                yield
        finally:
            for handle in handles:
                handle.remove()

    def next_batch(self) -> Batch:
        raw = next(self.batches)
        # Fixed collocation points (most PINN runs) come back as the same tensors every step:
        # reuse the batch already converted instead of rebuilding and re-converting it (about
        # 30 us a step; part of the eager gain measured in foreach_adam's docstring).
        if (
            not self.regularizers
            and self.last_raw is not None
            and raw.keys() == self.last_raw.keys()
            and all(raw[k] is self.last_raw[k] for k in raw)
        ):
            return self.batch
        self.last_raw = raw
        batch = {**raw, **self.fixed}
        for reg in self.regularizers:
            batch.update(reg.draws(batch, self.reg_generator))
        # Scheduled weights of the method's terms (KL annealing) ride in the batch as tensors,
        # so a compiled step sees new values instead of recompiling for each.
        self.scales = {}
        for reg in self.regularizers:
            self.scales.update(reg.scales(self.step, self.cfg.steps))
        for term, scale in self.scales.items():
            batch[f"scale/{term}"] = torch.tensor(scale)
        return {k: v.to(self.device, self.dtype) for k, v in batch.items()}

    def term_weight(self, term: str, batch: Batch):
        """The weight of a method term: the user's (or default) times any scheduled scale."""
        weight = self.weights.get(term, 1.0)
        scale = batch.get(f"scale/{term}")
        return weight if scale is None else weight * scale

    def shown(self) -> dict[str, torch.Tensor]:
        """The weights that are evaluated and kept: the moving average when ``ema`` is on."""
        return self.params if self.average is None else self.average

    def update_average(self) -> None:
        """Fold the current weights into the moving average (``ema``)."""
        if self.average is None:
            return
        # Warm-up (as in diffusers' EMAModel): early on the average forgets its start
        # faster, so the first evaluations do not show the initial weights.
        decay = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
        self.average = {
            k: torch.lerp(p, self.params[k], 1.0 - decay) for k, p in self.average.items()
        }

    def pointwise_residual(self, points: torch.Tensor) -> torch.Tensor:
        """|residual| of the current parameters at ``points`` (for adaptive samplers)."""
        _load_params(self.model, self.params)
        r = self.method.residual(self.model, self.problem, points.to(self.device, self.dtype))
        return r.detach().abs().reshape(-1).to("cpu", points.dtype)

    # --- the loss ------------------------------------------------------------------------
    def method_total(self, terms: dict[str, torch.Tensor], batch: Batch) -> torch.Tensor:
        return sum(self.term_weight(k, batch) * v for k, v in terms.items())

    def method_terms(self, params, batch) -> dict[str, torch.Tensor]:
        prefixed = {f"model.{k}": v for k, v in params.items()}
        return functional_call(self.wrapper, prefixed, (batch,))

    def weighted_terms(self, params, batch):
        """The named unweighted terms (method's, then regularizers') and each times its weight."""
        terms = self.method_terms(params, batch)
        weighted = {k: self.term_weight(k, batch) * v for k, v in terms.items()}

        def total(p):
            return self.method_total(self.method_terms(p, batch), batch)

        def predict(points):
            prefixed = {f"model.{k}": v for k, v in params.items()}
            return functional_call(self.predictor, prefixed, (points,))

        objective = Objective(total, predict)
        for reg, weight in self.reg_terms:
            found = reg.terms(self.model, self.plain_problem, batch, params, objective)
            for name, value in found.items():
                terms[name] = value
                weighted[name] = weight * value
        return terms, weighted

    def loss(self, params, batch):
        """Weighted total and the named unweighted terms (method's, then regularizers')."""
        terms, weighted = self.weighted_terms(params, batch)
        total = sum(weighted.values())
        return total, (total, terms)

    def gradients(self, params, batch):
        if self.use_compile:
            # One functional graph that torch.compile can fuse with the update below.
            return torch.func.grad(self.loss, has_aux=True)(params, batch)
        # Eager: plain reverse-mode autograd has far less per-op overhead than torch.func.
        leaves = {k: p.detach().requires_grad_(True) for k, p in params.items()}
        total, (_, terms) = self.loss(leaves, batch)
        grads = torch.autograd.grad(total, list(leaves.values()))
        detached = {k: t.detach() for k, t in terms.items()}
        return dict(zip(leaves, grads)), (total.detach(), detached)

    def combined_gradients(self, params, batch):
        """The combiner's direction from per-term gradients, the logged losses, diagnostics."""
        trainable = set(self.trainable)
        leaves = {k: p.detach().requires_grad_(k in trainable) for k, p in params.items()}
        terms, weighted = self.weighted_terms(leaves, batch)
        like = [leaves[k] for k in self.trainable]
        if self.combiner_state is None:
            flat = torch.cat([p.detach().reshape(-1) for p in like])
            self.combiner_state = self.combiner.start(list(weighted), flat)
        chosen = self.combiner.select(list(weighted), self.combiner_state, self.step)
        flat_grads = {}
        for i, name in enumerate(chosen):
            last = i == len(chosen) - 1
            found = torch.autograd.grad(
                weighted[name], like, retain_graph=not last, allow_unused=True
            )
            flat_grads[name] = _flat(found, like)
        direction, diagnostics = self.combiner.combine(flat_grads, self.combiner_state, self.step)
        cosine = _smallest_cosine(list(flat_grads.values()))
        if cosine is not None:
            diagnostics = {"grad_cosine": cosine, **diagnostics}
        grads, offset = {}, 0
        for k in self.trainable:
            size = leaves[k].numel()
            grads[k] = direction[offset : offset + size].view_as(leaves[k])
            offset += size
        total = sum(w.detach() for w in weighted.values())
        detached = {k: t.detach() for k, t in terms.items()}
        return grads, (total, detached), diagnostics

    def adam_step(self, params, m, v, batch, lr, t):
        diagnostics = {}
        if self.combiner.per_term:
            grads, (total, terms), diagnostics = self.combined_gradients(params, batch)
        else:
            grads, (total, terms) = self.gradients(params, batch)
        # The logged values as one tensor made inside the step (fused when compiled): one
        # read per step instead of a stack outside it.
        values = torch.stack([total.detach(), *(t.detach() for t in terms.values())])
        b1, b2, eps = 0.9, 0.999, 1e-8
        if not self.use_compile and not self.combiner.adaptive:
            new_p, new_m, new_v = self.foreach_adam(params, m, v, grads, lr, t)
            return new_p, new_m, new_v, values, terms, diagnostics
        new_p, new_m, new_v = {}, {}, {}
        for k, p in params.items():
            if k not in grads or k not in self.trainable:
                new_p[k], new_m[k], new_v[k] = p, m[k], v[k]
                continue
            if self.combiner.adaptive:
                # The combiner already scaled its direction with its own moments: plain step.
                new_p[k] = p * (1 - lr * self.decay) - lr * grads[k]
                new_m[k], new_v[k] = m[k], v[k]
                continue
            new_m[k] = b1 * m[k] + (1 - b1) * grads[k]
            new_v[k] = b2 * v[k] + (1 - b2) * grads[k] * grads[k]
            m_hat = new_m[k] / (1 - b1**t)
            v_hat = new_v[k] / (1 - b2**t)
            # Decoupled weight decay (AdamW): shrink p directly, outside Adam's rescaling.
            new_p[k] = p * (1 - lr * self.decay) - lr * m_hat / (v_hat.sqrt() + eps)
        return new_p, new_m, new_v, values, terms, diagnostics

    def foreach_adam(self, params, m, v, grads, lr, t):
        """The Adam(W) update of :meth:`adam_step` for eager steps, with one multi-tensor
        (``torch._foreach_*``) kernel per operation instead of one per tensor and operation.

        The same update as the per-tensor code that the compiled step fuses (up to rounding:
        ``(1 - b2) * g * g`` is formed as ``(1 - b2) * (g * g)``). On DeepXDE's Burgers set-up
        (8 tensors, ~90 small ops -> 13), together with the reused batch and the losses
        stacked inside the step, the eager step went from 9.4 to 8.1 ms of CPU (median of 4
        interleaved rounds of 500 steps, 1 thread, on the shared 2-core machine); the compiled
        step, which fuses all of this anyway, stayed within the noise (2.95 vs 3.20 ms).
        """
        b1, b2, eps = 0.9, 0.999, 1e-8
        keys = [k for k in params if k in grads and k in self.trainable]
        ps, gs = [params[k] for k in keys], [grads[k] for k in keys]
        ms = torch._foreach_add(torch._foreach_mul([m[k] for k in keys], b1), gs, alpha=1 - b1)
        g2 = torch._foreach_mul(gs, gs)
        vs = torch._foreach_add(torch._foreach_mul([v[k] for k in keys], b2), g2, alpha=1 - b2)
        m_hat = torch._foreach_div(ms, 1 - b1**t)
        v_hat = torch._foreach_div(vs, 1 - b2**t)
        denom = torch._foreach_add(torch._foreach_sqrt(v_hat), eps)
        shift = torch._foreach_mul(torch._foreach_div(m_hat, denom), lr)
        shrunk = torch._foreach_mul(ps, 1 - lr * self.decay) if self.decay else ps
        new = torch._foreach_sub(shrunk, shift)
        new_p, new_m, new_v = dict(params), dict(m), dict(v)
        for i, k in enumerate(keys):
            new_p[k], new_m[k], new_v[k] = new[i], ms[i], vs[i]
        return new_p, new_m, new_v

    def compile_failed(self, err: Exception) -> None:
        """Note a compile failure and go on eagerly."""
        # A compile failure (no C++ compiler, unsupported op) must not cost a run: an explicit
        # compile=True says so, "auto" falls back quietly (the Run's ``compile`` attribute
        # tells).
        if self.cfg.compile is True:
            warnings.warn(f"torch.compile failed ({err}); continuing without it", stacklevel=4)
        self.compile_note = f"{self.compile_note}; failed, ran eagerly: {err}"[:500]
        self.use_compile = False

    # --- bookkeeping ---------------------------------------------------------------------
    def check_divergence(self, losses: dict[str, float]) -> str:
        """Why training must stop ("" if it need not)."""
        # Name the individual term that broke, not the total it poisoned.
        for name in sorted(losses, key=lambda k: k == "loss"):
            if not math.isfinite(losses[name]):
                return f"loss term {name!r} is not finite ({losses[name]})"
        # Each term's scale is its first nonzero value: a term can start at exactly 0 (an
        # operator batch without labelled samples has no data term), and growing from 0 is
        # not divergence.
        for name, value in losses.items():
            if value > 0 and name not in self.first:
                self.first[name] = value
        # Measured against the larger of its own start and the whole loss's: a term that starts
        # near 0 and grows to the loss's scale (a VAE's KL as the encoder starts to use its
        # latents) is learning, not diverging.
        factor = self.cfg.divergence_factor
        for name, value in losses.items():
            start = max(self.first.get(name, value), self.first.get("loss", 0.0))
            limit = factor * max(start, 1e-12)
            if name != "loss" and value > limit and value > 1e-6:
                return (
                    f"loss term {name!r} grew to {value:.3g}, more than "
                    f"{factor:g} x its start scale {start:.3g}"
                )
        return ""

    def obey(self, command: str | None) -> bool:
        """Act on a value sent into the generator; True when training must end."""
        if command == "stop":
            self.status, self.message = "stopped", f"stopped by the user at step {self.step}"
            return True
        if command == "snapshot":
            self.snapshot_wanted = True
        elif command is not None:
            raise ValueError(f"train() accepts send('stop') or send('snapshot'), got {command!r}")
        return False

    def out_of_time(self, compiling: bool = False) -> bool:
        """True (with the message) when the next step would not fit in ``max_wall_s``;
        ``compiling``: the step just taken was the compiling one."""
        if self.budget.exhausted(compiling):
            self.message = self.budget.message(self.step)
            return True
        return False

    def due(self, kind: str, every: int, step: int) -> bool:
        # L-BFGS records advance by several steps, so "every k" means "k since the last one".
        last = self.last_marks[kind]
        if every and (last is None or step - last >= every):
            self.last_marks[kind] = step
            return True
        return False

    def record(
        self,
        step: int,
        losses: dict[str, float],
        lr: float,
        phase: str,
        diagnostics: dict[str, float] | None = None,
    ) -> Progress:
        """Log one step in the history and make its Progress record."""
        evaluate = self.due("eval", self.cfg.eval_every, step)
        snap = self.due("snapshot", self.cfg.snapshot_every, step) or self.snapshot_wanted
        self.snapshot_wanted = False
        l2re, snapshot = None, None
        if evaluate or snap:
            _load_params(self.model, self.shown())
        points = None
        with self.interruptible("eval"):
            if evaluate:
                began = time.perf_counter()
                l2re = self.method.error(self.model, self.problem)
                self.budget.evaluated(time.perf_counter() - began)
            if snap:
                snapshot = self.snapshot()
                points = self.points()
        wall = time.perf_counter() - self.start
        diagnostics = diagnostics or {}
        self.diagnostic_names.update(dict.fromkeys(diagnostics))
        estimates = self.method.estimates(self.model, self.shown())
        row = {"step": step, **losses, **diagnostics, **estimates, "lr": lr, "wall_s": wall}
        if l2re is not None:
            row["l2re"] = l2re
        self.records.append(row)
        return Progress(
            step,
            losses,
            lr,
            l2re,
            wall,
            snapshot,
            phase=phase,
            points=points,
            diagnostics=diagnostics,
            estimates=estimates,
        )

    def snapshot(self) -> xr.Dataset:
        """The model's fields on the live grid, their ``l2re`` named by the method's metric
        (and marked with ``coarse_grid`` when the grid is coarser than the Run's)."""
        fields = self.method.evaluate(self.model, self.problem, self.snapshot_size)
        fields.attrs.update(self.method.metric.attrs())
        return fields

    def estimate_attrs(self) -> dict[str, dict]:
        """Attrs of each learned coefficient's history: the problem's own value of it, which
        is the truth when every observation was made from the problem's reference."""
        names = self.method.estimates(self.model, self.params)
        synthetic = all(r.synthetic() for r in self.regularizers if isinstance(r, Data))
        key = "true_value" if synthetic else "problem_value"
        return {name: {key: float(getattr(self.problem, name))} for name in names}

    def points(self) -> xr.Dataset:
        """What the method shows of the batch and the model (the model holds current params),
        and the regularizers' point sets (observations)."""
        shown = [self.method.points(self.model, self.problem, self.batch)]
        shown += [reg.points(self.problem) for reg in self.regularizers]
        return xr.merge(shown)

    # --- the phases ----------------------------------------------------------------------
    def adam_phase(self) -> Iterator[Progress]:
        try:
            yield from self.adam_steps()
        finally:
            # With ``ema`` the average is the result (and L-BFGS's start), however Adam ended.
            self.params = self.shown()

    def adam_steps(self) -> Iterator[Progress]:
        cfg, dtype, device = self.cfg, self.dtype, self.device
        step_fn = self.adam_step
        if self.use_compile:
            compile_rule.use_cache_dir()
            step_fn = torch.compile(self.adam_step)
            # The warm-up cannot be interrupted once started: the last chance to stop first.
            self.notify("compile", "compiling the training step (torch.compile)")
        m = {k: torch.zeros_like(p) for k, p in self.params.items()}
        v = {k: torch.zeros_like(p) for k, p in self.params.items()}
        previous = None
        t = torch.zeros((), dtype=dtype, device=device)
        lr_value, lr_t = None, None
        self.budget.began()
        compiling = self.use_compile
        while self.step < cfg.steps:
            lr = learning_rate(cfg, self.step)
            t = t + 1
            if lr != lr_value:  # a constant schedule makes the tensor once
                lr_value, lr_t = lr, torch.tensor(lr, dtype=dtype, device=device)
            try:
                new = step_fn(self.params, m, v, self.batch, lr_t, t)
            except Exception as err:
                if step_fn == self.adam_step:
                    raise
                self.compile_failed(err)
                step_fn = self.adam_step
                new = step_fn(self.params, m, v, self.batch, lr_t, t)
            new_params, new_m, new_v, values, terms, diagnostics = new
            values = values.tolist()
            losses = {"loss": values[0], **dict(zip(terms, values[1:]))}
            reason = self.check_divergence(losses)
            if reason:
                # ``params`` produced the bad loss; the ones before them gave the last finite,
                # logged loss (at step 0 there is nothing better than the initial weights).
                self.status, self.message = "diverged", f"diverged at step {self.step}: {reason}"
                if previous is not None:
                    self.params, self.step = previous, self.step - 1
                return
            for term, scale in self.scales.items():
                diagnostics = {**diagnostics, f"weight_{term}": self.weights.get(term, 1.0) * scale}
            progress = self.record(self.step, losses, lr, "adam", diagnostics)
            previous = self.params
            self.params, m, v = new_params, new_m, new_v
            self.update_average()
            self.step += 1
            if self.obey((yield progress)):
                return
            if self.out_of_time(compiling):
                return
            compiling = False
            self.batch = self.next_batch()

    def lbfgs_phase(self) -> Iterator[Progress]:
        cfg, model = self.cfg, self.model
        _load_params(model, self.params)
        if cfg.lbfgs_float64:
            model.to(torch.float64)
            self.batch = {k: b.to(torch.float64) for k, b in self.batch.items()}
        live = dict(model.named_parameters())
        loss_fn = torch.compile(self.loss) if self.use_compile else self.loss
        optimizer = torch.optim.LBFGS(
            live.values(),
            lr=1.0,
            history_size=50,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )
        last: dict[str, torch.Tensor] = {}

        def closure():
            nonlocal loss_fn
            optimizer.zero_grad()
            try:
                total, (_, terms) = loss_fn(live, self.batch)
            except Exception as err:
                if loss_fn == self.loss:
                    raise
                self.compile_failed(err)  # as in the Adam phase: go on eagerly
                loss_fn = self.loss
                total, (_, terms) = loss_fn(live, self.batch)
            total.backward()
            last.update(loss=total.detach(), **{k: t.detach() for k, t in terms.items()})
            return total

        first_param = next(iter(live.values()))
        done_iterations = 0
        self.budget.new_phase()
        compiling = self.use_compile
        while done_iterations < cfg.lbfgs_steps:
            # Chunks of iterations per record: torch's LBFGS misbehaves with max_iter=1 per call
            # (it stops moving after a few calls), so each call runs up to 10 iterations.
            chunk = min(LBFGS_CHUNK, cfg.lbfgs_steps - done_iterations)
            optimizer.param_groups[0].update(max_iter=chunk, max_eval=chunk * 5 // 4 + 1)
            before = optimizer.state[first_param].get("n_iter", 0)
            good = {k: p.detach().clone() for k, p in live.items()}
            try:
                optimizer.step(closure)
            except KeyboardInterrupt:
                self.params = good  # a line search may have left the weights half-moved
                raise
            taken = optimizer.state[first_param].get("n_iter", 0) - before
            values = torch.stack(list(last.values())).tolist()
            losses = dict(zip(last, values))
            reason = self.check_divergence(losses)
            if reason:
                self.params = good
                self.status = "diverged"
                self.message = f"diverged at step {self.step} (L-BFGS): {reason}"
                return
            if taken == 0:
                self.message = f"L-BFGS converged at step {self.step}"
                return
            self.params = {k: p.detach() for k, p in live.items()}
            self.step += taken
            done_iterations += taken
            progress = self.record(self.step, losses, float("nan"), "lbfgs")
            if self.obey((yield progress)):
                return
            if self.out_of_time(compiling):
                return
            compiling = False

    # --- the result ----------------------------------------------------------------------
    def finish(self) -> Progress:
        """Build the Run from the last good parameters and make the final record."""
        self.finishing = True
        with self.interruptible("finish"):
            return self._finish()

    def _finish(self) -> Progress:
        problem, method, model, cfg = self.problem, self.method, self.model, self.cfg
        _load_params(model, self.params)
        if not self.records:
            # Zero steps, or divergence at the very first one: log the initial state once.
            _, (total, terms) = self.loss(self.params, self.batch)
            losses = {"loss": float(total), **{k: float(t) for k, t in terms.items()}}
            self.record(0, losses, cfg.lr, "adam")
        # The one evaluation of the final state: its metric is the Run's ``l2re``, which the
        # summary, the report, the app's status line and panels all read (the history's last
        # value belongs to an earlier step, and a snapshot's to a coarser grid).
        fields = method.evaluate(model, problem)
        fields.attrs.update(method.metric.attrs())
        last = self.records[-1]
        estimates = method.estimates(model, self.params)
        skip = {"step", "loss", "lr", "wall_s", "l2re", *self.diagnostic_names, *estimates}
        terms = [k for k in last if k not in skip]
        groups = {
            "/history": history_dataset(
                self.records,
                terms,
                list(self.diagnostic_names),
                self.estimate_attrs(),
                metric=method.metric,
            ),
            "/fields": fields,
            "/points": self.points(),
        }
        groups.update({f"/{k}": v for k, v in method.results(model, problem).items()})
        groups.update({f"/{k}": v for k, v in method.kept_inputs(problem).items()})
        tree = xr.DataTree.from_dict(groups)
        wall = time.perf_counter() - self.start
        tree.attrs = provenance(
            problem,
            method,
            self.regularizers,
            seed=cfg.seed,
            device=str(self.device),
            dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        )
        tree.attrs.update(
            status=self.status,
            message=self.message,
            steps=self.step,
            compile=self.compile_note,
            wall_s=wall,
            cpu_s=time.process_time() - self.cpu_start,
            l2re=fields.attrs["l2re"],
            **method.metric.attrs(),
            estimates=json.dumps(estimates),
            training=json.dumps(knobs(cfg), sort_keys=True),
            combiner=json.dumps(
                {"name": self.combiner.name, "params": knobs(self.combiner)}, sort_keys=True
            ),
        )
        run = Run(tree, problem, method, self.regularizers, model, self.combiner)
        # A live series of snapshots should end on the final state, not one interval short.
        snapshot = None
        if cfg.snapshot_every or self.snapshot_wanted:
            snapshot = self.snapshot()
        losses = {k: last[k] for k in ("loss", *terms)}
        return Progress(
            self.step,
            losses,
            float("nan"),
            run.l2re,
            wall,
            snapshot,
            done=True,
            run=run,
            phase="done",
            message=self.message,
            points=run.points,
        )
