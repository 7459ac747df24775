"""``train()``, the generator of :class:`~workbench.train.Progress` records, and ``fit()``, which
drains it with a progress bar. Both check their input before any work starts.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence

import param

from workbench.combiners import COMBINERS, Sum
from workbench.combiners.base import Combiner
from workbench.methods.base import Method
from workbench.methods.physics_informed.base import PhysicsInformed
from workbench.problems.base import Problem
from workbench.regularizers import Data
from workbench.regularizers.base import Regularizer
from workbench.results import Run, describe_bounds
from workbench.train import compiling as compile_rule
from workbench.train.progress import Progress, Stopped
from workbench.train.session import Session
from workbench.train.settings import Training, resolve_device


def _resolve_combiner(combiner) -> Combiner:
    if combiner is None:
        return Sum()
    if isinstance(combiner, str):
        if combiner not in COMBINERS:
            raise ValueError(f"combiner: unknown {combiner!r}; allowed: {', '.join(COMBINERS)}")
        return COMBINERS[combiner]()
    if not isinstance(combiner, Combiner):
        raise TypeError(f"combiner must be a Combiner or its name, got {type(combiner).__name__}")
    return combiner


def _check_numbers(owner: str, obj: param.Parameterized) -> None:
    """Raise ``ValueError`` naming a number knob of ``obj`` that holds a bool, NaN or infinity.

    param takes ``True`` for an Integer or Number (a bool is an int in Python) and ``inf`` for
    a knob bounded on one side only (a regularizer's ``weight``, ``max_wall_s``); the CLI and
    the app refuse both as text, so the Python API does too, before any work.
    """
    for name, p in obj.param.objects("existing").items():
        value = getattr(obj, name)
        if not isinstance(p, param.Number) or value is None:
            continue
        if isinstance(value, bool):
            raise ValueError(
                f"{owner} knob {name!r}: {value} is a bool, not a number; allowed: "
                f"{describe_bounds(p)}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(
                f"{owner} knob {name!r}: {value} is not a finite number; allowed: "
                f"{describe_bounds(p)}"
            )


def _check_inputs(problem, method, regularizers) -> None:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    if not isinstance(method, Method):
        raise TypeError(f"method must be a Method, got {type(method).__name__}")
    for reg in regularizers:
        if not isinstance(reg, Regularizer):
            raise TypeError(f"regularizers must be Regularizers, got {type(reg).__name__}")
    _check_numbers(f"problem {problem.name}", problem)
    _check_numbers(f"method {method.name}", method)
    for reg in regularizers:
        _check_numbers(f"regularizer {reg.name}", reg)
    method.check(problem)
    for reg in regularizers:
        reg.check(problem, method)
    inferred = list(method.infer) if isinstance(method, PhysicsInformed) else []
    if inferred and not any(isinstance(reg, Data) for reg in regularizers):
        raise ValueError(
            f"infer: learning {', '.join(inferred)} needs observations; add the 'data' "
            "regularizer (Data(n=200, noise=0.01), or Data(observations=...))"
        )


def train(
    problem: Problem,
    method: Method,
    regularizers: Sequence[Regularizer] = (),
    combiner: Combiner | str | None = None,
    *,
    checkpoint: Callable[[Progress], None] | None = None,
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
    combiner : Combiner or str, optional
        How the terms become one update (a :class:`~workbench.combiners.Combiner` or its
        name: ``sum``, ``lra``, ``config``, ``mconfig``, ``multiadam``); default: the
        method's :meth:`~workbench.methods.Method.default_combiner`, else ``sum``.
    checkpoint : callable, optional
        ``checkpoint(record)``, called from the training's thread often during the work that
        happens between records or before the first one: after every slice of dataset
        generation (``record.phase == "data"``, ``record.message`` such as ``"generating
        darcy2d data 340/1100, ETA 40 s"``, ``record.fraction`` done), before the
        ``torch.compile`` warm-up (``"compile"``), and before every call of a module of the
        model during evaluations and snapshots (``"eval"``) and the final evaluation
        (``"finish"``). It returns to go on, may block (to pause), or raises
        :class:`~workbench.train.Stopped` to end the training (see there). This is how a UI in
        another thread stops a training within a fraction of a second, however long a step,
        an evaluation or the data generation takes.
    **settings
        Knobs of :class:`Training` (``steps``, ``lr``, ``schedule``, ``lbfgs_steps``, ``seed``,
        ``device``, ``dtype``, ``threads``, ``compile``, ``eval_every``, ``snapshot_every``,
        ...), plus ``weights``: a dict of multipliers for the method's loss terms
        (default 1 each).

    Yields
    ------
    Progress
        One per optimizer step; the last has ``done=True`` and the :class:`Run`.
        ``generator.send("stop")`` ends training early and returns that last record;
        ``generator.send("snapshot")`` makes the next record carry a fields snapshot (a live
        view asks for one when it is ready to draw, instead of every k steps).

    Notes
    -----
    Bad input raises ``ValueError``/``TypeError`` naming the parameter before any work starts.
    A non-finite loss term, or one growing beyond ``divergence_factor`` times its first value
    (or the whole loss's, if larger), stops training: the Run keeps the last good parameters
    and ``status="diverged"``.
    """
    weights = dict(settings.pop("weights", None) or {})
    if "compile" in settings:
        compile_rule.check_setting(settings["compile"])
    cfg = Training(**settings)
    _check_inputs(problem, method, regularizers)
    combiner = _resolve_combiner(combiner if combiner is not None else method.default_combiner())
    _check_numbers(f"combiner {combiner.name}", combiner)
    _check_numbers("training", cfg)
    names = method.term_names(problem)
    for key, value in weights.items():
        if key not in names:
            raise ValueError(
                f"weights: {method.name!r} on {problem.name!r} has no term {key!r}; "
                f"its terms are {', '.join(names)}"
            )
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"weights[{key!r}] must be a finite number >= 0, got {value!r}")
    weights = {**method.default_weights(problem), **weights}
    device = resolve_device(cfg.device)
    return _train(problem, method, list(regularizers), combiner, cfg, weights, device, checkpoint)


def _train(
    problem, method, regularizers, combiner, cfg: Training, weights, device, checkpoint
) -> Iterator[Progress]:
    start = time.perf_counter()
    work: list[Progress] = []

    def watched(record: Progress) -> None:
        work[:] = [record]
        checkpoint(record)

    try:
        session = Session(
            problem,
            method,
            regularizers,
            combiner,
            cfg,
            weights,
            device,
            None if checkpoint is None else watched,
        )
    except Stopped:
        # Stopped while the dataset (or reference) was made: there is no model to keep.
        doing = f" ({work[0].message})" if work and work[0].message else ""
        message = f"stopped by the user before training began{doing}; nothing was trained"
        wall = time.perf_counter() - start
        yield Progress(0, {}, math.nan, None, wall, done=True, phase="done", message=message)
        return
    try:
        yield from session.adam_phase()
        if session.status == "done" and not session.message and cfg.lbfgs_steps:
            yield from session.lbfgs_phase()
    except KeyboardInterrupt:
        # Ctrl-C (or a notebook's interrupt) during a step: keep what was trained so far.
        session.status = "stopped"
        session.message = f"interrupted at step {session.step}"
    except Stopped:
        # The checkpoint stopped an evaluation or the compile warm-up: the parameters are the
        # last ones recorded, as after send("stop").
        session.status = "stopped"
        session.message = f"stopped by the user at step {session.step}"
    yield session.finish()


def fit(
    problem: Problem,
    method: Method,
    regularizers: Sequence[Regularizer] = (),
    combiner: Combiner | str | None = None,
    *,
    progress: bool = True,
    **settings,
) -> Run:
    """Train to the end with a tqdm progress bar and return the :class:`Run`.

    Takes the same arguments as :func:`train`. A diverged run is returned too (check
    ``run.status``), holding the last good parameters; so is a run interrupted with Ctrl-C
    (``status="stopped"``).
    """
    from tqdm.auto import tqdm

    records = train(problem, method, regularizers, combiner, **settings)
    total = settings.get("steps", Training.steps) + settings.get("lbfgs_steps", 0)
    desc = f"{method.name} on {problem.name}"
    if settings.get("max_wall_s"):
        desc += f" (at most {settings['max_wall_s']:g} s)"
    final = None
    with tqdm(total=total, disable=not progress, desc=desc, mininterval=0.5) as bar:
        try:
            for record in records:
                if record.done:
                    final = record
                    break
                bar.update(record.completed - bar.n)
                if record.l2re is not None:
                    # Named by the method's metric (a generator's is an energy distance).
                    postfix = {
                        "loss": f"{record.losses['loss']:.3g}",
                        method.metric.name: f"{record.l2re:.3g}",
                    }
                    bar.set_postfix(postfix, refresh=False)
        except KeyboardInterrupt:
            # Interrupted between steps: the generator is paused at a record; ask it to wrap up.
            final = records.send("stop")
        if final.message and progress:
            bar.write(final.message, file=sys.stderr)
    return final.run
