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
    """MLP field ``u(points)`` with input rescaling to ``[-1, 1]`` and an optional output transform.

    Parameters
    ----------
    problem : Problem
        Gives the dims, the domain and (if ``hard``) the exact-constraint transform.
    mlp : MLP
        The network.
    hard : bool
        Apply ``problem.constrain`` to the network output.
    derivatives : {"forward", "autograd"}
        How derivatives are computed.
    """

    def __init__(self, problem: Problem, mlp: MLP, hard: bool, derivatives: str):
        super().__init__()
        self.problem = problem
        self.dims = problem.dims
        self.mlp = mlp
        self.hard = hard
        self.derivatives = derivatives
        lo = torch.tensor([problem.domain[d][0] for d in self.dims])
        hi = torch.tensor([problem.domain[d][1] for d in self.dims])
        self.register_buffer("centre", (lo + hi) / 2, persistent=False)
        self.register_buffer("scale", 2 / (hi - lo), persistent=False)

    def forward(self, points: torch.Tensor, orders: Mapping[str, int] | None = None) -> Jet:
        """The field and its derivatives of the given ``orders`` at ``points`` ``(N, D)``."""
        orders = orders or {}
        if self.derivatives == "autograd" and any(orders.values()):
            return jet_by_autograd(lambda p: self._field(p, {}).value, points, self.dims, orders)
        return self._field(points, orders)

    def _field(self, points: torch.Tensor, orders: Mapping[str, int]) -> Jet:
        coords = coordinate_jets(points, self.dims, orders)
        # The network sees coordinates rescaled to [-1, 1]; tanh nets train badly on [0, 2 pi].
        scaled = [(coords[d] - self.centre[i]) * self.scale[i] for i, d in enumerate(self.dims)]
        net = self.mlp.forward_jet(stack_jets(scaled))
        return self.problem.constrain(coords, net) if self.hard else net


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
    n_interior = param.Integer(2000, bounds=(1, 1_000_000), doc="Collocation points.")
    n_boundary = param.Integer(100, bounds=(1, 100_000), doc="Points per boundary condition.")
    n_initial = param.Integer(100, bounds=(1, 100_000), doc="Points for the initial condition.")
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
        return PINNModel(problem, mlp, self.hard_constraints, self.derivatives)

    def _conditions(self, problem: Problem):
        skip = problem.constrained if self.hard_constraints else ()
        return [c for c in problem.conditions() if c.name not in skip]

    def _draw(self, problem: Problem, generator: torch.Generator) -> Batch:
        batch = {"interior": problem.sample_interior(self.n_interior, generator)}
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
        u = model(interior, problem.derivatives)
        residual = problem.residual(columns(interior, problem.dims), u)
        terms = {"residual": residual.pow(2).mean()}
        for cond in self._conditions(problem):
            terms[cond.name] = cond.mismatch(model, batch[cond.name]).pow(2).mean()
        return terms

    def predict(self, model: PINNModel, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        return model(points).value

    def residual(self, model: PINNModel, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        u = model(points, problem.derivatives)
        return problem.residual(columns(points, problem.dims), u)
