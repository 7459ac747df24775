# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Generating fields that obey a PDE: flow matching, PBFM and posterior sampling
#
# A generative model of whole fields learns to turn noise into samples that look like the
# data. Here the data are pairs of fields from Darcy flow,
#
# $$ -\nabla\cdot\big(a(x, y)\,\nabla u\big) = 1 \ \text{ on } [0, 1]^2, \qquad u = 0
# \ \text{ on the boundary}, $$
#
# a random two-valued permeability $a$ (3 or 12) and its pressure $u$, stacked as two
# channels of one image. A model of the **joint** distribution of $(a, u)$ can do three
# things with one set of weights:
#
# * **generate** new pairs, which should satisfy the PDE: the *residual*
#   $R = -\nabla\cdot(a\nabla u) - 1$ of a generated pair should be near 0;
# * solve **inverse problems**: given $u$ at a few points, sample the $a$ (and $u$) that fit;
# * solve **forward problems**: given $a$, sample $u$.
#
# | method | trains with |
# |---|---|
# | `flow_matching` | the flow-matching regression only (Lipman et al. 2023) |
# | `pbfm` | flow matching + the PDE residual of the generated field, ConFIG (Baldan et al.) |
# | `diffusion` | EDM denoising (Karras et al. 2022); `pidm=True` adds the residual (PIDM) |
#
# Sampling from `diffusion` with guidance from sparse observations and from the PDE is
# DiffusionPDE (Huang et al., NeurIPS 2024).

# %%
import os

import holoviews as hv
import pandas as pd
from IPython.display import display

from workbench import fit
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.views import pareto, posterior_gallery, posterior_summary, sample_gallery

hv.extension("bokeh", inline=True)

SMALL = os.environ.get("WORKBENCH_SMALL", "0") == "1"
RESOLUTION = 16
DATA = dict(resolution=RESOLUTION, batch_size=32) | (
    dict(n_train=64, n_test=32, n_samples=32, posterior_samples=8, guided_steps=10)
    if SMALL
    else dict(n_train=1000, n_test=200, n_samples=256, posterior_samples=16)
)
STEPS = 30 if SMALL else 4000
settings = dict(lr=2e-3, eval_every=0, progress=False, seed=0)
print(f"SMALL={SMALL}")

# Solved on the 16 x 16 grid itself, so the data satisfy the very five-point equations the
# residual applies: their residual is 0 up to rounding, and a generated field's residual
# measures the generator alone.
darcy = PROBLEMS["darcy2d"](solver_nodes=RESOLUTION)

# %% [markdown]
# ## The data
#
# Eight pairs from the dataset. Both channels are standardised before training (the
# pressure is ~0.01, the permeability ~10), and the residual is measured in units of the
# forcing (here 1).

# %%
data = darcy.dataset(8, RESOLUTION, seed=0)
sample_gallery(data, n=8).opts(title="eight (a, u) pairs of the dataset")

# %% [markdown]
# ## Flow matching against PBFM
#
# Same data, same network (a small U-Net with a time embedding), same number of steps.
# Flow matching learns a velocity field that carries noise to data along straight lines.
# PBFM adds a second term: run the learned flow from the noisy training sample to the clean
# field (two Euler steps, `unroll=2`, with gradients through them), and penalise the PDE
# residual of that field, weighted by the flow time (estimates from near-pure noise count
# little). ConFIG combines the two gradients into one update that decreases both, so there
# is no weight to tune.

# %%
runs = {
    "flow_matching": fit(darcy, METHODS["flow_matching"](**DATA), steps=STEPS, **settings),
    "pbfm": fit(darcy, METHODS["pbfm"](**DATA), steps=STEPS, **settings),
}
samples = {name: run.tree["samples"].to_dataset() for name, run in runs.items()}
table = pd.DataFrame(
    {
        name: {
            "mean |residual| (generated)": ds.attrs["residual_mae"],
            "mean |residual| (data)": ds.attrs["data_residual_mae"],
            "energy distance to test data": ds.attrs["distance"],
            "train s": float(runs[name].attrs["wall_s"]),
        }
        for name, ds in samples.items()
    }
).T
display(table.style.format("{:.4g}"))

# %% [markdown]
# Two numbers per model, because each alone can be gamed: a model that generates smooth,
# low-amplitude pressures has a small residual and a large distance from the data, and one
# that copies the data's look without the physics the reverse. The **Pareto picture** shows
# both: lower-left is better.
#
# In the full setting (4000 steps each) PBFM's mean residual was 0.133 against flow
# matching's 0.231, 1.7x lower, and its energy distance was smaller too (0.013 against
# 0.057). The paper reports up to 8x at 64 x 64 after far longer training; here, with
# `unroll=4` and 8000 steps, 2.2x (0.076 against 0.169, `benchmarks/generative.py`).

# %%
pareto(samples)

# %% [markdown]
# The generated pairs, with each one's residual field below. Both models' residuals are
# largest along the jumps of the permeability, where the pressure has kinks; PBFM's are
# about half of flow matching's, there and elsewhere.

# %%
hv.Layout([sample_gallery(ds, n=6).opts(title=name) for name, ds in samples.items()]).cols(1)

# %% [markdown]
# ## An inverse problem with uncertainty
#
# Now the diffusion model. We observe the pressure $u$ of one test sample at 3% of the
# nodes (8 of 256) and ask for the permeability. The sampler starts from noise as before;
# after every step it nudges the sample so that its clean estimate matches the
# observations, and in the last 20% of the steps also so that it satisfies the PDE
# (DiffusionPDE's schedule). Many samples from different noise give a **posterior**: its
# mean is the estimate, its spread says where the data do not pin the answer down.

# %%
diffusion = fit(darcy, METHODS["diffusion"](**DATA), steps=STEPS, **settings)
method, model = diffusion.method, diffusion.model
test = method.split(darcy)["test"]
truth = test.isel(sample=3).drop_vars("sample")[["a", "u"]]
posterior = method.posterior(model, darcy, truth, "solution", 0.03, DATA["posterior_samples"])
posterior_summary(posterior)

# %% [markdown]
# The white dots are the observed nodes. Read the standard deviation of $a$ against its
# error: where the spread is large, the error is too, and the true value lies inside the
# central 90% of the samples at about the fraction printed in the title (the coverage; a
# calibrated posterior has 0.9).

# %%
posterior_gallery(posterior, n=6)

# %% [markdown]
# ### What the PDE guidance adds
#
# The same observations, with the PDE guidance off (observation guidance only) and with a
# stronger one. Eight values of a smooth field say little about a two-valued permeability:
# in the full setting the posterior mean of $a$ was 0.45 off in relative L2, that of $u$
# 0.18. The PDE guidance lowered the samples' residual (0.28 to 0.25) without changing
# those errors. Its steps must stay small: the residual's operator is stiff (it scales like
# $1/h^2$), and large gradient steps on it overshoot; in the benchmark, ten times the
# default *raised* the residual.

# %%
rows = {}
for label, strength in [("observations only", 0.0), ("default", None), ("3x PDE", 3.0)]:
    if strength is not None and strength > 0:
        strength = strength * method.guidance_pde
    post = method.posterior(
        model, darcy, truth, "solution", 0.03, DATA["posterior_samples"], guidance_pde=strength
    )
    rows[label] = {
        "l2re of mean a": post.attrs["l2re_a"],
        "l2re of mean u": post.attrs["l2re_u"],
        "coverage a": post.attrs["coverage_a"],
        "coverage u": post.attrs["coverage_u"],
        "mean |residual|": float(post["residual"].mean()),
    }
display(pd.DataFrame(rows).T.style.format("{:.3f}"))

# %% [markdown]
# ## The forward problem from the same model
#
# Observe all of $a$ instead (`observed="input"`, fraction 1): the samples are now
# solutions of the PDE for that permeability. Their spread is the model's uncertainty about
# a deterministic answer, and it should be small. In the full setting the mean was 0.038 off
# in relative L2, and the truth lay inside the 90% band at 71% of the nodes: the band is a
# little too narrow (an over-confident posterior).

# %%
forward = method.posterior(model, darcy, truth, "input", 1.0, DATA["posterior_samples"])
print(
    f"forward problem: l2re of mean u {forward.attrs['l2re_u']:.3f}, "
    f"coverage of u {forward.attrs['coverage_u']:.2f}"
)
posterior_summary(forward)

# %% [markdown]
# ## Try it
#
# * `METHODS["pbfm"](unroll=1)` or `unroll=4`: how many unrolled steps the residual needs.
# * `METHODS["pbfm"](combine="sum")` with `weights={"residual": w}` in `fit`: the hand-tuned
#   alternative to ConFIG; sweep `w` and add the points to the Pareto plot.
# * `METHODS["flow_matching"](sigma_min=0.05)`, or `stochastic=0.2` (PBFM's stochastic
#   sampler for the first fifth of the flow).
# * `METHODS["diffusion"](pidm=True)`: PIDM's physics term in the diffusion loss.
# * `fit(..., ema=0.999)`: evaluate and sample a moving average of the weights, as the PBFM
#   code does. In the benchmark it brought both models' energy distance from 0.03 to about
#   0.01 and left their residuals where they were.
# * `method.posterior(..., observed="both")`, or another `fraction`: how the posterior
#   narrows with more data.
