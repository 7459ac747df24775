"""Pure views of Run data: ``xarray`` in, HoloViews (bokeh backend) out.

Nothing here imports torch, so views are testable and usable on saved Runs
without the training stack.
"""

from workbench.views.decoded import extrapolation, reconstructions, samples
from workbench.views.fields import compare, component_fields, components, field, profile
from workbench.views.generation import (
    generated_channels,
    pareto,
    posterior_channels,
    posterior_gallery,
    posterior_summary,
    sample_gallery,
)
from workbench.views.history import diagnostics, error_history, estimates, history
from workbench.views.latent import latent_parity, latent_scatter, latent_spectrum, traversal_grid
from workbench.views.operators import error_histogram, gallery, resolution_transfer, rollout
from workbench.views.points import gaussians, points
from workbench.views.report import report
from workbench.views.sweeps import sweep_curve, sweep_heatmap, sweep_plot, sweep_point

__all__ = [
    "compare",
    "component_fields",
    "components",
    "diagnostics",
    "error_histogram",
    "error_history",
    "estimates",
    "extrapolation",
    "field",
    "gallery",
    "gaussians",
    "generated_channels",
    "history",
    "latent_parity",
    "latent_scatter",
    "latent_spectrum",
    "pareto",
    "points",
    "posterior_channels",
    "posterior_gallery",
    "posterior_summary",
    "profile",
    "reconstructions",
    "report",
    "resolution_transfer",
    "rollout",
    "sample_gallery",
    "samples",
    "sweep_curve",
    "sweep_heatmap",
    "sweep_plot",
    "sweep_point",
    "traversal_grid",
]
