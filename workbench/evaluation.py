"""Evaluating a model against its reference, where tensors become xarray.

The field names and attrs every Run and view rely on (:data:`FIELD_ATTRS`), the model's
prediction, reference, error and residual on the problem's grid (:func:`evaluate_fields`),
the point sets of a batch (:func:`points_dataset`), and the metrics that compare fields
(:func:`relative_l2`, :func:`energy_distance`). Each method names its headline metric with a
:class:`Metric` (:data:`RELATIVE_L2`, :data:`ENERGY_DISTANCE`), so that every place that shows
the number also says what it is. Methods use these; :mod:`workbench.results` builds Runs from
them.

**Multi-component fields** (a flow's ``u, v, p``; see :attr:`Problem.components
<workbench.problems.base.Problem.components>`): ``u``, ``u_ref`` and ``error`` get a leading dim
``component`` (coords the component names) and ``residual`` a leading dim ``equation`` (coords
the problem's equation names). The metric is defined per component (attrs ``l2re_u``,
``l2re_v``, ...: :func:`relative_l2` of that component) and overall: attr ``l2re``, the
relative L2 error of all components together (``||U - U_ref|| / ||U_ref||`` over components
and grid points), which is the one value status lines, histories and Run summaries show. A
single-component problem's fields have neither dim and no per-component attrs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
import xarray as xr
from torch import nn

FIELD_ATTRS = {
    "u": {"long_name": "prediction u", "units": "1"},
    "u_ref": {"long_name": "reference solution u", "units": "1"},
    "error": {"long_name": "error u - u_ref", "units": "1"},
    "residual": {"long_name": "PDE residual", "units": "1"},
}


class Metric(NamedTuple):
    """What a method's headline number measures.

    The value itself is stored under the key ``l2re`` (the Run's root attrs, ``/history``,
    a snapshot's attrs) whatever the metric is, so that runs saved before metrics had names
    still load; the names say what that value means wherever it is shown.

    Attributes
    ----------
    name : str
        An identifier, as ``key=value`` in one-line summaries (``l2re``, ``energy_distance``).
    label : str
        The short name in status lines and titles (``l2re``, ``energy distance``).
    long_name : str
        The full name, for axes and reports (``relative L2 error``, ...).
    """

    name: str
    label: str
    long_name: str

    def attrs(self) -> dict[str, str]:
        """The attrs naming this metric next to a stored ``l2re`` value."""
        return {"metric": self.name, "metric_label": self.label, "metric_long_name": self.long_name}


#: ``||u - u_ref|| / ||u_ref||`` (:func:`relative_l2`): solvers, operators, latent models.
RELATIVE_L2 = Metric("l2re", "l2re", "relative L2 error")
#: The normalised energy distance of generated fields from the test set
#: (:func:`energy_distance`): field generators, which have no truth per sample.
ENERGY_DISTANCE = Metric("energy_distance", "energy distance", "normalised energy distance")


def coarse_grid(reference: xr.DataArray, full: Mapping[str, int]) -> str | None:
    """``"48x48"`` when ``reference`` is on a coarser grid than ``full`` points per dim (a
    live snapshot's), else None: a metric computed there is only an estimate of the Run's."""
    if all(reference.sizes[d] >= n for d, n in full.items() if d in reference.sizes):
        return None
    return "x".join(str(n) for n in reference.shape)


def relative_l2(u: np.ndarray, u_ref: np.ndarray) -> float:
    """``||u - u_ref|| / ||u_ref||`` over all grid points."""
    return float(np.linalg.norm(u - u_ref) / np.linalg.norm(u_ref))


def energy_distance(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    r"""Energy distance between two samples of fields, and its normalised form.

    ``x`` ``(n, ...)`` and ``y`` ``(m, ...)`` are flattened per sample. The energy distance
    (Szekely & Rizzo 2013) is :math:`D = 2 E\|X - Y\| - E\|X - X'\| - E\|Y - Y'\|`, zero
    exactly when the two distributions agree; the normalised form ``D / (2 E||X - Y||)`` lies in
    ``[0, 1]``. Pairs of a sample with itself are left out of the within-sample means.

    Returns
    -------
    tuple of float
        ``(D, D / (2 E||X - Y||))``.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if len(x) < 2 or len(y) < 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y need >= 2 samples of the same size, got {x.shape} and {y.shape}")

    def mean_distance(a, b, same):
        d = np.sqrt(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T, 0.0))
        return d.sum() / (len(a) * (len(a) - 1)) if same else d.mean()

    between = mean_distance(x, y, False)
    distance = 2 * between - mean_distance(x, x, True) - mean_distance(y, y, True)
    return float(distance), float(distance / (2 * between)) if between > 0 else 0.0


def _chunked(fn, points: torch.Tensor, chunk: int = 16384) -> np.ndarray:
    return _chunked_columns(fn, points, chunk).reshape(-1)


def _chunked_columns(fn, points: torch.Tensor, chunk: int = 16384) -> np.ndarray:
    """``fn`` over chunks of points, as ``(N, C)`` float64."""
    out = [fn(points[i : i + chunk]).detach() for i in range(0, len(points), chunk)]
    return torch.cat(out).to("cpu", torch.float64).numpy()


def component_errors(u: np.ndarray, u_ref: np.ndarray, components) -> dict[str, float]:
    """Per component ``c``, attr ``l2re_<c>``: the relative L2 error of that component
    (arrays with the components first)."""
    return {f"l2re_{c}": relative_l2(u[i], u_ref[i]) for i, c in enumerate(components)}


def evaluate_fields(problem, method, model: nn.Module, size: Mapping[str, int] | None = None):
    """Prediction, reference, error and residual of a model on the problem's grid.

    Parameters
    ----------
    problem, method
        The :class:`~workbench.problems.Problem` and :class:`~workbench.methods.Method`.
    model : torch.nn.Module
        A model built by ``method.build(problem, ...)``.
    size : mapping, optional
        Points per dim (coarser grids make cheap live snapshots).

    Returns
    -------
    xarray.Dataset
        Variables ``u``, ``u_ref``, ``error``, ``residual`` on the grid, attr ``l2re`` (the
        relative L2 error there) and, on a grid coarser than the problem's, attr
        ``coarse_grid`` (e.g. ``"48x48"``, see :func:`coarse_grid`).
    """
    reference = problem.reference(size)
    grid = {d: reference[d].values for d in problem.dims}
    param0 = next(model.parameters())
    points = problem.grid_points(grid).to(param0.device, param0.dtype)
    if problem.multi_component():
        return _evaluate_components(problem, method, model, reference, points)
    shape = reference.shape
    with torch.no_grad():
        u = _chunked(lambda p: method.predict(model, problem, p), points).reshape(shape)
    # Residuals need derivatives; forward-mode ones would run under no_grad, autograd ones not.
    r = _chunked(lambda p: method.residual(model, problem, p), points).reshape(shape)
    data = {
        "u": u,
        "u_ref": reference.values,
        "error": u - reference.values,
        "residual": r,
    }
    ds = xr.Dataset(
        {k: (problem.dims, v, FIELD_ATTRS[k]) for k, v in data.items()},
        coords=reference.coords,
    )
    ds.attrs["l2re"] = relative_l2(u, reference.values)
    coarse = coarse_grid(reference, problem.grid_size)
    if coarse is not None:
        ds.attrs["coarse_grid"] = coarse
    return ds


def _evaluate_components(problem, method, model, reference, points) -> xr.Dataset:
    """:func:`evaluate_fields` for a multi-component problem (see the module docs)."""
    grid_shape = tuple(reference.sizes[d] for d in problem.dims)
    with torch.no_grad():
        u = _chunked_columns(lambda p: method.predict(model, problem, p), points)
    r = _chunked_columns(lambda p: method.residuals(model, problem, p), points)
    u = u.T.reshape(len(problem.components), *grid_shape)
    r = r.T.reshape(len(problem.equations), *grid_shape)
    fields = ("component", *problem.dims)
    coords = dict(reference.coords)
    coords["equation"] = ("equation", list(problem.equations), {"long_name": "equation"})
    ds = xr.Dataset(
        {
            "u": (fields, u, FIELD_ATTRS["u"]),
            "u_ref": (fields, reference.values, FIELD_ATTRS["u_ref"]),
            "error": (fields, u - reference.values, FIELD_ATTRS["error"]),
            "residual": (("equation", *problem.dims), r, FIELD_ATTRS["residual"]),
        },
        coords=coords,
    )
    ds.attrs["l2re"] = relative_l2(u, reference.values)
    ds.attrs.update(component_errors(u, reference.values, problem.components))
    coarse = coarse_grid(reference.isel(component=0), problem.grid_size)
    if coarse is not None:
        ds.attrs["coarse_grid"] = coarse
    return ds


def points_dataset(batch: Mapping[str, torch.Tensor], dims: Sequence[str]) -> xr.Dataset:
    """The point sets of a batch as the ``/points`` Dataset (variables ``S_x``, ``S_t``, ...).

    A batch key ``"S:v"`` (a per-point value ``v`` of set ``S``, e.g. ``interior:retained``)
    becomes the variable ``S_v`` on dim ``S``; keys ``"<regularizer>/..."`` are left out.
    """
    variables = {}
    for name, pts in batch.items():
        if "/" in name:  # a regularizer's tensors (observations, noise), not a point set
            continue
        array = pts.detach().to("cpu", torch.float64).numpy()
        if ":" in name:
            owner, value = name.split(":", 1)
            variables[f"{owner}_{value}"] = (owner, array, {"long_name": f"{owner} {value}"})
            continue
        for i, dim in enumerate(dims):
            variables[f"{name}_{dim}"] = (name, array[:, i], {"long_name": f"{name} points {dim}"})
    return xr.Dataset(variables)
