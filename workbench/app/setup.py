"""A training set-up (problem, method, regularizers, combiner, training knobs) and its URL query.

The query holds only what differs from the defaults, so a shared link stays short and keeps
meaning the same thing when a default is not touched::

    ?problem=burgers1d&method=pinn&p.nu=0.005&m.width=64&reg=weight_decay&r.weight_decay.weight=0.001&combiner=lra&c.alpha=0.2&w.initial=10&t.steps=3000

The combiner of the loss terms appears only when it is not the default ``sum``; ``w.<term>``
are fixed weights of the method's loss terms.

Values are JSON (``param``'s own serialisation), so numbers, booleans and ``null`` read back
exactly; param checks bounds and types when they are assigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import param

from workbench.combiners import COMBINERS, Sum
from workbench.combiners.base import Combiner
from workbench.methods import METHODS
from workbench.methods.base import Method
from workbench.problems import PROBLEMS
from workbench.problems.base import Problem
from workbench.regularizers import REGULARIZERS
from workbench.regularizers.base import Regularizer
from workbench.results import knobs
from workbench.train import Training

#: Query-key prefix of each part's knobs.
PREFIXES = {"problem": "p", "method": "m", "training": "t", "combiner": "c"}

#: The combiner a set-up has unless it says otherwise (left out of queries).
DEFAULT_COMBINER = Sum.name


@dataclass
class Setup:
    """Everything a Train press needs, as fresh objects (editing them touches no running job)."""

    problem: Problem
    method: Method
    regularizers: list[Regularizer] = field(default_factory=list)
    training: Training = field(default_factory=Training)
    #: How the loss terms become one update (:data:`workbench.combiners.COMBINERS`).
    combiner: Combiner = field(default_factory=Sum)
    #: Fixed multipliers of the method's loss terms (``train(weights=...)``; default 1 each).
    weights: dict[str, float] = field(default_factory=dict)

    def copy(self) -> Setup:
        """Independent copies of every part: a training keeps the knobs it started with."""
        problem = type(self.problem)(**knobs(self.problem))
        # The reference cache is keyed by the knob values, so sharing it is safe, and it spares
        # a copy from solving again what the live preview has already solved.
        problem.__dict__["_reference_cache"] = self.problem.__dict__.setdefault(
            "_reference_cache", {}
        )
        return Setup(
            problem,
            type(self.method)(**knobs(self.method)),
            [type(r)(**knobs(r)) for r in self.regularizers],
            Training(**knobs(self.training)),
            type(self.combiner)(**knobs(self.combiner)),
            dict(self.weights),
        )


def _changed(obj: param.Parameterized) -> dict:
    defaults = {k: p.default for k, p in obj.param.objects("existing").items()}
    return {k: v for k, v in knobs(obj).items() if v != defaults[k]}


def _encode(obj: param.Parameterized, name: str) -> str:
    value = getattr(obj, name)
    if isinstance(value, str):
        return value  # a bare name reads better in a URL than a quoted JSON string
    return obj.param.serialize_value(name, mode="json")


def _decode(obj: param.Parameterized, name: str, text: str):
    p = obj.param[name]
    if isinstance(p, param.Selector):
        for choice in p.objects:
            if str(choice) == text:
                return choice
    if isinstance(p, param.String):
        return text
    try:
        return obj.param.deserialize_value(name, text, mode="json")
    except ValueError:
        if isinstance(p, param.Selector):
            raise ValueError(f"allowed: {', '.join(map(str, p.objects))}") from None
        raise ValueError("not a number, true/false or null") from None


def parse_weight(name: str, text: str) -> float:
    """A term weight from text: a finite number >= 0, or ``ValueError`` naming ``name``."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None
    if not (value >= 0 and value != float("inf")):
        raise ValueError(f"{name}: the weight must be a finite number >= 0, got {text!r}")
    return value


def parse_weights(text: str) -> dict[str, float]:
    """``"residual=1e-4, boundary=10"`` as ``{"residual": 1e-4, "boundary": 10.0}``."""
    weights = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        term, sep, value = item.partition("=")
        if not sep or not term.strip():
            raise ValueError(f"term weights: expected term=number, got {item.strip()!r}")
        weights[term.strip()] = parse_weight(f"weight of {term.strip()!r}", value.strip())
    return weights


def to_query(setup: Setup) -> dict[str, str]:
    """The query parameters that reproduce ``setup`` (defaults left out)."""
    query = {"problem": setup.problem.name, "method": setup.method.name}
    if setup.combiner.name != DEFAULT_COMBINER:
        query["combiner"] = setup.combiner.name
    for part in ("problem", "method", "training", "combiner"):
        obj = getattr(setup, part)
        for name in _changed(obj):
            query[f"{PREFIXES[part]}.{name}"] = _encode(obj, name)
    for term, weight in setup.weights.items():
        query[f"w.{term}"] = repr(float(weight))
    if setup.regularizers:
        query["reg"] = ",".join(r.name for r in setup.regularizers)
        for reg in setup.regularizers:
            for name in _changed(reg):
                query[f"r.{reg.name}.{name}"] = _encode(reg, name)
    return query


def _set(obj: param.Parameterized, key: str, name: str, text: str) -> None:
    if name not in knobs(obj):
        raise ValueError(
            f"{key}: {obj.name!r} has no knob {name!r}; allowed: {', '.join(knobs(obj))}"
        )
    try:
        setattr(obj, name, _decode(obj, name, text))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{key}={text}: {err}") from None


def _known(registry: Mapping[str, type], kind: str, key: str, name: str, errors: list) -> bool:
    if name in registry:
        return True
    errors.append(f"{key}={name}: unknown {kind} {name!r}; allowed: {', '.join(registry)}")
    return False


def read_query(
    query: Mapping[str, str], default_problem: str = "burgers1d"
) -> tuple[Setup, list[str]]:
    """A :class:`Setup` from query parameters made by :func:`to_query`, and what was wrong.

    Every key is checked, so a link with several mistakes reports them all at once. A bad key
    is left out (its part keeps its default); an unknown problem, method or combiner falls
    back to the default one, and a method that cannot solve the problem to the first that can;
    a regularizer that does not apply to the problem and method is left out.

    Returns
    -------
    setup : Setup
        The set-up from the good keys.
    errors : list of str
        One message per bad key, naming the key and what it allows; empty when all were good.
    """
    errors: list[str] = []
    problem_name = query.get("problem", default_problem)
    if not _known(PROBLEMS, "problem", "problem", problem_name, errors):
        problem_name = default_problem
    problem = PROBLEMS[problem_name]()
    supported = [n for n, cls in METHODS.items() if cls().supports(problem)]
    method_name = query.get("method", "pinn" if "pinn" in supported else supported[0])
    if not _known(METHODS, "method", "method", method_name, errors):
        method_name = supported[0]
    elif method_name not in supported:
        errors.append(
            f"method={method_name}: {method_name!r} cannot solve problem {problem.name!r}; "
            f"allowed: {', '.join(supported)}"
        )
        method_name = supported[0]
    method = METHODS[method_name]()
    regularizers = {}
    for name in (n for n in query.get("reg", "").split(",") if n):
        if _known(REGULARIZERS, "regularizer", "reg", name, errors):
            regularizers[name] = REGULARIZERS[name]()
    combiner_name = query.get("combiner", DEFAULT_COMBINER)
    if not _known(COMBINERS, "combiner", "combiner", combiner_name, errors):
        combiner_name = DEFAULT_COMBINER
    combiner = COMBINERS[combiner_name]()
    dropped = set()  # inapplicable regularizers: reported once, their knob keys skipped
    for name, reg in list(regularizers.items()):
        reason = reg.unsuitable(problem, method)
        if reason is not None:
            errors.append(f"reg={name}: {reason}")
            del regularizers[name]
            dropped.add(name)
    setup = Setup(problem, method, list(regularizers.values()), Training(), combiner)
    owners = {"p": problem, "m": method, "t": setup.training, "c": combiner}
    for key, text in query.items():
        if key in ("problem", "method", "reg", "combiner"):
            continue
        prefix, _, rest = key.partition(".")
        try:
            if prefix == "w":
                setup.weights[rest] = parse_weight(key, text)
            elif prefix == "r":
                reg_name, _, knob = rest.partition(".")
                if reg_name in dropped:
                    continue
                if reg_name not in regularizers:
                    raise ValueError(f"{key}: regularizer {reg_name!r} is not in reg")
                _set(regularizers[reg_name], key, knob, text)
            elif prefix in owners and rest:
                _set(owners[prefix], key, rest, text)
            else:
                raise ValueError(
                    f"unknown query key {key!r}; expected problem, method, reg, combiner, "
                    "p.*, m.*, r.*, c.*, w.*, t.*"
                )
        except ValueError as err:
            errors.append(str(err))
    return setup, errors


def from_query(query: Mapping[str, str], default_problem: str = "burgers1d") -> Setup:
    """Rebuild a :class:`Setup` from query parameters made by :func:`to_query`.

    Raises
    ------
    ValueError
        Naming every query key at fault (see :func:`read_query`): unknown problem, method
        (or one that cannot solve the problem), regularizer, combiner or knob, or a value out
        of its knob's bounds.
    """
    setup, errors = read_query(query, default_problem)
    if errors:
        raise ValueError("; ".join(errors))
    return setup
