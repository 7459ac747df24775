"""The neural-operator family: learn the map from a family's input function to its solution
from a generated dataset.

* :class:`FNO`: Fourier neural operator;
* :class:`DeepONet`: branch and trunk networks;
* :class:`MultiONet`: DeepONet with several branch/trunk outputs combined (DGNO).

Data handling, scaling and evaluation are shared: see :class:`Operator`.
"""

from workbench.methods.operators.base import Operator, OperatorModel
from workbench.methods.operators.deeponet import DeepONet
from workbench.methods.operators.fno import FNO
from workbench.methods.operators.multionet import MultiONet

__all__ = ["Operator", "OperatorModel", "DeepONet", "FNO", "MultiONet"]
