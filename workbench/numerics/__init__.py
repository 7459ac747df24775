"""Classical reference solvers (numpy/scipy, float64) used to validate learned solutions."""

from .burgers import burgers_cole_hopf as burgers_cole_hopf
from .spectral import allen_cahn_reference as allen_cahn_reference
from .spectral import etdrk4_periodic as etdrk4_periodic
