"""The workbench's default path side by side with its peers: DeepXDE and neuraloperator.

Each run is a child process of its own (1 torch thread), interleaved per seed so that load on
a shared machine hits both sides alike, and reports its training's wall time, CPU time
(``process_time`` plus the compiler processes it waited for: inductor's C++ builds count),
peak resident memory, compile cost ("1st step s": the wall time from ``train()``'s call to
its first record, which holds data preparation and, when compiled, the compile) and error.
The steady-state rates leave out the first 20 % of the steps. Rates are steps per wall second
and per CPU second; ratios are the workbench's rate over the peer's, per seed, then the median.

Cases (each needs its peer importable; otherwise it prints a note and is skipped):

- ``burgers``: DeepXDE's Burgers example (2-[20]x3-1 tanh, Glorot normal, 2540 interior /
  80 boundary / 160 initial points, Adam 1e-3 constant), ``--steps`` Adam steps, against
  ``fit(Burgers1D(), PINN(...), steps=..., lr=1e-3, schedule="constant")`` with no other flag
  (the default path: ``compile="auto"`` compiles a run this long). Error: relative L2 against
  the reference on its 256 x 100 grid.
- ``poisson2d``: DeepXDE's Poisson set-up (2-[50]x4-1 tanh, Glorot uniform, 1200 interior /
  120 boundary points, Adam 1e-3) on the workbench's Poisson2D (-lap u = 2 pi^2 sin sin on the
  unit square, u = 0 on its boundary). DeepXDE also puts its PDE residual on the boundary
  points (1320 residual points against 1200 here).
- ``darcy``: FNO on the same Darcy 32 x 32 data (1000 train / 100 test, generated once and
  handed to both, to the workbench through the ``data`` knob), 20 epochs of batches of 20,
  the same modes kept (12 x 6: 6 per sign along x, 6 along y's half spectrum) and the
  workbench FNO's width chosen so its parameter count is within 5 % of neuraloperator's
  FNO (hidden 32, 4 layers). Both: Adam, lr 1e-2 decaying exponentially to 1e-3, loss the
  mean relative L2 error; error: mean relative L2 error on the 100 test samples.

Peers are installed apart from the workbench's environment so that they cannot replace its
torch, e.g. ``pip install --target /work/peers-site --no-deps deepxde neuraloperator`` plus
their pure-Python dependencies (matplotlib, scikit-learn, scikit-optimize, tensorly,
tensorly-torch, opt-einsum, ...); ``--peers-site`` (default ``$WORKBENCH_PEERS_SITE`` or
``/work/peers-site``) is put on the children's ``PYTHONPATH``.

Usage::

    python benchmarks/peers.py [--cases burgers,poisson2d,darcy] [--seeds 0,1,2]
        [--steps 5000] [--poisson-steps 5000] [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_SITE = os.environ.get("WORKBENCH_PEERS_SITE", "/work/peers-site")

# --- what every child prints ---------------------------------------------------------------
MEASURE = textwrap.dedent(
    """
    import json, resource, time
    def _children_cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime
    class Clock:
        def __init__(self):
            self.wall, self.cpu = time.perf_counter(), time.process_time()
            self.kids = _children_cpu()
        def read(self):
            return (time.perf_counter() - self.wall,
                    time.process_time() - self.cpu + _children_cpu() - self.kids)
    def report(**values):
        values["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("RESULT " + json.dumps(values))
    """
)

#: DeepXDE's Burgers example (examples/pinn_forward/Burgers.py), Adam only.
DEEPXDE_BURGERS = textwrap.dedent(
    """
    import os, sys
    os.environ["DDE_BACKEND"] = "pytorch"
    import numpy as np, torch
    torch.set_num_threads(1)
    import deepxde as dde
    steps, seed, grid_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dde.config.set_random_seed(seed)
    geomtime = dde.geometry.GeometryXTime(
        dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))
    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - 0.01 / np.pi * dy_xx
    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_b: on_b)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_i: on_i)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic],
                            num_domain=2540, num_boundary=80, num_initial=160)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    clock = Clock()
    model.train(iterations=steps, display_every=steps, verbose=0)
    wall, cpu = clock.read()
    u = model.predict(np.load(grid_path)).reshape(-1)
    report(wall_s=wall, cpu_s=cpu, steady_wall_s=wall, steady_cpu_s=cpu, steps=steps,
           compile_s=0.0, u=u.tolist())
    """
)

#: DeepXDE's Poisson set-up (2-[50]x4-1) on the workbench's Poisson2D problem.
DEEPXDE_POISSON2D = textwrap.dedent(
    """
    import os, sys
    os.environ["DDE_BACKEND"] = "pytorch"
    import numpy as np, torch
    torch.set_num_threads(1)
    import deepxde as dde
    steps, seed, grid_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dde.config.set_random_seed(seed)
    geom = dde.geometry.Rectangle([0, 0], [1, 1])
    def pde(x, y):
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        dy_yy = dde.grad.hessian(y, x, i=1, j=1)
        f = 2 * np.pi**2 * torch.sin(np.pi * x[:, 0:1]) * torch.sin(np.pi * x[:, 1:2])
        return -dy_xx - dy_yy - f
    bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_b: on_b)
    data = dde.data.PDE(geom, pde, bc, num_domain=1200, num_boundary=120)
    net = dde.nn.FNN([2] + [50] * 4 + [1], "tanh", "Glorot uniform")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    clock = Clock()
    model.train(iterations=steps, display_every=steps, verbose=0)
    wall, cpu = clock.read()
    u = model.predict(np.load(grid_path)).reshape(-1)
    report(wall_s=wall, cpu_s=cpu, steady_wall_s=wall, steady_cpu_s=cpu, steps=steps,
           compile_s=0.0, u=u.tolist())
    """
)

#: The workbench's default path on a PINN case: train() drained as fit() does, with the CPU
#: clock read at 20 % of the steps for the steady-state rate (past compile and warm-up).
WORKBENCH_PINN = textwrap.dedent(
    """
    import sys
    import torch
    torch.set_num_threads(1)
    from workbench import PINN, Burgers1D, Poisson2D, train
    case, steps, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if case == "burgers":
        problem = Burgers1D()
        method = PINN(width=20, depth=3, n_interior=2540, n_boundary=80, n_initial=160)
    else:
        problem = Poisson2D()
        method = PINN(width=50, depth=4, n_interior=1200, n_boundary=120)
    clock = Clock()
    mark = None
    first = None
    for record in train(problem, method, steps=steps, lr=1e-3, schedule="constant",
                        eval_every=0, seed=seed):
        if first is None:
            first = clock.read()[0]
        if record.step == steps // 5 and mark is None:
            mark = clock.read()
        if record.done:
            run = record.run
    wall, cpu = clock.read()
    report(wall_s=wall, cpu_s=cpu, steady_wall_s=wall - mark[0], steady_cpu_s=cpu - mark[1],
           steps=steps, steady_steps=steps - steps // 5, compile_s=first,
           l2re=run.l2re, compile=run.attrs["compile"])
    """
)

#: neuraloperator's FNO on the shared Darcy file; prints its parameter count with ``--count``.
NEURALOP_DARCY = textwrap.dedent(
    """
    import sys
    import numpy as np, torch, xarray as xr
    torch.set_num_threads(1)
    from neuralop.models import FNO
    path, seed, epochs, n_test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(seed)
    # n_modes (12, 10): 12 rows of the full x spectrum (6 per sign) and 10 // 2 + 1 = 6
    # columns of the real y spectrum, the 12 x 6 modes the workbench FNO keeps at modes=6.
    model = FNO(n_modes=(12, 10), in_channels=1, out_channels=1, hidden_channels=32, n_layers=4)
    count = sum(p.numel() for p in model.parameters())
    if epochs == 0:
        report(params=count)
        raise SystemExit
    ds = xr.load_dataset(path)
    a = torch.tensor(ds["a"].values, dtype=torch.float32)[:, None]
    u = torch.tensor(ds["u"].values, dtype=torch.float32)[:, None]
    a_test, u_test, a_train, u_train = a[:n_test], u[:n_test], a[n_test:], u[n_test:]
    # Pointwise Gaussian normalisation from the training set (neuraloperator's Darcy recipe).
    am, asd = a_train.mean(0), a_train.std(0) + 1e-6
    um, usd = u_train.mean(0), u_train.std(0) + 1e-6
    def rel(pred, true):
        diff = (pred - true).flatten(1).norm(dim=1)
        return diff / true.flatten(1).norm(dim=1)
    batch, n = 20, len(a_train)
    steps = epochs * (n // batch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.1 ** (1 / max(steps - 1, 1)))
    g = torch.Generator().manual_seed(seed)
    clock = Clock()
    mark = None
    step = 0
    for epoch in range(epochs):
        order = torch.randperm(n, generator=g)
        for i in range(n // batch):
            idx = order[i * batch:(i + 1) * batch]
            pred = model((a_train[idx] - am) / asd) * usd + um
            loss = rel(pred, u_train[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step == steps // 5:
                mark = clock.read()
    wall, cpu = clock.read()
    with torch.no_grad():
        l2re = float(rel(model((a_test - am) / asd) * usd + um, u_test).mean())
    report(wall_s=wall, cpu_s=cpu, steady_wall_s=wall - mark[0], steady_cpu_s=cpu - mark[1],
           steps=steps, steady_steps=steps - steps // 5, compile_s=0.0, l2re=l2re, params=count)
    """
)

#: The workbench's FNO on the same file through the ``data`` knob (the default path otherwise).
WORKBENCH_DARCY = textwrap.dedent(
    """
    import sys
    import torch, xarray as xr
    torch.set_num_threads(1)
    from workbench import FNO, Darcy2D, train
    path, seed, epochs, n_test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    width, projection = int(sys.argv[5]), int(sys.argv[6])
    ds = xr.load_dataset(path)
    n_train = ds.sizes["sample"] - n_test
    method = FNO(data=ds, n_train=n_train, n_test=n_test, batch_size=20, modes=6,
                 width=width, projection=projection)
    problem = Darcy2D()
    if epochs == 0:
        gen = torch.Generator().manual_seed(0)
        method.prepare(problem)
        model = method.build(problem, gen)
        report(params=sum(p.numel() for p in model.parameters()))
        raise SystemExit
    steps = epochs * (n_train // 20)
    clock = Clock()
    mark = None
    first = None
    for record in train(problem, method, steps=steps, lr=1e-2, lr_final=0.1, eval_every=0,
                        seed=seed):
        if first is None:
            first = clock.read()[0]
        if record.step == steps // 5 and mark is None:
            mark = clock.read()
        if record.done:
            run = record.run
    wall, cpu = clock.read()
    report(wall_s=wall, cpu_s=cpu, steady_wall_s=wall - mark[0], steady_cpu_s=cpu - mark[1],
           steps=steps, steady_steps=steps - steps // 5, compile_s=first, l2re=run.l2re,
           compile=run.attrs["compile"])
    """
)


def peer_available(module: str, site: str) -> bool:
    """Whether ``module`` imports in a child with ``site`` on its path (torch and all)."""
    probe = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env=child_env(site),
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        print(f"note: {module} is not importable ({last}); its cases are skipped")
    return probe.returncode == 0


def child_env(site: str | None) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DDE_BACKEND": "pytorch"}
    if site:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH")) if p)
    return env


def run_child(script: str, args: list, site: str | None = None) -> dict:
    """Run ``script`` (after the measuring helpers) in a child; its RESULT line as a dict."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE + script, *map(str, args)],
        capture_output=True,
        text=True,
        env=child_env(site),
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise RuntimeError(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def run_deepxde(case: str, steps: int, seed: int, site: str | None) -> dict:
    """DeepXDE's set-up of ``case`` ("burgers" or "poisson2d") in a child, with its relative
    L2 error against the workbench problem's reference grid."""
    from workbench import Burgers1D, Poisson2D

    problem = Burgers1D() if case == "burgers" else Poisson2D()
    reference = problem.reference()
    points = problem.grid_points({d: reference[d].values for d in problem.dims}).double().numpy()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "grid.npy")
        np.save(path, points)
        script = DEEPXDE_BURGERS if case == "burgers" else DEEPXDE_POISSON2D
        result = run_child(script, [steps, seed, path], site)
    u = np.asarray(result.pop("u")).reshape(reference.shape)
    result["l2re"] = float(np.linalg.norm(u - reference.values) / np.linalg.norm(reference.values))
    return result


def darcy_file(folder: str, n_train: int, n_test: int) -> str:
    """The shared Darcy 32 x 32 samples (the family's generator, seed 0) as a NetCDF file."""
    from workbench import Darcy2D

    ds = Darcy2D().dataset(n_test + n_train, 32, seed=0, progress=False)
    path = os.path.join(folder, "darcy32.nc")
    ds[["a", "u"]].to_netcdf(path, engine="h5netcdf")
    return path


def matching_width(path: str, n_test: int, target: int) -> tuple[int, int, int]:
    """The workbench FNO width (projection 4 x width) whose parameter count is nearest
    ``target``; returns (width, projection, count)."""
    best = None
    for width in range(16, 64):
        projection = 4 * width
        count = run_child(WORKBENCH_DARCY, [path, 0, 0, n_test, width, projection])["params"]
        if best is None or abs(count - target) < abs(best[2] - target):
            best = (width, projection, count)
        if count > target:
            break
    return best


def rates(r: dict) -> dict:
    steady = r.get("steady_steps", r["steps"])
    return {
        "wall": r["steps"] / r["wall_s"],
        "cpu": r["steps"] / r["cpu_s"],
        "steady_wall": steady / r["steady_wall_s"],
        "steady_cpu": steady / r["steady_cpu_s"],
    }


HEAD = (
    f"{'side':<10} {'seed':>4} {'steps/s':>8} {'/CPU-s':>8} {'steady':>8} "
    f"{'st./CPU-s':>9} {'1st step s':>10} {'l2re':>10} {'peak MB':>8}"
)


def print_row(side: str, seed: int, r: dict) -> None:
    k = rates(r)
    print(
        f"{side:<10} {seed:>4} {k['wall']:>8.1f} {k['cpu']:>8.1f} "
        f"{k['steady_wall']:>8.1f} {k['steady_cpu']:>9.1f} {r['compile_s']:>10.1f} "
        f"{r['l2re']:>10.3e} {r['peak_mb']:>8.0f}",
        flush=True,
    )


def print_case(name: str, ours: list[dict], theirs: list[dict], peer: str, seeds) -> None:
    print(f"\n{name}: workbench default path vs {peer}")
    print(HEAD)
    for side, rows in (("workbench", ours), (peer, theirs)):
        for seed, r in zip(seeds, rows):
            print_row(side, seed, r)
    if ours and "compile" in ours[0]:
        print(f"workbench compile decision: {ours[0]['compile']}")
    for label, key in (
        ("wall, incl. compile", "wall"),
        ("CPU, incl. compile", "cpu"),
        ("steady wall", "steady_wall"),
        ("steady CPU", "steady_cpu"),
    ):
        ratios = [rates(a)[key] / rates(b)[key] for a, b in zip(ours, theirs)]
        listed = ", ".join(f"{x:.2f}x" for x in ratios)
        print(f"  speed ratio {label:<20} median {np.median(ratios):.2f}x  ({listed})")
    print(
        f"  l2re median: workbench {np.median([r['l2re'] for r in ours]):.3e}, "
        f"{peer} {np.median([r['l2re'] for r in theirs]):.3e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="burgers,poisson2d,darcy")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=5000, help="Burgers Adam steps")
    parser.add_argument("--poisson-steps", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=20, help="FNO Darcy epochs")
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--peers-site", default=DEFAULT_SITE)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cases = args.cases.split(",")
    site = args.peers_site if os.path.isdir(args.peers_site) else None
    import torch

    print(
        f"torch {torch.__version__}, 1 thread per run, seeds {seeds}; peers from {site}; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    started = time.perf_counter()
    if {"burgers", "poisson2d"} & set(cases) and peer_available("deepxde", site):
        for case, steps in (("burgers", args.steps), ("poisson2d", args.poisson_steps)):
            if case not in cases:
                continue
            ours, theirs = [], []
            for seed in seeds:
                # Interleaved per seed: the same load hits both sides.
                ours.append(run_child(WORKBENCH_PINN, [case, steps, seed]))
                theirs.append(run_deepxde(case, steps, seed, site))
                # Each seed's rows at once: a long benchmark cut short keeps what it measured.
                print(f"  {case} seed {seed} ({time.perf_counter() - started:.0f} s): {HEAD}")
                print_row("  workbench", seed, ours[-1])
                print_row("  deepxde", seed, theirs[-1])
            print_case(f"{case}, {steps} Adam steps", ours, theirs, "deepxde", seeds)
    if "darcy" in cases and peer_available("neuralop", site):
        with tempfile.TemporaryDirectory() as folder:
            path = darcy_file(folder, args.n_train, args.n_test)
            target = run_child(NEURALOP_DARCY, [path, 0, 0, args.n_test], site)["params"]
            width, projection, count = matching_width(path, args.n_test, target)
            print(
                f"\ndarcy: neuraloperator FNO {target} parameters; workbench FNO width {width}, "
                f"projection {projection}: {count} ({count / target - 1:+.1%}), modes 12 x 6"
            )
            ours, theirs = [], []
            for seed in seeds:
                common = [path, seed, args.epochs, args.n_test]
                ours.append(run_child(WORKBENCH_DARCY, [*common, width, projection]))
                theirs.append(run_child(NEURALOP_DARCY, common, site))
                print(f"  darcy seed {seed} ({time.perf_counter() - started:.0f} s): {HEAD}")
                print_row("  workbench", seed, ours[-1])
                print_row("  neuralop", seed, theirs[-1])
            print_case(f"darcy 32x32 FNO, {args.epochs} epochs", ours, theirs, "neuralop", seeds)
    print(
        f"\ntotal {time.perf_counter() - started:.0f} s; this process's peak "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
