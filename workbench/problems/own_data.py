"""A user's own dataset for a problem family: read, checked and laid out as
:meth:`~workbench.problems.base.Problem.dataset` lays out the generated ones, so the methods
that learn from a family (operators, latent models, field generators) train on it unchanged.

The layout (what :func:`check_dataset` asks for, and every message names):

- dims ``("sample", *problem.family_dims)``, e.g. ``("sample", "x", "y")`` for ``darcy2d``;
- variables ``u`` (the solutions) and the family's input (``a`` for ``darcy2d``), each over
  those dims, or, for a parameter family, one variable per parameter over ``sample``;
- a grid of ``R`` points along each family dim (fixed counts for :attr:`family_points` dims),
  ``R`` in :data:`~workbench.problems.base.FAMILY_RESOLUTIONS`. Grid coordinates may be left
  out; given, they must be the family's grid at ``R`` points (the physics of the family, its
  residual and its periodicity, assume that grid).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:  # base imports this module
    from workbench.problems.base import Problem

#: Smallest number of samples a dataset can hold (one to test, one to train on).
MIN_SAMPLES = 2


def layout(problem: Problem) -> str:
    """The expected layout in words, for error messages and docs."""
    dims = ("sample", *problem.family_dims)
    if problem.family_parameters:
        inputs = ", ".join(repr(p) for p in problem.family_parameters)
        return f"variables {inputs} over ('sample',) and 'u' over {dims}"
    return f"variables {problem.family_input!r} (the input) and 'u' (the solution) over {dims}"


def read_netcdf(source: str | Path | bytes, name: str | None = None) -> xr.Dataset:
    """The dataset in a NetCDF file (a path, or its bytes: an upload named ``name``), read
    into memory (the file is closed after).

    Raises
    ------
    ValueError
        When the file is missing or cannot be read as NetCDF.
    """
    if isinstance(source, bytes):
        name = name or "the uploaded file"
    else:
        name = str(source)
        if not Path(source).is_file():
            raise ValueError(f"data: no file {name!r}; give the path of a NetCDF file")
    errors = []
    # h5netcdf reads NetCDF4 (what xarray writes by default with it); scipy reads NetCDF3.
    for engine in ("h5netcdf", "scipy"):
        opened = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            with xr.open_dataset(opened, engine=engine) as stored:
                return stored.load()
        except Exception as err:  # unreadable by this engine: try the next, report both
            errors.append(f"{engine}: {type(err).__name__}: {err}")
    raise ValueError(f"data: cannot read {name!r} as NetCDF ({'; '.join(errors)})")


def fingerprint(data: xr.Dataset) -> str:
    """SHA-256 over the names, shapes and float64 values of ``data``'s variables: the same
    numbers give the same fingerprint whatever file or order they came in."""
    digest = hashlib.sha256()
    for name in sorted(data.data_vars):
        values = np.ascontiguousarray(data[name].values, dtype=np.float64)
        digest.update(f"{name}{values.shape}".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def check_dataset(problem: Problem, source: xr.Dataset | str | Path) -> xr.Dataset:
    """``source`` (a Dataset or a NetCDF path) checked against ``problem``'s family and laid
    out as :meth:`~workbench.problems.base.Problem.dataset` makes them.

    Returns
    -------
    xarray.Dataset
        Only the family's variables, float64, with the grid coordinates (the family's own where
        the source had none), ``sample = 0 .. n-1`` and attrs ``problem``, ``n``,
        ``resolution``, ``source`` (the path, or ``"xarray.Dataset"``) and ``sha256``
        (:func:`fingerprint`).

    Raises
    ------
    ValueError
        Naming what is wrong: an unreadable file, a missing variable, wrong dims, a grid of the
        wrong size or coordinates, too few samples, non-numeric or non-finite values.
    """
    problem._require_family()
    if isinstance(source, str | Path):
        data, origin = read_netcdf(source), str(source)
    elif isinstance(source, xr.Dataset):
        data, origin = source, "xarray.Dataset"
    else:
        raise ValueError(
            f"data must be an xarray.Dataset or the path of a NetCDF file, got "
            f"{type(source).__name__}"
        )
    name = f"data for {problem.name!r}"
    dims = ("sample", *problem.family_dims)
    inputs = list(problem.family_parameters) or [problem.family_input]
    missing = [v for v in [*inputs, "u"] if v not in data.data_vars]
    if missing:
        have = ", ".join(repr(v) for v in data.data_vars) or "none"
        raise ValueError(
            f"{name}: missing variable(s) {', '.join(map(repr, missing))} (it has {have}); "
            f"expected {layout(problem)}"
        )
    for variable in [*inputs, "u"]:
        wanted = ("sample",) if variable in problem.family_parameters else dims
        if data[variable].dims != wanted:
            raise ValueError(
                f"{name}: variable {variable!r} has dims {data[variable].dims}, expected "
                f"{wanted} ({layout(problem)})"
            )
        if not np.issubdtype(data[variable].dtype, np.number) or np.issubdtype(
            data[variable].dtype, np.complexfloating
        ):
            raise ValueError(
                f"{name}: variable {variable!r} holds {data[variable].dtype} values, expected "
                "real numbers"
            )
    n = data.sizes["sample"]
    if n < MIN_SAMPLES:
        raise ValueError(
            f"{name}: {n} sample(s) along 'sample'; at least {MIN_SAMPLES} are needed "
            "(n_test to test on, n_train to train on)"
        )
    resolution = _resolution(problem, data, name)
    grid = problem.family_grid(resolution)
    coords = {}
    for d in problem.family_dims:
        if d in data.coords:
            _check_coordinate(problem, data[d].values, grid[d], d, resolution, name)
        coords[d] = (d, grid[d], problem.dim_attrs[d])
    coords["sample"] = ("sample", np.arange(n), {"long_name": "sample index", "units": "1"})
    variables = {}
    for variable in [*inputs, "u"]:
        values = np.asarray(data[variable].values, dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name}: variable {variable!r} has {int(bad.sum())} NaN or infinite "
                f"value(s), the first at index {first}"
            )
        attrs = {**problem.family_attrs.get(variable, {}), **data[variable].attrs}
        variables[variable] = (data[variable].dims, values, attrs)
    checked = xr.Dataset(variables, coords=coords)
    checked.attrs = {
        "problem": problem.name,
        "n": n,
        "resolution": resolution,
        "source": origin,
        "sha256": fingerprint(checked),
    }
    return checked


def _resolution(problem: Problem, data: xr.Dataset, name: str) -> int:
    """Points per dim of the data's grid (the dims not fixed by ``family_points``)."""
    from workbench.problems.base import FAMILY_RESOLUTIONS

    lo, hi = FAMILY_RESOLUTIONS
    free = {}
    for d in problem.family_dims:
        size = data.sizes[d]
        if d in problem.family_points:
            if size != problem.family_points[d]:
                raise ValueError(
                    f"{name}: dim {d!r} has {size} points; {problem.name!r} has "
                    f"{problem.family_points[d]} along {d!r}"
                )
        else:
            free[d] = size
    sizes = set(free.values())
    if len(sizes) > 1:
        raise ValueError(
            f"{name}: the grid has {free} points per dim; {problem.name!r} needs the same "
            "number along each"
        )
    resolution = sizes.pop() if sizes else problem.family_resolution
    if not lo <= resolution <= hi:
        raise ValueError(
            f"{name}: {resolution} grid points per dim; allowed: {lo} to {hi} (the "
            "'resolution' knob's range)"
        )
    return resolution


def _check_coordinate(
    problem: Problem, given: np.ndarray, grid: np.ndarray, d: str, resolution: int, name: str
) -> None:
    lo, hi = problem.domain[d]
    periodic = dict(zip(problem.family_dims, problem.family_periodic))[d]
    if given.shape == grid.shape and np.allclose(given, grid, rtol=0, atol=1e-6 * (hi - lo)):
        return
    kind = "without the end point (periodic)" if periodic else "including both ends"
    raise ValueError(
        f"{name}: coordinate {d!r} runs {float(np.min(given)):g} .. {float(np.max(given)):g} "
        f"over {given.size} points; {problem.name!r}'s grid at {resolution} points is "
        f"{lo:g} .. {hi:g} evenly spaced {kind} (or leave the coordinate out)"
    )
