"""Physics-constrained generation and inverse problems on darcy2d: flow matching against PBFM,
and DiffusionPDE-style posterior sampling from 3% observations of u.

Two tables (torch on one thread, seed 0, data seed 0; joint fields (input, u) of a function
family, ``darcy2d`` (a, u) unless ``--problem poisson2d`` (f, u) for the first table, on
``--resolution`` x ``--resolution`` nodes, solved on that grid itself
(``solver_nodes=resolution``, so the data satisfy the five-point equations the residual
applies), 1000 training and 1000 test samples, batch 32, Adam from 2e-3 decaying to 2e-4 over
``--steps`` steps, and the exponential moving average of the weights with decay ``--ema``
(0.999, as in the PBFM code, which samples with it) is what is evaluated), chosen with
``--only``:

``pareto``: FM against PBFM on the same data and budget
    ``flow_matching`` and ``pbfm`` (ConFIG, ``--unroll`` unrolled steps, default 2), the same
    U-Net (``--width`` 16, 3 levels). ``--samples`` fields generated from noise (seed 1, 20
    Euler steps) give
    ``residual``, the mean absolute PDE residual (``|-div(a grad u) - 1|`` for darcy2d,
    ``|-lap u - f|`` over the RMS of f for poisson2d) of the generated fields (the metric of
    the PBFM paper), and ``distance``, the energy
    distance of the generated joint fields (standardised) from the 1000 held-out test fields;
    ``data distance`` is the same for as many *training* fields, the estimate's noise floor
    (its sign is random: the estimator is unbiased, so a distance within a few times this is
    "indistinguishable from the data").
    ``data residual`` is the same residual of the test data themselves (rounding level).
    Ratios FM / PBFM (residual) and PBFM / FM (distance) are printed.

``inverse``: DiffusionPDE-style inverse problem
    A ``diffusion`` model (EDM) of (a, u), then, for each of the first ``--inverse-cases``
    test samples, ``--posterior`` posterior samples given u at a random 3% of the nodes (the
    method's ``guided_steps``, 100 Heun steps, unless ``--inverse-steps``; observation
    guidance throughout, PDE guidance over the last 20%; the method's default strengths).
    Columns: the relative L2 error of the posterior mean of a and of u; the fraction of true
    values inside the posterior's 90% interval (``cov``; near 0.9 when calibrated);
    ``a err``, the fraction of nodes where the thresholded posterior mean of a (3 or 12,
    DiffusionPDE's metric) is wrong; ``|res|``, the posterior samples' mean absolute PDE
    residual (forcing units). Rows: with the default PDE guidance, without it, and ten times
    stronger.

``kolmogorov``: FM against PBFM on ``kolmogorov2d`` velocities (issue 27)
    The velocity ``(vel_x, vel_y)`` of the family's output state on ``--ns-resolution`` x
    ``--ns-resolution`` points (32: the solver's own grid at the default viscosity), 1000
    training and 500 test fields, batch 16; ``flow_matching`` and ``pbfm`` (ConFIG,
    ``--unroll``) with the same U-Net (``--width``, 3 levels, periodic), ``--steps``, learning
    rate schedule, ``--ema`` and seed. The physics residual is the spectral divergence
    ``u_x + v_y``; ``|div|`` is its mean absolute value over 500 generated fields (seed 1, 20
    Euler steps) in units of the training data's root mean square velocity gradient (0 for an
    incompressible field, about 0.56 for white noise), ``data |div|`` the same of the test
    data (rounding: the solver's velocity is divergence-free); ``|div| abs`` in physical units.
    ``distance`` is the energy distance of the generated standardised velocities from the
    test set (``norm``: normalised to [0, 1]), ``data dist`` the same for 500 training fields
    (the estimate's noise floor).

Usage::

    python benchmarks/generative.py [--only pareto,inverse] [--problem darcy2d]
        [--resolution 16] [--steps 4000] [--ema 0.999] [--cases flow_matching,pbfm]
        [--width 16] [--samples 1000] [--unroll N] [--inverse-cases 10] [--posterior 16]
        [--inverse-steps N] [--runs DIR] [--out generative.nc] [--ns-resolution 32]

    python benchmarks/generative.py --only kolmogorov --steps 1000 [--cases flow_matching]

``--runs DIR`` saves each trained model in ``DIR/<problem>-<case>-w<width>`` and reuses it
when it is already there (to split the tables over processes or re-run the sampling alone;
a reused model keeps the settings it was trained with).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from workbench import Run, fit
from workbench.evaluation import energy_distance
from workbench.methods import METHODS
from workbench.problems import PROBLEMS

DATA = {"n_train": 1000, "n_test": 1000, "batch_size": 32}


def trained(
    case: str,
    family: str,
    resolution: int,
    steps: int,
    ema: float,
    runs: Path | None,
    **knobs,
) -> tuple:
    """A trained Run for ``case`` on ``family`` (loaded from its folder in ``runs`` when saved
    there) and its CPU s."""
    folder = runs / f"{family}-{case}-w{knobs.get('width', 16)}" if runs else None
    if folder is not None and (folder / "run.nc").is_file():
        return Run.load(folder), float("nan")
    # Solved on the dataset's own grid: the data satisfy the five-point equations the
    # residual applies, so a residual measures the generator, not the solver's grid.
    problem = PROBLEMS[family](solver_nodes=resolution)
    method = METHODS[case](resolution=resolution, **DATA, **knobs)
    method.prepare(problem)
    start = time.process_time()
    run = fit(problem, method, steps=steps, lr=2e-3, ema=ema, eval_every=0, progress=False, seed=0)
    cpu = time.process_time() - start
    if run.status != "done":
        raise RuntimeError(f"{case}: {run.status}: {run.attrs.get('message')}")
    if folder is not None:
        run.save(folder)
    return run, cpu


def pareto_row(case: str, args) -> dict:
    knobs = {"unroll": args.unroll} if case == "pbfm" and args.unroll else {}
    knobs["width"] = args.width
    run, cpu = trained(
        case, args.problem, args.resolution, args.steps, args.ema, args.runs, **knobs
    )
    start = time.perf_counter()
    method, problem = run.method, run.problem
    ds = method.samples(run.model, problem, args.samples, seed=1)
    seconds = time.perf_counter() - start
    split = method.split(problem)
    train, test = (method.standardised(run.model, problem, split[k]) for k in ("train", "test"))
    return {
        "residual": ds.attrs["residual_mae"],
        "data residual": ds.attrs["data_residual_mae"],
        "distance": ds.attrs["distance"],
        "data distance": energy_distance(train[: args.samples], test)[0],
        "train wall s": float(run.attrs["wall_s"]),
        "train cpu s": cpu,
        "sample s": seconds,
    }


def inverse_rows(args) -> dict:
    run, _ = trained("diffusion", "darcy2d", args.resolution, args.steps, args.ema, args.runs)
    method, model, problem = run.method, run.model, run.problem
    test = method.split(problem)["test"]
    rows = {}
    strong = 10 * method.guidance_pde
    for label, pde in [
        ("obs + pde guidance", None),
        ("obs guidance only", 0.0),
        ("10x pde", strong),
    ]:
        metrics = []
        start = time.perf_counter()
        for i in range(args.inverse_cases):
            truth = test.isel(sample=i).drop_vars("sample")[method.channels(problem)]
            post = method.posterior(
                model,
                problem,
                truth,
                "solution",
                0.03,
                args.posterior,
                seed=i,
                guidance_pde=pde,
                steps=args.inverse_steps,
            )
            binary = np.where(post["a_mean"].values > 7.5, 12.0, 3.0)
            metrics.append(
                [
                    post.attrs["l2re_a"],
                    post.attrs["l2re_u"],
                    post.attrs["coverage_a"],
                    post.attrs["coverage_u"],
                    float(np.mean(binary != truth["a"].values)),
                    float(post["residual"].mean()),
                    float(post["u_mask"].sum()),
                ]
            )
        mean = np.mean(metrics, axis=0)
        rows[label] = dict(
            zip(
                ["l2re a", "l2re u", "cov a", "cov u", "a err rate", "residual", "observed"],
                mean,
                strict=True,
            )
        )
        rows[label]["s per case"] = (time.perf_counter() - start) / args.inverse_cases
    return rows


def kolmogorov_rows(args) -> dict:
    """FM and PBFM on kolmogorov2d velocities, same data, network, steps and seed."""
    problem = PROBLEMS["kolmogorov2d"]()
    data = {"n_train": 1000, "n_test": 500, "batch_size": 16}
    rows = {}
    for case in args.cases.split(","):
        knobs = {"unroll": args.unroll} if case == "pbfm" and args.unroll else {}
        method = METHODS[case](resolution=args.ns_resolution, width=args.width, **data, **knobs)
        method.prepare(problem)
        start = time.process_time()
        run = fit(
            problem,
            method,
            steps=args.steps,
            lr=2e-3,
            ema=args.ema,
            eval_every=0,
            progress=False,
            seed=0,
        )
        cpu = time.process_time() - start
        if run.status != "done":
            raise RuntimeError(f"{case}: {run.status}: {run.attrs.get('message')}")
        start = time.process_time()
        ds = method.samples(run.model, problem, data["n_test"], seed=1)
        sample_cpu = time.process_time() - start
        split = method.split(problem)
        train, test = (method.standardised(run.model, problem, split[k]) for k in ("train", "test"))
        rows[case] = {
            "divergence": ds.attrs["residual_mean"],
            "data divergence": ds.attrs["data_residual_mean"],
            "divergence abs": ds.attrs["residual_mae"],
            "distance": ds.attrs["distance"],
            "distance normalised": ds.attrs["distance_normalised"],
            "data distance": energy_distance(train[: data["n_test"]], test)[0],
            "train cpu s": cpu,
            "sample cpu s": sample_cpu,
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="pareto,inverse")
    parser.add_argument(
        "--problem", default="darcy2d", help="family of the pareto table (darcy2d, poisson2d)"
    )
    parser.add_argument("--resolution", type=int, default=16)
    parser.add_argument("--width", type=int, default=16, help="U-Net width of the pareto cases")
    parser.add_argument("--ema", type=float, default=0.999, help="weight average decay (0 = off)")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--cases", default="flow_matching,pbfm", help="rows of the pareto table")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--unroll", type=int, default=None, help="pbfm's unroll (its default)")
    parser.add_argument("--inverse-cases", type=int, default=10)
    parser.add_argument("--posterior", type=int, default=16)
    parser.add_argument("--inverse-steps", type=int, default=None)
    parser.add_argument("--runs", type=Path, default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--ns-resolution", type=int, default=32, help="grid of the kolmogorov table"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    groups = set(args.only.split(","))
    print(
        f"torch threads pinned to 1, seed 0, data seed 0, {args.problem} at "
        f"{args.resolution}^2 (inverse: darcy2d), {args.steps} steps, ema {args.ema}",
        flush=True,
    )
    out = {}

    if "pareto" in groups:
        header = (
            f"{'case':<14} {'residual':>9} {'data res':>9} {'distance':>9} {'data dist':>9} "
            f"{'train s':>8} {'cpu s':>8} {'sample s':>8}"
        )
        print("\n" + header + "\n" + "-" * len(header), flush=True)
        rows = {}
        for case in args.cases.split(","):
            r = rows[case] = pareto_row(case, args)
            print(
                f"{case:<14} {r['residual']:>9.4f} {r['data residual']:>9.4f} "
                f"{r['distance']:>9.4f} {r['data distance']:>9.4f} {r['train wall s']:>8.1f} "
                f"{r['train cpu s']:>8.1f} "
                f"{r['sample s']:>8.1f}",
                flush=True,
            )
        if {"flow_matching", "pbfm"} <= set(rows):
            fm, pb = rows["flow_matching"], rows["pbfm"]
            print(f"residual FM / PBFM: {fm['residual'] / pb['residual']:.2f} (target >= 4)")
            print(f"distance PBFM / FM: {pb['distance'] / fm['distance']:.2f} (target <= 1.2)")
        first = next(iter(rows.values()))
        out["pareto"] = xr.Dataset(
            {k: ("case", [rows[c][k] for c in rows]) for k in first}, coords={"case": list(rows)}
        )

    if "inverse" in groups:
        rows = inverse_rows(args)
        header = (
            f"{'case':<20} {'l2re a':>7} {'l2re u':>7} {'cov a':>6} {'cov u':>6} "
            f"{'a err':>6} {'|res|':>6} {'obs':>4} {'s/case':>7}"
        )
        print("\n" + header + "\n" + "-" * len(header), flush=True)
        for label, r in rows.items():
            print(
                f"{label:<20} {r['l2re a']:>7.4f} {r['l2re u']:>7.4f} {r['cov a']:>6.3f} "
                f"{r['cov u']:>6.3f} {r['a err rate']:>6.3f} {r['residual']:>6.3f} "
                f"{r['observed']:>4.0f} "
                f"{r['s per case']:>7.1f}",
                flush=True,
            )
        first = next(iter(rows.values()))
        out["inverse"] = xr.Dataset(
            {k: ("case", [rows[c][k] for c in rows]) for k in first}, coords={"case": list(rows)}
        )

    if "kolmogorov" in groups:
        rows = kolmogorov_rows(args)
        header = (
            f"{'case':<14} {'|div|':>9} {'data |div|':>10} {'|div| abs':>9} {'distance':>9} "
            f"{'norm':>7} {'data dist':>9} {'cpu s':>7} {'sample s':>8}"
        )
        print(
            f"\nkolmogorov2d velocities at {args.ns_resolution}^2 (|div| in units of the RMS "
            "velocity gradient)\n" + header + "\n" + "-" * len(header),
            flush=True,
        )
        for case, r in rows.items():
            print(
                f"{case:<14} {r['divergence']:>9.4f} {r['data divergence']:>10.2e} "
                f"{r['divergence abs']:>9.4f} {r['distance']:>9.4f} "
                f"{r['distance normalised']:>7.4f} {r['data distance']:>9.4f} "
                f"{r['train cpu s']:>7.1f} {r['sample cpu s']:>8.1f}",
                flush=True,
            )
        if {"flow_matching", "pbfm"} <= set(rows):
            fm, pb = rows["flow_matching"], rows["pbfm"]
            print(f"|div| FM / PBFM: {fm['divergence'] / pb['divergence']:.2f}")
            print(f"distance PBFM / FM: {pb['distance'] / fm['distance']:.2f}")
        first = next(iter(rows.values()))
        out["kolmogorov"] = xr.Dataset(
            {k: ("case", [rows[c][k] for c in rows]) for k in first}, coords={"case": list(rows)}
        )

    if args.out:
        xr.DataTree.from_dict({f"/{k}": v for k, v in out.items()}).to_netcdf(
            args.out, engine="h5netcdf"
        )
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
