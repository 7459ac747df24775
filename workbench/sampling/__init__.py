"""Collocation samplers: where a PINN-family method looks for its PDE residual.

A plain PINN keeps one fixed cloud of points. The samplers here move it while training:

* ``fixed``: never move (the baseline; the failure mode of Daw et al. shows up here);
* ``resample``: a fresh uniform cloud every ``resample_every`` steps;
* ``r3``: Retain-Resample-Release (Daw, Bu, Wang, Perdikaris & Karpatne, ICML 2023): keep
  the points whose residual is above the population mean, redraw the rest uniformly;
* ``causal_r3``: R3 whose fitness is gated in time, ``|r| g(t)`` with
  ``g(t) = (1 - tanh(alpha (t/T - beta))) / 2``; the gate's edge ``beta`` moves forward
  as the gated residual falls, so points follow the solution's front from ``t = 0`` on;
* ``rar_d``: residual-based adaptive refinement with a distribution (Wu, Zhu, Tan, Kartha &
  Lu, CMAME 2023): draw a candidate pool, add points from it with probability
  ``p ~ r^k / mean(r^k) + c``; the cloud grows.

The samplers only see points and a residual function; they are created by the method (their
knobs are the method's knobs) and driven by its ``batches``. Adding one is one file plus one
line in ``SAMPLERS``.
"""

from workbench.sampling.base import Sampler
from workbench.sampling.r3 import R3, CausalR3
from workbench.sampling.rar_d import RARD
from workbench.sampling.uniform import Fixed, Resample

SAMPLERS: dict[str, type[Sampler]] = {
    cls.name: cls for cls in (Fixed, Resample, R3, CausalR3, RARD)
}

__all__ = ["SAMPLERS", "Sampler", "Fixed", "Resample", "R3", "CausalR3", "RARD"]
