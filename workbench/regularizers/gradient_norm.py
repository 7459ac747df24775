"""Gradient-norm penalty: prefer flat regions of the training loss."""

from __future__ import annotations

import param
import torch

from workbench.regularizers.base import Regularizer


class GradientNorm(Regularizer):
    r"""Penalty on the squared norm of the training loss's parameter gradient.

    .. math:: R(\theta) = \lVert \nabla_\theta L(\theta) \rVert_2^2,

    where :math:`L` is the method's weighted loss (Barrett & Dherin, "Implicit Gradient
    Regularization"; Zhao et al., "Penalizing Gradient Norm"). Minimizing it biases training
    towards flat minima. It needs a second derivative through the whole loss, so a step costs
    about three times as much.
    """

    title = "Gradient-norm penalty"
    name = param.String("grad_norm", constant=True, doc="Registry name of this regularizer.")

    def terms(self, model, problem, batch, params, objective):
        grads = torch.func.grad(objective)(params)
        return {"grad_norm": sum(g.pow(2).sum() for g in grads.values())}
