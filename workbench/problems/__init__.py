"""The catalog of PDE problems. Adding one is one file plus one line in ``PROBLEMS``."""

from workbench.problems.advection_diffusion1d import AdvectionDiffusion1D
from workbench.problems.allen_cahn1d import AllenCahn1D
from workbench.problems.base import Problem
from workbench.problems.burgers1d import Burgers1D
from workbench.problems.cavity2d import Cavity2D
from workbench.problems.conditions import (
    Condition,
    DerivativeCondition,
    PeriodicCondition,
    ValueCondition,
)
from workbench.problems.convection1d import Convection1D
from workbench.problems.darcy2d import Darcy2D
from workbench.problems.heat1d import Heat1D
from workbench.problems.helmholtz2d import Helmholtz2D
from workbench.problems.kolmogorov2d import Kolmogorov2D
from workbench.problems.kovasznay2d import Kovasznay2D
from workbench.problems.pendulum import Pendulum
from workbench.problems.poisson1d import Poisson1D
from workbench.problems.poisson2d import Poisson2D
from workbench.problems.reaction1d import Reaction1D
from workbench.problems.taylor_green2d import TaylorGreen2D

PROBLEMS: dict[str, type[Problem]] = {
    cls.name: cls
    for cls in (
        Poisson1D,
        Poisson2D,
        Helmholtz2D,
        Darcy2D,
        Heat1D,
        Convection1D,
        Reaction1D,
        Burgers1D,
        AllenCahn1D,
        Pendulum,
        AdvectionDiffusion1D,
        Kolmogorov2D,
        Kovasznay2D,
        TaylorGreen2D,
        Cavity2D,
    )
}

__all__ = [
    "PROBLEMS",
    "Problem",
    "Condition",
    "ValueCondition",
    "DerivativeCondition",
    "PeriodicCondition",
    *(cls.__name__ for cls in PROBLEMS.values()),
]
