"""Live plots: Bokeh figures whose data is replaced in place at every UI tick.

The views in :mod:`workbench.views` build a new HoloViews element for every update, which is
right for Runs and reports but costs 7-11 ms per plot per update here (measured: an image
through a ``Pipe``/``DynamicMap`` 11 ms, a curve overlay 14 ms). Five plots refreshed five
times a second would take about a third of a core away from training. Replacing a
``ColumnDataSource``'s data costs well under a millisecond, so the Live tab draws with these;
labels, titles and colour conventions follow the views (``long_name``/``units`` attrs,
diverging colours centred on 0 for error and residual, time running horizontally).

By kind of plot:

- :mod:`~workbench.app.plots.curves`: against step, the loss, the combiner's diagnostics and
  an inverse problem's estimates;
- :mod:`~workbench.app.plots.fields`: a snapshot's fields (with collocation points and
  Gaussians) and a space-time profile;
- :mod:`~workbench.app.plots.generative`: a latent traversal and a field generator's gallery;
- :mod:`~workbench.app.plots.style`: the palettes, colours and labels they share.
"""

from workbench.app.plots.curves import DiagnosticsPlot, EstimatesPlot, LossPlot
from workbench.app.plots.fields import FieldPlot, ProfilePlot
from workbench.app.plots.generative import GalleryPlot, TraversalPlot
from workbench.app.plots.style import (
    CURVE_LABELS,
    DIVERGING,
    KEPT_COLOUR,
    MAGNITUDES,
    NEW_COLOUR,
    SET_COLOURS,
    WEIGHTS,
)

__all__ = [
    "CURVE_LABELS",
    "DIVERGING",
    "KEPT_COLOUR",
    "MAGNITUDES",
    "NEW_COLOUR",
    "SET_COLOURS",
    "WEIGHTS",
    "DiagnosticsPlot",
    "EstimatesPlot",
    "FieldPlot",
    "GalleryPlot",
    "LossPlot",
    "ProfilePlot",
    "TraversalPlot",
]
