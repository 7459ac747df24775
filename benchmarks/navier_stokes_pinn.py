"""Navier-Stokes PINNs: Kovasznay flow and the Taylor-Green vortex, forward and inverse.

Prints a table, one row per run: problem, formulation, CPU seconds (this process, 1 thread),
wall seconds, the overall relative L2 error and the error of each component (u, v, p), and, for
the inverse run, the inferred viscosity against the truth. Rows:

(a) ``kovasznay2d`` (Re = 20), PINN with the pair's recipe (:mod:`workbench.recipes`); target
    l2re of u and v <= 1e-3 within 300 s of CPU.
(b) ``taylor_green2d`` (nu = 0.1), PINN with the pair's recipe; target l2re <= 1e-2.
(c) ``taylor_green2d`` inverse: nu learned from 200 observations of (u, v) with 1 % noise
    (``Data(n=200, noise=0.01)``), from the guess 0.05; target within 5 % of 0.1.
(f) ``cavity2d`` (Re = 100), PINN with the pair's recipe; target: centreline ``u`` (along
    ``x = 0.5``) and ``v`` (along ``y = 0.5``) within 5 % of the lid speed of the classical
    solver (``centre_u``, ``centre_v``: max difference at the 65 nodes of each line / lid
    speed 1). Where the error concentrates: the rms velocity error ``|(u, v) - ref|`` within
    0.1 of the two lid corners (``rms_corners``) against the rest of the square
    (``rms_rest``), and the share of the squared velocity error in those corner squares
    (``corner_share``, the squares being 2 % of the area). ``l2re_p`` is dominated by the
    singular pressure at the lid corners (see ``cavity2d``'s docs).

(d) with ``--stream``: ``kovasznay2d`` with the conditions as loss terms (the stream function
    has no exact-constraint transform), Adam 1000 steps then L-BFGS 500, once with the
    velocity-pressure output and once with the stream-function output (divergence-free by
    construction): the accuracy and cost comparison.

(e) with ``--cost``: CPU milliseconds of one loss evaluation plus its backward pass on
    ``kovasznay2d`` at the recipe's size (4x50, 2000 interior points, float32, conditions as
    loss terms), for the velocity-pressure output with forward jets and with autograd, and
    for the stream-function output (nested autograd): interleaved rounds, median.

Usage: ``python benchmarks/navier_stokes_pinn.py
[--only kovasznay|taylor_green|inverse|stream|cavity] [--seed 0] [--set knob=value ...]
[--stream] [--cost]`` (``--set`` overrides a method knob of every row, or a training knob:
``--set steps=500``).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch

from workbench import PINN, Data, fit
from workbench.problems import PROBLEMS
from workbench.recipes import recipe


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cavity_errors(fields) -> dict[str, float]:
    """Row (f): centreline differences and where the velocity error sits (see the module docs)."""
    u, ref = fields["u"], fields["u_ref"]
    centre_u = abs(u.sel(component="u", x=0.5) - ref.sel(component="u", x=0.5)).max()
    centre_v = abs(u.sel(component="v", y=0.5) - ref.sel(component="v", y=0.5)).max()
    error2 = ((u - ref).sel(component=["u", "v"]) ** 2).sum("component")
    x, y = fields["x"], fields["y"]
    corners = (y >= 0.9) & ((x <= 0.1) | (x >= 0.9))
    return {
        "centre_u": round(float(centre_u), 4),
        "centre_v": round(float(centre_v), 4),
        "rms_corners": round(float(error2.where(corners).mean() ** 0.5), 4),
        "rms_rest": round(float(error2.where(~corners).mean() ** 0.5), 4),
        "corner_share": round(float(error2.where(corners).sum() / error2.sum()), 3),
    }


def run_row(label, problem_name, overrides, regularizers=(), problem_knobs=None, seed=0):
    problem = PROBLEMS[problem_name](**(problem_knobs or {}))
    args = recipe(problem_name, "pinn")
    method_knobs = {k: v for k, v in overrides.items() if k in PINN.param}
    training = {k: v for k, v in overrides.items() if k not in PINN.param}
    method = args["method"]
    method.param.update(**method_knobs)
    settings = {k: v for k, v in args.items() if k != "method"}
    settings.update(training)
    settings.update(seed=seed, progress=False, threads=1)
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    run = fit(problem, method, list(regularizers), **settings)
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    attrs = run.fields.attrs
    row = {
        "row": label,
        "problem": problem_name,
        "formulation": method.formulation,
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "l2re": attrs["l2re"],
        **{k: attrs[k] for k in attrs if k.startswith("l2re_")},
        **{f"{k}_inferred": v for k, v in run.estimates.items()},
    }
    if problem_name == "cavity2d":
        row.update(cavity_errors(run.fields))
    print(json.dumps(row), flush=True)
    return row


def step_costs(rounds: int = 5, repeats: int = 5) -> dict[str, float]:
    """Row (e): median CPU ms of loss + backward per formulation (see the module docs)."""
    problem = PROBLEMS["kovasznay2d"]()
    variants = {
        "primitive, forward jets": PINN(width=50, depth=4, n_interior=2000, n_boundary=400),
        "primitive, autograd": PINN(
            width=50, depth=4, n_interior=2000, n_boundary=400, derivatives="autograd"
        ),
        "stream function (autograd)": PINN(
            width=50, depth=4, n_interior=2000, n_boundary=400, formulation="stream_function"
        ),
    }
    prepared = {}
    for label, method in variants.items():
        generator = torch.Generator().manual_seed(0)
        model = method.build(problem, generator)
        batch = next(method.batches(problem, generator))
        prepared[label] = (method, model, batch)
    times = {label: [] for label in variants}
    for _ in range(rounds):
        for label, (method, model, batch) in prepared.items():
            start = time.process_time()
            for _ in range(repeats):
                loss = sum(method.loss(model, problem, batch).values())
                loss.backward()
            times[label].append(1e3 * (time.process_time() - start) / repeats)
    return {label: sorted(t)[len(t) // 2] for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", choices=["kovasznay", "taylor_green", "inverse", "stream", "cavity"]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE")
    parser.add_argument("--stream", action="store_true", help="also row (d)")
    parser.add_argument("--cost", action="store_true", help="only row (e)")
    options = parser.parse_args()
    torch.set_num_threads(1)
    if options.cost:
        for label, ms in step_costs().items():
            print(f"(e) {label:>28}: {ms:8.1f} CPU ms per loss + backward")
        return
    overrides = {}
    for item in options.set:
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value) if value[:1] in "0123456789-[{tf" else value
    rows = []
    wanted = options.only
    if wanted in (None, "kovasznay"):
        rows.append(run_row("(a)", "kovasznay2d", overrides, seed=options.seed))
    if wanted in (None, "taylor_green"):
        rows.append(run_row("(b)", "taylor_green2d", overrides, seed=options.seed))
    if wanted in (None, "inverse"):
        inverse = {**overrides, "infer": {"nu": 0.05}}
        data = [Data(n=200, noise=0.01, seed=options.seed)]
        rows.append(run_row("(c)", "taylor_green2d", inverse, data, seed=options.seed))
    if wanted in (None, "cavity"):
        rows.append(run_row("(f)", "cavity2d", overrides, seed=options.seed))
    if wanted == "stream" or options.stream:
        soft = {"hard_constraints": False, "steps": 1000, "lbfgs_steps": 500, **overrides}
        rows.append(run_row("(d)", "kovasznay2d", soft, seed=options.seed))
        stream = {**soft, "formulation": "stream_function"}
        rows.append(run_row("(d)", "kovasznay2d", stream, seed=options.seed))

    columns = ["row", "problem", "formulation", "cpu_s", "wall_s", "l2re", "l2re_u", "l2re_v"]
    columns += ["l2re_p", "nu_inferred", "centre_u", "centre_v", "rms_corners", "rms_rest"]
    print()
    print(" | ".join(f"{c:>14}" for c in columns))
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c, "")
            cells.append(f"{value:>14.3e}" if isinstance(value, float) else f"{value!s:>14}")
        print(" | ".join(cells))


if __name__ == "__main__":
    main()
