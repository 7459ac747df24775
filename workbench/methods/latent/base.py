"""The latent-model family: variational autoencoders of a family's fields, whose latents can
be traversed, sampled and compared with the family's parameters (VAE, PhysVAE, VANO).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator

import numpy as np
import param
import torch
import xarray as xr
from torch import nn

from workbench.evaluation import FIELD_ATTRS
from workbench.methods.base import Batch
from workbench.methods.family import GALLERY_SIZE, TRAVERSAL_STEPS, FamilyMethod, relative_errors
from workbench.problems.base import Problem


def gaussian_kl(
    mean: torch.Tensor, logvar: torch.Tensor, prior_mean: torch.Tensor, prior_logvar: torch.Tensor
) -> torch.Tensor:
    """KL divergence of diagonal Gaussians ``q = N(mean, e^logvar)`` from ``p``, per sample
    (summed over the last dim), shape ``(B,)``."""
    ratio = (logvar - prior_logvar).exp()
    shift = (mean - prior_mean).pow(2) / prior_logvar.exp()
    return 0.5 * (ratio + shift - 1.0 - (logvar - prior_logvar)).sum(-1)


class LatentModel(FamilyMethod):
    """Abstract base of latent generative models (variational autoencoders) of a family's data.

    The data are the family's fields: its solutions ``u``, or with ``field="input"`` its input
    functions (the Gaussian random fields of ``burgers1d``'s ``u0``, ``darcy2d``'s ``a``). For
    a parameter family such as ``pendulum`` the true parameters of each sample are kept to
    check what the latent space learned. The model built by :meth:`build` has
    ``encode(u) -> (mean, logvar)`` of the latent Gaussian and ``decode(z, u) -> u_hat``; ``u``
    conditions the decoder where a method needs it (the initial angle of a physics-integrated
    pendulum, or the grid to decode on) and is ignored otherwise.

    * Loss: the negative ELBO, as two terms: ``reconstruction``, the Gaussian negative log
      likelihood :math:`\\sum_g (u - \\hat u)^2 / (2\\sigma^2)` per sample, and ``kl``, the KL
      divergence of the encoder's Gaussian from the prior; both averaged over the batch. The
      latent draw's noise comes in the batch (seeded), so training is reproducible.
    * ``l2re``: the mean relative L2 error of the test samples' reconstructions (decoded from
      the encoder's mean).
    * The Run gets ``/latent`` (the test samples' latent means and standard deviations, their
      true parameters, and a traversal: each latent dim swept over the test encodings' spread,
      decoded from test sample 0) and ``/samples`` (fields decoded from prior draws).
    """

    sigma = param.Number(
        0.1,
        bounds=(1e-4, 10.0),
        doc="Standard deviation of the Gaussian likelihood (the data's noise level): smaller "
        "weighs reconstruction more against the KL term.",
    )

    field = param.Selector(
        objects=["solution", "input"],
        default="solution",
        doc="Which of the family's fields to model: 'solution' (u) or 'input' (the input "
        "function, e.g. burgers1d's random initial condition u0; function families only).",
    )

    def supports(self, problem: Problem) -> bool:
        return problem.family_input is not None or bool(problem.family_parameters)

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.field == "input" and problem.family_input is None:
            raise ValueError(
                f"field='input': problem {problem.name!r} is a parameter family without an "
                "input function; use field='solution'"
            )

    def lipschitz_decoder(self) -> bool:
        """Whether the decoder is 1-Lipschitz in the latents (no by default)."""
        return False

    def field_name(self, problem: Problem) -> str:
        """The dataset variable modelled: ``u`` or the family's input (``u0``, ``a``, ``f``)."""
        return "u" if self.field == "solution" else problem.family_input

    @abc.abstractmethod
    def latent_names(self, problem: Problem) -> list[str]:
        """Names of the latent dims, in order (e.g. ``["omega", "aux_0"]``)."""

    def prior(self, problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of the latent prior, each ``(latent,)``: standard normal."""
        size = len(self.latent_names(problem))
        return torch.zeros(size), torch.zeros(size)

    def extra(self, problem: Problem, n: int, generator: torch.Generator) -> Batch:
        """Further random draws a method's loss needs per batch of ``n`` (none by default)."""
        return {}

    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        data = torch.as_tensor(self.split(problem)["train"][self.field_name(problem)].values)
        size = len(self.latent_names(problem))
        for chosen in self.epochs(generator):
            noise = torch.randn(len(chosen), size, generator=generator, dtype=data.dtype)
            yield {"u": data[chosen], "noise": noise, **self.extra(problem, len(chosen), generator)}

    # --- loss ----------------------------------------------------------------------------
    def term_names(self, problem: Problem) -> list[str]:
        return ["reconstruction", "kl"]

    def elbo_terms(
        self, model: nn.Module, problem: Problem, batch: Batch
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """The two ELBO terms, plus the latent draw ``z`` and the reconstruction (for methods
        that add terms of their own)."""
        u = batch["u"]
        mean, logvar = model.encode(u)
        z = mean + (0.5 * logvar).exp() * batch["noise"]
        reconstruction = model.decode(z, u)
        dims = tuple(range(1, u.ndim))
        nll = (reconstruction - u).pow(2).sum(dims) / (2 * self.sigma**2)
        prior_mean, prior_logvar = (t.to(u) for t in self.prior(problem))
        kl = gaussian_kl(mean, logvar, prior_mean, prior_logvar)
        return {"reconstruction": nll.mean(), "kl": kl.mean()}, z, reconstruction

    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        return self.elbo_terms(model, problem, batch)[0]

    # --- evaluation ----------------------------------------------------------------------
    def _run(self, model: nn.Module, fn, *arrays: np.ndarray, chunk: int = 256) -> np.ndarray:
        """``fn`` over numpy arrays in chunks, without gradients, back as float64 numpy."""
        param0 = next(model.parameters())
        out = []
        with torch.no_grad():
            for start in range(0, len(arrays[0]), chunk):
                parts = [
                    torch.as_tensor(a[start : start + chunk]).to(param0.device, param0.dtype)
                    for a in arrays
                ]
                out.append(fn(*parts).cpu().double())
        return torch.cat(out).numpy()

    def encode(self, model: nn.Module, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent means and standard deviations ``(n, latent)`` of fields ``u``."""
        mean = self._run(model, lambda x: model.encode(x)[0], u)
        std = self._run(model, lambda x: (0.5 * model.encode(x)[1]).exp(), u)
        return mean, std

    def decode(self, model: nn.Module, z: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Fields decoded from latents ``z`` ``(n, latent)``, conditioned on fields ``u``."""
        return self._run(model, model.decode, z, u)

    def reconstructions(self, model: nn.Module, problem: Problem, data: xr.Dataset) -> xr.Dataset:
        """Data, reconstructions (from the latent means), errors and per-sample ``rel_l2``."""
        u = data[self.field_name(problem)].values
        mean, _ = self.encode(model, u)
        recon = self.decode(model, mean, u)
        dims = ("sample", *problem.family_dims)
        rel = relative_errors(torch.as_tensor(recon), torch.as_tensor(u)).numpy()
        ds = xr.Dataset(
            {
                "u": (dims, recon, {"long_name": "reconstruction u", "units": "1"}),
                "u_ref": (dims, u, {"long_name": "data u", "units": "1"}),
                "error": (dims, recon - u, FIELD_ATTRS["error"]),
                "rel_l2": ("sample", rel, {"long_name": "relative L2 error", "units": "1"}),
            },
            coords=data[self.field_name(problem)].coords,
        )
        ds.attrs["l2re"] = float(rel.mean())
        return ds

    def error(self, model: nn.Module, problem: Problem) -> float:
        return self.reconstructions(model, problem, self.split(problem)["test"]).attrs["l2re"]

    def evaluate(self, model, problem, size=None):
        """Reconstructions of the first test samples (attr ``l2re`` over the whole test set)
        and the latent traversal (``traversal``, ``traversal_value``), for live views."""
        test = self.reconstructions(model, problem, self.split(problem)["test"])
        gallery = test.isel(sample=slice(0, GALLERY_SIZE))
        mean, _ = self.encode(model, self.split(problem)["test"][self.field_name(problem)].values)
        gallery = gallery.merge(self._traversals(model, problem, mean))
        gallery.attrs = dict(test.attrs)
        return gallery

    def traverse(
        self,
        model: nn.Module,
        problem: Problem,
        dim: str,
        values,
        base: int = 0,
    ) -> xr.Dataset:
        """Decode test sample ``base`` with latent ``dim`` set to each of ``values`` (the other
        dims at the sample's latent mean): ``u`` on (``value``, *grid*)."""
        names = self.latent_names(problem)
        if dim not in names:
            raise ValueError(f"dim must be one of {names}, got {dim!r}")
        test = self.split(problem)["test"]
        if not 0 <= base < test.sizes["sample"]:
            raise ValueError(f"base must be a test sample in [0, {test.sizes['sample'] - 1}]")
        u = test[self.field_name(problem)].values[base : base + 1]
        mean, _ = self.encode(model, u)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        z = np.repeat(mean, len(values), axis=0)
        z[:, names.index(dim)] = values
        fields = self.decode(model, z, np.repeat(u, len(values), axis=0))
        coords = {d: test[d] for d in problem.family_dims}
        coords["value"] = ("value", values, {"long_name": f"latent {dim}"})
        return xr.Dataset(
            {"u": (("value", *problem.family_dims), fields, {"long_name": "decoded u"})},
            coords=coords,
            attrs={"latent": dim, "base_sample": int(base)},
        )

    def sample(self, model: nn.Module, problem: Problem, n: int, seed: int = 0) -> xr.Dataset:
        """``n`` fields decoded from prior draws (seeded), conditioned on the test samples in
        turn: ``u`` on (``sample``, *grid*) and the draws ``z`` on (``sample``, ``latent``)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        names = self.latent_names(problem)
        generator = torch.Generator().manual_seed(seed)
        prior_mean, prior_logvar = self.prior(problem)
        noise = torch.randn(n, len(names), generator=generator, dtype=torch.float64)
        z = (prior_mean.double() + (0.5 * prior_logvar.double()).exp() * noise).numpy()
        test = self.split(problem)["test"][self.field_name(problem)].values
        condition = test[np.arange(n) % len(test)]
        fields = self.decode(model, z, condition)
        dims = ("sample", *problem.family_dims)
        grid = self.split(problem)["test"]
        coords = {d: grid[d] for d in problem.family_dims}
        coords["latent"] = ("latent", names)
        return xr.Dataset(
            {
                "u": (dims, fields, {"long_name": "sample u from the prior"}),
                "z": (("sample", "latent"), z, {"long_name": "latent draw"}),
            },
            coords=coords,
            attrs={"seed": int(seed)},
        )

    def _traversals(self, model: nn.Module, problem: Problem, mean: np.ndarray) -> xr.Dataset:
        """Each latent dim swept over its test encodings' spread (mean +- 2 std across the test
        samples ``mean``), decoded from test sample 0."""
        names = self.latent_names(problem)
        offsets = np.linspace(-2.0, 2.0, TRAVERSAL_STEPS)
        values = mean.mean(0)[:, None] + mean.std(0)[:, None] * offsets
        sweeps = [
            self.traverse(model, problem, n, values[i])["u"].values for i, n in enumerate(names)
        ]
        test = self.split(problem)["test"]
        ds = xr.Dataset(
            {
                "traversal": (
                    ("latent", "offset", *problem.family_dims),
                    np.stack(sweeps),
                    {"long_name": "decoded u with one latent dim swept (test sample 0)"},
                ),
                "traversal_value": (("latent", "offset"), values, {"long_name": "latent value"}),
            },
            coords={
                "latent": names,
                "offset": (
                    "offset",
                    offsets,
                    {"long_name": "offset in test-encoding standard deviations"},
                ),
            },
        )
        return ds.assign_coords({d: test[d] for d in problem.family_dims})

    def out_of_range(self, problem: Problem) -> tuple[str, Problem] | None:
        """The family beyond its training range, for extrapolation: the same problem with its
        first physical latent (or first family parameter) drawn from ``[hi, 1.5 hi]`` instead
        of ``[lo, hi]``, as ``(parameter, problem)``; None for a function family, or where the
        problem's ``<name>_max`` cannot reach ``1.5 hi``."""
        if not problem.family_parameters:
            return None
        name = (problem.physics_latents or problem.family_parameters)[0]
        lo, hi = problem.family_ranges()[name]
        knobs = problem.param.values()
        if f"{name}_min" not in knobs or hi <= 0:
            return None
        knobs.pop("name", None)
        try:
            return name, type(problem)(**{**knobs, f"{name}_min": hi, f"{name}_max": 1.5 * hi})
        except ValueError:
            return None

    def latent_space(self, model: nn.Module, problem: Problem) -> xr.Dataset:
        """The ``/latent`` group: test encodings, true parameters and their training ranges
        (attrs ``range_<name>``), a traversal per dim and, for a parameter family, the
        encodings and reconstructions of data from outside the range (``ood_*`` on dim
        ``ood_sample``; see :meth:`out_of_range`)."""
        test = self.split(problem)["test"]
        names = self.latent_names(problem)
        field = self.field_name(problem)
        mean, std = self.encode(model, test[field].values)
        recon = self.reconstructions(model, problem, test)
        ds = xr.Dataset(
            {
                "z_mean": (("sample", "latent"), mean, {"long_name": "latent mean"}),
                "z_std": (("sample", "latent"), std, {"long_name": "latent standard deviation"}),
                "rel_l2": ("sample", recon["rel_l2"].values, dict(recon["rel_l2"].attrs)),
            },
            coords={"sample": test["sample"].values, "latent": names},
        )
        for name in problem.family_parameters:
            ds[name] = ("sample", test[name].values, dict(test[name].attrs))
            ds.attrs[f"range_{name}"] = list(problem.family_ranges()[name])
        ds = ds.merge(self._traversals(model, problem, mean))
        beyond = self.out_of_range(problem)
        if beyond is not None:
            name, outside = beyond
            data = outside.dataset(
                self.n_test, self.data_resolution(problem), self.data_seed + 1, progress=False
            )
            far = self.reconstructions(model, outside, data).rename(sample="ood_sample")
            ds["ood_z_mean"] = (
                ("ood_sample", "latent"),
                self.encode(model, data[field].values)[0],
                {"long_name": "latent mean (out of range)"},
            )
            for key, new in [("u_ref", "ood_u"), ("u", "ood_recon"), ("rel_l2", "ood_rel_l2")]:
                ds[new] = far[key].drop_vars("ood_sample", errors="ignore")
            for p in problem.family_parameters:
                ds[f"ood_{p}"] = ("ood_sample", data[p].values, dict(data[p].attrs))
            ds.attrs["ood_parameter"] = name
            ds.attrs["ood_range"] = list(outside.family_ranges()[name])
            ds.attrs["ood_l2re"] = float(far["rel_l2"].mean())
        ds.attrs["l2re"] = recon.attrs["l2re"]
        return ds

    def results(self, model: nn.Module, problem: Problem) -> dict[str, xr.Dataset]:
        return {
            "latent": self.latent_space(model, problem),
            "samples": self.sample(model, problem, 16),
        }
