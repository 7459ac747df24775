"""2D Poisson equation on the unit square."""

from __future__ import annotations

import math

import numpy as np
import param
import torch

from workbench.numerics.finite_differences import (
    diffusion_residual,
    refine_nodes,
    solve_diffusion,
)
from workbench.numerics.random_fields import CosineGRF
from workbench.problems.base import Problem
from workbench.problems.conditions import ValueCondition

#: The family's random sources: the Darcy field of the FNO paper, unthresholded.
FIELD = CosineGRF(alpha=2.0, tau=3.0, modes=32)
#: Fewest nodes per side of the grid the family's solver works on (second order for the
#: smooth sources: the solution error is ~1e-4 relative at 121 nodes).
SOLVER_NODES = 121


class Poisson2D(Problem):
    r"""Poisson equation with homogeneous Dirichlet conditions.

    .. math::

        -\Delta u = 2\pi^2 \sin(\pi x)\sin(\pi y), \quad (x, y) \in [0, 1]^2, \qquad
        u = 0 \text{ on the boundary},

    with exact solution :math:`u = \sin(\pi x)\sin(\pi y)`. The exact-constraint transform is
    :math:`u = x(1-x)\,y(1-y)\,N(x, y)`.

    **Family** (operator learning): the source is random, the operator maps ``f`` to ``u``,

    .. math::

        -\Delta u = f, \quad (x, y) \in [0, 1]^2, \qquad u = 0 \text{ on the boundary},
        \qquad f \sim N\big(0, C (-\Delta + 9)^{-2}\big) \text{ (Neumann conditions)},

    drawn as a cosine series (:class:`~workbench.numerics.random_fields.CosineGRF`, 32 x 32
    modes, no constant mode, unit variance on average over the square) and evaluated on the
    grid. Dataset grids are ``resolution`` x ``resolution`` nodes including the boundary; each
    sample is solved by five-point finite differences (the Darcy solver with ``a = 1``) on a
    node grid of ``(resolution - 1) m + 1 >= solver_nodes`` (121) nodes per side with ``f``
    evaluated there, and subsampled with stride ``m``. :meth:`grid_residual` applies the same
    discrete operator on the dataset grid itself.
    """

    name = param.String("poisson2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y")
    domain = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    derivatives = {"x": 2, "y": 2}
    grid_size = {"x": 101, "y": 101}
    constrained = ("boundary",)

    family_input = "f"
    family_dims = ("x", "y")
    family_periodic = (False, False)
    family_resolution = 32
    family_has_residual = True
    family_attrs = {
        "f": {"long_name": "source f", "units": "1"},
        "u": {"long_name": "solution u", "units": "1"},
    }

    solver_nodes = param.Integer(
        SOLVER_NODES,
        bounds=(3, 2049),
        doc="Fewest nodes per side of the grid the family's samples are solved on (then "
        "subsampled to the dataset's grid). Set it to the dataset's resolution for data "
        "that satisfy the coarse grid's own five-point equations exactly (grid_residual "
        "0): what physics-constrained generators are measured against.",
    )

    def residual(self, coords, u):
        source = 2 * np.pi**2 * torch.sin(np.pi * coords["x"]) * torch.sin(np.pi * coords["y"])
        return -u.dd("x") - u.dd("y") - source

    def conditions(self):
        faces = (
            {"x": 0.0, "y": (0.0, 1.0)},
            {"x": 1.0, "y": (0.0, 1.0)},
            {"x": (0.0, 1.0), "y": 0.0},
            {"x": (0.0, 1.0), "y": 1.0},
        )
        return [ValueCondition("boundary", faces, self.dims, lambda c: torch.zeros_like(c["x"]))]

    def solve_reference(self, grid):
        x, y = np.meshgrid(grid["x"], grid["y"], indexing="ij")
        return np.sin(np.pi * x) * np.sin(np.pi * y)

    def constrain(self, coords, net):
        x, y = coords["x"], coords["y"]
        return x * (1.0 - x) * y * (1.0 - y) * net

    # --- family ---------------------------------------------------------------------------
    def family_solver_resolution(self, resolution):
        return (resolution - 1) * math.ceil((self.solver_nodes - 1) / (resolution - 1)) + 1

    def family_inputs(self, n, resolution, rng):
        x = self.family_grid(resolution)["x"]
        return FIELD.on_grid(FIELD.sample(n, rng), x, x)

    def family_solve(self, inputs, resolution):
        inputs = np.asarray(inputs, dtype=np.float64)
        if inputs.ndim != 3 or inputs.shape[1:] != (resolution, resolution):
            raise ValueError(
                f"inputs must have shape (n, {resolution}, {resolution}), got {inputs.shape}"
            )
        stride = (self.family_solver_resolution(resolution) - 1) // (resolution - 1)
        fine = refine_nodes(inputs, stride, "linear") if stride > 1 else inputs
        # One coefficient field for all samples: a single factorisation serves the batch.
        return solve_diffusion(np.ones(fine.shape[1:]), fine)[:, ::stride, ::stride]

    def family_provenance(self, resolution):
        return {
            "equation": "-lap u = f on [0,1]^2, u = 0 on the boundary",
            "input_distribution": "f: " + FIELD.describe(),
            "grf_alpha": FIELD.alpha,
            "grf_tau": FIELD.tau,
            "grf_modes": FIELD.modes,
            "solver": "5-point finite differences, sparse LU (SuperLU), on a finer node grid "
            "with f evaluated there, subsampled",
            "solver_resolution": self.family_solver_resolution(resolution),
        }

    def grid_residual(self, inputs, u):
        if inputs.shape != u.shape or u.dim() < 2 or u.shape[-1] != u.shape[-2]:
            raise ValueError(
                "inputs and u must have the same shape (B, N, N), got "
                f"{tuple(inputs.shape)} and {tuple(u.shape)}"
            )
        return diffusion_residual(torch.ones_like(u), u, inputs, 1.0 / (u.shape[-1] - 1))
