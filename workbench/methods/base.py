"""The Method ABC: how to learn a Problem.

A Method is a spec (hyperparameters as Parameters, plus the algorithm). It never holds
tensors: weights live in the ``nn.Module`` returned by :meth:`Method.build`, optimizer state
lives inside :func:`workbench.train.train`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import ClassVar

import param
import torch
from torch import nn

from workbench.problems.base import Problem

#: A training batch: named tensors (collocation points, boundary points, data, ...).
Batch = dict[str, torch.Tensor]


class Method(param.ParameterizedABC):
    """Abstract learning method.

    ``train()`` calls, in order: :meth:`check` (bad combinations fail before any work),
    :meth:`build`, then for each step the next batch from :meth:`batches` and :meth:`loss`.
    :meth:`predict` and :meth:`residual` evaluate a trained model for fields and metrics.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def supports(self, problem: Problem) -> bool:
        """Whether this method can learn ``problem`` at all."""

    @abc.abstractmethod
    def build(self, problem: Problem, generator: torch.Generator) -> nn.Module:
        """A freshly initialised model for ``problem`` (weights drawn from ``generator``)."""

    @abc.abstractmethod
    def batches(self, problem: Problem, generator: torch.Generator) -> Iterator[Batch]:
        """An endless iterator of training batches; one is consumed per optimizer step."""

    @abc.abstractmethod
    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        """Named, unweighted loss terms (scalars) for one batch."""

    @abc.abstractmethod
    def predict(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The field ``u`` at points ``(N, D)``, shape ``(N, 1)``."""

    @abc.abstractmethod
    def residual(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The PDE residual of the model's field at points ``(N, D)``, shape ``(N, 1)``."""

    def check(self, problem: Problem) -> None:
        """Raise ``ValueError`` naming what is wrong if this method cannot learn ``problem``."""
        if not self.supports(problem):
            raise ValueError(f"method {self.name!r} does not support problem {problem.name!r}")
