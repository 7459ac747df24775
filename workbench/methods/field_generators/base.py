"""The field-generator family: generative models of whole fields sampled from noise by an ODE,
with physics and observation guidance (flow matching, PBFM, diffusion).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

import numpy as np
import param
import torch
import xarray as xr
from torch import nn

from workbench.evaluation import ENERGY_DISTANCE, Metric, energy_distance, relative_l2
from workbench.methods.base import Batch
from workbench.methods.family import GALLERY_SIZE, FamilyMethod, require_function_family
from workbench.nn.unet import TimeUNet
from workbench.problems.base import Problem


class FieldModel(nn.Module):
    """A time-conditioned network on standardised joint fields, with the data's scaling.

    The fields are the channels the problem names (:meth:`~workbench.problems.base.Problem.
    generator_fields`: by default the family's input function and solution) stacked,
    ``(B, C, *grid)``; each channel is standardised with the training data's mean and standard
    deviation (buffers, saved with the weights). ``residual_scale`` is the unit in which
    physics terms and guidance measure residuals (:meth:`~workbench.problems.base.Problem.
    generator_residual_scale`: by default the root mean square PDE residual of a zero
    solution, the size of the forcing), so that their weights carry over between problems.

    Parameters
    ----------
    network : torch.nn.Module
        ``network(x, level) -> (B, C, *grid)`` (see :class:`~workbench.nn.unet.TimeUNet`).
    channels : int
        ``C``.
    """

    def __init__(self, network: nn.Module, channels: int = 2):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))
        self.register_buffer("residual_scale", torch.tensor(1.0))

    def forward(self, x: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        """The network's output for standardised fields ``x`` at noise levels ``level`` ``(B,)``."""
        return self.network(x, level)

    def _shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (1, -1, *([1] * (x.dim() - 2)))

    def standardise(self, fields: torch.Tensor) -> torch.Tensor:
        """Physical fields ``(B, C, *grid)`` to the network's units."""
        return (fields - self.mean.view(self._shape(fields))) / self.std.view(self._shape(fields))

    def physical(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised fields back to physical units."""
        return x * self.std.view(self._shape(x)) + self.mean.view(self._shape(x))


def interval_coverage(samples: np.ndarray, truth: np.ndarray, level: float = 0.9) -> float:
    """Fraction of ``truth``'s values inside the samples' central ``level`` interval (per point,
    between the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles over dim 0)."""
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return float(np.mean((truth >= lo) & (truth <= hi)))


class FieldGenerator(FamilyMethod):
    """Abstract base of generative models of whole fields, sampled from noise by an ODE:
    flow matching and diffusion.

    The data are the fields the problem names for generators, stacked as channels
    (:meth:`~workbench.problems.base.Problem.generator_fields`), standardised per channel: by
    default a function family's input and solution (``darcy2d``: ``(a, u)``), so that one
    model of the joint distribution answers forward problems (given ``a``, samples of ``u``),
    inverse problems (given a few values of ``u``, samples of ``a`` and ``u``) and anything
    between; ``kolmogorov2d``: the velocity ``(vel_x, vel_y)`` of its output state, whose
    residual is its divergence.

    Subclasses say how noise levels are drawn in training (:meth:`draw_levels`), which levels
    the sampler visits (:meth:`schedule`, from pure noise to data), where it starts
    (:meth:`start`), and what the network predicts (:meth:`predict`: the ODE's velocity and
    the clean-field estimate). Sampling, guidance and evaluation live here:

    * :meth:`generate`: Euler or Heun integration of the learned ODE, optionally guided
      (DiffusionPDE, Huang et al. 2024): after every step, ``x`` moves against the gradient of
      the observation misfit of the clean estimate and, late in sampling, of its PDE residual.
    * :meth:`samples`: unconditional samples with each one's residual field; the mean
      absolute residual (``residual_mae``, physical units) and the energy distance to the test
      set (``distance``, on standardised fields) in the attrs: the two axes of the
      physics-versus-distribution trade-off.
    * :meth:`posterior`: an inverse (or forward) problem on one test sample: posterior samples
      given a random ``observed_fraction`` of the observed field, their mean, standard
      deviation, relative L2 error of the mean and the coverage of the 90% interval.
    * the headline :attr:`metric` (:data:`~workbench.evaluation.ENERGY_DISTANCE`, stored as
      ``l2re``): the normalised energy distance of ``n_samples`` generated fields from the
      test set, in ``[0, 1]``, 0 for identical distributions.
    * The Run gets ``/samples`` (:meth:`samples`) and ``/posterior`` (:meth:`posterior` on test
      sample 0).
    """

    knob_groups = {
        **FamilyMethod.knob_groups,
        "Sampling (generation)": ("sample_steps", "heun", "n_samples"),
        "Inverse problem (posterior)": (
            "observed",
            "observed_fraction",
            "guided_steps",
            "guidance_obs",
            "guidance_pde",
            "guidance_switch",
            "posterior_samples",
        ),
    }

    width = param.Integer(16, bounds=(4, 512), doc="Channels of the U-Net's first level.")
    levels = param.Integer(
        3, bounds=(1, 6), doc="Resolution levels of the U-Net (each halves the grid)."
    )
    sample_steps = param.Integer(
        20, bounds=(1, 10_000), doc="Integration steps of the sampler (from noise to data)."
    )
    heun = param.Boolean(
        False, doc="Heun's second-order steps (two network calls each) instead of Euler's."
    )
    n_samples = param.Integer(
        64,
        bounds=(2, 100_000),
        doc="Generated samples for the evaluation metrics and the Run's /samples.",
    )
    observed = param.Selector(
        objects=["solution", "input", "both"],
        default="solution",
        doc="Which field the Run's inverse problem observes sparsely: the solution u (infer "
        "the input, e.g. darcy2d's a), the input (a forward problem), or both. With other "
        "channels (kolmogorov2d's vel_x, vel_y): the last channel, the first, or all.",
    )
    observed_fraction = param.Number(
        0.03,
        bounds=(0.0, 1.0),
        inclusive_bounds=(False, True),
        doc="Fraction of grid points observed in the Run's inverse problem (DiffusionPDE: 3%).",
    )
    guided_steps = param.Integer(
        100,
        bounds=(1, 100_000),
        doc="Sampler steps of guided sampling (posteriors): guidance acts a little per step, so "
        "it needs more steps than plain sampling (DiffusionPDE: 2000).",
    )
    guidance_obs = param.Number(
        10.0,
        bounds=(0.0, 1e6),
        doc="Observation guidance: step size against the gradient of each sample's misfit "
        "norm ||M (x_hat - y)|| (standardised units).",
    )
    guidance_pde = param.Number(
        0.1,
        bounds=(0.0, 1e6),
        doc="PDE guidance: step size against the gradient of each sample's residual norm "
        "(in units of the forcing), applied late in sampling.",
    )
    guidance_switch = param.Number(
        0.8,
        bounds=(0.0, 1.0),
        doc="Fraction of the sampling steps after which PDE guidance starts and observation "
        "guidance drops to a tenth (DiffusionPDE: 0.8).",
    )
    posterior_samples = param.Integer(
        16, bounds=(2, 10_000), doc="Posterior samples of the Run's inverse problem."
    )

    #: Seed of the fixed noise behind live snapshots and the headline metric, so that the
    #: gallery shows the same draws becoming fields as training goes on.
    EVAL_SEED: ClassVar[int] = 12345
    #: A generated field has no truth to compare with: the metric compares distributions.
    metric: ClassVar[Metric] = ENERGY_DISTANCE

    def supports(self, problem: Problem) -> bool:
        return problem.family_input is not None

    def check(self, problem: Problem) -> None:
        require_function_family(self, problem, "models the joint (input, solution) fields of")
        super().check(problem)
        if len(problem.family_dims) > 2:
            raise ValueError(
                f"method {self.name!r} works on 1D and 2D grids; {problem.name!r} has dims "
                f"{problem.family_dims}"
            )
        if self.data is not None:
            names = self.channels(problem)
            missing = [c for c in names if c not in self.own_data(problem).data_vars]
            if missing:
                raise ValueError(
                    f"data: method {self.name!r} models the fields {names} of "
                    f"{problem.name!r}, and the dataset lacks {missing}"
                )
        if self.n_test < 2:
            # The metric, an energy distance between generated and test fields, needs two
            # samples on each side; found at the end of training otherwise.
            raise ValueError(
                f"n_test must be >= 2 for method {self.name!r} (its metric compares the test "
                f"set's distribution with generated samples), got {self.n_test}"
            )

    # --- data ----------------------------------------------------------------------------
    def channels(self, problem: Problem) -> list[str]:
        """The names of the channels (:meth:`~workbench.problems.base.Problem.generator_fields`:
        by default the family's input and ``u``)."""
        return list(problem.generator_fields())

    def stacked(self, problem: Problem, data: xr.Dataset) -> np.ndarray:
        """The dataset's fields as ``(n, C, *grid)`` float64, physical units."""
        names = self.channels(problem)
        missing = [c for c in names if c not in data.data_vars]
        if missing:
            raise ValueError(
                f"method {self.name!r} models the fields {names} of {problem.name!r}; the data "
                f"lack {missing} (they have {sorted(map(str, data.data_vars))})"
            )
        return np.stack([data[c].values for c in names], axis=1)

    def standardised(self, model: FieldModel, problem: Problem, data: xr.Dataset) -> np.ndarray:
        """The dataset's fields in the model's units, ``(n, C, *grid)`` float64 numpy (what
        distances to generated fields are measured on)."""
        with torch.no_grad():
            fields = torch.as_tensor(self.stacked(problem, data))
            return model.standardise(fields.to(model.mean)).cpu().double().numpy()

    def grid_shape(self, problem: Problem) -> tuple[int, ...]:
        """The shape of one field of the data's grid."""
        return tuple(self.split(problem)["test"][problem.family_input].shape[1:])

    def build(self, problem: Problem, generator: torch.Generator) -> FieldModel:
        channels = len(self.channels(problem))
        network = TimeUNet(
            channels,
            len(problem.family_dims),
            self.width,
            self.levels,
            all(problem.family_periodic),
            generator,
        )
        model = FieldModel(network, channels)
        fields = torch.as_tensor(self.stacked(problem, self.split(problem)["train"]))
        with torch.no_grad():
            axes = (0, *range(2, fields.dim()))
            model.mean.copy_(fields.mean(axes))
            model.std.copy_(fields.std(axes).clamp_min(1e-12))
            if problem.generator_has_residual():
                scale = problem.generator_residual_scale(fields)
                model.residual_scale.fill_(scale or 1.0)
        return model

    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        """Joint fields (physical units; the loss standardises them with the model's scaling),
        the noise they are mixed with and the noise levels, all drawn from ``generator``."""
        data = torch.as_tensor(self.stacked(problem, self.split(problem)["train"]))
        for chosen in self.epochs(generator):
            fields = data[chosen]
            noise = torch.randn(fields.shape, generator=generator, dtype=fields.dtype)
            yield {
                "fields": fields,
                "noise": noise,
                "level": self.draw_levels(len(fields), generator),
            }

    # --- the process (subclasses) -----------------------------------------------------------
    @abc.abstractmethod
    def draw_levels(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Noise levels (flow times, or diffusion noise scales) of ``n`` training samples."""

    @abc.abstractmethod
    def schedule(self, steps: int) -> torch.Tensor:
        """The ``steps + 1`` levels the sampler visits, from pure noise to data (float64)."""

    @abc.abstractmethod
    def start(self, noise: torch.Tensor, schedule: torch.Tensor) -> torch.Tensor:
        """The sampler's starting point from standard normal ``noise``."""

    @abc.abstractmethod
    def predict(
        self, model: nn.Module, x: torch.Tensor, level: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(velocity, clean)`` at fields ``x`` and levels ``(B,)``: the ODE's right-hand side
        ``dx/dlevel`` and the network's estimate of the clean (data) field."""

    def advance(
        self,
        x: torch.Tensor,
        velocity: torch.Tensor,
        clean: torch.Tensor,
        a: torch.Tensor,
        b: torch.Tensor,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """One sampler step from level ``a`` to ``b`` (Euler by default; a stochastic sampler
        may jump to ``clean`` and re-noise)."""
        return x + (b - a) * velocity

    # --- physics -----------------------------------------------------------------------------
    def residual(self, model: FieldModel, problem: Problem, x: torch.Tensor) -> torch.Tensor:
        """The physics residual ``(B, *grid)`` of standardised fields ``x``
        (:meth:`~workbench.problems.base.Problem.generator_residual`), in units of
        ``model.residual_scale`` (the forcing, or ``kolmogorov2d``'s velocity gradient);
        differentiable."""
        fields = model.physical(x)
        return problem.generator_residual(fields) / model.residual_scale

    # --- sampling ----------------------------------------------------------------------------
    def generate(
        self,
        model: FieldModel,
        problem: Problem,
        n: int,
        seed: int = 0,
        observations: Mapping[int, tuple[torch.Tensor, torch.Tensor]] | None = None,
        guidance_obs: float | None = None,
        guidance_pde: float | None = None,
        steps: int | None = None,
    ) -> torch.Tensor:
        """``n`` standardised fields ``(n, C, *grid)`` drawn by integrating the learned ODE.

        Parameters
        ----------
        model : FieldModel
        problem : Problem
        n : int
            Samples.
        seed : int
            Seed of the starting noise (and of a stochastic sampler's draws).
        observations : dict, optional
            Channel index -> ``(mask, values)``, both ``(*grid)`` in standardised units:
            guidance pulls the clean estimate towards ``values`` where ``mask`` is 1.
        guidance_obs, guidance_pde : float, optional
            Step sizes of the two guidance terms (default: the knobs; without
            ``observations``, no guidance unless ``guidance_pde`` is given). With both 0 this
            is the unguided sampler.
        steps : int, optional
            Sampler steps (default: ``guided_steps`` with observations, else
            ``sample_steps``).
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        zeta_obs = self.guidance_obs if guidance_obs is None else float(guidance_obs)
        zeta_pde = self.guidance_pde if guidance_pde is None else float(guidance_pde)
        if observations is None:
            # Unconditional: no observation term, and PDE guidance only when asked for.
            zeta_obs = 0.0
            zeta_pde = 0.0 if guidance_pde is None else zeta_pde
        if not problem.generator_has_residual():
            zeta_pde = 0.0
        steps = steps or (self.guided_steps if observations is not None else self.sample_steps)
        param0 = next(model.parameters())
        generator = torch.Generator().manual_seed(int(seed))
        noise = torch.randn(
            n,
            len(self.channels(problem)),
            *self.grid_shape(problem),
            generator=generator,
            dtype=torch.float64,
        )
        schedule = self.schedule(steps).to(param0.device, param0.dtype)
        x = self.start(noise, schedule).to(param0.device, param0.dtype)
        guided = bool(zeta_obs or zeta_pde)
        switch = self.guidance_switch * steps
        for i in range(steps):
            a, b = schedule[i], schedule[i + 1]
            with torch.set_grad_enabled(guided):
                x = x.detach().requires_grad_(guided)
                level = a.expand(n)
                velocity, clean = self.predict(model, x, level)
                x_next = self.advance(x, velocity, clean, a, b, generator)
                if self.heun and i < steps - 1:
                    v2, _ = self.predict(model, x_next, b.expand(n))
                    x_next = x + (b - a) * 0.5 * (velocity + v2)
                if guided:
                    late = i >= switch
                    loss = clean.new_zeros(())
                    if zeta_obs:
                        misfit = clean.new_zeros(n)
                        for channel, (mask, values) in observations.items():
                            diff = (clean[:, channel] - values) * mask
                            misfit = misfit + diff.flatten(1).norm(dim=1)
                        loss = loss + (0.1 if late else 1.0) * zeta_obs * misfit.sum()
                    if zeta_pde and late:
                        r = self.residual(model, problem, clean)
                        # DiffusionPDE's ||R|| / (H W): the residual norm per grid point.
                        loss = loss + zeta_pde * (r.flatten(1).norm(dim=1) / r[0].numel()).sum()
                    if loss.requires_grad:
                        (grad,) = torch.autograd.grad(loss, x)
                        x_next = x_next - grad
            x = x_next.detach()
        return x

    def fields_dataset(
        self, model: FieldModel, problem: Problem, x: torch.Tensor, coords
    ) -> xr.Dataset:
        """Standardised fields ``x`` as a Dataset on dim ``sample``: every channel in physical
        units and, for a family with a residual, each sample's absolute residual (in units of
        the model's residual scale); attr ``channels`` names the channels, comma-separated."""
        with torch.no_grad():
            fields = model.physical(x).cpu().double().numpy()
            variables = {}
            dims = ("sample", *problem.family_dims)
            names = self.channels(problem)
            for i, name in enumerate(names):
                attrs = dict(problem.family_attrs.get(name, {}))
                variables[name] = (dims, fields[:, i], attrs)
            if problem.generator_has_residual():
                r = self.residual(model, problem, x).abs().cpu().double().numpy()
                attrs = {"long_name": problem.generator_residual_name, "units": "1"}
                variables["residual"] = (dims, r, attrs)
        return xr.Dataset(variables, coords=coords, attrs={"channels": ", ".join(names)})

    def samples(
        self, model: FieldModel, problem: Problem, n: int | None = None, seed: int = 0
    ) -> xr.Dataset:
        """``n`` unconditional samples (default ``n_samples``) with their residual fields.

        Attrs: ``residual_mae`` (the mean absolute PDE residual in physical units, the
        metric of the PBFM and PIDM papers), ``residual_mean`` (the same in the model's
        residual scale: forcing units, or ``kolmogorov2d``'s normalised divergence),
        ``data_residual_mae`` and ``data_residual_mean`` (the same of the test data),
        ``distance`` and ``distance_normalised`` (energy distance to the test set on
        standardised fields, see :func:`~workbench.evaluation.energy_distance`), and ``l2re``
        (the normalised distance, the headline metric)."""
        n = n or self.n_samples
        x = self.generate(model, problem, n, seed)
        test = self.split(problem)["test"]
        ds = self.fields_dataset(model, problem, x, {d: test[d] for d in problem.family_dims})
        data = self.standardised(model, problem, test)
        distance, normalised = energy_distance(x.cpu().double().numpy(), data)
        ds.attrs.update(
            distance=distance, distance_normalised=normalised, l2re=normalised, seed=int(seed)
        )
        if problem.generator_has_residual():
            mean_abs = float(ds["residual"].mean())
            ds.attrs["residual_mean"] = mean_abs
            ds.attrs["residual_mae"] = mean_abs * float(model.residual_scale)
            truth = self.residual(model, problem, torch.as_tensor(data).to(x)).abs()
            ds.attrs["data_residual_mean"] = float(truth.mean())
            ds.attrs["data_residual_mae"] = float(truth.mean()) * float(model.residual_scale)
        return ds

    def error(self, model: nn.Module, problem: Problem) -> float:
        return self._evaluation_draws(model, problem)[1]

    def evaluate(self, model, problem, size=None):
        """A gallery of generated samples from fixed noise (the same draws every time), with
        attr ``l2re`` holding the normalised energy distance (see :meth:`error`)."""
        x, l2re = self._evaluation_draws(model, problem)
        test = self.split(problem)["test"]
        coords = {d: test[d] for d in problem.family_dims}
        gallery = self.fields_dataset(model, problem, x[:GALLERY_SIZE], coords)
        gallery.attrs["l2re"] = l2re
        return gallery

    def _evaluation_draws(self, model: nn.Module, problem: Problem) -> tuple[torch.Tensor, float]:
        """``n_samples`` fields from the fixed noise of ``EVAL_SEED`` and their normalised
        energy distance from the test set. One draw serves both the metric and the gallery:
        the noise is drawn sample after sample, so the first ones are the gallery's."""
        x = self.generate(model, problem, self.n_samples, self.EVAL_SEED)
        data = self.standardised(model, problem, self.split(problem)["test"])
        return x, energy_distance(x.cpu().double().numpy(), data)[1]

    # --- inverse problems ----------------------------------------------------------------------
    def observation_mask(self, problem: Problem, fraction: float, seed: int = 0) -> np.ndarray:
        """A random mask ``(*grid)`` of ``round(fraction * points)`` observed grid points
        (at least 1), seeded."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        grid = self.grid_shape(problem)
        size = int(np.prod(grid))
        count = max(1, int(round(fraction * size)))
        chosen = np.random.default_rng(seed).choice(size, count, replace=False)
        mask = np.zeros(size)
        mask[chosen] = 1.0
        return mask.reshape(grid)

    def posterior(
        self,
        model: FieldModel,
        problem: Problem,
        truth: xr.Dataset,
        observed: str = "solution",
        fraction: float = 0.03,
        n: int = 16,
        seed: int = 0,
        guidance_obs: float | None = None,
        guidance_pde: float | None = None,
        steps: int | None = None,
    ) -> xr.Dataset:
        """Posterior samples of every channel given sparse observations of one sample.

        Parameters
        ----------
        truth : xarray.Dataset
            One sample of the family (no ``sample`` dim): its input and ``u``.
        observed : {"solution", "input", "both"}
            The field(s) observed at a random ``fraction`` of the grid points (``"input"``
            with ``fraction=1`` is the forward problem).
        n, seed
            Posterior samples and the seed of their noise (the mask uses ``seed`` too).
        guidance_obs, guidance_pde, steps
            As in :meth:`generate`.

        Returns
        -------
        xarray.Dataset
            Per channel ``c``: the samples ``c`` (``sample``, *grid*), ``c_true``, ``c_mean``,
            ``c_std``, ``c_mask`` (1 where observed), and the residual of each sample; attrs
            ``l2re_<c>`` (relative L2 error of the posterior mean), ``coverage_<c>`` (fraction
            of true values inside the samples' 90% interval), ``observed``, ``fraction``.
        """
        allowed = ("solution", "input", "both")
        if observed not in allowed:
            raise ValueError(f"observed must be one of {allowed}, got {observed!r}")
        names = self.channels(problem)
        missing = [c for c in names if c not in truth]
        if missing or "sample" in truth.dims:
            raise ValueError(
                f"truth must be one sample (no 'sample' dim) holding {names}; missing "
                f"{missing}, dims {tuple(truth.dims)}"
            )
        last = len(names) - 1
        channels = {"solution": [last], "input": [0], "both": list(range(len(names)))}[observed]
        param0 = next(model.parameters())
        true = torch.as_tensor(np.stack([truth[c].values for c in names]))[None]
        true = true.to(param0.device, param0.dtype)
        with torch.no_grad():
            standard = model.standardise(true)[0]
        masks = {
            c: torch.as_tensor(self.observation_mask(problem, fraction, seed + c)).to(true)
            for c in channels
        }
        observations = {c: (masks[c], standard[c]) for c in channels}
        x = self.generate(model, problem, n, seed, observations, guidance_obs, guidance_pde, steps)
        coords = {d: truth[d] for d in problem.family_dims}
        ds = self.fields_dataset(model, problem, x, coords)
        dims = problem.family_dims
        for i, name in enumerate(names):
            samples = ds[name].values
            exact = truth[name].values
            mean = samples.mean(0)
            ds[f"{name}_true"] = (dims, exact, {"long_name": f"true {name}"})
            ds[f"{name}_mean"] = (dims, mean, {"long_name": f"posterior mean of {name}"})
            ds[f"{name}_std"] = (dims, samples.std(0), {"long_name": f"posterior std of {name}"})
            mask = masks[i].cpu().numpy() if i in masks else np.zeros(exact.shape)
            ds[f"{name}_mask"] = (dims, mask, {"long_name": f"observed points of {name}"})
            ds.attrs[f"l2re_{name}"] = relative_l2(mean, exact)
            ds.attrs[f"coverage_{name}"] = interval_coverage(samples, exact)
        ds.attrs.update(observed=observed, fraction=float(fraction), seed=int(seed))
        return ds

    def results(self, model: nn.Module, problem: Problem) -> dict[str, xr.Dataset]:
        test = self.split(problem)["test"]
        truth = test.isel(sample=0).drop_vars("sample", errors="ignore")
        return {
            "samples": self.samples(model, problem),
            "posterior": self.posterior(
                model,
                problem,
                truth[self.channels(problem)],
                self.observed,
                self.observed_fraction,
                self.posterior_samples,
            ),
        }
