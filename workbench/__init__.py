"""The workbench: a notebook-first lab for physics-informed machine learning.

Pick a :class:`Problem`, a :class:`Method`, :class:`Regularizer` s and a :class:`Combiner`,
then :func:`fit` (or iterate :func:`train` for live updates) and look at the :class:`Run`;
:func:`sweep` trains over a grid of knob values (on Dask) into one ``xarray.Dataset``.
"""

from workbench.combiners import COMBINERS as COMBINERS
from workbench.combiners import LRA as LRA
from workbench.combiners import Combiner as Combiner
from workbench.combiners import ConFIG as ConFIG
from workbench.combiners import MConFIG as MConFIG
from workbench.combiners import MultiAdam as MultiAdam
from workbench.combiners import Sum as Sum
from workbench.methods import FNO as FNO
from workbench.methods import METHODS as METHODS
from workbench.methods import PBFM as PBFM
from workbench.methods import PIG as PIG
from workbench.methods import PINN as PINN
from workbench.methods import VAE as VAE
from workbench.methods import VANO as VANO
from workbench.methods import DeepONet as DeepONet
from workbench.methods import Diffusion as Diffusion
from workbench.methods import FlowMatching as FlowMatching
from workbench.methods import Method as Method
from workbench.methods import MultiONet as MultiONet
from workbench.methods import PhysVAE as PhysVAE
from workbench.problems import PROBLEMS as PROBLEMS
from workbench.problems import AdvectionDiffusion1D as AdvectionDiffusion1D
from workbench.problems import AllenCahn1D as AllenCahn1D
from workbench.problems import Burgers1D as Burgers1D
from workbench.problems import Convection1D as Convection1D
from workbench.problems import Darcy2D as Darcy2D
from workbench.problems import Heat1D as Heat1D
from workbench.problems import Helmholtz2D as Helmholtz2D
from workbench.problems import Pendulum as Pendulum
from workbench.problems import Poisson1D as Poisson1D
from workbench.problems import Poisson2D as Poisson2D
from workbench.problems import Problem as Problem
from workbench.problems import Reaction1D as Reaction1D
from workbench.recipes import RECIPES as RECIPES
from workbench.recipes import recipe as recipe
from workbench.regularizers import REGULARIZERS as REGULARIZERS
from workbench.regularizers import Data as Data
from workbench.regularizers import DataEmphasizedELBO as DataEmphasizedELBO
from workbench.regularizers import GradientNorm as GradientNorm
from workbench.regularizers import JacobianNuclearNorm as JacobianNuclearNorm
from workbench.regularizers import KLAnnealing as KLAnnealing
from workbench.regularizers import L2Penalty as L2Penalty
from workbench.regularizers import LeastVolume as LeastVolume
from workbench.regularizers import PDEResidual as PDEResidual
from workbench.regularizers import Regularizer as Regularizer
from workbench.regularizers import WeightDecay as WeightDecay
from workbench.results import Run as Run
from workbench.sweep import Sweep as Sweep
from workbench.sweep import sweep as sweep
from workbench.train import Progress as Progress
from workbench.train import Training as Training
from workbench.train import fit as fit
from workbench.train import train as train
