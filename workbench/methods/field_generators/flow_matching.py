"""Conditional flow matching of a family's joint (input, solution) fields.

Lipman, Chen, Ben-Hamu, Nickel & Le, "Flow matching for generative modeling", ICLR 2023: a
network learns the velocity of straight paths from noise to data; sampling integrates it. No
physics: the baseline of :class:`~workbench.methods.PBFM`.
"""

from __future__ import annotations

import param
import torch
from torch import nn

from workbench.methods.base import Batch
from workbench.methods.field_generators.base import FieldGenerator
from workbench.problems.base import Problem


class Flow(FieldGenerator):
    """Abstract base of the flow-matching methods (Lipman et al., "Flow matching for generative
    modeling", ICLR 2023): the conditional optimal-transport path and its sampler.

    A training sample mixes noise ``x0 ~ N(0, I)`` and data ``x1`` at flow time
    ``t ~ U[0, 1]``, :math:`x_t = (1 - (1 - \\sigma_{min}) t) x_0 + t x_1`, and the network
    ``v(x_t, t)`` regresses the path's velocity :math:`x_1 - (1 - \\sigma_{min}) x_0` (term
    ``flow``). Sampling integrates ``dx/dt = v`` from noise at ``t = 0`` to ``t = 1``; the
    clean estimate at ``t`` is the one-step extrapolation :math:`x_t + (1 - t) v` (exact for
    :math:`\\sigma_{min} = 0` on a straight path).
    """

    sigma_min = param.Number(
        0.0,
        bounds=(0.0, 0.5),
        doc="Noise left at t = 1 (the PBFM code uses 0; larger trades distributional "
        "accuracy against residual accuracy).",
    )
    stochastic = param.Number(
        0.0,
        bounds=(0.0, 1.0),
        doc="PBFM's stochastic sampler below this flow time: jump to the clean estimate and "
        "re-noise to the next time (0 = off, the paper uses 0.2).",
    )

    def draw_levels(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(n, generator=generator, dtype=torch.float64)

    def schedule(self, steps: int) -> torch.Tensor:
        return torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)

    def start(self, noise: torch.Tensor, schedule: torch.Tensor) -> torch.Tensor:
        return noise

    def predict(self, model, x, level):
        t = level.reshape(-1, *([1] * (x.dim() - 1)))
        velocity = model(x, level)
        return velocity, x + (1.0 - t) * velocity

    def advance(self, x, velocity, clean, a, b, generator):
        if float(a) < self.stochastic:
            noise = torch.randn(x.shape, generator=generator, dtype=torch.float64).to(x)
            return (1.0 - (1.0 - self.sigma_min) * b) * noise + b * clean
        return x + (b - a) * velocity

    def flow_terms(
        self, model: nn.Module, batch: Batch
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The ``flow`` term, and the mixed fields ``x_t``, times ``t`` ``(B,)`` and predicted
        velocity (for methods that add terms of their own)."""
        x1 = model.standardise(batch["fields"])
        x0, t = batch["noise"], batch["level"]
        tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
        xt = (1.0 - (1.0 - self.sigma_min) * tb) * x0 + tb * x1
        velocity = model(xt, t)
        target = x1 - (1.0 - self.sigma_min) * x0
        return (velocity - target).pow(2).mean(), xt, t, velocity


class FlowMatching(Flow):
    """Flow matching with a U-Net velocity field (loss term ``flow``).

    The path and sampler knobs are those of :class:`Flow` above, the evaluation knobs those of
    :class:`~workbench.methods.field_generators.FieldGenerator`.
    """

    name = param.String("flow_matching", constant=True, doc="Registry name of this method.")

    def term_names(self, problem: Problem) -> list[str]:
        return ["flow"]

    def loss(self, model: nn.Module, problem: Problem, batch: Batch):
        return {"flow": self.flow_terms(model, batch)[0]}
