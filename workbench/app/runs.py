"""The Runs tab: a table of finished and loaded Runs, and two of them side by side.

Runs join it when a training ends, when a saved folder is loaded (where the server allows its
disk) and when a ``run.nc`` or a ``.zip`` of a saved Run is uploaded.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import xarray as xr

from workbench import views
from workbench.app.limits import CappedUpload, ServeLimits
from workbench.results import MANIFEST_FILE, REPORT_FILE, RUN_FILE, WEIGHTS_FILE, Run
from workbench.views.fields import SAMPLE_DIM, sample_labels, select_sample
from workbench.views.generation import generated_channels
from workbench.views.metric import METRIC_FORMAT, metric_label, metric_text, metric_value


class RunsTab:
    """The Runs tab: the table of Runs, loaders, and a comparison of two Runs.

    Parameters
    ----------
    limits : ServeLimits
        The server's caps: ``allow_disk`` decides whether runs load from its disk,
        ``max_upload_mb`` how large an upload may be, ``max_session_runs`` how many Runs the
        table keeps (the oldest go first).
    notify : callable
        Shows a message in the page, ``notify(message)``, for a run that cannot be read.
    runs_dir : str or pathlib.Path
        The only folder the page's Load reads from (the folder Save writes to): the text box
        takes a run's name in it, never another path of the server.

    Attributes
    ----------
    runs : list of (str, xarray.DataTree)
        The Runs, by label, oldest first.
    layout : panel.Column
        The tab's content.
    """

    def __init__(
        self,
        limits: ServeLimits,
        notify: Callable[[str], None],
        runs_dir: str | Path = "workbench-runs",
    ):
        self.limits = limits
        self.notify = notify
        self.runs_dir = Path(runs_dir)
        self.runs: list[tuple[str, xr.DataTree]] = []
        self._added = 0  # Runs ever added: numbers them, past the ``max_session_runs`` cap too
        self._runs_table = pn.pane.DataFrame(None, index=False, sizing_mode="stretch_width")
        self._compare_a = pn.widgets.Select(label="Run A", options=[])
        self._compare_b = pn.widgets.Select(label="Run B", options=[])
        # The cap is checked in the page before a byte is sent, and on the server again.
        self._upload = CappedUpload(
            limits.max_upload_bytes,
            on_refused=notify,
            layout="compact",
            height=70,
            css_classes=["wb-run-upload"],
        )
        self._upload.param.watch(self._on_upload, "value")
        self._load_path = pn.widgets.TextInput(
            placeholder=f"name of a saved run in {self.runs_dir.name}/", width=300
        )
        load_button = pn.widgets.Button(label="Load", width=80)
        load_button.on_click(lambda event: self.load_saved(self._load_path.value))
        loaders = [
            pn.pane.Markdown(
                "Load a saved run: upload its `run.nc` or `.zip` "
                f"(at most {limits.max_upload_mb:g} MB)"
            ),
            self._upload,
        ]
        if self.limits.allow_disk:
            loaders += [pn.Row(self._load_path, load_button)]
        self.layout = pn.Column(
            self._runs_table,
            pn.Row(*loaders),
            pn.Row(self._compare_a, self._compare_b),
            pn.bind(self._compare, self._compare_a, self._compare_b),
            sizing_mode="stretch_width",
        )

    def add(self, run: Run | xr.DataTree, label: str | None = None) -> None:
        """Add a Run (or a saved Run's tree) to the table and the comparison's choices.

        ``label`` names it in the table (default: its number, method and problem).
        """
        tree = run.tree if isinstance(run, Run) else run
        a = tree.attrs
        self._added += 1
        label = label or f"#{self._added} {a.get('method', '?')} on {a.get('problem', '?')}"
        self.runs.append((label, tree))
        cap = self.limits.max_session_runs
        if cap is not None and len(self.runs) > cap:
            # A page's Runs live in the server's memory: the oldest go past the cap.
            del self.runs[: len(self.runs) - cap]
        table = runs_table(self.runs)
        self._runs_table.object = table
        labels = [name for name, _ in self.runs]
        # Two runs of one pair read alike by label: the choices say how they differ.
        options = {
            f"{name} ({knobs})" if knobs else name: name
            for name, knobs in zip(labels, table["differs in"])
        }
        previous_a = self._compare_a.value
        self._compare_a.options = options
        self._compare_b.options = dict(options)
        self._compare_a.value = previous_a if previous_a in labels else labels[0]
        self._compare_b.value = labels[-1]

    def _compare(self, a: str | None, b: str | None):
        # Runs A and B side by side: loss, an error field and the combiner's diagnostics.
        trees = dict(self.runs)
        chosen = [(n, trees[n]) for n in (a, b) if n in trees]
        if not chosen:
            return pn.pane.Markdown("Finished runs appear here; pick two to compare.")
        columns = []
        for name, tree in chosen:
            history_ds = tree["history"].to_dataset()
            history = views.history(history_ds).opts(title=f"{name}: loss", width=480, height=280)
            fields = tree["fields"].to_dataset()
            # A field generator's fields are samples without a truth: their residual, or u.
            shown = next(n for n in ("error", "residual", "u") if n in fields.data_vars)
            error = fields[shown]
            metric = metric_text(tree.attrs)
            title = f"{name}: {shown} ({metric})"
            if SAMPLE_DIM in error.dims:  # an operator run's first test sample, or a sample
                first = sample_labels(error)[0].item()
                error = select_sample(error, first)
                which = "generated sample" if generated_channels(fields) else "test sample"
                title = f"{name}: {shown} of {which} {first} ({metric})"
            panes = [
                pn.pane.HoloViews(history),
                pn.pane.HoloViews(views.field(error, title=title).opts(width=480, height=300)),
            ]
            diagnostics = views.diagnostics(history_ds)
            if len(diagnostics):
                panes.append(pn.pane.HoloViews(diagnostics.cols(1)))
            columns.append(pn.Column(*panes))
        return pn.Row(*columns)

    def load(self, directory: str | Path) -> None:
        """Add a saved Run (a folder written by ``Run.save``) to the table.

        A folder that is missing or holds a spoilt run is not added; Run.load's message
        (which file, group or attr is wrong, and what was expected) goes to ``notify``.
        """
        if not self.limits.allow_disk:
            self.notify("this server does not read runs from its disk; upload run.nc instead")
            return
        try:
            run = Run.load(directory)
        except (OSError, ValueError) as err:  # Run.load's contract, and unreadable disks
            self.notify(str(err))  # names the folder or file, and what is wrong
            return
        self.add(run, label=f"#{self._added + 1} {Path(directory).name}")

    def load_saved(self, name: str) -> None:
        """The page's Load: the run folder ``name`` inside :attr:`runs_dir`, nothing else.

        A name that leads outside the runs folder (an absolute path, ``..``, a symbolic link
        out) is refused before anything on disk is looked at, with the same message whether
        or not it exists: the page cannot probe the server's files.
        """
        if not self.limits.allow_disk:
            self.notify("this server does not read runs from its disk; upload run.nc instead")
            return
        name = (name or "").strip()
        root = self.runs_dir.resolve()
        target = (root / name).resolve()
        if not name or target == root or root not in target.parents:
            self.notify(
                f"Load takes the name of a saved run in the runs folder ({self.runs_dir.name}/), "
                f"e.g. burgers1d-pinn-1; got {name!r}"
            )
            return
        self.load(target)

    def _on_upload(self, event) -> None:
        received = self._upload.take()  # the widget lets go of it: a refused file leaves nothing
        if received is not None:
            self._take_upload(*received)

    def _take_upload(self, name: str, data: bytes) -> None:
        # The widget has checked the size as the file came; this stays the authority.
        if len(data) > self.limits.max_upload_bytes:
            self.notify(
                f"{name!r} is {len(data) / 1e6:.1f} MB, over this server's upload cap of "
                f"{self.limits.max_upload_mb:g} MB"
            )
            return
        try:
            tree = _read_uploaded(name, data, self.limits.max_upload_bytes)
        except ValueError as err:
            self.notify(str(err))
            return
        self.add(tree, label=f"#{self._added + 1} {name}")


def zip_run(run: Run | None) -> io.BytesIO | None:
    """A Run saved (run.nc, weights, report.html) into a zip archive in memory."""
    if run is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        saved = run.save(
            Path(folder) / "run", extra=lambda f: views.report(run.tree, f / REPORT_FILE)
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(saved.iterdir()):
                archive.write(path, path.name)
    buffer.seek(0)
    return buffer


#: Knobs of a Run's training left out of the knob comparison: how a run was carried out
#: (the steps taken have their own column), not what it learnt.
_UNCOMPARED_TRAINING = frozenset(
    {"steps", "device", "threads", "eval_every", "snapshot_every", "snapshot_points"}
)


def runs_table(runs: list[tuple[str, xr.DataTree]]) -> pd.DataFrame:
    """The Runs tab's table: one readable row per Run.

    Columns: ``run`` (its label), ``problem``, ``method``, ``status``, ``steps`` (taken), the
    final metric (the column is named for it, ``l2re`` or ``energy distance``, when every
    Run has the same one; else ``final metric`` holds name and value), ``wall s``, the
    ``regularizers`` and the ``combiner`` (``lra (alpha=0.1, every=2)``), and ``differs
    in``: the problem, method and training knobs whose values differ between the listed Runs,
    as ``lr=0.001, width=64`` (see :func:`differing_knobs`).
    """
    attrs = [tree.attrs for _, tree in runs]
    labels = {metric_label(a) for a in attrs}
    metric_column = labels.pop() if len(labels) == 1 else "final metric"
    differs = differing_knobs(attrs)
    rows = []
    for (name, _), at, knobs in zip(runs, attrs, differs):
        value = metric_value(at)
        rows.append(
            {
                "run": name,
                "problem": at.get("problem", ""),
                "method": at.get("method", ""),
                "status": at.get("status", ""),
                "steps": at.get("steps", ""),
                metric_column: (
                    metric_text(at)
                    if metric_column == "final metric"
                    else ("-" if value is None else format(value, METRIC_FORMAT))
                ),
                "wall s": f"{float(at.get('wall_s', np.nan)):.1f}",
                "regularizers": _regularizers_text(at.get("regularizers")),
                "combiner": _named(_json(at.get("combiner"), None)) or str(at.get("combiner", "")),
                "differs in": knobs,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "run",
            "problem",
            "method",
            "status",
            "steps",
            metric_column,
            "wall s",
            "regularizers",
            "combiner",
            "differs in",
        ],
    )


def _settings(attrs) -> dict[tuple[str, str], object]:
    """A Run's problem, method and training knobs by ``(part, name)``."""
    found: dict[tuple[str, str], object] = {}
    for part, key in (
        ("problem", "problem_params"),
        ("method", "method_params"),
        ("training", "training"),
    ):
        params = _json(attrs.get(key), {})
        for name, value in (params if isinstance(params, dict) else {}).items():
            if not (part == "training" and name in _UNCOMPARED_TRAINING):
                found[(part, name)] = value
    return found


def _named(spec) -> str:
    """``{"name": "lra", "params": {"alpha": 0.1}}`` as ``lra (alpha=0.1)``; "" if not a spec."""
    if not isinstance(spec, dict) or "name" not in spec:
        return ""
    params = spec.get("params") or {}
    inner = ", ".join(f"{k}={_shown(v)}" for k, v in sorted(params.items()))
    return f"{spec['name']} ({inner})" if inner else str(spec["name"])


def _regularizers_text(stored) -> str:
    """A Run's ``regularizers`` attr (JSON) as ``weight_decay (weight=0.001)``, or ``none``."""
    specs = _json(stored, None)
    if not isinstance(specs, list):
        return str(stored or "")  # an odd file: show it as it is
    return "; ".join(_named(spec) for spec in specs) or "none"


def _json(text, default):
    try:
        return json.loads(text) if isinstance(text, str) else default
    except ValueError:
        return default  # an odd file: it has no knobs to compare, not an error


def differing_knobs(attrs: list) -> list[str]:
    """Per Run, the knobs whose values differ between the Runs, as ``"lr=0.001, width=64"``.

    Problem, method and training knobs (regularizers and the combiner have columns of their
    own). A knob counts when at least two Runs have it and they do not all agree; knobs only
    one method or problem has are not compared (the method and problem columns differ
    already). A knob is named by itself (``lr``), or ``part.name`` where two parts share a
    name (``training.seed``); the seed counts, so two runs differing only in it read apart.
    """
    settings = [_settings(a) for a in attrs]
    keys: dict[tuple[str, str], None] = {}
    for found in settings:
        keys.update(dict.fromkeys(found))
    differing = []
    for key in keys:
        values = [_shown(found[key]) for found in settings if key in found]
        if len(values) > 1 and len(set(values)) > 1:
            differing.append(key)
    names = [name for _, name in keys]
    shared = {name for name in names if names.count(name) > 1}

    def label(part: str, name: str) -> str:
        return f"{part}.{name}" if name in shared else name

    return [
        ", ".join(f"{label(*key)}={_shown(found[key])}" for key in differing if key in found)
        for found in settings
    ]


def _shown(value) -> str:
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


#: What a zip of a saved run may hold (as Download writes it): nothing else is unpacked.
ZIP_MEMBERS = frozenset({RUN_FILE, WEIGHTS_FILE, MANIFEST_FILE, REPORT_FILE})


def _read_uploaded(name: str, data: bytes, max_bytes: int | None = None) -> xr.DataTree:
    """The DataTree of an uploaded ``run.nc`` or a ``.zip`` holding one.

    A zip is checked before anything is unpacked: its members must be the files of a saved
    run (no folders, no other names) and their sizes together at most ``max_bytes``, so an
    archive that unpacks to gigabytes is refused from its directory alone.
    """
    if name.endswith(".zip"):
        data = _run_file_from_zip(name, data, max_bytes)
    try:
        with xr.open_datatree(io.BytesIO(data), engine="h5netcdf") as stored:
            tree = stored.load().copy()
    except Exception as err:
        raise ValueError(f"cannot read {name!r} as a saved run: {err}") from None
    for group in ("history", "fields"):
        if group not in tree.children:
            raise ValueError(f"{name!r} is not a workbench run: it has no /{group} group")
    return tree


def _run_file_from_zip(name: str, data: bytes, max_bytes: int | None) -> bytes:
    """``run.nc`` from an uploaded zip, after checking its members' names and sizes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            unknown = sorted({m.filename for m in members} - ZIP_MEMBERS)
            if unknown:
                raise ValueError(
                    f"{name!r} holds {unknown[:3]}: a saved run's zip holds only "
                    f"{sorted(ZIP_MEMBERS)}"
                )
            total = sum(m.file_size for m in members)
            if max_bytes is not None and total > max_bytes:
                raise ValueError(
                    f"{name!r} unpacks to {total / 1e6:.1f} MB, over this server's upload cap "
                    f"of {max_bytes / 1e6:g} MB"
                )
            if RUN_FILE not in {m.filename for m in members}:
                raise ValueError(f"{name!r} has no {RUN_FILE}")
            return archive.read(RUN_FILE)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise ValueError(f"cannot read {name!r} as a zip of a saved run: {err}") from None
