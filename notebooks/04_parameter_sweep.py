# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Parameter sweeps: where does a plain PINN stop working?
#
# Notebook 02 showed a plain PINN failing on linear convection at $\beta = 30$, and R3 sampling
# fixing it. One run at one $\beta$ says little about *where* the failure starts, or whether
# it was bad luck with the seed. That takes many runs: every $\beta$, a few seeds, with and
# without the fix. This notebook asks the question with one call to `sweep()`:
#
# * every point of the grid is an ordinary `fit()`;
# * the points run in parallel on Dask (a `LocalCluster` on this machine here; an existing
#   cluster works the same through its scheduler address);
# * the answer is one `xarray.Dataset` with a dimension per swept knob.
#
# $$ u_t + \beta u_x = 0, \quad x \in [0, 2\pi],\ t \in [0, 1], \qquad u(x, 0) = \sin x,
#    \quad u \text{ periodic in } x, \qquad u = \sin(x - \beta t). $$

# %%
import os
import tempfile
import time
from pathlib import Path

import holoviews as hv
import xarray as xr

from workbench import PINN, Convection1D, sweep
from workbench.views import sweep_curve, sweep_heatmap, sweep_point

hv.extension("bokeh", inline=True)

SMALL = os.environ.get("WORKBENCH_SMALL", "0") == "1"
STEPS = 40 if SMALL else 8000  # Adam steps per point (lr 5e-3 decaying to 5e-4)
BETAS = [1.0, 20.0] if SMALL else [1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0]
SEEDS = [0] if SMALL else [0, 1]
NET = dict(width=8, depth=1) if SMALL else dict(width=32, depth=3)
POINTS = dict(n_interior=64 if SMALL else 500, n_initial=128, n_boundary=64)
WORKERS = 2  # LocalCluster worker processes, one torch thread each
# Finished points are kept here; running the notebook again reads them back.
OUT = Path(tempfile.mkdtemp()) / "beta" if SMALL else Path("runs") / "04-beta-sweep"
print(f"SMALL={SMALL}, results in {OUT}")

# %% [markdown]
# ## 1. One sweep over $\beta$ and seeds
#
# The grid names knobs the way `workbench run --set` does: `beta` belongs to the problem,
# `seed` to the training (any knob of the problem, the method, the training or a
# regularizer can be swept). Each point is a 3x32 tanh PINN trained for the same number of
# Adam steps, with the initial and periodic conditions weighted 100 as in notebook 02.

# %%
problem = Convection1D()
plain = PINN(**NET, **POINTS, sampler="fixed")
TRAINING = dict(steps=STEPS, lr=5e-3, lr_final=0.1, weights={"initial": 100.0, "periodic": 100.0})

start = time.perf_counter()
ds = sweep(
    problem,
    plain,
    grid={"beta": BETAS, "seed": SEEDS},
    workers=WORKERS,
    out=OUT,
    fields=True,
    **TRAINING,
)
print(f"{ds.attrs['points']} points in {time.perf_counter() - start:.0f} s")
ds[["l2re", "wall_s", "status"]]

# %% [markdown]
# The result is plain xarray: `beta` and `seed` are coordinates (with the knob's doc as
# `long_name`), every metric a variable over them. Select, reduce and plot as with any
# Dataset:

# %%
ds["l2re"].median("seed").to_pandas()

# %% [markdown]
# ## 2. Where the edge is
#
# `sweep_curve` draws a metric against one knob: the line is the median over seeds, the band
# spans the best to the worst seed, and each seed is a dot.

# %%
sweep_curve(ds)

# %% [markdown]
# ## 3. Look at one point
#
# With `fields=True` every point keeps its prediction, reference, error and residual, so a
# surprising value can be looked at right away. Here the first $\beta$ at which the plain
# PINN's median error passes 0.3:

# %%
failing = ds["beta"].where(ds["l2re"].median("seed") > 0.3, drop=True)
beta_fail = float(failing[0]) if failing.size else float(ds["beta"][-1])
sweep_point(ds, beta=beta_fail, seed=SEEDS[0])

# %% [markdown]
# ## 4. A fix moves the edge: R3 sampling
#
# R3 (notebook 02) keeps the collocation points whose residual is above average and redraws
# the rest, so points pile up where the PINN is wrong. Sweeping the `sampler` knob as well
# adds a dimension. The `fixed` points are the very same trainings as above, and the sweep
# writes to the same folder, so only the R3 points run: a sweep reuses every finished point
# it finds in `out` (the same happens after Ctrl-C, a crash, or a killed worker).

# %%
start = time.perf_counter()
both = sweep(
    problem,
    plain,
    grid={"beta": BETAS, "sampler": ["fixed", "r3"], "seed": SEEDS},
    workers=WORKERS,
    out=OUT,
    fields=True,
    **TRAINING,
)
print(f"{both.attrs['points']} points, {time.perf_counter() - start:.0f} s (R3 points only)")
# The fixed-point values are the ones read back, not new trainings:
xr.testing.assert_equal(both["l2re"].sel(sampler="fixed", drop=True), ds["l2re"])
sweep_curve(both)

# %% [markdown]
# The edge, per sampler: the largest $\beta$ at which the median error is still below 0.1.

# %%
median = both["l2re"].median("seed")
edge = both["beta"].where(median < 0.1).max("beta")  # NaN: not even the smallest beta
print({str(s): float(edge.sel(sampler=s)) for s in both["sampler"].values})
median.to_pandas()

# %% [markdown]
# The same numbers as a heatmap (`sweep_heatmap`), here of the wall time: R3's point updates
# cost a residual evaluation per step.

# %%
sweep_heatmap(both, "wall_s", x="beta", y="sampler")

# %% [markdown]
# ## What we measured
#
# At full size (8000 Adam steps per point, a 3x32 network, 500 collocation points, 2 seeds;
# 32 trainings of 42-50 s each on a 2-worker LocalCluster) the median relative L2 error was:
#
# | $\beta$ | 1 | 5 | 10 | 15 | 20 | 25 | 30 | 40 |
# |---|---|---|---|---|---|---|---|---|
# | fixed points | 0.019 | 0.048 | 0.042 | 0.126 | 0.378 | 0.733 | 0.752 | 0.967 |
# | R3 | 0.017 | 0.035 | 0.009 | 0.031 | 0.021 | 0.425 | 0.652 | 0.747 |
#
# The plain PINN is below 0.1 up to $\beta = 10$ and fails from 20 on; R3, with the same
# network and budget, moves that edge to $\beta = 20$. With more steps both edges move right:
# notebook 02's 12000-step 4x50 PINN with R3 reaches 0.036 at $\beta = 30$.
#
# ## Scaling out
#
# * `sweep(..., scheduler="tcp://HOST:8786")` runs the points on an existing Dask cluster
#   (start one with `dask scheduler` and `dask worker tcp://HOST:8786 --nthreads 1`).
# * From a shell, the same sweep:
#
#   ```bash
#   workbench sweep --problem convection1d --method pinn --grid beta=1,10,20,30,40,50 \
#       --grid sampler=fixed,r3 --seeds 0,1,2 --out runs/beta
#   ```
#
#   prints a table of the points; Ctrl-C keeps the finished ones, and the same command
#   again runs only the rest.
# * In the app (`workbench serve`), the **Sweeps** tab sweeps one knob of the current set-up
#   and fills the plot in as points finish.
#
# Things to try: sweep `width` or `n_interior` at $\beta = 30$ (is the failure about
# capacity or about points?), `lr` on a log grid, or `causal_eps` for causal weighting.
