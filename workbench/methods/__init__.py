"""Learning methods. Adding one is one file plus one line in ``METHODS``."""

from workbench.methods.base import (
    Batch,
    FamilyMethod,
    FieldGenerator,
    FieldModel,
    Flow,
    GenerativeMethod,
    Method,
    Operator,
    OperatorModel,
    PhysicsInformed,
)
from workbench.methods.deeponet import DeepONet
from workbench.methods.diffusion import Diffusion
from workbench.methods.flow_matching import FlowMatching
from workbench.methods.fno import FNO
from workbench.methods.multionet import MultiONet
from workbench.methods.pbfm import PBFM
from workbench.methods.phys_vae import PhysVAE, PhysVAEModel
from workbench.methods.pig import PIG, PIGModel
from workbench.methods.pinn import PINN, PINNModel
from workbench.methods.vae import VAE, VAEModel
from workbench.methods.vano import VANO, VANOModel

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
    "GenerativeMethod",
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
