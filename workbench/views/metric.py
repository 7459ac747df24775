"""The headline metric of a Run or snapshot as text: one wording and one format everywhere.

A Run stores its method's headline number as ``l2re`` and names it with the attrs
``metric_label`` and ``metric_long_name`` (a relative L2 error for most methods, a normalised
energy distance for field generators; see ``workbench.evaluation.Metric``). The status line,
the field panels, the Runs tab and the report all write the number with :func:`metric_text`,
so that the same model state reads the same everywhere; ``workbench run`` prints the Run's
summary with the same :data:`METRIC_FORMAT`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: How a metric's value is written (``Run.summary`` uses the same).
METRIC_FORMAT = ".4g"


def metric_label(attrs: Mapping) -> str:
    """The metric's short name (``l2re`` for data saved before metrics had names)."""
    return str(attrs.get("metric_label", "l2re"))


def metric_long_name(attrs: Mapping) -> str:
    """The metric's full name (``relative L2 error`` for data saved before names)."""
    return str(attrs.get("metric_long_name", "relative L2 error"))


def metric_value(attrs: Mapping) -> float | None:
    """The stored value (attr ``l2re``), None where absent or not finite."""
    value = attrs.get("l2re")
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def metric_text(attrs: Mapping, value: float | None = None, note: str = "") -> str:
    """``"l2re 0.4466"``, ``"energy distance 0.0312 (live, 48x48)"``, or ``"l2re -"``.

    Parameters
    ----------
    attrs : mapping
        Attrs naming the metric (a Run's root attrs, a snapshot's attrs).
    value : float, optional
        The value to write; by default the attrs' own ``l2re``.
    note : str
        Where the value comes from, when it is not the final model on the full set (e.g.
        ``"live, 48x48"``: a snapshot's value on its coarse grid).
    """
    value = metric_value(attrs) if value is None else value
    text = f"{metric_label(attrs)} " + ("-" if value is None else format(value, METRIC_FORMAT))
    return text + (f" ({note})" if note and value is not None else "")


def live_note(attrs: Mapping) -> str:
    """``"live, 48x48"`` for fields on a coarse grid (attr ``coarse_grid``), else ``""``."""
    grid = attrs.get("coarse_grid")
    return f"live, {grid}" if grid else ""
