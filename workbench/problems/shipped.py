"""Reference solutions shipped with the source tree, so that start-up need not solve them.

The app and the notebooks start with problems at their default parameters, and some of those
references cost a solve (Burgers by quadrature, Allen-Cahn by a spectral time stepper). The
repository's ``data/`` folder holds those references as NetCDF files, made by
``python data/make_references.py`` (which calls :func:`write`);
:meth:`~workbench.problems.base.Problem.reference` asks :func:`load` first and solves only
when it returns None.

A file is used only when it can stand in for the solve exactly: the problem is the registered
class (not a subclass) at its default parameters, the grid is its default :meth:`grid`, and the
file records those same parameters and grid. Anything else (other parameters, another grid, an
installed package without the ``data/`` folder) solves as before; a file that exists but
cannot be read also solves, with a warning. The test ``tests/problems/test_shipped_data.py``
regenerates every file with its solver and compares, so a changed solver cannot leave a stale
file behind unnoticed.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:  # base imports this module
    from workbench.problems.base import Problem

#: Problems whose default reference is shipped, and the solver that made it (stored in the file).
#: The others have closed-form references that cost less to evaluate than a file costs to read.
SHIPPED: dict[str, str] = {
    "burgers1d": "exact Cole-Hopf solution by trapezoidal quadrature "
    "(workbench.numerics.burgers_cole_hopf)",
    "allen_cahn1d": "Fourier-spectral ETDRK4 on 2048 modes, step <= 2.5e-3, Fourier series "
    "evaluated at the grid (workbench.numerics.allen_cahn_reference)",
}

#: Lossless compression: the values stay float64, bit for bit.
ENCODING = {"zlib": True, "complevel": 9, "shuffle": True}


def data_folder() -> Path | None:
    """The repository's ``data/`` folder, or None outside a source checkout.

    A checkout is recognised as in :func:`~workbench.problems.dataset_cache.data_directory`:
    the folder above the ``workbench`` package holds ``pyproject.toml``. An installed package
    has no shipped data (and its ``site-packages/data`` would belong to someone else).
    """
    repo = Path(__file__).resolve().parents[2]
    return repo / "data" if (repo / "pyproject.toml").is_file() else None


def filename(name: str) -> str:
    """The file name of problem ``name``'s shipped reference."""
    return f"{name}_reference.nc"


def _parameters(problem: Problem) -> dict:
    """The problem's parameter values, as recorded in a shipped file."""
    return {k: v for k, v in problem.param.values().items() if k != "name"}


def _is_default(problem: Problem, grid: Mapping[str, np.ndarray]) -> bool:
    """Whether ``problem`` is a registered problem with a shipped reference, at its default
    parameters, asked for its default grid. Needs no file, so other calls cost nothing."""
    from workbench.problems import PROBLEMS  # the registry imports base, which imports this

    cls = PROBLEMS.get(problem.name)
    if problem.name not in SHIPPED or type(problem) is not cls:
        return False
    defaults = {k: p.default for k, p in cls.param.objects("existing").items() if k != "name"}
    default_grid = problem.grid()
    return _parameters(problem) == defaults and all(
        np.array_equal(grid[d], default_grid[d]) for d in problem.dims
    )


def load(problem: Problem, grid: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The shipped reference of ``problem`` on ``grid``, or None when it must be solved.

    Parameters
    ----------
    problem : Problem
        The problem whose reference is asked for.
    grid : mapping of str to numpy.ndarray
        The coordinates per dim, as from :meth:`~workbench.problems.base.Problem.grid`.

    Returns
    -------
    numpy.ndarray or None
        The values (float64, axes in ``problem.dims`` order), exactly as the solver wrote
        them; None when no file applies: other parameters or grid, no ``data/`` folder or
        file, a file recording other parameters or another grid, or an unreadable file (which
        warns, naming it).
    """
    folder = data_folder()
    if folder is None or not _is_default(problem, grid):
        return None
    path = folder / filename(problem.name)
    if not path.is_file():
        return None
    try:
        with xr.open_dataset(path, engine="h5netcdf") as stored:
            data = stored.load()
        u = data["u_ref"]
        matches = (
            data.attrs["problem"] == problem.name
            and json.loads(data.attrs["problem_params"]) == _parameters(problem)
            and u.dims == tuple(problem.dims)
            and u.dtype == np.float64
            and all(np.array_equal(u[d].values, grid[d]) for d in problem.dims)
        )
    except Exception as err:  # any corruption: solve rather than fail
        # stacklevel 3: the caller of Problem.reference.
        warnings.warn(
            f"solving the {problem.name} reference: cannot read {path}: {err}", stacklevel=3
        )
        return None
    # A file for other parameters or another grid (the defaults changed since it was made) is
    # not broken, only not for this call: solve without a warning.
    return u.values if matches else None


def reference_dataset(problem: Problem) -> xr.Dataset:
    """Solve ``problem``'s reference on its default grid, as the dataset a shipped file holds:
    ``u_ref`` as :meth:`~workbench.problems.base.Problem.reference` returns it, and attrs
    saying how it was made."""
    grid = problem.grid()
    values = problem.solve_reference(grid)  # never reference(), which may read the file
    coords = {d: (d, v, problem.dim_attrs[d]) for d, v in grid.items()}
    u = xr.DataArray(
        values,
        dims=problem.dims,
        coords=coords,
        name="u_ref",
        attrs={"long_name": "reference solution u", "units": "1"},
    )
    from workbench.problems.dataset_cache import workbench_version

    attrs = {
        "problem": problem.name,
        "problem_params": json.dumps(_parameters(problem), sort_keys=True),
        "grid": json.dumps({d: len(v) for d, v in grid.items()}),
        "solver": SHIPPED.get(problem.name, "solve_reference"),
        "command": "python data/make_references.py",
        "workbench_version": workbench_version(),
    }
    return u.to_dataset().assign_attrs(attrs)


def write(name: str, folder: Path | None = None) -> Path:
    """Solve problem ``name`` at its defaults and write its shipped reference file.

    Parameters
    ----------
    name : str
        Registry name of the problem.
    folder : pathlib.Path, optional
        Where to write; default :func:`data_folder`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from workbench.problems import PROBLEMS

    folder = data_folder() if folder is None else Path(folder)
    if folder is None:
        raise ValueError("no data/ folder outside a source checkout; pass folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename(name)
    data = reference_dataset(PROBLEMS[name]())
    data.to_netcdf(path, engine="h5netcdf", encoding={"u_ref": ENCODING})
    return path
