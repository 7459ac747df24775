"""sweep(): one :func:`~workbench.train.fit` per point of a grid of knob values, on Dask.

A sweep asks how a result changes with the knobs: the error against ``beta``, ``width``, a
regularizer's weight, the seed. Each point of the grid is an independent training, so the
points run in parallel on a Dask cluster: a ``LocalCluster`` on this machine by default (one
process per core, one thread each, since one torch thread per training is what a small
physics-informed model runs fastest with), or an existing cluster given by its scheduler's
address. The answer is one ``xarray.Dataset`` with a dimension per swept knob.

With ``out``, every finished point is written to ``out/points/<key>.nc`` at once (the key is
a hash of everything that defines the training), and ``out/sweep.nc`` holds the whole
Dataset. Running the same sweep again reads the finished points and runs only the missing
ones, so an interrupted sweep resumes where it stopped, and extending the grid runs only the
new points. A point that diverges is recorded (``status="diverged"``, with its message); one
that raises, or whose worker dies too often, is recorded as ``failed`` and never aborts the
sweep. Failed points are not written, so they run again on the next call.

Layout of the Dataset:

coordinates
    one dimension per swept knob, in the order given (``seed`` is a knob like any other),
    with ``long_name`` (the knob's doc), ``owner`` (problem, method, training, combiner or a
    regularizer's name) and ``units`` where the knob has them.
variables (one value per point)
    ``l2re``, ``loss`` (the weighted total at the last step), ``loss_<term>`` (each
    unweighted term at the last step), ``estimate_<name>`` (each coefficient learned in an
    inverse problem, with its ``true_value``), ``wall_s``, ``steps_taken``, ``status`` (``done``,
    ``diverged``, ``stopped``, ``failed`` or ``pending``) and ``message``.
with ``fields=True``
    each point's ``/fields`` variables (``u``, ``u_ref``, ``error``, ``residual``) with the
    sweep's dimensions in front of the problem's.
attrs
    provenance of the base set-up (as a Run's), ``grid`` (JSON), ``points`` and
    ``points_done``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import param
import xarray as xr

from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.regularizers import COMBINERS, REGULARIZERS
from workbench.results import describe_bounds, json_default, knobs, provenance
from workbench.train import Training, fit, train

SWEEP_FILE = "sweep.nc"
POINTS_DIR = "points"

#: Statuses a finished point can have (``pending``: not run yet).
FINISHED = ("done", "diverged", "stopped", "failed")

#: Knobs measured in something other than plain numbers.
KNOB_UNITS = {"steps": "steps", "lbfgs_steps": "steps", "max_wall_s": "s", "lr": "1"}

METRIC_ATTRS = {
    "l2re": {"long_name": "relative L2 error", "units": "1"},
    "loss": {"long_name": "weighted total loss at the last step", "units": "1"},
    "wall_s": {"long_name": "training wall time", "units": "s"},
    "steps_taken": {"long_name": "optimizer steps taken", "units": "steps"},
    "status": {"long_name": "how the point ended: done, diverged, stopped, failed or pending"},
    "message": {"long_name": "why the point ended early or failed"},
}

#: Names the result already uses (metrics, fields and the problems' grid dims).
RESERVED_NAMES = frozenset(
    {*METRIC_ATTRS, "u", "u_ref", "error", "residual", "x", "y", "t", "sample"}
)

#: Dask settings of LocalCluster workers. A small PINN step is many short torch calls, each
#: releasing and retaking the GIL, so every wake-up of a worker's own Python threads slows it:
#: with Dask's defaults (stack sampling every 10 ms, an event-loop tick every 20 ms, memory
#: checks every 100 ms) a 1500-step training took 14.7 s in a worker against 9.5 s alone;
#: with these, 9 s. Workers of a cluster given by address keep their own settings (set these
#: in their Dask config for the same effect).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}

#: Seconds between rewrites of ``sweep.nc`` while points finish (each point's own file is
#: written at once; the combined file is a convenience rebuilt from them).
WRITE_INTERVAL_S = 5.0


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


def _knob_attrs(owner: str, p: param.Parameter) -> dict:
    attrs = {"long_name": (p.doc or p.name).strip().split("\n")[0].rstrip("."), "owner": owner}
    if p.name in KNOB_UNITS:
        attrs["units"] = KNOB_UNITS[p.name]
    elif owner == "problem" and isinstance(p, param.Number):
        attrs["units"] = "1"  # the PDEs are written in nondimensional form
    return attrs


# --- point specs: plain dicts that travel to workers --------------------------------------------
def _spec(problem, method, regularizers, combiner, settings: Mapping) -> dict:
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


def _set(spec: dict, owner: str, name: str, value) -> None:
    if owner in ("problem", "method", "combiner"):
        spec[owner]["params"][name] = value
    elif owner == "training":
        spec["training"][name] = value
    else:
        next(r for r in spec["regularizers"] if r["name"] == owner)["params"][name] = value


def _build(spec: dict):
    """Problem, method, regularizers, combiner and settings from a spec (raises on bad knobs)."""
    problem = PROBLEMS[spec["problem"]["name"]](**spec["problem"]["params"])
    method = METHODS[spec["method"]["name"]](**spec["method"]["params"])
    regularizers = [REGULARIZERS[r["name"]](**r["params"]) for r in spec["regularizers"]]
    combiner = spec["combiner"]
    if combiner is not None:
        combiner = COMBINERS[combiner["name"]](**combiner["params"])
    settings = {**spec["training"], "weights": spec["weights"]}
    return problem, method, regularizers, combiner, settings


def point_key(spec: dict) -> str:
    """A short hash of everything that defines a point's training (its file name)."""
    text = json.dumps(spec, sort_keys=True, default=json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _run_point(spec: dict, with_fields: bool) -> xr.Dataset:
    """Train one point (on a worker) and return its metrics (and fields) as a small Dataset."""
    problem, method, regularizers, combiner, settings = _build(spec)
    try:
        run = fit(problem, method, regularizers, combiner, progress=False, **settings)
    except Exception as err:  # a failed point is a result too; the sweep goes on
        # The message names the error; fit() on that point's set-up shows the traceback.
        return _failed(f"{type(err).__name__}: {err}")
    if run.status == "stopped" and run.attrs["message"].startswith("interrupted"):
        # Ctrl-C in a sweep run in this process: stop the sweep, not just this point.
        raise KeyboardInterrupt
    history = run.history
    variables = {
        "l2re": run.l2re,
        "loss": float(history["loss"][-1]),
        "wall_s": float(run.attrs["wall_s"]),
        "steps_taken": int(run.attrs["steps"]),
        "status": run.status,
        "message": str(run.attrs["message"]),
    }
    result = xr.Dataset({k: ((), v, METRIC_ATTRS[k]) for k, v in variables.items()})
    for name, value in run.estimates.items():
        attrs = dict(run.history[name].attrs)
        attrs.pop("role", None)
        result[f"estimate_{name}"] = ((), value, {**attrs, "long_name": f"estimate of {name}"})
    for term in run.loss_terms:
        result[f"loss_{term}"] = (
            (),
            float(history[term][-1]),
            {"long_name": f"loss term {term} at the last step", "units": "1"},
        )
    if with_fields:
        for name, variable in run.fields.data_vars.items():
            result[name] = variable.astype(np.float32)
    return result


def _failed(message: str) -> xr.Dataset:
    values = {**_FAILED, "message": message}
    return xr.Dataset({k: ((), v, METRIC_ATTRS[k]) for k, v in values.items()})


_FAILED = {
    "l2re": math.nan,
    "loss": math.nan,
    "wall_s": math.nan,
    "steps_taken": 0,
    "status": "failed",
}


# --- the Dataset ------------------------------------------------------------------------------
def _fill_value(dtype: np.dtype):
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind in "iub":
        return -1 if dtype.kind == "i" else 0
    return ""


def assemble(
    grid: Sequence[Knob], results: Mapping[tuple, xr.Dataset], attrs: Mapping
) -> xr.Dataset:
    """The sweep's Dataset from the finished points' results (missing points: ``pending``).

    Parameters
    ----------
    grid : sequence of Knob
        The swept knobs.
    results : mapping
        Finished points: the tuple of value indices -> that point's result Dataset.
    attrs : mapping
        The Dataset's attrs.
    """
    shape = tuple(len(k.values) for k in grid)
    dims = tuple(k.dim for k in grid)
    coords = {}
    for knob in grid:
        values = np.asarray(knob.values)
        coords[knob.dim] = (knob.dim, values, dict(knob.attrs))
    templates: dict[str, xr.DataArray] = {}
    for result in results.values():
        for name, variable in result.data_vars.items():
            templates.setdefault(name, variable)
    variables = {}
    for name, template in templates.items():
        data = np.full(
            shape + template.shape, _fill_value(template.dtype), dtype=_storage_dtype(template)
        )
        for index, result in results.items():
            if name not in result:
                continue
            value = result[name]
            if value.shape != template.shape or not _same_coords(value, template):
                raise ValueError(
                    f"fields: {name!r} is on a different grid at point {index} than at another; "
                    "a swept knob changes the grid, so sweep with fields=False"
                )
            data[index] = value.values.item() if value.ndim == 0 else value.values
        if name == "status":
            data[data == ""] = "pending"
        coords.update({d: template[d] for d in template.dims if d in template.coords})
        variables[name] = (dims + template.dims, data, dict(template.attrs))
    if "status" not in variables:  # nothing finished yet
        variables["status"] = (
            dims,
            np.full(shape, "pending", dtype=object),
            METRIC_ATTRS["status"],
        )
    dataset = xr.Dataset(variables, coords=coords, attrs=dict(attrs))
    dataset.attrs["points"] = int(np.prod(shape))
    dataset.attrs["points_done"] = int(np.isin(dataset["status"].values, FINISHED).sum())
    return dataset


def _storage_dtype(template: xr.DataArray):
    return object if template.dtype.kind in "OUS" else template.dtype


def _same_coords(a: xr.DataArray, b: xr.DataArray) -> bool:
    return all(
        d in b.coords and np.array_equal(a[d].values, b[d].values) for d in a.dims if d in a.coords
    )


def _write(dataset: xr.Dataset, path: Path) -> None:
    """Write atomically: a reader (or a resumed sweep) never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    dataset.to_netcdf(partial, engine="h5netcdf")
    os.replace(partial, path)


# --- running ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepProgress:
    """One record of a sweep: yielded once at the start and once per finished point.

    Attributes
    ----------
    result : xarray.Dataset
        The sweep so far (unfinished points have ``status="pending"``).
    done : int
        Points finished (including those read back from ``out``).
    total : int
        Points in the grid.
    reused : int
        Points read back from an earlier call instead of run.
    point : dict or None
        The coordinates of the point that just finished (None on the first record).
    status : str
        That point's status.
    message : str
        That point's message.
    finished : bool
        True on the last record.
    """

    result: xr.Dataset
    done: int
    total: int
    reused: int
    point: dict | None = None
    status: str = ""
    message: str = ""
    finished: bool = False


class Sweep:
    """A validated sweep: the base set-up, the grid and where results go.

    Build it with the same arguments as :func:`sweep`; every point's knobs are checked when it
    is made, before any work starts.
    """

    def __init__(
        self,
        problem,
        method,
        regularizers=(),
        combiner=None,
        *,
        grid: Mapping[str, Sequence],
        out: str | Path | None = None,
        fields: bool = False,
        overwrite: bool = False,
        **settings,
    ):
        if not grid:
            raise ValueError("grid: give at least one knob and its values, e.g. {'beta': [1, 10]}")
        settings.setdefault("threads", 1)
        regularizers = list(regularizers)
        base = _spec(problem, method, regularizers, combiner, settings)
        # The base set-up itself must be valid before its variations are.
        _check(base, "the base set-up")
        owners = knob_owners(problem, method, regularizers, combiner)
        self.grid: list[Knob] = []
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
            if any(k.dim == dim for k in self.grid):
                raise ValueError(f"grid {key!r}: knob {dim!r} is swept twice")
            self.grid.append(Knob(key, dim, owner, name, values, _knob_attrs(owner, p)))
        self.base = base
        self.fields = fields
        self.out = Path(out) if out is not None else None
        self.specs: dict[tuple, dict] = {}
        for index in np.ndindex(*(len(k.values) for k in self.grid)):
            spec = json.loads(json.dumps(base, default=json_default))
            for knob, i in zip(self.grid, index):
                _set(spec, knob.owner, knob.name, knob.values[i])
            self.specs[index] = spec
        for index, spec in self.specs.items():
            _check(spec, f"point {self.coordinates(index)}")
        made = provenance(
            problem, method, regularizers, seed=settings.get("seed", 0), device="", dtype=""
        )
        self.attrs = {
            k: v for k, v in made.items() if k not in ("seed", "device", "dtype", "source")
        }
        self.attrs.update(
            title=f"sweep of {method.name} on {problem.name} over "
            + ", ".join(k.dim for k in self.grid),
            combiner=json.dumps(base["combiner"], sort_keys=True),
            training=json.dumps(base["training"], sort_keys=True, default=str),
            weights=json.dumps(base["weights"], sort_keys=True),
            grid=json.dumps({k.key: list(k.values) for k in self.grid}, default=str),
        )
        if self.out is not None:
            self._check_out(overwrite)

    @property
    def total(self) -> int:
        """Number of points in the grid."""
        return len(self.specs)

    def coordinates(self, index: tuple) -> dict:
        """The knob values of the point at ``index`` (a tuple of value indices), by dim."""
        return {k.dim: k.values[i] for k, i in zip(self.grid, index)}

    def _check_out(self, overwrite: bool) -> None:
        out = self.out
        if out.exists() and not out.is_dir():
            raise ValueError(f"out: {str(out)!r} exists and is not a folder")
        stored = out / SWEEP_FILE
        if stored.is_file() and not overwrite:
            try:
                with xr.open_dataset(stored, engine="h5netcdf") as old:
                    old_attrs = dict(old.attrs)
            except Exception as err:
                raise ValueError(
                    f"out: cannot read {str(stored)!r} ({err}); choose another folder or "
                    "pass overwrite=True"
                ) from None
            fixed = ("problem", "method", "regularizers", "combiner", "weights")
            differs = [k for k in fixed if old_attrs.get(k) != self.attrs.get(k)]
            if differs:
                raise ValueError(
                    f"out: {str(out)!r} holds another sweep ({', '.join(differs)} differ); "
                    "choose another folder, or pass overwrite=True to replace its sweep.nc "
                    "(finished points are kept and reused where they match)"
                )
        elif out.is_dir() and any(out.iterdir()) and not stored.is_file() and not overwrite:
            raise ValueError(
                f"out: {str(out)!r} is not empty and holds no sweep; choose another folder or "
                "pass overwrite=True"
            )

    def finished_points(self) -> dict[tuple, xr.Dataset]:
        """Points already written to ``out`` by an earlier call (unreadable files are skipped)."""
        if self.out is None:
            return {}
        folder = self.out / POINTS_DIR
        found = {}
        for index, spec in self.specs.items():
            path = folder / f"{point_key(spec)}.nc"
            if not path.is_file():
                continue
            try:
                with xr.open_dataset(path, engine="h5netcdf") as stored:
                    result = stored.load()
            except Exception as err:
                warnings.warn(f"{path}: unreadable ({err}); that point runs again", stacklevel=3)
                continue
            if self.fields and not any(v.dims for v in result.data_vars.values()):
                continue  # stored without fields; this call wants them
            found[index] = result
        return found

    def dataset(self, results: Mapping[tuple, xr.Dataset]) -> xr.Dataset:
        """The Dataset with ``results`` filled in (see :func:`assemble`)."""
        return assemble(self.grid, results, self.attrs)

    def run(self, scheduler=None, workers: int | None = None) -> Iterator[SweepProgress]:
        """Run the missing points, yielding a :class:`SweepProgress` as each one finishes.

        Parameters
        ----------
        scheduler : None, str or distributed.Client
            ``None``: a new ``LocalCluster`` (``workers`` processes, one thread each; closed
            at the end). A scheduler address (``tcp://host:8786``) or a ``Client``: that
            cluster. ``"serial"``: one point after another in this process, without Dask.
        workers : int, optional
            Worker processes of the LocalCluster (default: as many as cores, at most one per
            point to run).
        """
        results = self.finished_points()
        reused = len(results)
        missing = [index for index in self.specs if index not in results]
        if self.out is not None:
            (self.out / POINTS_DIR).mkdir(parents=True, exist_ok=True)
            _write(self.dataset(results), self.out / SWEEP_FILE)
        written = time.monotonic()
        yield SweepProgress(self.dataset(results), reused, self.total, reused)
        try:
            for index, result in _execute(
                [(index, self.specs[index]) for index in missing], self.fields, scheduler, workers
            ):
                status = str(result["status"].values)
                if self.out is not None and status != "failed":
                    _write(result, self.out / POINTS_DIR / f"{point_key(self.specs[index])}.nc")
                results[index] = result
                dataset = self.dataset(results)
                if self.out is not None and time.monotonic() - written > WRITE_INTERVAL_S:
                    _write(dataset, self.out / SWEEP_FILE)
                    written = time.monotonic()
                yield SweepProgress(
                    dataset,
                    len(results),
                    self.total,
                    reused,
                    self.coordinates(index),
                    status,
                    str(result["message"].values),
                )
        finally:
            # Interrupted or finished: the combined file reflects every point written.
            if self.out is not None:
                _write(self.dataset(results), self.out / SWEEP_FILE)
        dataset = self.dataset(results)
        yield SweepProgress(dataset, len(results), self.total, reused, finished=True)

    def collect(
        self, scheduler=None, workers: int | None = None, *, progress: bool = True
    ) -> SweepProgress:
        """Run the missing points with a progress bar and return the last record.

        Takes :meth:`run`'s arguments. Ctrl-C stops the sweep cleanly: ``sweep.nc`` holds the
        points finished so far and the record's Dataset marks the others ``pending``.
        """
        from tqdm.auto import tqdm

        records = self.run(scheduler, workers)
        last = next(records)
        with tqdm(
            total=self.total,
            initial=last.done,
            disable=not progress,
            desc=f"sweep {self.base['method']['name']} on {self.base['problem']['name']}",
            unit="point",
        ) as bar:
            try:
                for record in records:
                    last = record
                    bar.update(record.done - bar.n)
                    if record.status in ("diverged", "failed"):
                        bar.write(f"{record.point}: {record.status}: {record.message}")
            except KeyboardInterrupt:
                records.close()  # writes sweep.nc with the points finished so far
                bar.write(
                    f"interrupted: {last.done} of {self.total} points finished"
                    + ("; call again with the same out to run the rest" if self.out else "")
                )
        return last


def _check(spec: dict, where: str) -> None:
    try:
        problem, method, regularizers, combiner, settings = _build(spec)
        # train() checks the whole combination; its generator has not started, so closing it
        # costs nothing.
        train(problem, method, regularizers, combiner, **settings).close()
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: {err}") from None


def local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` single-threaded worker processes, quiet.

    One thread per worker: a small physics-informed training runs fastest on one torch thread,
    so a core per point beats several threads per point.
    """
    import dask
    from distributed import LocalCluster

    # The workers take the config they are started with (their nannies keep it for restarts).
    with dask.config.set(QUIET_WORKERS):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # The scheduler's HTTP endpoints still need a port: any free one, so that a
            # second cluster (another sweep) does not warn about 8787 being taken.
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        )


def _execute(
    todo: list[tuple[tuple, dict]], with_fields: bool, scheduler, workers: int | None
) -> Iterator[tuple[tuple, xr.Dataset]]:
    """Run the points and yield (index, result) as each finishes, in any order."""
    if not todo:
        return
    if isinstance(scheduler, str) and scheduler == "serial":
        for index, spec in todo:
            yield index, _run_point(spec, with_fields)
        return
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        cluster = local_cluster(min(n, len(todo)))
        client = Client(cluster)
    elif isinstance(scheduler, str):
        cluster = None
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as err:
            raise ValueError(f"scheduler: cannot reach {scheduler!r}: {err}") from None
    else:
        cluster, client = None, scheduler
    futures = {}
    try:
        for index, spec in todo:
            future = client.submit(
                _run_point, spec, with_fields, key=f"sweep-point-{point_key(spec)}", pure=False
            )
            futures[future] = index
        for future in as_completed(futures):
            index = futures.pop(future)
            try:
                result = future.result()
            except Exception as err:  # the worker died too often, or the task was lost
                result = _failed(f"{type(err).__name__}: {err}")
            # Read back: the cluster need not keep it (nor recompute it if a worker dies).
            future.release()
            yield index, result
    finally:
        for future in futures:
            future.cancel()
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def sweep(
    problem,
    method,
    regularizers=(),
    combiner=None,
    *,
    grid: Mapping[str, Sequence],
    scheduler=None,
    workers: int | None = None,
    out: str | Path | None = None,
    fields: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **settings,
) -> xr.Dataset:
    """Train ``method`` on ``problem`` at every point of ``grid`` and gather the results.

    Parameters
    ----------
    problem, method, regularizers, combiner
        The base set-up, as for :func:`~workbench.train.train`.
    grid : mapping
        Knob key -> values. Keys name any knob of the problem, the method or the training
        (``beta``, ``width``, ``lr``, ``seed``), with a prefix where needed
        (``method.width``, ``weight_decay.weight``, ``combiner.alpha``). Every combination
        is a point.
    scheduler : None, str or distributed.Client
        Where points run: ``None`` starts a ``LocalCluster`` (one single-threaded worker
        process per core); an address such as ``"tcp://host:8786"`` or a ``Client`` uses that
        cluster; ``"serial"`` runs them one after another in this process.
    workers : int, optional
        LocalCluster worker processes (default: the number of cores).
    out : str or Path, optional
        Folder for ``sweep.nc`` and one file per finished point. Calling again with the same
        folder runs only the points not yet there.
    fields : bool
        Keep each point's fields (prediction, reference, error, residual) in the Dataset.
    overwrite : bool
        Allow ``out`` to hold another sweep (its finished points are kept where they match).
    progress : bool
        Show a progress bar over points.
    **settings
        Knobs of :class:`~workbench.train.Training` and ``weights``, for every point
        (``threads`` defaults to 1: one torch thread per worker).

    Returns
    -------
    xarray.Dataset
        One dimension per swept knob; see :mod:`workbench.sweep`. If interrupted (Ctrl-C),
        the points finished so far, the others ``pending``.

    Raises
    ------
    ValueError
        Before any work: an unknown knob, a value out of its bounds, a point whose set-up
        cannot train, or an ``out`` folder holding something else.
    """
    plan = Sweep(
        problem,
        method,
        regularizers,
        combiner,
        grid=grid,
        out=out,
        fields=fields,
        overwrite=overwrite,
        **settings,
    )
    return plan.collect(scheduler, workers, progress=progress).result
