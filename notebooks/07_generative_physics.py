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

# %% [markdown]
# ## For the teacher
#
# **Learning goals.** After this notebook a student can
#
# * explain why a generative model of fields is judged on two axes, the physics (mean PDE
#   residual of generated fields) and the distribution (energy distance to held-out data),
#   and read a Pareto plot of the two;
# * say what PBFM adds to flow matching (the residual of an unrolled clean estimate,
#   combined with the flow loss by ConFIG) and check, on the lesson table, that it lowers the
#   residual without giving up the distribution;
# * sample a posterior from 3 % observations with DiffusionPDE's guidance, and read its mean,
#   its spread and the coverage of its 90 % interval;
# * tell which part of an inverse problem sparse data pin down (the smooth pressure) and
#   which they do not (the two-valued permeability).
#
# **Prerequisites.** Notebook 01 (`fit`, Runs, `l2re`); the idea of a generative model that
# turns noise into samples; the Darcy equation below. Notebook 03 (ConFIG) helps but is not
# needed.
#
# **Run time** on a 2-core laptop without a GPU, one torch thread: smoke ~20 s; lecture ~3 min
# (measured: 172 s of CPU time for the whole notebook); full ~20 min (an estimate: three
# trainings of 4000 steps of a width-16 U-Net). The size is read from the environment
# variable `WORKBENCH_SIZE` (`smoke`, `lecture`, the default, or `full`): set it before
# starting Jupyter (`WORKBENCH_SIZE=full jupyter lab`), or put
# `os.environ["WORKBENCH_SIZE"] = "full"` at the top of the first code cell.

# %%
import os  # noqa: F401  (os.environ["WORKBENCH_SIZE"] = "full" here changes the size)

import holoviews as hv
import numpy as np
import pandas as pd
from IPython.display import display

from workbench import fit
from workbench.lessons import by_size, lesson_size
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.views import pareto, posterior_gallery, posterior_summary, sample_gallery

hv.extension("bokeh", inline=True)

RESOLUTION = 16
DATA = dict(resolution=RESOLUTION, batch_size=32) | by_size(
    smoke=dict(n_train=64, n_test=32, n_samples=32, posterior_samples=8, guided_steps=10),
    lecture=dict(n_train=1000, n_test=200, n_samples=256, posterior_samples=16, guided_steps=50),
    full=dict(n_train=1000, n_test=200, n_samples=256, posterior_samples=16),
)
WIDTH = by_size(smoke=8, lecture=8, full=16)
STEPS = by_size(smoke=30, lecture=1000, full=4000)
EMA = by_size(smoke=0.0, lecture=0.99, full=0.0)
settings = dict(lr=2e-3, ema=EMA, eval_every=0, progress=False, seed=0)
LESSON = {}
print(f"size {lesson_size()}: U-Net width {WIDTH}, {STEPS} steps, ema {EMA}")

# Solved on the 16 x 16 grid itself, so the data satisfy the very five-point equations the
# residual applies: their residual is 0 up to rounding, and a generated field's residual
# measures the generator alone.
darcy = PROBLEMS["darcy2d"](solver_nodes=RESOLUTION)

# %% [markdown]
# **Why these sizes.** The lecture size keeps the full size's data (1000 training pairs on the
# 16 x 16 grid, batch 32) and shrinks the network and the training: a U-Net of width 8
# instead of 16 (about half the cost per step) and 1000 steps instead of 4000, so that the
# three trainings fit in about two and a half minutes of one CPU core. PBFM costs about
# twice as much per step as flow matching (two unrolled network calls and two gradients for
# ConFIG). After so few steps the last weights still jitter from step to step, and the
# distance to the data measures that jitter too; so the lecture size evaluates a moving
# average of the weights over roughly the last 100 steps (`ema=0.99`; the PBFM code samples
# with such an average too, with 0.999 over its much longer training). Guided sampling uses
# 50 steps instead of 100 (the posterior's errors were the same with either). Smoke size
# only proves the cells run.

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
    name: fit(darcy, METHODS[name](**DATA, width=WIDTH), steps=STEPS, **settings)
    for name in ["flow_matching", "pbfm"]
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

fm, pb = samples["flow_matching"].attrs, samples["pbfm"].attrs
LESSON.update(
    {
        "flow matching residual": float(fm["residual_mae"]),
        "pbfm residual": float(pb["residual_mae"]),
        "residual ratio fm / pbfm": float(fm["residual_mae"] / pb["residual_mae"]),
        "flow matching distance": float(fm["distance"]),
        "pbfm distance": float(pb["distance"]),
        "distance ratio pbfm / fm": float(pb["distance"] / fm["distance"]),
    }
)
display(pd.Series(LESSON, name="physics vs distribution").to_frame().style.format("{:.4g}"))

# %% [markdown]
# Two numbers per model, because each alone can be gamed: a model that generates smooth,
# low-amplitude pressures has a small residual and a large distance from the data, and one
# that copies the data's look without the physics the reverse. The table above shows both:
# PBFM's generated pairs have a smaller mean residual than flow matching's (the ratio
# `residual ratio fm / pbfm` is above 1), and the `distance ratio pbfm / fm` says how much of
# the distribution it gave up for that (below 1: none). The residual of the data themselves
# is at rounding level, so no model reaches it. The **Pareto picture** shows both axes:
# lower left is better. (The test data's residual is written in its corner: drawn as a line
# it would sit many decades below both models.)

# %%
pareto(samples).opts(width=650, height=420)

# %% [markdown]
# **At full size we measured** (4000 steps each, width-16 U-Net, no weight average): PBFM's
# mean residual 0.133 against flow matching's 0.231, 1.7x lower, and its energy distance
# smaller too (0.013 against 0.057). (Reproduce: `WORKBENCH_SIZE=full jupyter nbconvert --to
# notebook --execute notebooks/07_generative_physics.ipynb`.) The paper reports up to 8x at
# 64 x 64 after far longer training; `benchmarks/generative.py` measured 2.2x with
# `unroll=4` and 8000 steps.

# %% [markdown]
# The generated pairs, with each one's residual field below. Compare where the residuals of
# the two models are large: the jumps of the permeability, where the pressure has kinks, are
# the hard places for both.

# %%
# One gallery per model (a Layout of the two would flatten their panels into one column).
for name, ds in samples.items():
    display(sample_gallery(ds, n=6).opts(title=name))

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
diffusion = fit(darcy, METHODS["diffusion"](**DATA, width=WIDTH), steps=STEPS, **settings)
method, model = diffusion.method, diffusion.model
test = method.split(darcy)["test"]
truth = test.isel(sample=3).drop_vars("sample")[["a", "u"]]
posterior = method.posterior(model, darcy, truth, "solution", 0.03, DATA["posterior_samples"])
# The prior's answer, for comparison: the mean u of the model's unguided samples.
prior = method.samples(model, darcy, DATA["posterior_samples"], seed=0)
prior_mean_u = prior["u"].mean("sample").values
prior_l2re_u = float(np.linalg.norm(prior_mean_u - truth["u"].values) / np.linalg.norm(truth["u"]))
inverse = {
    "observed nodes of u": int(posterior["u_mask"].sum()),
    "posterior l2re u": float(posterior.attrs["l2re_u"]),
    "prior l2re u": prior_l2re_u,
    "posterior l2re a": float(posterior.attrs["l2re_a"]),
    "coverage u": float(posterior.attrs["coverage_u"]),
    "coverage a": float(posterior.attrs["coverage_a"]),
}
LESSON.update(inverse)
display(pd.Series(inverse, name="inverse problem").to_frame().style.format("{:.3g}"))
posterior_summary(posterior)

# %% [markdown]
# The table above is the lesson of this section. The posterior mean of the pressure $u$ is
# close to the truth over the whole grid (`posterior l2re u`), closer than the mean of
# unguided samples (`prior l2re u`): the few observed values fix the height of the smooth
# pressure bump. The permeability $a$ is another matter (`posterior l2re a`): a handful of
# pressure values cannot say where a two-valued field jumps, and its posterior mean is a
# blur of the possibilities. The coverages say how honest the spread is: the fraction of
# nodes whose true value lies inside the central 90 % of the samples (0.9 when calibrated,
# below it when the posterior is over-confident).
#
# In the figure, the white dots are the observed nodes. Read the standard deviation of $a$
# against its error: where the spread is large, the error is too.

# %%
posterior_gallery(posterior, n=6)

# %% [markdown]
# ### What the PDE guidance adds
#
# The same observations, with the PDE guidance off (observation guidance only) and with a
# stronger one. Compare the rows of the table below: the errors of the posterior means, the
# coverages and the samples' mean residual. The PDE guidance acts only in the last fifth of
# the steps and its steps must stay small: the residual's operator is stiff (it scales like
# $1/h^2$), and large gradient steps on it overshoot.
#
# **At full size we measured** (4000 training steps, width 16, 100 guided steps): the
# posterior mean of $a$ 0.45 off in relative L2, that of $u$ 0.18; the PDE guidance lowered
# the samples' residual (0.28 to 0.25) without changing those errors, and in
# `benchmarks/generative.py` ten times the default *raised* the residual. (Reproduce:
# `WORKBENCH_SIZE=full jupyter nbconvert --to notebook --execute
# notebooks/07_generative_physics.ipynb`.)

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
# a deterministic answer, and it should be small; the line printed below gives the error of
# their mean and the coverage of the 90 % band.
#
# **At full size we measured** the mean 0.038 off in relative L2, and the truth inside the
# 90 % band at 71 % of the nodes: the band a little too narrow (an over-confident
# posterior).

# %%
forward = method.posterior(model, darcy, truth, "input", 1.0, DATA["posterior_samples"])
print(
    f"forward problem: l2re of mean u {forward.attrs['l2re_u']:.3f}, "
    f"coverage of u {forward.attrs['coverage_u']:.2f}"
)
posterior_summary(forward)

# %% [markdown]
# ## Exercises
#
# **1. How many unrolled steps does the residual need?** Train `METHODS["pbfm"](unroll=1)`
# and `unroll=4` (with `**DATA, width=WIDTH`) and add their `/samples` to the Pareto plot.
# *Expected:* more unrolled steps, lower residual, at a higher cost per step; the distance
# barely moves.
#
# <details><summary>Answer</summary>
#
# The residual is evaluated on the clean field reached by `unroll` Euler steps of the learned
# flow. With one step it is the one-step extrapolation $x_t + (1 - t) v$, a blurred
# (posterior-mean-like) field whose residual is not the residual of a sample: the residual is
# nonlinear in the field, so its value at the mean is biased (PBFM's "Jensen gap"). More steps
# bring the estimate closer to what the sampler produces, so the penalty acts on the right
# thing; each step is one more network call with gradients through it. The authors grow the
# count from 1 to 4 over training; `benchmarks/generative.py` found 4 steps better than 2 at
# equal training.
#
# </details>
#
# **2. ConFIG against a hand-set weight.** Train `METHODS["pbfm"](combine="sum")` with
# `fit(..., weights={"residual": w})` for `w` in 0.1, 1 and 5, and put them on the Pareto
# plot. *Expected:* a small weight behaves like flow matching, a large one buys a low
# residual with a broken distribution; ConFIG lands near the front without a weight.
#
# <details><summary>Answer</summary>
#
# A weighted sum follows whichever gradient is larger: with a large `w` the residual term
# wins, the network learns to make fields that satisfy the PDE (a flat, low-amplitude
# pressure does) and the energy distance to the data explodes. ConFIG picks the update
# direction that decreases both losses, with a length set by the gradients themselves, so
# there is no weight to sweep: that is the point of PBFM's design.
#
# </details>
#
# **3. More observations.** Call `method.posterior(model, darcy, truth, "solution", f,
# DATA["posterior_samples"])` for `f` in 0.03, 0.1 and 0.3 and compare `l2re_u`, `l2re_a`
# and the standard deviation maps. *Expected:* the error of $u$ falls fast and its band
# narrows; the error of $a$ falls slowly.
#
# <details><summary>Answer</summary>
#
# $u$ is smooth, so a few more values pin it down almost everywhere. $a$ enters only through
# $\nabla\cdot(a\nabla u)$: where $u$ is flat, or where no node is observed near a jump, many
# permeabilities give nearly the same pressure, and the posterior stays wide there. Observing
# $a$ as well (`observed="both"`) is the direct way to pin it down.
#
# </details>
#
# **4. Stronger observation guidance is not better.** Repeat the posterior with
# `guidance_obs=3`, `30` and `100` (the default is 10). *Expected:* up to a point the
# result hardly changes; at 100 the observed values are fitted *worse*, the error of the
# posterior mean of $u$ rises and the samples' residual grows.
#
# <details><summary>Answer</summary>
#
# The guidance is a gradient step on the misfit of the clean estimate, taken after every
# sampler step. Too large a step overshoots, like any gradient descent with too large a
# learning rate, and pushes the sample off the fields the model knows; the denoiser then
# returns nonsense estimates. DiffusionPDE's remedy is many small steps (2000 sampler steps).
#
# </details>
