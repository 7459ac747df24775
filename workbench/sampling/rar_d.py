"""Residual-based adaptive refinement with a distribution, RAR-D (Wu, Zhu, Tan, Kartha & Lu,
CMAME 2023)."""

from __future__ import annotations

import torch

from workbench.sampling.base import Sampler


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
