"""Physics-informed neural network (Raissi, Perdikaris & Karniadakis 2019).

The field is an MLP of the (rescaled) coordinates. The loss is the mean squared PDE residual
at collocation points plus one mean squared mismatch term per boundary/initial/periodic
condition. With ``hard_constraints`` the network output goes through the problem's
exact-constraint transform and the conditions it satisfies drop out of the loss.

Derivatives are propagated forward through the network together with the values (one stacked
matrix product per layer, see :mod:`workbench.calculus`), or, with
``derivatives="autograd"``, obtained by repeated reverse passes for comparison.
"""

from __future__ import annotations

import param
import torch
from torch import nn

from workbench.calculus import Jet, stack_jets
from workbench.methods.physics_informed.base import PhysicsInformed
from workbench.nn.mlp import ACTIVATIONS, MLP, FourierFeatures
from workbench.problems.base import Problem


class PINNModel(nn.Module):
    """The network of a PINN: an MLP of the coordinates rescaled to ``[-1, 1]``.

    It returns the raw network output as a :class:`~workbench.calculus.Jet`; the method applies
    the problem's exact-constraint transform on top (so the module holds no problem object).

    Parameters
    ----------
    problem : Problem
        Gives the dims and the domain used for rescaling.
    mlp : MLP
        The network.
    """

    def __init__(self, problem: Problem, mlp: MLP):
        super().__init__()
        self.dims = problem.dims
        self.mlp = mlp
        # Plain floats, not buffers: torch.compile cannot trace ``Jet - Tensor`` without a break.
        self.centre = [sum(problem.domain[d]) / 2 for d in self.dims]
        self.scale = [2 / (problem.domain[d][1] - problem.domain[d][0]) for d in self.dims]

    def forward(self, coords: dict[str, Jet]) -> Jet:
        """Network output for coordinate jets (see :func:`~workbench.calculus.coordinate_jets`)."""
        # The network sees coordinates rescaled to [-1, 1]; tanh nets train badly on [0, 2 pi].
        scaled = [(coords[d] - self.centre[i]) * self.scale[i] for i, d in enumerate(self.dims)]
        return self.mlp.forward_jet(stack_jets(scaled))


class PINN(PhysicsInformed):
    """Physics-informed neural network: an MLP trained on the PDE residual and its conditions.

    The loss, sampling, causal weighting and constraint knobs are those of every PINN-family
    method (see :class:`~workbench.methods.physics_informed.PhysicsInformed`).
    """

    name = param.String("pinn", constant=True, doc="Registry name of this method.")

    width = param.Integer(32, bounds=(2, 1024), doc="Neurons per hidden layer.")
    depth = param.Integer(4, bounds=(1, 16), doc="Number of hidden layers.")
    activation = param.Selector(
        objects=list(ACTIVATIONS),
        default="tanh",
        doc="Activation; 'wavelet' is PINNsFormer's trainable w1 sin + w2 cos.",
    )
    fourier_features = param.Integer(
        0, bounds=(0, 512), doc="Random Fourier features of the input (0 = off)."
    )
    fourier_scale = param.Number(
        1.0, bounds=(1e-3, 100.0), doc="Standard deviation of the Fourier frequencies."
    )

    def network(self, problem: Problem, generator: torch.Generator) -> PINNModel:
        n_in = len(problem.dims)
        fourier = None
        if self.fourier_features:
            fourier = FourierFeatures(n_in, self.fourier_features, self.fourier_scale, generator)
        mlp = MLP(
            n_in, self.outputs(problem), self.width, self.depth, self.activation, generator, fourier
        )
        return PINNModel(problem, mlp)
