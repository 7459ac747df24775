"""Generating a family dataset, sample after sample, for
:meth:`~workbench.problems.base.Problem.dataset`.

Both functions work chunk by chunk (``problem.family_chunk`` samples drawn at a time) and draw
from generators seeded once, so sample ``i`` never depends on ``n`` or on how the samples are
chunked. Within a chunk the solver runs on slices of about :data:`SLICE_SECONDS` each, and
after every slice the reporter set by :func:`reporting` (if any) hears how far generation has
come: a live front end shows it, and may raise there to abandon the generation (nothing is
cached then).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # base imports this module
    from workbench.problems.base import Problem

#: What a reporter is called with after every solved slice: the problem's name, samples done,
#: samples in all. It may raise (to cancel); the exception leaves ``Problem.dataset`` as is.
Reporter = Callable[[str, int, int], None]

#: Seconds of solver work between two reports (and so between two chances to cancel).
SLICE_SECONDS = 0.2

# A context variable, not an argument: the datasets are asked for deep inside methods
# (``prepare``, evaluations at other resolutions), and each thread (each training) has its own.
_REPORTER: ContextVar[Reporter | None] = ContextVar("workbench_family_reporter", default=None)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Within the block, generating a family dataset calls ``reporter(name, done, total)``
    after every slice of solved samples (in this thread only)."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def _solve_in_slices(
    solve: Callable[[np.ndarray | dict[str, np.ndarray]], np.ndarray],
    inputs: np.ndarray | dict[str, np.ndarray],
    count: int,
    report: Callable[[int], None],
) -> np.ndarray:
    """``solve(inputs)`` for ``count`` samples (an array, or a dict of arrays, on dim 0), in
    slices of about :data:`SLICE_SECONDS`, concatenated; ``report(solved)`` after each slice.
    Every family solves its samples independently, so slicing changes no value; the first
    slice (one sample) measures the pace."""
    parts, lo, size = [], 0, 1
    while lo < count:
        hi = min(lo + size, count)
        part = (
            {k: v[lo:hi] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[lo:hi]
        )
        start = time.perf_counter()
        parts.append(solve(part))
        per_sample = (time.perf_counter() - start) / (hi - lo)
        report(hi)
        size = max(1, int(SLICE_SECONDS / max(per_sample, 1e-9)))
        lo = hi
    return np.concatenate(parts)


def _reporter(bar, reporter: Reporter | None, name: str, offset: int, n: int):
    """``report(solved)`` for a chunk starting at sample ``offset``: advance the progress bar
    and tell the context's reporter."""

    def report(solved: int) -> None:
        bar.update(offset + solved - bar.n)
        if reporter is not None:
            reporter(name, offset + solved, n)

    return report


def generate(
    problem: Problem, n: int, resolution: int, seed: int, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Function families: the inputs and solutions ``(n, *grid)``. The input functions are
    evaluated on the solver grid, solved there, and both are subsampled to the dataset grid."""
    from tqdm.auto import tqdm

    fine = problem.family_solver_resolution(resolution)
    coarse_grid = problem.family_grid(resolution)
    fine_grid = problem.family_grid(fine)
    take = []
    for d, periodic in zip(problem.family_dims, problem.family_periodic):
        c, f = coarse_grid[d], fine_grid[d]
        stride = len(f) // len(c) if periodic else (len(f) - 1) // (len(c) - 1)
        if not np.allclose(f[::stride], c, rtol=0, atol=1e-12):
            raise RuntimeError(  # pragma: no cover - a family's grids must nest
                f"{problem.name}: solver grid {fine} does not nest the grid {resolution}"
            )
        take.append(slice(None, None, stride))
    take = (slice(None), *take)
    rng = np.random.default_rng(seed)
    shape = (n, *(len(coarse_grid[d]) for d in problem.family_dims))
    inputs, solutions = np.empty(shape), np.empty(shape)
    # Chunks start at multiples of family_chunk whatever n is, and every family solves
    # each sample independently of the others in its chunk, so sample i never depends
    # on n.
    desc = f"{problem.name} dataset"
    reporter = _REPORTER.get()
    with tqdm(total=n, disable=not progress, desc=desc, unit="sample") as bar:

        def solve(part: np.ndarray) -> np.ndarray:
            return problem.family_solve(part, fine)

        for lo in range(0, n, problem.family_chunk):
            count = min(problem.family_chunk, n - lo)
            fine_inputs = problem.family_inputs(count, fine, rng)
            report = _reporter(bar, reporter, problem.name, lo, n)
            fine_solutions = _solve_in_slices(solve, fine_inputs, count, report)
            inputs[lo : lo + count] = fine_inputs[take]
            solutions[lo : lo + count] = fine_solutions[take]
    return inputs, solutions


def simulate(
    problem: Problem, n: int, resolution: int, seed: int, progress: bool
) -> tuple[dict[str, tuple[tuple[str, ...], np.ndarray]], np.ndarray]:
    """Parameter families: the parameters ``name -> (("sample",), (n,))`` and the
    observed fields ``(n, *grid)``, drawn and simulated chunk by chunk."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    # A child of the seed: noise draws never shift the parameter stream, so the
    # parameters of a dataset are family_draw(n, default_rng(seed)) whatever the noise.
    noise_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    grid = problem.family_grid(resolution)
    solutions = np.empty((n, *(len(grid[d]) for d in problem.family_dims)))
    parameters = {name: np.empty(n) for name in problem.family_parameters}
    desc = f"{problem.name} dataset"
    reporter = _REPORTER.get()
    with tqdm(total=n, disable=not progress, desc=desc, unit="sample") as bar:

        def solve(part: dict[str, np.ndarray]) -> np.ndarray:
            return problem.family_simulate(part, resolution)

        for lo in range(0, n, problem.family_chunk):
            count = min(problem.family_chunk, n - lo)
            drawn = problem.family_draw(count, rng)
            report = _reporter(bar, reporter, problem.name, lo, n)
            clean = _solve_in_slices(solve, drawn, count, report)
            # Observed per chunk, as drawn: the noise stream does not depend on the slices.
            solutions[lo : lo + count] = problem.family_observe(clean, noise_rng)
            for name in problem.family_parameters:
                parameters[name][lo : lo + count] = drawn[name]
    return {name: (("sample",), v) for name, v in parameters.items()}, solutions
