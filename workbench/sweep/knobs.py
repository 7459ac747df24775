"""The knobs of a sweep: which part of a set-up a grid key names, and the point specs.

A grid key names a knob of the problem, the method, the training, the combiner or a
regularizer (:func:`resolve_knob`); :func:`resolve_grid` checks each key's values against the
knob's bounds. Each point of the grid is then a spec: a plain dict of every knob of its set-up
(:func:`point_spec`, :func:`set_knob`), which travels to a worker and is built there
(:func:`build_point`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import param

from workbench.combiners import COMBINERS
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.regularizers import REGULARIZERS
from workbench.results import describe_bounds, knobs
from workbench.sweep.storage import RESERVED_NAMES
from workbench.train import Training, train

#: Knobs measured in something other than plain numbers.
KNOB_UNITS = {"steps": "steps", "lbfgs_steps": "steps", "max_wall_s": "s", "lr": "1"}


# --- the knobs of a sweep --------------------------------------------------------------------
@dataclass(frozen=True)
class Knob:
    """One swept knob: where it lives and the values it takes.

    Attributes
    ----------
    key : str
        As the user wrote it (``beta``, ``method.width``, ``weight_decay.weight``, ``seed``).
    dim : str
        The Dataset's dimension name: the knob's name, or ``<owner>_<name>`` for regularizer
        and combiner knobs.
    owner : str
        ``problem``, ``method``, ``training``, ``combiner`` or a regularizer's name.
    name : str
        The Parameter's name on its owner.
    values : tuple
        The values, in the order given.
    attrs : dict
        The coordinate's attrs: ``long_name``, ``owner`` and ``units`` where known.
    """

    key: str
    dim: str
    owner: str
    name: str
    values: tuple
    attrs: dict


def knob_owners(problem, method, regularizers=(), combiner=None) -> dict:
    """The parts of a set-up whose knobs a grid key can name, by owner name.

    ``problem``, ``method``, ``training`` (a default :class:`~workbench.train.Training`, for
    its Parameters), ``combiner`` and each regularizer by its name.
    """
    owners = {"problem": problem, "method": method, "training": Training(), "combiner": combiner}
    owners.update({reg.name: reg for reg in regularizers})
    return owners


def resolve_knob(key: str, problem, method, regularizers=(), combiner=None) -> tuple[str, str]:
    """Find which part of a set-up a knob key names.

    Parameters
    ----------
    key : str
        ``name`` (a knob of the problem, the method or :class:`~workbench.train.Training`,
        ``seed`` included) or ``owner.name`` with owner ``problem``, ``method``,
        ``training``, ``combiner`` or a regularizer's name.
    problem, method, regularizers, combiner
        The set-up.

    Returns
    -------
    (owner, name) : tuple of str

    Raises
    ------
    ValueError
        When no part (or more than one, without a prefix) has that knob.
    """
    owners = knob_owners(problem, method, regularizers, combiner)
    scope, _, name = key.rpartition(".")
    if scope:
        if scope not in owners or owners[scope] is None:
            allowed = ", ".join(k for k, v in owners.items() if v is not None)
            raise ValueError(f"grid {key!r}: unknown prefix {scope!r}; allowed: {allowed}")
        if name not in knobs(owners[scope]):
            allowed = ", ".join(knobs(owners[scope])) or "none"
            raise ValueError(f"grid {key!r}: {scope} has no knob {name!r}; its knobs: {allowed}")
        return scope, name
    found = [s for s in ("problem", "method", "training") if name in knobs(owners[s])]
    if not found:
        allowed = sorted(set(knobs(problem)) | set(knobs(method)) | set(knobs(Training())))
        raise ValueError(
            f"grid {key!r}: no such knob of problem {problem.name!r}, method {method.name!r} "
            f"or training (regularizer and combiner knobs need a prefix, e.g. "
            f"weight_decay.weight); allowed: {', '.join(allowed)}"
        )
    if len(found) > 1:
        raise ValueError(
            f"grid {key!r}: ambiguous; write {' or '.join(f'{s}.{key}' for s in found)}"
        )
    return found[0], name


def resolve_grid(
    grid: Mapping[str, Sequence], problem, method, regularizers=(), combiner=None
) -> list[Knob]:
    """The swept knobs of ``grid``, each key resolved and each value checked.

    Parameters
    ----------
    grid : mapping
        Knob key -> values, as for :func:`~workbench.sweep.sweep`.
    problem, method, regularizers, combiner
        The set-up.

    Returns
    -------
    list of Knob
        In the order of ``grid``.

    Raises
    ------
    ValueError
        When a key names no knob, its values are empty, repeat or out of the knob's bounds,
        its dimension would clash with a variable of the result, or a knob is swept twice.
    """
    owners = knob_owners(problem, method, regularizers, combiner)
    swept: list[Knob] = []
    for key, values in grid.items():
        owner, name = resolve_knob(key, problem, method, regularizers, combiner)
        values = tuple(values.tolist() if isinstance(values, np.ndarray) else values)
        if not values:
            raise ValueError(f"grid {key!r}: give at least one value")
        if len(set(map(repr, values))) < len(values):
            raise ValueError(f"grid {key!r}: values repeat: {list(values)}")
        p = owners[owner].param.objects("existing")[name]
        for value in values:
            try:
                p._validate(value)
            except (ValueError, TypeError) as err:
                raise ValueError(
                    f"grid {key!r}: {value!r} is not allowed ({str(err).rstrip('.')}); "
                    f"allowed: {describe_bounds(p)}"
                ) from None
        dim = name if owner in ("problem", "method", "training") else f"{owner}_{name}"
        if dim in RESERVED_NAMES:
            raise ValueError(
                f"grid {key!r}: {dim!r} names a variable or grid dim of the result; a knob "
                f"of that name cannot be swept"
            )
        if any(k.dim == dim for k in swept):
            raise ValueError(f"grid {key!r}: knob {dim!r} is swept twice")
        swept.append(Knob(key, dim, owner, name, values, _knob_attrs(owner, p)))
    return swept


def _knob_attrs(owner: str, p: param.Parameter) -> dict:
    attrs = {"long_name": (p.doc or p.name).strip().split("\n")[0].rstrip("."), "owner": owner}
    if p.name in KNOB_UNITS:
        attrs["units"] = KNOB_UNITS[p.name]
    elif owner == "problem" and isinstance(p, param.Number):
        attrs["units"] = "1"  # the PDEs are written in nondimensional form
    return attrs


# --- point specs: plain dicts that travel to workers --------------------------------------------
def point_spec(problem, method, regularizers, combiner, settings: Mapping) -> dict:
    return {
        "problem": {"name": problem.name, "params": knobs(problem)},
        "method": {"name": method.name, "params": knobs(method)},
        "regularizers": [{"name": r.name, "params": knobs(r)} for r in regularizers],
        "combiner": None
        if combiner is None
        else {"name": combiner.name, "params": knobs(combiner)},
        # Every training knob, defaults included: the same training has the same point key
        # whether a default was written out or not.
        "training": knobs(Training(**{k: v for k, v in settings.items() if k != "weights"})),
        "weights": dict(settings.get("weights") or {}),
    }


def set_knob(spec: dict, owner: str, name: str, value) -> None:
    if owner in ("problem", "method", "combiner"):
        spec[owner]["params"][name] = value
    elif owner == "training":
        spec["training"][name] = value
    else:
        next(r for r in spec["regularizers"] if r["name"] == owner)["params"][name] = value


def build_point(spec: dict):
    """Problem, method, regularizers, combiner and settings from a spec (raises on bad knobs)."""
    problem = PROBLEMS[spec["problem"]["name"]](**spec["problem"]["params"])
    method = METHODS[spec["method"]["name"]](**spec["method"]["params"])
    regularizers = [REGULARIZERS[r["name"]](**r["params"]) for r in spec["regularizers"]]
    combiner = spec["combiner"]
    if combiner is not None:
        combiner = COMBINERS[combiner["name"]](**combiner["params"])
    settings = {**spec["training"], "weights": spec["weights"]}
    return problem, method, regularizers, combiner, settings


def check_point(spec: dict, where: str) -> None:
    """Raise ``ValueError`` (its message led by ``where``) if the spec's set-up cannot train."""
    try:
        problem, method, regularizers, combiner, settings = build_point(spec)
        # train() checks the whole combination; its generator has not started, so closing it
        # costs nothing.
        train(problem, method, regularizers, combiner, **settings).close()
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: {err}") from None
