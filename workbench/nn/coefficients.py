"""Trainable coefficients of a PDE (for inverse problems), each through a transform.

A coefficient such as a viscosity spans decades and must stay positive, so it is learned as
``exp(raw)``: a step in ``raw`` is a relative change of the value, whatever its size (Raissi et
al. learn ``log nu`` the same way). With bounds it is ``lo + (hi - lo) * sigmoid(raw)``,
which never leaves them; a coefficient of either sign without bounds is learned as is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

#: How a raw parameter becomes the coefficient.
TRANSFORMS = ("log", "bounded", "identity")


@dataclass(frozen=True)
class Unknown:
    """How one coefficient is learned.

    Attributes
    ----------
    guess : float
        Initial value.
    transform : str
        ``log`` (positive, learned as its logarithm), ``bounded`` (kept inside
        ``bounds`` by a sigmoid) or ``identity``.
    bounds : tuple of float or None
        ``(lo, hi)`` for ``bounded``.
    """

    guess: float
    transform: str = "log"
    bounds: tuple[float, float] | None = None

    def raw(self) -> float:
        """The raw parameter that gives :attr:`guess`."""
        if self.transform == "log":
            return math.log(self.guess)
        if self.transform == "bounded":
            lo, hi = self.bounds
            share = (self.guess - lo) / (hi - lo)
            return math.log(share / (1.0 - share))
        return self.guess

    def value(self, raw: torch.Tensor) -> torch.Tensor:
        """The coefficient from its raw parameter (differentiable)."""
        if self.transform == "log":
            return raw.exp()
        if self.transform == "bounded":
            lo, hi = self.bounds
            return lo + (hi - lo) * torch.sigmoid(raw)
        return raw


class Coefficients(nn.Module):
    """The trainable coefficients of a model: one raw scalar parameter ``raw_<name>`` each.

    Parameters
    ----------
    unknowns : mapping of str to Unknown
        The coefficients by name (a problem's knob names).
    """

    def __init__(self, unknowns: Mapping[str, Unknown]):
        super().__init__()
        self.unknowns = dict(unknowns)
        for name, unknown in self.unknowns.items():
            self.register_parameter(
                f"raw_{name}", nn.Parameter(torch.tensor(unknown.raw(), dtype=torch.float32))
            )

    def values(self) -> dict[str, torch.Tensor]:
        """Every coefficient's current value, as 0-d tensors in the graph."""
        return {
            name: unknown.value(getattr(self, f"raw_{name}"))
            for name, unknown in self.unknowns.items()
        }

    def values_from(self, params: Mapping[str, torch.Tensor], prefix: str) -> dict[str, float]:
        """The values given a parameter dict holding ``<prefix>raw_<name>`` (for logging)."""
        with torch.no_grad():
            return {
                name: float(unknown.value(params[f"{prefix}raw_{name}"]))
                for name, unknown in self.unknowns.items()
            }
