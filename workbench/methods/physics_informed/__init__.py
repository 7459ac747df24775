"""The physics-informed family: a field network trained at collocation points on the PDE
residual and the conditions.

* :class:`PINN`: a multilayer perceptron (Raissi, Perdikaris & Karniadakis 2019);
* :class:`PIG`: Physics-Informed Gaussians, a Gaussian feature embedding with a small MLP.

The loss, constraints, derivatives and collocation points are shared: see
:class:`PhysicsInformed`.
"""

from workbench.methods.physics_informed.base import PhysicsInformed
from workbench.methods.physics_informed.pig import PIG, PIGModel
from workbench.methods.physics_informed.pinn import PINN, PINNModel

__all__ = ["PhysicsInformed", "PIG", "PIGModel", "PINN", "PINNModel"]
