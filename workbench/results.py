"""Runs: everything a training produced, as an ``xarray.DataTree`` plus safetensors weights.

Layout of a Run's tree (the names every view and the app rely on):

``/history`` (dim ``step``)
    one variable per unweighted loss term (attr ``role="loss_term"``), ``loss`` (the weighted
    total, ``role="loss_total"``), ``l2re`` (the method's headline metric, NaN where not
    evaluated; its ``long_name`` says which), ``lr`` and ``wall_s``.
``/fields`` (dims = the problem's dims, e.g. ``x``, ``t``)
    ``u`` (prediction), ``u_ref`` (reference), ``error`` (``u - u_ref``) and ``residual``.
    For a problem with several components (a flow's ``u, v, p``) ``u``, ``u_ref`` and
    ``error`` have a leading dim ``component`` and ``residual`` one named ``equation``; attrs
    ``l2re_<component>`` hold each component's relative L2 error next to the overall ``l2re``
    (see :mod:`workbench.evaluation`).
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

On disk a Run is a folder with ``run.nc`` (NetCDF4 groups via h5netcdf),
``weights.safetensors`` and ``manifest.json`` (format version, size and SHA-256 of each file),
often a ``report.html``. :meth:`Run.save` writes the folder aside and renames it into place, so
the folder is complete or absent; :meth:`Run.load` checks the manifest (folders saved before
it existed load unchecked), then rebuilds the problem, method and model from the JSON
provenance and the tensors; nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
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
#: Sizes and SHA-256 of the other files, written last: a folder without it is an older run
#: (loaded unchecked) or, beside a run file, never happens with :meth:`Run.save`.
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "workbench-run"
MANIFEST_VERSION = 1
REPORT_FILE = "report.html"
#: The files of a saved run's folder; :meth:`Run.save` replaces a folder holding only these.
RUN_FILES = (RUN_FILE, WEIGHTS_FILE, MANIFEST_FILE, REPORT_FILE)
#: The precisions a Run is trained and stored in (the ``dtype`` knob of training).
DTYPES = ("float32", "float64")
# Markers of a save's hidden siblings: the folder being written and the run moved aside.
_SAVING = ".saving-"
_OLD = ".old-"


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
            # A choice that is a bool (``compile``: auto, True or False) reads as a Boolean does.
            if str(obj) == text or (isinstance(obj, bool) and text.lower() == str(obj).lower()):
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
        line += f" wall_s={float(a['wall_s']):.3g}"
        starved = cpu_starved(a)
        return f"{line} ({starved})" if starved else line

    def __repr__(self) -> str:
        return f"<Run {self.summary()} status={self.status}>"

    # --- persistence --------------------------------------------------------------------
    def save(self, directory: str | Path, *, extra: Callable[[Path], object] | None = None) -> Path:
        """Write the Run into ``directory`` as a whole: complete, or not at all.

        The files (``run.nc``, ``weights.safetensors``, what ``extra`` adds, and last
        ``manifest.json`` with their sizes and SHA-256) are written into a hidden sibling
        folder and renamed into place. An existing run in ``directory`` is moved aside, the new
        one renamed in, and the old one deleted: at any moment a complete run sits under
        ``directory`` or under the aside name ``.<name>.old-*``, which the next save (or a
        :meth:`load` error message) points back to. A KeyboardInterrupt while writing abandons
        the new files and keeps the old run; the swap itself is not interrupted.

        Parameters
        ----------
        directory : str or Path
            The run's folder; its parents are created. It must be absent, empty or hold a
            saved run (only the files named in :data:`RUN_FILES`): other files are never
            deleted by a save.
        extra : callable, optional
            ``extra(folder)`` writes further files (a report) into the folder being written,
            so that they are replaced together with the run.

        Returns
        -------
        Path
            ``directory``.

        Raises
        ------
        FileExistsError
            When ``directory`` is a file or holds files that are not part of a saved run.
        """
        # Resolved: "." or "a/.." get a real name to rename, and a symlinked folder is
        # replaced where it lives, the link kept.
        target = Path(directory).resolve()
        _check_replaceable(target)
        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True)
        _recover(target)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}{_SAVING}{os.getpid()}-", dir=parent)
        )
        try:
            self.tree.to_netcdf(staging / RUN_FILE, engine="h5netcdf")
            state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
            safetensors.torch.save_file(state, staging / WEIGHTS_FILE)
            if extra is not None:
                extra(staging)
            _write_manifest(staging)
            with _sigint_deferred():
                _swap_in(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path) -> Run:
        """Rebuild a Run saved by :meth:`save`: problem, method, regularizers and model.

        Every check happens before the Run is returned: the manifest's sizes and checksums
        (runs saved before manifests existed skip this), the groups and root attrs of
        ``run.nc``, the knobs, the precision, and the name, shape and dtype of every tensor.

        Raises
        ------
        FileNotFoundError
            When the folder, ``run.nc`` or ``weights.safetensors`` is missing.
        ValueError
            For anything present but wrong (unreadable or truncated files, a folder mixing
            files of different saves, a missing group or attr, an unknown problem, method,
            regularizer, combiner or knob, a bad dtype, weights that do not fit the model);
            the message names the file, the group or attr, and what was expected.
        """
        from workbench.combiners import COMBINERS
        from workbench.methods import METHODS
        from workbench.problems import PROBLEMS
        from workbench.regularizers import REGULARIZERS

        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(_missing_message(directory))
        for name in (RUN_FILE, WEIGHTS_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"run directory {str(directory)!r} has no {name}")
        _verify_manifest(directory)
        run_file, weights_file = directory / RUN_FILE, directory / WEIGHTS_FILE
        try:
            with xr.open_datatree(run_file, engine="h5netcdf") as stored:
                tree = stored.load().copy()
        except Exception as err:  # a corrupt file: say which one, keep the cause
            raise ValueError(f"cannot read run {run_file}: {type(err).__name__}: {err}") from err
        try:
            state = safetensors.torch.load_file(weights_file)
        except Exception as err:
            raise ValueError(
                f"cannot read run weights {weights_file}: {type(err).__name__}: {err}"
            ) from err
        _check_tree(run_file, tree)
        attrs = tree.attrs

        def build(attr: str, registry: Mapping, name, params, name_attr: str | None = None):
            # ``name_attr`` holds the registry name where it is not the JSON of ``attr``.
            if not isinstance(name, str) or name not in registry:
                raise ValueError(
                    f"{run_file}: root attr {(name_attr or attr)!r} names unknown {name!r}; "
                    f"expected one of {', '.join(sorted(registry))}"
                )
            if not isinstance(params, dict):
                raise ValueError(f"{run_file}: root attr {attr!r}: knobs of {name!r} not a dict")
            try:
                return registry[name](**params)
            except Exception as err:  # unknown knob (TypeError), value out of range, ...
                raise ValueError(
                    f"{run_file}: root attr {attr!r}: knobs of {name!r} rejected: {err}"
                ) from err

        problem = build(
            "problem_params",
            PROBLEMS,
            attrs["problem"],
            _json(run_file, attrs, "problem_params"),
            name_attr="problem",
        )
        method_params = _json(run_file, attrs, "method_params")
        if isinstance(method_params, dict) and isinstance(method_params.get("data"), dict):
            # The user's own dataset was stored in the Run, not in the knobs' JSON.
            group = str(method_params["data"].get("group", "")).strip("/")
            if group not in tree.children:
                raise ValueError(
                    f"{run_file}: root attr 'method_params' says the training data is in group "
                    f"'/{group}', which the file lacks"
                )
            method_params["data"] = tree[group].to_dataset()
        method = build("method_params", METHODS, attrs["method"], method_params, "method")
        stored_regs = _json(run_file, attrs, "regularizers")
        if not isinstance(stored_regs, list) or not all(
            isinstance(r, dict) and "name" in r and "params" in r for r in stored_regs
        ):
            raise ValueError(
                f"{run_file}: root attr 'regularizers': expected a JSON list of "
                '{"name": ..., "params": {...}}'
            )
        regularizers = [
            build("regularizers", REGULARIZERS, r["name"], r["params"]) for r in stored_regs
        ]
        # Runs saved before combiners existed have no such attr: they summed their terms.
        combined = (
            _json(run_file, attrs, "combiner")
            if "combiner" in attrs
            else {"name": "sum", "params": {}}
        )
        if not isinstance(combined, dict) or "name" not in combined:
            raise ValueError(f"{run_file}: root attr 'combiner': expected a name and params")
        combiner = build("combiner", COMBINERS, combined["name"], combined.get("params", {}))
        try:
            model = method.build(problem, torch.Generator().manual_seed(int(attrs["seed"])))
        except Exception as err:
            raise ValueError(
                f"{run_file}: cannot build the model of {method.name!r} on {problem.name!r} "
                f"from root attrs 'method_params' and 'problem_params': {err}"
            ) from err
        model = model.to(getattr(torch, attrs["dtype"]))
        _check_weights(weights_file, state, model)
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
        "method_params": json.dumps(method.stored_knobs(), sort_keys=True),
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


# --- safe saving and strict loading ------------------------------------------------------------
def _fsync(path: Path) -> None:
    # Renames are atomic against a killed process already; fsync makes them so against a
    # power cut too (data first, then the folder entries that name it).
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the rename still holds
        pass
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(folder: Path) -> None:
    # Written last, after every other file is on disk: its presence marks a complete save.
    files = sorted(p for p in folder.iterdir() if p.is_file())
    for path in files:
        _fsync(path)
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "files": {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files},
    }
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _fsync(path)
    _fsync(folder)


def _verify_manifest(directory: Path) -> None:
    """Check ``run.nc`` and the weights against ``manifest.json`` (absent: an older run)."""
    path = directory / MANIFEST_FILE
    if not path.exists():
        return  # saved before manifests existed: nothing to check against
    try:
        manifest = json.loads(path.read_text())
        ok = (
            manifest["format"] == MANIFEST_FORMAT
            and isinstance(manifest["version"], int)
            and isinstance(manifest["files"], dict)
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"cannot read {path}: {type(err).__name__}: {err}") from err
    if not ok:
        raise ValueError(f"{path}: expected format {MANIFEST_FORMAT!r} with a version and files")
    if manifest["version"] > MANIFEST_VERSION:
        raise ValueError(
            f"{path}: format version {manifest['version']} is newer than this workbench "
            f"reads ({MANIFEST_VERSION}); upgrade workbench"
        )
    for name in (RUN_FILE, WEIGHTS_FILE):
        try:
            _check_entry(directory, path, name, manifest["files"].get(name))
        except OSError as err:  # unreadable (permissions, I/O): still "present but wrong"
            raise ValueError(f"cannot read {directory / name}: {err}") from err


def _check_entry(directory: Path, path: Path, name: str, entry) -> None:
    """Raise ValueError unless ``name`` has the size and SHA-256 its manifest entry says."""
    if not isinstance(entry, dict) or not {"size", "sha256"} <= set(entry):
        raise ValueError(f"{path}: has no size and sha256 for {name}")
    size = (directory / name).stat().st_size
    if size != entry["size"]:
        raise ValueError(
            f"{directory / name}: {size} bytes, manifest.json expects {entry['size']}: "
            "the file is truncated or comes from another save"
        )
    if _sha256(directory / name) != entry["sha256"]:
        raise ValueError(
            f"{directory / name}: SHA-256 differs from manifest.json: the file is "
            "corrupt or comes from another save"
        )


def _sibling(target: Path, marker: str) -> list[Path]:
    parent = target.absolute().parent
    if not parent.is_dir():
        return []
    return sorted(parent.glob(f".{glob.escape(target.name)}{marker}*"))


def _missing_message(directory: Path) -> str:
    expected = f"expected a folder holding {RUN_FILE} and {WEIGHTS_FILE}"
    if directory.exists():
        return f"run directory {str(directory)!r} is not a folder; {expected}"
    message = f"run directory {str(directory)!r} does not exist; {expected}"
    asides = _sibling(directory, _OLD)
    if asides:
        message += (
            f"; an interrupted save left the previous run in {str(asides[-1])!r} "
            "(rename it back, or save again, which restores it first)"
        )
    return message


def _check_replaceable(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"cannot save a run to {str(target)!r}: it is a file")
    if target.is_dir():
        others = sorted(p.name for p in target.iterdir() if p.name not in RUN_FILES)
        if others:
            raise FileExistsError(
                f"cannot save a run to {str(target)!r}: it holds files that are not part of "
                f"a saved run ({', '.join(others[:5])}); a save would replace them"
            )


def _recover(target: Path) -> None:
    """Tidy what killed saves left next to ``target``.

    A run moved aside and never replaced goes back under its name; asides of a completed
    save, and half-written folders of processes that no longer run, are deleted.
    """
    asides = _sibling(target, _OLD)
    # Only a whole aside goes back: one half deleted after a finished swap is just debris.
    whole = [a for a in asides if (a / RUN_FILE).is_file() and (a / WEIGHTS_FILE).is_file()]
    if whole and not target.exists():
        os.rename(whole[-1], target)
        asides.remove(whole[-1])
    for aside in asides:
        shutil.rmtree(aside, ignore_errors=True)
    for staging in _sibling(target, _SAVING):
        pid = staging.name.rsplit(_SAVING, 1)[-1].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _swap_in(staging: Path, target: Path) -> None:
    """Rename the complete ``staging`` folder to ``target``, replacing an older run."""
    parent = target.absolute().parent
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()  # an empty folder holds nothing to keep
    if not target.exists():
        os.rename(staging, target)
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}{_OLD}", dir=parent))
        os.rename(target, aside)  # onto the empty placeholder folder: atomic on POSIX
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(aside, target)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    _fsync(parent)


@contextlib.contextmanager
def _sigint_deferred():
    """Hold a Ctrl-C until the block ends (main thread only; elsewhere none arrives)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)


def _json(run_file: Path, attrs: Mapping, name: str):
    try:
        return json.loads(attrs[name])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{run_file}: root attr {name!r} is not valid JSON: {err}") from err


#: Root attrs a saved run must have, and what each holds (for the error messages).
#: A run whose process got less CPU time than this share of its wall time (and that ran at
#: least :data:`STARVED_MIN_WALL_S`) was starved: its summary says so.
STARVED_SHARE = 0.5
STARVED_MIN_WALL_S = 5.0


def cpu_starved(attrs) -> str:
    """A note when a run's process got much less CPU than wall time (a busy machine), else
    ``""``. Runs saved before ``cpu_s`` was recorded give ``""``."""
    try:
        cpu, wall = float(attrs["cpu_s"]), float(attrs["wall_s"])
    except (KeyError, TypeError, ValueError):
        return ""
    if wall < STARVED_MIN_WALL_S or cpu >= STARVED_SHARE * wall:
        return ""
    return (
        f"got {cpu / wall:.0%} of a CPU core over {wall:.0f} s: a busy machine, so fewer "
        "steps per second than a quiet one would take"
    )


REQUIRED_ATTRS = {
    "problem": "the problem's registry name",
    "method": "the method's registry name",
    "problem_params": "the problem's knobs as JSON",
    "method_params": "the method's knobs as JSON",
    "regularizers": "the regularizers as JSON",
    "seed": "the integer seed",
    "dtype": "float32 or float64",
    "status": "done, diverged or stopped",
    "steps": "the number of steps trained",
    "l2re": "the final metric",
    "wall_s": "the wall time in seconds",
}


def _check_tree(run_file: Path, tree: xr.DataTree) -> None:
    """Raise ValueError unless the tree has the groups and root attrs a Run relies on."""
    for group in ("history", "fields"):
        if group not in tree.children:
            raise ValueError(f"{run_file}: has no /{group} group; expected a workbench run")
    history = tree["history"]
    for name in ("loss", "l2re"):
        if name not in history.data_vars or history[name].dims != ("step",):
            raise ValueError(f"{run_file}: /history has no variable {name!r} along dim 'step'")
    attrs = tree.attrs
    for name, expected in REQUIRED_ATTRS.items():
        if name not in attrs:
            raise ValueError(f"{run_file}: root attr {name!r} is missing; expected {expected}")
    for name in ("problem", "method", "problem_params", "method_params", "regularizers"):
        if not isinstance(attrs[name], str):
            raise ValueError(
                f"{run_file}: root attr {name!r}: expected text, {REQUIRED_ATTRS[name]}"
            )
    seed = attrs["seed"]
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool | np.bool_):
        raise ValueError(f"{run_file}: root attr 'seed' is {seed!r}; expected an integer")
    if attrs["dtype"] not in DTYPES:
        raise ValueError(
            f"{run_file}: root attr 'dtype' is {attrs['dtype']!r}; expected one of "
            f"{', '.join(DTYPES)}"
        )
    if attrs["status"] not in ("done", "diverged", "stopped"):
        raise ValueError(
            f"{run_file}: root attr 'status' is {attrs['status']!r}; expected done, diverged "
            "or stopped"
        )
    for name in ("steps", "l2re", "wall_s"):
        try:
            float(attrs[name])
        except (TypeError, ValueError):
            raise ValueError(
                f"{run_file}: root attr {name!r} is {attrs[name]!r}; expected a number"
            ) from None


def _check_weights(weights_file: Path, state: Mapping, model: nn.Module) -> None:
    """Raise ValueError unless ``state`` has exactly the model's tensors, shapes and dtypes."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(
            f"{weights_file}: tensors do not match the model the run's attrs build "
            f"(missing: {', '.join(missing[:5]) or 'none'}; unexpected: "
            f"{', '.join(extra[:5]) or 'none'})"
        )
    for key, want in expected.items():
        got = state[key]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise ValueError(
                f"{weights_file}: tensor {key!r} is {got.dtype} {tuple(got.shape)}; the model "
                f"expects {want.dtype} {tuple(want.shape)}"
            )
