"""The Dataset of a sweep and its files: ``sweep.nc`` and one file per finished point.

:mod:`workbench.sweep` describes the Dataset's layout. Each finished point is written to
``points/<key>.nc`` under the sweep's folder, its key a hash of the point's spec (everything
that defines its training), so that a later call finds it again; every file is written
atomically, so a reader or a resumed sweep never sees half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from workbench.results import json_default

if TYPE_CHECKING:
    from workbench.sweep.knobs import Knob

SWEEP_FILE = "sweep.nc"
POINTS_DIR = "points"

#: Statuses a finished point can have (``pending``: not run yet).
FINISHED = ("done", "diverged", "stopped", "failed")

#: Attrs of the variables every point has.
METRIC_ATTRS = {
    "l2re": {"long_name": "relative L2 error", "units": "1"},
    "loss": {"long_name": "weighted total loss at the last step", "units": "1"},
    "wall_s": {"long_name": "training wall time", "units": "s"},
    "steps_taken": {"long_name": "optimizer steps taken", "units": "steps"},
    "status": {"long_name": "how the point ended: done, diverged, stopped, failed or pending"},
    "message": {"long_name": "why the point ended early or failed"},
}

#: Names the result already uses (metrics, fields and the problems' grid dims).
RESERVED_NAMES = frozenset(
    {*METRIC_ATTRS, "u", "u_ref", "error", "residual", "x", "y", "t", "sample"}
)


def point_key(spec: dict) -> str:
    """A short hash of everything that defines a point's training (its file name)."""
    text = json.dumps(spec, sort_keys=True, default=json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- the Dataset ------------------------------------------------------------------------------
def _fill_value(dtype: np.dtype):
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind in "iub":
        return -1 if dtype.kind == "i" else 0
    return ""


def assemble(
    grid: Sequence[Knob], results: Mapping[tuple, xr.Dataset], attrs: Mapping
) -> xr.Dataset:
    """The sweep's Dataset from the finished points' results (missing points: ``pending``).

    Parameters
    ----------
    grid : sequence of Knob
        The swept knobs.
    results : mapping
        Finished points: the tuple of value indices -> that point's result Dataset.
    attrs : mapping
        The Dataset's attrs.
    """
    shape = tuple(len(k.values) for k in grid)
    dims = tuple(k.dim for k in grid)
    coords = {}
    for knob in grid:
        values = np.asarray(knob.values)
        coords[knob.dim] = (knob.dim, values, dict(knob.attrs))
    templates: dict[str, xr.DataArray] = {}
    for result in results.values():
        for name, variable in result.data_vars.items():
            templates.setdefault(name, variable)
    variables = {}
    for name, template in templates.items():
        data = np.full(
            shape + template.shape, _fill_value(template.dtype), dtype=_storage_dtype(template)
        )
        for index, result in results.items():
            if name not in result:
                continue
            value = result[name]
            if value.shape != template.shape or not _same_coords(value, template):
                raise ValueError(
                    f"fields: {name!r} is on a different grid at point {index} than at another; "
                    "a swept knob changes the grid, so sweep with fields=False"
                )
            data[index] = value.values.item() if value.ndim == 0 else value.values
        if name == "status":
            data[data == ""] = "pending"
        coords.update({d: template[d] for d in template.dims if d in template.coords})
        variables[name] = (dims + template.dims, data, dict(template.attrs))
    if "status" not in variables:  # nothing finished yet
        variables["status"] = (
            dims,
            np.full(shape, "pending", dtype=object),
            METRIC_ATTRS["status"],
        )
    dataset = xr.Dataset(variables, coords=coords, attrs=dict(attrs))
    dataset.attrs["points"] = int(np.prod(shape))
    dataset.attrs["points_done"] = int(np.isin(dataset["status"].values, FINISHED).sum())
    return dataset


def _storage_dtype(template: xr.DataArray):
    return object if template.dtype.kind in "OUS" else template.dtype


def _same_coords(a: xr.DataArray, b: xr.DataArray) -> bool:
    return all(
        d in b.coords and np.array_equal(a[d].values, b[d].values) for d in a.dims if d in a.coords
    )


def write_atomically(dataset: xr.Dataset, path: Path) -> None:
    """Write atomically: a reader (or a resumed sweep) never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    dataset.to_netcdf(partial, engine="h5netcdf")
    os.replace(partial, path)
