"""Coordinates of node grids and resampling between resolutions, for operator networks."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def grid_coordinates(
    shape: tuple[int, ...], periodic: tuple[bool, ...], like: torch.Tensor
) -> list[torch.Tensor]:
    """Normalised coordinates in ``[0, 1]`` of a node grid, one 1D tensor per dim.

    A periodic dim holds ``n`` nodes ``j / n`` (the end point is the start point); any other
    dim holds ``n`` nodes ``j / (n - 1)`` including both ends. The same physical point thus
    gets the same coordinate at every resolution.
    """
    out = []
    for n, wraps in zip(shape, periodic):
        count = n if wraps else max(n - 1, 1)
        out.append(torch.arange(n, dtype=like.dtype, device=like.device) / count)
    return out


def resample(z: torch.Tensor, size: tuple[int, ...], periodic: tuple[bool, ...]) -> torch.Tensor:
    """Linearly interpolate fields ``(B, *grid)`` on a node grid to ``size`` nodes per dim.

    Non-periodic grids include both end nodes, so end maps to end (``align_corners``). A periodic
    dim is first closed with a copy of its first node, interpolated, and opened again, so that
    ``j / n`` maps to ``j' / n'`` with the wrap-around segment included.
    """
    if tuple(z.shape[1:]) == tuple(size):
        return z
    closed = z
    for axis, wraps in enumerate(periodic, start=1):
        if wraps:
            closed = torch.cat([closed, closed.narrow(axis, 0, 1)], dim=axis)
    target = tuple(n + wraps for n, wraps in zip(size, periodic))
    mode = "linear" if len(size) == 1 else "bilinear"
    out = F.interpolate(closed.unsqueeze(1), size=target, mode=mode, align_corners=True)
    out = out.squeeze(1)
    return out[(..., *(slice(0, n) for n in size))]


def query_points(coords: list[torch.Tensor]) -> torch.Tensor:
    """All nodes of the grid spanned by ``coords`` (each in ``[0, 1]``) as ``(N, D)`` points in
    ``[-1, 1]`` (C order), where tanh/sin networks train well: a trunk network's queries."""
    mesh = torch.meshgrid(*coords, indexing="ij")
    return torch.stack([2 * m.reshape(-1) - 1 for m in mesh], dim=1)


__all__ = ["grid_coordinates", "query_points", "resample"]
