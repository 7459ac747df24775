"""A multilayer perceptron whose Lipschitz constant is at most 1 (spectral normalisation)."""

from __future__ import annotations

import torch
from torch import nn

from workbench.nn.mlp import glorot


class LipschitzMLP(nn.Module):
    """Fully connected ``in -> [width] * depth -> out`` network that is 1-Lipschitz.

    Every weight matrix is divided by its largest singular value in the forward pass (Miyato
    et al.'s spectral normalisation, computed exactly rather than by power iteration: the
    matrices of a latent model's decoder are small), and the activation, ``tanh``, has slope
    at most 1. So :math:`\\lVert f(z_1) - f(z_2) \\rVert \\le \\lVert z_1 - z_2 \\rVert`: the
    network cannot stretch its input, which is what a latent volume penalty needs (Least
    Volume; otherwise the encoder shrinks the latents for free and the decoder scales them
    back up).

    Parameters
    ----------
    in_features, out_features : int
        Input and output sizes.
    width, depth : int
        Hidden layer size and number of hidden layers.
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self, in_features: int, out_features: int, width: int, depth: int, generator
    ) -> None:
        super().__init__()
        sizes = [in_features, *[width] * depth, out_features]
        self.layers = nn.ModuleList(
            glorot(nn.Linear(a, b), generator) for a, b in zip(sizes[:-1], sizes[1:])
        )

    @staticmethod
    def _normalised(layer: nn.Linear) -> torch.Tensor:
        return layer.weight / torch.linalg.matrix_norm(layer.weight, ord=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = torch.tanh(nn.functional.linear(x, self._normalised(layer), layer.bias))
        last = self.layers[-1]
        return nn.functional.linear(x, self._normalised(last), last.bias)


__all__ = ["LipschitzMLP"]
