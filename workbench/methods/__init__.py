"""Learning methods, one sub-package per family, each holding its base class next to its
methods:

* :mod:`~workbench.methods.physics_informed`: PINN, PIG (:class:`PhysicsInformed`);
* :mod:`~workbench.methods.operators`: FNO, DeepONet, MultiONet (:class:`Operator`);
* :mod:`~workbench.methods.latent`: VAE, PhysVAE, VANO (:class:`LatentModel`);
* :mod:`~workbench.methods.field_generators`: flow matching, PBFM, diffusion
  (:class:`FieldGenerator`).

:mod:`~workbench.methods.base` holds the :class:`Method` contract they all fulfil. Adding a
method is one file in its family plus one line in ``METHODS``.
"""

from workbench.methods.base import Batch, Method
from workbench.methods.family import FamilyMethod
from workbench.methods.field_generators import (
    PBFM,
    Diffusion,
    FieldGenerator,
    FieldModel,
    Flow,
    FlowMatching,
)
from workbench.methods.latent import (
    VAE,
    VANO,
    LatentModel,
    PhysVAE,
    PhysVAEModel,
    VAEModel,
    VANOModel,
)
from workbench.methods.operators import FNO, DeepONet, MultiONet, Operator, OperatorModel
from workbench.methods.physics_informed import PIG, PINN, PhysicsInformed, PIGModel, PINNModel

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (
        PINN,
        PIG,
        FNO,
        DeepONet,
        MultiONet,
        VAE,
        PhysVAE,
        VANO,
        FlowMatching,
        PBFM,
        Diffusion,
    )
}

__all__ = [
    "METHODS",
    "Method",
    "PhysicsInformed",
    "Operator",
    "FamilyMethod",
    "LatentModel",
    "FieldGenerator",
    "FieldModel",
    "Flow",
    "OperatorModel",
    "Batch",
    "PINN",
    "PINNModel",
    "PIG",
    "PIGModel",
    "FNO",
    "DeepONet",
    "MultiONet",
    "VAE",
    "VAEModel",
    "PhysVAE",
    "PhysVAEModel",
    "VANO",
    "VANOModel",
    "FlowMatching",
    "PBFM",
    "Diffusion",
]
