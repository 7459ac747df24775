"""The Method ABC (how to learn a Problem) and the ABCs of its families.

* :class:`PhysicsInformed`: the PINN family (a field network trained at collocation points);
* :class:`Operator`: neural operators (a map from input function to solution, learned from
  a problem family's dataset).

A Method is a spec (hyperparameters as Parameters, plus the algorithm). It never holds
tensors: weights live in the ``nn.Module`` returned by :meth:`Method.build`, optimizer state
lives inside :func:`workbench.train.train`.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterator, Mapping
from copy import copy
from typing import ClassVar

import numpy as np
import param
import torch
import xarray as xr
from torch import nn

from workbench.calculus import Jet, coordinate_jets, jet_by_autograd
from workbench.nn.coefficients import Coefficients, Unknown
from workbench.nn.grids import grid_coordinates
from workbench.nn.unet import TimeUNet
from workbench.problems.base import Condition, Problem, columns, plain_view
from workbench.regularizers.base import Sampler
from workbench.regularizers.sampling import RARD, SAMPLERS
from workbench.results import (
    FIELD_ATTRS,
    energy_distance,
    evaluate_fields,
    points_dataset,
    relative_l2,
)

#: A training batch: named tensors (collocation points, boundary points, data, ...).
#: A key ``"S:v"`` holds a per-point value ``v`` of point set ``S`` (shape ``(n,)``), such as
#: ``"interior:retained"``; it is saved in ``/points`` next to the coordinates.
Batch = dict[str, torch.Tensor]


class Method(param.ParameterizedABC):
    """Abstract learning method.

    ``train()`` calls, in order: :meth:`check` (bad combinations fail before any work),
    :meth:`prepare` (expensive one-off work, before the clock starts), :meth:`build`, then for
    each step the next batch from :meth:`batches` and :meth:`loss`. :meth:`error`,
    :meth:`evaluate` and :meth:`results` evaluate a model for the metric, the fields and any
    extra groups of the Run.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def supports(self, problem: Problem) -> bool:
        """Whether this method can learn ``problem`` at all."""

    @abc.abstractmethod
    def build(self, problem: Problem, generator: torch.Generator) -> nn.Module:
        """A freshly initialised model for ``problem`` (weights drawn from ``generator``)."""

    @abc.abstractmethod
    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        """An endless iterator of training batches; one is consumed per optimizer step.

        ``residual(points)``, when given, is the current model's absolute pointwise residual
        ``(n,)``: adaptive samplers use it to move points where the error is.
        """

    @abc.abstractmethod
    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        """Named, unweighted loss terms (scalars) for one batch."""

    @abc.abstractmethod
    def term_names(self, problem: Problem) -> list[str]:
        """The names of the terms :meth:`loss` returns for ``problem`` (known before training,
        so that fixed weights can be checked)."""

    @abc.abstractmethod
    def evaluate(
        self, model: nn.Module, problem: Problem, size: Mapping[str, int] | None = None
    ) -> xr.Dataset:
        """The model's fields for ``/fields`` and live snapshots: ``u`` (prediction), ``u_ref``
        (reference), ``error`` and ``residual``, with attr ``l2re``. ``size`` (points per dim)
        asks for a coarser grid where the method evaluates on one."""

    @abc.abstractmethod
    def error(self, model: nn.Module, problem: Problem) -> float:
        """The headline relative L2 error of the model (logged as ``l2re`` during training)."""

    def check(self, problem: Problem) -> None:
        """Raise ``ValueError`` naming what is wrong if this method cannot learn ``problem``."""
        if not self.supports(problem):
            raise ValueError(f"method {self.name!r} does not support problem {problem.name!r}")

    def prepare(self, problem: Problem) -> None:
        """Do the one-off expensive work (reference solution, dataset) before the clock starts."""

    def default_weights(self, problem: Problem) -> dict[str, float]:
        """Weights of the loss terms unless the user gives others (missing terms: 1)."""
        return {}

    def estimates(self, model: nn.Module, params: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """Learned problem coefficients by name, given the model's parameters ``params`` (logged
        in ``/history`` at every step). None by default."""
        return {}

    def default_combiner(self) -> str | None:
        """The combiner ``train()`` uses unless it is given one (None: the plain sum)."""
        return None

    def results(self, model: nn.Module, problem: Problem) -> dict[str, xr.Dataset]:
        """Extra groups of the Run beyond ``/history``, ``/fields`` and ``/points`` (e.g. an
        operator's ``/samples``), by group name; none by default."""
        return {}

    def points(self, model: nn.Module, problem: Problem, batch: Batch) -> xr.Dataset:
        """What to show and save in ``/points`` for this batch (empty by default)."""
        return xr.Dataset()


class PhysicsInformed(Method):
    """Abstract base of the PINN family: a field network trained at collocation points.

    Subclasses (:class:`~workbench.methods.PINN`, :class:`~workbench.methods.PIG`) only say
    which network maps the coordinates to the field (:meth:`build`, a module taking coordinate
    :class:`~workbench.calculus.Jet` s and returning the raw output jet). Everything about the
    physics-informed loss is shared and lives here, as knobs every family member has:

    * the loss: mean squared PDE residual at the interior points, optionally weighted
      causally in time (Wang, Sifan & Perdikaris, "Respecting causality", CMAME 2024), plus one
      mean squared mismatch per boundary/initial/periodic condition;
    * exact constraints through the problem's output transform (``hard_constraints``);
    * how derivatives are taken (forward jets or autograd);
    * where the interior points are and how they move (``sampler``, see
      :mod:`workbench.regularizers.sampling`).
    """

    hard_constraints = param.Boolean(
        False, doc="Satisfy the conditions exactly with the problem's output transform."
    )
    derivatives = param.Selector(
        objects=["forward", "autograd"],
        default="forward",
        doc="Derivatives carried forward through the net, or by repeated autograd passes.",
    )
    n_interior = param.Integer(
        None,
        allow_None=True,
        bounds=(1, 1_000_000),
        doc="Collocation points (None = 512 in 1D, 2048 in 2D: 512 * 4^(D-1)).",
    )
    n_boundary = param.Integer(100, bounds=(1, 100_000), doc="Points per boundary condition.")
    n_initial = param.Integer(100, bounds=(1, 100_000), doc="Points for the initial condition.")
    sampling = param.Selector(
        objects=["sobol", "uniform"],
        default="sobol",
        doc="How points are drawn (interior and conditions): scrambled Sobol (evenly spread) "
        "or uniform random.",
    )
    sampler = param.Selector(
        objects=["fixed", "resample", "r3", "causal_r3", "rar_d"],
        default="fixed",
        doc="How the interior points move: fixed, fresh every k steps, R3 (keep high-residual "
        "points), causal R3 (R3 gated in time), RAR-D (add points where the residual is large).",
    )
    resample_every = param.Integer(
        1, bounds=(1, 1_000_000), doc="Steps between sampler updates (not for 'fixed')."
    )
    rar_add = param.Integer(
        32, bounds=(1, 100_000), doc="RAR-D: points added per update (from a pool of 32x)."
    )
    causal_eps = param.Number(
        0.0,
        bounds=(0.0, 1e4),
        doc="Causal weighting of the residual in time (0 = off): a time chunk counts with "
        "weight exp(-eps * residual of the earlier chunks).",
    )
    causal_chunks = param.Integer(32, bounds=(2, 1024), doc="Time chunks of the causal weighting.")
    infer = param.Dict(
        default={},
        doc="Problem coefficients to learn from observations (the 'data' regularizer), with "
        "initial guesses: {'nu': 0.05}; {'nu': None} starts at the middle of the knob's range; "
        "{'nu': {'guess': 0.05, 'bounds': [0.001, 0.1]}} keeps it inside bounds. Positive "
        "coefficients are learned as their logarithm.",
    )

    def supports(self, problem: Problem) -> bool:
        return True

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.hard_constraints and not problem.constrained:
            raise ValueError(
                f"hard_constraints: problem {problem.name!r} offers no exact-constraint "
                "transform; set hard_constraints=False"
            )
        self.unknowns(problem)  # raises on a bad infer knob
        timeless = "t" not in problem.dims
        if timeless and self.sampler == "causal_r3":
            raise ValueError(
                f"sampler: 'causal_r3' needs a time-dependent problem; {problem.name!r} has "
                f"dims {problem.dims}. Use 'r3'"
            )
        if timeless and self.causal_eps:
            raise ValueError(
                f"causal_eps: causal weighting needs a time-dependent problem; "
                f"{problem.name!r} has dims {problem.dims}. Set causal_eps=0"
            )

    @abc.abstractmethod
    def network(self, problem: Problem, generator: torch.Generator) -> nn.Module:
        """The network: ``model(coords)`` maps coordinate jets to the raw output jet."""

    def build(self, problem: Problem, generator: torch.Generator) -> nn.Module:
        """The :meth:`network`, holding the coefficients named by ``infer`` as ``coefficients``
        (trainable scalars, see :mod:`workbench.nn.coefficients`)."""
        model = self.network(problem, generator)
        if self.infer:
            model.coefficients = Coefficients(self.unknowns(problem))
        return model

    # --- inverse problems --------------------------------------------------------------
    def unknowns(self, problem: Problem) -> dict[str, Unknown]:
        """The ``infer`` knob read against ``problem``'s knobs (raises ``ValueError`` naming
        what is wrong)."""
        found = {}
        for name, given in self.infer.items():
            p = problem.param.objects("existing").get(name)
            if (
                p is None
                or name == "name"
                or not isinstance(p, param.Number)
                or isinstance(p, param.Integer)
            ):
                numeric = [
                    k
                    for k, q in problem.param.objects("existing").items()
                    if isinstance(q, param.Number) and not isinstance(q, param.Integer)
                ]
                raise ValueError(
                    f"infer: {name!r} is not a real-valued coefficient of {problem.name!r}; "
                    f"its coefficients: {', '.join(numeric) or 'none'}"
                )
            lo, hi = p.bounds or (None, None)
            bounds = None
            if isinstance(given, Mapping):
                unknown_keys = set(given) - {"guess", "bounds"}
                if unknown_keys:
                    raise ValueError(
                        f"infer[{name!r}]: unknown keys {sorted(unknown_keys)}; allowed: guess, "
                        "bounds"
                    )
                guess, bounds = given.get("guess"), given.get("bounds")
            else:
                guess = given
            if bounds is not None:
                if (
                    len(bounds) != 2
                    or not all(isinstance(b, int | float) and math.isfinite(b) for b in bounds)
                    or not bounds[0] < bounds[1]
                ):
                    raise ValueError(
                        f"infer[{name!r}]: bounds must be two finite numbers lo < hi, got "
                        f"{bounds!r}"
                    )
                lo, hi = float(bounds[0]), float(bounds[1])
            if guess is None:
                if lo is None or hi is None:
                    raise ValueError(f"infer[{name!r}]: give an initial guess (unbounded knob)")
                guess = math.sqrt(lo * hi) if lo > 0 else (lo + hi) / 2
            if not isinstance(guess, int | float) or not math.isfinite(guess):
                raise ValueError(
                    f"infer[{name!r}]: the guess must be a finite number, got {guess!r}"
                )
            guess = float(guess)
            inside = (lo is None or guess > lo) and (hi is None or guess < hi)
            if bounds is not None or (lo is not None and hi is not None and lo < 0):
                if not inside:
                    raise ValueError(
                        f"infer[{name!r}]: the guess {guess} must lie strictly inside ({lo}, {hi})"
                    )
                found[name] = Unknown(guess, "bounded", (lo, hi))
            elif lo is not None and lo >= 0:
                if guess <= 0:
                    raise ValueError(
                        f"infer[{name!r}]: {name} is positive (bounds {p.bounds}); the guess "
                        f"must be > 0, got {guess}"
                    )
                found[name] = Unknown(guess, "log")
            else:
                found[name] = Unknown(guess, "identity")
        return found

    def with_unknowns(self, model: nn.Module, problem: Problem) -> Problem:
        """``problem`` with its inferred coefficients replaced by the model's current values
        (tensors in the graph), for the residual; ``problem`` itself when nothing is inferred.

        The copy is a plain view (:func:`~workbench.problems.base.plain_view`): a Parameter
        cannot hold a tensor.
        """
        if not self.infer:
            return problem
        view = plain_view(problem) if isinstance(problem, param.Parameterized) else copy(problem)
        for name, value in model.coefficients.values().items():
            setattr(view, name, value)
        return view

    def estimates(self, model: nn.Module, params: Mapping[str, torch.Tensor]) -> dict[str, float]:
        if not self.infer:
            return {}
        return model.coefficients.values_from(params, "coefficients.")

    def field(
        self, model: nn.Module, problem: Problem, points: torch.Tensor, orders: Mapping[str, int]
    ) -> Jet:
        """The field and its derivatives of the given ``orders`` at ``points`` ``(N, D)``."""
        if self.derivatives == "autograd" and any(orders.values()):
            return jet_by_autograd(
                lambda p: self.field(model, problem, p, {}).value, points, problem.dims, orders
            )
        coords = coordinate_jets(points, problem.dims, orders)
        net = model(coords)
        return problem.constrain(coords, net) if self.hard_constraints else net

    # --- points ------------------------------------------------------------------------
    def _conditions(self, problem: Problem) -> list[Condition]:
        skip = problem.constrained if self.hard_constraints else ()
        return [c for c in problem.conditions() if c.name not in skip]

    def _interior_count(self, problem: Problem) -> int:
        return self.n_interior or 512 * 4 ** (len(problem.dims) - 1)

    def _condition_points(self, problem: Problem, generator: torch.Generator) -> Batch:
        # Few condition points (50 on an initial line) clump when drawn independently; Sobol
        # spreads them like the Latin hypercubes of the ConFIG authors' set-up, which is what
        # let ConFIG beat the plain sum on Burgers here (best test MSE 0.025 against 0.056,
        # where independent draws gave 0.080 against 0.074).
        sobol = self.sampling == "sobol"
        return {
            c.name: c.sample(
                self.n_initial if c.name == "initial" else self.n_boundary, generator, sobol
            )
            for c in self._conditions(problem)
        }

    def make_sampler(self, problem: Problem, generator: torch.Generator) -> Sampler:
        """The :class:`~workbench.regularizers.Sampler` named by the ``sampler`` knob."""
        sobol = self.sampling == "sobol"

        def draw(n: int) -> torch.Tensor:
            return problem.sample_interior(n, generator, sobol)

        time = problem.dims.index("t") if "t" in problem.dims else None
        span = problem.domain["t"] if time is not None else (0.0, 1.0)
        if self.sampler == "rar_d":
            return RARD(
                draw, time, span, add=self.rar_add, pool=32 * self.rar_add, generator=generator
            )
        return SAMPLERS[self.sampler](draw, time, span)

    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        sampler = self.make_sampler(problem, generator)
        interior = sampler.draw(self._interior_count(problem))
        retained = torch.zeros(len(interior))
        conditions = self._condition_points(problem, generator)
        step = 0
        while True:
            yield {"interior": interior, "interior:retained": retained, **conditions}
            step += 1
            if sampler.moves and step % self.resample_every == 0:
                if residual is None and sampler.name != "resample":
                    raise ValueError(f"sampler {sampler.name!r} needs the model's residual")
                interior, retained = sampler.update(interior, residual)
                if sampler.name == "resample":
                    conditions = self._condition_points(problem, generator)

    # --- loss --------------------------------------------------------------------------
    def term_names(self, problem: Problem) -> list[str]:
        return ["residual", *(c.name for c in self._conditions(problem))]

    def _residual_term(self, problem: Problem, points: torch.Tensor, r: torch.Tensor):
        squared = r.pow(2).reshape(-1)
        if not self.causal_eps:
            return squared.mean()
        # Causal weighting: mean squared residual per time chunk; a chunk counts only once
        # the chunks before it are fitted. The weights are constants (no gradient through them).
        chunks = self.causal_chunks
        t0, t1 = problem.domain["t"]
        tau = (points[:, problem.dims.index("t")] - t0) / (t1 - t0)
        index = (tau * chunks).long().clamp(0, chunks - 1)
        sums = squared.new_zeros(chunks).index_add(0, index, squared)
        counts = squared.new_zeros(chunks).index_add(0, index, torch.ones_like(squared))
        means = sums / counts.clamp_min(1.0)
        before = torch.cumsum(means, 0) - means
        weights = torch.exp(-self.causal_eps * before).detach()
        return (weights * means).mean()

    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        problem = self.with_unknowns(model, problem)
        interior = batch["interior"]
        u = self.field(model, problem, interior, problem.derivatives)
        residual = problem.residual(columns(interior, problem.dims), u)
        terms = {"residual": self._residual_term(problem, interior, residual)}

        def evaluate(points, orders):
            return self.field(model, problem, points, orders)

        for cond in self._conditions(problem):
            terms[cond.name] = cond.mismatch(evaluate, batch[cond.name]).pow(2).mean()
        return terms

    def predict(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The field ``u`` at points ``(N, D)``, shape ``(N, 1)``."""
        return self.field(model, problem, points, {}).value

    def residual(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The PDE residual of the model's field at points ``(N, D)``, shape ``(N, 1)`` (with
        the learned coefficients where some are inferred)."""
        problem = self.with_unknowns(model, problem)
        u = self.field(model, problem, points, problem.derivatives)
        return problem.residual(columns(points, problem.dims), u)

    # --- evaluation ----------------------------------------------------------------------
    def prepare(self, problem: Problem) -> None:
        problem.reference()  # cached on the problem

    def evaluate(self, model, problem, size=None):
        return evaluate_fields(problem, self, model, size)

    def error(self, model: nn.Module, problem: Problem) -> float:
        reference = problem.reference()
        param0 = next(model.parameters())
        grid = {d: reference[d].values for d in problem.dims}
        points = problem.grid_points(grid).to(param0.device, param0.dtype)
        with torch.no_grad():
            u = self.predict(model, problem, points)
        return relative_l2(u.cpu().double().numpy().reshape(reference.shape), reference.values)

    def points(self, model: nn.Module, problem: Problem, batch: Batch) -> xr.Dataset:
        """The batch's point sets and the model's :meth:`anchors`."""
        return xr.merge([points_dataset(batch, problem.dims), self.anchors(model, problem)])

    def anchors(self, model: nn.Module, problem: Problem) -> xr.Dataset:
        """Point-like parts of the model to show and save in ``/points`` (e.g. Gaussian
        centres, widths and weights); empty for models that have none."""
        return xr.Dataset()


#: Test samples in ``/fields`` and live snapshots (the gallery); ``/samples`` holds them all.
GALLERY_SIZE = 8

#: Values per latent dim in a traversal (from -2 to +2 standard deviations of the test
#: encodings).
TRAVERSAL_STEPS = 7


class OperatorModel(nn.Module):
    """An operator network wrapped between standardised inputs and outputs.

    ``model(inputs)`` maps input functions on a grid ``(B, *grid)`` to solutions ``(B, *grid)``
    at the same grid, whatever its resolution. The wrapped network sees the standardised input
    and the grid's normalised coordinates (see :func:`~workbench.nn.grids.grid_coordinates`);
    its output is rescaled by the training data's output mean and standard deviation.

    Parameters
    ----------
    network : torch.nn.Module
        ``network(z, coords)`` with ``z`` of shape ``(B, *grid)`` and ``coords`` one 1D tensor
        per dim, returning ``(B, *grid)``.
    periodic : tuple of bool
        Per dim, whether the family's grid is periodic (its end node is not stored).
    """

    def __init__(self, network: nn.Module, periodic: tuple[bool, ...]):
        super().__init__()
        self.network = network
        self.periodic = tuple(periodic)
        # Buffers, not parameters: saved with the weights, never trained.
        for name, value in (("in_mean", 0.0), ("in_std", 1.0), ("out_mean", 0.0), ("out_std", 1.0)):
            self.register_buffer(name, torch.tensor(value))

    def standardise(self, inputs: np.ndarray, outputs: np.ndarray | None) -> None:
        """Set the scaling from training data (outputs: the labelled solutions, if any)."""
        with torch.no_grad():
            self.in_mean.fill_(float(inputs.mean()))
            self.in_std.fill_(float(inputs.std()) or 1.0)
            if outputs is not None and outputs.size:
                self.out_mean.fill_(float(outputs.mean()))
                self.out_std.fill_(float(outputs.std()) or 1.0)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Solutions ``(B, *grid)`` for input functions ``(B, *grid)``."""
        coords = grid_coordinates(tuple(inputs.shape[1:]), self.periodic, inputs)
        z = (inputs - self.in_mean) / self.in_std
        return self.network(z, coords) * self.out_std + self.out_mean


def relative_errors(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample relative L2 error ``||p - t|| / ||t||`` over all but the first dim, ``(B,)``."""
    dims = tuple(range(1, prediction.ndim))
    difference = (prediction - target).pow(2).sum(dims).sqrt()
    return difference / target.pow(2).sum(dims).sqrt().clamp_min(1e-30)


def require_function_family(method: Method, problem: Problem, what: str) -> None:
    """Raise ``ValueError`` unless ``problem`` has a family of input functions, naming the
    problems that have one; ``what`` says what the method does with it."""
    if problem.family_input is None:
        from workbench.problems import PROBLEMS

        families = [n for n, cls in PROBLEMS.items() if cls.family_input is not None]
        raise ValueError(
            f"method {method.name!r} {what} a function family; problem {problem.name!r} has "
            f"none. Problems with one: {', '.join(families)}"
        )


class FamilyMethod(Method):
    """Abstract base of methods that learn from a problem family's dataset.

    They train on ``problem.dataset(n_test + n_train, resolution, data_seed)``, the first
    ``n_test`` samples held out for testing, in epochs of shuffled batches. The subclasses
    (:class:`Operator`, :class:`GenerativeMethod`) say what is learnt from the data.
    """

    resolution = param.Integer(
        None,
        allow_None=True,
        bounds=(8, 1024),
        doc="Grid points per dim of the training data (None = the family's default).",
    )
    n_train = param.Integer(1000, bounds=(1, 100_000), doc="Training samples.")
    n_test = param.Integer(100, bounds=(1, 10_000), doc="Held-out test samples.")
    batch_size = param.Integer(20, bounds=(1, 10_000), doc="Samples per optimizer step.")
    data_seed = param.Integer(
        0,
        bounds=(0, 2**31 - 1),
        doc="Seed of the generated dataset (the run's seed only "
        "draws the weights and the batch order).",
    )

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.batch_size > self.n_train:
            raise ValueError(
                f"batch_size must be <= n_train ({self.n_train}), got {self.batch_size}"
            )

    def data_resolution(self, problem: Problem) -> int:
        """Grid points per dim of the training and test data."""
        return self.resolution or problem.family_resolution

    def split(self, problem: Problem) -> dict[str, xr.Dataset]:
        """``{"train": ..., "test": ...}`` from the problem's (cached) dataset."""
        data = problem.dataset(
            self.n_test + self.n_train, self.data_resolution(problem), self.data_seed
        )
        return {
            "test": data.isel(sample=slice(0, self.n_test)),
            "train": data.isel(sample=slice(self.n_test, None)),
        }

    def prepare(self, problem: Problem) -> None:
        self.split(problem)

    def epochs(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless batches of training-sample indices: one shuffled pass over the training set
        per epoch, a last partial batch dropped so every step sees the same batch size."""
        size = self.batch_size
        while True:
            order = torch.randperm(self.n_train, generator=generator)
            for start in range(0, self.n_train - size + 1, size):
                yield order[start : start + size]

    def steps_per_epoch(self) -> int:
        """Optimizer steps in one pass over the training set."""
        return self.n_train // self.batch_size


class Operator(FamilyMethod):
    """Abstract base of neural operators: learn the map from input function to solution.

    The problem must have a family of input functions (``problem.family_input`` is not None);
    the data knobs are those of :class:`FamilyMethod`. Subclasses only say which network maps
    the input function to the solution (:meth:`network`); the loss and the evaluation live
    here.

    * Loss ``data``: the mean relative L2 error of the labelled samples in the batch (the first
      ``labels`` training samples have a solution; the others reach the loss only through
      regularizers such as ``pde_residual``, the physics-informed operator loss of PINO).
    * ``l2re``: the mean relative L2 error over the test set.
    * The Run gets ``/samples`` (every test sample: input, truth, prediction, error, residual and
      ``rel_l2``) and ``/transfer`` (the same at ``transfer_resolution``: the same input
      functions on a finer grid, which the model never saw).
    """

    labels = param.Integer(
        None,
        allow_None=True,
        bounds=(0, 100_000),
        doc="Training samples whose solution the loss sees (None = all); the rest are inputs "
        "only, for the pde_residual regularizer.",
    )
    transfer_resolution = param.Integer(
        None,
        allow_None=True,
        bounds=(0, 1024),
        doc="Resolution of the resolution-transfer test (None = twice the training "
        "resolution, 0 = off).",
    )

    def supports(self, problem: Problem) -> bool:
        return problem.family_input is not None

    def check(self, problem: Problem) -> None:
        require_function_family(self, problem, "learns the solution operator of")
        super().check(problem)
        if self.labels is not None and self.labels > self.n_train:
            raise ValueError(f"labels must be <= n_train ({self.n_train}), got {self.labels}")
        if self.transfer_resolution is not None and 0 < self.transfer_resolution < 8:
            raise ValueError(
                f"transfer_resolution must be 0 (off) or >= 8, got {self.transfer_resolution}"
            )

    # --- data ----------------------------------------------------------------------------
    def transfer_size(self, problem: Problem) -> int:
        """Resolution of the transfer test (0 = off)."""
        if self.transfer_resolution is None:
            return 2 * self.data_resolution(problem)
        return self.transfer_resolution

    def transfer_data(self, problem: Problem) -> xr.Dataset | None:
        """The test inputs and solutions at the transfer resolution (None when off).

        Sample ``i`` of a family's dataset does not depend on the resolution, so these are the
        test set's input functions on a finer grid.
        """
        size = self.transfer_size(problem)
        if not size:
            return None
        return problem.dataset(self.n_test, size, self.data_seed)

    def prepare(self, problem: Problem) -> None:
        self.split(problem)
        self.transfer_data(problem)

    # --- model ---------------------------------------------------------------------------
    @abc.abstractmethod
    def network(self, problem: Problem, resolution: int, generator: torch.Generator) -> nn.Module:
        """The network ``network(z, coords) -> (B, *grid)`` (see :class:`OperatorModel`) for
        data at ``resolution`` points per dim."""

    def build(self, problem: Problem, generator: torch.Generator) -> OperatorModel:
        train = self.split(problem)["train"]
        network = self.network(problem, self.data_resolution(problem), generator)
        model = OperatorModel(network, problem.family_periodic)
        labelled = train["u"].values[: self._label_count()]
        model.standardise(train[problem.family_input].values, labelled)
        return model

    def _label_count(self) -> int:
        return self.n_train if self.labels is None else self.labels

    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        train = self.split(problem)["train"]
        inputs = torch.as_tensor(train[problem.family_input].values)
        targets = torch.as_tensor(train["u"].values)
        labelled = torch.zeros(self.n_train, dtype=inputs.dtype)
        labelled[: self._label_count()] = 1.0
        for chosen in self.epochs(generator):
            yield {"input": inputs[chosen], "target": targets[chosen], "labelled": labelled[chosen]}

    # --- loss ----------------------------------------------------------------------------
    def term_names(self, problem: Problem) -> list[str]:
        return ["data"]

    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        errors = relative_errors(model(batch["input"]), batch["target"])
        mask = batch["labelled"]
        return {"data": (errors * mask).sum() / mask.sum().clamp_min(1.0)}

    # --- evaluation ----------------------------------------------------------------------
    def predict(self, model: nn.Module, inputs: np.ndarray, chunk: int = 64) -> np.ndarray:
        """The model's solutions for input functions ``(n, *grid)`` (numpy in, numpy out)."""
        param0 = next(model.parameters())
        out = []
        with torch.no_grad():
            for start in range(0, len(inputs), chunk):
                batch = torch.as_tensor(inputs[start : start + chunk])
                out.append(model(batch.to(param0.device, param0.dtype)).cpu().double())
        return torch.cat(out).numpy()

    def samples(self, model: nn.Module, problem: Problem, data: xr.Dataset) -> xr.Dataset:
        """Input, truth, prediction, error, residual and per-sample ``rel_l2`` for ``data``."""
        name = problem.family_input
        dims = ("sample", *problem.family_dims)
        inputs, truth = data[name].values, data["u"].values
        u = self.predict(model, inputs)
        rel = relative_errors(torch.as_tensor(u), torch.as_tensor(truth)).numpy()
        variables = {
            name: data[name],
            "u": (dims, u, FIELD_ATTRS["u"]),
            "u_ref": (dims, truth, FIELD_ATTRS["u_ref"]),
            "error": (dims, u - truth, FIELD_ATTRS["error"]),
            "rel_l2": ("sample", rel, {"long_name": "relative L2 error", "units": "1"}),
        }
        if problem.family_has_residual:
            r = problem.grid_residual(torch.as_tensor(inputs), torch.as_tensor(u))
            variables["residual"] = (dims, r.numpy(), FIELD_ATTRS["residual"])
        ds = xr.Dataset(variables, coords=data[name].coords)
        ds.attrs.update(input=name, resolution=int(inputs.shape[-1]), l2re=float(rel.mean()))
        return ds

    def error(self, model: nn.Module, problem: Problem) -> float:
        test = self.split(problem)["test"]
        u = self.predict(model, test[problem.family_input].values)
        return float(relative_errors(torch.as_tensor(u), torch.as_tensor(test["u"].values)).mean())

    def evaluate(self, model, problem, size=None):
        """The first test samples (a gallery); attr ``l2re`` is the whole test set's mean."""
        test = self.samples(model, problem, self.split(problem)["test"])
        gallery = test.isel(sample=slice(0, GALLERY_SIZE))
        gallery.attrs = dict(test.attrs)
        return gallery

    def results(self, model: nn.Module, problem: Problem) -> dict[str, xr.Dataset]:
        groups = {"samples": self.samples(model, problem, self.split(problem)["test"])}
        transfer = self.transfer_data(problem)
        if transfer is not None:
            ds = self.samples(model, problem, transfer)
            ds.attrs["train_resolution"] = self.data_resolution(problem)
            groups["transfer"] = ds
        return groups


def gaussian_kl(
    mean: torch.Tensor, logvar: torch.Tensor, prior_mean: torch.Tensor, prior_logvar: torch.Tensor
) -> torch.Tensor:
    """KL divergence of diagonal Gaussians ``q = N(mean, e^logvar)`` from ``p``, per sample
    (summed over the last dim), shape ``(B,)``."""
    ratio = (logvar - prior_logvar).exp()
    shift = (mean - prior_mean).pow(2) / prior_logvar.exp()
    return 0.5 * (ratio + shift - 1.0 - (logvar - prior_logvar)).sum(-1)


class GenerativeMethod(FamilyMethod):
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


class FieldModel(nn.Module):
    """A time-conditioned network on standardised joint fields, with the data's scaling.

    The fields are the family's input function and solution stacked as channels,
    ``(B, 2, *grid)``; each channel is standardised with the training data's mean and standard
    deviation (buffers, saved with the weights). ``residual_scale`` is the root mean square of
    the PDE residual of a zero solution (the size of the forcing), the unit in which physics
    terms and guidance measure residuals, so that their weights carry over between problems.

    Parameters
    ----------
    network : torch.nn.Module
        ``network(x, level) -> (B, 2, *grid)`` (see :class:`~workbench.nn.unet.TimeUNet`).
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.zeros(2))
        self.register_buffer("std", torch.ones(2))
        self.register_buffer("residual_scale", torch.tensor(1.0))

    def forward(self, x: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        """The network's output for standardised fields ``x`` at noise levels ``level`` ``(B,)``."""
        return self.network(x, level)

    def _shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (1, -1, *([1] * (x.dim() - 2)))

    def standardise(self, fields: torch.Tensor) -> torch.Tensor:
        """Physical fields ``(B, 2, *grid)`` to the network's units."""
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

    The data are a function family's input and solution stacked as two channels (``darcy2d``:
    ``(a, u)``), standardised per channel, so that one model of the joint distribution answers
    forward problems (given ``a``, samples of ``u``), inverse problems (given a few values of
    ``u``, samples of ``a`` and ``u``) and anything between.

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
    * ``l2re`` (the logged headline metric): the normalised energy distance of
      ``n_samples`` generated fields from the test set, in ``[0, 1]``, 0 for identical
      distributions.
    * The Run gets ``/samples`` (:meth:`samples`) and ``/posterior`` (:meth:`posterior` on test
      sample 0).
    """

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
        "the input, e.g. darcy2d's a), the input (a forward problem), or both.",
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

    # --- data ----------------------------------------------------------------------------
    def channels(self, problem: Problem) -> list[str]:
        """The names of the two channels: the family's input and ``u``."""
        return [problem.family_input, "u"]

    def stacked(self, problem: Problem, data: xr.Dataset) -> np.ndarray:
        """The dataset's fields as ``(n, 2, *grid)`` float64, physical units."""
        return np.stack([data[c].values for c in self.channels(problem)], axis=1)

    def standardised(self, model: FieldModel, problem: Problem, data: xr.Dataset) -> np.ndarray:
        """The dataset's fields in the model's units, ``(n, 2, *grid)`` float64 numpy (what
        distances to generated fields are measured on)."""
        with torch.no_grad():
            fields = torch.as_tensor(self.stacked(problem, data))
            return model.standardise(fields.to(model.mean)).cpu().double().numpy()

    def grid_shape(self, problem: Problem) -> tuple[int, ...]:
        """The shape of one field of the data's grid."""
        return tuple(self.split(problem)["test"][problem.family_input].shape[1:])

    def build(self, problem: Problem, generator: torch.Generator) -> FieldModel:
        network = TimeUNet(
            2,
            len(problem.family_dims),
            self.width,
            self.levels,
            all(problem.family_periodic),
            generator,
        )
        model = FieldModel(network)
        fields = torch.as_tensor(self.stacked(problem, self.split(problem)["train"]))
        with torch.no_grad():
            axes = (0, *range(2, fields.dim()))
            model.mean.copy_(fields.mean(axes))
            model.std.copy_(fields.std(axes).clamp_min(1e-12))
            if problem.family_has_residual:
                forcing = problem.grid_residual(fields[:, 0], torch.zeros_like(fields[:, 1]))
                model.residual_scale.fill_(float(forcing.pow(2).mean().sqrt()) or 1.0)
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
        """The PDE residual ``(B, *grid)`` of standardised joint fields ``x``, in units of the
        forcing (``model.residual_scale``); differentiable."""
        fields = model.physical(x)
        r = problem.grid_residual(fields[:, 0], fields[:, 1])
        return r / model.residual_scale

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
        """``n`` standardised fields ``(n, 2, *grid)`` drawn by integrating the learned ODE.

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
        if not problem.family_has_residual:
            zeta_pde = 0.0
        steps = steps or (self.guided_steps if observations is not None else self.sample_steps)
        param0 = next(model.parameters())
        generator = torch.Generator().manual_seed(int(seed))
        noise = torch.randn(
            n, 2, *self.grid_shape(problem), generator=generator, dtype=torch.float64
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
        """Standardised fields ``x`` as a Dataset on dim ``sample``: both channels in physical
        units and, for a family with a residual, each sample's residual (forcing units)."""
        with torch.no_grad():
            fields = model.physical(x).cpu().double().numpy()
            variables = {}
            dims = ("sample", *problem.family_dims)
            for i, name in enumerate(self.channels(problem)):
                attrs = dict(problem.family_attrs.get(name, {}))
                variables[name] = (dims, fields[:, i], attrs)
            if problem.family_has_residual:
                r = self.residual(model, problem, x).abs().cpu().double().numpy()
                variables["residual"] = (
                    dims,
                    r,
                    {"long_name": "|PDE residual| / forcing scale", "units": "1"},
                )
        return xr.Dataset(variables, coords=coords)

    def samples(
        self, model: FieldModel, problem: Problem, n: int | None = None, seed: int = 0
    ) -> xr.Dataset:
        """``n`` unconditional samples (default ``n_samples``) with their residual fields.

        Attrs: ``residual_mae`` (the mean absolute PDE residual in physical units, the
        metric of the PBFM and PIDM papers), ``residual_mean`` (the same in forcing units),
        ``distance`` and ``distance_normalised`` (energy distance to the test set on
        standardised fields, see :func:`~workbench.results.energy_distance`), and ``l2re``
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
        if problem.family_has_residual:
            mean_abs = float(ds["residual"].mean())
            ds.attrs["residual_mean"] = mean_abs
            ds.attrs["residual_mae"] = mean_abs * float(model.residual_scale)
            truth = self.residual(model, problem, torch.as_tensor(data).to(x)).abs()
            ds.attrs["data_residual_mae"] = float(truth.mean()) * float(model.residual_scale)
        return ds

    def error(self, model: nn.Module, problem: Problem) -> float:
        return self._evaluation_draws(model, problem)[1]

    def evaluate(self, model, problem, size=None):
        """A gallery of generated samples from fixed noise (the same draws every time), with
        attr ``l2re`` (see :meth:`error`)."""
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
        """Posterior samples of both fields given sparse observations of one sample.

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
        channels = {"solution": [1], "input": [0], "both": [0, 1]}[observed]
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


class Flow(FieldGenerator):
    """Abstract base of the flow-matching methods (Lipman et al., "Flow matching for generative
    modeling", ICLR 2023): the conditional optimal-transport path and its sampler.

    A training sample mixes noise ``x0 ~ N(0, I)`` and data ``x1`` at flow time
    ``t ~ U[0, 1]``, :math:`x_t = (1 - (1 - \\sigma_{min}) t) x_0 + t x_1`, and the network
    ``v(x_t, t)`` regresses the path's velocity :math:`x_1 - (1 - \\sigma_{min}) x_0` (term
    ``flow``). Sampling integrates ``dx/dt = v`` from noise at ``t = 0`` to ``t = 1``; the
    clean estimate at ``t`` is the one-step extrapolation :math:`x_t + (1 - t) v` (exact for
    :math:`\\sigma_{min} = 0` on a straight path).
    """

    sigma_min = param.Number(
        0.0,
        bounds=(0.0, 0.5),
        doc="Noise left at t = 1 (the PBFM code uses 0; larger trades distributional "
        "accuracy against residual accuracy).",
    )
    stochastic = param.Number(
        0.0,
        bounds=(0.0, 1.0),
        doc="PBFM's stochastic sampler below this flow time: jump to the clean estimate and "
        "re-noise to the next time (0 = off, the paper uses 0.2).",
    )

    def draw_levels(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(n, generator=generator, dtype=torch.float64)

    def schedule(self, steps: int) -> torch.Tensor:
        return torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)

    def start(self, noise: torch.Tensor, schedule: torch.Tensor) -> torch.Tensor:
        return noise

    def predict(self, model, x, level):
        t = level.reshape(-1, *([1] * (x.dim() - 1)))
        velocity = model(x, level)
        return velocity, x + (1.0 - t) * velocity

    def advance(self, x, velocity, clean, a, b, generator):
        if float(a) < self.stochastic:
            noise = torch.randn(x.shape, generator=generator, dtype=torch.float64).to(x)
            return (1.0 - (1.0 - self.sigma_min) * b) * noise + b * clean
        return x + (b - a) * velocity

    def flow_terms(
        self, model: nn.Module, batch: Batch
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The ``flow`` term, and the mixed fields ``x_t``, times ``t`` ``(B,)`` and predicted
        velocity (for methods that add terms of their own)."""
        x1 = model.standardise(batch["fields"])
        x0, t = batch["noise"], batch["level"]
        tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
        xt = (1.0 - (1.0 - self.sigma_min) * tb) * x0 + tb * x1
        velocity = model(xt, t)
        target = x1 - (1.0 - self.sigma_min) * x0
        return (velocity - target).pow(2).mean(), xt, t, velocity
