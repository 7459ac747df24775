"""MultiAdam: one set of Adam moments per loss term (Yao et al., ICML 2023)."""

from __future__ import annotations

import param
import torch

from workbench.combiners.base import Combiner


class MultiAdam(Combiner):
    r"""Per-term Adam moments, averaged: a step that ignores how each term is scaled.

    For each group :math:`k` of terms (each term alone, or the residual against all the
    conditions together), with its own moments :math:`m_k, v_k`,

    .. math:: d = \frac{1}{K}\sum_k \frac{\hat m_k}{\sqrt{\hat v_k} + \epsilon},

    and ``train()`` applies :math:`\theta \leftarrow \theta - \eta\, d`. Multiplying a group's
    loss by a constant multiplies its :math:`m_k` by it and :math:`\sqrt{v_k}` too, so the
    step does not change: no weights to tune for badly scaled terms.
    """

    name = param.String("multiadam", constant=True, doc="Registry name of this combiner.")
    adaptive = True

    beta1 = param.Number(
        0.99, bounds=(0.0, 1.0), inclusive_bounds=(True, False), doc="Decay of the first moments."
    )
    beta2 = param.Number(
        0.99, bounds=(0.0, 1.0), inclusive_bounds=(True, False), doc="Decay of the second moments."
    )
    groups = param.Selector(
        objects=["terms", "residual_vs_rest"],
        default="terms",
        doc="Moment groups: one per term, or the residual against all other terms together.",
    )

    def _group(self, term: str) -> str:
        if self.groups == "terms":
            return term
        return "residual" if term == "residual" else "rest"

    def start(self, terms, like):
        groups = dict.fromkeys(self._group(t) for t in terms)
        zeros = torch.zeros_like(like)
        return {
            "m": {g: zeros.clone() for g in groups},
            "v": {g: zeros.clone() for g in groups},
            "t": 0,
        }

    def combine(self, grads, state, step):
        b1, b2, eps = self.beta1, self.beta2, 1e-8
        summed: dict[str, torch.Tensor] = {}
        for name, grad in grads.items():
            group = self._group(name)
            summed[group] = summed[group] + grad if group in summed else grad
        state["t"] += 1
        t = state["t"]
        direction = torch.zeros_like(next(iter(grads.values())))
        for group, grad in summed.items():
            m, v = state["m"][group], state["v"][group]
            m.mul_(b1).add_((1 - b1) * grad)
            v.mul_(b2).add_((1 - b2) * grad * grad)
            direction += (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
        return direction / len(summed), {}
