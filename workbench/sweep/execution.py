"""Running a sweep's points: one training per point, on Dask or in this process.

Points run in parallel on a Dask cluster: a ``LocalCluster`` on this machine by default (one
process per core, one thread each, since one torch thread per training is what a small
physics-informed model runs fastest with), or an existing cluster given by its scheduler's
address. A point's spec travels to a worker, which builds its set-up and trains it
(:func:`_run_point`); a point that raises, or whose worker dies too often, comes back as a
``failed`` result rather than aborting the sweep.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator

import numpy as np
import xarray as xr

from workbench.sweep.knobs import build_point
from workbench.sweep.storage import METRIC_ATTRS, point_key
from workbench.train import fit

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


def _run_point(spec: dict, with_fields: bool) -> xr.Dataset:
    """Train one point (on a worker) and return its metrics (and fields) as a small Dataset."""
    problem, method, regularizers, combiner, settings = build_point(spec)
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


def execute_points(
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
