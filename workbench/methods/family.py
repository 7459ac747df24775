"""What the methods that learn from a problem family's dataset share: the data split, the
epochs of shuffled batches, and per-sample errors (operators, latent models, field
generators).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import param
import torch
import xarray as xr

from workbench.methods.base import Method
from workbench.problems import own_data
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

    knob_groups = {"Data": ("resolution", "n_train", "n_test", "batch_size", "data_seed")}

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
    data = param.ClassSelector(
        class_=(xr.Dataset, str, Path),
        default=None,
        allow_None=True,
        doc="Your own samples instead of generated ones: an xarray.Dataset or a NetCDF file's "
        "path, laid out as the problem's dataset() makes them (dims 'sample' and the family's "
        "grid dims; variables 'u' and the input). The first n_test samples test, the next "
        "n_train train; the grid's size sets the resolution. None: generate.",
    )

    def __init__(self, **params):
        # A sweep's point spec carries an in-memory dataset as its ``to_dict`` form (JSON).
        stored = params.get("data")
        if isinstance(stored, dict) and "data_vars" in stored:
            params["data"] = xr.Dataset.from_dict(stored)
        super().__init__(**params)

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
        if self.data is None:
            # Some families refuse some grids (kolmogorov2d: those its solver grid does not
            # nest); asking now refuses them before any data is generated.
            problem.family_solver_resolution(self.data_resolution(problem))
        if self.data is not None:
            # Read and checked now, before any work, so a bad file is refused at once.
            data = self.own_data(problem)
            need, have = self.n_test + self.n_train, data.sizes["sample"]
            if need > have:
                test = min(self.n_test, max(1, have // 10))
                raise ValueError(
                    f"data: {have} samples, but n_test + n_train = {self.n_test} + "
                    f"{self.n_train} = {need}; set n_test and n_train to fit, e.g. "
                    f"n_test={test}, n_train={have - test}"
                )
            if self.resolution is not None and self.resolution != data.attrs["resolution"]:
                raise ValueError(
                    f"resolution: {self.resolution}, but the data's grid has "
                    f"{data.attrs['resolution']} points per dim; leave resolution None with "
                    "your own data"
                )

    def own_data(self, problem: Problem) -> xr.Dataset:
        """The user's dataset (:attr:`data`) checked against ``problem``
        (:func:`~workbench.problems.own_data.check_dataset`), read once per source and problem.
        """
        source = self.data
        if isinstance(source, xr.Dataset):
            token = ("dataset", id(source))
        else:
            path = Path(source)
            stat = path.stat() if path.is_file() else None
            token = ("file", str(path.resolve()), stat and (stat.st_mtime_ns, stat.st_size))
        key = (token, problem.name, tuple(sorted(problem.param.values().items())))
        cached = self.__dict__.get("_own_data")
        if cached is None or cached[0] != key:
            cached = (key, own_data.check_dataset(problem, source))
            self.__dict__["_own_data"] = cached
        return cached[1]

    def data_resolution(self, problem: Problem) -> int:
        """Grid points per dim of the training and test data."""
        if self.data is not None:
            return int(self.own_data(problem).attrs["resolution"])
        return self.resolution or problem.family_resolution

    def split(self, problem: Problem) -> dict[str, xr.Dataset]:
        """``{"train": ..., "test": ...}`` from the user's :attr:`data`, else from the
        problem's (cached) generated dataset."""
        if self.data is not None:
            data = self.own_data(problem).isel(sample=slice(0, self.n_test + self.n_train))
        else:
            data = problem.dataset(
                self.n_test + self.n_train, self.data_resolution(problem), self.data_seed
            )
        return {
            "test": data.isel(sample=slice(0, self.n_test)),
            "train": data.isel(sample=slice(self.n_test, None)),
        }

    def prepare(self, problem: Problem) -> None:
        self.split(problem)

    def kept_inputs(self, problem: Problem) -> dict[str, xr.Dataset]:
        """The user's dataset, as the Run's ``/data`` group: a Run trained on it can be
        loaded and evaluated again without the original file."""
        if self.data is None:
            return {}
        return {"data": self.own_data(problem).isel(sample=slice(0, self.n_test + self.n_train))}

    def stored_knobs(self) -> dict:
        """The knobs, with :attr:`data` as a note of where the samples came from (the samples
        themselves go in the Run's ``/data`` group)."""
        stored = super().stored_knobs()
        if self.data is not None:
            source = "xarray.Dataset" if isinstance(self.data, xr.Dataset) else str(self.data)
            stored["data"] = {"group": "/data", "source": source}
        return stored

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
