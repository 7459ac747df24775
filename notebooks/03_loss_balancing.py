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
# # Balancing loss terms: sum, LRA, ConFIG, M-ConFIG, MultiAdam
#
# A PINN's loss is a sum of terms, here for viscous Burgers
# ($u_t + u u_x = \nu u_{xx}$, $\nu = 0.01/\pi$, $u(x, 0) = -\sin \pi x$, $u(\pm 1, t) = 0$):
#
# $$ L = L_\text{residual} + L_\text{initial} + L_\text{boundary}. $$
#
# Their gradients can differ by orders of magnitude and point in conflicting directions: a
# step that lowers the residual may raise the boundary mismatch. How the terms are
# **combined** into one update is a choice, the `combiner` argument of `fit`/`train`:
#
# | combiner | what it does |
# |---|---|
# | `sum` (default) | Adam on the gradient of the weighted sum (`weights={...}`, default 1) |
# | `lra` | learning-rate annealing: weights that make the gradients comparable |
# | `config` | ConFIG: a direction with equal positive projection on every gradient |
# | `mconfig` | momentum ConFIG: one term's gradient per step, ConFIG on per-term momenta |
# | `multiadam` | separate Adam moments per term: insensitive to each term's scale |
#
# (LRA: Wang, Teng & Perdikaris 2021; ConFIG: Liu, Chu & Thuerey 2025; MultiAdam: Yao et al.
# 2023.)
#
# The set-up follows the ConFIG authors' Burgers notebook: 5 tanh layers of 50, 2000 interior,
# 50 initial and 50 boundary points drawn afresh every step, 5000 iterations, Adam at
# $10^{-4}$ (M-ConFIG with plain steps at $5\cdot10^{-4}$). Their metric is the best test MSE
# against the reference during training.

# %%
import os

import holoviews as hv
import numpy as np
import pandas as pd
from IPython.display import display

from workbench import PINN, Burgers1D, fit
from workbench.views import diagnostics, field, history

hv.extension("bokeh", inline=True)

SMALL = os.environ.get("WORKBENCH_SMALL", "0") == "1"
STEPS = 60 if SMALL else 5000
NET = dict(width=16, depth=2) if SMALL else dict(width=50, depth=5)
POINTS = dict(n_interior=256 if SMALL else 2000, n_initial=50, n_boundary=50)
print(f"SMALL={SMALL}")

problem = Burgers1D()
reference = problem.reference().values


def best_mse(run):
    """The best test MSE over training: l2re^2 * mean(u_ref^2) at each evaluation."""
    l2re = run.history["l2re"].dropna("step").values
    return float(np.min(l2re) ** 2 * np.mean(reference**2))


# %% [markdown]
# ## Five trainings, one set-up

# %%
CASES = {
    "sum (Adam)": ("sum", 1e-4),
    "LRA": ("lra", 1e-4),
    "ConFIG": ("config", 1e-4),
    "M-ConFIG": ("mconfig", 5e-4),
    "MultiAdam": ("multiadam", 1e-4),
}
runs = {}
for label, (combiner, lr) in CASES.items():
    method = PINN(**NET, **POINTS, sampler="resample")
    runs[label] = fit(
        problem,
        method,
        combiner=combiner,
        steps=STEPS,
        lr=lr,
        schedule="constant",
        eval_every=10,
        progress=False,
    )
    run = runs[label]
    print(f"{label:<11} best test MSE {best_mse(run):.3g}, final l2re {run.l2re:.3g}")

# %% [markdown]
# ## Every term, per combiner
#
# The history of each run keeps every term separately (plus the weighted total):

# %%
hv.Layout([history(run.history).opts(title=label) for label, run in runs.items()]).cols(2)

# %% [markdown]
# ## Inside the update: term weights and gradient conflict
#
# Combiners that look at each term's gradient log what they saw: `grad_cosine` is the
# smallest cosine between two terms' gradients (below zero: a step along one raises the
# other), and LRA logs the weight it gives each term (`weight_<term>`).

# %%
for label in ("LRA", "ConFIG"):
    print(label)
    display(diagnostics(runs[label].history))

# %% [markdown]
# The cosine is negative much of the time: the residual and the conditions really do pull
# apart. ConFIG's update has a non-negative inner product with *every* term's gradient, so,
# to first order, no term gets worse in a step. LRA's weights grow for the terms whose
# gradients the residual drowns.

# %% [markdown]
# ## Summary

# %%
table = pd.DataFrame(
    {
        label: {
            "best test MSE": best_mse(run),
            "final l2re": run.l2re,
            "wall s": float(run.attrs["wall_s"]),
        }
        for label, run in runs.items()
    }
).T
display(table.style.format("{:.3g}"))

# %%
best = min(runs, key=lambda label: best_mse(runs[label]))
field(runs[best].fields["error"]).opts(title=f"error of {best}")

# %% [markdown]
# The ConFIG authors' notebook reports best test MSEs of 3.1e-2 (Adam), 6.4e-3 (ConFIG) and
# 1.9e-3 (M-ConFIG) for this set-up; `benchmarks/solvers.py --only burgers` prints ours.
# Things to try:
#
# * rescale a term, e.g. `weights={"initial": 100}`: the sum and LRA change, MultiAdam
#   (nearly) does not;
# * `LRA(alpha=0.5, every=1)`: faster-moving weights;
# * the `lr` of each combiner: M-ConFIG takes plain (SGD-like) steps on a normalised direction.
