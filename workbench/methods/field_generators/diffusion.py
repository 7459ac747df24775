"""Denoising diffusion of a family's joint (input, solution) fields, optionally physics-informed.

The diffusion model of DiffusionPDE (Huang, Yang, Wang & Park, NeurIPS 2024): EDM's
preconditioning, noise distribution and Heun sampler (Karras, Aittala, Aila & Laine,
"Elucidating the design space of diffusion-based generative models", NeurIPS 2022). With
``pidm=True``, the PDE residual of the denoised estimate joins the loss (Bastek, Sun &
Kochmann, "Physics-informed diffusion models", ICLR 2025).
"""

from __future__ import annotations

import param
import torch
from torch import nn

from workbench.methods.base import Batch
from workbench.methods.field_generators.base import FieldGenerator
from workbench.problems.base import Problem


class Diffusion(FieldGenerator):
    """EDM-style diffusion model with a U-Net denoiser.

    Training draws noise levels :math:`\\ln\\sigma \\sim N(P_{mean}, P_{std}^2)`, noises
    standardised data ``y`` to ``x = y + sigma n`` and fits the denoiser
    :math:`D(x, \\sigma) = c_{skip} x + c_{out} F(c_{in} x, \\ln(\\sigma) / 4)` (data standard
    deviation 1) with EDM's weight :math:`(\\sigma^2 + 1) / \\sigma^2`: term ``denoise``.
    Sampling integrates the probability-flow ODE :math:`dx/d\\sigma = (x - D) / \\sigma` over
    :math:`\\sigma_i = (\\sigma_{max}^{1/\\rho} + \\tfrac{i}{N-1}(\\sigma_{min}^{1/\\rho} -
    \\sigma_{max}^{1/\\rho}))^\\rho`, then 0.

    ``pidm=True`` adds term ``residual``: :math:`E[w(\\sigma)\\,\\mathrm{mean}\\,R(D(x,
    \\sigma))^2]`, the squared PDE residual (forcing units) of the one-step clean estimate
    (PIDM's 'mean' mode), weighted by :math:`w = 1 / (1 + \\sigma^2)`: the estimate is only
    informative at low noise, like PBFM's flow-time weight. Its default weight is 0.01.
    """

    name = param.String("diffusion", constant=True, doc="Registry name of this method.")

    heun = param.Boolean(True, doc="Heun's second-order steps (EDM's sampler) instead of Euler's.")
    sigma_max = param.Number(80.0, bounds=(1.0, 1000.0), doc="Largest noise level of the sampler.")
    sigma_min_sample = param.Number(
        0.002, bounds=(1e-5, 1.0), doc="Smallest nonzero noise level of the sampler."
    )
    rho = param.Number(7.0, bounds=(1.0, 20.0), doc="Curvature of the sampler's level schedule.")
    p_mean = param.Number(-1.2, bounds=(-5.0, 5.0), doc="Mean of log sigma in training.")
    p_std = param.Number(1.2, bounds=(0.1, 5.0), doc="Standard deviation of log sigma in training.")
    pidm = param.Boolean(
        False, doc="Add the PDE residual of the denoised estimate to the loss (PIDM)."
    )

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.pidm and not problem.generator_has_residual():
            raise ValueError(f"pidm: {problem.name!r} has no discrete PDE residual; set pidm=False")
        if self.sigma_min_sample >= self.sigma_max:
            raise ValueError(
                f"sigma_min_sample must be < sigma_max ({self.sigma_max}), got "
                f"{self.sigma_min_sample}"
            )

    def draw_levels(self, n: int, generator: torch.Generator) -> torch.Tensor:
        normal = torch.randn(n, generator=generator, dtype=torch.float64)
        return (normal * self.p_std + self.p_mean).exp()

    def schedule(self, steps: int) -> torch.Tensor:
        i = torch.arange(steps, dtype=torch.float64) / max(steps - 1, 1)
        lo, hi = self.sigma_min_sample ** (1 / self.rho), self.sigma_max ** (1 / self.rho)
        sigmas = (hi + i * (lo - hi)) ** self.rho
        return torch.cat([sigmas, sigmas.new_zeros(1)])

    def start(self, noise: torch.Tensor, schedule: torch.Tensor) -> torch.Tensor:
        return noise * schedule[0]

    def denoise(self, model: nn.Module, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """EDM's preconditioned denoiser ``D(x, sigma)`` (data standard deviation 1)."""
        s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
        total = s * s + 1.0
        c_skip, c_out, c_in = 1.0 / total, s / total.sqrt(), 1.0 / total.sqrt()
        return c_skip * x + c_out * model(c_in * x, sigma.log() / 4)

    def predict(self, model, x, level):
        clean = self.denoise(model, x, level)
        s = level.reshape(-1, *([1] * (x.dim() - 1)))
        return (x - clean) / s, clean

    def term_names(self, problem: Problem) -> list[str]:
        return ["denoise", "residual"] if self.pidm else ["denoise"]

    def default_weights(self, problem: Problem) -> dict[str, float]:
        return {"residual": 0.01} if self.pidm else {}

    def loss(self, model: nn.Module, problem: Problem, batch: Batch):
        y = model.standardise(batch["fields"])
        sigma = batch["level"]
        s = sigma.reshape(-1, *([1] * (y.dim() - 1)))
        clean = self.denoise(model, y + s * batch["noise"], sigma)
        weight = (s * s + 1.0) / (s * s)
        terms = {"denoise": (weight * (clean - y).pow(2)).mean()}
        if self.pidm:
            r = self.residual(model, problem, clean).pow(2).flatten(1).mean(1)
            terms["residual"] = (r / (1.0 + sigma * sigma)).mean()
        return terms


__all__ = ["Diffusion"]
