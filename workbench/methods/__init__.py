"""Learning methods. Adding one is one file plus one line in ``METHODS``."""

from workbench.methods.base import Batch, Method
from workbench.methods.pinn import PINN, PINNModel

METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (PINN,)}

__all__ = ["METHODS", "Method", "Batch", "PINN", "PINNModel"]
