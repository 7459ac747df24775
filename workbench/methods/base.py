"""The Method contract: how to learn a Problem.

Each family's base class lives in its own sub-package next to its methods
(:mod:`~workbench.methods.physics_informed`, :mod:`~workbench.methods.operators`,
:mod:`~workbench.methods.latent`, :mod:`~workbench.methods.field_generators`); this module
holds only what every method fulfils.

A Method is a spec (hyperparameters as Parameters, plus the algorithm). It never holds
tensors: weights live in the ``nn.Module`` returned by :meth:`Method.build`, optimizer state
lives inside :func:`workbench.train.train`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

import param
import torch
import xarray as xr
from torch import nn

from workbench.evaluation import RELATIVE_L2, Metric
from workbench.problems.base import Problem
from workbench.specs import refuse_name_knob

#: A training batch: named tensors (collocation points, boundary points, data, ...).
#: A key ``"S:v"`` holds a per-point value ``v`` of point set ``S`` (shape ``(n,)``), such as
#: ``"interior:retained"``; it is saved in ``/points`` next to the coordinates.
Batch = dict[str, torch.Tensor]


class Method(param.ParameterizedABC):
    """Abstract learning method.

    ``train()`` calls, in order: :meth:`check` (bad combinations fail before any work),
    :meth:`prepare` (expensive one-off work, before the clock starts), :meth:`build`, then for
    each step the next batch from :meth:`batches` and :meth:`loss`. :meth:`error`,
    :meth:`evaluate` and :meth:`results` evaluate a model for the metric, the fields and any
    extra groups of the Run. :attr:`metric` names what :meth:`error` measures.
    """

    name: ClassVar[str]
    #: What :meth:`error` and the ``l2re`` attr of :meth:`evaluate` measure: the Run stores
    #: the value as ``l2re`` and these names next to it, and every view shows them.
    metric: ClassVar[Metric] = RELATIVE_L2
    #: Knobs that belong under a heading of their own in a form (the app's sidebar), by
    #: heading, e.g. ``{"Sampling": ("n_interior", ...)}``; the others read as the method's.
    knob_groups: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, **params):
        refuse_name_knob(type(self), "method", params)
        super().__init__(**params)

    @abc.abstractmethod
    def supports(self, problem: Problem) -> bool:
        """Whether this method can learn ``problem`` at all."""

    @abc.abstractmethod
    def build(self, problem: Problem, generator: torch.Generator) -> nn.Module:
        """A freshly initialised model for ``problem`` (weights drawn from ``generator``)."""

    @abc.abstractmethod
    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        """An endless iterator of training batches; one is consumed per optimizer step.

        ``residual(points)``, when given, is the current model's absolute pointwise residual
        ``(n,)``: adaptive samplers use it to move points where the error is.
        """

    @abc.abstractmethod
    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        """Named, unweighted loss terms (scalars) for one batch."""

    @abc.abstractmethod
    def term_names(self, problem: Problem) -> list[str]:
        """The names of the terms :meth:`loss` returns for ``problem`` (known before training,
        so that fixed weights can be checked)."""

    @abc.abstractmethod
    def evaluate(
        self, model: nn.Module, problem: Problem, size: Mapping[str, int] | None = None
    ) -> xr.Dataset:
        """The model's fields for ``/fields`` and live snapshots: ``u`` (prediction), ``u_ref``
        (reference), ``error`` and ``residual``, with attr ``l2re`` (the value of
        :attr:`metric`). ``size`` (points per dim) asks for a coarser grid where the method
        evaluates on one; the fields then carry attr ``coarse_grid`` (e.g. ``"48x48"``)."""

    @abc.abstractmethod
    def error(self, model: nn.Module, problem: Problem) -> float:
        """The model's headline :attr:`metric` on the full evaluation set (logged as ``l2re``
        during training); the same value as the ``l2re`` attr of :meth:`evaluate` without
        ``size``."""

    def check(self, problem: Problem) -> None:
        """Raise ``ValueError`` naming what is wrong if this method cannot learn ``problem``."""
        if not self.supports(problem):
            raise ValueError(f"method {self.name!r} does not support problem {problem.name!r}")

    def unused_knobs(self, problem: Problem) -> set[str]:
        """Knobs that have no effect on ``problem`` with the other knobs as they are (the
        points of an initial condition for a problem without one): a form hides them. None by
        default."""
        return set()

    def prepare(self, problem: Problem) -> None:
        """Do the one-off expensive work (reference solution, dataset) before the clock starts."""

    def stored_knobs(self) -> dict:
        """The knobs as a Run stores them (JSON-ready): all of them by default; a method with
        a knob holding data says there where the data went (see :meth:`kept_inputs`)."""
        return {k: v for k, v in self.param.values().items() if k != "name"}

    def kept_inputs(self, problem: Problem) -> dict[str, xr.Dataset]:
        """Data the user gave that a Run must keep to be rebuilt, by group name (none by
        default; a family method's own dataset)."""
        return {}

    def default_weights(self, problem: Problem) -> dict[str, float]:
        """Weights of the loss terms unless the user gives others (missing terms: 1)."""
        return {}

    def estimates(self, model: nn.Module, params: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """Learned problem coefficients by name, given the model's parameters ``params`` (logged
        in ``/history`` at every step). None by default."""
        return {}

    def default_combiner(self) -> str | None:
        """The combiner ``train()`` uses unless it is given one (None: the plain sum)."""
        return None

    def results(self, model: nn.Module, problem: Problem) -> dict[str, xr.Dataset]:
        """Extra groups of the Run beyond ``/history``, ``/fields`` and ``/points`` (e.g. an
        operator's ``/samples``), by group name; none by default."""
        return {}

    def points(self, model: nn.Module, problem: Problem, batch: Batch) -> xr.Dataset:
        """What to show and save in ``/points`` for this batch (empty by default)."""
        return xr.Dataset()
