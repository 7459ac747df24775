"""The Problem ABC: a PDE with its coefficients, domain, conditions and reference solution.

A Problem is a *spec*: numbers that describe the equation (its Parameters) plus the maths that
turns a field into residuals. It never holds a network. Methods ask it for

* :meth:`Problem.residual`: the pointwise PDE residual, given the coordinates and a
  :class:`~workbench.calculus.Jet` of the field (its value and derivatives there);
* :meth:`Problem.conditions`: the boundary/initial/periodic conditions, each a
  :class:`~workbench.problems.conditions.Condition` that samples its own points and
  measures the mismatch;
* :meth:`Problem.sample_interior`: collocation points, always from an explicit generator;
* :meth:`Problem.reference`: the classical solution on :meth:`Problem.grid`, as xarray.

**Several output components** (a flow's velocity and pressure). Most problems have one field
``u``; a problem whose unknown has several components lists them in :attr:`Problem.components`
(``("u", "v", "p")``) and its equations in :attr:`Problem.equations` (``("continuity",
"momentum_x", "momentum_y")``). Then the field :class:`~workbench.calculus.Jet` carries one
channel per component (``u.value[:, 1]`` is ``v``), :meth:`Problem.residual` returns one column
per equation, :meth:`Problem.solve_reference` returns the components stacked first
``(C, *grid)``, and :meth:`Problem.reference` has a leading dim ``component`` (coords the
component names). :attr:`Problem.observables` names the components that observations measure
(inverse problems). A single-component problem keeps the defaults (``("u",)``, one residual
column, no ``component`` dim): nothing about it changes.

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
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

import numpy as np
import param
import torch
import xarray as xr

from workbench.calculus import Jet
from workbench.problems import dataset_cache, families, shipped
from workbench.problems.conditions import Condition
from workbench.problems.points import uniform_parameters, uniform_points
from workbench.specs import refuse_name_knob

#: Smallest and largest points per dim that :meth:`Problem.dataset` accepts.
FAMILY_RESOLUTIONS = (8, 1024)


def _problems_with(*flags: str) -> str:
    """Comma-separated registry names of the problems with any of the class attributes
    ``flags`` set (not None, not empty)."""
    from workbench.problems import PROBLEMS  # the registry imports this module

    return ", ".join(
        n
        for n, cls in PROBLEMS.items()
        if any(getattr(cls, f) not in (None, (), False) for f in flags)
    )


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
    components : tuple of str
        Names of the field's components, in channel order (default one, ``u``).
    equations : tuple of str
        Names of the residual's columns, one per equation (default one, ``residual``).
    observables : tuple of str
        The components that observations measure (default all of them).
    component_attrs : dict
        ``long_name``/``units`` per component (multi-component problems).
    constraint_knobs : tuple of str
        Knobs the exact-constraint transform depends on (through boundary data), which
        therefore cannot be inferred with ``hard_constraints``.
    stream_function : bool
        Whether the field is a 2D incompressible velocity ``(u, v)`` followed by other
        components, so that a method may output a stream function ``psi`` instead of ``u, v``
        (``u = psi_y``, ``v = -psi_x``: divergence-free by construction).
    """

    dims: ClassVar[tuple[str, ...]]
    domain: ClassVar[dict[str, tuple[float, float]]]
    derivatives: ClassVar[dict[str, int]]
    grid_size: ClassVar[dict[str, int]]
    constrained: ClassVar[tuple[str, ...]] = ()
    components: ClassVar[tuple[str, ...]] = ("u",)
    equations: ClassVar[tuple[str, ...]] = ("residual",)
    observables: ClassVar[tuple[str, ...] | None] = None
    component_attrs: ClassVar[dict[str, dict[str, str]]] = {}
    stream_function: ClassVar[bool] = False
    constraint_knobs: ClassVar[tuple[str, ...]] = ()

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
    #: Dataset variables a field generator models as its channels, in order; None: the
    #: family's input and "u" (see :meth:`generator_fields`).
    generator_channels: ClassVar[tuple[str, ...] | None] = None
    #: Names of the further fields :meth:`family_extras` stores in a function family's
    #: datasets (each ``(sample, *grid)``).
    family_extra_fields: ClassVar[tuple[str, ...]] = ()
    #: Long name of a generated sample's absolute :meth:`generator_residual` in its scale.
    generator_residual_name: ClassVar[str] = "|PDE residual| / forcing scale"

    def __init__(self, **params):
        refuse_name_knob(type(self), "problem", params)
        super().__init__(**params)

    @abc.abstractmethod
    def residual(self, coords: dict[str, torch.Tensor], u: Jet) -> torch.Tensor:
        """PDE residual at points with named coordinate columns ``(N, 1)`` and field jet ``u``
        (one channel per entry of :attr:`components`): ``(N, len(equations))``."""

    @abc.abstractmethod
    def conditions(self) -> list[Condition]:
        """The boundary, initial and periodic conditions, one loss term each."""

    @abc.abstractmethod
    def solve_reference(self, grid: dict[str, np.ndarray]) -> np.ndarray:
        """Classical solution on the tensor grid (float64, axes in ``dims`` order; with
        several :attr:`components`, a leading axis of them: ``(C, *grid)``)."""

    @classmethod
    def observed_components(cls) -> tuple[str, ...]:
        """The components observations measure: :attr:`observables`, or all components."""
        return cls.observables or cls.components

    @classmethod
    def multi_component(cls) -> bool:
        """Whether the field has several components (then references and Run fields carry a
        ``component`` dim)."""
        return len(cls.components) > 1

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

        Cached per coefficient values and grid, since some references cost seconds. At the
        default parameters and grid, a reference shipped in the repository's ``data/`` folder
        is read instead of solved (:func:`workbench.problems.shipped.load`).
        """
        grid = self.grid(size)
        key = (tuple(sorted(self.param.values().items())), tuple(len(v) for v in grid.values()))
        cache = self.__dict__.setdefault("_reference_cache", {})
        if key not in cache:
            # The defaults' references ship with the source tree (see shipped): reading one
            # saves the solve at start-up and gives the solver's values exactly.
            values = None if self.multi_component() else shipped.load(self, grid)
            if values is None:
                values = self.solve_reference(grid)
            coords = {d: (d, v, self.dim_attrs[d]) for d, v in grid.items()}
            dims = self.dims
            if self.multi_component():
                dims = ("component", *dims)
                coords["component"] = (
                    "component",
                    list(self.components),
                    {"long_name": "field component"},
                )
            cache[key] = xr.DataArray(
                values,
                dims=dims,
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
        other datasets.

        Raises
        ------
        ValueError
            If a range has its minimum above its maximum, naming both knobs.
        """
        self._require_parameter_family()
        ranges = {
            name: (getattr(self, f"{name}_min"), getattr(self, f"{name}_max"))
            for name in self.family_parameters
        }
        for name, (lo, hi) in ranges.items():
            if not lo <= hi:
                raise ValueError(
                    f"{name}_min must be <= {name}_max, got {name}_min={lo!r} > {name}_max={hi!r}"
                )
        return ranges

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
        after the other (:func:`~workbench.problems.points.uniform_parameters`), so sample
        ``i`` is the same for every ``n > i``, and consecutive calls with the same ``rng``
        continue the sequence.

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

    def family_time_step(self) -> float | None:
        """Function families whose input and output are one field at two times (an evolution
        family, e.g. ``kolmogorov2d``): the time between them, so an output can be fed back
        as the next input (autoregressive rollouts). None (the default) for other families."""
        return None

    def trajectories(
        self, n: int, steps: int, resolution: int | None = None, seed: int = 0, *, cache=True
    ) -> xr.Dataset:
        """Evolution families (see :meth:`family_time_step`): ``n`` reference trajectories of
        ``steps`` states after their start, spaced by the family's time step, trajectory ``i``
        starting from sample ``i``'s input of ``dataset(..., resolution, seed)``: one variable
        with dims ``(sample, t, *family_dims)``. The reference for autoregressive rollouts.

        Raises
        ------
        ValueError
            For a problem that is not an evolution family (the default).
        """
        raise ValueError(
            f"problem {self.name!r} has no trajectories: only evolution families (whose "
            "output is the input one time step later, e.g. kolmogorov2d) have them"
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

    def family_extras(
        self, inputs: np.ndarray, solutions: np.ndarray, resolution: int
    ) -> dict[str, np.ndarray]:
        """Further fields :meth:`dataset` stores beside the input and ``u``, computed from
        them on the dataset grid (``kolmogorov2d``: the velocity of the output vorticity),
        named in :attr:`family_extra_fields`.

        Returns
        -------
        dict of str to numpy.ndarray
            ``name -> (n, *grid)`` float64; their attrs come from :attr:`family_attrs`. The
            default stores nothing.
        """
        return {}

    # --- what a field generator models -----------------------------------------------------
    def generator_fields(self) -> tuple[str, ...]:
        """The dataset variables a field generator models as channels: :attr:`generator_channels`,
        by default the family's input and ``u``."""
        self._require_family()
        return self.generator_channels or (self.family_input, "u")

    def generator_has_residual(self) -> bool:
        """Whether :meth:`generator_residual` exists (by default: the family has a
        :meth:`grid_residual`)."""
        return self.family_has_residual

    def generator_residual(self, fields: torch.Tensor) -> torch.Tensor:
        """The physics residual of a field generator's channels.

        Parameters
        ----------
        fields : torch.Tensor
            ``(B, C, *grid)`` in physical units, the channels of :meth:`generator_fields`.

        Returns
        -------
        torch.Tensor
            ``(B, *grid)``, differentiable. By default :meth:`grid_residual` of channel 0 (the
            input) and channel 1 (``u``).
        """
        return self.grid_residual(fields[:, 0], fields[:, 1])

    def generator_residual_scale(self, fields: torch.Tensor) -> float:
        """The unit a field generator measures :meth:`generator_residual` in, from the
        training data's fields ``(B, C, *grid)``: by default the root mean square residual of
        a zero solution (the size of the forcing)."""
        forcing = self.grid_residual(fields[:, 0], torch.zeros_like(fields[:, 1]))
        return float(forcing.pow(2).mean().sqrt())

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
            :func:`~workbench.problems.dataset_cache.data_directory`
            (``<problem>-n<n>-r<res>-s<seed>-<hash>.nc``, the hash over the problem's
            parameters and :meth:`family_provenance`). A missing or unreadable file is
            (re)generated, with a warning when it was unreadable.
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
        filename = f"{self.name}-n{n}-r{resolution}-s{seed}-{digest}.nc"
        path = dataset_cache.data_directory() / filename
        if cache:
            kept = dataset_cache.recall(key)
            if kept is not None:
                return kept.copy(deep=True)
            stored = dataset_cache.read_dataset(path, self._dataset_shapes(n, resolution))
            if stored is not None:
                dataset_cache.remember(key, stored)
                return stored.copy(deep=True)

        start = time.perf_counter()
        if self.family_parameters:
            variables, solutions = families.simulate(self, n, resolution, seed, progress)
        else:
            inputs, solutions = families.generate(self, n, resolution, seed, progress)
            variables = {self.family_input: (dims, inputs)}
            extras = self.family_extras(inputs, solutions, resolution)
            variables.update({name: (dims, values) for name, values in extras.items()})
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
            "workbench_version": dataset_cache.workbench_version(),
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
            dataset_cache.write_dataset(data, path)
            dataset_cache.remember(key, data)
            return data.copy(deep=True)
        return data

    def _dataset_shapes(self, n: int, resolution: int) -> dict[str, tuple[int, ...]]:
        """The variables of a dataset of ``n`` samples at ``resolution`` and their shapes."""
        shape = (n, *(len(v) for v in self.family_grid(resolution).values()))
        shapes = {"u": shape}
        if self.family_parameters:
            shapes.update({name: (n,) for name in self.family_parameters})
        else:
            shapes[self.family_input] = shape
            shapes.update({name: shape for name in self.family_extra_fields})
        return shapes
