"""Navier-Stokes in 2D: the classical solvers' accuracy, and FNO one step ahead on Kolmogorov flow.

Sections (``--only``, comma separated):

``taylor``
    The pseudo-spectral vorticity solver (``workbench.numerics.navier_stokes``) on the
    Taylor-Green vortex ``w = 2k cos(kx) cos(ky) exp(-2 nu k^2 t)`` (advection vanishes, so
    ETDRK4 is exact up to rounding): max error of w, u, v at t = 2. Then the measured order in
    time on a nonlinear flow (random vorticity, Kolmogorov forcing k_f = 4, drag 0.1,
    nu = 0.05, 32 x 32, t = 1) against dt = 1/512: max error and log2 of successive ratios.
``cavity``
    The steady lid-driven cavity (``workbench.numerics.cavity``) at Re = 100 on 33, 65, 129 and
    257 nodes: max |u - Ghia| and |v - Ghia| along the centrelines over the 17 points of Ghia,
    Ghia & Shin (1982) Tables I-II, divided by the lid speed (1); the grid-convergence of our
    own solution (max difference of u, v on the 33-node grid between successive grids and the
    rate log2 of their ratio; psi_min and its Richardson rate); Newton steps and CPU seconds.
    Also Re = 1000 (129 nodes) extrema against Ghia's.
``kolmogorov``
    ``kolmogorov2d`` at the defaults (nu = 0.03, drag 0.1, k_f = 4, spin-up 5, dt = 1): time to
    generate the 1100 samples at 32 x 32 (no cache), then FNO (``--modes`` 12 per sign, width
    32, 4 layers, ``--projection`` 128: the FNO paper's sizes) through ``fit()`` on 1000
    samples for ``--epochs`` (50) epochs of batch 20, Adam
    1e-3 with a cosine schedule and weight decay 1e-4, one torch thread: the one-step test l2re
    (100 samples), the same at 64 x 64 (the test functions' interpolants; resolution
    transfer), and the autoregressive rollout (``Operator.rollout``) of 100 fresh trajectories
    (seed 1) against the solver: mean relative L2 error after 1, 2, 5 and 10 steps, and the
    same for persistence (predicting no change) as a yardstick.

Usage::

    python benchmarks/navier_stokes.py [--only taylor,cavity,kolmogorov] [--epochs 50]
                                       [--modes 12] [--projection 128]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from workbench import fit
from workbench.methods import FNO
from workbench.methods.family import relative_errors
from workbench.numerics.cavity import GHIA_RE100_U, GHIA_RE100_V, centrelines, solve_cavity
from workbench.numerics.navier_stokes import kolmogorov_forcing, solve_vorticity
from workbench.problems import PROBLEMS
from workbench.regularizers import WeightDecay

L = 2.0 * np.pi


def cpu_timed(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def taylor() -> None:
    print("## Taylor-Green vortex (32 x 32, nu = 0.05, dt = 0.02, t = 2)")
    print(f"{'k':>3} {'max|w err|':>12} {'max|u err|':>12} {'max|v err|':>12}")
    n, nu = 32, 0.05
    x = L * np.arange(n) / n
    gx, gy = np.meshgrid(x, x, indexing="ij")
    for k in (1, 2, 4):
        w0 = 2 * k * np.cos(k * gx) * np.cos(k * gy)
        state = solve_vorticity(w0, nu, 0.02, [2.0])
        decay = np.exp(-2.0 * nu * k**2 * 2.0)
        errors = [
            np.abs(state.w[..., 0] - w0 * decay).max(),
            np.abs(state.u[..., 0] + np.cos(k * gx) * np.sin(k * gy) * decay).max(),
            np.abs(state.v[..., 0] - np.sin(k * gx) * np.cos(k * gy) * decay).max(),
        ]
        print(f"{k:>3} " + " ".join(f"{e:>12.2e}" for e in errors))

    print("\n## Order in time (nonlinear, forced: k_f = 4, drag 0.1, nu = 0.05, t = 1)")
    rng = np.random.default_rng(0)
    spectrum = np.zeros((n, n // 2 + 1), dtype=complex)
    spectrum[:5, :5] = rng.standard_normal((5, 5)) + 1j * rng.standard_normal((5, 5))
    w0 = np.fft.irfft2(spectrum, (n, n))
    w0 *= 3.0 / np.abs(w0).max()
    kwargs = {"forcing": kolmogorov_forcing(n, 4), "drag": 0.1}
    reference = solve_vorticity(w0, nu, 1 / 512, [1.0], **kwargs).w[..., 0]
    print(f"{'steps':>6} {'dt':>9} {'max err':>10} {'order':>6}")
    previous = None
    for steps in (8, 16, 32, 64):
        w = solve_vorticity(w0, nu, 1 / steps, [1.0], **kwargs).w[..., 0]
        err = np.abs(w - reference).max()
        order = f"{np.log2(previous / err):6.2f}" if previous else " " * 6
        print(f"{steps:>6} {1 / steps:>9.5f} {err:>10.2e} {order}")
        previous = err


def cavity() -> None:
    print("## Lid-driven cavity, Re = 100, against Ghia, Ghia & Shin (1982)")
    print(
        f"{'nodes':>6} {'max|du|/U':>10} {'max|dv|/U':>10} {'psi_min':>10} {'steps':>6} "
        f"{'cpu s':>7}"
    )
    flows = {}
    for n in (33, 65, 129, 257):
        flow, cpu = cpu_timed(lambda n=n: solve_cavity(n, 100.0))
        flows[n] = flow
        u, v = centrelines(flow)
        du = np.abs(u - GHIA_RE100_U[:, 1]).max()
        dv = np.abs(v - GHIA_RE100_V[:, 1]).max()
        print(
            f"{n:>6} {du:>10.4f} {dv:>10.4f} {flow.psi.min():>10.6f} {flow.iterations:>6} "
            f"{cpu:>7.2f}"
        )
    print("\n## Grid convergence of our solution (u, v on the 33-node grid)")
    print(f"{'grids':>12} {'max diff':>10} {'rate':>6} {'psi_min diff':>13} {'rate':>6}")
    nodes = sorted(flows)
    previous = previous_psi = None
    for a, b in zip(nodes, nodes[1:]):
        sa, sb = (n // 32 for n in (a, b))
        diff = max(
            np.abs(flows[a].u[::sa, ::sa] - flows[b].u[::sb, ::sb]).max(),
            np.abs(flows[a].v[::sa, ::sa] - flows[b].v[::sb, ::sb]).max(),
        )
        dpsi = abs(flows[a].psi.min() - flows[b].psi.min())
        rate = f"{np.log2(previous / diff):6.2f}" if previous else " " * 6
        rate_psi = f"{np.log2(previous_psi / dpsi):6.2f}" if previous_psi else " " * 6
        print(f"{f'{a}->{b}':>12} {diff:>10.2e} {rate} {dpsi:>13.2e} {rate_psi}")
        previous, previous_psi = diff, dpsi

    print("\n## Re = 1000, 129 nodes: centreline extrema (Ghia 129 x 129 in brackets)")
    flow, cpu = cpu_timed(lambda: solve_cavity(129, 1000.0))
    print(
        f"u_min {flow.u[64].min():.4f} (-0.38289)  v_min {flow.v[:, 64].min():.4f} (-0.51550)"
        f"  v_max {flow.v[:, 64].max():.4f} (0.37095)  steps {flow.iterations}  cpu {cpu:.1f} s"
    )


def kolmogorov(epochs: int, modes: int, projection: int) -> None:
    torch.set_num_threads(1)
    problem = PROBLEMS["kolmogorov2d"]()
    print("## kolmogorov2d (defaults), 32 x 32")
    data, cpu = cpu_timed(lambda: problem.dataset(1100, 32, seed=0, cache=False, progress=False))
    change = relative_errors(torch.as_tensor(data["w0"].values), torch.as_tensor(data["u"].values))
    print(f"generate 1100 samples: {cpu:.1f} cpu s; persistence l2re {float(change.mean()):.4f}")
    # Put the freshly made data in the cache for the method.
    problem.dataset(1100, 32, seed=0, progress=False)

    method = FNO(
        resolution=32, n_train=1000, n_test=100, batch_size=20, modes=modes, projection=projection
    )
    method.prepare(problem)
    steps = epochs * method.steps_per_epoch()
    run, cpu = cpu_timed(
        lambda: fit(
            problem,
            method,
            [WeightDecay(weight=1e-4)],
            steps=steps,
            eval_every=0,
            progress=False,
            lr=1e-3,
            schedule="cosine",
            threads=1,
            seed=0,
        )
    )
    transfer = run.transfer
    print(
        f"FNO modes {modes}, projection {projection}, {epochs} epochs ({steps} steps): "
        f"one-step test l2re {run.l2re:.4f}, "
        f"at 64 x 64 {float(transfer['rel_l2'].mean()):.4f}; train {cpu:.0f} cpu s"
    )

    horizon = 10
    traj = problem.trajectories(100, horizon, 32, seed=1)["w"]
    rolled = method.rollout(run.model, problem, traj.isel(t=0).values, horizon)
    print(f"\n## Rollout of 100 trajectories (seed 1), dt = {problem.dt:g} per step")
    print(f"{'step':>5} {'t':>6} {'FNO l2re':>9} {'persist.':>9}")
    start = torch.as_tensor(traj.isel(t=0).values)
    for k in (1, 2, 3, 5, 10):
        truth = torch.as_tensor(traj.isel(t=k).values)
        err = relative_errors(torch.as_tensor(rolled.isel(t=k).values), truth).mean()
        still = relative_errors(start, truth).mean()
        print(f"{k:>5} {k * problem.dt:>6.1f} {float(err):>9.4f} {float(still):>9.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="taylor,cavity,kolmogorov")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--modes", type=int, default=12)
    parser.add_argument("--projection", type=int, default=128)
    args = parser.parse_args()
    chosen = args.only.split(",")
    if "taylor" in chosen:
        taylor()
        print()
    if "cavity" in chosen:
        cavity()
        print()
    if "kolmogorov" in chosen:
        kolmogorov(args.epochs, args.modes, args.projection)


if __name__ == "__main__":
    main()
