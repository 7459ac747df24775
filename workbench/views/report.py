"""Static, self-contained HTML report of a Run."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import holoviews as hv
import numpy as np
import xarray as xr
from bokeh.embed import file_html
from bokeh.layouts import column
from bokeh.resources import INLINE

from workbench.views.decoded import extrapolation
from workbench.views.decoded import samples as prior_samples
from workbench.views.fields import (
    SAMPLE_DIM,
    compare,
    component_fields,
    components,
    field,
    sample_labels,
    select_sample,
)
from workbench.views.generation import (
    generated_channels,
    posterior_channels,
    posterior_gallery,
    posterior_summary,
    sample_gallery,
)
from workbench.views.history import diagnostics, error_history, estimates, history
from workbench.views.latent import latent_parity, latent_scatter, latent_spectrum, traversal_grid
from workbench.views.latent_data import parameters
from workbench.views.metric import metric_long_name, metric_text, metric_value
from workbench.views.operators import error_histogram, gallery, resolution_transfer, rollout
from workbench.views.points import gaussians, points

_STYLE = """
<style>
  .wb-report { font-family: system-ui, sans-serif; padding: 1em 2em; }
  .wb-report table { border-collapse: collapse; margin-bottom: 1em; }
  .wb-report td, .wb-report th { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
  .wb-report pre { margin: 0; font-size: 85%; }
  .wb-report .status-bad { color: #b00020; font-weight: bold; }
</style>
"""

# Bokeh's ``file_html`` template, extended (documented Jinja blocks) with our
# static header; the report text needs no Bokeh widget models, which would
# add the widgets bundle to every file.
_TEMPLATE = """
{% block postamble %}{{ wb_style }}{% endblock %}
{% block contents %}
<div class="wb-report">{{ wb_header }}</div>
<div class="wb-report">{{ super() }}</div>
{% endblock %}
"""

_PARAM_ATTRS = ("problem_params", "method_params", "regularizers", "combiner")
_PLAIN_ATTRS = ("seed", "device", "workbench_version", "torch_version", "created")


def _dataset(tree: xr.DataTree, group: str) -> xr.Dataset | None:
    """Group ``group`` as a Dataset, or None if absent or without variables."""
    if group not in tree.children:
        return None
    ds = tree[group].to_dataset()
    return ds if ds.data_vars else None


def _last_finite(ds: xr.Dataset | None, name: str) -> float | None:
    if ds is None or name not in ds.data_vars:
        return None
    values = np.asarray(ds[name].values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values[-1]) if values.size else None


def _pretty_json(text: object) -> str:
    # Params are stored as JSON strings; re-indent them for reading, but show
    # anything that does not parse verbatim rather than failing the report.
    try:
        return json.dumps(json.loads(str(text)), indent=2, sort_keys=True)
    except ValueError:
        return str(text)


def _header(tree: xr.DataTree, hist: xr.Dataset | None) -> str:
    attrs = tree.attrs
    e = html.escape
    status = str(attrs.get("status", "unknown"))
    rows = [
        (
            "status",
            f'<span class="{"" if status == "done" else "status-bad"}">{e(status)}</span>'
            + (f" &mdash; {e(str(attrs['message']))}" if attrs.get("message") else ""),
        )
    ]
    # The final model state's metric is the root attr (what the summary prints); the
    # history's last logged value belongs to an earlier step.
    final = metric_value(attrs)
    loss, wall = (_last_finite(hist, n) for n in ("loss", "wall_s"))
    rows += [
        (
            f"final {metric_long_name(attrs)}",
            "n/a" if final is None else e(metric_text(attrs, final)),
        ),
        ("final loss", "n/a" if loss is None else f"{loss:.3e}"),
        (
            "steps",
            str(hist.sizes["step"]) if hist is not None and "step" in hist.sizes else "n/a",
        ),
        ("wall time", "n/a" if wall is None else f"{wall:.1f} s"),
    ]
    rows += [(k, e(str(attrs[k]))) for k in _PLAIN_ATTRS if k in attrs]
    rows += [(k, f"<pre>{e(_pretty_json(attrs[k]))}</pre>") for k in _PARAM_ATTRS if k in attrs]
    table = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    problem, method = (e(str(attrs.get(k, f"unknown {k}"))) for k in ("problem", "method"))
    return f"<h1>{problem} &mdash; {method}</h1><table>{table}</table>"


def _strip_external(page: str) -> str:
    """Remove ``<script src>``/``<link>`` tags for class-declared resources.

    Even in INLINE mode Bokeh links the ``__javascript__``/``__css__`` URLs
    declared by *every imported* model class, used or not; panel (imported by
    holoviews) declares a relative ``static/extensions/panel/...`` script that
    would be a dead link in a standalone file. Inline mode resolves no files of
    its own, so ``INLINE.js_files``/``css_files`` are exactly those URLs.
    """
    for url in {*INLINE.js_files, *INLINE.css_files}:
        u = re.escape(url)
        page = re.sub(rf'<script src="{u}"></script>\s*', "", page)
        page = re.sub(rf'<link rel="stylesheet" href="{u}"[^>]*>\s*', "", page)
    return page


def _on_field(base: xr.DataArray | None, overlay: hv.Overlay) -> hv.Overlay:
    """``overlay`` on an image of ``base`` when both are 2D, else alone."""
    if base is not None and base.ndim == len(overlay.get(0).kdims) == 2:
        return field(base) * overlay
    return overlay


def _picks(samples: xr.Dataset) -> list[tuple[str, object]]:
    """(which, label) of the test samples a static report shows: worst, median, best."""
    labels = sample_labels(samples)
    if "rel_l2" not in samples.data_vars:
        return [("first", labels[0].item())]
    rel = np.asarray(samples["rel_l2"].values, dtype=float)
    # NaN sorts last: a diverged sample counts as the worst, which it is.
    order = np.argsort(np.where(np.isfinite(rel), rel, np.inf), kind="stable")
    picks = {"worst": order[-1], "median": order[len(order) // 2], "best": order[0]}
    seen, out = set(), []
    for which, i in picks.items():
        if i not in seen:  # a test set of one or two samples
            seen.add(i)
            out.append((which, labels[i].item()))
    return out


def _operator_plots(tree: xr.DataTree) -> list:
    """Gallery, error histogram and resolution transfer, for the groups the Run has."""
    samples = _dataset(tree, "samples")
    # A test set holds its truth (u_ref); a generative model's prior draws have none.
    if samples is None or SAMPLE_DIM not in samples.dims or "u_ref" not in samples.data_vars:
        return []
    transfer = _dataset(tree, "transfer")
    if transfer is not None and SAMPLE_DIM not in transfer.dims:
        transfer = None
    plots = []
    # A static page has no slider: show the samples that tell most about the test error.
    picks = _picks(samples)
    for which, label in picks:
        plots.append(gallery(samples, sample=label).opts(title=f"{which} test sample"))
    if "rel_l2" in samples.data_vars:
        with_rel = transfer if transfer is not None and "rel_l2" in transfer.data_vars else None
        plots.append(error_histogram(samples, with_rel))
    if transfer is not None:
        median = next((label for which, label in picks if which == "median"), picks[0][1])
        if median in sample_labels(transfer):
            plots.append(
                resolution_transfer(samples, transfer, sample=median).opts(
                    title=f"resolution transfer of the median test sample ({median})"
                )
            )
    traj = _dataset(tree, "rollout")
    if traj is not None and SAMPLE_DIM in traj.dims:
        # The last step, where the drift is largest, and the error over time.
        plots.append(
            rollout(traj, t=float(traj["t"].values[-1])).opts(
                title=f"autoregressive rollout: {traj.attrs.get('steps', '')} steps"
            )
        )
    return plots


def _latent_plots(tree: xr.DataTree) -> list:
    """Traversal, encodings, spectrum, extrapolation and prior draws of a generative run."""
    latent = _dataset(tree, "latent")
    plots = []
    if latent is not None:
        if "traversal" in latent.data_vars:
            plots.append(traversal_grid(latent))
        if "z_mean" in latent.data_vars:
            row = []
            if latent.sizes.get("latent", 0) > 1:
                row.append(latent_scatter(latent))
            if parameters(latent):
                row.append(latent_parity(latent))
            row.append(latent_spectrum(latent))
            plots.append(hv.Layout(row).cols(len(row)))
        if "ood_u" in latent.data_vars and "ood_recon" in latent.data_vars:
            plots.append(extrapolation(latent))
    samples = _dataset(tree, "samples")
    if samples is not None and "u" in samples.data_vars and "u_ref" not in samples.data_vars:
        # A field generator's samples (input and u) have their own gallery.
        if SAMPLE_DIM in samples["u"].dims and not generated_channels(samples):
            plots.append(prior_samples(samples, max_samples=8))
    return plots


def _generator_plots(tree: xr.DataTree) -> list:
    """A field generator's samples, and the posterior of its inverse problem."""
    plots = []
    samples = _dataset(tree, "samples")
    if samples is not None and generated_channels(samples):
        plots.append(sample_gallery(samples))
    posterior = _dataset(tree, "posterior")
    if posterior is not None and posterior_channels(posterior):
        plots.append(posterior_summary(posterior))
        if generated_channels(posterior):
            plots.append(posterior_gallery(posterior))
    return plots


def _plots(tree: xr.DataTree, hist: xr.Dataset | None) -> list:
    """The report's HoloViews objects, skipping whatever the Run lacks."""
    plots = []
    fields = _dataset(tree, "fields")
    if fields is not None and generated_channels(fields):
        # A field generator's fields are a few samples from fixed noise: /samples shows more.
        fields = None
    if fields is not None and SAMPLE_DIM in fields.dims:
        # Operator runs: the first test sample, residual included (the gallery lacks it).
        first = sample_labels(fields)[0].item()
        plots.append(compare(fields, sample=first).opts(title=f"fields of test sample {first}"))
        fields = select_sample(fields, first)
    elif fields is not None and components(fields):
        # A flow's report shows every component (u, v, p), then the vorticity where it has one.
        shown = [c for c in components(fields) if c not in ("speed",)]
        plots += [compare(fields, component=c).opts(title=f"fields: {c}") for c in shown]
        fields = component_fields(fields)
    elif fields is not None:
        plots.append(compare(fields))
    if hist is not None:
        # Empty panels (no loss terms, l2re never evaluated) only add warnings.
        curves = [p for p in (history(hist), error_history(hist)) if len(p)]
        if curves:
            plots.append(hv.Layout(curves).cols(2))
        panels = diagnostics(hist)
        if len(panels):
            plots.append(panels.cols(2))
        learned = estimates(hist)
        if len(learned):
            plots.append(learned.cols(2))
    plots += _operator_plots(tree)
    plots += _latent_plots(tree)
    plots += _generator_plots(tree)
    pts = _dataset(tree, "points")
    if pts is None:
        return plots
    # The fields' dims name the problem's coordinates for sure; inferring them from the
    # point variables is the fallback for Runs saved without fields.
    dims = list(fields[next(iter(fields.data_vars))].dims) if fields is not None else None
    base = next((fields[n] for n in ("residual", "u") if fields is not None and n in fields), None)
    overlay = points(pts, dims)
    if len(overlay):
        plots.append(
            _on_field(base, overlay).opts(
                title="collocation points", width=480, height=340, backend="bokeh"
            )
        )
    anchors = gaussians(pts, dims)
    if len(anchors):
        plots.append(
            _on_field(base, anchors).opts(
                title="PIG Gaussians: centres (colour: weight) and 1-sigma widths",
                # The title names both layers; a legend box would only hide Gaussians.
                show_legend=False,
                width=480,
                height=380,
                backend="bokeh",
            )
        )
    return plots


def report(tree: xr.DataTree, path: str | Path) -> Path:
    """Write a static, self-contained HTML report of a Run.

    Parameters
    ----------
    tree : xarray.DataTree
        A Run: root attrs with provenance and optional ``/history``,
        ``/fields``, ``/points``, ``/samples``, ``/transfer``, ``/latent`` and
        ``/posterior`` groups.
        Missing or empty groups are skipped, and so are panels the Run has no
        data for: the combiner's diagnostics (term weights, gradient cosines),
        the PIG Gaussians drawn on the residual. ``/samples`` (a test set of
        an operator run) adds the gallery of its worst, median and best
        samples and the histogram of their errors; ``/transfer`` adds the
        resolution-transfer panel. ``/fields`` with a ``sample`` dim shows its
        first sample. ``/latent`` (a generative run) adds the latent traversal,
        the test encodings (coloured by a true parameter, and against it for a
        parameter family), the latent spectrum and, when present, the
        out-of-range reconstructions; ``/samples`` without a truth (prior
        draws) adds the first of them. A field generator's ``/samples`` (the family's input
        and ``u``, see :func:`~workbench.views.generation.generated_channels`) adds their
        gallery instead, and ``/posterior`` its summary and posterior samples; its
        ``/fields`` (a few samples from fixed noise) are then left out.
    path : str or pathlib.Path
        Output file; parent directories are created.

    Returns
    -------
    pathlib.Path
        ``path``. The file embeds BokehJS and all plot data inline, so it opens
        offline and can be archived or mailed as a single file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hist = _dataset(tree, "history")
    header = _header(tree, hist)
    title = f"{tree.attrs.get('problem', 'run')} / {tree.attrs.get('method', '')}"
    models = [hv.render(p, backend="bokeh") for p in _plots(tree, hist)]
    if models:
        page = file_html(
            column(*models),
            resources=INLINE,
            title=title,
            template=_TEMPLATE,
            template_variables={"wb_header": header, "wb_style": _STYLE},
        )
        page = _strip_external(page)
    else:
        page = (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}"
            f"</title>{_STYLE}</head><body><div class='wb-report'>{header}</div></body></html>"
        )
    path.write_text(page, encoding="utf-8")
    return path
