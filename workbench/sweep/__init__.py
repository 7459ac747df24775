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

The package, by responsibility: :mod:`~workbench.sweep.knobs` (which knob a grid key names,
its values checked; the point specs), :mod:`~workbench.sweep.storage` (the Dataset, the
per-point files and ``sweep.nc``), :mod:`~workbench.sweep.execution` (training the points on
Dask or in this process) and :mod:`~workbench.sweep.runner` (:class:`Sweep`, :func:`sweep`).
"""

from workbench.sweep.execution import QUIET_WORKERS, local_cluster
from workbench.sweep.knobs import KNOB_UNITS, Knob, knob_owners, resolve_knob
from workbench.sweep.runner import WRITE_INTERVAL_S, Sweep, SweepProgress, sweep
from workbench.sweep.storage import (
    FINISHED,
    METRIC_ATTRS,
    POINTS_DIR,
    RESERVED_NAMES,
    SWEEP_FILE,
    assemble,
    point_key,
)

__all__ = [
    "FINISHED",
    "KNOB_UNITS",
    "METRIC_ATTRS",
    "POINTS_DIR",
    "QUIET_WORKERS",
    "RESERVED_NAMES",
    "SWEEP_FILE",
    "WRITE_INTERVAL_S",
    "Knob",
    "Sweep",
    "SweepProgress",
    "assemble",
    "knob_owners",
    "local_cluster",
    "point_key",
    "resolve_knob",
    "sweep",
]
