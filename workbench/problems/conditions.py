"""Boundary, initial and periodic conditions: each samples its own points and measures the
model's mismatch there, giving one named loss term.

A :class:`~workbench.problems.base.Problem` lists its conditions in
:meth:`~workbench.problems.base.Problem.conditions`; methods turn each into a loss term.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from workbench.calculus import Jet
from workbench.problems.points import columns, points_on_faces, uniform_points

#: Evaluates the model at points ``(N, D)`` with derivatives of the given orders.
Evaluate = Callable[[torch.Tensor, Mapping[str, int]], Jet]


class Condition(abc.ABC):
    """A boundary, initial or periodic condition, giving one named loss term."""

    name: str

    @abc.abstractmethod
    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        """Draw ``n`` points ``(n, D)`` where the condition is enforced (scrambled Sobol, evenly
        spread, with ``sobol=True``)."""

    @abc.abstractmethod
    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        """How far the model is from satisfying the condition at ``points`` (0 = satisfied)."""


@dataclass(frozen=True)
class ValueCondition(Condition):
    """``u = target`` on a set of points (Dirichlet boundary or initial condition).

    Parameters
    ----------
    name : str
        Loss-term name, e.g. ``"boundary"`` or ``"initial"``.
    faces : list of mappings
        Boxes (see :func:`uniform_points`) making up the set; points are spread evenly.
    dims : tuple of str
        The problem's dims.
    target : callable
        Maps named coordinate columns to target values ``(N, 1)`` (``(N, len(channels))``
        with ``channels``).
    channels : tuple of int, optional
        For a multi-component field (see :attr:`Problem.components
        <workbench.problems.base.Problem.components>`): the channels the condition sets, in
        the order of the target's columns (a flow's wall sets ``u`` and ``v``, not ``p``).
        None: the whole value.
    """

    name: str
    faces: tuple
    dims: tuple
    target: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    channels: tuple[int, ...] | None = None

    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        return points_on_faces(n, self.faces, self.dims, generator, sobol)

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        value = evaluate(points, {}).value
        if self.channels is not None:
            value = value[:, list(self.channels)]
        return value - self.target(columns(points, self.dims))


@dataclass(frozen=True)
class DerivativeCondition(Condition):
    """``du/d dim = target`` on a set of points (Neumann boundary, or initial velocity).

    Parameters
    ----------
    name : str
        Loss-term name, e.g. ``"velocity"``.
    faces : list of mappings
        Boxes (see :func:`uniform_points`) making up the set; points are spread evenly.
    dims : tuple of str
        The problem's dims.
    dim : str
        The dim of the derivative.
    target : callable
        Maps named coordinate columns to target values ``(N, 1)``.
    """

    name: str
    faces: tuple
    dims: tuple
    dim: str
    target: Callable[[dict[str, torch.Tensor]], torch.Tensor]

    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        return points_on_faces(n, self.faces, self.dims, generator, sobol)

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        jet = evaluate(points, {self.dim: 1})
        return jet.d(self.dim) - self.target(columns(points, self.dims))


@dataclass(frozen=True)
class PeriodicCondition(Condition):
    """``u`` and ``du/d dim`` agree on the two ends of a periodic ``dim``.

    Sampled points lie on the low end; the matching high-end points are derived from them.
    """

    name: str
    dim: str
    box: Mapping
    dims: tuple

    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        lo, _ = self.box[self.dim]
        return uniform_points(n, {**self.box, self.dim: lo}, self.dims, generator, sobol)

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        lo, hi = self.box[self.dim]
        shift = torch.zeros(len(self.dims), dtype=points.dtype, device=points.device)
        shift[self.dims.index(self.dim)] = hi - lo
        low = evaluate(points, {self.dim: 1})
        high = evaluate(points + shift, {self.dim: 1})
        return torch.cat([low.value - high.value, low.d(self.dim) - high.d(self.dim)])
