"""Least Volume: compress a latent space by penalising the volume its codes span."""

from __future__ import annotations

import param
import torch

from workbench.regularizers.base import Regularizer, call_model


class LeastVolume(Regularizer):
    r"""The latent volume penalty of Least Volume (Chen & Fuge, "Compressing Latent Space via
    Least Volume", ICLR 2024).

    For the batch's latent codes :math:`z` (the encoder's means) with per-dim standard
    deviations :math:`s_k` over the batch,

    .. math:: \mathrm{Vol}(z) = \exp\Big(\frac{1}{K}\sum_{k=1}^{K} \log(s_k + \eta)\Big) - \eta,

    the geometric mean of the spreads (shifted by :math:`\eta` so that a dim can collapse
    without sending the logarithm to minus infinity; the paper's form, less the constant
    :math:`\eta`, so that a fully collapsed latent scores 0). Pushing the volume down while
    the decoder must still reconstruct squeezes the dims the data do not need to (almost)
    zero spread, like a nonlinear PCA: sorting dims by spread orders them by importance.

    It only works with a Lipschitz-bounded decoder: otherwise the encoder can shrink every
    code for free and the decoder scale it back up. So it needs a generative method whose
    decoder is 1-Lipschitz (``vae`` with ``lipschitz=True``).
    """

    title = "Least volume"
    name = param.String("least_volume", constant=True, doc="Registry name of this regularizer.")
    weight = param.Number(
        1.0,
        bounds=(0.0, None),
        doc="Multiplier of the volume (the paper's lambda, on our reconstruction term's scale: "
        "a sum of squares over the grid over 2 sigma^2).",
    )
    eta = param.Number(
        1.0,
        bounds=(0.0, None),
        inclusive_bounds=(False, True),
        doc="Shift eta of each dim's spread inside the logarithm (the paper's default 1).",
    )

    def unsuitable(self, problem, method) -> str | None:
        from workbench.methods.latent.base import LatentModel

        if not isinstance(method, LatentModel):
            return (
                f"regularizer 'least_volume' needs a latent generative method (vae), got "
                f"{method.name!r}"
            )
        return None

    def check(self, problem, method):
        super().check(problem, method)
        if not method.lipschitz_decoder():
            raise ValueError(
                f"regularizer 'least_volume' needs a 1-Lipschitz decoder, else the encoder "
                f"shrinks the latents for free and the decoder scales them back: method "
                f"{method.name!r} has none (use vae with lipschitz=True)"
            )

    def terms(self, model, problem, batch, params, objective):
        mean, _ = call_model(model, params, "encode", batch["u"])
        spread = mean.std(dim=0)
        volume = torch.exp(torch.log(spread + self.eta).mean()) - self.eta
        return {"least_volume": volume}
