"""Reading the Run groups of latent generative models, shared by their views.

Generative runs (``vae``, ``phys_vae``, ...) encode each field of a problem family into a few
latent dims and decode it back. Their Run holds, besides ``/history``:

- ``/latent``: the test samples' encodings ``z_mean`` and ``z_std`` on ``(sample, latent)``,
  each sample's ``rel_l2`` (relative L2 error of its reconstruction), for a parameter family
  the true parameters (e.g. ``omega`` on ``sample``, with the training range in the attr
  ``range_omega``), a ``traversal`` on ``(latent, offset, *grid)`` (the field decoded with one
  latent dim swept, at the values ``traversal_value`` on ``(latent, offset)``), and, for a
  parameter family, the same for data from outside the training range: ``ood_z_mean``,
  ``ood_u`` (data), ``ood_recon``, ``ood_rel_l2`` and ``ood_<parameter>`` on dim
  ``ood_sample``, with attrs ``ood_parameter`` and ``ood_range``;
- ``/samples``: fields decoded from prior draws, ``u`` on ``(sample, *grid)``, and the draws
  ``z`` on ``(sample, latent)``;
- ``/fields`` (and each live snapshot): data ``u_ref``, reconstruction ``u``, ``error`` and
  ``rel_l2`` of the first test samples, plus ``traversal`` and ``traversal_value``.

The grid is 1D (``t`` of a pendulum, ``x`` of a Burgers initial condition), drawn as curves,
or 2D (``(x, y)`` of Darcy flow, ``(x, t)`` of advection-diffusion), drawn as images.

This module holds what the views of :mod:`workbench.views.latent` (the latent space),
:mod:`workbench.views.decoded` (what it decodes to) and :mod:`workbench.views.generation`
share: the dims and colours, the checks of a group's variables and grid, and the latent dims
and true parameters a group holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import numpy as np
import xarray as xr

from workbench.views.fields import SAMPLE_DIM, _dimension
from workbench.views.operators import TRAIN_COLOUR, TRANSFER_COLOUR
from workbench.views.style import compact_colorbar

#: Dims of ``/latent`` that index latent dims, traversal steps and out-of-range samples.
LATENT_DIM, OFFSET_DIM, OOD_DIM = "latent", "offset", "ood_sample"

#: Colours of the test samples (in the training range) and of those from outside it.
IN_RANGE_COLOUR, OUT_OF_RANGE_COLOUR = TRAIN_COLOUR, TRANSFER_COLOUR

#: Latent dims drawn at most by :func:`~workbench.views.latent.traversal_grid` unless asked
#: otherwise.
MAX_LATENTS = 8

_NOT_GRID = frozenset({SAMPLE_DIM, LATENT_DIM, OFFSET_DIM, OOD_DIM})
_WIDTH, _HEIGHT = 320, 260
_SMALL = 130  # side of the frame of one image of a grid of images


def _tile(image: hv.Element, colorbar: bool) -> hv.Element:
    """An image of a grid of images: a fixed frame (a colour bar beside it must not shrink
    it), no axes, the grid's shared colour bar on the last column only."""
    return image.opts(
        frame_width=_SMALL,
        frame_height=_SMALL,
        colorbar=colorbar,
        hooks=[compact_colorbar],
        xaxis=None,
        yaxis=None,
        toolbar=None,
        backend="bokeh",
    )


# --- reading the groups -----------------------------------------------------------------------
def _require(ds: xr.Dataset, names: Sequence[str], view: str, what: str) -> None:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise ValueError(
            f"{view}() needs {what}: variables {missing} are missing; the dataset has "
            f"{sorted(map(str, ds.data_vars))}"
        )


def _grid_dims(da: xr.DataArray) -> tuple[str, ...]:
    """The dims of the family's grid: those of ``da`` but sample, latent, offset, ood_sample."""
    return tuple(str(d) for d in da.dims if d not in _NOT_GRID)


def _check_grid(da: xr.DataArray, view: str) -> tuple[str, ...]:
    grid = _grid_dims(da)
    if len(grid) not in (1, 2):
        raise ValueError(f"{view}() draws fields on 1D or 2D grids, got {da.name} on {da.dims}")
    return grid


def latent_names(ds: xr.Dataset) -> list[str]:
    """Names of the latent dims: the ``latent`` coordinate, else ``"0"``, ``"1"``, ...

    Parameters
    ----------
    ds : xarray.Dataset
        Data with a ``latent`` dim (``/latent``, ``/samples`` or a live snapshot).

    Returns
    -------
    list of str
    """
    if LATENT_DIM in ds.coords:
        return [str(v) for v in ds[LATENT_DIM].values]
    return [str(i) for i in range(ds.sizes[LATENT_DIM])]


def _latent_index(ds: xr.Dataset, latent) -> int:
    names = latent_names(ds)
    if isinstance(latent, (int, np.integer)) and not isinstance(latent, bool):
        if 0 <= latent < len(names):
            return int(latent)
    elif str(latent) in names:
        return names.index(str(latent))
    raise ValueError(f"latent={latent!r} is not a latent dim; they are {names}")


def parameters(ds: xr.Dataset) -> list[str]:
    """The family's true parameters held by ``/latent`` (empty for a function family).

    Parameters
    ----------
    ds : xarray.Dataset
        The ``/latent`` group.

    Returns
    -------
    list of str
        Variables on ``sample`` alone, other than ``rel_l2``, in dataset order, with the one
        named by the ``ood_parameter`` attr (the one extrapolated) first.
    """
    names = [
        str(n)
        for n, v in ds.data_vars.items()
        if v.dims == (SAMPLE_DIM,) and n != "rel_l2" and not str(n).startswith("ood_")
    ]
    first = ds.attrs.get("ood_parameter")
    if first in names:
        names.remove(first)
        names.insert(0, first)
    return names


def _training_range(ds: xr.Dataset, name: str) -> tuple[float, float] | None:
    value = ds.attrs.get(f"range_{name}")
    if value is None or len(value) != 2:
        return None
    return float(value[0]), float(value[1])


def _spread(ds: xr.Dataset) -> np.ndarray:
    """How much each latent dim varies over the test samples (for ranking dims)."""
    if "z_mean" in ds.data_vars:
        return np.nan_to_num(ds["z_mean"].std(SAMPLE_DIM).values.astype(float))
    values = ds["traversal_value"]  # mean +- 2 std of the test encodings: same ranking
    return np.nan_to_num((values.max(OFFSET_DIM) - values.min(OFFSET_DIM)).values.astype(float))


def ranked_latents(ds: xr.Dataset, max_latents: int = MAX_LATENTS) -> list[int]:
    """Positions of the latent dims to draw: all, or the ``max_latents`` that vary most.

    Parameters
    ----------
    ds : xarray.Dataset
        ``/latent`` (ranked by the spread of ``z_mean`` over the test samples) or a live
        snapshot (ranked by the span of ``traversal_value``, which is that spread times 4).
    max_latents : int
        Most dims returned.

    Returns
    -------
    list of int
        In latent order (not by rank), so that the rows of a grid keep the model's order.
    """
    size = ds.sizes[LATENT_DIM]
    if size <= max_latents:
        return list(range(size))
    order = np.argsort(-_spread(ds), kind="stable")[:max_latents]
    return sorted(int(i) for i in order)


def _variable_dimension(ds: xr.Dataset, name: str) -> hv.Dimension:
    return _dimension(name, ds[name].attrs)
