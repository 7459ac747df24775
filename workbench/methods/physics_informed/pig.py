"""Physics-Informed Gaussians (Kang, Oh, Hong & Park, ICLR 2025).

The field is a tiny MLP of a Gaussian feature embedding,

.. math::

    u(x) = \\mathrm{MLP}\\big(F(x)\\big), \\qquad
    F_j(x) = \\sum_{i=1}^{N} w_{ji} \\exp\\Big(-\\tfrac12 \\sum_d
        \\frac{(x_d - \\mu_{jid})^2}{\\sigma_{jid}^2}\\Big), \\quad j = 1..k,

where each of the ``k`` feature channels has its own ``N`` Gaussians with trainable means,
per-axis widths and weights. Trained on the ordinary physics-informed loss, the Gaussians move
and stretch towards where the residual is large: a learned, adaptive mesh. Everything about the
loss (conditions, causal weighting, samplers) is shared with the PINN
(:class:`~workbench.methods.physics_informed.PhysicsInformed`).

The embedding's derivatives are exact and cheap: with ``g`` the Gaussians' values at the points,
``dF/dx_d`` and ``d2F/dx_d2`` are ``g`` times polynomials in ``x_d``, so all of them come from one
batched matrix product of ``g`` with per-Gaussian coefficient vectors.
"""

from __future__ import annotations

import param
import torch
import xarray as xr
from torch import nn

from workbench.calculus import Jet
from workbench.methods.physics_informed.base import PhysicsInformed
from workbench.nn.mlp import MLP
from workbench.problems.base import Problem


class GaussianFeatures(nn.Module):
    """``k`` channels of ``N`` trainable axis-aligned Gaussians each, on ``[-1, 1]^D``.

    Parameters
    ----------
    dims : int
        Input dimension ``D``.
    count, channels : int
        ``N`` Gaussians per channel and ``k`` channels.
    sigma0 : float
        Initial width on every axis (in the rescaled coordinates).
    freeze_means : bool
        Keep the means where they were drawn (a fixed mesh of Gaussians).
    generator : torch.Generator
        Source of the initial means (uniform) and weights.
    """

    def __init__(self, dims, count, channels, sigma0, freeze_means, generator):
        super().__init__()
        means = 2 * torch.rand(channels, count, dims, generator=generator) - 1
        self.means = nn.Parameter(means, requires_grad=not freeze_means)
        # Widths are raw parameters, as in the paper's code: only sigma^2 enters, so a sign
        # flip is harmless, and a log-parameterisation would change how fast Adam moves them.
        self.sigma = nn.Parameter(torch.full((channels, count, dims), float(sigma0)))
        self.weights = nn.Parameter(0.01 * torch.randn(channels, count, generator=generator))

    def forward_jet(self, points: torch.Tensor, first: list[int], second: list[int]) -> list:
        """Features and their derivatives at ``points`` ``(P, D)``.

        Returns the parts of a :class:`~workbench.calculus.Jet` with ``k`` channels: the
        value, ``dF/dx_d`` for each column ``d`` in ``first``, ``d2F/dx_d2`` for ``second``.
        """
        mu, inv = self.means, self.sigma.pow(-2)  # 1 / sigma^2, (k, N, D)
        w = self.weights
        # Quadratic form sum_d (x_d - mu_d)^2 / sigma_d^2 by matrix products, (k, P, N).
        x = points.unsqueeze(0)
        q = (x * x) @ inv.transpose(1, 2) - 2 * x @ (mu * inv).transpose(1, 2)
        q = q + (mu * mu * inv).sum(-1).unsqueeze(1)
        g = torch.exp(-0.5 * q)
        # Per-Gaussian coefficient vectors; one batched product gives every sum over i.
        columns = [w]
        for d in first:
            a = inv[..., d]
            columns += [w * a, w * a * mu[..., d]]
        for d in second:
            a, m = inv[..., d], mu[..., d]
            aa = w * a * a
            columns += [aa, aa * m, aa * m * m - w * a]
        sums = torch.bmm(g, torch.stack(columns, dim=-1))  # (k, P, columns)
        sums = sums.permute(1, 0, 2)  # (P, k, columns)
        parts = [sums[..., 0]]
        col = 1
        for d in first:
            xd = points[:, d : d + 1]
            parts.append(-(xd * sums[..., col] - sums[..., col + 1]))
            col += 2
        for d in second:
            xd = points[:, d : d + 1]
            a2, a2m, rest = sums[..., col], sums[..., col + 1], sums[..., col + 2]
            parts.append(xd * xd * a2 - 2 * xd * a2m + rest)
            col += 3
        return parts


class PIGModel(nn.Module):
    """Gaussian features of the rescaled coordinates, then a small MLP.

    Parameters
    ----------
    problem : Problem
        Gives the dims and the domain (rescaled to ``[-1, 1]``).
    features : GaussianFeatures
        The embedding.
    mlp : MLP
        ``k`` features to the field.
    """

    def __init__(self, problem: Problem, features: GaussianFeatures, mlp: MLP):
        super().__init__()
        self.dims = problem.dims
        self.features = features
        self.mlp = mlp
        self.centre = [sum(problem.domain[d]) / 2 for d in self.dims]
        self.scale = [2 / (problem.domain[d][1] - problem.domain[d][0]) for d in self.dims]

    def forward(self, coords: dict[str, Jet]) -> Jet:
        """Raw output for coordinate seed jets (see :func:`~workbench.calculus.coordinate_jets`)."""
        some = coords[self.dims[0]]
        first, second = some.first, some.second
        scaled = torch.cat(
            [(coords[d].value - self.centre[i]) * self.scale[i] for i, d in enumerate(self.dims)],
            dim=1,
        )
        parts = self.features.forward_jet(
            scaled, [self.dims.index(d) for d in first], [self.dims.index(d) for d in second]
        )
        # Back from rescaled to physical coordinates: d/dx = scale * d/dx~.
        n1 = 1 + len(first)
        for j, d in enumerate(first):
            parts[1 + j] = parts[1 + j] * self.scale[self.dims.index(d)]
        for j, d in enumerate(second):
            parts[n1 + j] = parts[n1 + j] * self.scale[self.dims.index(d)] ** 2
        return self.mlp.forward_jet(Jet(parts, first, second))


class PIG(PhysicsInformed):
    """Physics-Informed Gaussians: trainable Gaussian features feeding a tiny MLP.

    The paper's Helmholtz set-up is 800 Gaussians, ``k = 4`` channels, an MLP ``4 -> 16 -> 1``
    with tanh, Adam at ``lr = 1e-2`` with a slow exponential decay and fresh collocation points
    every step (``sampler="resample"``). Freezing the means turns the adaptive mesh into a
    fixed one: the paper's ablation shows moving means matter most.
    """

    name = param.String("pig", constant=True, doc="Registry name of this method.")

    gaussians = param.Integer(400, bounds=(1, 100_000), doc="N: Gaussians per feature channel.")
    channels = param.Integer(4, bounds=(1, 64), doc="k: feature channels (inputs of the MLP).")
    sigma0 = param.Number(
        0.1, bounds=(1e-4, 10.0), doc="Initial Gaussian width (domain rescaled to [-1, 1])."
    )
    freeze_means = param.Boolean(False, doc="Keep the Gaussian centres fixed (no adaptive mesh).")
    width = param.Integer(16, bounds=(1, 1024), doc="Hidden neurons of the MLP after the features.")
    depth = param.Integer(1, bounds=(1, 8), doc="Hidden layers of that MLP.")

    def network(self, problem: Problem, generator: torch.Generator) -> PIGModel:
        features = GaussianFeatures(
            len(problem.dims),
            self.gaussians,
            self.channels,
            self.sigma0,
            self.freeze_means,
            generator,
        )
        mlp = MLP(self.channels, self.outputs(problem), self.width, self.depth, "tanh", generator)
        return PIGModel(problem, features, mlp)

    def anchors(self, model: PIGModel, problem: Problem) -> xr.Dataset:
        """Gaussian centres, widths and weights in the problem's coordinates (dim ``gaussian``)."""
        feats = model.features
        channels, count, _ = feats.means.shape
        mu = feats.means.detach().to("cpu", torch.float64).reshape(-1, len(problem.dims))
        sigma = feats.sigma.detach().to("cpu", torch.float64).abs().reshape(mu.shape)
        weight = feats.weights.detach().to("cpu", torch.float64).reshape(-1)
        variables = {}
        for i, d in enumerate(problem.dims):
            centre, scale = model.centre[i], model.scale[i]
            variables[f"gaussian_{d}"] = (
                "gaussian",
                (mu[:, i] / scale + centre).numpy(),
                {"long_name": f"Gaussian centre {d}"},
            )
            variables[f"gaussian_sigma_{d}"] = (
                "gaussian",
                (sigma[:, i] / scale).numpy(),
                {"long_name": f"Gaussian width along {d}"},
            )
        variables["gaussian_weight"] = ("gaussian", weight.numpy(), {"long_name": "weight"})
        variables["gaussian_channel"] = (
            "gaussian",
            torch.arange(channels).repeat_interleave(count).numpy(),
            {"long_name": "feature channel"},
        )
        return xr.Dataset(variables)
