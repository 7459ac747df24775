"""Regularizers, combiners of loss terms and collocation samplers.

Adding one is one file plus one line in ``REGULARIZERS``, ``COMBINERS`` or ``SAMPLERS``.
"""

from workbench.regularizers.base import Combiner, Objective, Regularizer, Sampler
from workbench.regularizers.config import ConFIG, MConFIG, config_direction
from workbench.regularizers.data import Data, synthetic_observations
from workbench.regularizers.de_elbo import DataEmphasizedELBO
from workbench.regularizers.gradient_norm import GradientNorm
from workbench.regularizers.jacobian_nuclear import JacobianNuclearNorm
from workbench.regularizers.kl_annealing import KLAnnealing
from workbench.regularizers.least_volume import LeastVolume
from workbench.regularizers.lra import LRA
from workbench.regularizers.multiadam import MultiAdam
from workbench.regularizers.pde_residual import PDEResidual
from workbench.regularizers.sampling import R3, RARD, SAMPLERS, CausalR3, Fixed, Resample
from workbench.regularizers.sum import Sum
from workbench.regularizers.weight_decay import L2Penalty, WeightDecay

REGULARIZERS: dict[str, type[Regularizer]] = {
    cls.name: cls
    for cls in (
        WeightDecay,
        L2Penalty,
        GradientNorm,
        PDEResidual,
        KLAnnealing,
        DataEmphasizedELBO,
        LeastVolume,
        JacobianNuclearNorm,
        Data,
    )
}

COMBINERS: dict[str, type[Combiner]] = {
    cls.name: cls for cls in (Sum, LRA, ConFIG, MConFIG, MultiAdam)
}

__all__ = [
    "REGULARIZERS",
    "COMBINERS",
    "SAMPLERS",
    "Regularizer",
    "Combiner",
    "Sampler",
    "Objective",
    "WeightDecay",
    "L2Penalty",
    "GradientNorm",
    "PDEResidual",
    "KLAnnealing",
    "DataEmphasizedELBO",
    "LeastVolume",
    "JacobianNuclearNorm",
    "Data",
    "synthetic_observations",
    "Sum",
    "LRA",
    "ConFIG",
    "MConFIG",
    "MultiAdam",
    "config_direction",
    "Fixed",
    "Resample",
    "R3",
    "CausalR3",
    "RARD",
]
