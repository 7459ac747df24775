"""Fitting a physics-informed model to observations: the data misfit of inverse problems.

An inverse problem has measurements of ``u`` at a few points and asks for what the equation
leaves open (a coefficient such as Burgers' viscosity, see the ``infer`` knob of the PINN
family). The physics-informed loss ties the field to the equation; this term ties it to the
data:

.. math:: L_\\text{data} = \\frac{1}{N} \\sum_{i=1}^{N}
    \\left(\\frac{u_\\theta(x_i) - u_i}{\\sigma_i}\\right)^2 \\Big/ \\frac{1}{N}\\sum_i
    \\sigma_i^{-2},

a mean square in ``u``'s units where every point counts by its precision (equal ``sigma``:
the plain mean square). Observations come as an ``xarray.Dataset``: one dim ``observation``,
a variable per problem dim (``x``, ``t``) with the coordinates, ``u`` and optionally
``sigma``. Without one, the regularizer makes synthetic observations from the problem's
reference solution (:func:`synthetic_observations`): ``n`` points, Gaussian noise of
``noise`` times the RMS of the reference, seeded.

A multi-component problem (a flow's ``u, v, p``) is observed in the components its
:meth:`~workbench.problems.base.Problem.observed_components` names (a flow's velocities): the
observations hold one variable per such component (``u`` and ``v``), all at the same points
with one ``sigma``, and the misfit is the mean over points and observed components.
"""

from __future__ import annotations

import numpy as np
import param
import torch
import xarray as xr

from workbench.regularizers.base import Regularizer

#: The dim indexing observations.
OBSERVATION_DIM = "observation"


def synthetic_observations(
    problem,
    n: int = 200,
    noise: float = 0.0,
    seed: int = 0,
    layout: str = "random",
    sensors: int = 10,
) -> xr.Dataset:
    """Observations of ``u`` made from the problem's reference solution, with noise.

    The points are nodes of the reference grid, so the values are the reference itself (no
    interpolation error across a shock).

    Parameters
    ----------
    problem : Problem
        Gives the reference solution (at its current coefficients: the truth).
    n : int
        Number of observations.
    noise : float
        Standard deviation of the Gaussian noise, relative to the RMS of the reference
        (0.01: one percent).
    seed : int
        Seed of the points and the noise.
    layout : {"random", "sensors"}
        ``random``: ``n`` distinct grid nodes drawn uniformly. ``sensors``: ``sensors``
        evenly spaced positions along the first dim, each recording at ``n // sensors``
        evenly spaced values of the other dims (times), like probes in an experiment.
    sensors : int
        Number of sensor positions (``layout="sensors"``).

    Returns
    -------
    xarray.Dataset
        Dim ``observation``; variables per problem dim, ``u`` (noisy), ``u_true`` and
        ``sigma``; attrs ``noise``, ``seed``, ``layout``.

    Raises
    ------
    ValueError
        For ``n`` < 1 or more than the grid has, negative ``noise``, an unknown ``layout``, or
        ``sensors`` out of range.
    """
    if layout not in ("random", "sensors"):
        raise ValueError(f"layout must be 'random' or 'sensors', got {layout!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    reference = problem.reference()
    observed_names = problem.observed_components()
    if problem.multi_component():
        full = reference.sel(component=list(observed_names))
        reference = full.isel(component=0, drop=True)
    shape = reference.shape
    if not 1 <= n <= reference.size:
        raise ValueError(f"n must be in [1, {reference.size}] (the reference grid), got {n}")
    rng = np.random.default_rng(seed)
    if layout == "random":
        flat = rng.choice(reference.size, size=n, replace=False)
        index = np.unravel_index(np.sort(flat), shape)
    else:
        if not 1 <= sensors <= min(n, shape[0]):
            raise ValueError(
                f"sensors must be in [1, {min(n, shape[0])}] (at most n and the grid's "
                f"{shape[0]} positions along {problem.dims[0]}), got {sensors}"
            )
        per_sensor = n // sensors
        rest = int(np.prod(shape[1:]))
        if per_sensor > rest:
            raise ValueError(f"n: {per_sensor} readings per sensor, but the grid has {rest}")
        where = np.linspace(0, shape[0] - 1, sensors + 2)[1:-1].round().astype(int)
        when = np.linspace(0, rest - 1, per_sensor).round().astype(int)
        first = np.repeat(where, per_sensor)
        others = np.unravel_index(np.tile(when, sensors), shape[1:])
        index = (first, *others)
    if problem.multi_component():
        return _observe_components(problem, full, index, noise, seed, layout, rng)
    values = reference.values[index]
    scale = float(np.sqrt(np.mean(reference.values**2)))
    sigma = noise * scale
    observed = values + sigma * rng.standard_normal(values.shape)
    variables = {
        d: (
            OBSERVATION_DIM,
            reference[d].values[index[i]],
            dict(problem.dim_attrs.get(d, {"long_name": d})),
        )
        for i, d in enumerate(problem.dims)
    }
    variables["u"] = (OBSERVATION_DIM, observed, {"long_name": "observed u", "units": "1"})
    variables["u_true"] = (
        OBSERVATION_DIM,
        values,
        {"long_name": "reference u at the observations", "units": "1"},
    )
    variables["sigma"] = (
        OBSERVATION_DIM,
        np.full(values.shape, sigma if sigma > 0 else 1.0),
        {"long_name": "noise standard deviation (1 where noise-free)", "units": "1"},
    )
    return xr.Dataset(variables, attrs={"noise": float(noise), "seed": int(seed), "layout": layout})


def _observe_components(problem, reference, index, noise, seed, layout, rng) -> xr.Dataset:
    """:func:`synthetic_observations` of the observed components of a multi-component
    problem: ``reference`` has dims ``("component", *dims)``; one noise scale (the RMS over the
    observed components) and one ``sigma`` for all."""
    values = reference.values[(slice(None), *index)]
    scale = float(np.sqrt(np.mean(reference.values**2)))
    sigma = noise * scale
    observed = values + sigma * rng.standard_normal(values.shape)
    variables = {
        d: (
            OBSERVATION_DIM,
            reference[d].values[index[i]],
            dict(problem.dim_attrs.get(d, {"long_name": d})),
        )
        for i, d in enumerate(problem.dims)
    }
    for i, c in enumerate(reference["component"].values):
        c = str(c)
        variables[c] = (OBSERVATION_DIM, observed[i], {"long_name": f"observed {c}", "units": "1"})
        variables[f"{c}_true"] = (
            OBSERVATION_DIM,
            values[i],
            {"long_name": f"reference {c} at the observations", "units": "1"},
        )
    variables["sigma"] = (
        OBSERVATION_DIM,
        np.full(values.shape[1:], sigma if sigma > 0 else 1.0),
        {"long_name": "noise standard deviation (1 where noise-free)", "units": "1"},
    )
    return xr.Dataset(variables, attrs={"noise": float(noise), "seed": int(seed), "layout": layout})


def check_observations(observations: xr.Dataset, problem) -> None:
    """Raise ``ValueError`` naming what is wrong with observations for ``problem``.

    They need the dim ``observation``, a variable per problem dim inside its domain, ``u``,
    no NaN or infinite values, and (if given) ``sigma`` > 0.
    """
    if not isinstance(observations, xr.Dataset):
        raise ValueError(f"observations must be an xarray.Dataset, got {type(observations)}")
    needed = [*problem.dims, *problem.observed_components()]
    missing = [v for v in needed if v not in observations.variables]
    if missing:
        raise ValueError(
            f"observations: missing {missing}; give variables {needed} (and optionally "
            f"sigma) along a dim {OBSERVATION_DIM!r}"
        )
    for name in [*needed, *(["sigma"] if "sigma" in observations.variables else [])]:
        variable = observations[name]
        if variable.dims != (OBSERVATION_DIM,):
            raise ValueError(
                f"observations[{name!r}] must have the one dim {OBSERVATION_DIM!r}, got "
                f"{variable.dims}"
            )
        values = np.asarray(variable.values, dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"observations[{name!r}]: {int(bad.sum())} NaN or infinite values (first at "
                f"observation {int(np.flatnonzero(bad)[0])}); drop or fill them first"
            )
    if observations.sizes[OBSERVATION_DIM] == 0:
        raise ValueError("observations: none given (the observation dim is empty)")
    for d in problem.dims:
        lo, hi = problem.domain[d]
        values = observations[d].values
        outside = (values < lo - 1e-12) | (values > hi + 1e-12)
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"observations[{d!r}]: {int(outside.sum())} points outside the domain "
                f"[{lo}, {hi}] of {problem.name!r} (first: observation {first}, {d}="
                f"{values[first]!r})"
            )
    if "sigma" in observations.variables and (observations["sigma"].values <= 0).any():
        raise ValueError("observations['sigma'] must be > 0 everywhere")


class Data(Regularizer):
    r"""Misfit of a physics-informed model to observations of ``u`` (inverse problems).

    Give ``observations`` (an ``xarray.Dataset``, see :mod:`workbench.regularizers.data`), or
    let the regularizer make ``n`` synthetic ones from the problem's reference with ``noise``
    (relative to the reference's RMS), ``layout`` and ``seed``. The term ``data`` is the
    precision-weighted mean square of ``u(x_i) - u_i``. Works with the PINN-family methods
    (``pinn``, ``pig``); their ``infer`` knob names the coefficients to learn from it.
    """

    title = "Data misfit (observations)"
    name = param.String("data", constant=True, doc="Registry name of this regularizer.")
    weight = param.Number(
        100.0,
        bounds=(0.0, None),
        doc="Multiplier of the data term. Its mean square is in u's units, far below the "
        "residual's early on; at weight 1, L-BFGS traded the data fit for a smaller residual "
        "and pulled the heat equation's alpha from 0.104 to 0.066; at 100 it ended at 0.0999.",
    )
    n = param.Integer(
        200, bounds=(1, 1_000_000), doc="Synthetic observations (when none are given)."
    )
    noise = param.Number(
        0.0,
        bounds=(0.0, 10.0),
        doc="Synthetic noise: standard deviation relative to the reference's RMS (0.01 = 1%).",
    )
    layout = param.Selector(
        objects=["random", "sensors"],
        default="random",
        doc="Synthetic points: random grid nodes, or fixed sensors recording over time.",
    )
    sensors = param.Integer(10, bounds=(1, 10_000), doc="Sensor positions (layout='sensors').")
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of the synthetic points and noise.")
    observations = param.ClassSelector(
        class_=xr.Dataset,
        default=None,
        allow_None=True,
        doc="Observations to fit (dim 'observation'; the problem's dims, u, optional sigma); "
        "None: synthetic ones from the reference.",
    )

    def __init__(self, **params):
        # A Run stores given observations as a dict (JSON); they come back as a Dataset.
        stored = params.get("observations")
        if isinstance(stored, dict):
            try:
                params["observations"] = xr.Dataset.from_dict(stored)
            except (ValueError, TypeError, KeyError, IndexError) as err:
                # xarray's own message ("list indices must be integers") names nothing.
                raise ValueError(
                    "observations: a dict must be the xarray.Dataset.to_dict() form of a "
                    f"Dataset (keys 'data_vars', 'coords', ...), got keys {sorted(stored)} "
                    f"({type(err).__name__}: {err})"
                ) from None
        super().__init__(**params)

    def observed(self, problem) -> xr.Dataset:
        """The observations this regularizer fits for ``problem`` (given or synthetic)."""
        if self.observations is not None:
            return self.observations
        # The reference is cached on the problem, so this costs the draw only.
        return synthetic_observations(
            problem, self.n, self.noise, self.seed, self.layout, self.sensors
        )

    def synthetic(self) -> bool:
        """Whether the observations are made from the problem's reference (truth known)."""
        return self.observations is None

    def unsuitable(self, problem, method) -> str | None:
        from workbench.methods.physics_informed.base import PhysicsInformed

        if not isinstance(method, PhysicsInformed):
            return (
                f"regularizer 'data' fits a PINN-family model at points (pinn, pig), got "
                f"{method.name!r}; operators and generative models learn from their dataset"
            )
        return None

    def check(self, problem, method) -> None:
        super().check(problem, method)
        check_observations(self.observed(problem), problem)

    def fixed(self, problem) -> dict[str, torch.Tensor]:
        """Points ``(N, D)``, values ``(N, 1)`` and precision weights ``(N, 1)`` (mean 1)."""
        observed = self.observed(problem)
        points = np.stack([observed[d].values for d in problem.dims], axis=1)
        values = np.stack(
            [observed[c].values.reshape(-1) for c in problem.observed_components()], axis=1
        )
        sigma = (
            observed["sigma"].values.reshape(-1, 1) if "sigma" in observed else np.ones_like(values)
        )
        precision = sigma**-2.0
        # train() moves every batch tensor to the run's device and precision.
        return {
            "data/points": torch.as_tensor(points),
            "data/u": torch.as_tensor(values),
            "data/weight": torch.as_tensor(precision / precision.mean()),
        }

    def points(self, problem) -> xr.Dataset:
        """The observations in a Run's ``/points`` layout: set ``observations``."""
        observed = self.observed(problem)
        variables = {
            f"observations_{d}": (
                "observations",
                observed[d].values,
                {"long_name": f"observation points {d}"},
            )
            for d in problem.dims
        }
        for c in problem.observed_components():
            variables[f"observations_{c}"] = ("observations", observed[c].values, {"long_name": c})
        return xr.Dataset(variables)

    def terms(self, model, problem, batch, params, objective):
        # ``objective.predict`` evaluates the method's field with the current parameters.
        predicted = objective.predict(batch["data/points"])
        if problem.multi_component():
            observed = [problem.components.index(c) for c in problem.observed_components()]
            predicted = predicted[:, observed]
        misfit = (predicted - batch["data/u"]).pow(2) * batch["data/weight"]
        return {"data": misfit.mean()}
