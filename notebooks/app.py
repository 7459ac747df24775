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
# # The workbench app
#
# Pick a PDE, a method and regularizers on the left, press **Train**, and watch the loss
# terms, the solution, its error against the classical reference and the PDE residual
# evolve live. **Pause** stops after the current step, **Step** takes one step at a time,
# **Stop** ends the training and keeps its Run, **Reset** clears the views, **Save** writes
# the Run (NetCDF + weights + an HTML report) to `workbench-runs/`. Finished runs are listed
# in the **Runs** tab, where two of them can be compared side by side.
#
# The same object runs in three places:
#
# - here, inline in JupyterLab (the cell below);
# - as a web page: `workbench serve` (or `panel serve notebooks/app.py`, which serves this
#   notebook's `.servable()` object);
# - as an ipywidget, for ipywidgets layouts and Voila: `pn.ipywidget(Workbench())` (needs the
#   `jupyter_bokeh` package, part of the `app` extra).
#
# Training runs in a background thread, so the notebook stays usable while it trains.

# %%
import panel as pn

from workbench.app import Workbench
from workbench.lessons import by_size

# inline=True bundles Bokeh/Panel's JavaScript into the notebook: it works offline.
pn.extension(inline=True, notifications=True)

workbench = Workbench()
workbench.servable(title="workbench")

# %% [markdown]
# ## As an ipywidget
#
# `pn.ipywidget` wraps any Panel object as a real ipywidget, so the Workbench can sit inside
# an `ipywidgets.VBox` or be shown by Voila.

# %%
import ipywidgets

widget = pn.ipywidget(Workbench())
assert isinstance(widget, ipywidgets.DOMWidget)
widget

# %% [markdown]
# ## Driving it from code
#
# Every button is a method, so a script (or a test) can do what a click does. `wait()`
# blocks until the training ends and draws its final state.

# %%
if not pn.state.served:  # `panel serve` runs this file for each page: no training there
    workbench.setup.training.steps = by_size(smoke=60, lecture=2000, full=2000)
    workbench.train()
    print("state:", workbench.wait())
    print(workbench.live.run)
