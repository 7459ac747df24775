"""Retain-Resample-Release (R3) and its causal variant (Daw, Bu, Wang, Perdikaris & Karpatne,
ICML 2023)."""

from __future__ import annotations

import math

import torch

from workbench.sampling.base import Sampler


class R3(Sampler):
    """Retain the points with above-mean residual; redraw the others uniformly."""

    name = "r3"

    def fitness(self, points: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """The score that decides retention (here the absolute residual itself)."""
        return residual

    def update(self, points, residual):
        score = self.fitness(points, residual(points))
        retained = score > score.mean()
        fresh = self.draw(int((~retained).sum()))
        return torch.cat([points[retained], fresh]), torch.cat(
            [torch.ones(int(retained.sum())), torch.zeros(len(fresh))]
        )


class CausalR3(R3):
    """R3 with a time gate whose edge moves forward once early times are fitted.

    Parameters
    ----------
    alpha : float
        Sharpness of the gate ``g(t) = (1 - tanh(alpha (t/T - beta))) / 2``.
    beta : float
        Initial gate position in normalised time (negative: the gate starts before t=0).
    rate : float
        ``eta`` in the gate's move ``eta * min(exp(-epsilon * mean((r g)^2)), clip)``: the gate
        waits while the gated residual is large.
    tolerance : float
        ``epsilon`` in that move.
    clip : float
        Cap on the move's factor (the official code's 0.1: at most ``eta / 10`` per update).

    The defaults are those of the official convection experiments.
    """

    name = "causal_r3"

    def __init__(
        self,
        draw,
        time_column=None,
        time_span=(0.0, 1.0),
        *,
        alpha=5.0,
        beta=-0.5,
        rate=1e-3,
        tolerance=20.0,
        clip=0.1,
    ):
        super().__init__(draw, time_column, time_span)
        if time_column is None:
            raise ValueError("sampler 'causal_r3' needs a problem with a time dim 't'")
        self.alpha, self.beta, self.rate = alpha, beta, rate
        self.tolerance, self.clip = tolerance, clip

    def gate(self, points: torch.Tensor) -> torch.Tensor:
        t0, t1 = self.time_span
        tau = (points[:, self.time_column] - t0) / (t1 - t0)
        return 0.5 * (1 - torch.tanh(self.alpha * (tau - self.beta)))

    def fitness(self, points, residual):
        gated = residual * self.gate(points)
        # Move the gate's edge forward once the gated residual is small; stop well past t = T.
        move = min(math.exp(-self.tolerance * float(gated.pow(2).mean())), self.clip)
        self.beta = min(self.beta + self.rate * move, 1.0 + 2.0 / self.alpha)
        return gated
