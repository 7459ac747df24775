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
# # Physics in the latent space: Phys-VAE, traversals and extrapolation
#
# A variational autoencoder (VAE) compresses each signal into a few latent numbers and
# decodes them back. Its latents mean *something*, but nothing tells it what. A
# **physics-integrated VAE** (Phys-VAE, Takeishi & Kalousis, NeurIPS 2021) reserves some
# latents for the parameters of a known, *incomplete* physical model and decodes them through
# that model, with neural networks only for what the physics misses.
#
# The data: a damped pendulum,
#
# $$ \theta'' + \gamma\,\theta' + \omega^2 \sin\theta = 0, \qquad \theta(0) = \theta_0,
# \quad \theta'(0) = 0, $$
#
# with a random frequency $\omega \in [0.785, 3.14]$, damping $\gamma \in [0, 0.8]$ and
# initial angle $\theta_0$ per trajectory, observed at 50 times with noise 0.01. The model's
# physics knows only the **frictionless** pendulum $\theta'' = -\omega^2\sin\theta$; the
# damping is for the networks to learn.
#
# | method | latent | decoder |
# |---|---|---|
# | `vae` | 4 anonymous dims | an MLP |
# | `phys_vae` | $\omega$, 1 in the dynamics, 2 for the output | frictionless RK4 + learned terms |
#
# What the physics latent buys: a latent you can read ($\omega$), traversals that are
# counterfactuals ("the same pendulum, twice as fast"), and better extrapolation to
# frequencies never seen in training.

# %% [markdown]
# ## For the teacher
#
# **Learning goals**
#
# * Explain grey-box generative modelling: latents split into physical parameters, decoded
#   through a known but incomplete physics model, and auxiliary latents for what it misses.
# * Read a latent space against the truth: a parity plot of the inferred $\omega$ against the
#   true one, and traversals as counterfactuals.
# * Measure extrapolation: reconstruct trajectories whose $\omega$ lies beyond the training
#   range, and explain why a physics decoder can and a plain MLP decoder cannot.
# * See what the paper's regularizers, Least Volume and a function-space VAE (VANO) add.
#
# **Prerequisites**: notebook 01 (`fit`, problems and methods); what a VAE is (encoder,
# decoder, ELBO = reconstruction + KL); the pendulum ODE. No PyTorch is needed to follow.
#
# **Run time** on a 2-core laptop without GPU (one torch thread):
# smoke ~35 s; lecture ~3.5 min (measured: 200 s of CPU
# for the whole notebook, data included); full ~30 min (estimate: each Phys-VAE step
# costs about 0.15 s of CPU, and full trains two of them for 3000 steps).
# Switch with `WORKBENCH_SIZE=full` (or `smoke`) in the environment before starting Jupyter,
# or `os.environ["WORKBENCH_SIZE"] = "full"` in the first code cell, before the imports.
#
# ### Sizes
#
# A Phys-VAE step integrates the pendulum with RK4 through 49 time steps, four times per
# step with a small network inside the dynamics, and back-propagates through all of it: about
# 0.15 s of CPU per step whatever the batch size (the cost is the sequential time loop, not
# the arithmetic). So the lecture size keeps the data (1000 training and 200 test
# trajectories, batches of 100, as in `benchmarks/latent.py`) and cuts the steps: **500
# Adam steps** instead of 3000, with the workbench's default learning-rate schedule, $10^{-2}$
# decayed exponentially to $10^{-3}$, instead of a constant-start $10^{-3}$. With few steps
# each may be larger: at $10^{-3}$ and 500 steps the $\omega$ latent already correlated with
# the truth, but reading $\omega$ beyond the training range (what extrapolation needs) had
# not been learned yet. The plain VAE gets the same steps and learning rate (it costs
# milliseconds per step). Least Volume and VANO, side lessons here, are trained briefly.
# **Full** is the earlier setting of this notebook: 3000 steps at $10^{-3}$ (VANO 4000).
# **Smoke** only proves that every cell runs.

# %%
import holoviews as hv
import numpy as np
import pandas as pd
from IPython.display import display

from workbench import fit
from workbench.lessons import by_size, lesson_size
from workbench.methods import METHODS, VAE, PhysVAE
from workbench.problems import PROBLEMS
from workbench.regularizers import KLAnnealing, LeastVolume
from workbench.views import (
    extrapolation,
    latent_parity,
    latent_spectrum,
    reconstructions,
    samples,
    traversal_grid,
)

hv.extension("bokeh", inline=True)

SIZE = lesson_size()
DATA = by_size(
    smoke=dict(n_train=60, n_test=20, batch_size=20),
    lecture=dict(n_train=1000, n_test=200, batch_size=100),
    full=dict(n_train=1000, n_test=200, batch_size=100),
)
STEPS = by_size(smoke=30, lecture=500, full=3000)
LR = by_size(smoke=1e-3, lecture=1e-2, full=1e-3)  # peak; decays to a tenth (the default)
settings = dict(lr=LR, eval_every=0, progress=False, seed=0)
LESSON = {}  # the numbers this notebook's lesson rests on (read by tests/lessons)
print(f"size: {SIZE}, {STEPS} steps, peak learning rate {settings['lr']:g}")

pendulum = PROBLEMS["pendulum"](noise=0.01)
TIME, ANGLE = hv.Dimension("t", label="time t"), hv.Dimension("u", label="angle theta", unit="rad")

# %% [markdown]
# ## The data
#
# `pendulum.dataset(n)` draws `n` trajectories (cached on disk) and keeps each one's true
# parameters, so we can check later what the latents learned.

# %%
data = pendulum.dataset(200, seed=0)
hv.Overlay(
    [
        hv.Curve(data["u"].isel(sample=i), TIME, ANGLE, label=f"omega={float(data.omega[i]):.2f}")
        for i in range(5)
    ]
).opts(width=600, height=260, legend_position="right", title="five trajectories")

# %% [markdown]
# ## Train both
#
# Same data, same steps. The Phys-VAE's loss is the ELBO plus the paper's three
# regularizers: *least action* (the networks change the physics' output as little as they
# can), *unmixing* (the encoder's "physics-only" view of the data matches the physics'
# decoding) and *augmentation* (trajectories simulated by the physics from known $\omega$
# are encoded back to that $\omega$; here also beyond the data's range, and with the
# model's learned damping, see `augment_widen` and `augment_dynamics`).

# %%
runs = {
    "vae": fit(pendulum, VAE(**DATA), steps=STEPS, **settings),
    "phys_vae": fit(pendulum, PhysVAE(**DATA), steps=STEPS, **settings),
}
latent = {name: run.tree["latent"].to_dataset() for name, run in runs.items()}


def best_correlation(ds, parameter="omega"):
    """|correlation| of the latent dim that tracks the parameter best."""
    z = ds["z_mean"].values
    return max(abs(np.corrcoef(z[:, i], ds[parameter])[0, 1]) for i in range(z.shape[1]))


def omega_latent(ds):
    """The test encodings' omega latent (the physical latent of a Phys-VAE)."""
    return ds["z_mean"].sel(latent="omega").values


table = pd.DataFrame(
    {
        name: {
            "test recon l2re": ds.attrs["l2re"],
            "out-of-range recon l2re": ds.attrs["ood_l2re"],
            "|corr(latent, omega)|": best_correlation(ds),
        }
        for name, ds in latent.items()
    }
).T
display(table.style.format("{:.3f}"))

phys = latent["phys_vae"]
LESSON.update(
    {
        "phys_vae |corr(omega latent, omega)|": float(best_correlation(phys.sel(latent=["omega"]))),
        "vae best |corr(latent, omega)|": float(best_correlation(latent["vae"])),
        "phys_vae omega latent mean |error|": float(
            np.abs(omega_latent(phys) - phys["omega"].values).mean()
        ),
        "phys_vae out-of-range l2re": float(phys.attrs["ood_l2re"]),
        "vae out-of-range l2re": float(latent["vae"].attrs["ood_l2re"]),
        "phys_vae test l2re": float(phys.attrs["l2re"]),
        "vae test l2re": float(latent["vae"].attrs["l2re"]),
    }
)
display(pd.Series(LESSON, name=f"lesson ({SIZE})").to_frame())

# %% [markdown]
# The table above holds the lesson in numbers. The first row pair: the Phys-VAE's $\omega$
# latent correlates with the true $\omega$ of the test trajectories (it was never told
# $\omega$; only the physics and the regularizers make it so), while the best of the VAE's
# four anonymous latents correlates much less; the mean error of the $\omega$ latent is in
# the units of $\omega$ itself. The out-of-range rows are the extrapolation test: trajectories
# with $\omega$ in $[3.14, 4.71]$, faster than any in training. There the Phys-VAE
# reconstructs with a lower error than the VAE. In range, the VAE's free MLP decoder may well
# reconstruct as well or better: fitting the training distribution is not the Phys-VAE's
# advantage.
#
# ## What does the latent mean?
#
# Inferred latent against the true $\omega$ of each test trajectory (grey band: the training
# range; orange: trajectories with $\omega$ beyond it). The Phys-VAE's $\omega$ latent lies
# near the diagonal: it *is* the frequency, in its units. The VAE's best dim has no units,
# and its correlation with $\omega$ (in the title) is weak: the VAE spreads $\omega$ over
# several dims.

# %%
(latent_parity(latent["phys_vae"], "omega") + latent_parity(latent["vae"], "omega")).cols(2)

# %% [markdown]
# ## Latent traversals
#
# Decode one test trajectory with one latent dim swept and the others held. Sweeping the
# Phys-VAE's $\omega$ changes only the frequency, as the physics says: a counterfactual. The
# auxiliary dims change the damping and small corrections. The VAE's dims each change
# several things at once.

# %%
traversal_grid(latent["phys_vae"])

# %%
traversal_grid(latent["vae"])

# %% [markdown]
# Counterfactuals beyond the data: the same pendulum at frequencies from 0.2x to 2x the
# training range's top (`traverse` sets one latent dim to the given values).

# %%
method, model = runs["phys_vae"].method, runs["phys_vae"].model
far = method.traverse(model, pendulum, "omega", [0.5, 1.5, 3.0, 4.5, 6.0])
hv.Overlay(
    [hv.Curve(far["u"].sel(value=v), TIME, ANGLE, label=f"omega={v:g}") for v in far.value.values]
).opts(width=600, height=260, legend_position="right", title="Phys-VAE: omega traversal")

# %% [markdown]
# ## Reconstructions, in range and out of range
#
# Dashed: data; solid: reconstruction (the legend is left out so it hides no data).


# %%
def readable(layout):
    """Three panels a row, wide enough for a projector, no legend over the curves."""
    return layout.opts(
        hv.opts.Overlay(width=420, height=260, show_legend=False), hv.opts.Curve(width=420)
    ).cols(3)


readable(reconstructions(runs["phys_vae"].tree["fields"].to_dataset(), max_samples=3))

# %% [markdown]
# The Run's `/latent` also holds 200 trajectories with $\omega \in [3.14, 4.71]$, beyond
# the training range. The VAE's decoder has never produced such fast oscillations; the
# Phys-VAE's physics produces them for any $\omega$, if the encoder reads $\omega$ right.

# %%
readable(extrapolation(latent["phys_vae"], max_samples=3))

# %%
readable(extrapolation(latent["vae"], max_samples=3))

# %% [markdown]
# ## Turning the regularizers off
#
# The ELBO alone does not care *which* part of the decoder explains the data: the networks
# could explain all of it and leave $\omega$ meaningless. The paper's regularizers push the
# explanation into the physics. Train again with their weights at 0 and compare how well the
# $\omega$ latent tracks $\omega$, in range and beyond it.

# %%
off = {"least_action": 0.0, "unmixing": 0.0, "augmentation": 0.0}
# With the augmentation's weight at 0 its signals only cost time: simulate the physics-only
# ones (cheap) and skip those through the learned dynamics (a third of a step's time).
bare = fit(pendulum, PhysVAE(**DATA, augment_dynamics=False), weights=off, steps=STEPS, **settings)
bare_latent = bare.tree["latent"].to_dataset()
display(
    pd.DataFrame(
        {
            name: {
                "|corr(omega latent, omega)|": best_correlation(ds.sel(latent=["omega"])),
                "out-of-range recon l2re": ds.attrs["ood_l2re"],
            }
            for name, ds in {"with": latent["phys_vae"], "without": bare_latent}.items()
        }
    ).T.style.format("{:.3f}")
)
latent_parity(bare_latent, "omega")

# %% [markdown]
# The table above compares the $\omega$ latent with and without the regularizers, in range
# (correlation) and beyond it (out-of-range error). In range the two are close: on this data
# the frictionless physics already explains most of each signal, so the encoder finds
# $\omega$ even without help. Beyond the range they part: without the augmentation the encoder
# has never seen a trajectory faster than the data's, and without least action and unmixing
# the networks take over part of the explanation, so the out-of-range error of the bare model
# is far above the regularized one (compare it with the VAE's in the first table). The
# regularizers buy extrapolation more than in-range interpretability.

# %% [markdown]
# ## How many latent dims does the data need? Least Volume
#
# Take the pendulum without damping: two factors ($\omega$, $\theta_0$), plus noise. Give an
# autoencoder (`vae` with KL weight 0) **8** latent dims. Least Volume (Chen & Fuge, ICLR 2024)
# penalises the geometric mean of the latent codes' spreads; with a decoder that cannot
# stretch (1-Lipschitz: `lipschitz=True`), the only way to shrink the volume is to stop
# using dims the data does not need. The *latent spectrum* sorts the dims by spread.

# %%
two_factors = PROBLEMS["pendulum"](noise=0.01, gamma_min=0.0, gamma_max=0.0)
autoencoder = VAE(**DATA, latent=8, lipschitz=True)
volume_steps = by_size(smoke=30, lecture=1000, full=3000)
volume = {
    label: fit(two_factors, autoencoder, regs, weights={"kl": 0.0}, steps=volume_steps, **settings)
    for label, regs in {"no penalty": [], "least_volume": [LeastVolume(weight=30.0)]}.items()
}
latent_spectrum(volume["no penalty"].tree["latent"].to_dataset()) + latent_spectrum(
    volume["least_volume"].tree["latent"].to_dataset()
)

# %% [markdown]
# ## Functions, not vectors: VANO
#
# The VAEs above read and write 50 fixed numbers. VANO (Seidman et al., ICML 2023) encodes a
# function given on any grid and decodes to a function you can evaluate at **any**
# coordinates, trained with a function-space ELBO. Here it models the random periodic
# initial conditions $u_0$ of the `burgers1d` family (Gaussian random fields on 128 points),
# and reconstructs them on 256 points, a grid it never saw. A KL warm-up
# (`KLAnnealing`) lets the decoder use the latents before the KL term pulls them to the prior.

# %%
burgers = PROBLEMS["burgers1d"]()
vano = METHODS["vano"](
    **by_size(
        smoke=dict(n_train=60, n_test=10, batch_size=10),
        lecture=dict(n_train=100, n_test=20, batch_size=20),
        full={},
    )
)
vano_steps = by_size(smoke=30, lecture=500, full=4000)
vano_run = fit(
    burgers,
    vano,
    [KLAnnealing(warmup=vano_steps // 4)],
    steps=vano_steps,
    lr=3e-3,
    lr_final=0.1,
    eval_every=0,
    progress=False,
    seed=0,
)
fine = burgers.dataset(vano.n_test, 2 * vano.data_resolution(burgers), vano.data_seed)
fine_recon = vano.reconstructions(vano_run.model, burgers, fine)
print(
    f"VANO reconstruction l2re at {vano.data_resolution(burgers)} points: {vano_run.l2re:.3f}, "
    f"at {2 * vano.data_resolution(burgers)}: {fine_recon.attrs['l2re']:.3f}"
)
readable(reconstructions(fine_recon, max_samples=3))

# %% [markdown]
# New functions from the prior: decode random latents.

# %%
samples(vano_run.tree["samples"].to_dataset())

# %% [markdown]
# ## Exercises
#
# **1. The paper's augmentation.** Replace the Phys-VAE in "Train both" by
# `PhysVAE(**DATA, augment_widen=1.0, augment_dynamics=False)` and pass
# `weights={"augmentation": 1.0}` to its `fit`: the augmentation of Takeishi & Kalousis,
# physics-only signals from the data's own $\omega$ range. *Expected observation*: the
# in-range correlation of the $\omega$ latent stays high, but the out-of-range error grows.
#
# <details><summary>Answer</summary>
#
# The augmentation is the only place where the encoder sees trajectories with a known
# $\omega$. Drawn from the training range only, it teaches the encoder to read $\omega$ there
# and nowhere else: on faster trajectories the encoder's $\omega$ falls short (see the orange
# triangles of the parity plot bend away from the diagonal), and the physics decoder then
# produces the wrong frequency. Widening the draws (`augment_widen=2`) and simulating them
# with the learned damping (`augment_dynamics=True`) shows the encoder damped signals beyond
# the range; `benchmarks/latent.py` measures both variants side by side at full size.
#
# </details>
#
# **2. The learning rate.** Set `settings["lr"] = 1e-3` (the full size's peak learning
# rate) at lecture size and run "Train both" again. *Expected observation*: the $\omega$
# latent still correlates with $\omega$ in range, but the Phys-VAE's out-of-range error is no
# longer below the VAE's.
#
# <details><summary>Answer</summary>
#
# The encoder learns to read $\omega$ in the training range first (the reconstruction pulls it
# there on every batch); reading it beyond the range comes only from the augmentation term,
# and is learned later. With 500 steps at $10^{-3}$ training stops in between. The lecture
# size therefore takes larger steps ($10^{-2}$, decayed to $10^{-3}$); the full size takes
# small ones for longer.
#
# </details>
#
# **3. Another grid for VANO.** Decode the same test functions on 512 points:
# `burgers.dataset(vano.n_test, 4 * vano.data_resolution(burgers), vano.data_seed)` and
# `vano.reconstructions(...)` as above. *Expected observation*: about the same error as on
# 128 and 256 points.
#
# <details><summary>Answer</summary>
#
# VANO's encoder first interpolates the given function to its training grid (so a finer grid
# of the same smooth function gives about the same latent), and its decoder is a neural field,
# evaluated at whatever coordinates are asked for. A plain VAE takes and returns exactly the
# vector of grid values it was trained on, and cannot be asked for 512 of them.
#
# </details>
#
# **More to try**: `PhysVAE(aux1=0, aux2=0)` (physics only, no networks in the decoder: can
# it fit the damped data?); `KLAnnealing(schedule="cyclical")` on the VAE, or
# `JacobianNuclearNorm()`; the Workbench app (`workbench serve`): pick `pendulum` and
# `phys_vae` and watch the traversal grid change while it trains.
