"""The Sampler ABC: where the interior collocation points of a PINN-family method go, and how
they move while it trains."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import torch


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
