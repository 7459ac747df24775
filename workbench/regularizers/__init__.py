"""Regularizers and training aids. Adding one is one file plus one line in ``REGULARIZERS``."""

from workbench.regularizers.base import Objective, Regularizer
from workbench.regularizers.gradient_norm import GradientNorm
from workbench.regularizers.weight_decay import L2Penalty, WeightDecay

REGULARIZERS: dict[str, type[Regularizer]] = {
    cls.name: cls for cls in (WeightDecay, L2Penalty, GradientNorm)
}

__all__ = ["REGULARIZERS", "Regularizer", "Objective", "WeightDecay", "L2Penalty", "GradientNorm"]
