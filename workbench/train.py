"""train(): a generator of Progress records; fit(): drains it with a progress bar.

The optimizer step is *functional*: parameters, Adam moments and the batch go in, new ones come
out. That keeps the last good parameters around for free (the divergence guard restores them)
and lets ``compile=True`` fuse loss, derivatives, backward pass and Adam update into one
``torch.compile``-d graph, which is what makes a small PINN step several times cheaper than
eager PyTorch on a CPU (see benchmarks/pinn_burgers.py).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import param
import torch
import xarray as xr
from torch import nn
from torch.func import functional_call

from workbench.methods.base import Batch, Method
from workbench.problems.base import Problem
from workbench.regularizers.base import Regularizer
from workbench.results import (
    Run,
    evaluate_fields,
    history_dataset,
    knobs,
    points_dataset,
    provenance,
    relative_l2,
)

#: L-BFGS iterations per optimizer call, and so per Progress record.
LBFGS_CHUNK = 10


class Training(param.Parameterized):
    """Knobs of the optimisation itself (the same Parameters drive widgets and CLI flags)."""

    steps = param.Integer(4000, bounds=(0, 10_000_000), doc="Adam steps.")
    lr = param.Number(
        1e-2, bounds=(0.0, None), inclusive_bounds=(False, True), doc="Adam learning rate."
    )
    schedule = param.Selector(
        objects=["constant", "exponential", "cosine"],
        default="exponential",
        doc="Learning-rate schedule over the Adam steps.",
    )
    lr_final = param.Number(
        0.1,
        bounds=(0.0, 1.0),
        inclusive_bounds=(False, True),
        doc="Final LR as a fraction of lr (exponential/cosine).",
    )
    lbfgs_steps = param.Integer(0, bounds=(0, 1_000_000), doc="L-BFGS iterations after Adam.")
    lbfgs_float64 = param.Boolean(
        False, doc="Run L-BFGS in float64 (float32 line searches stall near loss ~1e-5)."
    )
    max_wall_s = param.Number(
        0.0, bounds=(0.0, None), doc="Stop training after this many seconds (0 = no limit)."
    )
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of every random draw.")
    device = param.Selector(
        objects=["auto", "cpu", "cuda"], default="auto", doc="auto = CUDA when available."
    )
    dtype = param.Selector(objects=["float32", "float64"], default="float32", doc="Precision.")
    threads = param.Integer(
        1, bounds=(0, 256), doc="torch CPU threads (0 = leave torch's setting alone)."
    )
    compile = param.Boolean(
        False, doc="torch.compile the whole step (faster steps, ~10-30 s compile up front)."
    )
    eval_every = param.Integer(
        100, bounds=(0, None), doc="Evaluate l2re on the reference grid every k steps (0 = end)."
    )
    snapshot_every = param.Integer(
        0, bounds=(0, None), doc="Yield a fields snapshot every k steps (0 = never)."
    )
    snapshot_points = param.Integer(64, bounds=(2, 4096), doc="Snapshot grid points per dim.")
    divergence_factor = param.Number(
        1e4, bounds=(1.0, None), doc="Stop when a loss term exceeds this multiple of its start."
    )


@dataclass(frozen=True)
class Progress:
    """One record of training.

    Attributes
    ----------
    step : int
        Optimizer steps taken so far (Adam then L-BFGS, counted together).
    losses : dict
        Unweighted loss terms and the weighted total ``loss`` at this step.
    lr : float
        Learning rate used for the step (NaN during L-BFGS).
    l2re : float or None
        Relative L2 error on the reference grid when evaluated at this step.
    wall_s : float
        Seconds since training started.
    snapshot : xarray.Dataset or None
        Coarse fields (see :func:`workbench.results.evaluate_fields`) every ``snapshot_every``.
    done : bool
        True on the last record, which carries the ``run``.
    run : Run or None
        The finished (or diverged, or stopped) Run.
    phase : str
        ``"adam"`` or ``"lbfgs"``.
    """

    step: int
    losses: dict[str, float]
    lr: float
    l2re: float | None
    wall_s: float
    snapshot: xr.Dataset | None = None
    done: bool = False
    run: Run | None = None
    phase: str = "adam"
    message: str = field(default="")

    @property
    def completed(self) -> int:
        """Optimizer steps completed when this record was yielded.

        An Adam record holds the loss measured *before* its update, an L-BFGS record the
        loss after its iterations, so they differ by one.
        """
        return self.step + 1 if self.phase == "adam" and not self.done else self.step


class _LossModule(nn.Module):
    """Wraps ``method.loss`` so ``functional_call`` can swap the model's parameters."""

    def __init__(self, model: nn.Module, method: Method, problem: Problem):
        super().__init__()
        self.model = model
        self.method = method
        self.problem = problem

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return self.method.loss(self.model, self.problem, batch)


def _plain_view(spec: param.Parameterized):
    """A plain-Python stand-in for a Problem/Method: the same methods, knobs as plain attributes.

    ``torch.compile`` cannot trace param's attribute descriptors (every ``self.nu`` would be a
    graph break), and they cost microseconds per access in eager mode too. The view shares the
    spec's methods and class attributes but reads knob values from its ``__dict__``. Methods
    that call ``super()`` without arguments cannot run on it; only the loss path does.
    """
    namespace = {}
    for klass in reversed(type(spec).__mro__):
        if klass.__module__.split(".")[0] in ("param", "abc", "builtins"):
            continue
        for key, value in vars(klass).items():
            if not key.startswith("__") and not isinstance(value, param.Parameter):
                namespace[key] = value
    view = type(f"Plain{type(spec).__name__}", (), namespace)()
    view.__dict__.update(spec.param.values())
    return view


def _resolve_device(device: str) -> torch.device:
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was requested but CUDA is not available; use 'cpu'")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _learning_rate(cfg: Training, step: int) -> float:
    if cfg.schedule == "constant" or cfg.steps <= 1:
        return cfg.lr
    progress = step / (cfg.steps - 1)
    if cfg.schedule == "exponential":
        return cfg.lr * cfg.lr_final**progress
    return cfg.lr * (cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress)))


def _load_params(model: nn.Module, params: Mapping[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(params[name])


def _check_inputs(problem, method, regularizers) -> None:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method, got {type(method).__name__}")
    for reg in regularizers:
        if not isinstance(reg, Regularizer):
            raise TypeError(f"regularizers must be Regularizers, got {type(reg).__name__}")
    method.check(problem)


def train(
    problem: Problem,
    method: Method,
    regularizers: Sequence[Regularizer] = (),
    **settings,
) -> Iterator[Progress]:
    """Train ``method`` on ``problem``, yielding a :class:`Progress` record per step.

    Parameters
    ----------
    problem : Problem
        What to solve.
    method : Method
        How to learn it.
    regularizers : sequence of Regularizer
        Extra loss terms / decoupled weight decay.
    **settings
        Knobs of :class:`Training` (``steps``, ``lr``, ``schedule``, ``lbfgs_steps``, ``seed``,
        ``device``, ``dtype``, ``threads``, ``compile``, ``eval_every``, ``snapshot_every``,
        ...), plus ``weights``: a dict of multipliers for the method's loss terms
        (default 1 each).

    Yields
    ------
    Progress
        One per optimizer step; the last has ``done=True`` and the :class:`Run`.
        ``generator.send("stop")`` ends training early and returns that last record.

    Notes
    -----
    Bad input raises ``ValueError``/``TypeError`` naming the parameter before any work starts.
    A non-finite loss term, or one growing beyond ``divergence_factor`` times its first value,
    stops training: the Run keeps the last good parameters and ``status="diverged"``.
    """
    weights = dict(settings.pop("weights", None) or {})
    cfg = Training(**settings)
    _check_inputs(problem, method, regularizers)
    for key, value in weights.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"weights[{key!r}] must be a finite number >= 0, got {value!r}")
    device = _resolve_device(cfg.device)
    return _train(problem, method, list(regularizers), cfg, weights, device)


def _train(problem, method, regularizers, cfg: Training, weights, device) -> Iterator[Progress]:
    if device.type == "cpu" and cfg.threads:
        torch.set_num_threads(cfg.threads)
    dtype = getattr(torch, cfg.dtype)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = method.build(problem, generator).to(device, dtype)
    batches = method.batches(problem, generator)

    def next_batch() -> Batch:
        return {k: v.to(device, dtype) for k, v in next(batches).items()}

    # The classical reference is computed once, before the clock starts.
    reference = problem.reference()
    eval_points = problem.grid_points({d: reference[d].values for d in problem.dims})
    eval_points = eval_points.to(device, dtype)
    snapshot_size = {d: min(n, cfg.snapshot_points) for d, n in reference.sizes.items()}

    plain_problem = _plain_view(problem)
    wrapper = _LossModule(model, _plain_view(method), plain_problem)
    decay = sum(r.decoupled_decay() for r in regularizers)
    reg_terms = [(_plain_view(r), float(r.weight)) for r in regularizers]
    use_compile = cfg.compile and cfg.steps > 0

    def method_total(terms):
        return sum(weights.get(k, 1.0) * v for k, v in terms.items())

    def loss_fn(params, batch):
        prefixed = {f"model.{k}": v for k, v in params.items()}
        terms = functional_call(wrapper, prefixed, (batch,))

        def objective(p):
            return method_total(
                functional_call(wrapper, {f"model.{k}": v for k, v in p.items()}, (batch,))
            )

        total = method_total(terms)
        for reg, weight in reg_terms:
            for name, value in reg.terms(model, plain_problem, batch, params, objective).items():
                terms[name] = value
                total = total + weight * value
        return total, (total, terms)

    def gradients(params, batch):
        if use_compile:
            # One functional graph that torch.compile can fuse with the update below.
            return torch.func.grad(loss_fn, has_aux=True)(params, batch)
        # Eager: plain reverse-mode autograd has far less per-op overhead than torch.func.
        leaves = {k: p.detach().requires_grad_(True) for k, p in params.items()}
        total, (_, terms) = loss_fn(leaves, batch)
        grads = torch.autograd.grad(total, list(leaves.values()))
        return dict(zip(leaves, grads)), (total.detach(), {k: t.detach() for k, t in terms.items()})

    def adam_step(params, m, v, batch, lr, t):
        grads, (total, terms) = gradients(params, batch)
        b1, b2, eps = 0.9, 0.999, 1e-8
        new_p, new_m, new_v = {}, {}, {}
        for k, p in params.items():
            new_m[k] = b1 * m[k] + (1 - b1) * grads[k]
            new_v[k] = b2 * v[k] + (1 - b2) * grads[k] * grads[k]
            m_hat = new_m[k] / (1 - b1**t)
            v_hat = new_v[k] / (1 - b2**t)
            # Decoupled weight decay (AdamW): shrink p directly, outside Adam's rescaling.
            new_p[k] = p * (1 - lr * decay) - lr * m_hat / (v_hat.sqrt() + eps)
        return new_p, new_m, new_v, total, terms

    step_fn = torch.compile(adam_step) if use_compile else adam_step

    params = {k: p.detach().clone() for k, p in model.named_parameters()}
    m = {k: torch.zeros_like(p) for k, p in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}

    records: list[dict] = []
    first: dict[str, float] = {}
    status, message = "done", ""
    start = time.perf_counter()
    batch = next_batch()

    def check_divergence(losses: dict[str, float]) -> str:
        # Name the individual term that broke, not the total it poisoned.
        for name in sorted(losses, key=lambda k: k == "loss"):
            if not math.isfinite(losses[name]):
                return f"loss term {name!r} is not finite ({losses[name]})"
        if not first:
            first.update(losses)
        for name, value in losses.items():
            limit = cfg.divergence_factor * max(first.get(name, value), 1e-12)
            if name != "loss" and value > limit and value > 1e-6:
                return (
                    f"loss term {name!r} grew to {value:.3g}, more than "
                    f"{cfg.divergence_factor:g} x its first value {first[name]:.3g}"
                )
        return ""

    def out_of_time() -> bool:
        return bool(cfg.max_wall_s) and time.perf_counter() - start > cfg.max_wall_s

    last_marks = {"eval": None, "snapshot": None}

    def due(kind: str, every: int, step: int) -> bool:
        # L-BFGS records advance by several steps, so "every k" means "k since the last one".
        last = last_marks[kind]
        if every and (last is None or step - last >= every):
            last_marks[kind] = step
            return True
        return False

    def record(step, losses, lr, phase) -> tuple[dict, Progress]:
        l2re = None
        evaluate = due("eval", cfg.eval_every, step)
        snapshot = None
        snap = due("snapshot", cfg.snapshot_every, step)
        if evaluate or snap:
            _load_params(model, params)
        if evaluate:
            with torch.no_grad():
                u = method.predict(model, problem, eval_points.to(next(model.parameters())))
            l2re = relative_l2(u.cpu().double().numpy().reshape(reference.shape), reference.values)
        if snap:
            snapshot = evaluate_fields(problem, method, model, snapshot_size)
        wall = time.perf_counter() - start
        row = {"step": step, **losses, "lr": lr, "wall_s": wall}
        if l2re is not None:
            row["l2re"] = l2re
        return row, Progress(step, losses, lr, l2re, wall, snapshot, phase=phase)

    def finish(steps_done: int) -> Progress:
        _load_params(model, params)
        fields = evaluate_fields(problem, method, model)
        terms = [k for k in records[-1] if k not in ("step", "loss", "lr", "wall_s", "l2re")]
        tree = xr.DataTree.from_dict(
            {
                "/history": history_dataset(records, terms),
                "/fields": fields,
                "/points": points_dataset(batch, problem.dims),
            }
        )
        wall = time.perf_counter() - start
        tree.attrs = provenance(
            problem,
            method,
            regularizers,
            seed=cfg.seed,
            device=str(device),
            dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        )
        tree.attrs.update(
            status=status,
            message=message,
            steps=steps_done,
            wall_s=wall,
            l2re=fields.attrs["l2re"],
            training=json.dumps(knobs(cfg), sort_keys=True),
        )
        run = Run(tree, problem, method, regularizers, model)
        # A live series of snapshots should end on the final state, not one interval short.
        snapshot = (
            evaluate_fields(problem, method, model, snapshot_size) if cfg.snapshot_every else None
        )
        losses = {k: v for k, v in records[-1].items() if k not in ("step", "lr", "wall_s", "l2re")}
        return Progress(
            run.tree.attrs["steps"],
            losses,
            float("nan"),
            run.l2re,
            wall,
            snapshot,
            done=True,
            run=run,
            phase="done",
            message=message,
        )

    # ---- Adam phase -----------------------------------------------------------------------
    step = 0
    previous = None
    t = torch.zeros((), dtype=dtype, device=device)
    while step < cfg.steps:
        lr = _learning_rate(cfg, step)
        t = t + 1
        lr_t = torch.tensor(lr, dtype=dtype, device=device)
        try:
            new = step_fn(params, m, v, batch, lr_t, t)
        except Exception as err:
            if step_fn is adam_step:
                raise
            # A compile failure (no C++ compiler, unsupported op) must not cost the user a run.
            warnings.warn(f"torch.compile failed ({err}); continuing without it", stacklevel=2)
            step_fn = adam_step
            new = step_fn(params, m, v, batch, lr_t, t)
        new_params, new_m, new_v, total, terms = new
        names = list(terms)
        values = torch.stack([total, *terms.values()]).tolist()
        losses = {"loss": values[0], **dict(zip(names, values[1:]))}
        problem_msg = check_divergence(losses)
        if problem_msg:
            # ``params`` produced the bad loss; the ones before them gave the last finite,
            # logged loss (at step 0 there is nothing better than the initial weights).
            status, message = "diverged", f"diverged at step {step}: {problem_msg}"
            if previous is not None:
                params, step = previous, step - 1
            break
        row, progress = record(step, losses, lr, "adam")
        records.append(row)
        previous = params
        params, m, v = new_params, new_m, new_v
        step += 1
        if (yield progress) == "stop":
            status, message = "stopped", f"stopped by the user at step {step}"
            break
        if out_of_time():
            message = f"time budget of {cfg.max_wall_s:g} s reached at step {step}"
            break
        batch = next_batch()

    # ---- optional L-BFGS phase --------------------------------------------------------------
    if status == "done" and not message and cfg.lbfgs_steps:
        _load_params(model, params)
        if cfg.lbfgs_float64:
            model.to(torch.float64)
            batch = {k: b.to(torch.float64) for k, b in batch.items()}
        live = dict(model.named_parameters())
        lbfgs_loss = torch.compile(loss_fn) if use_compile else loss_fn
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
            optimizer.zero_grad()
            total, (_, terms) = lbfgs_loss(live, batch)
            total.backward()
            last.update(loss=total.detach(), **{k: t.detach() for k, t in terms.items()})
            return total

        first_param = next(iter(live.values()))
        done_iterations = 0
        while done_iterations < cfg.lbfgs_steps:
            # Chunks of iterations per record: torch's LBFGS misbehaves with max_iter=1 per call
            # (it stops moving after a few calls), so each call runs up to 10 iterations.
            chunk = min(LBFGS_CHUNK, cfg.lbfgs_steps - done_iterations)
            optimizer.param_groups[0].update(max_iter=chunk, max_eval=chunk * 5 // 4 + 1)
            before = optimizer.state[first_param].get("n_iter", 0)
            good = {k: p.detach().clone() for k, p in live.items()}
            optimizer.step(closure)
            taken = optimizer.state[first_param].get("n_iter", 0) - before
            values = torch.stack(list(last.values())).tolist()
            losses = dict(zip(last, values))
            problem_msg = check_divergence(losses)
            if problem_msg:
                params = good
                status, message = "diverged", f"diverged at step {step} (L-BFGS): {problem_msg}"
                break
            if taken == 0:
                message = f"L-BFGS converged at step {step}"
                break
            params = {k: p.detach() for k, p in live.items()}
            step += taken
            done_iterations += taken
            row, progress = record(step, losses, float("nan"), "lbfgs")
            records.append(row)
            if (yield progress) == "stop":
                status, message = "stopped", f"stopped by the user at step {step}"
                break
            if out_of_time():
                message = f"time budget of {cfg.max_wall_s:g} s reached at step {step}"
                break

    if not records:
        # Zero steps, or divergence at the very first one: log the initial state once.
        _, (total, terms) = loss_fn(params, batch)
        losses = {"loss": float(total), **{k: float(t) for k, t in terms.items()}}
        records.append(record(0, losses, cfg.lr, "adam")[0])
    yield finish(step)


def fit(
    problem: Problem,
    method: Method,
    regularizers: Sequence[Regularizer] = (),
    *,
    progress: bool = True,
    **settings,
) -> Run:
    """Train to the end with a tqdm progress bar and return the :class:`Run`.

    Takes the same arguments as :func:`train`. A diverged run is returned too (check
    ``run.status``), holding the last good parameters.
    """
    from tqdm.auto import tqdm

    records = train(problem, method, regularizers, **settings)
    total = settings.get("steps", Training.steps) + settings.get("lbfgs_steps", 0)
    with tqdm(total=total, disable=not progress, desc=f"{method.name} on {problem.name}") as bar:
        for record in records:
            if record.done:
                if record.message:
                    bar.write(record.message)
                return record.run
            bar.update(record.completed - bar.n)
            if record.step % 50 == 0 or record.l2re is not None:
                postfix = {"loss": f"{record.losses['loss']:.3g}"}
                if record.l2re is not None:
                    postfix["l2re"] = f"{record.l2re:.3g}"
                bar.set_postfix(postfix, refresh=False)
    raise RuntimeError("train() ended without a final record")  # pragma: no cover


__all__ = ["Training", "Progress", "train", "fit"]
