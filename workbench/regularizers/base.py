"""The Regularizer ABC: extra loss terms and training aids, each with a weight knob."""

from __future__ import annotations

import abc
from collections.abc import Callable

import param
import torch
from torch import nn

from workbench.methods.base import Batch
from workbench.problems.base import Problem

#: The method's weighted training loss as a function of the parameters, for penalties on
#: its gradient (see :class:`~workbench.regularizers.GradientNorm`).
Objective = Callable[[dict[str, torch.Tensor]], torch.Tensor]


class Regularizer(param.ParameterizedABC):
    """Abstract regularizer.

    :meth:`terms` returns named, *unweighted* terms; ``train()`` multiplies each by
    :attr:`weight`, adds them to the method's loss and logs them separately. A regularizer
    that acts on the update instead of the loss (decoupled weight decay) returns no terms and
    reports its rate through :meth:`decoupled_decay`.
    """

    weight = param.Number(1e-4, bounds=(0.0, None), doc="Multiplier of the term(s).")

    @abc.abstractmethod
    def terms(
        self,
        model: nn.Module,
        problem: Problem,
        batch: Batch,
        params: dict[str, torch.Tensor],
        objective: Objective,
    ) -> dict[str, torch.Tensor]:
        """Named unweighted terms given the model, its parameters and the training objective."""

    def decoupled_decay(self) -> float:
        """Rate of weight decay applied directly in the update (0 for loss-term regularizers)."""
        return 0.0
