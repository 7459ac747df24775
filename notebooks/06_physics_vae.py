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

# %%
import os

import holoviews as hv
import numpy as np
import pandas as pd
from IPython.display import display

from workbench import fit
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

SMALL = os.environ.get("WORKBENCH_SMALL", "0") == "1"
DATA = (
    dict(n_train=60, n_test=20, batch_size=20)
    if SMALL
    else dict(n_train=1000, n_test=200, batch_size=100)
)
STEPS = 30 if SMALL else 3000
settings = dict(lr=1e-3, eval_every=0, progress=False, seed=0)
print(f"SMALL={SMALL}")

pendulum = PROBLEMS["pendulum"](noise=0.01)

# %% [markdown]
# ## The data
#
# `pendulum.dataset(n)` draws `n` trajectories (cached on disk) and keeps each one's true
# parameters, so we can check later what the latents learned.

# %%
data = pendulum.dataset(200, seed=0)
hv.Overlay(
    [
        hv.Curve(data["u"].isel(sample=i), "t", "u", label=f"omega={float(data.omega[i]):.2f}")
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

# %% [markdown]
# ## What does the latent mean?
#
# Inferred latent against the true $\omega$ of each test trajectory (grey band: the training
# range; orange: trajectories with $\omega$ beyond it). The Phys-VAE's $\omega$ latent lies on
# the diagonal: it *is* the frequency. The VAE's best dim correlates with $\omega$ but has no
# units and bends.

# %%
latent_parity(latent["phys_vae"], "omega") + latent_parity(latent["vae"], "omega")

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
    [hv.Curve(far["u"].sel(value=v), "t", "u", label=f"omega={v:g}") for v in far.value.values]
).opts(width=600, height=260, legend_position="right", title="Phys-VAE: omega traversal")

# %% [markdown]
# ## Reconstructions, in range and out of range
#
# Dashed: data; solid: reconstruction.

# %%
reconstructions(runs["phys_vae"].tree["fields"].to_dataset(), max_samples=4)

# %% [markdown]
# The Run's `/latent` also holds 200 trajectories with $\omega \in [3.14, 4.71]$, beyond
# the training range. The VAE's decoder has never produced such fast oscillations; the
# Phys-VAE's physics produces them for any $\omega$, if the encoder reads $\omega$ right.

# %%
extrapolation(latent["phys_vae"])

# %%
extrapolation(latent["vae"])

# %% [markdown]
# ## Turning the regularizers off
#
# The ELBO alone does not care *which* part of the decoder explains the data: the networks
# could explain all of it and leave $\omega$ meaningless. The paper's regularizers push the
# explanation into the physics. Train again with their weights at 0 and compare how well the
# $\omega$ latent tracks $\omega$, in range and beyond it. (In our full-size run the
# correlation barely moved, 0.952 without against 0.963 with: on this data the frictionless
# physics already explains most of each signal, so the encoder finds $\omega$ anyway. Try
# fewer steps, or `aux2=8`, to give the networks more room.)

# %%
off = {"least_action": 0.0, "unmixing": 0.0, "augmentation": 0.0}
bare = fit(pendulum, PhysVAE(**DATA), weights=off, steps=STEPS, **settings)
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
volume = {
    label: fit(two_factors, autoencoder, regs, weights={"kl": 0.0}, steps=STEPS, **settings)
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
vano = METHODS["vano"](**(dict(n_train=60, n_test=10, batch_size=10) if SMALL else {}))
vano_steps = 30 if SMALL else 4000
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
reconstructions(fine_recon, max_samples=3)

# %% [markdown]
# New functions from the prior: decode random latents.

# %%
samples(vano_run.tree["samples"].to_dataset())

# %% [markdown]
# ## Try
#
# * `PhysVAE(augment_widen=1.0, augment_dynamics=False)`: the paper's augmentation (its own
#   range, physics only). How does extrapolation change?
# * `PhysVAE(aux1=0, aux2=0)`: physics only, no networks in the decoder. Can it fit the
#   damped data?
# * `KLAnnealing(schedule="cyclical")` on the VAE, or `JacobianNuclearNorm()`: other ways to
#   shape a latent space.
# * The Workbench app (`workbench serve`): pick `pendulum` and `phys_vae` and watch the
#   traversal grid change while it trains.
