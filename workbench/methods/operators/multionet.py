"""MultiONet, the operator network of DGNO (Zang & Koutsourelakis, "DGNO: a novel physics-aware
neural operator for solving forward and inverse PDE problems based on deep, generative
probabilistic modeling", 2025).

A DeepONet whose branch and trunk both run ``depth`` layers of the same ``width`` and whose
output averages the inner products taken after each of the last ``sum_layers`` layers:

.. math::

    u(x) = \\frac{1}{l} \\sum_{k=L-l+1}^{L} w_k \\frac{\\langle t_k(x), b_k(a) \\rangle}{n} + b,

with ``n`` the width (the division, not in the paper, keeps each summand O(1) at any width).
Earlier layers thus feed the output directly, for ``l`` extra scalars.
"""

from __future__ import annotations

import math

import param
import torch
import torch.nn.functional as F
from torch import nn

from workbench.methods.operators.base import Operator
from workbench.nn.grids import query_points, resample
from workbench.nn.mlp import glorot
from workbench.problems.base import Problem

_ACTIVATIONS = {"silu": F.silu, "gelu": F.gelu, "tanh": torch.tanh}


class MultiONetNetwork(nn.Module):
    """Branch and trunk towers with inner products at the last ``sum_layers`` layers.

    Parameters
    ----------
    sensors : tuple of int
        Sensor grid of the branch (the training resolution, per dim).
    periodic : tuple of bool
        Per dim, whether the grid is periodic (for resampling other grids to the sensors).
    width, depth, sum_layers : int
        Hidden size, hidden layers after the input layer, and how many of the last of them
        contribute an inner product (``1 <= sum_layers <= depth``).
    activation : str
        ``silu``, ``gelu`` or ``tanh``.
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        sensors: tuple[int, ...],
        periodic: tuple[bool, ...],
        width: int,
        depth: int,
        sum_layers: int,
        activation: str,
        generator: torch.Generator,
    ):
        super().__init__()
        self.sensors, self.periodic = tuple(sensors), tuple(periodic)
        self.sum_layers, self.activation = sum_layers, activation

        def tower(n_in: int) -> nn.ModuleList:
            sizes = [n_in] + [width] * (depth + 1)
            return nn.ModuleList(
                glorot(nn.Linear(a, b), generator) for a, b in zip(sizes, sizes[1:])
            )

        self.branch = tower(math.prod(sensors))
        self.trunk = tower(len(sensors))
        self.weights = nn.Parameter(torch.ones(sum_layers))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor, coords: list[torch.Tensor]) -> torch.Tensor:
        act = _ACTIVATIONS[self.activation]
        grid = z.shape[1:]
        b = resample(z, self.sensors, self.periodic).reshape(len(z), -1)
        t = query_points(coords)
        first_summed = len(self.branch) - self.sum_layers
        out = z.new_zeros(len(z), len(t))
        for k, (layer_b, layer_t) in enumerate(zip(self.branch, self.trunk)):
            b, t = act(layer_b(b)), act(layer_t(t))
            if k >= first_summed:
                # Width-normalised inner products keep each summand O(1) at any width.
                out = out + self.weights[k - first_summed] * (b @ t.T) / b.shape[1]
        return (out / self.sum_layers + self.bias).reshape(len(z), *grid)


class MultiONet(Operator):
    """MultiONet (DGNO's operator network) on a problem family.

    The data, loss and evaluation knobs are those of every operator method (see
    :class:`~workbench.methods.operators.Operator`).
    """

    name = param.String("multionet", constant=True, doc="Registry name of this method.")

    width = param.Integer(128, bounds=(2, 4096), doc="Hidden size of branch and trunk.")
    depth = param.Integer(5, bounds=(1, 16), doc="Hidden layers after each input layer.")
    sum_layers = param.Integer(
        4, bounds=(1, 16), doc="Last layers whose branch-trunk inner products are averaged."
    )
    activation = param.Selector(
        objects=list(_ACTIVATIONS), default="silu", doc="Hidden activation."
    )

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.sum_layers > self.depth:
            raise ValueError(f"sum_layers must be <= depth ({self.depth}), got {self.sum_layers}")

    def network(self, problem: Problem, resolution: int, generator: torch.Generator) -> nn.Module:
        sensors = (resolution,) * len(problem.family_dims)
        return MultiONetNetwork(
            sensors,
            problem.family_periodic,
            self.width,
            self.depth,
            self.sum_layers,
            self.activation,
            generator,
        )
