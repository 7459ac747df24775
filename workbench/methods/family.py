"""What the methods that learn from a problem family's dataset share: the data split, the
epochs of shuffled batches, and per-sample errors (operators, latent models, field
generators).
"""

from __future__ import annotations

from collections.abc import Iterator

import param
import torch
import xarray as xr

from workbench.methods.base import Method
from workbench.problems.base import Problem

#: Test samples in ``/fields`` and live snapshots (the gallery); ``/samples`` holds them all.
GALLERY_SIZE = 8

#: Values per latent dim in a traversal (from -2 to +2 standard deviations of the test
#: encodings).
TRAVERSAL_STEPS = 7


def relative_errors(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample relative L2 error ``||p - t|| / ||t||`` over all but the first dim, ``(B,)``."""
    dims = tuple(range(1, prediction.ndim))
    difference = (prediction - target).pow(2).sum(dims).sqrt()
    return difference / target.pow(2).sum(dims).sqrt().clamp_min(1e-30)


def require_function_family(method: Method, problem: Problem, what: str) -> None:
    """Raise ``ValueError`` unless ``problem`` has a family of input functions, naming the
    problems that have one; ``what`` says what the method does with it."""
    if problem.family_input is None:
        from workbench.problems import PROBLEMS

        families = [n for n, cls in PROBLEMS.items() if cls.family_input is not None]
        raise ValueError(
            f"method {method.name!r} {what} a function family; problem {problem.name!r} has "
            f"none. Problems with one: {', '.join(families)}"
        )


class FamilyMethod(Method):
    """Abstract base of methods that learn from a problem family's dataset.

    They train on ``problem.dataset(n_test + n_train, resolution, data_seed)``, the first
    ``n_test`` samples held out for testing, in epochs of shuffled batches. The subclasses
    (:class:`~workbench.methods.operators.Operator`,
    :class:`~workbench.methods.latent.LatentModel`,
    :class:`~workbench.methods.field_generators.FieldGenerator`) say what is learnt from the
    data.
    """

    resolution = param.Integer(
        None,
        allow_None=True,
        bounds=(8, 1024),
        doc="Grid points per dim of the training data (None = the family's default).",
    )
    n_train = param.Integer(1000, bounds=(1, 100_000), doc="Training samples.")
    n_test = param.Integer(100, bounds=(1, 10_000), doc="Held-out test samples.")
    batch_size = param.Integer(20, bounds=(1, 10_000), doc="Samples per optimizer step.")
    data_seed = param.Integer(
        0,
        bounds=(0, 2**31 - 1),
        doc="Seed of the generated dataset (the run's seed only "
        "draws the weights and the batch order).",
    )

    def check(self, problem: Problem) -> None:
        super().check(problem)
        if problem.family_parameters:
            # Each <name>_min <= <name>_max is a cross-knob check of the problem; it raises
            # here, before the dataset is generated, instead of in the middle of it.
            problem.family_ranges()
        if self.batch_size > self.n_train:
            raise ValueError(
                f"batch_size must be <= n_train ({self.n_train}), got {self.batch_size}"
            )

    def data_resolution(self, problem: Problem) -> int:
        """Grid points per dim of the training and test data."""
        return self.resolution or problem.family_resolution

    def split(self, problem: Problem) -> dict[str, xr.Dataset]:
        """``{"train": ..., "test": ...}`` from the problem's (cached) dataset."""
        data = problem.dataset(
            self.n_test + self.n_train, self.data_resolution(problem), self.data_seed
        )
        return {
            "test": data.isel(sample=slice(0, self.n_test)),
            "train": data.isel(sample=slice(self.n_test, None)),
        }

    def prepare(self, problem: Problem) -> None:
        self.split(problem)

    def epochs(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless batches of training-sample indices: one shuffled pass over the training set
        per epoch, a last partial batch dropped so every step sees the same batch size."""
        size = self.batch_size
        while True:
            order = torch.randperm(self.n_train, generator=generator)
            for start in range(0, self.n_train - size + 1, size):
                yield order[start : start + size]

    def steps_per_epoch(self) -> int:
        """Optimizer steps in one pass over the training set."""
        return self.n_train // self.batch_size
