"""The sidebar's "Your own data" section: a NetCDF upload that becomes the ``data`` knob of a
method that learns from a problem family's dataset (operators, latent models, generators).

The upload is checked on the server before it is used: its size against the server's
``--max-upload-mb``, then its layout against the problem
(:func:`~workbench.problems.own_data.check_dataset`), with the message in the page when
either refuses it. The samples stay in this session's memory (nothing is written, so it works
with ``--no-disk``); "Use generated data" goes back to the family's own dataset.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from workbench.app.limits import CappedUpload, ServeLimits
from workbench.app.setup import Setup
from workbench.methods.family import FamilyMethod
from workbench.problems import own_data


class DataUpload:
    """Upload and status of the set-up method's own dataset.

    Parameters
    ----------
    setup : Setup
        Whose method's ``data`` knob the upload sets.
    limits : ServeLimits
        ``max_upload_bytes`` caps the upload.
    notify : callable
        Shows a refusal in the page, ``notify(message)``.
    locked : callable
        Whether the set-up is locked (a training exists): an upload then is refused.
    on_change : callable
        Called after the data changed.

    Attributes
    ----------
    panel : panel.Column
        The section (hidden for methods that do not learn from a dataset).
    """

    def __init__(
        self,
        setup: Setup,
        limits: ServeLimits,
        *,
        notify: Callable[..., None],
        locked: Callable[[], bool],
        on_change: Callable[[], None],
    ):
        self.setup, self.limits = setup, limits
        self._notify, self._locked, self._on_change = notify, locked, on_change
        self._filename = ""
        # The cap is checked in the page before a byte is sent, and on the server again.
        self.upload = CappedUpload(
            limits.max_upload_bytes,
            on_refused=notify,
            layout="compact",
            css_classes=["wb-data-upload"],
            height=70,
            sizing_mode="stretch_width",
        )
        self.upload.param.watch(self._on_upload, "value")
        self.generated = pn.widgets.Button(label="Use generated data")
        self.generated.on_click(self._on_generated)
        self.status = pn.pane.Markdown(sizing_mode="stretch_width", margin=(0, 10))
        self.panel = pn.Column(
            pn.pane.Markdown("### Your own data"),
            self.status,
            self.upload,
            self.generated,
            sizing_mode="stretch_width",
            margin=0,
        )
        self.show()

    def show(self) -> None:
        """Show the section for the set-up's method (after a method or problem change)."""
        method = self.setup.method
        applies = isinstance(method, FamilyMethod)
        self.panel.visible = applies
        if not applies:
            return
        if method.data is None:
            self._filename = ""
            self.status.object = (
                f"Training on generated samples of {self.setup.problem.name}. Upload a NetCDF "
                f"file ({own_data.layout(self.setup.problem)}; at most "
                f"{self.limits.max_upload_mb:g} MB) to train on yours."
            )
            self.generated.visible = False
            return
        data = method.own_data(self.setup.problem)
        grid = " x ".join(str(data.sizes[d]) for d in self.setup.problem.family_dims)
        self.status.object = (
            f"Training on **{self._filename or data.attrs['source']}**: "
            f"{data.sizes['sample']} samples on a {grid} grid (n_test first, then n_train)."
        )
        self.generated.visible = True

    def _on_upload(self, event) -> None:
        received = self.upload.take()  # the widget lets go of it: a refused file leaves nothing
        if received is None:
            return
        name, content = received
        try:
            if self._locked():
                raise ValueError(
                    "data: the set-up is locked while a training exists; Stop or Reset first"
                )
            if len(content) > self.limits.max_upload_bytes:
                raise ValueError(
                    f"data: {name!r} is {len(content) / 1e6:.1f} MB, over this server's "
                    f"upload cap of {self.limits.max_upload_mb:g} MB"
                )
            data = own_data.check_dataset(self.setup.problem, own_data.read_netcdf(content, name))
            method = self.setup.method
            need = method.n_test + method.n_train
            if need > data.sizes["sample"]:
                # Fit the split to the file: a tenth to test (at most n_test), the rest to train.
                test = min(method.n_test, max(1, data.sizes["sample"] // 10))
                method.param.update(n_test=test, n_train=data.sizes["sample"] - test)
                method.batch_size = min(method.batch_size, method.n_train)
                self._notify(
                    f"data: {name!r} holds {data.sizes['sample']} samples; n_test={test} and "
                    f"n_train={method.n_train} now fit it",
                    "info",
                )
            method.param.update(data=data, resolution=None)
        except ValueError as err:
            self._notify(str(err))
            return
        self._filename = name
        self.show()
        self._on_change()

    def _on_generated(self, event) -> None:
        if self._locked():
            self._notify("data: the set-up is locked while a training exists; Stop or Reset first")
            return
        self.setup.method.data = None
        self.show()
        self._on_change()
