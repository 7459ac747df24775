"""Fuzzing every knob of every registry entry through the Python API and the CLI.

Shared by ``tests/test_fuzz_knobs.py`` (a few hundred examples in CI) and
``benchmarks/fuzz_knobs.py`` (thousands, with a table per registry).

For each entry of each registry (problems, methods, regularizers, combiners, samplers, and the
training knobs with the CLI's own flags), hypothesis draws a :class:`Case`: a problem, a method,
regularizers and a combiner, values for some of the entry's knobs taken from inside *and*
outside their declared bounds and types (in-range values, exact bounds, out-of-range numbers,
wrong types, NaN/inf, huge integers, empty or unknown strings, unknown knob names,
incompatible problem/method pairs), and a front end:

* ``api``: construct the objects, validate with ``train(...).close()`` (which checks the whole
  combination before any work, as the CLI does), then ``workbench.fit(...)`` for a few steps;
* ``cli``: ``workbench.cli.main(["run", ...])`` in-process, stdout and stderr captured.

:func:`execute` classifies each case:

``ok``
    Trained to the end (``done`` with finite losses and metric, or ``diverged``/``stopped``
    with a message), or, for a case too expensive to train in a fuzz run (a knob at the top
    of its range), passed validation.
``refused``
    A clean refusal: a ``ValueError`` or ``TypeError`` raised while constructing or validating
    (before any work), whose message names a knob, flag or registry name involved, and which
    was not raised from inside a third-party library (torch, numpy, ...); for the CLI, exit
    code 2 with exactly one ``error: ...`` line naming the knob or flag, and no traceback.
``failure``
    Anything else: another exception type, an exception once training started, a traceback
    out of the CLI, a non-finite value accepted, NaN reported as success, a case that runs past
    :data:`TIME_LIMIT_S`. The record's ``repro`` reproduces it.

Cheap by construction: every method starts from tiny sizes (:data:`BASE_METHOD`), training
runs 1-3 steps without evaluations, and a case whose in-range values exceed
:data:`CHEAP` (e.g. ``n_train=100000``) is only constructed and validated.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import shlex
import shutil
import signal
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import param
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.combiners import COMBINERS
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.regularizers import REGULARIZERS
from workbench.sampling import SAMPLERS
from workbench.train import Training

#: Seconds one case may take before it counts as a hang.
TIME_LIMIT_S = 120

#: Registries fuzzed, in table order; ``training`` covers the Training knobs and the CLI's own
#: flags (--weight, --epochs, --infer, --observe, --noise, --sensors).
REGISTRIES = {
    "problem": list(PROBLEMS),
    "method": list(METHODS),
    "regularizer": list(REGULARIZERS),
    "combiner": list(COMBINERS),
    "sampler": list(SAMPLERS),
    "training": ["training"],
}

#: Knobs of the PINN family that configure its collocation sampler (the samplers' knobs).
SAMPLER_KNOBS = ("sampler", "resample_every", "rar_add", "causal_eps", "causal_chunks")

_FAMILY_SMALL = {"resolution": 16, "n_train": 4, "n_test": 2, "batch_size": 2}
_GENERATOR_SMALL = {
    **_FAMILY_SMALL,
    "width": 4,
    "levels": 1,
    "sample_steps": 2,
    "n_samples": 2,
    "guided_steps": 2,
    "posterior_samples": 2,
}
_PINN_SMALL = {"n_interior": 16, "n_boundary": 8, "n_initial": 8}
#: Method knobs every case starts from (tiny networks and datasets); fuzzed knobs override them.
BASE_METHOD: dict[str, dict] = {
    "pinn": {**_PINN_SMALL, "width": 8, "depth": 1},
    "pig": {**_PINN_SMALL, "gaussians": 16, "width": 4},
    "fno": {**_FAMILY_SMALL, "modes": 4, "width": 4, "layers": 1, "projection": 8},
    "deeponet": {**_FAMILY_SMALL, "width": 8, "depth": 1, "basis": 4},
    "multionet": {**_FAMILY_SMALL, "width": 8, "depth": 1, "sum_layers": 1},
    "vae": {**_FAMILY_SMALL, "latent": 2, "width": 8, "depth": 1},
    "phys_vae": {**_FAMILY_SMALL, "width": 8, "depth": 1},
    "vano": {**_FAMILY_SMALL, "latent": 2, "width": 8, "depth": 1, "modes": 4},
    "flow_matching": dict(_GENERATOR_SMALL),
    "pbfm": dict(_GENERATOR_SMALL),
    "diffusion": dict(_GENERATOR_SMALL),
}
#: Training knobs every case starts from.
BASE_TRAINING = {"steps": 2, "eval_every": 0, "lbfgs_steps": 0, "snapshot_every": 0}

#: Largest in-range value of a knob that a fuzz run still trains with; above it (or for
#: ``compile=True``) a case is only constructed and validated.
CHEAP = {
    "solver_nodes": 65,
    "n_interior": 64,
    "n_boundary": 32,
    "n_initial": 32,
    "width": 16,
    "depth": 2,
    "gaussians": 64,
    "channels": 8,
    "fourier_features": 16,
    "rar_add": 32,
    "causal_chunks": 16,
    "resolution": 32,
    "transfer_resolution": 32,
    "n_train": 6,
    "n_test": 3,
    "batch_size": 8,
    "labels": 6,
    "modes": 8,
    "layers": 2,
    "projection": 16,
    "basis": 16,
    "sum_layers": 2,
    "latent": 8,
    "aux1": 4,
    "aux2": 4,
    "levels": 2,
    "sample_steps": 3,
    "n_samples": 4,
    "guided_steps": 3,
    "posterior_samples": 3,
    "unroll": 2,
    "n": 64,
    "sensors": 8,
    "samples": 2,
    "steps": 3,
    "lbfgs_steps": 2,
    "snapshot_points": 16,
    "threads": 2,
    "epochs": 1,
    "observe": 64,
    "spinup": 5.0,
}
_CHEAP_BY_OWNER = {("combiner", "every"): None}  # knobs named like a size that cost nothing

#: Loss-term names drawn for ``weights`` (some real for some methods, one never real).
TERM_NAMES = ("residual", "boundary", "initial", "periodic", "data", "recon", "kl", "bogus")
#: Knob names that no class has (and ``name``, param's own, which is not a knob).
UNKNOWN_KNOBS = ("widht", "learning_rate", "", "name", "Width", "n interior")
#: Text a user may type for a CLI value besides the rendering of a drawn value.
ODD_TEXT = ("", " ", "abc", "nan", "inf", "-inf", "1e999", "0x10", "1_000", "None", "true", "é")


# --- cases -----------------------------------------------------------------------------------
@dataclass
class Case:
    """One fuzz example: the set-up, the drawn knob values and the front end."""

    kind: str
    entry: str
    front: str
    problem: str
    method: str
    regularizers: tuple[str, ...] = ()
    combiner: str | None = None
    #: owner ("problem", "method", "combiner", "training" or a regularizer name) -> knob -> value
    knobs: dict[str, dict[str, object]] = field(default_factory=dict)
    #: API only: fixed term weights.
    weights: dict[str, object] = field(default_factory=dict)
    #: CLI only: extra arguments (--weight, --epochs, --infer, --observe, ...).
    cli_extra: tuple[str, ...] = ()
    #: Which drawn values are non-finite numbers (they must be refused).
    non_finite: tuple[str, ...] = ()

    def method_knobs(self) -> dict:
        return {**BASE_METHOD.get(self.method, {}), **self.knobs.get("method", {})}

    def training(self) -> dict:
        return {**BASE_TRAINING, **self.knobs.get("training", {})}

    def expensive(self) -> bool:
        """Whether a knob's in-range value makes training too slow for a fuzz run."""
        values = {**self.method_knobs(), **self.training()}
        for owner, drawn in self.knobs.items():
            if owner not in ("method", "training"):
                values.update({k: v for k, v in drawn.items() if (owner, k) not in _CHEAP_BY_OWNER})
        for knob, value in values.items():
            cap = CHEAP.get(knob)
            if (
                cap is not None
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and not (isinstance(value, float) and math.isnan(value))
                and value > cap
            ):
                return True
        if values.get("compile") is True:
            return True
        extra = self.cli_extra
        return any(
            flag in ("--epochs", "--observe") and _cli_int(text) > CHEAP[flag[2:]]
            for flag, text in zip(extra, extra[1:])
        )

    def involved_names(self) -> set[str]:
        """Every name a clear refusal could point at."""
        names = {self.problem, self.method, *self.regularizers, "weights", "combiner"}
        if self.combiner:
            names.add(self.combiner)
        for owner, drawn in self.knobs.items():
            names.add(owner)
            # repr() too: "unexpected keyword argument ''" names the empty knob so.
            names.update(k for k in drawn if k)
            names.update(repr(k) for k in drawn)
        for cls in _classes(self):
            names.update(cls.param)
        names.update(Training.param)
        names.update(self.weights)
        return {n for n in names if n} | {n.replace("_", "-") for n in names if n}

    def argv(self, out: str) -> list[str]:
        """The ``workbench run`` command line for this case."""
        argv = ["run", "--problem", self.problem, "--method", self.method, "--quiet", "--no-recipe"]
        for knob, value in self.method_knobs().items():
            argv += ["--set", f"method.{knob}={_text(value)}"]
        for knob, value in self.knobs.get("problem", {}).items():
            argv += ["--set", f"problem.{knob}={_text(value)}"]
        for reg in self.regularizers:
            drawn = self.knobs.get(reg, {})
            argv += ["--reg", reg]
            for knob, value in drawn.items():
                argv += ["--set", f"{reg}.{knob}={_text(value)}"]
        if self.combiner:
            argv += ["--combiner", self.combiner]
        for knob, value in self.knobs.get("combiner", {}).items():
            argv += ["--set", f"combiner.{knob}={_text(value)}"]
        for knob, value in self.training().items():
            argv += [f"--{knob.replace('_', '-')}", _text(value)]
        argv += list(self.cli_extra)
        return [*argv, "--out", out]

    def repro(self) -> str:
        """Code (or a command line) that reproduces this case."""
        if self.front == "cli":
            return "workbench " + shlex.join(self.argv("OUT"))
        regs = ", ".join(
            f"REGULARIZERS[{r!r}](**{self.knobs.get(r, {})!r})" for r in self.regularizers
        )
        combiner = (
            f"COMBINERS[{self.combiner!r}](**{self.knobs.get('combiner', {})!r})"
            if self.combiner
            else "None"
        )
        settings_ = (
            {**self.training(), "weights": self.weights} if self.weights else self.training()
        )
        return (
            f"fit(PROBLEMS[{self.problem!r}](**{self.knobs.get('problem', {})!r}), "
            f"METHODS[{self.method!r}](**{self.method_knobs()!r}), [{regs}], {combiner}, "
            f"progress=False, **{settings_!r})"
        )


def _classes(case: Case) -> list[type[param.Parameterized]]:
    found = [PROBLEMS.get(case.problem), METHODS.get(case.method)]
    found += [REGULARIZERS.get(r) for r in case.regularizers]
    found.append(COMBINERS.get(case.combiner or "sum"))
    return [c for c in found if c is not None]


def _cli_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _text(value) -> str:
    """A drawn value as a user would type it on the command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return "none"
    return str(value)


# --- strategies for values --------------------------------------------------------------------
def _cap(name: str, owner: str) -> float | None:
    if (owner, name) in _CHEAP_BY_OWNER:
        return None
    return CHEAP.get(name)


def _number_values(p: param.Number, name: str, owner: str, valid_only: bool = False):
    """(category, value) draws for a Number or Integer knob."""
    integer = isinstance(p, param.Integer)
    lo, hi = p.bounds or (None, None)
    inc_lo, inc_hi = p.inclusive_bounds
    cap = _cap(name, owner)
    top = hi if cap is None else (cap if hi is None else min(hi, cap))
    if integer:
        low = -1000 if lo is None else lo + (0 if inc_lo else 1)
        high = (low + 1000 if top is None else top) - (0 if inc_hi or top != hi else 1)
        valid = st.integers(low, max(low, high))
    else:
        low = -1e3 if lo is None else lo
        high = (low + 1e3) if top is None else top
        valid = st.floats(
            low,
            max(low, high),
            exclude_min=not inc_lo and lo is not None,
            exclude_max=not inc_hi and top == hi and hi is not None,
            allow_nan=False,
        )
    edges = [v for v in (lo, hi) if v is not None]
    if not integer:
        edges += [math.nextafter(v, math.inf) for v in edges] + [
            math.nextafter(v, -math.inf) for v in edges
        ]
    outside = []
    if lo is not None:
        outside += [lo - 1, lo - 1e-9 if not integer else lo - 2, -(10**6)]
    if hi is not None:
        outside += [hi + 1, hi * 2 + 1, 10**6 + hi]
    huge = [10**30, -(10**30), 2**63, 10**400] if integer else [1e308, -1e308, 10**400]
    # No complex numbers: param 2.4 compares them with the bounds and raises a TypeError that
    # names no knob ("'<=' not supported between 'complex' and 'float'"); see the report.
    wrong = ["1", "", None, [1], {"v": 1}, b"1"]
    wrong += [2.0, 0.5] if integer else []
    if p.allow_None:
        wrong.remove(None)
    if valid_only:
        return st.tuples(st.just("valid"), valid)
    return st.one_of(
        st.tuples(st.just("valid"), valid),
        st.tuples(st.just("valid"), valid),
        st.tuples(st.just("valid"), valid),
        st.tuples(st.just("boundary"), st.sampled_from(edges or [0])),
        st.tuples(st.just("out_of_range"), st.sampled_from(outside or [-1])),
        st.tuples(st.just("huge"), st.sampled_from(huge)),
        st.tuples(st.just("wrong_type"), st.sampled_from(wrong)),
        st.tuples(st.just("wrong_type"), st.booleans()),
        st.tuples(st.just("non_finite"), st.sampled_from([math.nan, math.inf, -math.inf])),
        *([st.tuples(st.just("valid"), st.none())] if p.allow_None else []),
    )


def _selector_values(p: param.Selector, valid_only: bool = False):
    choices = list(p.objects)
    if valid_only:
        return st.tuples(st.just("valid"), st.sampled_from(choices))
    bad = ["", "unknown", None, 0, [choices[0]], f" {choices[0]}", str(choices[0]).upper()]
    bad = [b for b in bad if b not in choices]
    return st.one_of(
        st.tuples(st.just("valid"), st.sampled_from(choices)),
        st.tuples(st.just("valid"), st.sampled_from(choices)),
        st.tuples(st.just("bad_choice"), st.sampled_from(bad)),
        st.tuples(st.just("bad_choice"), st.text(max_size=6)),
    )


def _boolean_values(valid_only: bool = False):
    if valid_only:
        return st.tuples(st.just("valid"), st.booleans())
    return st.one_of(
        st.tuples(st.just("valid"), st.booleans()),
        st.tuples(st.just("wrong_type"), st.sampled_from([0, 1, "true", "yes", None, 1.0, []])),
    )


def _infer_values(problem: str):
    coefficients = [
        k
        for k, p in PROBLEMS[problem].param.objects("existing").items()
        if isinstance(p, param.Number) and not isinstance(p, param.Integer)
    ] or ["nu"]
    coef = st.sampled_from(coefficients)
    guess = st.one_of(
        st.none(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["x", [1.0], {"guess": 0.5}, {"bounds": (1, 0)}, {"wrong": 1}]),
    )
    return st.one_of(
        st.tuples(st.just("valid"), st.just({})),
        st.tuples(st.just("valid"), st.dictionaries(coef, st.none(), max_size=1)),
        st.tuples(st.just("wrong_type"), st.dictionaries(coef, guess, min_size=1, max_size=2)),
        st.tuples(st.just("bad_choice"), st.sampled_from([{"bogus": None}, {"": 1.0}, {1: 2}])),
        st.tuples(st.just("wrong_type"), st.sampled_from([[], "nu", None, 3])),
    )


def _observation_values(problem: str):
    """Observations for the data regularizer: none, or xarray Datasets good and corrupt."""
    import numpy as np
    import xarray as xr

    dims = PROBLEMS[problem].dims

    def make(kind: str):
        n = 5
        rng = np.random.default_rng(0)
        cls = PROBLEMS[problem]
        data = {d: ("observation", rng.uniform(*cls.domain[d], n)) for d in dims}
        data["u"] = ("observation", rng.normal(size=n))
        if kind == "nan":
            data["u"] = ("observation", np.full(n, np.nan))
        elif kind == "outside":
            data[dims[0]] = ("observation", np.full(n, 1e6))
        elif kind == "missing":
            data.pop("u")
        elif kind == "wrong_dim":
            data["u"] = ("sample", rng.normal(size=n))
        elif kind == "empty":
            data = {k: ("observation", np.zeros(0)) for k in data}
        elif kind == "sigma":
            data["sigma"] = ("observation", np.zeros(n))
        elif kind == "strings":
            data["u"] = ("observation", np.array(["a"] * n))
        return xr.Dataset(data)

    kinds = ["good", "nan", "outside", "missing", "wrong_dim", "empty", "sigma", "strings"]
    return st.one_of(
        st.tuples(st.just("valid"), st.none()),
        st.tuples(st.just("corrupt"), st.sampled_from(kinds).map(make)),
        st.tuples(st.just("wrong_type"), st.sampled_from(["obs.nc", 3, {"u": [1.0]}])),
    )


def _own_data_values(problem: str):
    """A family method's own dataset: none (generate), or Datasets of the family's layout,
    good and corrupt (random values: layout is what is checked), paths and wrong types."""
    import numpy as np
    import xarray as xr

    cls = PROBLEMS[problem]
    dims = ("sample", *cls.family_dims)

    def make(kind: str):
        rng = np.random.default_rng(0)
        shape = (4, *(cls.family_points.get(d, 8) for d in cls.family_dims))
        inputs = list(cls.family_parameters) or [cls.family_input or "a"]
        data = {
            name: (("sample",), rng.uniform(size=4))
            if name in cls.family_parameters
            else (dims, rng.normal(size=shape))
            for name in inputs
        }
        data["u"] = (dims, rng.normal(size=shape))
        if kind == "nan":
            data["u"] = (dims, np.full(shape, np.nan))
        elif kind == "missing":
            data.pop("u")
        elif kind == "wrong_dim":
            data["u"] = (("sample", *(f"q{i}" for i in range(len(shape) - 1))), data["u"][1])
        elif kind == "one_sample":
            data = {k: (d, v[:1]) for k, (d, v) in data.items()}
        elif kind == "strings":
            data["u"] = (dims, np.full(shape, "a"))
        return xr.Dataset(data)

    kinds = ["good", "nan", "missing", "wrong_dim", "one_sample", "strings"]
    return st.one_of(
        st.tuples(st.just("valid"), st.none()),
        st.tuples(st.just("corrupt"), st.sampled_from(kinds).map(make)),
        st.tuples(st.just("wrong_type"), st.sampled_from(["nope.nc", "", 3, {"u": [1.0]}])),
    )


def knob_values(cls, name: str, owner: str, problem: str, valid_only: bool = False):
    """(category, value) draws for knob ``name`` of ``cls`` (only in-range, well-typed values
    with ``valid_only``)."""
    p = cls.param.objects("existing")[name]
    if isinstance(p, param.Boolean):
        return _boolean_values(valid_only)
    if isinstance(p, param.Selector):
        return _selector_values(p, valid_only)
    if isinstance(p, param.Number):
        return _number_values(p, name, owner, valid_only)
    if valid_only:
        return st.tuples(st.just("valid"), st.just(p.default))
    if name == "infer":
        return _infer_values(problem)
    if name == "observations":
        return _observation_values(problem)
    if name == "data":
        return _own_data_values(problem)
    if isinstance(p, param.String):
        return st.one_of(
            st.tuples(st.just("valid"), st.sampled_from(TERM_NAMES)),
            st.tuples(st.just("bad_choice"), st.sampled_from(["", " ", "Residual"])),
            st.tuples(st.just("wrong_type"), st.sampled_from([None, 3, ["residual"]])),
        )
    raise AssertionError(f"no strategy for {cls.__name__}.{name} ({type(p).__name__})")


def _knob_names(cls) -> list[str]:
    return [k for k in cls.param if k != "name"]


@st.composite
def fuzzed_knobs(
    draw, cls, owner: str, problem: str, names=None, at_least: int = 1, valid_only=False
):
    """A dict of drawn values for 1-3 knobs of ``cls`` (maybe an unknown name), and the
    names of those drawn as non-finite numbers. ``valid_only``: in-range values only."""
    names = list(names if names is not None else _knob_names(cls))
    chosen: dict[str, object] = {}
    non_finite = []
    if names:
        picked = draw(
            st.lists(st.sampled_from(names), min_size=min(at_least, 1), max_size=3, unique=True)
        )
        for name in picked:
            category, value = draw(knob_values(cls, name, owner, problem, valid_only))
            chosen[name] = value
            if category == "non_finite":
                non_finite.append(f"{owner}.{name}")
    if not valid_only and draw(st.integers(0, 9)) == 0:
        unknown = draw(st.sampled_from(UNKNOWN_KNOBS))
        chosen[unknown] = draw(st.sampled_from([1, "x", 0.5]))
    return chosen, non_finite


def _supported(problem: str, method: str) -> bool:
    try:
        return METHODS[method](**BASE_METHOD[method]).supports(PROBLEMS[problem]())
    except Exception:  # noqa: BLE001 - a pair we cannot even ask about is not "supported"
        return False


#: (problem, method) pairs the method supports, computed once.
PAIRS = [(p, m) for m in METHODS for p in PROBLEMS if _supported(p, m)]


#: Method knobs a regularizer needs to apply at all (set in the cases that fuzz it).
REGULARIZER_NEEDS = {"least_volume": {"lipschitz": True}}


def _needs(regularizer: str, method: str) -> dict:
    wanted = REGULARIZER_NEEDS.get(regularizer, {})
    return {k: v for k, v in wanted.items() if k in METHODS[method].param}


@functools.cache
def regularizer_pairs(name: str) -> list[tuple[str, str]]:
    """The supported pairs that regularizer ``name`` (at its defaults) applies to."""
    found = []
    for p, m in PAIRS:
        try:
            method = METHODS[m](**BASE_METHOD[m], **_needs(name, m))
            REGULARIZERS[name]().check(PROBLEMS[p](), method)
        except ValueError:
            continue
        found.append((p, m))
    return found


@st.composite
def _pair(draw, problem: str | None = None, method: str | None = None, supported=False):
    """A (problem, method) pair: mostly (``supported``: only) one the method supports,
    sometimes any."""
    options = [(p, m) for p, m in PAIRS if problem in (None, p) and method in (None, m)]
    if options and (supported or draw(st.integers(0, 4)) > 0):
        return draw(st.sampled_from(options))
    return (
        problem or draw(st.sampled_from(list(PROBLEMS))),
        method or draw(st.sampled_from(list(METHODS))),
    )


@st.composite
def cases(draw, kind: str, entry: str, front: str | None = None):
    """A :class:`Case` fuzzing ``entry`` of registry ``kind``."""
    front = front or draw(st.sampled_from(["api", "cli"]))
    # A third of the cases draw only in-range values for a supported pair, so that real
    # trainings (not only refusals) are fuzzed.
    clean = draw(st.integers(0, 2)) == 0
    knobs: dict[str, dict] = {}
    non_finite: list[str] = []
    regularizers: tuple[str, ...] = ()
    combiner = None
    weights: dict = {}
    extra: list[str] = []
    if kind == "problem":
        problem, method = draw(_pair(problem=entry, supported=clean))
        knobs["problem"], non_finite = draw(
            fuzzed_knobs(PROBLEMS[entry], "problem", entry, valid_only=clean)
        )
    elif kind == "method":
        problem, method = draw(_pair(method=entry, supported=clean))
        knobs["method"], non_finite = draw(
            fuzzed_knobs(METHODS[entry], "method", problem, valid_only=clean)
        )
    elif kind == "sampler":
        problem, method = draw(
            _pair(method=draw(st.sampled_from(["pinn", "pig"])), supported=clean)
        )
        knobs["method"], non_finite = draw(
            fuzzed_knobs(
                METHODS[method], "method", problem, names=SAMPLER_KNOBS[1:], valid_only=clean
            )
        )
        knobs["method"].setdefault("sampler", entry)
        knobs["training"] = {"steps": draw(st.integers(1, 3))}
    elif kind == "regularizer":
        applicable = regularizer_pairs(entry)
        if clean and applicable:
            problem, method = draw(st.sampled_from(applicable))
        else:
            problem, method = draw(_pair(supported=clean))
        if draw(st.integers(0, 3)) > 0:
            knobs["method"] = _needs(entry, method)
        others = [r for r in REGULARIZERS if r != entry]
        regularizers = (entry, *draw(st.lists(st.sampled_from(others), max_size=1)))
        knobs[entry], non_finite = draw(
            fuzzed_knobs(REGULARIZERS[entry], entry, problem, valid_only=clean)
        )
    elif kind == "combiner":
        problem, method = draw(_pair(supported=clean))
        combiner = entry
        knobs["combiner"], non_finite = draw(
            fuzzed_knobs(COMBINERS[entry], "combiner", problem, at_least=0, valid_only=clean)
        )
        if draw(st.booleans()):
            regularizers = (draw(st.sampled_from(["weight_decay", "l2", "pde_residual"])),)
    else:
        problem, method = draw(_pair(supported=clean))
        knobs["training"], non_finite = draw(
            fuzzed_knobs(Training, "training", problem, valid_only=clean)
        )
        if not clean and draw(st.integers(0, 2)) == 0:
            term = draw(st.sampled_from(TERM_NAMES))
            category, value = draw(_number_values(param.Number(bounds=(0, None)), "w", "training"))
            weights[term] = value
            extra += ["--weight", f"{term}={_text(value)}"]
            if category == "non_finite":
                non_finite.append(f"weights.{term}")
        if front == "cli" and not clean and draw(st.integers(0, 2)) == 0:
            flag = draw(
                st.sampled_from(["--epochs", "--infer", "--observe", "--noise", "--sensors"])
            )
            value = draw(
                st.one_of(
                    st.integers(-2, 3).map(str),
                    st.sampled_from(["nu", "nu=0.05", "rho=abc", "0.01", "1e999", "x"]),
                    st.sampled_from(ODD_TEXT),
                )
            )
            extra += [flag, value]
    case = Case(
        kind=kind,
        entry=entry,
        front=front,
        problem=problem,
        method=method,
        regularizers=regularizers,
        combiner=combiner,
        knobs=knobs,
        weights=weights,
        cli_extra=tuple(extra),
        non_finite=tuple(non_finite),
    )
    if front == "cli" and not clean and draw(st.integers(0, 5)) == 0:
        # Text only a command line can carry: replace one drawn value by odd text.
        owner = draw(st.sampled_from(sorted(case.knobs)))
        if case.knobs[owner]:
            knob = draw(st.sampled_from(sorted(case.knobs[owner])))
            case.knobs[owner][knob] = draw(st.sampled_from(ODD_TEXT))
            case.non_finite = tuple(n for n in case.non_finite if n != f"{owner}.{knob}")
    return case


# --- running a case ---------------------------------------------------------------------------
@dataclass
class Outcome:
    """What happened to a case: ``ok``, ``refused`` or ``failure`` (with why)."""

    kind: str
    detail: str = ""


class _Hang(BaseException):
    """Raised by the watchdog; a BaseException so that no ``except Exception`` swallows it."""


@contextlib.contextmanager
def _watchdog(seconds: int):
    def alarm(signum, frame):
        raise _Hang(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_THIRD_PARTY = ("torch", "numpy", "scipy", "xarray", "pandas", "h5netcdf", "h5py", "holoviews")


def _raised_in_library(err: BaseException) -> str | None:
    """The third-party package whose code raised ``err``, if any (param is allowed: it raises
    the bound and type errors of the knobs)."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return None
    path = Path(frames[-1].filename).parts
    for package in _THIRD_PARTY:
        if package in path and ("site-packages" in path or "dist-packages" in path):
            return package
    return None


def _refusal(case: Case, err: BaseException, stage: str) -> Outcome:
    """Classify an exception raised before any work started."""
    message = str(err)
    if not isinstance(err, ValueError | TypeError):
        return Outcome("failure", f"{stage}: {type(err).__name__}: {message}")
    library = _raised_in_library(err)
    if library:
        return Outcome(
            "failure", f"{stage}: raised inside {library}: {type(err).__name__}: {message}"
        )
    if not any(name in message for name in case.involved_names()):
        return Outcome(
            "failure", f"{stage}: message names no knob: {type(err).__name__}: {message}"
        )
    return Outcome("refused", f"{type(err).__name__}: {message}")


def _check_run(case: Case, run) -> Outcome:
    if case.non_finite:
        return Outcome("failure", f"non-finite value accepted: {', '.join(case.non_finite)}")
    labels = (run.attrs.get("problem"), run.attrs.get("method"))
    if labels != (case.problem, case.method):
        return Outcome("failure", f"the Run is labelled {labels}, not {case.problem, case.method}")
    status = run.status
    message = run.attrs.get("message", "")
    if status in ("diverged", "stopped"):
        if not message:
            return Outcome("failure", f"status {status} without a message")
        return Outcome("ok", f"{status}: {message}")
    if status != "done":
        return Outcome("failure", f"status {status!r}")
    for term in run.loss_terms:
        values = run.history[term].values
        if not all(math.isfinite(float(v)) for v in values.ravel()):
            return Outcome("failure", f"done, but loss term {term!r} is not finite: {values}")
    if not math.isfinite(run.l2re):
        return Outcome("failure", f"done, but the metric is {run.l2re}")
    return Outcome("ok", "done")


def _build(case: Case):
    problem = PROBLEMS[case.problem](**case.knobs.get("problem", {}))
    method = METHODS[case.method](**case.method_knobs())
    regularizers = [REGULARIZERS[r](**case.knobs.get(r, {})) for r in case.regularizers]
    combiner = COMBINERS[case.combiner](**case.knobs.get("combiner", {})) if case.combiner else None
    return problem, method, regularizers, combiner


def run_api(case: Case) -> Outcome:
    """Construct, validate with ``train(...).close()``, then ``fit()`` a cheap case."""
    from workbench import fit, train

    settings_ = case.training()
    if case.weights:
        settings_["weights"] = dict(case.weights)
    try:
        problem, method, regularizers, combiner = _build(case)
    except Exception as err:  # noqa: BLE001 - classified, not swallowed
        return _refusal(case, err, "constructing")
    try:
        train(problem, method, regularizers, combiner, **settings_).close()
    except Exception as err:  # noqa: BLE001
        return _refusal(case, err, "validating")
    if case.non_finite:
        return Outcome("failure", f"non-finite value accepted: {', '.join(case.non_finite)}")
    if case.expensive():
        return Outcome("ok", "validated (too expensive to train here)")
    try:
        run = fit(problem, method, regularizers, combiner, progress=False, **settings_)
    except Exception as err:  # noqa: BLE001
        where = "".join(traceback.format_exception(err)[-3:])
        return Outcome("failure", f"fit raised after validation: {type(err).__name__}: {where}")
    return _check_run(case, run)


def run_cli(case: Case) -> Outcome:
    """``workbench run`` in-process (``main``), or only its validation for an expensive case."""
    from workbench import cli

    folder = tempfile.mkdtemp(prefix="fuzz-cli-")
    out, err = io.StringIO(), io.StringIO()
    argv = case.argv(str(Path(folder) / "run"))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if case.expensive():
                # main() would train; run exactly the part of it that comes before any work.
                try:
                    args = cli.make_parser().parse_args(argv)
                    cli.build_run_inputs(args)
                    code = 0
                except cli.BadInput as bad:
                    print(f"error: {bad}", file=err)
                    code = cli.EXIT_BAD_INPUT
                validated_only = True
            else:
                code = cli.main(argv)
                validated_only = False
    except SystemExit as exit_:
        return Outcome("failure", f"SystemExit({exit_.code}) out of main; stderr: {err.getvalue()}")
    except _Hang:
        raise
    except BaseException as exc:  # noqa: BLE001 - any escape is a traceback for the user
        where = "".join(traceback.format_exception(exc)[-3:])
        return Outcome("failure", f"traceback out of the CLI: {type(exc).__name__}: {where}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    stderr = err.getvalue()
    if "Traceback" in stderr:
        return Outcome("failure", f"traceback printed: {stderr[-2000:]}")
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    if code == cli.EXIT_BAD_INPUT:
        if len(errors) != 1:
            return Outcome("failure", f"exit 2 without exactly one error line: {stderr!r}")
        names = case.involved_names() | {"--" + a.lstrip("-") for a in argv if a.startswith("--")}
        names |= {"argument", "--set", "--reg", "--weight", "--combiner", "--problem", "--method"}
        if not any(name in errors[0] for name in names):
            return Outcome("failure", f"error line names no knob or flag: {errors[0]}")
        return Outcome("refused", errors[0])
    if case.non_finite:
        return Outcome("failure", f"non-finite value accepted: {', '.join(case.non_finite)}")
    if code == 0:
        if validated_only:
            return Outcome("ok", "validated (too expensive to train here)")
        summary = out.getvalue()
        if "nan" in summary.split() or "=nan" in summary or "=inf" in summary:
            return Outcome("failure", f"exit 0 but a non-finite result: {summary.strip()}")
        return Outcome("ok", "done")
    if code in (cli.EXIT_DIVERGED, cli.EXIT_INTERRUPTED) and errors:
        return Outcome("ok", errors[-1])
    return Outcome("failure", f"exit code {code}; stderr: {stderr[-2000:]!r}")


def execute(case: Case) -> Outcome:
    """Run ``case`` through its front end and classify what happened."""
    threads = torch.get_num_threads()
    try:
        with _watchdog(TIME_LIMIT_S):
            return run_api(case) if case.front == "api" else run_cli(case)
    except _Hang as hang:
        return Outcome("failure", f"hang: {hang}")
    finally:
        # The threads knob sets torch's global thread count; the next case starts as before.
        torch.set_num_threads(threads)


# --- driving hypothesis -----------------------------------------------------------------------
@dataclass
class Record:
    """One executed case and its outcome."""

    case: Case
    outcome: Outcome


def fuzz_entry(kind: str, entry: str, examples: int, front: str | None = None) -> list[Record]:
    """Run ``examples`` hypothesis-drawn cases for one registry entry (deterministic), never
    stopping at a failure: every outcome is recorded."""
    records: list[Record] = []

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(kind, entry, front))
    def explore(case):
        records.append(Record(case, execute(case)))

    with _quiet_environment():
        explore()
    return records


@contextlib.contextmanager
def _quiet_environment():
    """Generated datasets go to a temporary folder (not the checkout's data/), and the
    working directory is a temporary one (a CLI run without --out writes runs/ there)."""
    old_data = os.environ.get("WORKBENCH_DATA")
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="fuzz-knobs-") as tmp:
        os.environ["WORKBENCH_DATA"] = str(Path(tmp) / "data")
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(old_cwd)
            if old_data is None:
                os.environ.pop("WORKBENCH_DATA", None)
            else:
                os.environ["WORKBENCH_DATA"] = old_data


def tally(records: list[Record]) -> Counter:
    """Counts of outcomes (``ok``, ``refused``, ``failure``)."""
    return Counter(r.outcome.kind for r in records)


def failure_report(records: list[Record]) -> str:
    """Every failure with its reproduction, one block each."""
    blocks = []
    for r in records:
        if r.outcome.kind == "failure":
            blocks.append(
                f"[{r.case.kind} {r.case.entry} via {r.case.front}] "
                f"{r.outcome.detail}\n    repro: {r.case.repro()}"
            )
    return "\n".join(blocks)
