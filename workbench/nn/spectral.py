"""Spectral convolution: the layer that makes a Fourier neural operator (Li et al., ICLR 2021).

A spectral convolution multiplies the lowest Fourier modes of its input by learned complex
matrices (one ``in x out`` matrix per kept mode) and drops the rest. Because the weights live
on modes, not on grid points, the same layer acts on any grid resolution: that is what lets an
FNO trained at 32x32 be evaluated at 64x64.
"""

from __future__ import annotations

import torch
from torch import nn


class SpectralConv(nn.Module):
    """Fourier-space linear map on the lowest ``modes`` of a 1D or 2D field.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and output, shape ``(B, C, *grid)``.
    modes : tuple of int
        Modes kept per spatial dim, one entry (1D) or two (2D). Along the last dim the real FFT
        holds only non-negative frequencies; along the first of two dims both the lowest positive
        and the lowest negative frequencies are kept (two blocks of weights).
    generator : torch.Generator
        Source of the initial weights.

    Notes
    -----
    Weights are stored as real tensors with a trailing dim of 2 (real, imaginary part) and
    viewed as complex in :meth:`forward`: optimisers, weight decay and safetensors then see
    ordinary real parameters.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: tuple[int, ...],
        generator: torch.Generator,
    ):
        super().__init__()
        if len(modes) not in (1, 2):
            raise ValueError(f"modes must have 1 or 2 entries (1D or 2D), got {modes!r}")
        self.modes = tuple(int(m) for m in modes)
        blocks = 1 if len(modes) == 1 else 2
        # The scale of the original FNO code: products of in_channels terms stay O(1/out).
        scale = 1.0 / (in_channels * out_channels)
        self.weight = nn.Parameter(
            scale
            * torch.rand(blocks, in_channels, out_channels, *self.modes, 2, generator=generator)
        )

    def extra_repr(self) -> str:
        _, cin, cout, *_ = self.weight.shape
        return f"{cin}, {cout}, modes={self.modes}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer to ``x`` of shape ``(B, in_channels, *grid)``."""
        weight = torch.view_as_complex(self.weight)
        if len(self.modes) == 1:
            return self._forward_1d(x, weight[0])
        return self._forward_2d(x, weight)

    def _forward_1d(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        m = min(self.modes[0], n // 2 + 1)
        spectrum = torch.fft.rfft(x, norm="forward")
        out = spectrum.new_zeros(x.shape[0], weight.shape[1], n // 2 + 1)
        out[..., :m] = torch.einsum("bim,iom->bom", spectrum[..., :m], weight[..., :m])
        return torch.fft.irfft(out, n=n, norm="forward")

    def _forward_2d(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # A coarse grid holds fewer modes than were trained: use those it has (the rest are
        # zero at that resolution anyway), so evaluation works at any resolution.
        m1 = min(self.modes[0], h // 2)
        m2 = min(self.modes[1], w // 2 + 1)
        spectrum = torch.fft.rfft2(x, norm="forward")
        out = spectrum.new_zeros(x.shape[0], weight.shape[2], h, w // 2 + 1)
        low, high = spectrum[..., :m1, :m2], spectrum[..., h - m1 :, :m2]
        out[..., :m1, :m2] = torch.einsum("bixy,ioxy->boxy", low, weight[0, ..., :m1, :m2])
        out[..., h - m1 :, :m2] = torch.einsum("bixy,ioxy->boxy", high, weight[1, ..., :m1, :m2])
        return torch.fft.irfft2(out, s=(h, w), norm="forward")


__all__ = ["SpectralConv"]
