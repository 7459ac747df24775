"""2D Kolmogorov flow: forced, incompressible Navier-Stokes in vorticity form on the periodic
square, the flow of the neural-operator and learned-CFD benchmarks."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import param
import torch
import xarray as xr

from workbench.calculus import spectral_derivative
from workbench.numerics.navier_stokes import (
    PECLET_LIMIT,
    kolmogorov_forcing,
    solve_vorticity,
    velocity_from_vorticity,
)
from workbench.numerics.random_fields import PeriodicGRF2D
from workbench.problems import dataset_cache
from workbench.problems.base import FAMILY_RESOLUTIONS, Problem
from workbench.problems.conditions import PeriodicCondition

LENGTH = 2.0 * np.pi
#: Initial vorticity: the FNO Navier-Stokes measure (alpha 2.5, tau 7 on the unit period)
#: stretched to [0, 2 pi), wavenumbers up to 8 (inside the 2/3 band of a 32-point grid, so
#: every solver grid holds it exactly), point standard deviation 1.
FIELD = PeriodicGRF2D(length=LENGTH, alpha=2.5, tau=7.0, std=1.0, modes=8)
#: Bound on max|u| + max|v| that sets the solver's time step and grid. Measured over 256
#: samples at the default knobs: at most 4.0 initially (median 2.3) and at most 3.9 at
#: t = 2, 5, 6, 10 (median 2.4-2.7).
SPEED_BOUND = 5.0
#: Courant number the time step aims at for SPEED_BOUND (the solver refuses above 1.0).
COURANT = 0.8
#: Fewest solver points per side. With forcing wavenumber 4, nu = 0.03 and 32 points, the
#: enstrophy of the developed flow at the 2/3 band edge is 3e-3 of its peak (5e-6 with 64).
MIN_SOLVER_POINTS = 32
#: Default viscosity: the smallest that the 32-point grid resolves (see MIN_SOLVER_POINTS).
NU_DEFAULT = 0.03


class Kolmogorov2D(Problem):
    r"""Kolmogorov flow: 2D incompressible Navier-Stokes with sinusoidal forcing and drag.

    .. math::

        \omega_t + \mathbf u \cdot \nabla \omega = \nu \Delta \omega - \alpha \omega
            - k_f \cos(k_f y), \qquad
        \mathbf u = (\psi_y, -\psi_x), \quad -\Delta \psi = \omega,

    on :math:`[0, 2\pi)^2` with periodic boundaries: the curl of the body force
    :math:`(\sin k_f y, 0)` (Kochkov et al. 2021 use :math:`k_f = 4`, :math:`\alpha = 0.1`).

    **Family** (operator learning one step ahead): the input ``w0`` is the vorticity after a
    spin-up of ``spinup`` time units from a random initial vorticity
    :math:`\omega_{init} \sim N(0, C(-\Delta + 49)^{-2.5})` (the FNO Navier-Stokes measure of
    the unit period stretched to :math:`2\pi`, wavenumbers up to 8, point standard deviation 1;
    :class:`~workbench.numerics.random_fields.PeriodicGRF2D`); the output ``u`` is the vorticity
    ``dt`` later. Both are solved with the dealiased pseudo-spectral ETDRK4 solver
    (:func:`~workbench.numerics.navier_stokes.solve_vorticity`) on :meth:`solver_points` points
    per side (the fewest power of two, at least 32, with a cell Peclet number of at most 20 at
    speed 5: 32 at the default :math:`\nu`), with a Courant number of at most 0.8 for speeds up
    to 5 (measured speeds stay below 4.2). Coarser dataset grids subsample the solution, finer
    ones hold its trigonometric interpolant, so sample ``i`` is the same function at every
    resolution. The default dataset (1100 samples at 32 x 32) takes about half a minute on one
    core. Resolutions must be even, at least ``4 k_f``, and divide or be multiples of the solver
    grid.
    Each dataset also stores the velocity of the output state, ``vel_x`` and ``vel_y``
    (:math:`\mathbf u = (\psi_y, -\psi_x)` of ``u`` on the dataset grid, spectrally: the
    solver's velocity at its own grid and finer, exactly divergence-free at every grid; named
    so as not to clash with the family's output ``u``, the vorticity).
    :meth:`trajectories` gives ``steps`` further states at spacing ``dt`` from the same inputs
    (the reference for autoregressive rollouts); :meth:`family_time_step` says that outputs
    can be fed back as inputs.

    **Field generators** (``flow_matching``, ``pbfm``, ``diffusion``) model the velocity
    ``(vel_x, vel_y)`` of the output state (PBFM's Kolmogorov-flow constraint), with the
    spectral divergence :math:`\partial_x u + \partial_y v` as the physics residual
    (:meth:`generator_residual`), measured in units of the data's root mean square velocity
    gradient (:meth:`generator_residual_scale`).

    **Single instance** (point-based methods): the steady laminar Kolmogorov flow,

    .. math::

        \nu \Delta \omega - \alpha \omega - k_f \cos(k_f y) = 0, \qquad
        \omega = -\frac{k_f \cos(k_f y)}{\alpha + \nu k_f^2},

    with periodic conditions in ``x`` and ``y``. The advection term vanishes for every parallel
    flow :math:`\omega(y)`, so the laminar state is an exact steady solution of the full
    equations; the residual keeps only the linear terms, so a point-based method learns the
    laminar state, not the turbulent one.
    """

    name = param.String("kolmogorov2d", constant=True, doc="Registry name of this problem.")
    dims = ("x", "y")
    domain = {"x": (0.0, LENGTH), "y": (0.0, LENGTH)}
    derivatives = {"x": 2, "y": 2}
    grid_size = {"x": 65, "y": 65}

    family_input = "w0"
    family_dims = ("x", "y")
    family_periodic = (True, True)
    family_resolution = 32
    family_has_residual = False
    family_attrs = {
        "w0": {"long_name": "vorticity w(t0)", "units": "1"},
        "u": {"long_name": "vorticity w(t0 + dt)", "units": "1"},
        "vel_x": {"long_name": "velocity u(t0 + dt), x component", "units": "1"},
        "vel_y": {"long_name": "velocity v(t0 + dt), y component", "units": "1"},
    }
    family_extra_fields = ("vel_x", "vel_y")
    generator_channels = ("vel_x", "vel_y")
    generator_residual_name = "|divergence| / rms velocity gradient"

    nu = param.Number(
        NU_DEFAULT,
        bounds=(0.01, 0.5),
        doc="Kinematic viscosity nu (Re = 1 / nu for the unit velocity and length scales); "
        "below 0.03 the solver grid refines like 1 / nu, in powers of two (64 points at "
        "0.02, 128 at 0.01, each about 8 times the work of the last).",
    )
    drag = param.Number(0.1, bounds=(0.0, 2.0), doc="Linear drag coefficient alpha.")
    forcing_wavenumber = param.Integer(
        4, bounds=(1, 8), doc="Wavenumber k_f of the forcing -k_f cos(k_f y)."
    )
    dt = param.Number(
        1.0, bounds=(0.05, 2.0), doc="Time between a family sample's input and output."
    )
    spinup = param.Number(
        5.0,
        bounds=(0.0, 20.0),
        doc="Time the random initial vorticity is advanced before it becomes an input "
        "(lets the forcing organise the flow).",
    )

    # --- single instance ------------------------------------------------------------------
    def _kappa(self) -> float:
        return 2.0 * np.pi * self.forcing_wavenumber / LENGTH

    def residual(self, coords, w):
        kappa = self._kappa()
        forcing = -kappa * (kappa * coords["y"]).cos()
        return self.nu * (w.dd("x") + w.dd("y")) - self.drag * w.value + forcing

    def conditions(self):
        return [
            PeriodicCondition("periodic_x", "x", self.domain, self.dims),
            PeriodicCondition("periodic_y", "y", self.domain, self.dims),
        ]

    def solve_reference(self, grid):
        kappa = self._kappa()
        x, y = np.meshgrid(grid["x"], grid["y"], indexing="ij")
        return -kappa * np.cos(kappa * y) / (self.drag + self.nu * kappa**2) + 0.0 * x

    # --- family ---------------------------------------------------------------------------
    def family_time_step(self) -> float:
        return float(self.dt)

    def solver_points(self) -> int:
        """Points per side of the grid the family is solved on: the fewest power of two,
        at least 32, whose cell Peclet number at the speed bound is within the solver's limit
        (32 at the default nu, 128 at nu = 0.01)."""
        target = max(MIN_SOLVER_POINTS, SPEED_BOUND * LENGTH / (2.0 * self.nu * PECLET_LIMIT))
        return 1 << math.ceil(math.log2(target) - 1e-9)

    def family_solver_resolution(self, resolution):
        k_f = self.forcing_wavenumber
        points = self.solver_points()
        if resolution % 2 or resolution < 4 * k_f:
            raise ValueError(
                f"resolution must be even and >= 4 * forcing_wavenumber = {4 * k_f} (the grid "
                f"must hold the forcing well inside its Nyquist limit), got {resolution}"
            )
        if points % resolution and resolution % points:
            raise ValueError(
                f"resolution must divide or be a multiple of the solver grid, {points} points "
                f"per side at nu={self.nu!r} (e.g. {points // 2}, {points} or {2 * points}), "
                f"got {resolution}"
            )
        # Finer grids than the solver's hold the spectral solution's trigonometric
        # interpolant: the same functions at every resolution.
        return max(points, resolution)

    @staticmethod
    def _resample(w: np.ndarray, points: int) -> np.ndarray:
        """Fields ``(..., n, n)`` on a ``points`` grid: subsampled when coarser, the
        trigonometric interpolant when finer (Nyquist modes of the ``n`` grid dropped)."""
        n = w.shape[-1]
        if points <= n:
            stride = n // points
            return np.ascontiguousarray(w[..., ::stride, ::stride])
        half = n // 2
        coarse = np.fft.rfft2(w)
        fine = np.zeros((*w.shape[:-2], points, points // 2 + 1), dtype=np.complex128)
        fine[..., :half, :half] = coarse[..., :half, :half]
        fine[..., -half + 1 :, :half] = coarse[..., -half + 1 :, :half]
        return np.fft.irfft2(fine * (points / n) ** 2, (points, points))

    def _advance(self, w: np.ndarray, time: float, out: np.ndarray | None = None) -> np.ndarray:
        """Vorticity ``(B, n, n)`` advanced by ``time`` (or at the times ``out``, multiples of
        ``dt``: ``(B, n, n, len(out))``) on its own grid."""
        points = w.shape[-1]
        times = np.array([time]) if out is None else np.asarray(out)
        unit = self.dt if out is not None else time
        dt_max = COURANT * (LENGTH / points) / SPEED_BOUND
        step = unit / math.ceil(unit / dt_max)
        forcing = kolmogorov_forcing(points, self.forcing_wavenumber, LENGTH)
        state = solve_vorticity(
            w, self.nu, step, times, forcing=forcing, drag=self.drag, length=LENGTH
        )
        return state.w[..., 0] if out is None else state.w

    def _initial(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` spun-up vorticity fields on the solver grid."""
        w = FIELD.on_grid(FIELD.sample(n, rng), self.solver_points())
        if n and self.spinup > 0.0:
            w = self._advance(w, self.spinup)
        return w

    def family_inputs(self, n, resolution, rng):
        self.family_solver_resolution(resolution)
        return self._resample(self._initial(n, rng), resolution)

    def family_solve(self, inputs, resolution):
        inputs = np.asarray(inputs, dtype=np.float64)
        if inputs.ndim != 3 or inputs.shape[1:] != (resolution, resolution):
            raise ValueError(
                f"inputs must have shape (n, {resolution}, {resolution}), got {inputs.shape}"
            )
        self.family_solver_resolution(resolution)
        w = self._resample(inputs, self.solver_points())
        return self._resample(self._advance(w, self.dt), resolution)

    def family_extras(self, inputs, solutions, resolution):
        vel_x, vel_y = velocity_from_vorticity(solutions, LENGTH)
        return {"vel_x": vel_x, "vel_y": vel_y}

    # --- the velocity field, for field generators -------------------------------------------
    def generator_has_residual(self):
        return True

    def generator_residual(self, fields):
        r"""The divergence :math:`\partial_x u + \partial_y v` ``(B, x, y)`` of velocity fields
        ``(B, 2, x, y)`` (channels ``vel_x``, ``vel_y``), spectral on the periodic grid:
        zero to rounding for the dataset's velocities."""
        if fields.dim() != 4 or fields.shape[1] != 2:
            raise ValueError(
                f"fields must have shape (B, 2, x, y) (vel_x, vel_y), got {tuple(fields.shape)}"
            )
        return spectral_derivative(fields[:, 0], 1, LENGTH) + spectral_derivative(
            fields[:, 1], 2, LENGTH
        )

    def generator_residual_scale(self, fields):
        r"""The root mean square velocity gradient :math:`\sqrt{E|\nabla \mathbf u|^2}` of
        the velocity fields ``(B, 2, x, y)``: a divergence in these units is 0 for an
        incompressible field and about 0.5 when ``u_x`` and ``v_y`` do not cancel at all."""
        squares = [
            spectral_derivative(fields[:, c], axis, LENGTH).pow(2)
            for c in range(2)
            for axis in (1, 2)
        ]
        return float(torch.stack(squares).sum(0).mean().sqrt())

    def family_provenance(self, resolution):
        return {
            "equation": "w_t + u.grad w = nu Lap w - drag w - k_f cos(k_f y) on [0, 2 pi)^2 "
            f"periodic, nu={self.nu!r}, drag={self.drag!r}, k_f={self.forcing_wavenumber}; "
            f"w(t0) -> w(t0 + {self.dt:g}), t0 = spinup = {self.spinup:g}",
            "input_distribution": "w(t0): spin-up of w_init ~ " + FIELD.describe(),
            "grf_alpha": FIELD.alpha,
            "grf_tau": FIELD.tau,
            "grf_std": FIELD.std,
            "grf_modes": FIELD.modes,
            "spinup": self.spinup,
            "time_step": self.dt,
            "solver": "pseudo-spectral vorticity, 2/3-rule dealiasing, ETDRK4 "
            "(workbench.numerics.navier_stokes), subsampled",
            "solver_resolution": self.family_solver_resolution(resolution),
            "solver_points": self.solver_points(),
            "solver_courant_bound": COURANT,
            "velocity": "vel_x, vel_y = (psi_y, -psi_x) of u with -Lap psi = u, spectral on "
            "the dataset grid",
        }

    def trajectories(
        self,
        n: int,
        steps: int,
        resolution: int | None = None,
        seed: int = 0,
        *,
        cache: bool = True,
    ) -> xr.Dataset:
        """Short trajectories from the family's inputs: the reference for rollouts.

        Parameters
        ----------
        n : int
            Trajectories, ``>= 1``; trajectory ``i`` starts from sample ``i`` of
            ``dataset(..., resolution, seed)`` (its ``w0``), so its first step is that
            sample's ``u``.
        steps : int
            States after the start, spaced ``dt``, in ``[1, 1000]``.
        resolution : int, optional
            Points per side, default :attr:`family_resolution`.
        seed : int
            Seed of the inputs, as in :meth:`dataset`.
        cache : bool
            Keep the result in memory and as NetCDF next to the datasets.

        Returns
        -------
        xarray.Dataset
            Variable ``w`` with dims ``(sample, t, x, y)``, ``t = spinup + k dt``,
            ``k = 0 .. steps``.

        Raises
        ------
        ValueError
            If ``n``, ``steps``, ``resolution`` or ``seed`` is out of range.
        """
        resolution = self.family_resolution if resolution is None else resolution
        lo, hi = FAMILY_RESOLUTIONS
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
            raise ValueError(f"steps must be an integer in [1, 1000], got {steps!r}")
        if not 1 <= steps <= 1000:
            raise ValueError(f"steps must be an integer in [1, 1000], got {steps!r}")
        if not isinstance(resolution, (int, np.integer)) or not lo <= resolution <= hi:
            raise ValueError(f"resolution must be an integer in [{lo}, {hi}], got {resolution!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        n, steps, resolution, seed = int(n), int(steps), int(resolution), int(seed)
        self.family_solver_resolution(resolution)
        params = json.dumps(
            {k: v for k, v in self.param.values().items() if k != "name"}, sort_keys=True
        )
        recipe = json.dumps(
            {"params": params, "family": self.family_provenance(resolution)},
            sort_keys=True,
            default=str,
        )
        digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
        key = ("trajectories", self.name, n, steps, resolution, seed, digest)
        path = dataset_cache.data_directory() / (
            f"{self.name}-traj-n{n}-k{steps}-r{resolution}-s{seed}-{digest}.nc"
        )
        if cache:
            kept = dataset_cache.recall(key)
            if kept is not None:
                return kept.copy(deep=True)
            shape = (n, steps + 1, resolution, resolution)
            stored = dataset_cache.read_dataset(path, {"w": shape})
            if stored is not None:
                dataset_cache.remember(key, stored)
                return stored.copy(deep=True)

        rng = np.random.default_rng(seed)
        times = self.dt * np.arange(steps + 1)
        w = np.empty((n, steps + 1, resolution, resolution))
        # Drawn chunk by chunk like dataset(), so trajectory i starts from its sample i.
        for start in range(0, n, self.family_chunk):
            count = min(self.family_chunk, n - start)
            field = self._initial(count, rng)
            states = np.moveaxis(self._advance(field, 0.0, out=times[1:]), -1, 1)
            w[start : start + count, 0] = self._resample(field, resolution)
            w[start : start + count, 1:] = self._resample(states, resolution)
        grid = self.family_grid(resolution)
        coords = {d: (d, grid[d], self.dim_attrs[d]) for d in self.family_dims}
        coords["sample"] = ("sample", np.arange(n), {"long_name": "sample index", "units": "1"})
        coords["t"] = ("t", self.spinup + times, self.dim_attrs["t"])
        data = xr.Dataset(
            {"w": (("sample", "t", "x", "y"), w, {"long_name": "vorticity w", "units": "1"})},
            coords=coords,
            attrs={
                "problem": self.name,
                "problem_params": params,
                "n": n,
                "steps": steps,
                "resolution": resolution,
                "seed": seed,
                **self.family_provenance(resolution),
                "workbench_version": dataset_cache.workbench_version(),
            },
        )
        if cache:
            dataset_cache.write_dataset(data, path)
            dataset_cache.remember(key, data)
            return data.copy(deep=True)
        return data
