"""Conditional flow matching of a family's joint (input, solution) fields.

Lipman, Chen, Ben-Hamu, Nickel & Le, "Flow matching for generative modeling", ICLR 2023: a
network learns the velocity of straight paths from noise to data; sampling integrates it. No
physics: the baseline of :class:`~workbench.methods.PBFM`.
"""

from __future__ import annotations

import param
from torch import nn

from workbench.methods.base import Batch, Flow
from workbench.problems.base import Problem


class FlowMatching(Flow):
    """Flow matching with a U-Net velocity field (loss term ``flow``).

    The path, sampler and evaluation knobs are those of
    :class:`~workbench.methods.base.Flow` and :class:`~workbench.methods.base.FieldGenerator`.
    """

    name = param.String("flow_matching", constant=True, doc="Registry name of this method.")

    def term_names(self, problem: Problem) -> list[str]:
        return ["flow"]

    def loss(self, model: nn.Module, problem: Problem, batch: Batch):
        return {"flow": self.flow_terms(model, batch)[0]}
