"""ConFIG and M-ConFIG: conflict-free updates for several loss terms.

Liu, Chu & Thuerey, "ConFIG: Towards Conflict-free Training of Physics Informed Neural
Networks", ICLR 2025. The authors' package ``conflictfree`` is not used at run time: its
least-squares solve mixes a float32 right-hand side with the gradients' dtype, so it fails on
float64 training. This is our own implementation of the published algorithm; the tests check
that it gives the package's updates (to float32 precision) where the package works.
"""

from __future__ import annotations

import param
import torch

from workbench.combiners.base import Combiner


def config_direction(grads: torch.Tensor) -> torch.Tensor:
    r"""The ConFIG update for gradients stacked as rows ``(m, P)``.

    With unit gradients :math:`\hat g_i`, the direction :math:`d` solves
    :math:`\hat g_i \cdot d = 1` for every ``i`` (minimum-norm solution), so it makes the same
    positive angle with every term's gradient. Its length is the sum of the raw gradients'
    projections on it, :math:`\sum_i g_i \cdot \hat d`: long when the terms agree, short when
    they conflict.
    """
    norms = grads.norm(dim=1, keepdim=True)
    units = torch.where(norms > 0, grads / norms.clamp_min(1e-30), torch.zeros_like(grads))
    # Minimum-norm solution of U d = 1 through the small m x m Gram matrix.
    gram = units @ units.T
    d = units.T @ (
        torch.linalg.pinv(gram) @ torch.ones(len(grads), dtype=grads.dtype, device=grads.device)
    )
    length = d.norm()
    if not torch.isfinite(length) or length == 0:
        return torch.zeros_like(grads[0])
    d_hat = d / length
    return (grads @ d_hat).sum() * d_hat


class ConFIG(Combiner):
    """Conflict-free inverse gradients: one direction that decreases every term at once.

    Each step differentiates every term separately, combines the gradients with
    :func:`config_direction` and hands the result to Adam in place of the summed gradient.
    Its inner product with every term's gradient is non-negative, so, to first order, no term
    goes up.
    """

    name = param.String("config", constant=True, doc="Registry name of this combiner.")

    def combine(self, grads, state, step):
        return config_direction(torch.stack(list(grads.values()))), {}


class MConFIG(Combiner):
    """Momentum ConFIG: one backward pass per step, ConFIG on per-term momenta.

    Each step differentiates only one term, in turn, and updates that term's first moment
    (its own bias correction counts its own updates). ConFIG combines the bias-corrected
    momenta; a shared second moment, fed by the gradient that this combined momentum implies,
    scales the step like Adam's. Use plain SGD-like steps: ``train()`` applies ``-lr * d``.
    Until every term has been seen once, the step is zero.
    """

    name = param.String("mconfig", constant=True, doc="Registry name of this combiner.")
    adaptive = True

    beta1 = param.Number(
        0.9,
        bounds=(0.0, 1.0),
        inclusive_bounds=(True, False),
        doc="Decay of the per-term first moments.",
    )
    beta2 = param.Number(
        0.999,
        bounds=(0.0, 1.0),
        inclusive_bounds=(True, False),
        doc="Decay of the shared second moment.",
    )

    def start(self, terms, like):
        zeros = torch.zeros_like(like)
        return {
            "order": list(terms),
            "m": {k: zeros.clone() for k in terms},
            "count": dict.fromkeys(terms, 0),
            "s": zeros.clone(),
            "combined": zeros.clone(),
            "t": 0,
        }

    def select(self, terms, state, step):
        return [state["order"][step % len(state["order"])]]

    def combine(self, grads, state, step):
        b1, b2 = self.beta1, self.beta2
        for name, grad in grads.items():
            state["count"][name] += 1
            state["m"][name].mul_(b1).add_((1 - b1) * grad)
        if min(state["count"].values()) == 0:
            return torch.zeros_like(next(iter(grads.values()))), {}
        state["t"] += 1
        t = state["t"]
        momenta = torch.stack(
            [state["m"][k] / (1 - b1 ** state["count"][k]) for k in state["order"]]
        )
        combined = config_direction(momenta)
        # The gradient that, fed to one Adam first moment, would have produced this momentum.
        raw = combined * (1 - b1**t)
        pseudo = (raw - b1 * state["combined"]) / (1 - b1)
        state["combined"] = raw
        state["s"].mul_(b2).add_((1 - b2) * pseudo * pseudo)
        s_hat = state["s"] / (1 - b2**t)
        cosines = torch.nn.functional.cosine_similarity(momenta[:, None], momenta[None], dim=-1)
        off = cosines[~torch.eye(len(momenta), dtype=torch.bool)]
        diagnostics = {"grad_cosine": float(off.min())} if len(off) else {}
        return combined / (s_hat.sqrt() + 1e-8), diagnostics
