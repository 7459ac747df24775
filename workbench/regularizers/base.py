"""The ABCs of training aids.

* :class:`Regularizer`: extra loss terms (or decoupled weight decay), each with a weight knob;
* :class:`Combiner`: how the named terms become one update (sum, LRA, ConFIG, MultiAdam);
* :class:`Sampler`: how the collocation points of a PINN-family method move (R3, RAR-D).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import param
import torch
import xarray as xr
from torch import nn
from torch.func import functional_call

from workbench.problems.base import Problem

if TYPE_CHECKING:  # methods import the samplers defined here: no import cycle at run time
    from workbench.methods.base import Batch, Method


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

    def check(self, problem: Problem, method: Method) -> None:
        """Raise ``ValueError`` naming what is wrong if this regularizer cannot be used with
        ``problem`` and ``method`` (called before any work starts)."""

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


class Combiner(param.ParameterizedABC):
    """How ``train()`` turns the named loss terms into one update.

    The default, :class:`~workbench.regularizers.Sum`, adds the (fixed-)weighted terms and
    takes one gradient. The others see each term's gradient separately (one backward pass per
    term) and decide the direction themselves: by reweighting (LRA), by a conflict-free
    direction (ConFIG) or by per-term Adam moments (MultiAdam).

    Terms reach a combiner already multiplied by their fixed weights (``weights=`` for the
    method's terms, ``Regularizer.weight`` for the others), so "fixed weights" is the sum
    combiner with weights.
    """

    name: ClassVar[str]

    #: True: :meth:`combine` gets every term's gradient. False: ``train()`` differentiates the
    #: weighted sum once (and can ``torch.compile`` the step).
    per_term: ClassVar[bool] = True

    #: True: :meth:`combine` returns a finished step direction (it keeps its own moments) and
    #: ``train()`` applies ``p -= lr * d``. False: the direction is a gradient fed to Adam.
    adaptive: ClassVar[bool] = False

    def start(self, terms: Sequence[str], like: torch.Tensor) -> dict:
        """Fresh state for a training with these ``terms``; ``like`` is the flat parameter
        vector (its size, dtype and device)."""
        return {}

    def select(self, terms: Sequence[str], state: dict, step: int) -> list[str]:
        """The terms whose gradients :meth:`combine` needs at this step (default: all)."""
        return list(terms)

    @abc.abstractmethod
    def combine(
        self, grads: dict[str, torch.Tensor], state: dict, step: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The update direction from flat per-term gradients, plus diagnostics to log.

        Parameters
        ----------
        grads : dict of str to torch.Tensor
            Flat gradient of each selected (weighted) term, all the same shape.
        state : dict
            This combiner's state from :meth:`start`, updated in place.
        step : int
            Optimizer step, from 0.

        Returns
        -------
        direction : torch.Tensor
            Flat, same shape as the gradients.
        diagnostics : dict of str to float
            Values logged in ``/history`` (e.g. ``weight_<term>``).
        """


class Sampler(abc.ABC):
    """Keeps the interior collocation points of a PINN-family method and moves them.

    A sampler is created per training by the method (its knobs are the method's); every
    ``every`` steps :meth:`update` sees the current points and a function giving the model's
    pointwise residual, and returns the next points with a mask of the retained ones.

    Parameters
    ----------
    draw : callable
        ``draw(n)`` gives ``n`` fresh uniform (or Sobol) points ``(n, D)`` in the domain.
    time_column : int or None
        Column of ``t`` in the points, for causal samplers (None: no time dim).
    time_span : tuple of float
        ``(t0, t1)`` of the domain, to normalise time.
    """

    name: ClassVar[str]

    def __init__(
        self,
        draw: Callable[[int], torch.Tensor],
        time_column: int | None = None,
        time_span: tuple[float, float] = (0.0, 1.0),
    ):
        self.draw = draw
        self.time_column = time_column
        self.time_span = time_span

    #: False: the points never change, so :meth:`update` is never called.
    moves: ClassVar[bool] = True

    @abc.abstractmethod
    def update(
        self, points: torch.Tensor, residual: Callable[[torch.Tensor], torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Next points and a float mask ``(n,)``: 1 where a point was kept, 0 where new.

        ``residual(points)`` gives the model's absolute pointwise residual ``(n,)``.
        """
