"""Learning-rate annealing: balance the terms by their gradient magnitudes."""

from __future__ import annotations

import param
import torch

from workbench.combiners.base import Combiner


class LRA(Combiner):
    r"""Learning-rate annealing weights (Wang, Teng & Perdikaris, SIAM J. Sci. Comput. 2021).

    The residual term keeps weight 1; every ``every`` steps each other term :math:`i` gets

    .. math::

        \hat\lambda_i = \frac{\max_\theta |\nabla_\theta L_r|}{\operatorname{mean}_\theta
        |\nabla_\theta L_i|}, \qquad \lambda_i \leftarrow (1 - \alpha)\lambda_i + \alpha
        \hat\lambda_i,

    so a boundary term whose gradient is drowned by the residual's is scaled up until both
    move the weights comparably. The step follows :math:`\sum_i \lambda_i \nabla L_i` with
    Adam. The weights are logged as ``weight_<term>``.

    The weights are capped at ``max_weight``, a guard the paper does not have: when most
    parameters get no gradient from a term (local features such as PIG's Gaussians, or a
    term that is already satisfied) its mean gradient tends to zero and the ratio explodes
    (we saw 1e15 on Helmholtz with PIG).
    """

    name = param.String("lra", constant=True, doc="Registry name of this combiner.")
    alpha = param.Number(
        0.1, bounds=(0.0, 1.0), inclusive_bounds=(False, True), doc="Rate of the moving average."
    )
    every = param.Integer(10, bounds=(1, 100_000), doc="Steps between weight updates.")
    max_weight = param.Number(1e4, bounds=(1.0, None), doc="Upper bound of every weight.")
    reference = param.String(
        "residual", doc="Term that keeps weight 1 (the first term if the method has no such term)."
    )

    def start(self, terms, like):
        return {"weights": dict.fromkeys(terms, 1.0)}

    def combine(self, grads, state, step):
        weights = state["weights"]
        reference = self.reference if self.reference in grads else next(iter(grads))
        if step % self.every == 0:
            top = float(grads[reference].abs().max())
            for name, grad in grads.items():
                mean = float(grad.abs().mean())
                if name == reference or mean == 0.0:
                    continue
                moved = (1 - self.alpha) * weights[name] + self.alpha * top / mean
                weights[name] = min(moved, self.max_weight)
        direction = torch.zeros_like(next(iter(grads.values())))
        for name, grad in grads.items():
            direction += weights[name] * grad
        return direction, {f"weight_{k}": w for k, w in weights.items()}
