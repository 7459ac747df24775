"""Deep operator network (Lu, Jin, Pang, Zhang & Karniadakis, "Learning nonlinear operators via
DeepONet based on the universal approximation theorem of operators", Nat. Mach. Intell. 2021).

A branch MLP reads the input function at fixed sensors (the training grid) and returns
``basis`` coefficients; a trunk MLP maps a query coordinate to ``basis`` functions; the
solution there is their inner product plus a bias. Queries can be anywhere, so the output grid
is free; an input on another grid is first interpolated to the sensors.
"""

from __future__ import annotations

import math

import param
import torch
from torch import nn

from workbench.methods.operators.base import Operator
from workbench.nn.grids import query_points, resample
from workbench.nn.mlp import MLP
from workbench.problems.base import Problem


class DeepONetNetwork(nn.Module):
    """Branch and trunk MLPs for inputs sampled at ``sensors`` nodes per dim.

    Parameters
    ----------
    sensors : tuple of int
        Sensor grid of the branch (the training resolution, per dim).
    periodic : tuple of bool
        Per dim, whether the grid is periodic (for resampling other grids to the sensors).
    width, depth, basis : int
        Hidden size and hidden layers of both MLPs, and the number of basis functions.
    activation : str
        Hidden activation of both MLPs (see :class:`~workbench.nn.mlp.MLP`).
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        sensors: tuple[int, ...],
        periodic: tuple[bool, ...],
        width: int,
        depth: int,
        basis: int,
        activation: str,
        generator: torch.Generator,
    ):
        super().__init__()
        self.sensors, self.periodic = tuple(sensors), tuple(periodic)
        self.branch = MLP(math.prod(sensors), basis, width, depth, activation, generator)
        self.trunk = MLP(len(sensors), basis, width, depth, activation, generator)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor, coords: list[torch.Tensor]) -> torch.Tensor:
        grid = z.shape[1:]
        at_sensors = resample(z, self.sensors, self.periodic)
        coefficients = self.branch(at_sensors.reshape(len(z), -1))
        basis = self.trunk(query_points(coords))
        return (coefficients @ basis.T).reshape(len(z), *grid) + self.bias


class DeepONet(Operator):
    """Unstacked DeepONet (one branch, one trunk) on a problem family.

    The data, loss and evaluation knobs are those of every operator method (see
    :class:`~workbench.methods.operators.Operator`).
    """

    name = param.String("deeponet", constant=True, doc="Registry name of this method.")

    width = param.Integer(128, bounds=(2, 4096), doc="Hidden size of branch and trunk.")
    depth = param.Integer(3, bounds=(1, 16), doc="Hidden layers of branch and trunk.")
    basis = param.Integer(128, bounds=(1, 4096), doc="Basis functions (branch/trunk outputs).")
    activation = param.Selector(
        objects=["gelu", "tanh", "sin"], default="gelu", doc="Hidden activation."
    )

    def network(self, problem: Problem, resolution: int, generator: torch.Generator) -> nn.Module:
        sensors = (resolution,) * len(problem.family_dims)
        return DeepONetNetwork(
            sensors,
            problem.family_periodic,
            self.width,
            self.depth,
            self.basis,
            self.activation,
            generator,
        )
