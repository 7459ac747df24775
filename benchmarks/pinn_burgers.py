"""Burgers PINN: steps/s and accuracy against DeepXDE, and the best recipe within 180 s of CPU.

Prints a table. Rows:

(a) DeepXDE's Burgers example set-up: 2-[20]x3-1 tanh, 2540 interior / 80 boundary / 160 initial
    random points, Adam lr 1e-3 (constant), 5000 steps; torch pinned to 1 thread.
    - workbench eager, workbench with ``compile=True`` (whole step fused), and DeepXDE itself
      (if ``deepxde`` is importable with the peers' site on the path, see benchmarks/peers.py).
    steps/s is 5000 / training wall time; for the compiled run it is also given without the
    one-off compile (steady state), and the compile cost is printed.
(b) The best recipe found: exact boundary/initial constraints, 4x32 tanh, 8192 fixed points,
    compiled Adam 1000 steps (1e-3 -> 1e-4), then L-BFGS (float32) until 180 s of wall time.

Usage: ``python benchmarks/pinn_burgers.py [--steps 5000] [--budget 180] [--skip-deepxde]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from workbench import PINN, Burgers1D, fit

# DeepXDE runs in a child process with the peers' site on its path (see benchmarks/peers.py,
# which holds its set-up; benchmarks/ is not a package, so its folder goes on sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import DEFAULT_SITE, peer_available  # noqa: E402
from peers import run_deepxde as run_peer  # noqa: E402


def run_workbench(steps: int, compile: bool, seed: int) -> dict:
    method = PINN(width=20, depth=3, n_interior=2540, n_boundary=80, n_initial=160)
    start = time.perf_counter()
    run = fit(
        Burgers1D(),
        method,
        steps=steps,
        lr=1e-3,
        schedule="constant",
        compile=compile,
        seed=seed,
        threads=1,
        eval_every=0,
        progress=False,
    )
    total = time.perf_counter() - start
    wall = run.history["wall_s"].values
    # Steady-state rate from the last 80% of the steps (excludes compile and warm-up).
    skip = len(wall) // 5
    steady = (len(wall) - 1 - skip) / (wall[-1] - wall[skip])
    return {
        "steps_per_s": steps / run.attrs["wall_s"],
        "steady": steady,
        "first_step_s": float(wall[0]),
        "l2re": run.l2re,
        "wall_s": run.attrs["wall_s"],
        "total_s": total,
    }


def run_deepxde(steps: int, seed: int) -> dict | None:
    site = DEFAULT_SITE if os.path.isdir(DEFAULT_SITE) else None
    if not peer_available("deepxde", site):
        return None
    result = run_peer("burgers", steps, seed, site)
    return {
        "steps_per_s": steps / result["wall_s"],
        "l2re": result["l2re"],
        "wall_s": result["wall_s"],
    }


def run_best_recipe(budget: float, seed: int) -> dict:
    method = PINN(width=32, depth=4, n_interior=8192, hard_constraints=True)
    run = fit(
        Burgers1D(),
        method,
        steps=1000,
        lr=1e-3,
        lr_final=0.1,
        compile=True,
        lbfgs_steps=1_000_000,
        max_wall_s=budget,
        seed=seed,
        threads=1,
        eval_every=500,
        progress=False,
    )
    return {"l2re": run.l2re, "wall_s": run.attrs["wall_s"], "steps": run.attrs["steps"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--budget", type=float, default=180.0)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds for (a)")
    parser.add_argument("--skip-deepxde", action="store_true")
    parser.add_argument("--skip-recipe", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(1)

    print(f"Burgers1D nu=0.01/pi, torch {torch.__version__}, 1 thread, {args.steps} Adam steps")
    print(f"{'run':<30} {'seed':>4} {'steps/s':>9} {'steady':>9} {'l2re':>10} {'wall s':>8}")
    table: dict[str, list[dict]] = {"eager": [], "compiled": [], "deepxde": []}
    for seed in seeds:
        # Interleaved per seed, so that box noise hits all three alike.
        table["eager"].append(run_workbench(args.steps, compile=False, seed=seed))
        table["compiled"].append(run_workbench(args.steps, compile=True, seed=seed))
        dde = None if args.skip_deepxde else run_deepxde(args.steps, seed)
        if dde:
            table["deepxde"].append(dde)
        for name in table:
            if len(table[name]) == seeds.index(seed) + 1:
                r = table[name][-1]
                print(
                    f"(a) {name:<26} {seed:>4} {r['steps_per_s']:>9.1f} "
                    f"{r.get('steady', float('nan')):>9.1f} {r['l2re']:>10.3e} "
                    f"{r['wall_s']:>8.1f}",
                    flush=True,
                )
    print("medians over seeds:")
    for name, rows in table.items():
        if rows:
            rate = float(np.median([r["steps_per_s"] for r in rows]))
            l2re = float(np.median([r["l2re"] for r in rows]))
            print(f"  {name:<10} steps/s {rate:7.1f}  l2re {l2re:.3e}")
    if table["deepxde"]:
        ratios = [
            c["steps_per_s"] / d["steps_per_s"] for c, d in zip(table["compiled"], table["deepxde"])
        ]
        steady = [
            c["steady"] / d["steps_per_s"] for c, d in zip(table["compiled"], table["deepxde"])
        ]
        eager = [
            e["steps_per_s"] / d["steps_per_s"] for e, d in zip(table["eager"], table["deepxde"])
        ]
        print(
            f"speed vs DeepXDE (per seed): compiled incl. compile {_fmt(ratios)}, "
            f"compiled steady {_fmt(steady)}, eager {_fmt(eager)}"
        )
    if not args.skip_recipe:
        best = run_best_recipe(args.budget, seeds[0])
        print(
            f"(b) best recipe, seed {seeds[0]}: l2re {best['l2re']:.3e} after "
            f"{best['wall_s']:.1f} s ({best['steps']} steps: 1000 Adam + L-BFGS)"
        )


def _fmt(values) -> str:
    return ", ".join(f"{v:.2f}x" for v in values)


if __name__ == "__main__":
    main()
