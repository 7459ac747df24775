"""The field-generator family: generative models of a family's joint (input, solution) fields,
sampled from noise, with physics and observation guidance.

* :class:`FlowMatching`: conditional flow matching (and the :class:`Flow` base of the flow
  methods);
* :class:`PBFM`: physics-based flow matching;
* :class:`Diffusion`: a denoising diffusion model with PDE and observation guidance.

Sampling, posteriors and evaluation are shared: see :class:`FieldGenerator`.
"""

from workbench.methods.field_generators.base import FieldGenerator, FieldModel, interval_coverage
from workbench.methods.field_generators.diffusion import Diffusion
from workbench.methods.field_generators.flow_matching import Flow, FlowMatching
from workbench.methods.field_generators.pbfm import PBFM

__all__ = [
    "FieldGenerator",
    "FieldModel",
    "interval_coverage",
    "Diffusion",
    "Flow",
    "FlowMatching",
    "PBFM",
]
