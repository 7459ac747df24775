"""The result tabs of a finished Run: one tab per kind of result the Run holds data for.

The data decides the tabs, never the method's type: ``/samples`` holding a test set with its
truth (and ``/transfer``) get a gallery, an error histogram and a resolution transfer;
``/latent`` gets tabs of the latent space; ``/samples`` without a truth a Samples tab;
``/posterior`` a Posterior tab; learned coefficients in ``/history`` an Estimates tab.
:class:`ResultTabs` puts them after the Workbench's own tabs, replacing the last Run's.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import xarray as xr

from workbench import views
from workbench.views.fields import SAMPLE_DIM
from workbench.views.generation import generated_channels, posterior_channels
from workbench.views.latent import latent_names, parameters

#: Titles of the result tabs, in order; each appears when the Run holds its data.
RESULT_TABS = ("Gallery", "Error histogram", "Resolution transfer", "Rollout")

#: Titles of the result tabs of latent generative models (a Run with ``/latent``, and
#: ``/samples`` of prior draws), after :data:`RESULT_TABS`; each appears when its data does.
LATENT_TABS = ("Latent traversal", "Latent space", "Reconstructions", "Extrapolation", "Samples")

#: Titles of the result tabs of field generators: ``/samples`` holding a family's input and
#: ``u`` (no truth ``u_ref``, no latent draws ``z``), and ``/posterior``.
GENERATOR_TABS = ("Samples", "Posterior")

#: Title of the result tab of an inverse problem: ``/history`` holding learned coefficients.
INVERSE_TABS = ("Estimates",)


class ResultTabs:
    """The result tabs of the Run shown last, after the other tabs of ``tabs``.

    Parameters
    ----------
    tabs : panel.Tabs
        The page's tabs; tabs titled otherwise than the result tabs are left as they are.
    """

    def __init__(self, tabs: pn.Tabs):
        self.tabs = tabs

    def show(self, tree: xr.DataTree | None) -> None:
        """Result tabs for the groups ``tree`` holds (none for ``None``), replacing the last."""
        tabs = result_tabs(tree) if tree is not None else {}
        shown = {*RESULT_TABS, *LATENT_TABS, *GENERATOR_TABS, *INVERSE_TABS}
        kept = [(n, o) for n, o in zip(self.tabs._names, self.tabs.objects) if n not in shown]
        if len(kept) == len(self.tabs) and not tabs:
            return  # nothing shown, nothing to show: leave the page alone
        self.tabs[:] = kept + list(tabs.items())


def _group(tree: xr.DataTree, name: str) -> xr.Dataset | None:
    if name not in tree.children:
        return None
    ds = tree[name].to_dataset()
    return ds if SAMPLE_DIM in ds.dims and ds.data_vars else None


def result_tabs(tree: xr.DataTree) -> dict[str, pn.viewable.Viewable]:
    """The result tabs a finished Run has data for, by title (see :data:`RESULT_TABS`,
    :data:`LATENT_TABS`, :data:`GENERATOR_TABS` and :data:`INVERSE_TABS`)."""
    samples, transfer = _group(tree, "samples"), _group(tree, "transfer")
    tabs = {}
    # An operator's test set holds the truth (u_ref); a generative model's samples do not.
    if samples is not None and "u_ref" in samples.data_vars:
        tabs.update(_operator_tabs(samples, transfer))
    rolled = _group(tree, "rollout")
    if rolled is not None:  # an operator on an evolution family, fed its own output
        tabs["Rollout"] = pn.panel(views.rollout(rolled), widget_location="top")
    tabs.update(_latent_tabs(tree))
    if samples is not None and generated_channels(samples):
        # A field generator's: the family's input and u, each sample's residual.
        tabs["Samples"] = pn.pane.HoloViews(views.sample_gallery(samples))
    elif samples is not None and "u" in samples.data_vars and "u_ref" not in samples.data_vars:
        tabs["Samples"] = pn.pane.HoloViews(views.samples(samples))
    posterior = _group(tree, "posterior")
    if posterior is not None and posterior_channels(posterior):
        tabs["Posterior"] = _posterior_tab(posterior)
    if "history" in tree.children:
        learned = views.estimates(tree["history"].to_dataset())
        if len(learned):  # coefficients of an inverse problem, against their truth
            tabs["Estimates"] = pn.pane.HoloViews(learned.cols(2))
    return tabs


def _posterior_tab(posterior: xr.Dataset) -> pn.Column:
    """The inverse problem's summary (truth, mean, std, error) over its posterior samples."""
    panes = [pn.pane.HoloViews(views.posterior_summary(posterior))]
    if generated_channels(posterior):
        panes.append(pn.pane.HoloViews(views.posterior_gallery(posterior)))
    return pn.Column(*panes, sizing_mode="stretch_width")


def _operator_tabs(samples: xr.Dataset, transfer: xr.Dataset | None) -> dict:
    """Gallery, error histogram and resolution transfer of an operator's test set."""
    tabs = {}
    # The views' sample slider is lazy: one sample is drawn at a time, whatever the test size.
    tabs["Gallery"] = pn.panel(views.gallery(samples), widget_location="top")
    if "rel_l2" in samples.data_vars:
        with_rel = transfer if transfer is not None and "rel_l2" in transfer.data_vars else None
        tabs["Error histogram"] = pn.pane.HoloViews(views.error_histogram(samples, with_rel))
    if transfer is not None:
        try:
            transferred = views.resolution_transfer(samples, transfer)
        except ValueError as err:  # no sample in common: say so instead of no tab
            tabs["Resolution transfer"] = pn.pane.Markdown(f"Cannot compare: {err}.")
        else:
            tabs["Resolution transfer"] = pn.panel(transferred, widget_location="top")
    return tabs


def _latent_tabs(tree: xr.DataTree) -> dict[str, pn.viewable.Viewable]:
    """The tabs of a Run's ``/latent`` (and its fields' reconstructions), by title."""
    if "latent" not in tree.children:
        return {}
    latent = tree["latent"].to_dataset()
    tabs: dict[str, pn.viewable.Viewable] = {}
    if "traversal" in latent.data_vars:
        tabs["Latent traversal"] = pn.pane.HoloViews(views.traversal_grid(latent))
    if "z_mean" in latent.data_vars:
        tabs["Latent space"] = _latent_space(latent)
    fields = tree["fields"].to_dataset() if "fields" in tree.children else None
    if fields is not None and SAMPLE_DIM in fields.dims and {"u", "u_ref"} <= set(fields):
        tabs["Reconstructions"] = pn.panel(views.reconstructions(fields), widget_location="top")
    if "ood_u" in latent.data_vars and "ood_recon" in latent.data_vars:
        tabs["Extrapolation"] = pn.pane.HoloViews(views.extrapolation(latent))
    return tabs


def _latent_space(latent: xr.Dataset) -> pn.Column:
    """Encodings coloured by a parameter, a latent against its parameter, the spectrum."""
    names = latent_names(latent)
    known = parameters(latent)
    colours = known + (["rel_l2"] if "rel_l2" in latent.data_vars else [])
    ranked = sorted(np.argsort(-latent["z_mean"].std(SAMPLE_DIM).values, kind="stable")[:2])
    colour = pn.widgets.Select(label="colour by / parameter", options=colours, width=180)
    x = pn.widgets.Select(label="x latent", options=names, value=names[ranked[0]], width=110)
    y = pn.widgets.Select(
        label="y latent", options=names, value=names[ranked[-1]], width=110, visible=len(names) > 1
    )
    auto = "most correlated"
    parity_latent = pn.widgets.Select(
        label="latent against the parameter",
        options=[auto, *names],
        value=auto,
        width=200,
        visible=bool(known),
    )

    def scatter(colour, x, y):
        try:
            return pn.pane.HoloViews(views.latent_scatter(latent, colour, x, y))
        except ValueError as err:
            return pn.pane.Markdown(f"No scatter: {err}.")

    def parity(colour, chosen):
        if not known:
            return pn.pane.Markdown("No true parameters to compare with: a function family.")
        parameter = colour if colour in known else known[0]
        latent_dim = None if chosen == auto else chosen
        return pn.pane.HoloViews(views.latent_parity(latent, parameter, latent_dim))

    return pn.Column(
        pn.Row(colour, x, y, parity_latent),
        pn.FlexBox(
            pn.panel(pn.bind(scatter, colour, x, y)),
            pn.panel(pn.bind(parity, colour, parity_latent)),
            pn.pane.HoloViews(views.latent_spectrum(latent)),
        ),
        sizing_mode="stretch_width",
    )
