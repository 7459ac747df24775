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
# # PINN basics
#
# A **physics-informed neural network** (PINN) represents the solution $u$ of a PDE by a
# small neural network of the coordinates, $u_\theta(x, t)$. Instead of fitting data, it is
# trained to *satisfy the equation*: at random collocation points inside the domain it
# evaluates the PDE residual $r = \mathcal{N}[u_\theta]$ (derivatives of the network are
# exact, not finite differences) and at points on the boundary / at $t = 0$ the mismatch
# with the prescribed values. The loss is the sum of the mean squares,
#
# $$ L(\theta) = \underbrace{\overline{r^2}}_{\texttt{residual}}
#   + \underbrace{\overline{(u_\theta - g)^2}}_{\texttt{boundary}}
#   + \underbrace{\overline{(u_\theta(\cdot, 0) - u_0)^2}}_{\texttt{initial}}, $$
#
# minimised with Adam (optionally followed by L-BFGS). No solution data is used: the
# reference solution only serves to *measure* the result, as the relative $L^2$ error
# `l2re` $= \lVert u_\theta - u_\text{ref} \rVert / \lVert u_\text{ref} \rVert$ on a grid.
#
# In the workbench you pick a **Problem**, a **Method** and optional **Regularizers**, call
# `fit` and look at the **Run** it returns. Plots are pure functions of the Run's xarray
# data (`workbench.views`), drawn with HoloViews.

# %% [markdown]
# ## For the teacher
#
# **Learning goals.** After this notebook students can
#
# * set up and train a PINN with `fit` (Problem + Method + training knobs) and read the Run it
#   returns: fields, loss history, `l2re`;
# * explain the difference between *soft* boundary conditions (a penalty in the loss) and
#   *exact* ones (built into the network), and measure it as the error at the boundary;
# * train a PINN on Burgers' equation to about 1% error (Adam followed by L-BFGS) and locate
#   where it struggles: the largest PDE residual sits at the shock;
# * watch a training live with `train()` snapshots, and save and reload a Run.
#
# **Prerequisites.** Python and NumPy; what a PDE, a boundary condition and a neural network
# trained by gradient descent are. No prior PINN knowledge.
#
# **Run time** on a 2-core laptop without a GPU (one torch thread):
#
# | size | what it is for | time |
# | --- | --- | --- |
# | `smoke` | proves every cell runs, shows nothing | ~20 s |
# | `lecture` (default) | the lesson holds, computed and checked | ~1.2 min CPU (measured) |
# | `full` | longer trainings (Burgers: README speed recipe) | ~6 min (estimate) |
#
# To switch, set `WORKBENCH_SIZE=full` (or `smoke`) before starting Jupyter, or run
# `os.environ["WORKBENCH_SIZE"] = "full"` in the first code cell before anything else.

# %%
import os
import tempfile

import holoviews as hv
import numpy as np
import pandas as pd
import xarray as xr
from IPython.display import display

from workbench import PINN, Burgers1D, Poisson1D, Run, fit, train
from workbench.lessons import by_size, lesson_size
from workbench.views import compare, error_history, field, history, points

hv.extension("bokeh", inline=True)  # inline JS: the notebook also renders offline

# %% [markdown]
# ## Size switch
#
# `lesson_size()` reads `WORKBENCH_SIZE` (`smoke`, `lecture` or `full`; `lecture` when unset)
# and `by_size` picks the value for it. The lecture settings are chosen so that the whole
# notebook runs in a little over a minute of CPU and still shows the lesson:
#
# * Poisson: 1000 Adam steps per training (instead of 3000) are enough to see the boundary
#   error of soft conditions stay at the percent level while the exact transform is at
#   round-off; longer training shrinks the soft error but never to zero.
# * Burgers: a 4x32 network on 2000 fixed collocation points, 1000 Adam steps and then 1500
#   L-BFGS iterations (eager, no compilation: in a fresh kernel compiling costs about as
#   much as it saves at this length). L-BFGS is what brings a PINN below 1% on Burgers; Adam
#   alone stalls far above that (exercise 2). The full size uses more points and lets L-BFGS
#   run for 3 minutes.
# * The snapshot demo (section 4) is a short Adam-only training: it shows the front
#   forming, not a converged solution.

# %%
SIZE = lesson_size()

POISSON_STEPS = by_size(smoke=600, lecture=1000, full=3000)
POISSON_POINTS = by_size(smoke=128, lecture=256, full=256)
BURGERS_NET = by_size(
    smoke=dict(width=20, depth=3, n_interior=1000),
    lecture=dict(width=32, depth=4, n_interior=2000),
    full=dict(width=32, depth=4, n_interior=8192),
)
BURGERS_TRAINING = by_size(
    smoke=dict(steps=100, lr=3e-3, lbfgs_steps=50),
    lecture=dict(steps=1000, lr=3e-3, lbfgs_steps=1500),
    # README "Speed": compiled Adam, then L-BFGS until 3 minutes have passed.
    full=dict(steps=1000, lr=1e-3, lbfgs_steps=100_000, max_wall_s=180, compile=True),
)
SNAPSHOT_STEPS = by_size(smoke=100, lecture=500, full=1500)
print(f"size: {SIZE}")

# The numbers the lesson rests on, filled in below and shown as tables.
LESSON = {}

# %% [markdown]
# ## 1. Poisson in 1D
#
# $-u''(x) = (k\pi)^2 \sin(k\pi x)$ on $[0, 1]$ with $u(0) = 0$, $u(1) = 1$; the exact
# solution is $u = \sin(k\pi x) + x$. Every object is a `param.Parameterized` spec: its knobs
# have defaults, bounds and docs (`PINN.param` lists them).

# %%
problem = Poisson1D(k=2)
soft = PINN(width=32, depth=3, n_interior=POISSON_POINTS)
run = fit(problem, soft, steps=POISSON_STEPS, lr=1e-2, seed=0, eval_every=50)
print(run)
print(f"Poisson, soft boundary conditions: l2re = {run.l2re:.3e}")
assert run.status == "done"
assert np.isfinite(run.l2re) and run.l2re < 0.1, run.l2re

# %% [markdown]
# `run.fields` holds prediction, reference, their difference and the PDE residual of the
# trained network on the reference grid. `compare` draws them side by side (in 1D the
# prediction is overlaid on the dashed reference).

# %%
display(run.fields)

# %%
compare(run.fields)

# %% [markdown]
# `run.history` has one row per step: every loss term (unweighted), the total `loss`, the
# learning rate, wall time and `l2re` (NaN except every `eval_every` steps). Note that the
# loss and the error are different things: the loss can keep falling while the error
# stalls, which is why the workbench tracks both.

# %%
history(run.history) + error_history(run.history)

# %% [markdown]
# ## 2. Soft versus exact boundary conditions
#
# Above, the boundary values were *soft*: one more penalty in the loss, which is never
# exactly zero and competes with the residual. Alternatively we can build the conditions
# into the network: Poisson1D offers the transform $u = x + x(1 - x)\,N(x)$, which equals $0$
# at $x = 0$ and $1$ at $x = 1$ whatever the network $N$ outputs. With
# `hard_constraints=True` the boundary term disappears from the loss.
#
# One training is an anecdote (the seed draws the initial weights and the collocation
# points), so we compare both variants with the same network, points and budget over three
# seeds. The soft run with seed 0 is the one from above.

# %%
SEEDS = (0, 1, 2)
runs = {("soft", 0): run}
for seed in SEEDS:
    for bc, hard in (("soft", False), ("exact", True)):
        if (bc, seed) not in runs:
            spec = PINN(width=32, depth=3, n_interior=POISSON_POINTS, hard_constraints=hard)
            runs[bc, seed] = fit(
                problem, spec, steps=POISSON_STEPS, lr=1e-2, seed=seed, eval_every=50
            )


def boundary_error(r):
    """Largest |u - u_ref| at the two ends of the interval."""
    return float(abs(r.fields["error"].isel(x=[0, -1])).max())


def l2re_at(r, step):
    """The l2re evaluation closest to ``step`` (l2re is NaN between evaluations)."""
    return float(r.history["l2re"].dropna("step").sel(step=step, method="nearest"))


table = pd.DataFrame(
    [
        {
            "conditions": bc,
            "seed": seed,
            "loss terms": ", ".join(r.history.filter_by_attrs(role="loss_term")),
            "l2re": r.l2re,
            f"l2re at step {POISSON_STEPS // 4}": l2re_at(r, POISSON_STEPS // 4),
            "max |error| at x=0,1": boundary_error(r),
            "wall s": r.attrs["wall_s"],
        }
        for (bc, seed), r in sorted(runs.items())
    ]
)
display(table)

# %% [markdown]
# ### The lesson: how much the exact transform cuts the boundary error
#
# The soft variant's boundary error is whatever the trade-off with the residual left over.
# The exact variant's is round-off: the network computes in float32, whose resolution near 1
# is about $10^{-7}$ (`np.finfo(np.float32).eps`), and the reference is float64. To compare
# the two without dividing by rounding noise, the ratio uses that resolution as the floor
# of the exact variant's error, so the ratio in the table below is a *lower bound*.

# %%
FLOAT32_EPS = float(np.finfo(np.float32).eps)
medians = table.groupby("conditions")[["l2re", "max |error| at x=0,1"]].median()
soft_boundary = float(medians.loc["soft", "max |error| at x=0,1"])
exact_boundary = float(medians.loc["exact", "max |error| at x=0,1"])
LESSON.update(
    {
        "poisson soft boundary error (median)": soft_boundary,
        "poisson exact boundary error (median)": exact_boundary,
        "poisson boundary error cut (soft / max(exact, float32 eps))": soft_boundary
        / max(exact_boundary, FLOAT32_EPS),
        "poisson soft l2re (median)": float(medians.loc["soft", "l2re"]),
        "poisson exact l2re (median)": float(medians.loc["exact", "l2re"]),
    }
)
pd.Series(LESSON, name=f"Poisson, median over seeds {SEEDS} ({SIZE} size)").to_frame()

# %% [markdown]
# The table above shows the lesson: with the same network, points and number of steps, the
# exact conditions cut the error at $x = 0, 1$ by orders of magnitude (the soft variant's
# is a small fraction of the solution's scale, the exact one's is round-off), and the
# median `l2re` over the domain drops with it. The optimiser spends its whole effort on
# the residual instead of trading it off against a boundary penalty. Longer training (the
# `full` size) shrinks the soft variant's boundary error, but a penalty never makes it zero.

# %%
for (bc, seed), r in sorted(runs.items()):
    print(f"Poisson l2re, {bc:5s} seed {seed}: {r.l2re:.3e}")
# Loose: an untrained network is at l2re ~ 1; single soft seeds can be ~10x the median.
assert all(np.isfinite(r.l2re) and r.l2re < 0.2 for r in runs.values())
# The transform holds to float32 round-off, whatever the training did.
assert all(boundary_error(runs["exact", seed]) < 1e-5 for seed in SEEDS)

# %% [markdown]
# The error histories overlaid (an `error_history` curve per run; `relabel` names it in the
# legend, which sits to the right of the axes). Compare how soon each variant reaches a
# small error, and how much the three seeds of each variant spread.

# %%
colors = {"soft": "#d95f02", "exact": "#1b9e77"}
hv.Overlay(
    [
        error_history(r.history).relabel(f"{bc}, seed {seed}").opts(color=colors[bc])
        for (bc, seed), r in sorted(runs.items())
    ]
).opts(legend_position="right", width=700, height=350, title="soft vs exact boundary conditions")

# %% [markdown]
# ## 3. Burgers' equation: a shock
#
# $u_t + u u_x = \nu u_{xx}$ on $x \in [-1, 1]$, $t \in [0, 0.99]$, $u(x, 0) = -\sin(\pi x)$,
# $u(\pm 1, t) = 0$, $\nu = 0.01/\pi$: the two halves of the sine run into each other and
# form a steep front (almost a shock) at $x = 0$ from $t \approx 0.3$ on. The reference is
# the exact Cole-Hopf solution. We use exact initial/boundary conditions again and finish
# Adam with L-BFGS, which is what makes PINNs accurate on this problem.

# %%
burgers = Burgers1D()
method = PINN(**BURGERS_NET, hard_constraints=True)
run_b = fit(burgers, method, seed=0, eval_every=100, **BURGERS_TRAINING)
print(run_b)
print(f"Burgers l2re = {run_b.l2re:.3e}")
assert run_b.status == "done" and np.isfinite(run_b.l2re)

# %% [markdown]
# Prediction | reference | error | residual. Time runs horizontally. The steep front sits at
# $x = 0$: there the slope $u_x$ is of order $-100$ over a width of a few hundredths, so a
# network that smears or misplaces the front a little makes a large residual
# $u_t + u u_x - \nu u_{xx}$, while away from it the solution is smooth and the residual
# small. This is the hard part of Burgers for a PINN (and why adaptive sampling, which puts
# more collocation points at large residuals, helps).

# %%
compare(run_b.fields)

# %% [markdown]
# ### The lesson: accurate overall, worst at the shock
#
# We find where on the reference grid $|r|$ is largest, and compare the largest $|r|$
# inside the front ($|x| \le 0.05$) with the largest anywhere else.

# %%
FRONT = 0.05  # half-width of the band around x = 0 counted as "at the shock"
residual = abs(run_b.fields["residual"])
where = residual.argmax(...)
x_max, t_max = float(residual.x[where["x"]]), float(residual.t[where["t"]])
in_front = abs(residual.x) <= FRONT
burgers_lesson = {
    "burgers l2re": float(run_b.l2re),
    "burgers largest |residual| at x": x_max,
    "burgers largest |residual| at t": t_max,
    "burgers largest |residual| in the front (|x| <= 0.05)": bool(abs(x_max) <= FRONT),
    "burgers max |residual| in front / elsewhere": float(
        residual.where(in_front).max() / residual.where(~in_front).max()
    ),
}
LESSON.update(burgers_lesson)
pd.Series(burgers_lesson, name=f"Burgers ({SIZE} size)", dtype=object).to_frame()

# %% [markdown]
# The table above shows the lesson: the relative $L^2$ error over the whole space-time
# domain is at the percent level or below, yet the largest residual sits in the front at
# $x = 0$, after the front has formed, and it is far larger there than anywhere else. The
# collocation points (a subsample) over the residual show why: they are evenly spread
# (scrambled Sobol, the default `sampling`), so only a few of them land in the thin front.

# %%
(field(run_b.fields["residual"]) * points(run_b.points, max_points=500)).opts(
    legend_position="right",
    width=650,
    height=350,
    title="Burgers: residual and collocation points",
)

# %%
history(run_b.history) + error_history(run_b.history)

# %% [markdown]
# ## 4. Watching training: `train()` and snapshots
#
# `fit` is a thin loop over `train`, a generator that yields one `Progress` record per step
# (`step`, `losses`, `l2re`, ...). With `snapshot_every=k` a record carries, every `k` steps,
# `snapshot`: the fields on a coarse grid, cheap enough to draw while training (the app
# does exactly this). The last record has `done=True`, the `run` and a snapshot of the
# final state. Here we collect the
# snapshots of a shorter, Adam-only training in a `HoloMap`: drag the slider to watch the
# front form.

# %%
snapshots = {}
for record in train(
    burgers,
    method,
    steps=SNAPSHOT_STEPS,
    lr=3e-3,
    seed=0,
    eval_every=0,
    snapshot_every=SNAPSHOT_STEPS // 5,
):
    if record.snapshot is not None:
        snapshots[record.step] = record.snapshot
    if record.done:  # the last record carries the Run and a snapshot of the final state
        run_live = record.run

print("snapshots at steps", list(snapshots), f"final l2re = {run_live.l2re:.3e}")
assert len(snapshots) == 6

# %%
hv.HoloMap(
    {step: field(snap["u"], clim=(-1, 1)) for step, snap in snapshots.items()},
    kdims="step",
) + hv.HoloMap(
    {step: field(snap["residual"]) for step, snap in snapshots.items()},
    kdims="step",
)

# %% [markdown]
# ## 5. Saving and loading a Run
#
# `run.save(directory)` writes `run.nc` (the xarray DataTree: history, fields, points and
# provenance attributes, as NetCDF4), `weights.safetensors` and, last, `manifest.json` (the
# size and SHA-256 of each file), into a hidden folder it then renames into place: a run on
# disk is complete or absent. `Run.load` checks the manifest and rebuilds the problem, the
# method and the trained network, with nothing unpickled.

# %%
with tempfile.TemporaryDirectory() as tmp:
    run_b.save(tmp)
    print(sorted(os.listdir(tmp)))
    loaded = Run.load(tmp)

print(loaded)
xr.testing.assert_identical(loaded.fields, run_b.fields)
xr.testing.assert_identical(loaded.history, run_b.history)
# The weights came back too: the reloaded network reproduces the stored fields.
xr.testing.assert_allclose(loaded.evaluate(), run_b.fields, rtol=1e-5, atol=1e-6)
print("saved and reloaded: identical fields and history")

# %% [markdown]
# ## Where next
#
# * `workbench.views.report(run.tree, "report.html")` writes a self-contained HTML report.
# * The command line does the same as `fit` and saves the Run:
#   `workbench run --problem burgers1d --set hard_constraints=true --steps 2000 --out runs/b`.
#
# ## Exercises
#
# **1. Harder Poisson.** Set `problem = Poisson1D(k=4)` (twice the oscillations) and rerun
# sections 1-2. *Expect:* both variants' `l2re` grows, and the gap between soft and exact
# boundary errors stays.
#
# <details><summary>Answer</summary>
#
# More oscillations need more of the network's capacity and more steps; with the same
# budget the error over the domain rises for both variants. The exact variant's boundary
# error is still round-off, because the transform $x + x(1-x)N(x)$ does not care what $N$
# learned; the soft variant's boundary error rises with the harder residual it competes
# against.
#
# </details>
#
# **2. Adam only.** In `BURGERS_TRAINING` set `lbfgs_steps=0` (and, to give Adam the same
# time, `steps=3000`). *Expect:* `l2re` several times larger than with L-BFGS, and the
# residual even more concentrated at the front.
#
# <details><summary>Answer</summary>
#
# Adam with a decaying learning rate stalls once the loss is dominated by the few points
# near the front; L-BFGS uses curvature information and keeps descending in the narrow
# valleys of the loss, which is why PINN papers on Burgers finish with it. Compare the
# `error_history` plots: the drop after Adam is the L-BFGS phase.
#
# </details>
#
# **3. A steeper shock.** Use `burgers = Burgers1D(nu=0.003)` (a third of the default
# viscosity) in section 3. *Expect:* a thinner front, a larger `l2re` with the same budget,
# and the largest residual still in the front.
#
# <details><summary>Answer</summary>
#
# The front's width scales with $\nu$, so with the same evenly spread collocation points
# even fewer of them land inside it, and the network has to represent a steeper slope.
# Both make the error at the front, and with it the `l2re`, grow. Remedies: more points,
# points where the residual is large (`sampler="r3"`), or a longer L-BFGS phase.
#
# </details>
