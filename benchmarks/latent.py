"""Latent generative models: is the physics latent the physics, how small is a latent space,
and does a function-space VAE work at another resolution?

Three tables (torch on one thread, seed 0, data seed 0), chosen with ``--only``:

``physics``: ``phys_vae`` and ``vae`` on the damped pendulum
    1000 training and 200 test trajectories (omega in [0.785, 3.14], gamma in [0, 0.8],
    theta0 in [-1.57, 1.57], 50 steps of 0.05, observation noise 0.01 as in the Phys-VAE
    paper), batch 100, Adam 1e-3. Rows: ``phys_vae`` with its defaults, ``phys_vae (paper)``
    with the paper's augmentation (physics-only signals from the data's own parameter range,
    weight 1), and
    the plain ``vae``. Columns: ``|corr|``, the absolute correlation of the inferred physical
    latent (the encoder's mean of omega) with the true omega on the test set (for ``vae`` the
    best of its latent dims); ``recon``, the test reconstructions' mean relative L2 error;
    ``ood``, the same for 200 trajectories with omega in [3.14, 4.71], outside training (the
    Run's ``/latent`` ``ood_*``); ``wall s`` and ``cpu s``.

``volume``: Least Volume on data with two true factors
    The pendulum with gamma = 0 (two factors: omega and theta0, plus the noise), a ``vae``
    with 8 latent dims and a 1-Lipschitz decoder trained as an autoencoder (KL weight 0),
    with and without ``least_volume``. ``active``: latent dims whose spread (standard
    deviation of the test encodings) is above 1% of the largest; the sorted spreads relative
    to the largest.

``vano``: VANO on Gaussian random fields
    The random periodic initial conditions ``u0`` of the ``burgers1d`` family on 128 points
    (1000 training and 100 test functions), batch 32, Adam from 3e-3 decaying to 3e-4,
    ``--vano-steps`` steps; ``l2re@128`` is the test reconstructions' mean relative L2 error
    at the training resolution, ``l2re@256`` the same functions given and decoded on 256
    points.

Usage::

    python benchmarks/latent.py [--steps 4000] [--vano-steps 20000] [--only physics,volume,vano]
                                [--cases phys_vae,vae] [--out latent.nc]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import xarray as xr

from workbench import fit
from workbench.methods import METHODS, VAE, PhysVAE
from workbench.problems import PROBLEMS
from workbench.regularizers import LeastVolume

DATA = {"n_train": 1000, "n_test": 200, "batch_size": 100}


def physics_row(method, steps: int, weights: dict | None = None) -> dict:
    problem = PROBLEMS["pendulum"](noise=0.01)
    method.prepare(problem)
    start = time.process_time()
    run = fit(
        problem, method, steps=steps, lr=1e-3, eval_every=0, progress=False, seed=0, weights=weights
    )
    cpu = time.process_time() - start
    latent = run.tree["latent"].to_dataset()
    corr = [
        abs(np.corrcoef(latent["z_mean"].values[:, i], latent["omega"].values)[0, 1])
        for i in range(latent.sizes["latent"])
    ]
    return {
        "|corr|": corr[0] if isinstance(method, PhysVAE) else max(corr),
        "recon": run.l2re,
        "ood": latent.attrs["ood_l2re"],
        "wall s": run.attrs["wall_s"],
        "cpu s": cpu,
    }


def volume_row(weight: float, steps: int) -> dict:
    problem = PROBLEMS["pendulum"](noise=0.01, gamma_min=0.0, gamma_max=0.0)
    method = VAE(**DATA, latent=8, lipschitz=True)
    method.prepare(problem)
    regularizers = [LeastVolume(weight=weight)] if weight else []
    run = fit(
        problem,
        method,
        regularizers,
        weights={"kl": 0.0},
        steps=steps,
        lr=1e-3,
        eval_every=0,
        progress=False,
        seed=0,
    )
    spread = np.sort(run.tree["latent"]["z_mean"].std("sample").values)[::-1]
    return {
        "active": int((spread > 0.01 * spread[0]).sum()),
        "recon": run.l2re,
        "spreads": spread / spread[0],
        "wall s": run.attrs["wall_s"],
    }


def vano_row(steps: int) -> dict:
    problem = PROBLEMS["burgers1d"]()
    method = METHODS["vano"](n_train=1000, n_test=100, batch_size=32)
    method.prepare(problem)
    run = fit(
        problem,
        method,
        steps=steps,
        lr=3e-3,
        lr_final=0.1,
        eval_every=0,
        progress=False,
        seed=0,
    )
    resolution = method.data_resolution(problem)
    fine = problem.dataset(method.n_test, 2 * resolution, method.data_seed, progress=False)
    return {
        "res": resolution,
        "l2re@res": run.l2re,
        "l2re@2res": method.reconstructions(run.model, problem, fine).attrs["l2re"],
        "wall s": run.attrs["wall_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--volume-weight", type=float, default=30.0)
    parser.add_argument("--vano-steps", type=int, default=20000)
    parser.add_argument("--only", default="physics,volume,vano")
    parser.add_argument(
        "--cases",
        default="phys_vae,phys_vae (paper),vae",
        help="rows of the physics table (to split it over processes)",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    groups = set(args.only.split(","))
    print("torch threads pinned to 1, seed 0, data seed 0", flush=True)
    out = {}

    if "physics" in groups:
        # The paper's augmentation: physics-only signals from the data's own range, weight 1.
        paper = PhysVAE(**DATA, augment_widen=1.0, augment_dynamics=False)
        cases = {
            "phys_vae": (PhysVAE(**DATA), None),
            "phys_vae (paper)": (paper, {"augmentation": 1.0}),
            "vae": (VAE(**DATA), None),
        }
        cases = {k: v for k, v in cases.items() if k in args.cases.split(",")}
        header = f"{'case':<18} {'|corr|':>8} {'recon':>8} {'ood':>8} {'wall s':>8} {'cpu s':>8}"
        print("\n" + header + "\n" + "-" * len(header), flush=True)
        rows = {}
        for label, (method, weights) in cases.items():
            r = rows[label] = physics_row(method, args.steps, weights)
            print(
                f"{label:<18} {r['|corr|']:>8.3f} {r['recon']:>8.4f} {r['ood']:>8.4f} "
                f"{r['wall s']:>8.1f} {r['cpu s']:>8.1f}",
                flush=True,
            )
        for label in ("phys_vae", "phys_vae (paper)"):
            if label in rows and "vae" in rows:
                ratio = rows[label]["ood"] / rows["vae"]["ood"]
                print(f"out-of-range reconstruction error, {label} / vae: {ratio:.3f}")
        first = next(iter(rows.values()))
        out["physics"] = xr.Dataset(
            {k: ("case", [rows[c][k] for c in rows]) for k in first},
            coords={"case": list(rows)},
        )

    if "volume" in groups:
        header = f"{'case':<22} {'active':>6} {'recon':>8} {'wall s':>8}  spreads / largest"
        print("\n" + header + "\n" + "-" * len(header), flush=True)
        rows = {}
        for label, weight in [("vae, no volume", 0.0), ("vae + least_volume", args.volume_weight)]:
            r = rows[label] = volume_row(weight, args.steps)
            spreads = " ".join(f"{s:.1e}" for s in r["spreads"])
            print(
                f"{label:<22} {r['active']:>6d} {r['recon']:>8.4f} {r['wall s']:>8.1f}  {spreads}",
                flush=True,
            )
        out["volume"] = xr.Dataset(
            {
                "active": ("case", [r["active"] for r in rows.values()]),
                "recon": ("case", [r["recon"] for r in rows.values()]),
                "spreads": (("case", "rank"), np.stack([r["spreads"] for r in rows.values()])),
            },
            coords={"case": list(rows)},
        )

    if "vano" in groups:
        r = vano_row(args.vano_steps)
        res = r["res"]
        header = f"{'case':<22} {f'l2re@{res}':>10} {f'l2re@{2 * res}':>10} {'wall s':>8}"
        print("\n" + header + "\n" + "-" * len(header))
        print(
            f"{'vano, burgers1d u0':<22} {r['l2re@res']:>10.4f} {r['l2re@2res']:>10.4f} "
            f"{r['wall s']:>8.1f}",
            flush=True,
        )
        out["vano"] = xr.Dataset({k: v for k, v in r.items() if k != "res"}, attrs={"res": res})

    if args.out:
        for i, (group, ds) in enumerate(out.items()):
            ds.to_netcdf(args.out, mode="w" if i == 0 else "a", group=group, engine="h5netcdf")


if __name__ == "__main__":
    main()
