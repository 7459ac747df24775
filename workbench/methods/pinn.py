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

from collections.abc import Iterator, Mapping

import param
import torch
from torch import nn

from workbench.calculus import Jet, coordinate_jets, jet_by_autograd, stack_jets
from workbench.methods.base import Batch, Method
from workbench.nn.mlp import ACTIVATIONS, MLP, FourierFeatures
from workbench.problems.base import Problem, columns


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


class PINN(Method):
    """Physics-informed neural network: an MLP trained on the PDE residual and its conditions."""

    name = param.String("pinn", constant=True, doc="Registry name of this method.")

    width = param.Integer(32, bounds=(2, 1024), doc="Neurons per hidden layer.")
    depth = param.Integer(4, bounds=(1, 16), doc="Number of hidden layers.")
    activation = param.Selector(objects=list(ACTIVATIONS), default="tanh", doc="Activation.")
    fourier_features = param.Integer(
        0, bounds=(0, 512), doc="Random Fourier features of the input (0 = off)."
    )
    fourier_scale = param.Number(
        1.0, bounds=(1e-3, 100.0), doc="Standard deviation of the Fourier frequencies."
    )
    hard_constraints = param.Boolean(
        False, doc="Satisfy the conditions exactly with the problem's output transform."
    )
    derivatives = param.Selector(
        objects=["forward", "autograd"],
        default="forward",
        doc="Derivatives carried forward through the net, or by repeated autograd passes.",
    )
    n_interior = param.Integer(
        None,
        allow_None=True,
        bounds=(1, 1_000_000),
        doc="Collocation points (None = 512 in 1D, 2048 in 2D: 512 * 4^(D-1)).",
    )
    n_boundary = param.Integer(100, bounds=(1, 100_000), doc="Points per boundary condition.")
    n_initial = param.Integer(100, bounds=(1, 100_000), doc="Points for the initial condition.")
    sampling = param.Selector(
        objects=["sobol", "uniform"],
        default="sobol",
        doc="Collocation points: scrambled Sobol (evenly spread) or uniform random.",
    )
    resample_every = param.Integer(
        0, bounds=(0, 1_000_000), doc="Draw fresh points every k steps (0 = keep them fixed)."
    )

    def supports(self, problem: Problem) -> bool:
        return True

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.hard_constraints and not problem.constrained:
            raise ValueError(
                f"hard_constraints: problem {problem.name!r} offers no exact-constraint "
                "transform; set hard_constraints=False"
            )

    def build(self, problem: Problem, generator: torch.Generator) -> PINNModel:
        n_in = len(problem.dims)
        fourier = None
        if self.fourier_features:
            fourier = FourierFeatures(n_in, self.fourier_features, self.fourier_scale, generator)
        mlp = MLP(n_in, 1, self.width, self.depth, self.activation, generator, fourier)
        return PINNModel(problem, mlp)

    def field(
        self, model: PINNModel, problem: Problem, points: torch.Tensor, orders: Mapping[str, int]
    ) -> Jet:
        """The field and its derivatives of the given ``orders`` at ``points`` ``(N, D)``."""
        if self.derivatives == "autograd" and any(orders.values()):
            return jet_by_autograd(
                lambda p: self.field(model, problem, p, {}).value, points, problem.dims, orders
            )
        coords = coordinate_jets(points, problem.dims, orders)
        net = model(coords)
        return problem.constrain(coords, net) if self.hard_constraints else net

    def _conditions(self, problem: Problem):
        skip = problem.constrained if self.hard_constraints else ()
        return [c for c in problem.conditions() if c.name not in skip]

    def _draw(self, problem: Problem, generator: torch.Generator) -> Batch:
        sobol = self.sampling == "sobol"
        n = self.n_interior or 512 * 4 ** (len(problem.dims) - 1)
        batch = {"interior": problem.sample_interior(n, generator, sobol)}
        for cond in self._conditions(problem):
            n = self.n_initial if cond.name == "initial" else self.n_boundary
            batch[cond.name] = cond.sample(n, generator)
        return batch

    def batches(self, problem: Problem, generator: torch.Generator) -> Iterator[Batch]:
        batch = self._draw(problem, generator)
        step = 0
        while True:
            if self.resample_every and step and step % self.resample_every == 0:
                batch = self._draw(problem, generator)
            yield batch
            step += 1

    def loss(self, model: PINNModel, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        interior = batch["interior"]
        u = self.field(model, problem, interior, problem.derivatives)
        residual = problem.residual(columns(interior, problem.dims), u)
        terms = {"residual": residual.pow(2).mean()}

        def evaluate(points, orders):
            return self.field(model, problem, points, orders)

        for cond in self._conditions(problem):
            terms[cond.name] = cond.mismatch(evaluate, batch[cond.name]).pow(2).mean()
        return terms

    def predict(self, model: PINNModel, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        return self.field(model, problem, points, {}).value

    def residual(self, model: PINNModel, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        u = self.field(model, problem, points, problem.derivatives)
        return problem.residual(columns(points, problem.dims), u)
