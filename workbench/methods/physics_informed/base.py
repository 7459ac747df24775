"""The physics-informed family: a field network trained at collocation points (PINN, PIG).

**Multi-component fields** (a flow's ``(u, v, p)``, see :attr:`Problem.components
<workbench.problems.base.Problem.components>`): the network has one output per component, the
field jet one channel per component, and the residual one column per equation; the residual
loss term is the mean over points of the mean square over equations (one column: the plain
mean square, as before). :meth:`PhysicsInformed.residual` returns the per-point Euclidean norm
over equations (what adaptive samplers rank points by), :meth:`PhysicsInformed.residuals` the
columns. With ``formulation="stream_function"`` (problems whose :attr:`stream_function
<workbench.problems.base.Problem.stream_function>` is set) the network outputs a stream
function ``psi`` and the remaining components (``p``), and the field is ``u = psi_y``,
``v = -psi_x``: divergence-free by construction. Its jet needs derivatives of ``psi`` up to
order three, mixed ones included, which the forward :class:`~workbench.calculus.Jet` does not
carry (pure second derivatives only); the field and its derivatives are therefore taken by
nested reverse-mode autograd (:func:`autograd_jet`), whatever the ``derivatives`` knob says.
That costs: one loss and backward pass on ``kovasznay2d`` (4x50 tanh, 2000 interior points,
float32, 1 thread; ``benchmarks/navier_stokes_pinn.py --cost``) took 26 CPU ms with the
velocity-pressure output and forward jets, 75 ms with autograd, 170 ms with the stream
function. Extending the forward jet to mixed and third derivatives would bring the stream
function near the forward cost; the velocity-pressure output with exact wall data is the
recipe that reaches the accuracy targets.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterator, Mapping
from copy import copy

import param
import torch
import xarray as xr
from torch import nn

from workbench.calculus import Jet, coordinate_jets, jet_by_autograd
from workbench.evaluation import evaluate_fields, points_dataset, relative_l2
from workbench.methods.base import Batch, Method
from workbench.nn.coefficients import Coefficients, Unknown
from workbench.problems.base import Problem
from workbench.problems.conditions import Condition
from workbench.problems.plain import plain_view
from workbench.problems.points import columns
from workbench.sampling import RARD, SAMPLERS
from workbench.sampling.base import Sampler


def autograd_jet(
    fn: Callable[[torch.Tensor], torch.Tensor],
    points: torch.Tensor,
    dims: tuple[str, ...],
    orders: Mapping[str, int],
    *,
    need_input_graph: bool = False,
) -> Jet:
    """A :class:`~workbench.calculus.Jet` of a field with several channels by reverse-mode
    autograd (:func:`~workbench.calculus.jet_by_autograd` takes one channel).

    Parameters
    ----------
    fn : callable
        Maps points ``(N, D)`` to values ``(N, C)``; with ``need_input_graph`` it may itself
        differentiate with respect to its input (the stream function's velocity).
    points : torch.Tensor
        ``(N, D)``, columns named by ``dims``.
    dims, orders
        As in :func:`~workbench.calculus.coordinate_jets`.
    need_input_graph : bool
        Give ``fn`` points that require grad even where no derivative is asked for.

    Notes
    -----
    One backward pass per channel for the first derivatives and one per channel and second
    dim for the pure second ones: ``C (1 + len(second))`` passes, each through ``fn``'s graph.
    """
    first = tuple(d for d in dims if orders.get(d, 0) >= 1)
    second = tuple(d for d in dims if orders.get(d, 0) >= 2)
    points = points.detach().requires_grad_(bool(first) or need_input_graph)
    value = fn(points)
    if not first:
        return Jet([value], first, second)
    channels = value.shape[1]
    grads = [
        torch.autograd.grad(value[:, c].sum(), points, create_graph=True)[0]
        for c in range(channels)
    ]
    parts = [value]
    parts += [torch.stack([g[:, dims.index(d)] for g in grads], 1) for d in first]
    for d in second:
        i = dims.index(d)
        parts.append(
            torch.stack(
                [
                    torch.autograd.grad(g[:, i].sum(), points, create_graph=True)[0][:, i]
                    for g in grads
                ],
                1,
            )
        )
    return Jet(parts, first, second)


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
      :mod:`workbench.sampling`).
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
        label="Interior points",
        bounds=(1, 1_000_000),
        doc="Collocation points (None = 512 in 1D, 2048 in 2D: 512 * 4^(D-1)).",
    )
    n_boundary = param.Integer(
        100,
        bounds=(1, 100_000),
        label="Points per boundary condition",
        doc="Points per boundary condition (and per periodic or other non-initial condition).",
    )
    n_initial = param.Integer(
        100,
        bounds=(1, 100_000),
        label="Initial-condition points",
        doc="Points for the initial condition.",
    )
    sampling = param.Selector(
        objects=["sobol", "uniform"],
        label="Point draws",
        default="sobol",
        doc="How points are drawn (interior and conditions): scrambled Sobol (evenly spread) "
        "or uniform random.",
    )
    sampler = param.Selector(
        objects=["fixed", "resample", "r3", "causal_r3", "rar_d"],
        label="Interior point updates",
        default="fixed",
        doc="How the interior points move: fixed, fresh every k steps, R3 (keep high-residual "
        "points), causal R3 (R3 gated in time), RAR-D (add points where the residual is large).",
    )
    resample_every = param.Integer(
        1,
        bounds=(1, 1_000_000),
        label="Steps between updates",
        doc="Steps between sampler updates (not for 'fixed').",
    )
    rar_add = param.Integer(
        32,
        bounds=(1, 100_000),
        label="RAR-D points per update",
        doc="RAR-D: points added per update (from a pool of 32x).",
    )
    causal_eps = param.Number(
        0.0,
        bounds=(0.0, 1e4),
        doc="Causal weighting of the residual in time (0 = off): a time chunk counts with "
        "weight exp(-eps * residual of the earlier chunks).",
    )
    causal_chunks = param.Integer(32, bounds=(2, 1024), doc="Time chunks of the causal weighting.")
    formulation = param.Selector(
        objects=["primitive", "stream_function"],
        default="primitive",
        doc="What the network outputs: the field's components themselves (a flow's u, v, p), "
        "or, for 2D incompressible flows, a stream function psi and p (u = psi_y, "
        "v = -psi_x: divergence-free by construction; derivatives by autograd).",
    )
    infer = param.Dict(
        default={},
        doc="Problem coefficients to learn from observations (the 'data' regularizer), with "
        "initial guesses: {'nu': 0.05}; {'nu': None} starts at the middle of the knob's range; "
        "{'nu': {'guess': 0.05, 'bounds': [0.001, 0.1]}} keeps it inside bounds. Positive "
        "coefficients are learned as their logarithm.",
    )

    knob_groups = {
        "Sampling (collocation points)": (
            "n_interior",
            "n_boundary",
            "n_initial",
            "sampling",
            "sampler",
            "resample_every",
            "rar_add",
        )
    }

    def supports(self, problem: Problem) -> bool:
        return True

    def unused_knobs(self, problem: Problem) -> set[str]:
        conditions = [c.name for c in self._conditions(problem)]
        unused = set()
        if "initial" not in conditions:
            unused.add("n_initial")
        if not [c for c in conditions if c != "initial"]:
            unused.add("n_boundary")
        if "t" not in problem.dims:
            unused |= {"causal_eps", "causal_chunks"}
        elif not self.causal_eps:
            unused.add("causal_chunks")
        if not problem.stream_function:
            unused.add("formulation")
        elif self.formulation == "stream_function":
            unused.add("derivatives")
        if self.sampler == "fixed":
            unused.add("resample_every")
        if self.sampler != "rar_d":
            unused.add("rar_add")
        return unused

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if self.hard_constraints and not problem.constrained:
            raise ValueError(
                f"hard_constraints: problem {problem.name!r} offers no exact-constraint "
                "transform; set hard_constraints=False"
            )
        if self.formulation == "stream_function" and not problem.stream_function:
            from workbench.problems import PROBLEMS  # the registry, for the message only

            flows = ", ".join(n for n, cls in PROBLEMS.items() if cls.stream_function)
            raise ValueError(
                f"formulation: 'stream_function' needs a 2D incompressible flow; "
                f"{problem.name!r} has components {problem.components}. Problems with one: "
                f"{flows}. Use formulation='primitive'"
            )
        if self.hard_constraints and self.formulation == "stream_function":
            raise ValueError(
                "hard_constraints: the exact-constraint transforms act on the field's "
                "components, not on a stream function; set hard_constraints=False or "
                "formulation='primitive'"
            )
        tied = [k for k in self.infer if self.hard_constraints and k in problem.constraint_knobs]
        if tied:
            raise ValueError(
                f"infer: {', '.join(tied)} of {problem.name!r} sets the boundary data of its "
                "exact-constraint transform and cannot be learned with hard_constraints=True; "
                "set hard_constraints=False"
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
        """The network: ``model(coords)`` maps coordinate jets to the raw output jet, with
        :meth:`outputs` channels."""

    def outputs(self, problem: Problem) -> int:
        """Number of network outputs: one per component, or, with the stream function, ``psi``
        in place of ``u, v``."""
        count = len(problem.components)
        return count - 1 if self.formulation == "stream_function" else count

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
        """The field and its derivatives of the given ``orders`` at ``points`` ``(N, D)``
        (one channel per component of the problem)."""
        if self.formulation == "stream_function":
            return self._stream_field(model, problem, points, orders)
        if self.derivatives == "autograd" and any(orders.values()) and problem.multi_component():
            return autograd_jet(
                lambda p: self.field(model, problem, p, {}).value, points, problem.dims, orders
            )
        if self.derivatives == "autograd" and any(orders.values()):
            return jet_by_autograd(
                lambda p: self.field(model, problem, p, {}).value, points, problem.dims, orders
            )
        coords = coordinate_jets(points, problem.dims, orders)
        net = model(coords)
        return problem.constrain(coords, net) if self.hard_constraints else net

    def _stream_field(
        self, model: nn.Module, problem: Problem, points: torch.Tensor, orders: Mapping[str, int]
    ) -> Jet:
        ix, iy = problem.dims.index("x"), problem.dims.index("y")

        def velocity(p: torch.Tensor) -> torch.Tensor:
            raw = model(coordinate_jets(p, problem.dims, {})).value
            (grad,) = torch.autograd.grad(raw[:, 0].sum(), p, create_graph=True)
            return torch.cat([grad[:, iy : iy + 1], -grad[:, ix : ix + 1], raw[:, 1:]], 1)

        # Autograd needs a graph even where the caller evaluates without one (predictions).
        with torch.enable_grad():
            return autograd_jet(velocity, points, problem.dims, orders, need_input_graph=True)

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
        """The :class:`~workbench.sampling.Sampler` named by the ``sampler`` knob."""
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
        # Mean square over the equations per point (one equation: its square, unchanged).
        squared = r.pow(2).mean(1)
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
        given = problem
        problem = self.with_unknowns(model, problem)
        interior = batch["interior"]
        u = self.field(model, problem, interior, problem.derivatives)
        residual = problem.residual(columns(interior, problem.dims), u)
        terms = {"residual": self._residual_term(problem, interior, residual)}

        def evaluate(points, orders):
            return self.field(model, problem, points, orders)

        # Boundary and initial values are data, known at the given coefficients: a flow's
        # wall velocities depend on Re, and must not follow the estimate being learned.
        for cond in self._conditions(given):
            terms[cond.name] = cond.mismatch(evaluate, batch[cond.name]).pow(2).mean()
        return terms

    def predict(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The field at points ``(N, D)``, shape ``(N, C)`` (one column per component)."""
        return self.field(model, problem, points, {}).value

    def residuals(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The PDE residual of the model's field at points ``(N, D)``, one column per equation
        ``(N, E)`` (with the learned coefficients where some are inferred)."""
        problem = self.with_unknowns(model, problem)
        u = self.field(model, problem, points, problem.derivatives)
        return problem.residual(columns(points, problem.dims), u)

    def residual(self, model: nn.Module, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """The PDE residual of the model's field at points ``(N, D)``, shape ``(N, 1)``: the
        residual itself for one equation, its Euclidean norm over several (see
        :meth:`residuals`)."""
        r = self.residuals(model, problem, points)
        return r if r.shape[1] == 1 else r.pow(2).sum(1, keepdim=True).sqrt()

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
        if problem.multi_component():
            # (N, C) -> (C, *grid), the reference's layout; the metric is over all components.
            u = u.T
        u = u.detach().cpu().double().numpy()
        return relative_l2(u.reshape(reference.shape), reference.values)

    def points(self, model: nn.Module, problem: Problem, batch: Batch) -> xr.Dataset:
        """The batch's point sets and the model's :meth:`anchors`."""
        return xr.merge([points_dataset(batch, problem.dims), self.anchors(model, problem)])

    def anchors(self, model: nn.Module, problem: Problem) -> xr.Dataset:
        """Point-like parts of the model to show and save in ``/points`` (e.g. Gaussian
        centres, widths and weights); empty for models that have none."""
        return xr.Dataset()
