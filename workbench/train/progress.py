"""One record of a training, as ``train()`` yields it, and :class:`Stopped`, which a caller's
``checkpoint`` raises to end a training from another thread."""

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
        ``"adam"``, ``"lbfgs"``, or ``"done"`` on the last record. Records handed to a
        ``checkpoint`` (see :func:`~workbench.train.train`) during longer work say which:
        ``"data"`` (generating or loading the dataset, the reference), ``"compile"``
        (``torch.compile``'s warm-up), ``"eval"`` (an evaluation or snapshot during training)
        or ``"finish"`` (the final evaluation of the Run).
    message : str
        On the last record: why training ended early (diverged, stopped, time budget), if it
        did. On a checkpoint's record: what is being done (``"generating darcy2d data
        340/1100, ETA 40 s"``).
    points : xarray.Dataset or None
        The training batch's collocation points (as in a Run's ``/points``, with the model's
        anchors such as Gaussian centres), alongside each snapshot, so that a live view can
        overlay them on the residual.
    diagnostics : dict
        What the combiner reports about this step: term weights (``weight_<term>``) and the
        smallest cosine between two terms' gradients (``grad_cosine``, below 0 = conflict).
    estimates : dict
        The coefficients an inverse problem learns (the method's ``infer`` knob), by name.
    fraction : float or None
        On a checkpoint's ``"data"`` record: the fraction of the dataset generated so far.
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
    fraction: float | None = None

    @property
    def completed(self) -> int:
        """Optimizer steps completed when this record was yielded.

        An Adam record holds the loss measured *before* its update, an L-BFGS record the
        loss after its iterations, so they differ by one.
        """
        return self.step + 1 if self.phase == "adam" and not self.done else self.step


class Stopped(Exception):
    """Raised by a ``checkpoint`` (see :func:`~workbench.train.train`) to end a training.

    During the training steps, evaluations and data generation, ``train()`` turns it into a
    clean end: the Run keeps the last good parameters, ``status="stopped"``; before any
    model existed (while the dataset was generated) the last record has no Run. Raised during
    the final evaluation (``phase="finish"``), it leaves ``train()``: the caller abandons the
    Run (a closed page, Reset).
    """
