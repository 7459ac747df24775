"""Weight decay, decoupled (AdamW) and coupled (an L2 penalty in the loss), to contrast them."""

from __future__ import annotations

import param

from workbench.regularizers.base import Regularizer


class WeightDecay(Regularizer):
    r"""Decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization").

    Each update shrinks the parameters directly, :math:`\theta \leftarrow \theta - \eta_t
    \lambda \theta`, after the Adam step, where :math:`\eta_t` is the scheduled learning rate
    and :math:`\lambda` the ``weight``. Unlike an L2 term in the loss, the shrinkage is not
    rescaled by Adam's per-parameter step sizes, so every weight decays at the same rate.
    """

    title = "Weight decay (decoupled, AdamW)"
    name = param.String("weight_decay", constant=True, doc="Registry name of this regularizer.")

    def terms(self, model, problem, batch, params, objective):
        return {}

    def decoupled_decay(self) -> float:
        return float(self.weight)


class L2Penalty(Regularizer):
    r"""Coupled L2 penalty :math:`\lambda \sum_i \theta_i^2` added to the loss.

    With Adam its gradient :math:`2\lambda\theta` is divided by the running gradient scale,
    so large-gradient weights are barely regularized: the behaviour AdamW was designed to fix.
    """

    title = "L2 penalty (in the loss)"
    name = param.String("l2", constant=True, doc="Registry name of this regularizer.")

    def terms(self, model, problem, batch, params, objective):
        return {"l2": sum(p.pow(2).sum() for p in params.values())}
