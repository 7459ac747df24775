"""One record of a training, as ``train()`` yields it."""

from __future__ import annotations

from dataclasses import dataclass, field

import xarray as xr

from workbench.results import Run


@dataclass(frozen=True)
class Progress:
    """One record of training.

    Attributes
    ----------
    step : int
        Optimizer steps taken so far (Adam then L-BFGS, counted together).
    losses : dict
        Unweighted loss terms and the weighted total ``loss`` at this step.
    lr : float
        Learning rate used for the step (NaN during L-BFGS).
    l2re : float or None
        The method's headline metric (``method.metric``: a relative L2 error, or a field
        generator's energy distance) on the full evaluation set, when evaluated at this step;
        on the last record, the Run's value for the final model state.
    wall_s : float
        Seconds since training started.
    snapshot : xarray.Dataset or None
        Coarse fields (see :meth:`Method.evaluate <workbench.methods.Method.evaluate>`) every
        ``snapshot_every``; attrs ``l2re`` (the metric there), ``metric``, ``metric_label``
        and ``metric_long_name`` (what it is) and, on a grid coarser than the Run's,
        ``coarse_grid``.
    done : bool
        True on the last record, which carries the ``run``.
    run : Run or None
        The finished (or diverged, or stopped) Run.
    phase : str
        ``"adam"``, ``"lbfgs"``, or ``"done"`` on the last record.
    message : str
        On the last record: why training ended early (diverged, stopped, time budget), if it did.
    points : xarray.Dataset or None
        The training batch's collocation points (as in a Run's ``/points``, with the model's
        anchors such as Gaussian centres), alongside each snapshot, so that a live view can
        overlay them on the residual.
    diagnostics : dict
        What the combiner reports about this step: term weights (``weight_<term>``) and the
        smallest cosine between two terms' gradients (``grad_cosine``, below 0 = conflict).
    estimates : dict
        The coefficients an inverse problem learns (the method's ``infer`` knob), by name.
    """

    step: int
    losses: dict[str, float]
    lr: float
    l2re: float | None
    wall_s: float
    snapshot: xr.Dataset | None = None
    done: bool = False
    run: Run | None = None
    phase: str = "adam"
    message: str = field(default="")
    points: xr.Dataset | None = None
    diagnostics: dict[str, float] = field(default_factory=dict)
    estimates: dict[str, float] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        """Optimizer steps completed when this record was yielded.

        An Adam record holds the loss measured *before* its update, an L-BFGS record the
        loss after its iterations, so they differ by one.
        """
        return self.step + 1 if self.phase == "adam" and not self.done else self.step
