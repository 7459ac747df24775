"""The Problem ABC: a PDE with its coefficients, domain, conditions and reference solution.

A Problem is a *spec*: numbers that describe the equation (its Parameters) plus the maths that
turns a field into residuals. It never holds a network. Methods ask it for

* :meth:`Problem.residual`: the pointwise PDE residual, given the coordinates and a
  :class:`~workbench.calculus.Jet` of the field (its value and derivatives there);
* :meth:`Problem.conditions`: the boundary/initial/periodic conditions, each a
  :class:`Condition` that samples its own points and measures the mismatch;
* :meth:`Problem.sample_interior`: collocation points, always from an explicit generator;
* :meth:`Problem.reference`: the classical solution on :meth:`Problem.grid`, as xarray.

Problems with a *family of instances* also serve operator learning and generative models.
A family is of one of two kinds:

* a *function family* (:attr:`Problem.family_input` names it): each sample is an input
  function drawn at random (the coefficient of Darcy flow, the initial condition of Burgers)
  and its solution, for operator learning;
* a *parameter family* (:attr:`Problem.family_parameters` names them): each sample has random
  scalar physical parameters (a pendulum's frequency and damping) and no input function; the
  true parameters are kept per sample, to check what a generative model's latent space learned.

Both offer

* :meth:`Problem.dataset`: ``n`` samples and their solutions on a grid, as an
  ``xr.Dataset``, generated from a seed and cached on disk;
* :meth:`Problem.grid_residual` (function families that have one): the discrete PDE residual
  of gridded fields, in torch, for physics-informed operator losses.
"""

from __future__ import annotations

import abc
import hashlib
import json
import os
import tempfile
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
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


#: Smallest and largest points per dim that :meth:`Problem.dataset` accepts.
FAMILY_RESOLUTIONS = (8, 1024)

#: Datasets kept in memory per process (most recently used last).
_MEMORY_CACHE: OrderedDict[tuple, xr.Dataset] = OrderedDict()
_MEMORY_CACHE_SIZE = 8


def data_directory() -> Path:
    """Where :meth:`Problem.dataset` caches its NetCDF files.

    ``$WORKBENCH_DATA`` when set; otherwise ``<repo>/data/generated`` for a source checkout
    (the folder above the ``workbench`` package holds ``pyproject.toml``), else
    ``~/.cache/workbench``.
    """
    root = os.environ.get("WORKBENCH_DATA")
    if root:
        return Path(root).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / "data" / "generated"
    return Path.home() / ".cache" / "workbench"


def _workbench_version() -> str:
    try:
        return version("workbench")
    except PackageNotFoundError:
        return "unknown"


def _problems_with(*flags: str) -> str:
    """Comma-separated registry names of the problems with any of the class attributes
    ``flags`` set (not None, not empty)."""
    from workbench.problems import PROBLEMS  # the registry imports this module

    return ", ".join(
        n
        for n, cls in PROBLEMS.items()
        if any(getattr(cls, f) not in (None, (), False) for f in flags)
    )


def uniform_parameters(
    n: int, ranges: Mapping[str, tuple[float, float]], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` samples of independent uniform scalar parameters, drawn sample after sample.

    Parameters
    ----------
    n : int
        Number of samples, ``>= 0``.
    ranges : mapping of str to (float, float)
        ``name -> (lo, hi)`` with ``lo <= hi``; ``lo == hi`` fixes the parameter.
    rng : numpy.random.Generator
        The only source of randomness. One row of ``len(ranges)`` uniforms is drawn per
        sample, in order, so consecutive calls continue the sequence: two calls drawing
        ``k`` and ``n - k`` samples give the same numbers as one call drawing ``n``.

    Returns
    -------
    dict of str to numpy.ndarray
        Per name, the values ``(n,)``, float64.

    Raises
    ------
    ValueError
        If a range has ``lo > hi``, naming ``<name>_min`` and ``<name>_max``.
    """
    for name, (lo, hi) in ranges.items():
        if not lo <= hi:
            raise ValueError(
                f"{name}_min must be <= {name}_max, got {name}_min={lo!r} > {name}_max={hi!r}"
            )
    u = rng.random((n, len(ranges)))
    return {name: lo + (hi - lo) * u[:, i] for i, (name, (lo, hi)) in enumerate(ranges.items())}


def points_on_faces(n: int, faces, dims, generator: torch.Generator, sobol: bool = False):
    """``n`` points ``(n, D)`` spread evenly over boxes ``faces`` (see :func:`uniform_points`):
    each face gets ``n // len(faces)`` of them, the first ones one more."""
    counts = [n // len(faces) + (i < n % len(faces)) for i in range(len(faces))]
    return torch.cat(
        [uniform_points(k, face, dims, generator, sobol) for k, face in zip(counts, faces)]
    )


def columns(points: torch.Tensor, dims) -> dict[str, torch.Tensor]:
    """Split points ``(N, D)`` into named ``(N, 1)`` coordinate columns."""
    return {dim: points[:, i : i + 1] for i, dim in enumerate(dims)}


def plain_view(spec: param.Parameterized):
    """A plain-Python stand-in for a Problem/Method: the same methods, knobs as plain attributes.

    ``torch.compile`` cannot trace param's attribute descriptors (every ``self.nu`` would be a
    graph break), and they cost microseconds per access in eager mode too. The view shares the
    spec's methods and class attributes but reads knob values from its ``__dict__``. Methods
    that call ``super()`` without arguments cannot run on it; only the loss path does.
    """
    namespace = {}
    for klass in reversed(type(spec).__mro__):
        if klass.__module__.split(".")[0] in ("param", "abc", "builtins"):
            continue
        for key, value in vars(klass).items():
            if not key.startswith("__") and not isinstance(value, param.Parameter):
                namespace[key] = value
    view = type(f"Plain{type(spec).__name__}", (), namespace)()
    view.__dict__.update(spec.param.values())
    return view


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
        return points_on_faces(n, self.faces, self.dims, generator, sobol)

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        return evaluate(points, {}).value - self.target(columns(points, self.dims))


@dataclass(frozen=True)
class DerivativeCondition(Condition):
    """``du/d dim = target`` on a set of points (Neumann boundary, or initial velocity).

    Parameters
    ----------
    name : str
        Loss-term name, e.g. ``"velocity"``.
    faces : list of mappings
        Boxes (see :func:`uniform_points`) making up the set; points are spread evenly.
    dims : tuple of str
        The problem's dims.
    dim : str
        The dim of the derivative.
    target : callable
        Maps named coordinate columns to target values ``(N, 1)``.
    """

    name: str
    faces: tuple
    dims: tuple
    dim: str
    target: Callable[[dict[str, torch.Tensor]], torch.Tensor]

    def sample(self, n: int, generator: torch.Generator, sobol: bool = False) -> torch.Tensor:
        return points_on_faces(n, self.faces, self.dims, generator, sobol)

    def mismatch(self, evaluate: Evaluate, points: torch.Tensor) -> torch.Tensor:
        jet = evaluate(points, {self.dim: 1})
        return jet.d(self.dim) - self.target(columns(points, self.dims))


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
    family_input : str or None
        Name of the input function of the problem's function family (``"a"`` for
        ``darcy2d``); ``None`` for a parameter family or no family.
    family_parameters : tuple of str
        Names of the per-sample scalar parameters of a parameter family (``("omega",
        "gamma", "theta0")`` for ``pendulum``); empty for a function family or no family.
        A problem with neither has no family (then :meth:`dataset` raises).
    family_dims : tuple of str
        Dims of the family's fields (spatial, and ``t`` for trajectory families).
    family_periodic : tuple of bool
        Per family dim, whether its grid is periodic: ``n`` points ``lo + (hi - lo) j / n``
        without the end point. Otherwise the grid is ``n`` nodes including both ends.
    family_resolution : int
        Default points per dim of the family's datasets.
    family_points : dict
        Family dims whose number of points is fixed rather than ``resolution`` (the 50 time
        steps of a trajectory family whose resolution counts space points).
    family_has_residual : bool
        Whether :meth:`grid_residual` exists for the family.
    family_attrs : dict
        ``long_name``/``units`` of the input variable (or of each parameter) and of ``u`` in
        :meth:`dataset`.
    family_chunk : int
        Samples solved per call of :meth:`family_solve` (or :meth:`family_simulate`) while
        :meth:`dataset` generates (the steps of its progress bar).
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

    #: Name of the family's input function; None for a parameter family or no family.
    family_input: ClassVar[str | None] = None
    #: Per-sample scalar parameters of the family, drawn with each sample and saved by dataset() as
    #: variables on dim "sample" (e.g. ("omega", "gamma", "theta0")). Empty for function families.
    family_parameters: ClassVar[tuple[str, ...]] = ()
    #: Family parameters a physics-integrated model infers as latents, in the order
    #: :meth:`physics_model` takes them; empty when the problem offers no physics model.
    physics_latents: ClassVar[tuple[str, ...]] = ()
    #: Dims of the family's fields.
    family_dims: ClassVar[tuple[str, ...]] = ()
    #: Per family dim, whether its grid is periodic (the end point is not stored).
    family_periodic: ClassVar[tuple[bool, ...]] = ()
    #: Default resolution (points per dim) of the family's datasets.
    family_resolution: ClassVar[int] = 32
    #: Family dims with a fixed number of points, whatever the dataset's resolution.
    family_points: ClassVar[dict[str, int]] = {}
    #: Whether grid_residual() exists for this family.
    family_has_residual: ClassVar[bool] = False
    #: Attrs of the dataset variables: the input or each parameter (under its name) and "u".
    family_attrs: ClassVar[dict[str, dict[str, str]]] = {}
    #: Samples per family_solve() call in dataset().
    family_chunk: ClassVar[int] = 64

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

    # --- families of instances (operator learning) ----------------------------------------
    def _require_family(self) -> None:
        if self.family_input is None and not self.family_parameters:
            raise ValueError(
                f"problem {self.name!r} has no family of instances; problems with one: "
                f"{_problems_with('family_input', 'family_parameters')}"
            )

    def _require_parameter_family(self) -> None:
        self._require_family()
        if not self.family_parameters:
            raise ValueError(
                f"problem {self.name!r} has a function family (input {self.family_input!r}), "
                f"not a parameter family; problems with one: "
                f"{_problems_with('family_parameters')}"
            )

    def family_grid(self, resolution: int) -> dict[str, np.ndarray]:
        """Coordinates per family dim of the dataset grid with ``resolution`` points per dim:
        ``resolution`` nodes including both ends of the domain, or, along a periodic dim
        (:attr:`family_periodic`), ``resolution`` points without the end point. Dims in
        :attr:`family_points` have their fixed number of points instead."""
        self._require_family()
        grid = {}
        for d, periodic in zip(self.family_dims, self.family_periodic, strict=True):
            lo, hi = self.domain[d]
            points = self.family_points.get(d, resolution)
            if periodic:
                grid[d] = lo + (hi - lo) * np.arange(points) / points
            else:
                grid[d] = np.linspace(lo, hi, points)
        return grid

    def family_solver_resolution(self, resolution: int) -> int:
        """Points per dim of the grid the family's solver works on for datasets at
        ``resolution``. Every dataset node is a solver node (the finer grid nests the coarser
        one), and a finer grid evaluated twice gives itself. The default solves in place."""
        self._require_family()
        return resolution

    def family_inputs(self, n: int, resolution: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` input functions and evaluate them on :meth:`family_grid`.

        Cheap (no solve). The functions are drawn as series coefficients, one sample after
        the other from ``rng``, and only then evaluated, so sample ``i`` is the same function
        at every resolution and for every ``n > i``, and consecutive calls with the same
        ``rng`` continue the sequence.

        Returns
        -------
        numpy.ndarray
            ``(n, *grid)``, float64.
        """
        self._require_family()
        raise NotImplementedError  # pragma: no cover - every family overrides this

    def family_solve(self, inputs: np.ndarray, resolution: int) -> np.ndarray:
        """Solutions ``(n, *grid)`` (float64) for inputs ``(n, *grid)`` on :meth:`family_grid`.

        Inputs on a grid coarser than :meth:`family_solver_resolution` are interpolated to the
        solver grid first; :meth:`dataset` evaluates the input functions on the solver grid
        instead, which is exact.
        """
        self._require_family()
        raise NotImplementedError  # pragma: no cover - every family overrides this

    def family_ranges(self) -> dict[str, tuple[float, float]]:
        """Parameter families: ``name -> (lo, hi)`` per entry of :attr:`family_parameters`,
        the interval :meth:`family_draw` draws it from. By default the problem's Parameters
        ``<name>_min`` and ``<name>_max``, so that other ranges (out-of-distribution data) make
        other datasets."""
        self._require_parameter_family()
        return {
            name: (getattr(self, f"{name}_min"), getattr(self, f"{name}_max"))
            for name in self.family_parameters
        }

    def family_parameter_arrays(
        self, parameters: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, ...]:
        """The values of :attr:`family_parameters` as float64 1-D arrays of one length, in
        order (for :meth:`family_simulate`); ``ValueError`` naming them otherwise."""
        arrays = tuple(np.asarray(parameters[k], dtype=np.float64) for k in self.family_parameters)
        shapes = [a.shape for a in arrays]
        if arrays[0].ndim != 1 or any(shape != shapes[0] for shape in shapes):
            names = ", ".join(self.family_parameters)
            raise ValueError(
                f"parameters {names} must be 1-D arrays of one length, got shapes {shapes}"
            )
        return arrays

    def family_draw(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Parameter families: draw the parameters of ``n`` samples.

        The default draws each parameter uniformly from :meth:`family_ranges`, one sample
        after the other (:func:`uniform_parameters`), so sample ``i`` is the same for every
        ``n > i``, and consecutive calls with the same ``rng`` continue the sequence.

        Returns
        -------
        dict of str to numpy.ndarray
            Per name in :attr:`family_parameters`, the values ``(n,)``, float64.

        Raises
        ------
        ValueError
            If a range has its minimum above its maximum.
        """
        self._require_parameter_family()
        return uniform_parameters(n, self.family_ranges(), rng)

    def family_simulate(self, parameters: Mapping[str, np.ndarray], resolution: int) -> np.ndarray:
        """Parameter families: the noise-free fields ``(n, *grid)`` (float64) on
        :meth:`family_grid` for the parameters ``name -> (n,)`` (as from :meth:`family_draw`).
        Each sample is simulated independently of the others."""
        self._require_parameter_family()
        raise NotImplementedError  # pragma: no cover - every parameter family overrides this

    def family_observe(self, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """How the simulated fields ``(n, *grid)`` are observed in :meth:`dataset`: families
        with observation noise add it here, drawn from ``rng`` sample after sample. The
        default returns ``u`` unchanged and draws nothing."""
        return u

    def physics_model(
        self,
        latents: torch.Tensor,
        condition: torch.Tensor,
        correction: Callable[[torch.Tensor, float], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """The family's *incomplete* physics, simulated differentiably in torch: what a
        physics-integrated generative model (``phys_vae``) knows of the data.

        Parameters
        ----------
        latents : torch.Tensor
            ``(B, len(physics_latents))`` physical parameters.
        condition : torch.Tensor
            ``(B, *grid)`` observed fields; the simulation starts from their initial state and
            runs on their grid.
        correction : callable, optional
            ``correction(state, t) -> (B,)``: a learned term added to the dynamics (the part
            of the physics the model does not know), given the state ``(B, k)`` at time ``t``.

        Returns
        -------
        torch.Tensor
            ``(B, *grid)``.
        """
        raise ValueError(
            f"problem {self.name!r} offers no physics model; problems with one: "
            f"{_problems_with('physics_latents')}"
        )

    def family_provenance(self, resolution: int) -> dict[str, str | int | float]:
        """How a dataset at ``resolution`` is made (input distribution, solver, solver grid):
        stored in the dataset's attrs and part of its cache key."""
        self._require_family()
        return {}

    def grid_residual(self, inputs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """The discrete PDE residual of gridded fields, for physics-informed operator losses.

        Parameters
        ----------
        inputs : torch.Tensor
            The input functions ``(B, *grid)`` on :meth:`family_grid`.
        u : torch.Tensor
            Candidate solutions, same shape.

        Returns
        -------
        torch.Tensor
            ``(B, *grid)``, differentiable, in ``u``'s dtype and on its device: the same
            discrete equations the family's solver uses at interior nodes (the solver's own
            solution *at this resolution* gives rounding-level values), and the boundary
            mismatch scaled to the same units at boundary nodes.

        Raises
        ------
        ValueError
            When the problem has no family or its family has no grid residual.
        """
        self._require_family()
        raise ValueError(
            f"problem {self.name!r} has no grid residual for its family; problems with one: "
            f"{_problems_with('family_has_residual')}"
        )

    def dataset(
        self,
        n: int,
        resolution: int | None = None,
        seed: int = 0,
        *,
        cache: bool = True,
        progress: bool = True,
    ) -> xr.Dataset:
        """``n`` random instances of the problem's family and their solutions on a grid.

        Parameters
        ----------
        n : int
            Number of samples, ``>= 1``.
        resolution : int, optional
            Points per dim (except the dims of :attr:`family_points`), in
            :data:`FAMILY_RESOLUTIONS`; default :attr:`family_resolution`.
        seed : int
            Seed of the one ``numpy.random.Generator`` that draws all input functions, or all
            parameters (:meth:`family_draw`), in order, so sample ``i`` is the same for every
            ``n > i``, and the same function at every resolution (compare resolutions sample by
            sample). Observation noise (:meth:`family_observe`) comes from a second generator,
            spawned from the same seed, also drawn sample after sample, so neither stream
            depends on ``n`` or on how the samples are chunked.
        cache : bool
            Reuse and store the dataset: in memory for this process and as NetCDF in
            :func:`data_directory` (``<problem>-n<n>-r<res>-s<seed>-<hash>.nc``, the hash over
            the problem's parameters and :meth:`family_provenance`). A missing or unreadable
            file is (re)generated, with a warning when it was unreadable.
        progress : bool
            Show a progress bar while solving.

        Returns
        -------
        xarray.Dataset
            Dims ``("sample", *family_dims)``; variables ``u`` (the solutions, observed as
            :meth:`family_observe` says) and either :attr:`family_input` (the input functions,
            same dims) or one variable per entry of :attr:`family_parameters` (dim
            ``sample``), float64; coords ``sample = 0 .. n-1`` and the grid. Attrs:
            ``problem``, ``problem_params`` (JSON), ``n``, ``resolution``, ``seed``, ``input``
            (function families) or ``parameters`` (parameter families: the names, comma
            separated), the entries of :meth:`family_provenance`, ``wall_s`` (the generation
            time) and ``workbench_version``.

        Raises
        ------
        ValueError
            If the problem has no family, ``n``, ``resolution`` or ``seed`` is out of range,
            or (parameter families) a parameter range is empty.
        """
        self._require_family()
        lo, hi = FAMILY_RESOLUTIONS
        resolution = self.family_resolution if resolution is None else resolution
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if (
            isinstance(resolution, bool)
            or not isinstance(resolution, (int, np.integer))
            or not lo <= resolution <= hi
        ):
            raise ValueError(f"resolution must be an integer in [{lo}, {hi}], got {resolution!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        n, resolution, seed = int(n), int(resolution), int(seed)
        if self.family_parameters:
            # Drawing no samples checks the ranges, so a bad one fails before any work.
            self.family_draw(0, np.random.default_rng(0))

        params = json.dumps(
            {k: v for k, v in self.param.values().items() if k != "name"}, sort_keys=True
        )
        dims = ("sample", *self.family_dims)
        provenance = self.family_provenance(resolution)
        recipe = json.dumps({"params": params, "family": provenance}, sort_keys=True, default=str)
        digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
        key = (self.name, n, resolution, seed, digest)
        path = data_directory() / f"{self.name}-n{n}-r{resolution}-s{seed}-{digest}.nc"
        if cache:
            if key in _MEMORY_CACHE:
                _MEMORY_CACHE.move_to_end(key)
                return _MEMORY_CACHE[key].copy(deep=True)
            stored = self._read_dataset(path, n, resolution)
            if stored is not None:
                self._remember(key, stored)
                return stored.copy(deep=True)

        start = time.perf_counter()
        if self.family_parameters:
            variables, solutions = self._simulate(n, resolution, seed, progress)
        else:
            inputs, solutions = self._generate(n, resolution, seed, progress)
            variables = {self.family_input: (dims, inputs)}
        wall = time.perf_counter() - start
        grid = self.family_grid(resolution)
        coords = {d: (d, grid[d], self.dim_attrs[d]) for d in self.family_dims}
        coords["sample"] = ("sample", np.arange(n), {"long_name": "sample index", "units": "1"})
        attrs = {
            "problem": self.name,
            "problem_params": params,
            "n": n,
            "resolution": resolution,
            "seed": seed,
            **(
                {"parameters": ", ".join(self.family_parameters)}
                if self.family_parameters
                else {"input": self.family_input}
            ),
            **provenance,
            "wall_s": round(wall, 3),
            "workbench_version": _workbench_version(),
        }
        data = xr.Dataset(
            {
                **{
                    name: (var_dims, values, self.family_attrs.get(name, {}))
                    for name, (var_dims, values) in variables.items()
                },
                "u": (dims, solutions, self.family_attrs.get("u", {})),
            },
            coords=coords,
            attrs=attrs,
        )
        if cache:
            self._write_dataset(data, path)
            self._remember(key, data)
            return data.copy(deep=True)
        return data

    def _generate(
        self, n: int, resolution: int, seed: int, progress: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and solutions ``(n, *grid)``: the input functions are evaluated on the
        solver grid, solved there, and both are subsampled to the dataset grid."""
        from tqdm.auto import tqdm

        fine = self.family_solver_resolution(resolution)
        coarse_grid = self.family_grid(resolution)
        fine_grid = self.family_grid(fine)
        take = []
        for d, periodic in zip(self.family_dims, self.family_periodic):
            c, f = coarse_grid[d], fine_grid[d]
            stride = len(f) // len(c) if periodic else (len(f) - 1) // (len(c) - 1)
            if not np.allclose(f[::stride], c, rtol=0, atol=1e-12):
                raise RuntimeError(  # pragma: no cover - a family's grids must nest
                    f"{self.name}: solver grid {fine} does not nest the grid {resolution}"
                )
            take.append(slice(None, None, stride))
        take = (slice(None), *take)
        rng = np.random.default_rng(seed)
        shape = (n, *(len(coarse_grid[d]) for d in self.family_dims))
        inputs, solutions = np.empty(shape), np.empty(shape)
        # Chunks start at multiples of family_chunk whatever n is, and every family solves
        # each sample independently of the others in its chunk, so sample i never depends
        # on n.
        desc = f"{self.name} dataset"
        with tqdm(total=n, disable=not progress, desc=desc, unit="sample") as bar:
            for lo in range(0, n, self.family_chunk):
                count = min(self.family_chunk, n - lo)
                fine_inputs = self.family_inputs(count, fine, rng)
                fine_solutions = self.family_solve(fine_inputs, fine)
                inputs[lo : lo + count] = fine_inputs[take]
                solutions[lo : lo + count] = fine_solutions[take]
                bar.update(count)
        return inputs, solutions

    def _simulate(
        self, n: int, resolution: int, seed: int, progress: bool
    ) -> tuple[dict[str, tuple[tuple[str, ...], np.ndarray]], np.ndarray]:
        """Parameter families: the parameters ``name -> (("sample",), (n,))`` and the
        observed fields ``(n, *grid)``, drawn and simulated chunk by chunk."""
        from tqdm.auto import tqdm

        rng = np.random.default_rng(seed)
        # A child of the seed: noise draws never shift the parameter stream, so the
        # parameters of a dataset are family_draw(n, default_rng(seed)) whatever the noise.
        noise_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
        grid = self.family_grid(resolution)
        solutions = np.empty((n, *(len(grid[d]) for d in self.family_dims)))
        parameters = {name: np.empty(n) for name in self.family_parameters}
        desc = f"{self.name} dataset"
        with tqdm(total=n, disable=not progress, desc=desc, unit="sample") as bar:
            for lo in range(0, n, self.family_chunk):
                count = min(self.family_chunk, n - lo)
                drawn = self.family_draw(count, rng)
                clean = self.family_simulate(drawn, resolution)
                solutions[lo : lo + count] = self.family_observe(clean, noise_rng)
                for name in self.family_parameters:
                    parameters[name][lo : lo + count] = drawn[name]
                bar.update(count)
        return {name: (("sample",), v) for name, v in parameters.items()}, solutions

    def _read_dataset(self, path: Path, n: int, resolution: int) -> xr.Dataset | None:
        """The cached dataset at ``path``, or None when absent or unreadable (warns then)."""
        if not path.is_file():
            return None
        try:
            with xr.open_dataset(path, engine="h5netcdf") as stored:
                data = stored.load()
            shape = (n, *(len(v) for v in self.family_grid(resolution).values()))
            expected = {"u": shape}
            if self.family_parameters:
                expected.update({name: (n,) for name in self.family_parameters})
            else:
                expected[self.family_input] = shape
            for name, want in expected.items():
                if data[name].shape != want:
                    raise ValueError(f"{name} holds shape {data[name].shape}, expected {want}")
        except Exception as err:  # any corruption: regenerate rather than fail
            warnings.warn(f"regenerating unreadable cached dataset {path}: {err}", stacklevel=3)
            return None
        return data

    @staticmethod
    def _write_dataset(data: xr.Dataset, path: Path) -> None:
        """Write atomically (temporary file, then rename): a crash never leaves half a file
        under the final name. Failure to write only warns: the data is still returned."""
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
            os.close(fd)
            data.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, path)
        except OSError as err:
            warnings.warn(f"could not cache dataset at {path}: {err}", stacklevel=3)
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)

    @staticmethod
    def _remember(key: tuple, data: xr.Dataset) -> None:
        _MEMORY_CACHE[key] = data
        _MEMORY_CACHE.move_to_end(key)
        while len(_MEMORY_CACHE) > _MEMORY_CACHE_SIZE:
            _MEMORY_CACHE.popitem(last=False)
