"""Pure views of Run data: ``xarray`` in, HoloViews (bokeh backend) out.

Nothing here imports torch, so views are testable and usable on saved Runs
without the training stack.
"""

from workbench.views.fields import compare, field, points, profile
from workbench.views.history import error_history, history
from workbench.views.report import report

__all__ = [
    "compare",
    "error_history",
    "field",
    "history",
    "points",
    "profile",
    "report",
]
