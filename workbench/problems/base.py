"""The Problem ABC: a PDE with its coefficients, domain, conditions and reference solution.

A Problem is a *spec*: numbers that describe the equation (its Parameters) plus the maths that
turns a field into residuals. It never holds a network. Methods ask it for

* :meth:`Problem.residual`: the pointwise PDE residual, given the coordinates and a
  :class:`~workbench.calculus.Jet` of the field (its value and derivatives there);
* :meth:`Problem.conditions`: the boundary/initial/periodic conditions, each a
  :class:`Condition` that samples its own points and measures the mismatch;
* :meth:`Problem.sample_interior`: collocation points, always from an explicit generator;
* :meth:`Problem.reference`: the classical solution on :meth:`Problem.grid`, as xarray.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import param
import torch
import xarray as xr

from workbench.calculus import Jet

#: Evaluates the model at points ``(N, D)`` with derivatives of the given orders.
Evaluate = Callable[[torch.Tensor, Mapping[str, int]], Jet]


def uniform_points(
    n: int,
    box: Mapping[str, tuple[float, float] | float],
    dims,
    generator: torch.Generator,
    sobol: bool = False,
) -> torch.Tensor:
    """``n`` uniform random points in a box; a float instead of an interval fixes that coordinate.

    Parameters
    ----------
    n : int
        Number of points.
    box : mapping
        Per dim either ``(lo, hi)`` or a fixed value (a face of the domain).
    dims : sequence of str
        Column order of the result.
    generator : torch.Generator
        The only source of randomness.
    sobol : bool
        Scrambled Sobol points (even coverage, like a mesh) instead of independent draws;
        the scrambling seed comes from ``generator``.
    """
    if sobol:
        seed = int(torch.randint(0, 2**31 - 1, (), generator=generator))
        engine = torch.quasirandom.SobolEngine(len(dims), scramble=True, seed=seed)
        u = engine.draw(n, dtype=torch.float64)
    else:
        u = torch.rand(n, len(dims), generator=generator, dtype=torch.float64)
    columns = []
    for i, dim in enumerate(dims):
        span = box[dim]
        if isinstance(span, tuple):
            lo, hi = span
            columns.append(lo + (hi - lo) * u[:, i])
        else:
            columns.append(torch.full((n,), float(span), dtype=torch.float64))
    return torch.stack(columns, dim=1).to(torch.get_default_dtype())


def columns(points: torch.Tensor, dims) -> dict[str, torch.Tensor]:
    """Split points ``(N, D)`` into named ``(N, 1)`` coordinate columns."""
    return {dim: points[:, i : i + 1] for i, dim in enumerate(dims)}


class Condition(abc.ABC):
    """A boundary, initial or periodic condition, giving one named loss term."""

    name: str

    @abc.abstractmethod
    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        """Draw ``n`` points ``(n, D)`` where the condition is enforced (scrambled Sobol, evenly
        spread, with ``sobol=True``)."""

    @abc.abstractmethod
    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        """How far the model is from satisfying the condition at ``points`` (0 = satisfied)."""


@dataclass(frozen=True)
class ValueCondition(Condition):
    """``u = target`` on a set of points (Dirichlet boundary or initial condition).

    Parameters
    ----------
    name : str
        Loss-term name, e.g. ``"boundary"`` or ``"initial"``.
    faces : list of mappings
        Boxes (see :func:`uniform_points`) making up the set; points are spread evenly.
    dims : tuple of str
        The problem's dims.
    target : callable
        Maps named coordinate columns to target values ``(N, 1)``.
    """

    name: str
    faces: tuple
    dims: tuple
    target: Callable[[dict[str, torch.Tensor]], torch.Tensor]

    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        counts = [n // len(self.faces) + (i < n % len(self.faces)) for i in range(len(self.faces))]
        return torch.cat(
            [
                uniform_points(k, face, self.dims, generator, sobol)
                for k, face in zip(counts, self.faces)
            ]
        )

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        return evaluate(points, {}).value - self.target(columns(points, self.dims))


@dataclass(frozen=True)
class PeriodicCondition(Condition):
    """``u`` and ``du/d dim`` agree on the two ends of a periodic ``dim``.

    Sampled points lie on the low end; the matching high-end points are derived from them.
    """

    name: str
    dim: str
    box: Mapping
    dims: tuple

    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        lo, _ = self.box[self.dim]
        return uniform_points(n, {**self.box, self.dim: lo}, self.dims, generator, sobol)

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        lo, hi = self.box[self.dim]
        shift = torch.zeros(len(self.dims), dtype=points.dtype, device=points.device)
        shift[self.dims.index(self.dim)] = hi - lo
        low = evaluate(points, {self.dim: 1})
        high = evaluate(points + shift, {self.dim: 1})
        return torch.cat([low.value - high.value, low.d(self.dim) - high.d(self.dim)])


class Problem(param.ParameterizedABC):
    """A PDE on a box domain. Subclasses state their equations in the docstring.

    Class attributes
    ----------------
    name : str
        Registry name (``burgers1d``).
    dims : tuple of str
        Coordinate names in column order; ``t`` comes last for evolution problems.
    domain : dict
        ``dim -> (lo, hi)``.
    derivatives : dict
        Highest derivative order of ``u`` the residual needs along each dim.
    grid_size : dict
        Points per dim of the default evaluation grid.
    constrained : tuple of str
        Names of the conditions that :meth:`constrain` satisfies exactly (empty if the
        problem offers no exact-constraint output transform).
    """

    dims: ClassVar[tuple[str, ...]]
    domain: ClassVar[dict[str, tuple[float, float]]]
    derivatives: ClassVar[dict[str, int]]
    grid_size: ClassVar[dict[str, int]]
    constrained: ClassVar[tuple[str, ...]] = ()

    #: Long names and units of the coordinates, for xarray attrs and plot labels.
    dim_attrs: ClassVar[dict[str, dict[str, str]]] = {
        "x": {"long_name": "position x", "units": "1"},
        "y": {"long_name": "position y", "units": "1"},
        "t": {"long_name": "time t", "units": "1"},
    }

    @abc.abstractmethod
    def residual(self, coords: dict[str, torch.Tensor], u: Jet) -> torch.Tensor:
        """PDE residual at points with named coordinate columns ``(N, 1)`` and field jet ``u``."""

    @abc.abstractmethod
    def conditions(self) -> list[Condition]:
        """The boundary, initial and periodic conditions, one loss term each."""

    @abc.abstractmethod
    def solve_reference(self, grid: dict[str, np.ndarray]) -> np.ndarray:
        """Classical solution on the tensor grid (float64, axes in ``dims`` order)."""

    def constrain(self, coords: dict[str, Jet], net: Jet) -> Jet:
        """Exact-constraint output transform: turns the raw network output into a field that
        satisfies the conditions named in :attr:`constrained`. Problems that offer one
        override this; the default leaves the output unchanged."""
        return net

    # --- shared behaviour ----------------------------------------------------------------
    def sample_interior(
        self, n: int, generator: torch.Generator, sobol: bool = False
    ) -> torch.Tensor:
        """``n`` collocation points in the domain, shape ``(n, D)``: uniform random, or
        scrambled Sobol (quasi-random, evenly spread) with ``sobol=True``."""
        return uniform_points(n, self.domain, self.dims, generator, sobol)

    def grid(self, size: Mapping[str, int] | None = None) -> dict[str, np.ndarray]:
        """The evaluation grid: evenly spaced coordinates per dim (``size`` overrides counts)."""
        size = {**self.grid_size, **(size or {})}
        return {d: np.linspace(*self.domain[d], size[d]) for d in self.dims}

    def reference(self, size: Mapping[str, int] | None = None) -> xr.DataArray:
        """The reference solution as an ``xr.DataArray`` named ``u_ref`` on :meth:`grid`.

        Cached per coefficient values and grid, since some references cost seconds.
        """
        grid = self.grid(size)
        key = (tuple(sorted(self.param.values().items())), tuple(len(v) for v in grid.values()))
        cache = self.__dict__.setdefault("_reference_cache", {})
        if key not in cache:
            values = self.solve_reference(grid)
            coords = {d: (d, v, self.dim_attrs[d]) for d, v in grid.items()}
            cache[key] = xr.DataArray(
                values,
                dims=self.dims,
                coords=coords,
                name="u_ref",
                attrs={"long_name": "reference solution u", "units": "1"},
            )
        return cache[key]

    def grid_points(self, grid: Mapping[str, np.ndarray]) -> torch.Tensor:
        """All points of a tensor grid as ``(N, D)``, C-order over ``dims``."""
        mesh = np.meshgrid(*(grid[d] for d in self.dims), indexing="ij")
        flat = np.stack([m.reshape(-1) for m in mesh], axis=1)
        return torch.as_tensor(flat, dtype=torch.get_default_dtype())
