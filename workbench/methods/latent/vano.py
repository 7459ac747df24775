"""Variational autoencoding neural operator (Seidman, Kissas, Pappas & Perdikaris, "Variational
Autoencoding Neural Operators", ICML 2023).

A VAE whose data are functions rather than vectors. The encoder reads a field on any grid (it is
first interpolated to the training grid) and returns a diagonal Gaussian over ``latent`` dims;
the decoder is a *neural field*: a function of the latent code and a query point ``y``, so a
code decodes to a function that can be evaluated anywhere, at any resolution.

* ``decoder="linear"`` (the paper's linear decoder, DeepONet-like):
  :math:`u(y) = \\sum_k z_k \\phi_k(y) + b(y)`, with the basis :math:`\\phi_k` and the mean
  :math:`b` one MLP of a positional encoding of ``y``. The decoded functions span an affine
  space of dimension ``latent``; with a Gaussian latent they form a Gaussian process.
* ``decoder="nonlinear"``: one MLP of ``concat(z, PE(y))`` (the paper's concatenation decoder).

The positional encoding makes periodicity exact: along a periodic dim the coordinate, scaled to
``s`` in ``[0, 1)`` of the period, enters only through :math:`\\sin(2\\pi k s)`,
:math:`\\cos(2\\pi k s)`, ``k = 1 .. modes``.

The loss is the functional ELBO of the paper: the likelihood's misfit is the squared
:math:`L^2` norm over the domain (a grid mean: equal quadrature weights, the domain's measure
normalised to 1), so the ``reconstruction`` term does not grow with the resolution as a sum over
grid points would.

Two changes to the paper's MLP encoder, both for training on a CPU budget (see
:meth:`VANOModel.encode`): a linear path from the field to the latent mean, and a smooth cap on
the log-variance. The data are standardised (one mean and standard deviation from the training
fields), so the same knobs suit ``u0`` (rms 0.6) and ``darcy2d``'s ``a`` (values 3 and 12).
"""

from __future__ import annotations

import math

import numpy as np
import param
import torch
import torch.nn.functional as F
from torch import nn

from workbench.methods.base import Batch
from workbench.methods.latent.base import LatentModel, gaussian_kl
from workbench.nn.grids import grid_coordinates, resample
from workbench.nn.mlp import MLP, glorot
from workbench.problems.base import Problem

#: Smooth upper bound of the encoder's log-variance (a posterior standard deviation of at most
#: e = 2.7 prior standard deviations).
LOGVAR_CAP = 2.0

#: Default weight of the ``kl`` term (see :class:`VANO`).
KL_WEIGHT = 1e-3


class VANOModel(nn.Module):
    """MLP encoder from a field on the training grid, neural-field decoder at any points.

    Parameters
    ----------
    shape : tuple of int
        The training grid (points per dim): fields on other grids are interpolated to it before
        they are encoded.
    periodic : tuple of bool
        Per dim, whether the family's grid is periodic (its end node is not stored).
    bounds : sequence of (float, float)
        Per dim, the domain ``(lo, hi)`` the family's coordinates span.
    latent, width, depth : int
        Latent dims, and hidden size and layers of the encoder and decoder MLPs (the encoder
        also has a linear path from its input to its output, see :meth:`encode`).
    modes : int
        Frequencies of the positional encoding per dim.
    decoder : {"linear", "nonlinear"}
        ``u(y) = z . phi(y) + b(y)``, or an MLP of ``concat(z, PE(y))``.
    generator : torch.Generator
        Source of the initial weights.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        periodic: tuple[bool, ...],
        bounds,
        latent: int,
        width: int,
        depth: int,
        modes: int,
        decoder: str,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        if decoder not in ("linear", "nonlinear"):
            raise ValueError(f"decoder must be 'linear' or 'nonlinear', got {decoder!r}")
        self.shape, self.periodic = tuple(shape), tuple(periodic)
        self.latent, self.modes, self.kind = latent, modes, decoder
        # Buffers: the domain and the data's scaling travel with the weights (safetensors).
        self.register_buffer("lower", torch.tensor([float(lo) for lo, _ in bounds]))
        self.register_buffer("upper", torch.tensor([float(hi) for _, hi in bounds]))
        self.register_buffer("offset", torch.tensor(0.0))
        self.register_buffer("scale", torch.tensor(1.0))
        # A non-periodic dim also gets its raw coordinate, so that a trend is one weight away.
        features = sum(2 * modes + (0 if wraps else 1) for wraps in self.periodic)
        size = math.prod(self.shape)
        self.encoder = MLP(size, 2 * latent, width, depth, "gelu", generator)
        # Why a linear path: see encode().
        self.skip = glorot(nn.Linear(size, latent), generator)
        if decoder == "linear":
            # latent basis functions and the mean function b(y), from one trunk.
            self.decoder = MLP(features, latent + 1, width, depth, "gelu", generator)
        else:
            self.decoder = MLP(latent + features, 1, width, depth, "gelu", generator)

    def standardise(self, data: np.ndarray) -> None:
        """Set the data's scaling (mean and standard deviation) from training fields."""
        with torch.no_grad():
            self.offset.fill_(float(data.mean()))
            self.scale.fill_(float(data.std()) or 1.0)

    # --- encoder -------------------------------------------------------------------------
    def encode(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance ``(B, latent)`` of the latent Gaussian of fields ``u``
        ``(B, *grid)`` on any grid of the family.

        The field is standardised, interpolated to the training grid and read by the MLP plus
        a linear layer. For a Gaussian random field the best encoder of a linear decoder is a
        linear projection (onto principal components), and its small-variance directions are
        the ones a deep GELU MLP learns slowest (the field's covariance spans decades): on
        ``burgers1d``'s ``u0`` the linear path lowered the test error after 4000 steps from
        7.3% to 4.2% (lr 3e-3) and from 11% to 4.7% (lr 1e-2).
        """
        at_sensors = resample((u - self.offset) / self.scale, self.shape, self.periodic)
        flat = at_sensors.reshape(len(u), -1)
        mean, raw = self.encoder(flat).chunk(2, dim=-1)
        # A smooth cap on the log-variance: a posterior far wider than the prior is never
        # useful, and without the cap one wide posterior feeds huge noise into the decoder, whose
        # gradients widen it further (on burgers1d's u0 with a KL weight of 0.02, a run blew up
        # within 20 steps, at step 7000 of 20000).
        logvar = LOGVAR_CAP - F.softplus(LOGVAR_CAP - raw)
        return mean + self.skip(flat), logvar

    # --- decoder -------------------------------------------------------------------------
    def grid_points(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """The nodes ``(N, D)`` (C order) of the family's grid with ``shape`` points per dim,
        in the domain's coordinates: the dataset's coordinates at that resolution."""
        unit = grid_coordinates(tuple(shape), self.periodic, like)
        mesh = torch.meshgrid(*unit, indexing="ij")
        s = torch.stack([m.reshape(-1) for m in mesh], dim=1)
        lower, upper = self.lower.to(like), self.upper.to(like)
        return lower + (upper - lower) * s

    def encoding(self, points: torch.Tensor) -> torch.Tensor:
        """Positional encoding ``(N, F)`` of points ``(N, D)`` in the domain's coordinates.

        Periodic dims: ``sin, cos(2 pi k s)`` with ``s`` wrapped into ``[0, 1)`` of the period,
        so a point and its periodic image get the same features bit for bit. Other dims:
        ``s`` in ``[0, 1]``, the same features at half the frequency (a period of twice the
        domain, which imposes nothing at the ends), and ``2 s - 1``.
        """
        s = (points - self.lower.to(points)) / (self.upper - self.lower).to(points)
        k = torch.arange(1, self.modes + 1, dtype=points.dtype, device=points.device)
        parts = []
        for d, wraps in enumerate(self.periodic):
            sd = torch.remainder(s[:, d : d + 1], 1.0) if wraps else s[:, d : d + 1]
            angle = (2.0 if wraps else 1.0) * math.pi * k * sd
            parts += [torch.sin(angle), torch.cos(angle)]
            if not wraps:
                parts.append(2.0 * sd - 1.0)
        return torch.cat(parts, dim=1)

    def decode_at(self, z: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """The functions of latents ``z`` ``(B, latent)`` at points ``(N, D)`` in the domain's
        coordinates, shape ``(B, N)``."""
        features = self.encoding(points.to(z))
        if self.kind == "linear":
            trunk = self.decoder(features)
            values = z @ trunk[:, : self.latent].T + trunk[:, self.latent]
        else:
            batch, count = len(z), len(features)
            inputs = torch.cat(
                [
                    z[:, None, :].expand(batch, count, self.latent),
                    features[None].expand(batch, count, features.shape[1]),
                ],
                dim=-1,
            )
            values = self.decoder(inputs).squeeze(-1)
        return values * self.scale + self.offset

    def decode(self, z: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """Fields ``(B, *grid)`` from latents ``z`` on the grid of ``u`` ``(B, *grid)`` (only
        its shape is used; None = the training grid)."""
        shape = self.shape if u is None else tuple(u.shape[1:])
        values = self.decode_at(z, self.grid_points(shape, z))
        return values.reshape(len(z), *shape)


def functional_elbo(
    model: VANOModel,
    u: torch.Tensor,
    noise: torch.Tensor,
    sigma: float,
    prior: tuple[torch.Tensor, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """The negative ELBO's terms for fields ``u`` ``(B, *grid)``, averaged over the batch.

    ``reconstruction`` is :math:`\\|u - D(z)\\|^2_{L^2} / (2 \\sigma^2)`, the norm a grid mean
    (the domain's measure normalised to 1), with one reparameterised draw
    ``z = mean + std * noise``; ``kl`` is the encoder's Gaussian from the prior.
    """
    mean, logvar = model.encode(u)
    z = mean + (0.5 * logvar).exp() * noise
    misfit = (model.decode(z, u) - u).pow(2).mean(tuple(range(1, u.ndim)))
    prior_mean, prior_logvar = (t.to(u) for t in prior)
    kl = gaussian_kl(mean, logvar, prior_mean, prior_logvar)
    return {"reconstruction": (misfit / (2 * sigma**2)).mean(), "kl": kl.mean()}


class VANO(LatentModel):
    """Variational autoencoding neural operator: a latent model of a family's functions.

    The data, likelihood and evaluation knobs are those of every generative method (see
    :class:`~workbench.methods.base.LatentModel`), except that the reconstruction term
    averages the squared misfit over the grid (an :math:`L^2` norm of the function) instead of
    summing it, and that the default field is the family's *input* functions (on ``burgers1d``
    the periodic Gaussian random field ``u0``, the paper's first experiment); parameter
    families (``pendulum``) need ``field="solution"``. Because the decoder is a neural field,
    :meth:`reconstructions` works on datasets of any resolution: sample ``i`` is the same
    function at every resolution, so the error of a finer grid measures how well the decoded
    function holds between the training nodes.

    Defaults, measured on ``burgers1d``'s ``u0`` (1000 training and 100 test samples at 128
    points, batches of 32, Adam from lr 3e-3 decaying exponentially to 3e-4, one CPU thread):

    * ``decoder="linear"``, ``latent=32``, ``modes=16``: a test relative L2 error of 4.2% after
      4000 steps (16 s), 4.0% after 20000 (80 s), 3.7% after 40000 (155 s), the same at 256
      points as at 128. The best affine space of 32 dims (the data's principal components)
      leaves 1.8%, of 16 dims 4.8%: the field's spectrum decays like ``k^-4``. After 4000
      steps 16 latents reach 5.4%, 64 reach 4.5%; ``modes`` 4, 8, 32 reach 6.1%, 4.7%, 4.1%
      (but 4.8% at 256 points: too fine an encoding wiggles between the nodes).
    * ``decoder="nonlinear"``: 4.8% after 8000 steps, which take two to three times as long
      (160-215 s) as 20000 steps of the linear decoder; so the linear decoder is the default.

    The KL weight (``default_weights``: ``kl`` = 1e-3, with ``sigma=0.1``) trades
    reconstructions for prior samples. The paper's :math:`\\beta = 5 \\cdot 10^{-6}` against a
    misfit of :math:`\\tfrac12` the relative squared error over 128 points is a weight of ~0.02
    against this reconstruction term on ``u0`` (mean square 0.36). After 20000 steps:

    ======== ============== ======================================= ===========================
    ``kl``   test rel. L2   prior samples' covariance error (Frob.) their energy / the data's
    ======== ============== ======================================= ===========================
    1e-3     4.0%           0.54                                    0.51
    3e-3     5.2%           0.34                                    0.69
    0.02     9.7%           0.13                                    0.88
    ======== ============== ======================================= ===========================

    The default favours reconstructions (the latent dims whose variance is below the noise the
    weight implies are switched off, so a larger weight keeps fewer); for sampling, set
    ``weights={"kl": 0.02}`` (or anneal it with the ``kl_annealing`` regularizer).
    """

    name = param.String("vano", constant=True, doc="Registry name of this method.")

    field = param.Selector(
        objects=["solution", "input"],
        default="input",
        doc="Which of the family's fields to model: 'input' (the input function, e.g. "
        "burgers1d's random initial condition u0; function families only) or 'solution' (u, "
        "the only choice on parameter families such as pendulum).",
    )
    latent = param.Integer(32, bounds=(1, 256), doc="Latent dims.")
    width = param.Integer(128, bounds=(2, 4096), doc="Hidden size of encoder and decoder.")
    depth = param.Integer(3, bounds=(1, 16), doc="Hidden layers of encoder and decoder.")
    modes = param.Integer(
        16,
        bounds=(1, 128),
        doc="Frequencies k = 1..modes of the decoder's positional encoding per dim (sin and "
        "cos of 2 pi k s along a periodic dim, of pi k s along another).",
    )
    decoder = param.Selector(
        objects=["linear", "nonlinear"],
        default="linear",
        doc="'linear': u(y) = sum_k z_k phi_k(y) + b(y) (the paper's linear decoder); "
        "'nonlinear': an MLP of the latent code and the encoded query point.",
    )

    def latent_names(self, problem: Problem) -> list[str]:
        return [f"z{i}" for i in range(self.latent)]

    def default_weights(self, problem: Problem) -> dict[str, float]:
        return {"kl": KL_WEIGHT}

    def build(self, problem: Problem, generator: torch.Generator) -> VANOModel:
        data = self.split(problem)["train"][self.field_name(problem)].values
        model = VANOModel(
            data.shape[1:],
            problem.family_periodic,
            [problem.domain[d] for d in problem.family_dims],
            self.latent,
            self.width,
            self.depth,
            self.modes,
            self.decoder,
            generator,
        )
        model.standardise(data)
        return model

    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        # A helper, not super(): the loss runs on a plain-Python view of the method.
        return functional_elbo(model, batch["u"], batch["noise"], self.sigma, self.prior(problem))
