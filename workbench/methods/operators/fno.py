"""Fourier neural operator (Li, Kovachki, Azizzadenesheli, Liu, Bhattacharya, Stuart &
Anandkumar, "Fourier Neural Operator for Parametric Partial Differential Equations", ICLR 2021).

The input function and the grid coordinates are lifted pointwise to ``width`` channels, pass
through ``layers`` Fourier layers ``h <- act(K h + W h)`` (``K`` a spectral convolution on the
lowest ``modes``, ``W`` a pointwise linear map), and are projected back pointwise. Every layer
acts on Fourier modes or on single points, so a trained FNO evaluates on any grid resolution.
"""

from __future__ import annotations

import math

import param
import torch
import torch.nn.functional as F
from torch import nn

from workbench.methods.operators.base import Operator
from workbench.nn.spectral import SpectralConv
from workbench.problems.base import Problem


def _pointwise(cin: int, cout: int, generator: torch.Generator) -> nn.Linear:
    # torch's default (Kaiming-uniform) scale, drawn from the run's generator.
    layer = nn.Linear(cin, cout)
    bound = 1.0 / math.sqrt(cin)
    with torch.no_grad():
        layer.weight.copy_((2 * torch.rand(cout, cin, generator=generator) - 1) * bound)
        layer.bias.copy_((2 * torch.rand(cout, generator=generator) - 1) * bound)
    return layer


class FNONetwork(nn.Module):
    """The FNO of the paper's code, for 1D or 2D fields.

    Parameters
    ----------
    dims : int
        Spatial dims (1 or 2).
    modes, width, layers, projection : int
        Fourier modes kept per dim, channels of the Fourier layers, number of Fourier layers and
        hidden size of the pointwise projection.
    padding : int
        Grid points of zero padding appended per dim before the Fourier layers (non-periodic
        data: the FFT then does not wrap one boundary onto the other).
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        dims: int,
        modes: int,
        width: int,
        layers: int,
        projection: int,
        padding: int,
        generator: torch.Generator,
    ):
        super().__init__()
        self.dims, self.padding = dims, padding
        self.lift = _pointwise(1 + dims, width, generator)
        self.spectral = nn.ModuleList(
            SpectralConv(width, width, (modes,) * dims, generator) for _ in range(layers)
        )
        self.skip = nn.ModuleList(_pointwise(width, width, generator) for _ in range(layers))
        self.project = nn.Sequential(
            _pointwise(width, projection, generator),
            nn.GELU(),
            _pointwise(projection, 1, generator),
        )

    def forward(self, z: torch.Tensor, coords: list[torch.Tensor]) -> torch.Tensor:
        grid = z.shape[1:]
        mesh = torch.meshgrid(*coords, indexing="ij")
        features = [z] + [m.expand_as(z) for m in mesh]
        # Channels last for the pointwise maps (plain matrix products), first for the FFTs.
        h = self.lift(torch.stack(features, dim=-1)).movedim(-1, 1)
        if self.padding:
            h = F.pad(h, (0, self.padding) * self.dims)
        last = len(self.spectral) - 1
        for i, (spectral, skip) in enumerate(zip(self.spectral, self.skip)):
            pointwise = skip(h.movedim(1, -1)).movedim(-1, 1)
            h = spectral(h) + pointwise
            if i < last:
                h = F.gelu(h)
        if self.padding:
            h = h[(..., *(slice(0, n) for n in grid))]
        return self.project(h.movedim(1, -1)).squeeze(-1)


class FNO(Operator):
    """Fourier neural operator on a problem family (1D or 2D).

    The data, loss and evaluation knobs are those of every operator method (see
    :class:`~workbench.methods.operators.Operator`).
    """

    name = param.String("fno", constant=True, doc="Registry name of this method.")

    modes = param.Integer(
        None,
        allow_None=True,
        bounds=(1, 512),
        doc="Fourier modes kept per dim and sign (None = 12 as in the FNO paper, at most half "
        "the resolution).",
    )
    width = param.Integer(32, bounds=(1, 1024), doc="Channels of the Fourier layers.")
    layers = param.Integer(4, bounds=(1, 16), doc="Number of Fourier layers.")
    projection = param.Integer(128, bounds=(1, 4096), doc="Hidden size of the projection.")
    padding = param.Integer(
        0, bounds=(0, 256), doc="Zero padding (grid points per dim) for non-periodic data."
    )

    def check(self, problem: Problem) -> None:
        super().check(problem)
        resolution = self.data_resolution(problem)
        if self.modes is not None and self.modes > resolution // 2:
            raise ValueError(
                f"modes: a grid of resolution={resolution} points holds {resolution // 2} "
                f"Fourier modes per dim (of each sign), got modes={self.modes}"
            )

    def network(self, problem: Problem, resolution: int, generator: torch.Generator) -> nn.Module:
        modes = self.modes or min(12, resolution // 2)
        return FNONetwork(
            len(problem.family_dims),
            modes,
            self.width,
            self.layers,
            self.projection,
            self.padding,
            generator,
        )
