"""The Panel front end: the :class:`Workbench` viewer and ``workbench serve``."""

from workbench.app.limits import ServeLimits
from workbench.app.live import LiveTraining
from workbench.app.setup import Setup, from_query, to_query
from workbench.app.sweeps import SweepPanel
from workbench.app.workbench import Workbench

__all__ = [
    "LiveTraining",
    "ServeLimits",
    "Setup",
    "SweepPanel",
    "Workbench",
    "from_query",
    "to_query",
]
