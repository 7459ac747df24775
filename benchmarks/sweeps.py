"""Sweeps on Dask: speed-up over running the points one after another, resilience, resume.

The sweep is the convection beta sweep of notebook 04 at a small size: convection1d with
beta in {1, 10, 20, 30, 40, 50} x seeds {0, 1} (12 points), a 3x32 tanh PINN, 500 collocation
points, ``--steps`` Adam steps. Every training is pinned to one torch thread (the sweep's
default), so one point uses one core.

``speedup``
    The 12 points one after another in this process (``scheduler="serial"``), then on a new
    ``LocalCluster`` of ``--workers`` single-threaded worker processes. The parallel time
    includes starting and closing the cluster (worker processes import torch: seconds). The
    two give the same l2re per point (checked).
``kill``
    The same points on a 2-worker LocalCluster; once the first point has finished, one worker
    process is killed with SIGKILL (its nanny starts a new one and the scheduler re-runs its
    tasks elsewhere). Reports how many points finished and their statuses.
``resume``
    ``workbench sweep`` of the same points in a subprocess, interrupted with SIGINT (Ctrl-C)
    once ``--interrupt-after`` points are written, then the same command again: reports how
    many points the second call ran and how many it read back.

Usage::

    python benchmarks/sweeps.py [--only speedup,kill,resume] [--steps 1500] [--workers 2]
                                [--out benchmarks/sweeps.nc]

Speed needs a quiet machine: other processes on the cores slow one side more than the other.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from workbench import PINN, Convection1D
from workbench.sweep import POINTS_DIR, Sweep, local_cluster

BETAS = [1.0, 10.0, 20.0, 30.0, 40.0, 50.0]
SEEDS = [0, 1]
NET = dict(width=32, depth=3, n_interior=500, n_initial=128, n_boundary=64)


def plan(steps: int, **kwargs) -> Sweep:
    """The benchmark's 12-point sweep."""
    return Sweep(
        Convection1D(),
        PINN(**NET),
        grid={"beta": BETAS, "seed": SEEDS},
        steps=steps,
        lr=5e-3,
        eval_every=0,
        weights={"initial": 100.0, "periodic": 100.0},
        **kwargs,
    )


def speedup(steps: int, workers: int) -> dict:
    start = time.perf_counter()
    serial = plan(steps).collect("serial", progress=False).result
    serial_s = time.perf_counter() - start
    print(f"serial: {serial_s:.1f} s ({float(serial['wall_s'].sum()):.1f} s of training)")
    start = time.perf_counter()
    parallel = plan(steps).collect(None, workers, progress=False).result
    parallel_s = time.perf_counter() - start
    print(f"LocalCluster, {workers} workers: {parallel_s:.1f} s (cluster start included)")
    same = bool(np.allclose(parallel["l2re"], serial["l2re"], rtol=1e-5))
    print(f"same l2re at every point: {same}")
    print(
        "l2re by beta (seed 0): "
        + ", ".join(f"{b:g}: {v:.3g}" for b, v in zip(BETAS, serial["l2re"].sel(seed=0).values))
    )
    return {
        "points": 12,
        "serial_s": serial_s,
        "parallel_s": parallel_s,
        "speedup": serial_s / parallel_s,
        "same_l2re": same,
    }


def kill(steps: int) -> dict:
    from distributed import Client

    cluster = local_cluster(2)
    client = Client(cluster)
    try:
        killed = None
        start = time.perf_counter()
        for record in plan(steps).run(client):
            if record.point is not None and killed is None:
                address, pid = next(iter(client.run(os.getpid).items()))
                os.kill(pid, signal.SIGKILL)
                killed = address
                print(f"killed worker {address} (pid {pid}) after {record.done} point(s)")
        wall = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()
    statuses = record.result["status"].values.ravel().tolist()
    print(f"finished {record.done} of {record.total} points in {wall:.1f} s: {set(statuses)}")
    return {"kill_points_done": record.done, "kill_all_done": statuses.count("done") == 12}


def resume(steps: int, workers: int, interrupt_after: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="sweep-resume-"))
    command = [
        sys.executable,
        "-m",
        "workbench.cli",
        "sweep",
        "--problem",
        "convection1d",
        "--grid",
        "beta=" + ",".join(f"{b:g}" for b in BETAS),
        "--seeds",
        ",".join(map(str, SEEDS)),
        *[f"--set={k}={v}" for k, v in NET.items()],
        "--steps",
        str(steps),
        "--lr",
        "5e-3",
        "--eval-every",
        "0",
        "--weight",
        "initial=100",
        "--weight",
        "periodic=100",
        "--workers",
        str(workers),
        "--quiet",
        "--out",
        str(out),
    ]
    print(" ".join(command))
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    points = out / POINTS_DIR
    while first.poll() is None:
        if points.is_dir() and len(list(points.glob("*.nc"))) >= interrupt_after:
            first.send_signal(signal.SIGINT)
            break
        time.sleep(0.2)
    _, err = first.communicate(timeout=120)
    written = len(list(points.glob("*.nc")))
    print(f"first call: exit {first.returncode}, {written} points written")
    print("  " + err.strip().splitlines()[-1])
    second = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    summary = next(line for line in second.stdout.splitlines() if line.startswith("sweep "))
    print(f"second call: exit {second.returncode}: {summary}")
    fields = dict(item.split("=", 1) for item in summary.split()[1:])
    stored = xr.open_dataset(out / "sweep.nc")
    return {
        "resume_first_exit": first.returncode,
        "resume_written_first": written,
        "resume_ran": int(fields["ran"]),
        "resume_reused": int(fields["reused"]),
        "resume_done": int((stored["status"] == "done").sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="speedup,kill,resume", help="comma-separated parts")
    parser.add_argument("--steps", type=int, default=1500, help="Adam steps per point")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    parser.add_argument("--interrupt-after", type=int, default=5, help="points before Ctrl-C")
    parser.add_argument("--out", default="", help="NetCDF file for the results (optional)")
    args = parser.parse_args()
    parts = args.only.split(",")
    unknown = set(parts) - {"speedup", "kill", "resume"}
    if unknown:
        parser.error(f"--only: unknown part(s) {sorted(unknown)}; allowed: speedup, kill, resume")
    results = {}
    if "speedup" in parts:
        results.update(speedup(args.steps, args.workers))
    if "kill" in parts:
        results.update(kill(args.steps))
    if "resume" in parts:
        results.update(resume(args.steps, args.workers, args.interrupt_after))
    print()
    print(f"{'quantity':<24} value")
    for key, value in results.items():
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        print(f"{key:<24} {shown}")
    if args.out:
        xr.Dataset(
            {k: ((), int(v) if isinstance(v, bool) else v) for k, v in results.items()},
            attrs={"steps": args.steps, "workers": args.workers, "threads_per_worker": 1},
        ).to_netcdf(args.out, engine="h5netcdf")


if __name__ == "__main__":
    main()
