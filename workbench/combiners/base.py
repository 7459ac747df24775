"""The Combiner ABC: how ``train()`` turns the named, weighted loss terms into one update."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

import param
import torch

from workbench.specs import refuse_name_knob


class Combiner(param.ParameterizedABC):
    """How ``train()`` turns the named loss terms into one update.

    The default, :class:`~workbench.combiners.Sum`, adds the (fixed-)weighted terms and
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

    def __init__(self, **params):
        refuse_name_knob(type(self), "combiner", params)
        super().__init__(**params)

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
