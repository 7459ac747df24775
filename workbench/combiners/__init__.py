"""Combiners: how ``train()`` turns the named, weighted loss terms into one update.

* ``sum``: add the terms and take one gradient (fixed weights are this with ``weights=``);
* ``lra``: learning-rate annealing, reweighting terms by their gradient sizes (Wang, Teng &
  Perdikaris 2021);
* ``config`` / ``m_config``: a conflict-free direction from the terms' gradients (Liu et al.,
  ICLR 2025), and its momentum variant;
* ``multiadam``: Adam moments per term (Yao et al., ICML 2023).

Adding one is one file plus one line in ``COMBINERS``.
"""

from workbench.combiners.base import Combiner
from workbench.combiners.config import ConFIG, MConFIG, config_direction
from workbench.combiners.lra import LRA
from workbench.combiners.multiadam import MultiAdam
from workbench.combiners.sum import Sum

COMBINERS: dict[str, type[Combiner]] = {
    cls.name: cls for cls in (Sum, LRA, ConFIG, MConFIG, MultiAdam)
}

__all__ = [
    "COMBINERS",
    "Combiner",
    "Sum",
    "LRA",
    "ConFIG",
    "MConFIG",
    "MultiAdam",
    "config_direction",
]
