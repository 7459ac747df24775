"""The data-emphasized ELBO's weight prior: a Gaussian prior on the weights whose variance is
learnt, with the KL term scaled as if each weight were one observation."""

from __future__ import annotations

import param
import torch

from workbench.regularizers.base import Regularizer


class DataEmphasizedELBO(Regularizer):
    r"""The weight-space KL term of the data-emphasized ELBO (DE-ELBo; Harvey, Petrov & Hughes,
    "Learning Hyperparameters via a Data-Emphasized Variational Objective", 2025).

    Treat the network weights as a mean-field Gaussian posterior
    :math:`q(w) = \mathcal N(m, \sigma_q^2 I)` (:math:`m` the trained weights, :math:`D` of
    them) under a prior :math:`p(w) = \mathcal N(0, \lambda I)` whose variance
    :math:`\lambda` is a *learnt* hyperparameter. The plain per-example ELBO adds
    :math:`\mathrm{KL}(q\Vert p)/N` to the mean negative log likelihood of the :math:`N`
    examples; with :math:`D \gg N` that KL swamps the data and over-regularises. DE-ELBo
    up-weights the data by :math:`\kappa = D/N`, which turns the KL's factor into
    :math:`1/D`. The prior variance that maximises the ELBO has the closed form
    :math:`\lambda^* = \overline{m^2} + \sigma_q^2`, and there

    .. math::

        \frac{1}{D}\,\mathrm{KL}\big(q \,\Vert\, p_{\lambda^*}\big)
        = \frac{1}{2} \log\Big(1 + \frac{\overline{m^2}}{\sigma_q^2}\Big),

    the term this regularizer adds (with ``weight`` 1 it is the DE-ELBo's, given that the
    method's loss is a per-example mean). It is zero for zero weights and grows only
    logarithmically with their size: a learnt-variance prior, not a fixed L2 penalty. The
    posterior's spread :math:`\sigma_q` is fixed and small, so the expected likelihood under
    :math:`q` is the likelihood at :math:`m` (the method's own loss).
    """

    title = "Learnt weight prior (DE-ELBo)"
    name = param.String("de_elbo", constant=True, doc="Registry name of this regularizer.")
    weight = param.Number(
        1.0,
        bounds=(0.0, None),
        doc="Multiplier of the term (1 = the data-emphasized ELBO, kappa = D / N).",
    )
    posterior_std = param.Number(
        1e-2,
        bounds=(1e-8, 1.0),
        doc="Standard deviation sigma_q of the weights' Gaussian posterior.",
    )

    def terms(self, model, problem, batch, params, objective):
        weights = [p for p in params.values() if p.is_floating_point()]
        size = sum(p.numel() for p in weights)
        mean_square = sum(p.pow(2).sum() for p in weights) / size
        return {"de_elbo": 0.5 * torch.log1p(mean_square / self.posterior_std**2)}
