"""The knobs of a training (:class:`Training`) and what follows from them: the learning rate at
a step and the device."""

from __future__ import annotations

import math

import param
import torch


class Training(param.Parameterized):
    """Knobs of the optimisation itself (the same Parameters drive widgets and CLI flags)."""

    steps = param.Integer(4000, bounds=(0, 10_000_000), label="Adam steps", doc="Adam steps.")
    # Adam moves every weight by about lr per step whatever the gradient's scale, so with
    # weights of order one a step of 1 already scrambles a network; 10 is still accepted so
    # that a divergence can be shown on purpose, 1e9 is a typo.
    lr = param.Number(
        1e-2,
        label="Learning rate",
        bounds=(0.0, 10.0),
        inclusive_bounds=(False, True),
        doc="Adam learning rate, in (0, 10] (above 1 a network scrambles).",
    )
    schedule = param.Selector(
        objects=["constant", "exponential", "cosine"],
        label="Learning-rate schedule",
        default="exponential",
        doc="Learning-rate schedule over the Adam steps.",
    )
    lr_final = param.Number(
        0.1,
        bounds=(0.0, 1.0),
        inclusive_bounds=(False, True),
        doc="Final LR as a fraction of lr (exponential/cosine).",
    )
    ema = param.Number(
        0.0,
        label="Weight average (EMA decay)",
        bounds=(0.0, 1.0),
        inclusive_bounds=(True, False),
        doc="Decay of an exponential moving average of the weights over the Adam steps (0 = "
        "off; generative models use 0.999). Evaluations, snapshots and the final model use "
        "the average.",
    )
    lbfgs_steps = param.Integer(
        0, bounds=(0, 1_000_000), label="L-BFGS steps", doc="L-BFGS iterations after Adam."
    )
    lbfgs_float64 = param.Boolean(
        False, doc="Run L-BFGS in float64 (float32 line searches stall near loss ~1e-5)."
    )
    max_wall_s = param.Number(
        0.0,
        bounds=(0.0, None),
        doc="Time budget in seconds from the start of train() (0 = no limit): data "
        "preparation, compile, steps and the final evaluation all count, and the steps end "
        "early enough that the next step and the final evaluation still fit.",
    )
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of every random draw.")
    device = param.Selector(
        objects=["auto", "cpu", "cuda"], default="auto", doc="auto = CUDA when available."
    )
    dtype = param.Selector(objects=["float32", "float64"], default="float32", doc="Precision.")
    threads = param.Integer(
        1, bounds=(0, 256), doc="torch CPU threads (0 = leave torch's setting alone)."
    )
    compile = param.Selector(
        objects=["auto", True, False],
        default="auto",
        doc="torch.compile the whole step: True (faster steps after a 3-20 s compile), False "
        "(eager), or auto: compiled for physics-informed runs of 2000+ steps with the 'sum' "
        "combiner outside the app, eager elsewhere. Compiled steps are cached on disk "
        "($WORKBENCH_COMPILE_CACHE, default ~/.cache/workbench/torch-compile).",
    )
    eval_every = param.Integer(
        100,
        bounds=(0, 10_000_000),
        doc="Evaluate l2re on the reference grid every k steps (0 = end).",
    )
    snapshot_every = param.Integer(
        0, bounds=(0, 10_000_000), doc="Yield a fields snapshot every k steps (0 = never)."
    )
    snapshot_points = param.Integer(64, bounds=(2, 4096), doc="Snapshot grid points per dim.")
    divergence_factor = param.Number(
        1e4, bounds=(1.0, None), doc="Stop when a loss term exceeds this multiple of its start."
    )


def resolve_device(device: str) -> torch.device:
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was requested but CUDA is not available; use 'cpu'")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def learning_rate(cfg: Training, step: int) -> float:
    if cfg.schedule == "constant" or cfg.steps <= 1:
        return cfg.lr
    progress = step / (cfg.steps - 1)
    if cfg.schedule == "exponential":
        return cfg.lr * cfg.lr_final**progress
    return cfg.lr * (cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress)))
