"""KL weight annealing: a schedule for the weight of a latent model's KL term."""

from __future__ import annotations

import math

import param

from workbench.regularizers.base import Regularizer


class KLAnnealing(Regularizer):
    r"""Anneal the weight :math:`\beta` of a latent model's ``kl`` term.

    The negative ELBO is ``reconstruction + beta * kl``. Starting with a small :math:`\beta`
    lets the decoder learn to use the latents before the KL term pulls every posterior onto
    the prior (Bowman et al., "Generating Sentences from a Continuous Space", 2016: a linear
    warm-up), which is how a VAE avoids "posterior collapse"; the cyclical schedule (Fu et al.,
    "Cyclical Annealing Schedule", NAACL 2019) repeats the warm-up ``cycles`` times, each over
    the first half of its cycle. A :math:`\beta` held below 1 is the :math:`\beta`-VAE with
    the opposite aim (Higgins et al., 2017: above 1 for disentangled latents).

    The ``kl`` term's weight at step :math:`s` is ``weights["kl"] * weight * ramp(s)``, with
    ``ramp`` rising from ``start`` to 1; it is logged as ``weight_kl``. This regularizer adds
    no term of its own.
    """

    title = "KL annealing"
    name = param.String("kl_annealing", constant=True, doc="Registry name of this regularizer.")
    weight = param.Number(
        1.0, bounds=(0.0, None), doc="Final KL weight beta (1 = the ELBO itself)."
    )
    schedule = param.Selector(
        objects=["linear", "cosine", "cyclical"],
        default="linear",
        doc="Shape of the warm-up: 'linear', 'cosine' (smooth ends) or 'cyclical' (a linear "
        "ramp over the first half of each of 'cycles' equal cycles).",
    )
    warmup = param.Integer(
        1000, bounds=(1, None), doc="Steps of the warm-up ('linear' and 'cosine')."
    )
    start = param.Number(0.0, bounds=(0.0, 1.0), doc="Fraction of the final weight at step 0.")
    cycles = param.Integer(4, bounds=(1, 1000), doc="Cycles of the 'cyclical' schedule.")

    def unsuitable(self, problem, method) -> str | None:
        if "kl" not in method.term_names(problem):
            return (
                f"regularizer 'kl_annealing' needs a method with a 'kl' term (vae, phys_vae, "
                f"vano), got {method.name!r} with terms {method.term_names(problem)}"
            )
        return None

    def ramp(self, step: int, steps: int) -> float:
        """The schedule's fraction of the final weight at ``step`` of ``steps``, in [start, 1]."""
        if self.schedule == "cyclical":
            period = max(1, math.ceil(steps / self.cycles))
            progress = min(1.0, (step % period) / max(1, period // 2))
        else:
            progress = min(1.0, step / self.warmup)
            if self.schedule == "cosine":
                progress = 0.5 * (1.0 - math.cos(math.pi * progress))
        return self.start + (1.0 - self.start) * progress

    def scales(self, step: int, steps: int) -> dict[str, float]:
        return {"kl": self.weight * self.ramp(step, steps)}

    def terms(self, model, problem, batch, params, objective):
        return {}
