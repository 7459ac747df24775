"""Jacobian nuclear-norm penalty, estimated from noise (no Jacobian is ever formed)."""

from __future__ import annotations

import param
import torch

from workbench.regularizers.base import Regularizer, call_model


class JacobianNuclearNorm(Regularizer):
    r"""Penalise the nuclear norm of an autoencoder's Jacobian (Scarvelis & Solomon, "Nuclear
    Norm Regularization for Deep Learning", NeurIPS 2024).

    The nuclear norm :math:`\lVert J_f(x) \rVert_*` (the sum of singular values) of the map
    :math:`f = g \circ h` from data to reconstruction pushes it to be locally low rank: it
    should vary along few directions of the data. The paper's theorem: over all ways to
    factor :math:`f` as :math:`g \circ h`, the smallest
    :math:`\tfrac12(\lVert J_h \rVert_F^2 + \lVert J_g \rVert_F^2)` is
    :math:`\lVert J_f \rVert_*`, so one penalises the two halves' Frobenius norms instead,
    here :math:`h` the encoder's mean and :math:`g` the decoder. Each Frobenius norm is
    estimated without any Jacobian, from a few noise draws:

    .. math:: \lVert J_h(x) \rVert_F^2 \approx \frac{1}{\sigma^2}
        \mathbb E_\varepsilon \lVert h(x + \sigma\varepsilon) - h(x) \rVert^2,
        \qquad \varepsilon \sim \mathcal N(0, I),

    exact for a linear map in expectation. The term is the batch mean of half their sum. The
    noise is drawn per batch from the run's seed (:meth:`draws`).
    """

    title = "Jacobian nuclear norm"
    name = param.String("jacobian_nuclear", constant=True, doc="Registry name of this regularizer.")
    weight = param.Number(1e-2, bounds=(0.0, None), doc="Multiplier of the term (the paper's eta).")
    noise = param.Number(
        1e-3, bounds=(1e-6, 1.0), doc="Standard deviation sigma of the probing noise."
    )
    samples = param.Integer(
        1, bounds=(1, 64), doc="Noise draws per example (the paper uses 10; 1 is unbiased too)."
    )

    def unsuitable(self, problem, method) -> str | None:
        from workbench.methods.latent.base import LatentModel

        if not isinstance(method, LatentModel):
            return (
                f"regularizer 'jacobian_nuclear' needs a latent generative method (vae, "
                f"phys_vae, vano): it splits the map at the latent code; got {method.name!r}"
            )
        return None

    def draws(self, batch, generator):
        u, latent = batch["u"], batch["noise"]
        shape = (self.samples, *u.shape)
        return {
            "jacobian_nuclear/data": torch.randn(shape, generator=generator, dtype=torch.float64),
            "jacobian_nuclear/latent": torch.randn(
                (self.samples, *latent.shape), generator=generator, dtype=torch.float64
            ),
        }

    def terms(self, model, problem, batch, params, objective):
        u = batch["u"]
        data_noise, latent_noise = batch["jacobian_nuclear/data"], batch["jacobian_nuclear/latent"]
        draws = len(data_noise)
        code, _ = call_model(model, params, "encode", u)
        decoded = call_model(model, params, "decode", code, u)
        # All draws in one pass: repeat the batch along the first dim.
        many = u.repeat(draws, *[1] * (u.ndim - 1))
        probed_code, _ = call_model(
            model, params, "encode", many + self.noise * data_noise.reshape(many.shape)
        )
        code_many = code.repeat(draws, 1)
        probed = call_model(
            model,
            params,
            "decode",
            code_many + self.noise * latent_noise.reshape(code_many.shape),
            many,
        )
        encoder = (probed_code - code_many).pow(2).flatten(1).sum(1)
        decoder = (probed - decoded.repeat(draws, *[1] * (u.ndim - 1))).pow(2).flatten(1).sum(1)
        return {"jacobian_nuclear": 0.5 * (encoder + decoder).mean() / self.noise**2}
