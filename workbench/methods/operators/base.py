"""The neural-operator family: learn the map from a family's input function to its solution
(FNO, DeepONet, MultiONet).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator

import numpy as np
import param
import torch
import xarray as xr
from torch import nn

from workbench.evaluation import FIELD_ATTRS
from workbench.methods.base import Batch
from workbench.methods.family import (
    GALLERY_SIZE,
    FamilyMethod,
    relative_errors,
    require_function_family,
)
from workbench.nn.grids import grid_coordinates
from workbench.problems.base import Problem

#: Trajectories and steps of the rollout test of an operator on an evolution family.
ROLLOUT_SAMPLES, ROLLOUT_STEPS = 4, 10


class OperatorModel(nn.Module):
    """An operator network wrapped between standardised inputs and outputs.

    ``model(inputs)`` maps input functions on a grid ``(B, *grid)`` to solutions ``(B, *grid)``
    at the same grid, whatever its resolution. The wrapped network sees the standardised input
    and the grid's normalised coordinates (see :func:`~workbench.nn.grids.grid_coordinates`);
    its output is rescaled by the training data's output mean and standard deviation.

    Parameters
    ----------
    network : torch.nn.Module
        ``network(z, coords)`` with ``z`` of shape ``(B, *grid)`` and ``coords`` one 1D tensor
        per dim, returning ``(B, *grid)``.
    periodic : tuple of bool
        Per dim, whether the family's grid is periodic (its end node is not stored).
    """

    def __init__(self, network: nn.Module, periodic: tuple[bool, ...]):
        super().__init__()
        self.network = network
        self.periodic = tuple(periodic)
        # Buffers, not parameters: saved with the weights, never trained.
        for name, value in (("in_mean", 0.0), ("in_std", 1.0), ("out_mean", 0.0), ("out_std", 1.0)):
            self.register_buffer(name, torch.tensor(value))

    def standardise(self, inputs: np.ndarray, outputs: np.ndarray | None) -> None:
        """Set the scaling from training data (outputs: the labelled solutions, if any)."""
        with torch.no_grad():
            self.in_mean.fill_(float(inputs.mean()))
            self.in_std.fill_(float(inputs.std()) or 1.0)
            if outputs is not None and outputs.size:
                self.out_mean.fill_(float(outputs.mean()))
                self.out_std.fill_(float(outputs.std()) or 1.0)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Solutions ``(B, *grid)`` for input functions ``(B, *grid)``."""
        coords = grid_coordinates(tuple(inputs.shape[1:]), self.periodic, inputs)
        z = (inputs - self.in_mean) / self.in_std
        return self.network(z, coords) * self.out_std + self.out_mean


class Operator(FamilyMethod):
    """Abstract base of neural operators: learn the map from input function to solution.

    The problem must have a family of input functions (``problem.family_input`` is not None);
    the data knobs are those of :class:`FamilyMethod`. Subclasses only say which network maps
    the input function to the solution (:meth:`network`); the loss and the evaluation live
    here.

    * Loss ``data``: the mean relative L2 error of the labelled samples in the batch (the first
      ``labels`` training samples have a solution; the others reach the loss only through
      regularizers such as ``pde_residual``, the physics-informed operator loss of PINO).
    * ``l2re``: the mean relative L2 error over the test set.
    * The Run gets ``/samples`` (every test sample: input, truth, prediction, error, residual and
      ``rel_l2``) and ``/transfer`` (the same at ``transfer_resolution``: the same input
      functions on a finer grid, which the model never saw).
    """

    knob_groups = {"Data": (*FamilyMethod.knob_groups["Data"], "labels", "transfer_resolution")}

    labels = param.Integer(
        None,
        allow_None=True,
        bounds=(0, 100_000),
        doc="Training samples whose solution the loss sees (None = all); the rest are inputs "
        "only, for the pde_residual regularizer.",
    )
    transfer_resolution = param.Integer(
        None,
        allow_None=True,
        bounds=(0, 1024),
        doc="Resolution of the resolution-transfer test (None = twice the training "
        "resolution, 0 = off; off with your own data, which exists at one resolution).",
    )

    def supports(self, problem: Problem) -> bool:
        return problem.family_input is not None

    def check(self, problem: Problem) -> None:
        require_function_family(self, problem, "learns the solution operator of")
        super().check(problem)
        if self.labels is not None and self.labels > self.n_train:
            raise ValueError(f"labels must be <= n_train ({self.n_train}), got {self.labels}")
        if self.transfer_resolution is not None and 0 < self.transfer_resolution < 8:
            raise ValueError(
                f"transfer_resolution must be 0 (off) or >= 8, got {self.transfer_resolution}"
            )
        transfer = self.transfer_size(problem)
        if transfer and self.data is None:
            try:
                problem.family_solver_resolution(transfer)
            except ValueError as err:
                raise ValueError(f"transfer_resolution={transfer}: {err}") from None

    # --- data ----------------------------------------------------------------------------
    def transfer_size(self, problem: Problem) -> int:
        """Resolution of the transfer test (0 = off)."""
        if self.transfer_resolution is None:
            return 2 * self.data_resolution(problem)
        return self.transfer_resolution

    def transfer_data(self, problem: Problem) -> xr.Dataset | None:
        """The test inputs and solutions at the transfer resolution (None when off).

        Sample ``i`` of a family's dataset does not depend on the resolution, so these are the
        test set's input functions on a finer grid.
        """
        size = self.transfer_size(problem)
        if not size or self.data is not None:
            # The user's own test inputs exist at their resolution only.
            return None
        return problem.dataset(self.n_test, size, self.data_seed)

    def prepare(self, problem: Problem) -> None:
        self.split(problem)
        self.transfer_data(problem)

    # --- model ---------------------------------------------------------------------------
    @abc.abstractmethod
    def network(self, problem: Problem, resolution: int, generator: torch.Generator) -> nn.Module:
        """The network ``network(z, coords) -> (B, *grid)`` (see :class:`OperatorModel`) for
        data at ``resolution`` points per dim."""

    def build(self, problem: Problem, generator: torch.Generator) -> OperatorModel:
        train = self.split(problem)["train"]
        network = self.network(problem, self.data_resolution(problem), generator)
        model = OperatorModel(network, problem.family_periodic)
        labelled = train["u"].values[: self._label_count()]
        model.standardise(train[problem.family_input].values, labelled)
        return model

    def _label_count(self) -> int:
        return self.n_train if self.labels is None else self.labels

    def batches(
        self,
        problem: Problem,
        generator: torch.Generator,
        residual: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        train = self.split(problem)["train"]
        inputs = torch.as_tensor(train[problem.family_input].values)
        targets = torch.as_tensor(train["u"].values)
        labelled = torch.zeros(self.n_train, dtype=inputs.dtype)
        labelled[: self._label_count()] = 1.0
        for chosen in self.epochs(generator):
            yield {"input": inputs[chosen], "target": targets[chosen], "labelled": labelled[chosen]}

    # --- loss ----------------------------------------------------------------------------
    def term_names(self, problem: Problem) -> list[str]:
        return ["data"]

    def loss(self, model: nn.Module, problem: Problem, batch: Batch) -> dict[str, torch.Tensor]:
        errors = relative_errors(model(batch["input"]), batch["target"])
        mask = batch["labelled"]
        return {"data": (errors * mask).sum() / mask.sum().clamp_min(1.0)}

    # --- evaluation ----------------------------------------------------------------------
    def predict(self, model: nn.Module, inputs: np.ndarray, chunk: int = 64) -> np.ndarray:
        """The model's solutions for input functions ``(n, *grid)`` (numpy in, numpy out)."""
        param0 = next(model.parameters())
        out = []
        with torch.no_grad():
            for start in range(0, len(inputs), chunk):
                batch = torch.as_tensor(inputs[start : start + chunk])
                out.append(model(batch.to(param0.device, param0.dtype)).cpu().double())
        return torch.cat(out).numpy()

    def rollout(
        self, model: nn.Module, problem: Problem, inputs: np.ndarray, steps: int
    ) -> xr.DataArray:
        """Autoregressive rollout: feed the model its own output ``steps`` times.

        Only for evolution families, whose input and output are one field ``dt`` apart
        (:meth:`~workbench.problems.base.Problem.family_time_step`, e.g. ``kolmogorov2d``).

        Parameters
        ----------
        model : torch.nn.Module
            A model built by :meth:`build` (trained one step ahead).
        problem : Problem
            The evolution family the model was trained on.
        inputs : numpy.ndarray
            Start states ``(n, *grid)`` on :meth:`~workbench.problems.base.Problem.family_grid`
            of their resolution (e.g. a test set's inputs).
        steps : int
            Model applications, in ``[1, 10000]``.

        Returns
        -------
        xarray.DataArray
            ``u`` with dims ``("sample", "t", *family_dims)``: the start state at ``t = 0``
            and the prediction after ``k`` steps at ``t = k dt``, float64.

        Raises
        ------
        ValueError
            If the problem is not an evolution family, ``steps`` is out of range or the inputs
            do not lie on a square grid of the family's dims.
        """
        dt = problem.family_time_step()
        if dt is None:
            raise ValueError(
                f"rollout needs an evolution family (output = input dt later); problem "
                f"{problem.name!r} maps {problem.family_input!r} to a different field"
            )
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
            raise ValueError(f"steps must be an integer in [1, 10000], got {steps!r}")
        if not 1 <= steps <= 10_000:
            raise ValueError(f"steps must be an integer in [1, 10000], got {steps!r}")
        inputs = np.asarray(inputs, dtype=np.float64)
        dims = problem.family_dims
        if inputs.ndim != 1 + len(dims) or len(set(inputs.shape[1:])) != 1:
            raise ValueError(
                f"inputs must have shape (n, {', '.join(['N'] * len(dims))}) on the family's "
                f"grid, got {inputs.shape}"
            )
        states = [inputs]
        for _ in range(int(steps)):
            states.append(self.predict(model, states[-1]))
        grid = problem.family_grid(inputs.shape[1])
        coords = {d: (d, grid[d], problem.dim_attrs[d]) for d in dims}
        coords["sample"] = ("sample", np.arange(len(inputs)))
        coords["t"] = (
            "t",
            dt * np.arange(int(steps) + 1),
            {"long_name": "time since the start t", "units": "1"},
        )
        return xr.DataArray(
            np.stack(states, axis=1),
            dims=("sample", "t", *dims),
            coords=coords,
            name="u",
            attrs={"long_name": f"autoregressive rollout of {problem.family_input}", "units": "1"},
        )

    def samples(self, model: nn.Module, problem: Problem, data: xr.Dataset) -> xr.Dataset:
        """Input, truth, prediction, error, residual and per-sample ``rel_l2`` for ``data``."""
        name = problem.family_input
        dims = ("sample", *problem.family_dims)
        inputs, truth = data[name].values, data["u"].values
        u = self.predict(model, inputs)
        rel = relative_errors(torch.as_tensor(u), torch.as_tensor(truth)).numpy()
        variables = {
            name: data[name],
            "u": (dims, u, FIELD_ATTRS["u"]),
            "u_ref": (dims, truth, FIELD_ATTRS["u_ref"]),
            "error": (dims, u - truth, FIELD_ATTRS["error"]),
            "rel_l2": ("sample", rel, {"long_name": "relative L2 error", "units": "1"}),
        }
        if problem.family_has_residual:
            r = problem.grid_residual(torch.as_tensor(inputs), torch.as_tensor(u))
            variables["residual"] = (dims, r.numpy(), FIELD_ATTRS["residual"])
        ds = xr.Dataset(variables, coords=data[name].coords)
        ds.attrs.update(input=name, resolution=int(inputs.shape[-1]), l2re=float(rel.mean()))
        return ds

    def error(self, model: nn.Module, problem: Problem) -> float:
        test = self.split(problem)["test"]
        u = self.predict(model, test[problem.family_input].values)
        return float(relative_errors(torch.as_tensor(u), torch.as_tensor(test["u"].values)).mean())

    def evaluate(self, model, problem, size=None):
        """The first test samples (a gallery); attr ``l2re`` is the whole test set's mean."""
        test = self.samples(model, problem, self.split(problem)["test"])
        gallery = test.isel(sample=slice(0, GALLERY_SIZE))
        gallery.attrs = dict(test.attrs)
        return gallery

    def results(self, model: nn.Module, problem: Problem) -> dict[str, xr.Dataset]:
        groups = {"samples": self.samples(model, problem, self.split(problem)["test"])}
        transfer = self.transfer_data(problem)
        if transfer is not None:
            ds = self.samples(model, problem, transfer)
            ds.attrs["train_resolution"] = self.data_resolution(problem)
            groups["transfer"] = ds
        if problem.family_time_step() is not None and self.data is None:
            groups["rollout"] = self.rollout_test(model, problem)
        return groups

    def rollout_test(
        self, model: nn.Module, problem: Problem, n: int | None = None, steps: int = ROLLOUT_STEPS
    ) -> xr.Dataset:
        """The model rolled out from the first test inputs against the solver's trajectories.

        A one-step model is judged on one step; fed its own output it drifts, and how fast is
        what a user of it needs to know. The Run's ``/rollout`` group.

        Parameters
        ----------
        model : torch.nn.Module
            A model built by :meth:`build`, trained one step ahead.
        problem : Problem
            An evolution family (:meth:`~workbench.problems.base.Problem.family_time_step`).
        n : int, optional
            Trajectories, the first test samples; default ``min(n_test, 4)``.
        steps : int
            Model applications.

        Returns
        -------
        xarray.Dataset
            ``u`` (the rollout), ``u_ref`` (the solver's trajectory), ``error`` on
            ``(sample, t, *family_dims)`` with ``t`` the time since the start, and ``rel_l2``
            on ``(sample, t)``; attrs ``input``, ``resolution``, ``steps`` and ``l2re_final``
            (the mean relative error after the last step).
        """
        n = min(self.n_test, ROLLOUT_SAMPLES) if n is None else n
        resolution = self.data_resolution(problem)
        # Trajectory i starts from sample i of the training data's dataset: the test inputs.
        reference = problem.trajectories(n, steps, resolution, self.data_seed)
        truth = next(iter(reference.data_vars.values()))
        predicted = self.rollout(model, problem, truth.isel(t=0).values, steps)
        u_ref = predicted.copy(data=truth.transpose(*predicted.dims).values)
        u_ref.attrs = {"long_name": "solver trajectory", "units": truth.attrs.get("units", "1")}
        error = (predicted - u_ref).assign_attrs(long_name="rollout error", units="1")
        spatial = list(problem.family_dims)
        rel = np.sqrt((error**2).sum(spatial) / (u_ref**2).sum(spatial))
        rel.attrs = {"long_name": "relative L2 error", "units": "1"}
        ds = xr.Dataset({"u": predicted, "u_ref": u_ref, "error": error, "rel_l2": rel})
        ds.attrs.update(
            input=problem.family_input,
            resolution=int(resolution),
            steps=int(steps),
            l2re_final=float(rel.isel(t=-1).mean()),
        )
        return ds
