"""When a training's step is ``torch.compile``-d (the ``compile`` knob), and where the compiled
code is kept between runs.

``compile="auto"`` (the default) compiles where it was measured to pay and stays eager
elsewhere; ``True`` and ``False`` force it. The compiled artefacts (inductor's FX graph cache
and AOTAutograd's cache) go to a folder of the workbench's own under the user's cache folder,
not torch's default under ``/tmp`` (emptied at reboot), so a second run of the same set-up on
the same machine skips inductor's code generation and C++ compilation.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

#: Environment variable that moves the compile cache (a folder; created when missing).
CACHE_ENV = "WORKBENCH_COMPILE_CACHE"

#: Fewest Adam steps for which ``compile="auto"`` compiles. Measured on the DeepXDE Burgers
#: set-up (2-[20]x3-1 tanh, 2780 points, 1 thread, benchmarks/peers.py): the compiled step
#: saves about 4 ms a step against eager; the warm-up costs 15-20 s with an empty cache and
#: 3-5 s with a warm one, so it is won back after ~1000-4000 steps. 2000 is where a run wins
#: with a warm cache by a clear margin and loses at most a few seconds with a cold one.
MIN_STEPS = 2000

#: Shortest time budget (``max_wall_s``, when set) for which ``"auto"`` compiles: a cold
#: compile would take a third of a shorter one.
MIN_BUDGET_S = 60.0


def cache_dir() -> Path:
    """The folder holding compiled steps between runs.

    ``$WORKBENCH_COMPILE_CACHE`` when set, else ``workbench/torch-compile`` under
    ``$XDG_CACHE_HOME`` (default ``~/.cache``).
    """
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "workbench" / "torch-compile"


def use_cache_dir() -> Path:
    """Point inductor's on-disk caches at :func:`cache_dir` (made if missing) and return it.

    Inductor reads ``TORCHINDUCTOR_CACHE_DIR`` whenever it looks for a cached graph, so setting
    it before each compile is enough; both the FX graph cache and the AOTAutograd cache (on by
    default in this torch) live below it.
    """
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
    return folder


def compiler_available(device: torch.device) -> bool:
    """Whether inductor can build code for ``device``: a C++ compiler on CPU, triton on CUDA."""
    if device.type == "cuda":
        import importlib.util

        return importlib.util.find_spec("triton") is not None
    names = [os.environ.get("CXX"), "g++", "clang++", "c++"]
    return any(name and shutil.which(name) for name in names)


def check_setting(value) -> None:
    """Raise ``ValueError`` naming the ``compile`` knob unless ``value`` is auto, True or False."""
    if not (isinstance(value, bool) or value == "auto"):
        raise ValueError(
            f"training knob 'compile': {value!r} is not valid; allowed: 'auto', True or False"
        )


def decide(
    setting, steps: int, max_wall_s: float, per_term: bool, pays: bool, interactive: bool, device
) -> tuple[bool, str]:
    """Whether to compile the step, and why (for the Run's ``compile`` attribute).

    Parameters
    ----------
    setting : {"auto", True, False}
        The ``compile`` knob.
    steps, max_wall_s : int, float
        The run's Adam steps and time budget (0 = none).
    per_term : bool
        The combiner differentiates each term separately (only 'sum' is compiled).
    pays : bool
        The method's step is one where compiling was measured to pay (physics-informed: a small
        MLP on a few thousand points, where eager time is per-op overhead).
    interactive : bool
        A caller's checkpoint is watching (the app): the compile warm-up cannot be
        interrupted, so ``"auto"`` does not start one that a Stop would have to wait for.
    device : torch.device
        Where the step runs.
    """
    if setting is False or steps == 0:
        return False, "off"
    if per_term:
        return False, "eager: the combiner differentiates each term separately"
    if setting is True:
        return True, "on"
    if not pays:
        return False, "auto: eager (compiling this method's step was not measured to pay)"
    if interactive:
        return False, "auto: eager (a compile warm-up could not be stopped)"
    if steps < MIN_STEPS:
        return False, f"auto: eager (fewer than {MIN_STEPS} steps)"
    if max_wall_s and max_wall_s < MIN_BUDGET_S:
        return False, f"auto: eager (time budget under {MIN_BUDGET_S:g} s)"
    if not compiler_available(device):
        return False, "auto: eager (no compiler for torch.compile)"
    return True, "auto: compiled"
