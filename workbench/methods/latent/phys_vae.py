"""Physics-integrated VAE (Takeishi & Kalousis, "Physics-integrated variational autoencoders for
robust and interpretable generative modeling", NeurIPS 2021).

The latent space is split into physical parameters ``z_P`` (the problem's ``physics_latents``,
e.g. the pendulum's frequency omega) and auxiliary latents. The decoder integrates the
problem's *incomplete* physics (:meth:`~workbench.problems.Problem.physics_model`, the
frictionless pendulum) with a learned term inside the dynamics (from ``z_A1``) and adds a
learned output correction (from ``z_A2``). The encoder first "unmixes" the data (removes what
the physics cannot explain) and infers ``z_P`` from the result.

Three terms keep the physics part meaningful (the paper's regularizers, read in the official
code's ``physvae/pendulum/{model,train}.py``):

* ``least_action``: decoded signals with and without each learned part stay close, so the
  networks explain only what the physics cannot;
* ``unmixing``: the unmixed signal is close to the physics-only decoding;
* ``augmentation``: signals simulated by the physics alone from random ``z_P`` are encoded
  back to that ``z_P`` (a physics-based data augmentation of the encoder).

Two changes to the augmentation, both knobs, make the encoder read ``z_P`` beyond the
training range (on the pendulum, the out-of-range reconstruction error fell from 0.82 with
the paper's augmentation to 0.30): the parameters are drawn from a wider range than the
data's (``augment_widen``), and besides the physics-only signals the encoder also sees the
model's own dynamics (physics plus the learned in-dynamics term) from the drawn parameters
(``augment_dynamics``): signals that look like the data, damped, where there is no data.
"""

from __future__ import annotations

import math

import param
import torch
import torch.nn.functional as F
from torch import nn

from workbench.methods.base import Batch
from workbench.methods.latent.base import LatentModel, gaussian_kl
from workbench.nn.mlp import MLP
from workbench.problems.base import Problem

#: Physical latents are clipped to this range when decoding (a frequency cannot be negative,
#: and a huge one would make the integration stiff), as in the official code.
FEASIBLE = (0.0, 20.0)


class PhysVAEModel(nn.Module):
    """Encoders and decoders of a physics-integrated VAE for a problem with a physics model.

    Parameters
    ----------
    problem : Problem
        Gives :meth:`~workbench.problems.Problem.physics_model` (kept as a bound method: the
        module holds no tensors of it).
    size : int
        Points of the (flattened) field.
    physics, aux1, aux2 : int
        Physical latents, auxiliary latents inside the dynamics and in the output correction.
    width, depth : int
        Hidden size and layers of every MLP.
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(self, problem, size, physics, aux1, aux2, width, depth, generator):
        super().__init__()
        self.simulate = problem.physics_model
        self.size, self.physics, self.aux1, self.aux2 = size, physics, aux1, aux2
        aux = aux1 + aux2
        self.aux_encoder = MLP(size, 2 * aux, width, depth, "gelu", generator) if aux else None
        self.unmixer = MLP(size + aux, size, width, depth, "gelu", generator)
        self.physics_encoder = MLP(size, 2 * physics, width, depth, "gelu", generator)
        # Inside the dynamics: (z_A1, state, t) -> a correction of the highest derivative.
        self.in_dynamics = MLP(aux1 + 2 + 1, 1, width, depth, "gelu", generator) if aux1 else None
        # After the integration: (z_P, z_A1, z_A2) -> a correction of the whole signal.
        self.output = MLP(physics + aux, size, width, depth, "gelu", generator) if aux2 else None

    def _aux(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = u.reshape(len(u), -1)
        if self.aux_encoder is None:
            empty = flat.new_zeros(len(u), 0)
            return empty, empty
        return self.aux_encoder(flat).chunk(2, dim=-1)

    def unmix(self, u: torch.Tensor, aux_mean: torch.Tensor) -> torch.Tensor:
        """The data with what the physics cannot explain removed (a learned residual)."""
        flat = u.reshape(len(u), -1)
        return (flat + self.unmixer(torch.cat([flat, aux_mean], dim=1))).reshape(u.shape)

    def encode(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance ``(B, physics + aux1 + aux2)``; physics first."""
        aux_mean, aux_logvar = self._aux(u)
        unmixed = self.unmix(u, aux_mean)
        raw_mean, phys_logvar = self.physics_encoder(unmixed.reshape(len(u), -1)).chunk(2, -1)
        return torch.cat([F.softplus(raw_mean), aux_mean], 1), torch.cat(
            [phys_logvar, aux_logvar], 1
        )

    def integrate(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """The physics with the learned term inside the dynamics (``PA``), from ``z``."""
        phys = z[:, : self.physics].clamp(*FEASIBLE)
        aux1 = z[:, self.physics : self.physics + self.aux1]

        def correction(state, t):
            time = state.new_full((len(state), 1), t)
            return self.in_dynamics(torch.cat([aux1, state, time], dim=1)).squeeze(-1)

        return self.simulate(phys, u, correction)

    def decode_parts(self, z: torch.Tensor, u: torch.Tensor) -> dict[str, torch.Tensor]:
        """The four decodings of the paper: physics only (``P``), with the learned dynamics
        (``PA``), with the output correction (``PB``), and with both (``PAB``, the model)."""
        phys = z[:, : self.physics].clamp(*FEASIBLE)
        plain = self.simulate(phys, u)
        dynamics = self.integrate(z, u) if self.in_dynamics is not None else plain
        if self.output is not None:
            shift = self.output(torch.cat([phys, z[:, self.physics :]], dim=1)).reshape(u.shape)
        else:
            shift = torch.zeros_like(u)
        return {"P": plain, "PA": dynamics, "PB": plain + shift, "PAB": dynamics + shift}

    def decode(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """The model's decoding of latents ``z``, starting from the initial state of ``u``."""
        return self.decode_parts(z, u)["PAB"]


class PhysVAE(LatentModel):
    """Physics-integrated VAE on a parameter family with a physics model (``pendulum``).

    The data, ELBO and evaluation knobs are those of every generative method (see
    :class:`~workbench.methods.base.LatentModel`). The prior of each physical latent is
    Gaussian, centred on the family's range with a standard deviation of 0.866 times its
    width (the official code's choice), the auxiliary latents' standard normal.
    """

    name = param.String("phys_vae", constant=True, doc="Registry name of this method.")

    aux1 = param.Integer(1, bounds=(0, 64), doc="Auxiliary latents inside the dynamics.")
    aux2 = param.Integer(2, bounds=(0, 64), doc="Auxiliary latents of the output correction.")
    augment_widen = param.Number(
        2.0,
        bounds=(1.0, 10.0),
        doc="Physical parameters of the augmentation term are drawn from the family's range "
        "[lo, hi] widened to [lo / w, hi * w]: the physics is known beyond the data, so the "
        "encoder learns it there too (1 = the data's range, as in the paper; 2 halved the "
        "pendulum's out-of-range reconstruction error, 0.82 -> 0.49).",
    )
    augment_dynamics = param.Boolean(
        True,
        doc="Also augment with the model's own dynamics: signals integrated by the physics "
        "plus the learned in-dynamics term (the batch's z_A1) from the drawn parameters, so "
        "the encoder learns to read z_P from signals like the data (damped) beyond its range "
        "(False = the paper's physics-only augmentation).",
    )
    width = param.Integer(64, bounds=(2, 4096), doc="Hidden size of every MLP.")
    depth = param.Integer(2, bounds=(1, 16), doc="Hidden layers of every MLP.")

    def supports(self, problem: Problem) -> bool:
        return bool(problem.physics_latents)

    def latent_names(self, problem: Problem) -> list[str]:
        aux = [f"aux1_{i}" for i in range(self.aux1)] + [f"aux2_{i}" for i in range(self.aux2)]
        return [*problem.physics_latents, *aux]

    def prior(self, problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
        ranges = problem.family_ranges()
        mean, logvar = (
            torch.zeros(len(self.latent_names(problem))),
            torch.zeros(len(self.latent_names(problem))),
        )
        for i, name in enumerate(problem.physics_latents):
            lo, hi = ranges[name]
            mean[i] = 0.5 * (lo + hi)
            logvar[i] = 2.0 * math.log(max(1e-3, 0.866 * (hi - lo)))
        return mean, logvar

    def default_weights(self, problem: Problem) -> dict[str, float]:
        # augmentation 5: on the pendulum (4000 steps) weights 1, 3, 5, 7, 10 gave the
        # out-of-range reconstruction errors 0.46, 0.36, 0.30, 0.26, 0.25 and the in-range
        # |corr(omega)| 0.974, 0.966, 0.959, 0.953, 0.950: 5 keeps both.
        return {"least_action": 1.0, "unmixing": 0.1, "augmentation": 5.0}

    def extra(self, problem: Problem, n: int, generator: torch.Generator) -> Batch:
        # Physical parameters for the augmentation term, uniform on the family's ranges.
        ranges = problem.family_ranges()
        draws = torch.rand(
            n, len(problem.physics_latents), generator=generator, dtype=torch.float64
        )
        widen = self.augment_widen
        lo = torch.tensor(
            [ranges[k][0] / widen for k in problem.physics_latents], dtype=torch.float64
        )
        hi = torch.tensor(
            [ranges[k][1] * widen for k in problem.physics_latents], dtype=torch.float64
        )
        return {"physics_draw": lo + (hi - lo) * draws}

    def build(self, problem: Problem, generator: torch.Generator) -> PhysVAEModel:
        size = math.prod(self.split(problem)["train"]["u"].shape[1:])
        physics = len(problem.physics_latents)
        return PhysVAEModel(
            problem, size, physics, self.aux1, self.aux2, self.width, self.depth, generator
        )

    def term_names(self, problem: Problem) -> list[str]:
        return ["reconstruction", "kl", "least_action", "unmixing", "augmentation"]

    def loss(self, model: PhysVAEModel, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        u = batch["u"]
        mean, logvar = model.encode(u)
        z = mean + (0.5 * logvar).exp() * batch["noise"]
        parts = model.decode_parts(z, u)
        dims = tuple(range(1, u.ndim))
        terms = {
            "reconstruction": ((parts["PAB"] - u).pow(2).sum(dims) / (2 * self.sigma**2)).mean()
        }
        prior_mean, prior_logvar = (t.to(u) for t in self.prior(problem))
        terms["kl"] = gaussian_kl(mean, logvar, prior_mean, prior_logvar).mean()

        def gap(a, b):
            return (parts[a] - parts[b]).pow(2).sum(dims).mean()

        terms["least_action"] = (
            gap("PA", "P") + gap("PB", "P") + gap("PAB", "PA") + gap("PAB", "PB")
        )
        physics = len(problem.physics_latents)
        unmixed = model.unmix(u, mean[:, physics:])
        terms["unmixing"] = (unmixed - parts["P"].detach()).pow(2).sum(dims).mean()
        # Physics-only signals from known parameters, encoded back (no gradient through the
        # simulation: it is data for the encoder).
        draw = batch["physics_draw"]
        with torch.no_grad():
            simulated = [problem.physics_model(draw, u)]
            if self.augment_dynamics and model.in_dynamics is not None:
                simulated.append(model.integrate(torch.cat([draw, z[:, physics:]], 1), u))
        recovered = model.encode(torch.cat(simulated))[0][:, :physics]
        target = draw.repeat(len(simulated), 1)
        terms["augmentation"] = (recovered - target).pow(2).sum(-1).mean()
        return terms
