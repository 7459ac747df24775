"""Regularizers: extra loss terms (and decoupled weight decay) added to a method's loss.

Adding one is one file plus one line in ``REGULARIZERS``. How the terms become one update
lives in :mod:`workbench.combiners`, where collocation points go in :mod:`workbench.sampling`.
"""

from workbench.regularizers.base import Objective, Regularizer
from workbench.regularizers.data import Data, synthetic_observations
from workbench.regularizers.de_elbo import DataEmphasizedELBO
from workbench.regularizers.gradient_norm import GradientNorm
from workbench.regularizers.jacobian_nuclear import JacobianNuclearNorm
from workbench.regularizers.kl_annealing import KLAnnealing
from workbench.regularizers.least_volume import LeastVolume
from workbench.regularizers.pde_residual import PDEResidual
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

__all__ = [
    "REGULARIZERS",
    "Regularizer",
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
]
