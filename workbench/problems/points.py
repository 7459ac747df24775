"""Point helpers shared by problems and their conditions: random points in boxes,
random scalar parameters, and named coordinate columns.

Every function takes its generator explicitly, so a seed fixes every draw.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch


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
