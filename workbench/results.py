"""Runs: everything a training produced, as an ``xarray.DataTree`` plus safetensors weights.

Layout of a Run's tree (the names every view and the app rely on):

``/history`` (dim ``step``)
    one variable per unweighted loss term (attr ``role="loss_term"``), ``loss`` (the weighted
    total, ``role="loss_total"``), ``l2re`` (the method's headline metric, NaN where not
    evaluated; its ``long_name`` says which), ``lr`` and ``wall_s``.
``/fields`` (dims = the problem's dims, e.g. ``x``, ``t``)
    ``u`` (prediction), ``u_ref`` (reference), ``error`` (``u - u_ref``) and ``residual``.
``/points``
    per point set ``S`` (``interior``, ``boundary``, ...): a dim ``S`` and variables
    ``S_x``, ``S_t``, ... holding the last training batch's coordinates.
``/fields`` of an operator run (dims ``sample`` + the family's dims)
    the first test samples: the input function (named in attr ``input``), ``u``, ``u_ref``,
    ``error``, ``residual`` (where the family has one) and ``rel_l2`` (dim ``sample``).
``/samples``
    the same for the whole test set (operator runs).
``/transfer``
    the same for the test set's input functions at another resolution (attrs ``resolution``,
    ``train_resolution``): how the operator transfers to a grid it never saw.
root attrs
    provenance: ``problem``, ``method``, ``problem_params``, ``method_params``,
    ``regularizers`` (JSON), ``seed``, ``device``, ``dtype``, ``status``, ``message``,
    ``workbench_version``, ``torch_version``, ``created``, ``steps``, ``wall_s``, ``l2re``
    (the headline metric of the final model state), and ``metric``, ``metric_label``,
    ``metric_long_name`` naming it (see :class:`~workbench.evaluation.Metric`: a relative L2
    error for most methods, a normalised energy distance for field generators). Runs saved
    before metrics were named lack the three; :meth:`Run.load` fills them in from the method.

On disk a Run is a folder with ``run.nc`` (NetCDF4 groups via h5netcdf) and
``weights.safetensors``. Loading rebuilds the problem, method and model from the JSON
provenance and the tensors; nothing is unpickled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import param
import safetensors.torch
import torch
import xarray as xr
from torch import nn

from workbench.evaluation import RELATIVE_L2, Metric

RUN_FILE = "run.nc"
WEIGHTS_FILE = "weights.safetensors"


#: Long names of the diagnostics a combiner logs in ``/history`` (``weight_<term>`` aside).
DIAGNOSTIC_NAMES = {"grad_cosine": "smallest cosine between two terms' gradients"}


def knobs(obj: param.Parameterized) -> dict:
    """The values of an object's Parameters (its knobs), without param's ``name``."""
    return {k: v for k, v in obj.param.values().items() if k != "name"}


def describe_bounds(p: param.Parameter) -> str:
    """What a Parameter allows, in words (for error messages and ``workbench list``)."""
    if isinstance(p, param.Selector):
        return "one of " + ", ".join(map(str, p.objects))
    if isinstance(p, param.Boolean):
        return "true or false"
    if isinstance(p, param.Number):
        lo, hi = p.bounds or (None, None)
        if lo is None and hi is None:
            return "any number"
        left = "[" if (p.inclusive_bounds[0] if lo is not None else False) else "("
        right = "]" if (p.inclusive_bounds[1] if hi is not None else False) else ")"
        span = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        return span + (" or none" if p.allow_None else "")
    return ""


def parse_knob(p: param.Parameter, text: str):
    """Text typed by a user (a CLI flag, a text box) as a value of the Parameter ``p``.

    Booleans read ``true/false/yes/no/1/0``, numbers must be finite, a selector's text must be
    one of its choices, and ``none``/``auto`` is ``None`` where the knob allows it. The knob's
    bounds are not checked here (assigning the value checks them).

    Raises
    ------
    ValueError
        When the text is not a value of that type.
    """
    if p.allow_None and text.lower() in ("none", "auto"):
        return None
    if isinstance(p, param.Boolean):
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{text!r} is not true or false")
        return lowered in ("true", "1", "yes")
    if isinstance(p, param.Integer):
        return int(text)
    if isinstance(p, param.Number):
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    if isinstance(p, param.Selector):
        for obj in p.objects:
            if str(obj) == text:
                return obj
        raise ValueError(f"{text!r} is not one of {', '.join(map(str, p.objects))}")
    return text


def json_default(value):
    """JSON for knob values ``json`` cannot write: a Dataset (a regularizer's observations)
    as its ``to_dict`` form, which ``xr.Dataset.from_dict`` reads back; numpy scalars."""
    if isinstance(value, xr.Dataset):
        return value.to_dict(data="list")
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def workbench_version() -> str:
    """The installed package version (``"unknown"`` when running from a bare checkout)."""
    try:
        return version("workbench")
    except PackageNotFoundError:
        return "unknown"


def history_dataset(
    records: Sequence[Mapping[str, float]],
    terms: Sequence[str],
    diagnostics: Sequence[str] = (),
    estimates: Mapping[str, Mapping] | None = None,
    metric: Metric = RELATIVE_L2,
) -> xr.Dataset:
    """Per-step records (dicts with ``step`` and values) as the ``/history`` Dataset.

    ``diagnostics`` names columns describing the update rather than the loss (term weights,
    gradient cosines); they get ``role="diagnostic"``. ``estimates`` maps learned coefficients
    (inverse problems) to extra attrs (``true_value`` when known); they get
    ``role="estimate"``. ``metric`` names what the ``l2re`` column measures.
    """
    steps = np.array([r["step"] for r in records], dtype=np.int64)

    def column(key):
        return np.array([r.get(key, np.nan) for r in records], dtype=np.float64)

    variables = {
        term: ("step", column(term), {"long_name": f"loss term {term}", "role": "loss_term"})
        for term in terms
    }
    variables["loss"] = ("step", column("loss"), {"long_name": "total loss", "role": "loss_total"})
    for name in diagnostics:
        long_name = DIAGNOSTIC_NAMES.get(name) or f"weight of term {name.removeprefix('weight_')}"
        variables[name] = ("step", column(name), {"long_name": long_name, "role": "diagnostic"})
    for name, attrs in (estimates or {}).items():
        variables[name] = (
            "step",
            column(name),
            {"long_name": f"estimate of {name}", "role": "estimate", **attrs},
        )
    variables["l2re"] = ("step", column("l2re"), {"long_name": metric.long_name, "units": "1"})
    variables["lr"] = ("step", column("lr"), {"long_name": "learning rate"})
    variables["wall_s"] = ("step", column("wall_s"), {"long_name": "wall time", "units": "s"})
    return xr.Dataset(variables, coords={"step": ("step", steps, {"long_name": "step"})})


class Run:
    """The result of a training: the DataTree plus the objects that made it.

    Parameters
    ----------
    tree : xarray.DataTree
        ``/history``, ``/fields``, ``/points`` and provenance attrs (see the module docs).
    problem, method, regularizers
        The specs that were trained.
    model : torch.nn.Module
        The trained weights.
    combiner : Combiner, optional
        How the loss terms were combined (``None``: the default sum).
    """

    def __init__(
        self, tree: xr.DataTree, problem, method, regularizers, model: nn.Module, combiner=None
    ):
        self.tree = tree
        self.problem = problem
        self.method = method
        self.regularizers = list(regularizers)
        self.model = model
        self.combiner = combiner

    # --- quick access -------------------------------------------------------------------
    @property
    def history(self) -> xr.Dataset:
        return self.tree["history"].to_dataset()

    @property
    def fields(self) -> xr.Dataset:
        return self.tree["fields"].to_dataset()

    @property
    def points(self) -> xr.Dataset:
        return self.tree["points"].to_dataset()

    @property
    def samples(self) -> xr.Dataset | None:
        """``/samples`` (an operator's test set: inputs, truths, predictions, errors), if any."""
        return self.tree["samples"].to_dataset() if "samples" in self.tree.children else None

    @property
    def transfer(self) -> xr.Dataset | None:
        """``/transfer`` (the test set at another resolution), if any."""
        return self.tree["transfer"].to_dataset() if "transfer" in self.tree.children else None

    @property
    def loss_terms(self) -> list[str]:
        """Names of the unweighted loss terms logged in ``/history``."""
        return [k for k, v in self.history.data_vars.items() if v.attrs.get("role") == "loss_term"]

    @property
    def estimates(self) -> dict[str, float]:
        """Learned coefficients of an inverse problem at the end of training, by name."""
        return {k: float(v) for k, v in json.loads(self.tree.attrs.get("estimates", "{}")).items()}

    @property
    def attrs(self) -> dict:
        return self.tree.attrs

    @property
    def status(self) -> str:
        """``"done"``, ``"diverged"`` or ``"stopped"``."""
        return self.tree.attrs["status"]

    @property
    def l2re(self) -> float:
        """The headline metric of the final model state, on the full evaluation set: a
        relative L2 error, or what :attr:`metric` names (stored as ``l2re`` either way)."""
        return float(self.tree.attrs["l2re"])

    @property
    def metric(self) -> Metric:
        """What :attr:`l2re` measures (from the root attrs; a relative L2 error if unnamed)."""
        a = self.tree.attrs
        if "metric" not in a:
            return RELATIVE_L2
        return Metric(a["metric"], a["metric_label"], a["metric_long_name"])

    def evaluate(self, size: Mapping[str, int] | None = None) -> xr.Dataset:
        """The model's fields (see :meth:`Method.evaluate <workbench.methods.Method.evaluate>`;
        ``size`` points per dim where the method evaluates on the problem's grid)."""
        return self.method.evaluate(self.model, self.problem, size)

    def summary(self) -> str:
        """The one-line result, as printed by ``workbench run``."""
        a = self.tree.attrs
        line = (
            f"result problem={a['problem']} method={a['method']} steps={a['steps']} "
            f"{self.metric.name}={self.l2re:.4g}"
        )
        for name, value in self.estimates.items():
            line += f" {name}={value:.6g}"
        transfer = self.transfer
        if transfer is not None:
            # An operator's error on the test inputs at the transfer resolution.
            line += f" l2re@{transfer.attrs['resolution']}={float(transfer.attrs['l2re']):.4g}"
        return f"{line} wall_s={float(a['wall_s']):.3g}"

    def __repr__(self) -> str:
        return f"<Run {self.summary()} status={self.status}>"

    # --- persistence --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``run.nc`` and ``weights.safetensors`` into ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.tree.to_netcdf(directory / RUN_FILE, engine="h5netcdf")
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        safetensors.torch.save_file(state, directory / WEIGHTS_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Run:
        """Rebuild a Run saved by :meth:`save`: problem, method, regularizers and model.

        Raises
        ------
        FileNotFoundError
            When ``run.nc`` or ``weights.safetensors`` is missing.
        ValueError
            When the files are unreadable or name an unknown problem/method/regularizer.
        """
        from workbench.combiners import COMBINERS
        from workbench.methods import METHODS
        from workbench.problems import PROBLEMS
        from workbench.regularizers import REGULARIZERS

        directory = Path(directory)
        for name in (RUN_FILE, WEIGHTS_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"run directory {str(directory)!r} has no {name}")
        try:
            with xr.open_datatree(directory / RUN_FILE, engine="h5netcdf") as stored:
                tree = stored.load().copy()
            state = safetensors.torch.load_file(directory / WEIGHTS_FILE)
        except Exception as err:  # corrupt files: say which run, keep the cause
            raise ValueError(f"cannot read run in {str(directory)!r}: {err}") from err
        attrs = tree.attrs
        try:
            problem = PROBLEMS[attrs["problem"]](**json.loads(attrs["problem_params"]))
            method = METHODS[attrs["method"]](**json.loads(attrs["method_params"]))
            regularizers = [
                REGULARIZERS[r["name"]](**r["params"]) for r in json.loads(attrs["regularizers"])
            ]
            # Runs saved before combiners existed have no such attr: they summed their terms.
            combined = json.loads(attrs.get("combiner", '{"name": "sum", "params": {}}'))
            combiner = COMBINERS[combined["name"]](**combined["params"])
        except KeyError as err:
            raise ValueError(f"run in {str(directory)!r} names unknown {err}") from err
        model = method.build(problem, torch.Generator().manual_seed(int(attrs["seed"])))
        model = model.to(getattr(torch, attrs["dtype"]))
        model.load_state_dict(state)
        if "metric" not in attrs:
            # Saved before metrics had names: the value is the method's metric all the same.
            attrs.update(method.metric.attrs())
            tree["history"]["l2re"].attrs["long_name"] = method.metric.long_name
        return cls(tree, problem, method, regularizers, model, combiner)


def provenance(problem, method, regularizers, *, seed: int, device: str, dtype: str) -> dict:
    """Root attrs describing how a Run was made (JSON strings for nested values)."""
    return {
        "title": f"{method.name} on {problem.name}",
        "problem": problem.name,
        "method": method.name,
        "problem_params": json.dumps(knobs(problem), sort_keys=True),
        "method_params": json.dumps(knobs(method), sort_keys=True),
        "regularizers": json.dumps(
            [{"name": r.name, "params": knobs(r)} for r in regularizers],
            sort_keys=True,
            default=json_default,
        ),
        "seed": int(seed),
        "device": device,
        "dtype": dtype,
        "workbench_version": workbench_version(),
        "torch_version": str(torch.__version__),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": f"workbench {workbench_version()}; method={method.name}",
    }
