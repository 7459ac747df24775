"""Multilayer perceptron that can carry derivatives forward (see :mod:`workbench.calculus`)."""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.calculus import Jet

ACTIVATIONS = ("tanh", "sin", "gelu", "wavelet")


def _activate(x: torch.Tensor, name: str, wave: torch.Tensor | None) -> torch.Tensor:
    if name == "tanh":
        return torch.tanh(x)
    if name == "sin":
        return torch.sin(x)
    if name == "wavelet":
        return wave[0] * torch.sin(x) + wave[1] * torch.cos(x)
    return nn.functional.gelu(x)


def _activate_jet(x: Jet, name: str, wave: torch.Tensor | None) -> Jet:
    if name == "tanh":
        return x.tanh()
    if name == "sin":
        return x.sin()
    if name == "wavelet":
        # w1 sin z + w2 cos z: its derivative is w1 cos z - w2 sin z, its second is minus itself.
        w1, w2 = wave[0], wave[1]
        return x.apply(
            lambda z: w1 * torch.sin(z) + w2 * torch.cos(z),
            lambda z, f: w1 * torch.cos(z) - w2 * torch.sin(z),
            lambda z, f, df: -f,
        )
    return x.gelu()


class FourierFeatures(nn.Module):
    """Random Fourier features ``[sin(2 pi x B), cos(2 pi x B)]`` with a fixed matrix ``B``.

    Parameters
    ----------
    in_features : int
        Input dimension.
    n_features : int
        Number of frequencies; the output has ``2 * n_features`` channels.
    scale : float
        Standard deviation of the entries of ``B`` (higher = finer features).
    generator : torch.Generator
        Source of the random frequencies (seeded by the caller).
    """

    def __init__(self, in_features: int, n_features: int, scale: float, generator: torch.Generator):
        super().__init__()
        freqs = torch.randn(in_features, n_features, generator=generator) * scale
        # A buffer, not a parameter: the frequencies are part of the architecture, saved with it.
        self.register_buffer("freqs", 2 * math.pi * freqs)

    @property
    def out_features(self) -> int:
        return 2 * self.freqs.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x @ self.freqs
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)

    def forward_jet(self, x: Jet) -> Jet:
        z = x.linear(self.freqs.T)
        s, c = z.sin(), z.cos()
        return Jet([torch.cat(p, dim=-1) for p in zip(s.parts, c.parts)], x.first, x.second)


def glorot(layer: nn.Linear, generator: torch.Generator) -> nn.Linear:
    """Glorot-normal weights drawn from ``generator`` and zero biases, in place; returns ``layer``.

    torch's own initialisers draw from the global RNG, which would make two runs with the same
    seed differ once anything else has drawn from it.
    """
    std = math.sqrt(2.0 / (layer.in_features + layer.out_features))
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * std)
        layer.bias.zero_()
    return layer


class MLP(nn.Module):
    """Fully connected network ``in -> [width] * depth -> out`` with Glorot-normal weights.

    Parameters
    ----------
    in_features, out_features : int
        Input and output sizes.
    width, depth : int
        Hidden layer size and number of hidden layers.
    activation : {"tanh", "sin", "gelu", "wavelet"}
        Hidden activation. ``wavelet`` is PINNsFormer's ``w1 sin(z) + w2 cos(z)`` (Zhao, Ding &
        Prakash, ICLR 2024) with a trainable pair ``(w1, w2)`` per hidden layer, from ``(1, 1)``.
    fourier : FourierFeatures or None
        Optional input embedding applied first.
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        width: int,
        depth: int,
        activation: str,
        generator: torch.Generator,
        fourier: FourierFeatures | None = None,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = activation
        self.fourier = fourier
        sizes = [fourier.out_features if fourier else in_features] + [width] * depth
        sizes.append(out_features)
        self.layers = nn.ModuleList(
            glorot(nn.Linear(a, b), generator) for a, b in zip(sizes[:-1], sizes[1:])
        )
        # One trainable (w1, w2) per hidden layer for the wavelet activation, else nothing.
        self.waves = nn.ParameterList(
            nn.Parameter(torch.ones(2)) for _ in range(depth if activation == "wavelet" else 0)
        )

    def _wave(self, i: int) -> torch.Tensor | None:
        return self.waves[i] if self.activation == "wavelet" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fourier is not None:
            x = self.fourier(x)
        for i, layer in enumerate(self.layers[:-1]):
            x = _activate(layer(x), self.activation, self._wave(i))
        return self.layers[-1](x)

    def forward_jet(self, x: Jet) -> Jet:
        """Propagate a :class:`~workbench.calculus.Jet` (value and derivatives) through the net."""
        if self.fourier is not None:
            x = self.fourier.forward_jet(x)
        for i, layer in enumerate(self.layers[:-1]):
            x = _activate_jet(x.linear(layer.weight, layer.bias), self.activation, self._wave(i))
        last = self.layers[-1]
        return x.linear(last.weight, last.bias)


__all__ = ["MLP", "FourierFeatures", "ACTIVATIONS", "glorot"]
