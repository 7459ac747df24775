"""Generating a family dataset, sample after sample, for
:meth:`~workbench.problems.base.Problem.dataset`.

Both functions work chunk by chunk (``problem.family_chunk`` samples per solver call, so a
progress bar can advance) and draw from generators seeded once, so sample ``i`` never depends
on ``n`` or on how the samples are chunked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # base imports this module
    from workbench.problems.base import Problem


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
    with tqdm(total=n, disable=not progress, desc=desc, unit="sample") as bar:
        for lo in range(0, n, problem.family_chunk):
            count = min(problem.family_chunk, n - lo)
            fine_inputs = problem.family_inputs(count, fine, rng)
            fine_solutions = problem.family_solve(fine_inputs, fine)
            inputs[lo : lo + count] = fine_inputs[take]
            solutions[lo : lo + count] = fine_solutions[take]
            bar.update(count)
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
    with tqdm(total=n, disable=not progress, desc=desc, unit="sample") as bar:
        for lo in range(0, n, problem.family_chunk):
            count = min(problem.family_chunk, n - lo)
            drawn = problem.family_draw(count, rng)
            clean = problem.family_simulate(drawn, resolution)
            solutions[lo : lo + count] = problem.family_observe(clean, noise_rng)
            for name in problem.family_parameters:
                parameters[name][lo : lo + count] = drawn[name]
            bar.update(count)
    return {name: (("sample",), v) for name, v in parameters.items()}, solutions
