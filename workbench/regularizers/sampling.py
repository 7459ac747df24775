"""Collocation samplers: where a PINN-family method looks for its PDE residual.

A plain PINN keeps one fixed cloud of points. The samplers here move it while training:

* ``fixed``: never move (the baseline; the failure mode of Daw et al. shows up here);
* ``resample``: a fresh uniform cloud every ``resample_every`` steps;
* ``r3``: Retain-Resample-Release (Daw, Bu, Wang, Perdikaris & Karpatne, ICML 2023): keep
  the points whose residual is above the population mean, redraw the rest uniformly;
* ``causal_r3``: R3 whose fitness is gated in time, ``|r| g(t)`` with
  ``g(t) = (1 - tanh(alpha (t/T - beta))) / 2``; the gate's edge ``beta`` moves forward
  as the gated residual falls, so points follow the solution's front from ``t = 0`` on;
* ``rar_d``: residual-based adaptive refinement with a distribution (Wu, Zhu, Tan, Kartha &
  Lu, CMAME 2023): draw a candidate pool, add points from it with probability
  ``p ~ r^k / mean(r^k) + c``; the cloud grows.

The samplers only see points and a residual function; they are created by the method
(their knobs are the method's knobs) and driven by its ``batches``.
"""

from __future__ import annotations

import math

import torch

from workbench.regularizers.base import Sampler


class Fixed(Sampler):
    """One cloud of points, drawn once."""

    name = "fixed"
    moves = False

    def update(self, points, residual):
        return points, torch.ones(len(points))


class Resample(Sampler):
    """A fresh uniform cloud of the same size at every update."""

    name = "resample"

    def update(self, points, residual):
        return self.draw(len(points)), torch.zeros(len(points))


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


class RARD(Sampler):
    """Add points from a candidate pool with probability rising with the residual.

    Parameters
    ----------
    add : int
        Points added per update.
    pool : int
        Candidates drawn per update.
    power, offset : float
        ``k`` and ``c`` in ``p ~ r^k / mean(r^k) + c``; Wu et al. recommend ``k=2, c=0`` for
        RAR-D, and ``c > 0`` keeps some uniform coverage.
    generator : torch.Generator
        Source of the weighted draw.
    """

    name = "rar_d"

    def __init__(
        self,
        draw,
        time_column=None,
        time_span=(0.0, 1.0),
        *,
        add=64,
        pool=4096,
        power=2.0,
        offset=0.0,
        generator=None,
    ):
        super().__init__(draw, time_column, time_span)
        self.add, self.pool, self.power, self.offset = add, pool, power, offset
        self.generator = generator

    def update(self, points, residual):
        candidates = self.draw(self.pool)
        density = residual(candidates).double().pow(self.power)
        density = density / density.mean().clamp_min(1e-300) + self.offset
        if not torch.isfinite(density).all() or float(density.sum()) <= 0:
            density = torch.ones_like(density)  # a flat residual gives no preference
        chosen = torch.multinomial(density, self.add, replacement=False, generator=self.generator)
        new = candidates[chosen]
        return torch.cat([points, new]), torch.cat([torch.ones(len(points)), torch.zeros(len(new))])


#: Samplers by name (the ``sampler`` knob of PINN-family methods).
SAMPLERS: dict[str, type[Sampler]] = {
    cls.name: cls for cls in (Fixed, Resample, R3, CausalR3, RARD)
}
