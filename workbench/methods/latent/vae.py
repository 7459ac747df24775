"""Variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014).

MLP encoder from the whole field (flattened) to a diagonal Gaussian over ``latent`` dims, MLP
decoder back to the field. It knows no physics: the baseline for
:class:`~workbench.methods.PhysVAE`, and a latent model of any family's fields.
"""

from __future__ import annotations

import math

import param
import torch
from torch import nn

from workbench.methods.latent.base import LatentModel
from workbench.nn.lipschitz import LipschitzMLP
from workbench.nn.mlp import MLP
from workbench.problems.base import Problem


class VAEModel(nn.Module):
    """Encoder and decoder MLPs for fields of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        The field's grid shape.
    latent, width, depth : int
        Latent dims, and hidden size and layers of both MLPs.
    generator : torch.Generator
        Source of the initial weights.
    lipschitz : bool
        Make the decoder 1-Lipschitz (:class:`~workbench.nn.lipschitz.LipschitzMLP`).
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        latent: int,
        width: int,
        depth: int,
        generator,
        lipschitz: bool = False,
    ) -> None:
        super().__init__()
        self.shape = tuple(shape)
        size = math.prod(self.shape)
        self.encoder = MLP(size, 2 * latent, width, depth, "gelu", generator)
        if lipschitz:
            self.decoder = LipschitzMLP(latent, size, width, depth, generator)
        else:
            self.decoder = MLP(latent, size, width, depth, "gelu", generator)

    def encode(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance ``(B, latent)`` of the latent Gaussian of fields ``u``."""
        mean, logvar = self.encoder(u.reshape(len(u), -1)).chunk(2, dim=-1)
        return mean, logvar

    def decode(self, z: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """Fields ``(B, *shape)`` from latents ``z``; ``u`` (conditioning) is not used."""
        return self.decoder(z).reshape(len(z), *self.shape)


class VAE(LatentModel):
    """Plain variational autoencoder of a family's fields (no physics).

    The data, loss and evaluation knobs are those of every generative method (see
    :class:`~workbench.methods.base.LatentModel`).
    """

    name = param.String("vae", constant=True, doc="Registry name of this method.")

    latent = param.Integer(4, bounds=(1, 256), doc="Latent dims.")
    width = param.Integer(128, bounds=(2, 4096), doc="Hidden size of encoder and decoder.")
    depth = param.Integer(2, bounds=(1, 16), doc="Hidden layers of encoder and decoder.")
    lipschitz = param.Boolean(
        False,
        doc="Make the decoder 1-Lipschitz (spectrally normalised layers, tanh): needed by the "
        "least_volume regularizer, so that shrinking the latents has a cost.",
    )

    def lipschitz_decoder(self) -> bool:
        return self.lipschitz

    def latent_names(self, problem: Problem) -> list[str]:
        return [f"z{i}" for i in range(self.latent)]

    def build(self, problem: Problem, generator: torch.Generator) -> VAEModel:
        shape = self.split(problem)["train"]["u"].shape[1:]
        return VAEModel(shape, self.latent, self.width, self.depth, generator, self.lipschitz)
