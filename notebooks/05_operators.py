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
# # Neural operators: learning a whole family of PDEs
#
# A PINN solves **one** PDE: one coefficient field, one source, one answer. A neural operator
# learns the **map** from an input function to the solution, for a whole family at once. Once
# trained, a new coefficient field costs one forward pass instead of a solve.
#
# The family here is Darcy flow on the unit square (the FNO paper's benchmark):
#
# $$ -\nabla\cdot\big(a(x, y)\,\nabla u\big) = 1, \qquad u = 0 \text{ on the boundary}, $$
#
# with a permeability $a$ that is 12 where a Gaussian random field is positive and 3 elsewhere.
# Every sample is a different $a$; a finite-difference solver gives the matching $u$. We learn
# $a \mapsto u$ with three operators:
#
# | method | idea |
# |---|---|
# | `fno` | Fourier layers: a learned map on the lowest Fourier modes, plus a pointwise one |
# | `deeponet` | a branch net reads $a$ at sensors, a trunk net reads $(x, y)$; inner product |
# | `multionet` | a DeepONet that also sums inner products from earlier layers (DGNO) |
#
# Then two questions a solver can't ask: does the operator work on a finer grid than it was
# trained on, and can the PDE itself stand in for missing solutions (PINO's residual loss)?

# %%
import os

import holoviews as hv
import pandas as pd
from IPython.display import display

from workbench import fit
from workbench.methods import FNO, DeepONet, MultiONet
from workbench.problems import PROBLEMS
from workbench.regularizers import PDEResidual, WeightDecay
from workbench.views import error_histogram, gallery, resolution_transfer

hv.extension("bokeh", inline=True)

SMALL = os.environ.get("WORKBENCH_SMALL", "0") == "1"
DATA = (
    dict(resolution=16, n_train=60, n_test=10, batch_size=10)
    if SMALL
    else dict(resolution=32, n_train=1000, n_test=100, batch_size=20)
)
EPOCHS = 2 if SMALL else 20
print(f"SMALL={SMALL}")

problem = PROBLEMS["darcy2d"]()

# %% [markdown]
# ## The data: a family of problems
#
# `problem.dataset(n, resolution, seed)` generates `n` samples (or loads them from the cache in
# `data/generated/`). It is an `xarray.Dataset` with a `sample` dim; the generation settings
# are in its attrs. The first `n_test` samples are held out for testing.

# %%
data = problem.dataset(DATA["n_test"] + DATA["n_train"], DATA["resolution"], seed=0)
print({k: data.attrs[k] for k in ("n", "resolution", "seed")})
hv.Layout(
    [
        hv.Image(data["a"].isel(sample=i), ["x", "y"]).opts(title=f"a, sample {i}", cmap="gray")
        + hv.Image(data["u"].isel(sample=i), ["x", "y"]).opts(title="u", cmap="viridis")
        for i in range(2)
    ]
).opts(hv.opts.Image(width=220, height=200, colorbar=True)).cols(4)

# %% [markdown]
# ## Three operators, one budget
#
# Each method trains for the same number of epochs with Adam (cosine schedule from
# $10^{-3}$) and decoupled weight decay $10^{-4}$; the loss is the mean relative $L^2$ error
# per sample. `l2re` in the table is the mean relative error on the test samples.

# %%
settings = dict(lr=1e-3, schedule="cosine", lr_final=1e-3, eval_every=0, progress=False)
runs = {}
for method in (FNO(**DATA), DeepONet(**DATA), MultiONet(**DATA)):
    steps = EPOCHS * method.steps_per_epoch()
    runs[method.name] = fit(problem, method, [WeightDecay(weight=1e-4)], steps=steps, **settings)

table = pd.DataFrame(
    {
        name: {
            "test l2re": run.l2re,
            "l2re at 2x resolution": float(run.transfer["rel_l2"].mean()),
            "wall s": run.attrs["wall_s"],
        }
        for name, run in runs.items()
    }
).T
display(table.style.format("{:.3g}"))

# %% [markdown]
# ### Sample by sample
#
# The gallery shows input, truth, prediction and error for each test sample (drag the
# slider). The FNO's errors sit on the jumps of $a$, where $u$ has kinks.

# %%
gallery(runs["fno"].samples)

# %% [markdown]
# The mean hides the spread: some permeability fields are much harder than others.

# %%
error_histogram(runs["fno"].samples, runs["fno"].transfer)

# %% [markdown]
# ## Resolution transfer
#
# The FNO's weights live on Fourier modes, not grid points, so it runs on a 64x64 grid as it
# is. DeepONet's branch net reads fixed sensors, so a finer input is first interpolated to
# them; its trunk can still be queried anywhere. Same input functions, twice the resolution:

# %%
resolution_transfer(runs["fno"].samples, runs["fno"].transfer)

# %%
resolution_transfer(runs["deeponet"].samples, runs["deeponet"].transfer)

# %% [markdown]
# ## Few labels: the PDE as a teacher
#
# Solutions are expensive; input functions are free. Keep only the first 100 training
# samples' solutions (`labels=100`), so the data loss sees a tenth of the set. The
# `pde_residual` regularizer (PINO) adds the finite-difference residual of the prediction,
# $r = -\nabla\cdot(a\nabla u) - 1$ on the grid, for **every** input, labelled or not.
#
# How the residual field becomes one number matters. PINO's mean square $\overline{r^2}$
# weighs an error by $1/h^2$ at the grid scale: one percent of grid-scale noise on the true
# solution raises it tenfold, while a five percent error in amplitude barely shows, so it
# drowns the data term. The default `norm="relative_h-1"` first maps $r$ through the inverse
# grid Laplacian (an $H^{-1}$ norm, in the units of $u$) and divides by the same for the
# forcing: it reads like a relative error, the data term's scale. With 100 labels on the full
# set this took the test error from 0.054 to 0.029 (all 1000 labels: 0.024).

# %%
labels = 10 if SMALL else 100
few = {}
cases = {
    "data only": [],
    "data + pde_residual (relative H^-1)": [PDEResidual()],
    "data + pde_residual (plain mean square)": [PDEResidual(norm="l2", weight=1.0)],
}
for label, regs in cases.items():
    method = FNO(**DATA, labels=labels, transfer_resolution=0)
    steps = EPOCHS * method.steps_per_epoch()
    run = fit(problem, method, [WeightDecay(weight=1e-4), *regs], steps=steps, **settings)
    few[label] = run.l2re
display(pd.Series(few, name=f"test l2re with {labels} labels").to_frame())

# %% [markdown]
# ## Try
#
# * `FNO(modes=...)`: fewer modes smooth the kinks away; more cost time.
# * `labels=0` with `PDEResidual()`: training from the equation alone.
# * `PROBLEMS["poisson2d"]` (source $f$ to $u$) and `PROBLEMS["burgers1d"]` (initial
#   condition to $u(\cdot, T)$): the same methods on other families.
# * The Workbench app (`workbench serve`) trains these live with the gallery updating.
