"""Latent generative models on the pendulum: is the physics latent the physics?

Rows (torch on one thread, seed 0, data seed 0):

``phys_vae``, ``vae``
    1000 training and 200 test trajectories of the damped pendulum (omega in [0.785, 3.14],
    gamma in [0, 0.8], theta0 in [-1.57, 1.57], 50 steps of 0.05, observation noise 0.01 as in
    the Phys-VAE paper), batch 100, Adam.

Columns: ``|corr|``, the absolute correlation of the inferred physical latent (the encoder's
mean of omega) with the true omega on the test set (for ``vae``, the best of its latent dims);
``recon``, the test reconstruction's mean relative L2 error; ``ood``, the same on 200
trajectories with omega in [3.14, 4.71] (outside training); ``wall s``.

Usage::

    python benchmarks/latent.py [--steps 4000] [--widen 2] [--out benchmarks/latent.nc]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from workbench import fit
from workbench.methods import VAE, PhysVAE
from workbench.problems import PROBLEMS

DATA = {"n_train": 1000, "n_test": 200, "batch_size": 100}


def row(method, steps: int) -> dict:
    problem = PROBLEMS["pendulum"](noise=0.01)
    method.prepare(problem)
    start = time.process_time()
    run = fit(problem, method, steps=steps, lr=1e-3, eval_every=0, progress=False, seed=0)
    cpu = time.process_time() - start
    latent = run.tree["latent"].to_dataset()
    corr = [
        abs(np.corrcoef(latent["z_mean"].values[:, i], latent["omega"].values)[0, 1])
        for i in range(latent.sizes["latent"])
    ]
    outside = PROBLEMS["pendulum"](noise=0.01, omega_min=3.14, omega_max=4.71)
    ood = method.reconstructions(run.model, outside, outside.dataset(200, seed=1))
    return {
        "|corr|": corr[0] if isinstance(method, PhysVAE) else max(corr),
        "recon": run.l2re,
        "ood": ood.attrs["l2re"],
        "wall s": run.attrs["wall_s"],
        "cpu s": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument(
        "--widen",
        type=float,
        default=PhysVAE.param.augment_widen.default,
        help="phys_vae's augment_widen (1 = the paper's augmentation range)",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    cases = {"phys_vae": PhysVAE(**DATA, augment_widen=args.widen), "vae": VAE(**DATA)}
    header = f"{'case':<10} {'|corr|':>8} {'recon':>8} {'ood':>8} {'wall s':>8} {'cpu s':>8}"
    print("torch threads pinned to 1\n" + header + "\n" + "-" * len(header), flush=True)
    rows = {}
    for label, method in cases.items():
        r = rows[label] = row(method, args.steps)
        print(
            f"{label:<10} {r['|corr|']:>8.3f} {r['recon']:>8.4f} {r['ood']:>8.4f} "
            f"{r['wall s']:>8.1f} {r['cpu s']:>8.1f}",
            flush=True,
        )
    ratio = rows["phys_vae"]["ood"] / rows["vae"]["ood"]
    print(f"out-of-distribution reconstruction error, phys_vae / vae: {ratio:.3f}")
    if args.out:
        labels = list(rows)
        xr.Dataset(
            {k: ("case", np.array([rows[c][k] for c in labels])) for k in rows[labels[0]]},
            coords={"case": labels},
        ).to_netcdf(args.out, engine="h5netcdf")


if __name__ == "__main__":
    main()
