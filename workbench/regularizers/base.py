"""The Regularizer ABC: extra loss terms (or decoupled weight decay), each with a weight knob,
and the :class:`Objective` through which a term may ask for more than the batch.

How the terms become one update is a :mod:`workbench.combiners` concern; where collocation
points go is a :mod:`workbench.sampling` concern.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import param
import torch
import xarray as xr
from torch import nn
from torch.func import functional_call

from workbench.methods.base import Batch, Method
from workbench.problems.base import Problem
from workbench.specs import refuse_name_knob


class Objective:
    """What a regularizer may ask of the training besides the batch.

    Calling it gives the method's weighted training loss as a function of the parameters (for
    penalties on its gradient, see :class:`~workbench.regularizers.GradientNorm`);
    :meth:`predict` gives the model's field at points with the current parameters (for a data
    misfit, see :class:`~workbench.regularizers.Data`).
    """

    def __init__(
        self,
        total: Callable[[dict[str, torch.Tensor]], torch.Tensor],
        predict: Callable[[torch.Tensor], torch.Tensor],
    ):
        self._total, self._predict = total, predict

    def __call__(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return self._total(params)

    def predict(self, points: torch.Tensor) -> torch.Tensor:
        """The field ``u`` at points ``(N, D)``, shape ``(N, 1)``, differentiable in the
        parameters (PINN-family methods)."""
        return self._predict(points)


class Regularizer(param.ParameterizedABC):
    """Abstract regularizer.

    :meth:`terms` returns named, *unweighted* terms; ``train()`` multiplies each by
    :attr:`weight`, adds them to the method's loss and logs them separately. A regularizer
    that acts on the update instead of the loss (decoupled weight decay) returns no terms and
    reports its rate through :meth:`decoupled_decay`.

    Where a regularizer means something is declared once, in :meth:`unsuitable`: the app
    offers it only for the problems and methods it applies to, and :meth:`check` refuses the
    others before any work starts.
    """

    #: A short plain name for menus (the app's check box); the registry name is :attr:`name`.
    title: ClassVar[str]

    weight = param.Number(1e-4, bounds=(0.0, None), doc="Multiplier of the term(s).")

    def __init__(self, **params):
        refuse_name_knob(type(self), "regularizer", params)
        super().__init__(**params)

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

    def scales(self, step: int, steps: int) -> dict[str, float]:
        """Multipliers of the *method's* terms at optimizer step ``step`` of ``steps`` (a KL
        weight schedule); ``train()`` logs each product with the term's weight as
        ``weight_<term>``. None by default."""
        return {}

    def draws(self, batch: Batch, generator: torch.Generator) -> Batch:
        """Random tensors :meth:`terms` needs for ``batch`` (noise of a stochastic estimator),
        drawn from ``generator``, which ``train()`` seeds from the run's seed. Their keys
        must start with ``"<name>/"``; they are added to the batch. None by default."""
        return {}

    def unsuitable(self, problem: Problem, method: Method) -> str | None:
        """Why this regularizer means nothing for ``problem`` learnt by ``method``, or None
        where it applies (the default: it applies everywhere).

        Judged from their kinds alone (the method's family, the problem's structure), never
        from knob values, data or a reference solve, so it is cheap enough to ask for every
        regularizer whenever the problem or method changes.
        """
        return None

    def check(self, problem: Problem, method: Method) -> None:
        """Raise ``ValueError`` naming what is wrong if this regularizer cannot be used with
        ``problem`` and ``method`` (called before any work starts): first
        :meth:`unsuitable`, then what subclasses check of their knobs and data."""
        reason = self.unsuitable(problem, method)
        if reason is not None:
            raise ValueError(reason)

    def fixed(self, problem: Problem) -> Batch:
        """Tensors :meth:`terms` needs in every batch, made once before training (the
        observations of a data misfit). Keys start with ``"<name>/"``. None by default."""
        return {}

    def points(self, problem: Problem) -> xr.Dataset:
        """Point sets to keep in a Run's ``/points`` (in its layout: a dim per set ``S`` and
        variables ``S_<dim>``), such as observation locations. None by default."""
        return xr.Dataset()


def call_model(
    model: nn.Module, params: dict[str, torch.Tensor], method: str, *args: torch.Tensor
) -> torch.Tensor:
    """``model.<method>(*args)`` computed with the parameters ``params`` (differentiable in
    them), for a regularizer that needs more of a model than its ``forward`` (a latent
    model's ``encode`` or ``decode``)."""
    return functional_call(
        _Calls(model, method), {f"model.{k}": v for k, v in params.items()}, args
    )


class _Calls(nn.Module):
    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, *args):
        return getattr(self.model, self.method)(*args)
