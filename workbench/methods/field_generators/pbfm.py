"""Physics-based flow matching (PBFM).

Baldan, Liu, Guardone & Thuerey, "Flow matching meets PDEs: a unified framework for
physics-constrained generation" (arXiv 2506.08604; later "Physics vs distributions: Pareto
optimal flow matching with physics constraints"). Flow matching plus the PDE residual of the
generated field, with the two gradients combined by ConFIG instead of a hand-set weight.
"""

from __future__ import annotations

import param
from torch import nn

from workbench.methods.base import Batch
from workbench.methods.field_generators.flow_matching import Flow
from workbench.problems.base import Problem


class PBFM(Flow):
    """Flow matching with a physics residual on the unrolled clean estimate.

    Loss terms:

    * ``flow``: the flow-matching regression of :class:`~workbench.methods.field_generators.Flow`;
    * ``residual``: :math:`E_t[\\, t \\cdot \\mathrm{mean}|R(\\hat x_1)|\\,]`, the mean absolute
      PDE residual (in units of the forcing) of the clean field :math:`\\hat x_1` reached by
      ``unroll`` Euler steps of the learned flow from ``x_t`` to ``t = 1``, with gradients
      through every step. The steps shrink the bias of a one-step estimate (the residual is
      nonlinear, so its value at the mean field is not its mean). The flow time ``t`` weighs
      it: estimates from nearly pure noise count little.

    By default the two gradients are combined by ConFIG (``combine="config"``, the paper's
    choice: no loss weight to tune); ``"sum"`` adds them with the ``weights`` given to
    ``train()``. The authors' code grows the unrolled steps from 1 to 4 over the four quarters
    of training; here ``unroll`` is fixed. ``time_power`` > 1 weighs the residual by a power
    of ``t``.

    Measured on ``darcy2d`` at 16 x 16 (``benchmarks/generative.py``: data solved on that
    grid, width-16 U-Net, one CPU thread): after 8000 steps with ``unroll=4`` the generated
    pairs' mean absolute residual was 0.076 against flow matching's 0.169 (2.2x lower), at
    the same energy distance from the test data (0.008 and 0.010 with the moving average of
    the weights, ``ema=0.999``; 0.030 both without it); after 12000 steps 0.062 against
    0.144 (2.3x), so the ratio grows slowly with training. After 4000 steps: 0.132 with
    ``unroll=2``, 0.106 with ``unroll=4``, against 0.231; weighting by ``t ** 3`` changed
    nothing (0.128), and a plain sum with residual weight 5 reached the same residual with a
    broken distribution (energy distance 3.9 instead of about 0.03). The residual is what
    the network can reach in this budget, not what the balance allows: training on the
    residual alone for 600 more steps took it only to 0.039, with the distribution broken.
    A width-32 U-Net lowered both (4000 steps: 0.085 against 0.141), not their ratio.

    On ``kolmogorov2d``'s velocity (the paper's Kolmogorov constraint: the residual is the
    spectral divergence, in units of the data's RMS velocity gradient) at 32 x 32,
    ``benchmarks/generative.py --only kolmogorov --steps 1000`` (1000 training fields, batch
    16, width-16 U-Net, lr 2e-3, ``ema=0.999``, one CPU thread): 500 generated fields had a
    mean absolute divergence of 0.012 against flow matching's 0.038 (3.1x lower; the data's
    is 1.6e-7, float32 rounding), at a slightly smaller energy distance from the test data
    (5.34 against 5.78; normalised 0.044 and 0.047), for 2.3x the CPU time (272 s against
    116 s). Flow matching given the same CPU time (2300 steps, 257 s) reached 0.018 and
    5.62: PBFM's divergence stays 1.5x lower at equal cost. Both distances are far above the
    estimate's noise floor (-0.02 between training and test fields): neither model has
    converged in this budget.
    """

    name = param.String("pbfm", constant=True, doc="Registry name of this method.")

    unroll = param.Integer(
        2,
        bounds=(1, 16),
        doc="Euler steps from x_t to the clean estimate the residual is evaluated on.",
    )
    time_power = param.Number(
        1.0,
        bounds=(0.0, 16.0),
        doc="The residual is weighted by t ** time_power (the paper: 1); larger values "
        "focus it on late flow times, whose clean estimates become the samples.",
    )
    combine = param.Selector(
        objects=["config", "sum"],
        default="config",
        doc="How the flow and residual gradients are combined: ConFIG (conflict-free) or a "
        "weighted sum.",
    )

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if not problem.generator_has_residual():
            raise ValueError(
                f"method 'pbfm' needs a family with a discrete PDE residual; {problem.name!r} "
                "has none (use flow_matching)"
            )

    def default_combiner(self) -> str | None:
        return "config" if self.combine == "config" else None

    def term_names(self, problem: Problem) -> list[str]:
        return ["flow", "residual"]

    def loss(self, model: nn.Module, problem: Problem, batch: Batch):
        flow, x, t, velocity = self.flow_terms(model, batch)
        tb = t.reshape(-1, *([1] * (x.dim() - 1)))
        dt = (1.0 - tb) / self.unroll
        x = x + dt * velocity
        time = t
        for _ in range(1, self.unroll):
            time = time + dt.reshape(-1)
            x = x + dt * model(x, time)
        r = self.residual(model, problem, x).abs().flatten(1).mean(1)
        return {"flow": flow, "residual": (t.pow(self.time_power) * r).mean()}
