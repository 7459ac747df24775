"""The GPU path against the CPU path: every method family, same seed, a few hundred steps each.

For each case (one per method family, two for the physics-informed ones) the script trains on
the CPU and, when CUDA is available, on the GPU with the same seed and settings, then checks:

- the loss of the first step agrees to ``--first-rtol`` (same data, same initial weights: only
  float32 rounding differs between the devices);
- the final metric (l2re, or a generator's energy distance) agrees to ``--final-rtol`` relative
  or ``--final-atol`` absolute (training amplifies rounding differences over the steps, so this
  is a looser check that the GPU learns the same thing).

It prints steps/s on each device and the ratio. TF32 matmuls are turned off so the GPU rounds
like the CPU; the CPU runs on ``--threads`` torch threads (default 1, so numbers from a shared
machine compare). Without CUDA it runs the CPU side only and says so; the test suite never
needs a GPU.

Run::

    python benchmarks/device_check.py [--steps 300] [--cases pinn,fno] [--threads 1]

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings

import torch

from workbench import METHODS, PROBLEMS, fit
from workbench.recipes import recipe

#: name -> (problem, method, method knobs): one case per family, small enough for a CPU.
CASES = {
    "pinn": ("burgers1d", "pinn", {"n_interior": 2000}),
    "pig": ("helmholtz2d", "pig", {}),
    "fno": ("darcy2d", "fno", {"n_train": 200, "n_test": 50}),
    "deeponet": ("darcy2d", "deeponet", {"n_train": 200, "n_test": 50}),
    "vae": ("pendulum", "vae", {"n_train": 200, "n_test": 50}),
    "phys_vae": ("pendulum", "phys_vae", {"n_train": 200, "n_test": 50}),
    "flow_matching": ("darcy2d", "flow_matching", {"n_train": 200, "n_test": 50, "width": 16}),
    "pbfm": ("darcy2d", "pbfm", {"n_train": 200, "n_test": 50, "width": 16}),
    "diffusion": ("darcy2d", "diffusion", {"n_train": 200, "n_test": 50, "width": 16}),
}


def train_on(case: str, device: str, steps: int, threads: int) -> dict:
    """One training of ``case`` on ``device``: first loss, final metric, steps/s."""
    problem_name, method_name, method_knobs = CASES[case]
    problem = PROBLEMS[problem_name]()
    settings = recipe(problem_name, method_name)
    method = METHODS[method_name](**{**settings.get("method", {}), **method_knobs})
    training = {
        **settings.get("training", {}),
        "steps": steps,
        "lbfgs_steps": 0,
        "seed": 0,
        "device": device,
        "threads": threads,
        "compile": False,
        "eval_every": 0,
    }
    method.check(problem)
    method.prepare(problem)  # the dataset or reference, outside the timing
    if device == "cuda":
        torch.cuda.synchronize()
    began = time.perf_counter()
    run = fit(problem, method, settings.get("regularizers", []), progress=False, **training)
    if device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - began
    first = float(run.history["loss"].isel(step=0))
    return {
        "first": first,
        "final": float(run.l2re),
        "metric": run.metric.name,
        "steps_s": int(run.attrs["steps"]) / wall,
        "status": run.status,
    }


def agree(a: float, b: float, rtol: float, atol: float = 0.0) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(a)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--first-rtol", type=float, default=1e-3)
    parser.add_argument("--final-rtol", type=float, default=0.15)
    parser.add_argument("--final-atol", type=float, default=0.02)
    args = parser.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {', '.join(unknown)}; allowed: {', '.join(CASES)}")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    warnings.simplefilter("ignore")
    cuda = torch.cuda.is_available()
    device_name = torch.cuda.get_device_name(0) if cuda else "none"
    print(f"torch {torch.__version__}; CUDA device: {device_name}; CPU threads {args.threads}")
    print(f"{args.steps} steps per case, seed 0, no compile, TF32 off\n")
    head = (
        f"{'case':<14} {'metric':<16} {'cpu final':>10} {'cuda final':>10} "
        f"{'cpu steps/s':>11} {'cuda steps/s':>12} {'speed-up':>8}  check"
    )
    print(head)
    print("-" * len(head))
    failed = 0
    for case in cases:
        cpu = train_on(case, "cpu", args.steps, args.threads)
        line = f"{case:<14} {cpu['metric']:<16} {cpu['final']:>10.4g} "
        if not cuda:
            print(line + f"{'-':>10} {cpu['steps_s']:>11.1f} {'-':>12} {'-':>8}  no CUDA")
            continue
        gpu = train_on(case, "cuda", args.steps, args.threads)
        first_ok = agree(cpu["first"], gpu["first"], args.first_rtol)
        final_ok = agree(cpu["final"], gpu["final"], args.final_rtol, args.final_atol)
        verdict = "ok" if first_ok and final_ok else "FAIL"
        if verdict != "ok":
            failed += 1
            verdict += f" (first loss {cpu['first']:.6g} vs {gpu['first']:.6g})"
        print(
            line + f"{gpu['final']:>10.4g} {cpu['steps_s']:>11.1f} {gpu['steps_s']:>12.1f} "
            f"{gpu['steps_s'] / cpu['steps_s']:>7.2f}x  {verdict}"
        )
    if failed:
        print(f"\n{failed} case(s) disagree between CPU and CUDA", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
