"""Learning methods. Adding one is one file plus one line in ``METHODS``."""

from workbench.methods.base import Batch, Method, PhysicsInformed
from workbench.methods.pig import PIG, PIGModel
from workbench.methods.pinn import PINN, PINNModel

METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (PINN, PIG)}

__all__ = [
    "METHODS",
    "Method",
    "PhysicsInformed",
    "Batch",
    "PINN",
    "PINNModel",
    "PIG",
    "PIGModel",
]
