"""The Sweep runner: a validated grid of points, run and gathered into one Dataset.

:class:`Sweep` checks every point's set-up when it is made, before any work starts; its
:meth:`Sweep.run` reads back the points an earlier call wrote, runs the missing ones (see
:mod:`workbench.sweep.execution`), writes each as it finishes and yields a
:class:`SweepProgress` per point. :func:`sweep` does all of that behind a progress bar.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from workbench.results import json_default, provenance
from workbench.sweep.execution import execute_points
from workbench.sweep.knobs import Knob, check_point, point_spec, resolve_grid, set_knob
from workbench.sweep.storage import POINTS_DIR, SWEEP_FILE, assemble, point_key, write_atomically

#: Seconds between rewrites of ``sweep.nc`` while points finish (each point's own file is
#: written at once; the combined file is a convenience rebuilt from them).
WRITE_INTERVAL_S = 5.0


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
        base = point_spec(problem, method, regularizers, combiner, settings)
        # The base set-up itself must be valid before its variations are.
        check_point(base, "the base set-up")
        self.grid: list[Knob] = resolve_grid(grid, problem, method, regularizers, combiner)
        self.base = base
        self.fields = fields
        self.out = Path(out) if out is not None else None
        self.specs: dict[tuple, dict] = {}
        for index in np.ndindex(*(len(k.values) for k in self.grid)):
            spec = json.loads(json.dumps(base, default=json_default))
            for knob, i in zip(self.grid, index):
                set_knob(spec, knob.owner, knob.name, knob.values[i])
            self.specs[index] = spec
        for index, spec in self.specs.items():
            check_point(spec, f"point {self.coordinates(index)}")
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
            write_atomically(self.dataset(results), self.out / SWEEP_FILE)
        written = time.monotonic()
        yield SweepProgress(self.dataset(results), reused, self.total, reused)
        try:
            for index, result in execute_points(
                [(index, self.specs[index]) for index in missing], self.fields, scheduler, workers
            ):
                status = str(result["status"].values)
                if self.out is not None and status != "failed":
                    write_atomically(
                        result, self.out / POINTS_DIR / f"{point_key(self.specs[index])}.nc"
                    )
                results[index] = result
                dataset = self.dataset(results)
                if self.out is not None and time.monotonic() - written > WRITE_INTERVAL_S:
                    write_atomically(dataset, self.out / SWEEP_FILE)
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
                write_atomically(self.dataset(results), self.out / SWEEP_FILE)
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
