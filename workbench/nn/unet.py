"""A small U-Net with a time (noise level) embedding: the denoiser and velocity network of the
flow-matching and diffusion methods.

Two or three resolution levels of residual blocks (Ho, Jain & Abbeel, "Denoising diffusion
probabilistic models", NeurIPS 2020, without attention: the fields here are 16-64 points a
side, and attention costs more than it helps on CPU). Works on 1D and 2D grids; periodic grids
use circular padding, so the network sees the wrap-around.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from workbench.nn.mlp import glorot


def time_features(t: torch.Tensor, size: int) -> torch.Tensor:
    """Sinusoidal features ``(B, size)`` of times ``t`` ``(B,)`` in about ``[0, 1]`` (or log
    noise levels): frequencies from 1 to 1000, geometrically spaced, as in transformers."""
    half = size // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=t.dtype, device=t.device) / half)
    angles = 1000.0 * t[:, None] * freqs[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def _init_conv(conv: nn.Module, generator: torch.Generator, gain: float = 1.0) -> nn.Module:
    # He-normal weights from the run's generator (torch's initialisers use the global RNG).
    fan_in = conv.weight[0].numel()
    with torch.no_grad():
        conv.weight.copy_(
            torch.randn(conv.weight.shape, generator=generator) * gain * math.sqrt(2.0 / fan_in)
        )
        conv.bias.zero_()
    return conv


def _norm(channels: int) -> nn.GroupNorm:
    """GroupNorm over up to 8 groups: the largest group count <= 8 that divides ``channels``
    (8 whenever it divides; a width of 4 makes 12-channel skip concatenations, which 8 groups
    cannot split)."""
    groups = max(g for g in range(1, min(8, channels) + 1) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


class _Block(nn.Module):
    """Residual block: norm, SiLU, conv, plus the time embedding; norm, SiLU, conv; skip."""

    def __init__(self, conv, c_in: int, c_out: int, embed: int, generator, padding_mode: str):
        super().__init__()
        self.norm1 = _norm(c_in)
        self.conv1 = _init_conv(
            conv(c_in, c_out, 3, padding=1, padding_mode=padding_mode), generator
        )
        self.time = glorot(nn.Linear(embed, c_out), generator)
        self.norm2 = _norm(c_out)
        # The last conv of a residual branch starts small, so every block starts near identity.
        self.conv2 = _init_conv(
            conv(c_out, c_out, 3, padding=1, padding_mode=padding_mode), generator, gain=0.1
        )
        self.skip = _init_conv(conv(c_in, c_out, 1), generator) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(emb).reshape(*h.shape[:2], *([1] * (h.dim() - 2)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class TimeUNet(nn.Module):
    """U-Net ``net(x, t) -> (B, channels, *grid)`` for fields ``x`` ``(B, channels, *grid)`` and
    times (or noise levels) ``t`` ``(B,)``.

    Parameters
    ----------
    channels : int
        Field channels in and out (e.g. 2 for a joint coefficient and solution).
    ndim : {1, 2}
        Grid dims.
    width : int
        Channels of the first level; each further level has twice as many, up to ``4 width``.
    levels : int
        Resolution levels (each halves the grid); the grid is padded to a multiple of
        ``2 ** (levels - 1)`` and cropped back.
    periodic : bool
        Circular padding (a periodic grid) instead of zeros.
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        channels: int,
        ndim: int,
        width: int,
        levels: int,
        periodic: bool,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        if ndim not in (1, 2):
            raise ValueError(f"ndim must be 1 or 2, got {ndim}")
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        conv = nn.Conv1d if ndim == 1 else nn.Conv2d
        self.ndim, self.levels, self.periodic = ndim, levels, periodic
        pad = "circular" if periodic else "zeros"
        embed = 4 * width
        self.embed_size = width
        self.embed = nn.Sequential(
            glorot(nn.Linear(width, embed), generator),
            nn.SiLU(),
            glorot(nn.Linear(embed, embed), generator),
        )
        sizes = [width * min(2**i, 4) for i in range(levels)]
        self.inlet = _init_conv(conv(channels, width, 3, padding=1, padding_mode=pad), generator)
        self.down = nn.ModuleList()
        c = width
        for size in sizes:
            self.down.append(_Block(conv, c, size, embed, generator, pad))
            c = size
        self.middle = _Block(conv, c, c, embed, generator, pad)
        self.up = nn.ModuleList()
        for size in reversed(sizes):
            self.up.append(_Block(conv, c + size, size, embed, generator, pad))
            c = size
        self.norm = _norm(c)
        # Zero output layer: the untrained network predicts 0, a neutral start for a velocity
        # or a noise prediction.
        self.outlet = conv(c, channels, 3, padding=1, padding_mode=pad)
        nn.init.zeros_(self.outlet.weight)
        nn.init.zeros_(self.outlet.bias)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool1d(x, 2) if self.ndim == 1 else F.avg_pool2d(x, 2)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        shape = x.shape[2:]
        multiple = 2 ** (self.levels - 1)
        pads = [(-n) % multiple for n in shape]
        if any(pads):
            # F.pad lists the last dim first: (left, right) per dim, padded at the end.
            spec = [p for n in reversed(pads) for p in (0, n)]
            x = F.pad(x, spec, mode="circular" if self.periodic else "replicate")
        emb = self.embed(time_features(t.to(x.dtype).reshape(-1), self.embed_size))
        h = self.inlet(x)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h, emb)
            skips.append(h)
            if i < self.levels - 1:
                h = self._pool(h)
        h = self.middle(h, emb)
        for block in self.up:
            skip = skips.pop()
            if h.shape[2:] != skip.shape[2:]:
                h = F.interpolate(h, size=skip.shape[2:], mode="nearest")
            h = block(torch.cat([h, skip], dim=1), emb)
        out = self.outlet(F.silu(self.norm(h)))
        return out[(..., *(slice(0, n) for n in shape))]


__all__ = ["TimeUNet", "time_features"]
