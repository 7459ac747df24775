"""Where and how :meth:`~workbench.problems.base.Problem.dataset` caches generated family
datasets: in memory for the process, and as NetCDF files in :func:`data_directory`.

Generating a dataset can take minutes, so both caches are kept; either can be skipped with
``dataset(..., cache=False)``. A file that cannot be read is regenerated and one that cannot be
written only warns, so the cache never makes a dataset call fail.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import xarray as xr

#: Datasets kept in memory per process (most recently used last).
MEMORY_CACHE: OrderedDict[tuple, xr.Dataset] = OrderedDict()
#: How many datasets :data:`MEMORY_CACHE` keeps before dropping the least recently used.
MEMORY_CACHE_SIZE = 8


def data_directory() -> Path:
    """Where :meth:`~workbench.problems.base.Problem.dataset` caches its NetCDF files.

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


def workbench_version() -> str:
    """The installed package's version, or ``"unknown"`` for a checkout that is not installed."""
    try:
        return version("workbench")
    except PackageNotFoundError:
        return "unknown"


def recall(key: tuple) -> xr.Dataset | None:
    """The dataset kept in memory under ``key`` (marked as just used), or None."""
    if key not in MEMORY_CACHE:
        return None
    MEMORY_CACHE.move_to_end(key)
    return MEMORY_CACHE[key]


def remember(key: tuple, data: xr.Dataset) -> None:
    """Keep ``data`` in memory under ``key``, dropping the least recently used beyond
    :data:`MEMORY_CACHE_SIZE`."""
    MEMORY_CACHE[key] = data
    MEMORY_CACHE.move_to_end(key)
    while len(MEMORY_CACHE) > MEMORY_CACHE_SIZE:
        MEMORY_CACHE.popitem(last=False)


def read_dataset(path: Path, shapes: Mapping[str, tuple[int, ...]]) -> xr.Dataset | None:
    """The cached dataset at ``path``, or None when absent or unreadable (warns then).

    Parameters
    ----------
    path : pathlib.Path
        The NetCDF file.
    shapes : mapping of str to tuple of int
        The variables the dataset must hold and their shapes; a file that differs counts as
        unreadable.

    Notes
    -----
    Call it directly from ``Problem.dataset``: the warning's ``stacklevel`` points at the
    caller of that method.
    """
    if not path.is_file():
        return None
    try:
        with xr.open_dataset(path, engine="h5netcdf") as stored:
            data = stored.load()
        for name, want in shapes.items():
            if data[name].shape != want:
                raise ValueError(f"{name} holds shape {data[name].shape}, expected {want}")
    except Exception as err:  # any corruption: regenerate rather than fail
        warnings.warn(f"regenerating unreadable cached dataset {path}: {err}", stacklevel=3)
        return None
    return data


def write_dataset(data: xr.Dataset, path: Path) -> None:
    """Write atomically (temporary file, then rename): a crash never leaves half a file
    under the final name. Failure to write only warns: the data is still returned.

    Like :func:`read_dataset`, meant to be called directly from ``Problem.dataset``.
    """
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
