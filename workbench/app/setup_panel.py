"""The set-up panel: the sidebar's widgets that edit a :class:`~workbench.app.setup.Setup`.

Problem, method, regularizers, combiner, term weights and training knobs, each a widget bound
to the Setup's objects: editing a widget edits the Setup in place.

The sidebar shows only what applies to the chosen problem and method, under plain headings:
the method's knobs are split into the groups it declares (``Method.knob_groups``: its
collocation points, its data, ...), knobs without effect are hidden
(``Method.unused_knobs``: the points of an initial condition for a steady problem), and a
regularizer is offered only where it means something (``Regularizer.unsuitable``); one that
stops applying when the problem or method changes is unchecked, with a note. A regularizer's
knobs show while it is checked. The panel does not know
what a change means for the rest of the page; it says so through its callbacks (a new
problem, a knob of the problem, any change at all), and the Workbench decides.

Two rules keep the sidebar honest:

- **Typed values are checked on entry.** A value the knob does not allow (out of its bounds,
  not a number) is refused before it reaches the Setup: a message under the knob names it and
  what it allows, and the field shows the valid value again.
- **The set-up is locked while a training exists** (training or paused): the widgets are
  disabled, and a change that reaches the server anyway (sent before the page disabled the
  widget, or made from Python) is undone with a message. So the sidebar always shows what is
  training; Stop or Reset unlock it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from functools import partial

import panel as pn
import param
import torch

from workbench.app.data_upload import DataUpload
from workbench.app.limits import ServeLimits
from workbench.app.setup import Setup, parse_weights
from workbench.combiners import COMBINERS
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.problems.base import Problem
from workbench.recipes import apply_to_method, recipe_for, unset
from workbench.regularizers import REGULARIZERS
from workbench.results import describe_bounds, knobs

#: Training knobs shown in the sidebar (``device`` is added when CUDA is present).
TRAINING_KNOBS = ["steps", "lr", "schedule", "ema", "lbfgs_steps", "seed", "compile"]


class SetupPanel:
    """Widgets that edit ``setup`` in place, laid out as the sidebar's sections.

    Parameters
    ----------
    setup : Setup
        The set-up to edit; its problem, method and combiner are replaced as choices change.
    limits : ServeLimits
        The server's caps; ``max_steps`` bounds the step boxes.
    notify : callable
        Shows a message in the page, ``notify(message, level="error")`` (term weights that do
        not parse; ``"info"`` for regularizers unchecked because they stopped applying).
    on_change : callable
        Called after every change of the set-up.
    on_problem : callable
        Called with the problem whenever a problem is shown: a new choice, or the first.
    on_problem_knob : callable
        Called when a knob of the problem changes, before ``on_change``.
    locked : callable, optional
        Whether the set-up is locked now (a training exists); checked at every change.

    Attributes
    ----------
    objects : list
        The sidebar's sections, in order, for the page to lay out.
    """

    def __init__(
        self,
        setup: Setup,
        limits: ServeLimits,
        *,
        notify: Callable[..., None],
        on_change: Callable[[], None],
        on_problem: Callable[[Problem], None],
        on_problem_knob: Callable[[], None],
        locked: Callable[[], bool] = lambda: False,
    ):
        self.setup = setup
        self._notify = notify
        self._locked = locked
        self._steps_cap = limits.max_steps
        self._shown_locked = False
        self._disabled: list = []  # the widgets the lock disabled, to enable again
        self._reverting = False
        self._before_recipe: dict = {}  # training knobs as they were before a recipe set them
        #: Says what is training while the set-up is locked.
        self.lock_note = pn.pane.Alert(
            "", alert_type="info", visible=False, sizing_mode="stretch_width"
        )
        self._on_change = on_change
        self._problem_shown = on_problem
        self._problem_knob_changed = on_problem_knob
        # One object per regularizer for the session: unchecking one keeps its knobs.
        self._reg_objects = {name: cls() for name, cls in REGULARIZERS.items()}
        for reg in setup.regularizers:
            self._reg_objects[reg.name] = reg

        self._problem_select = pn.widgets.Select(
            label="Problem",
            options=list(PROBLEMS),
            value=setup.problem.name,
            sizing_mode="stretch_width",
        )
        self._problem_info = pn.pane.Markdown(sizing_mode="stretch_width", margin=(0, 10))
        self._problem_knobs = pn.Column(sizing_mode="stretch_width")
        self._method_select = pn.widgets.Select(label="Method", sizing_mode="stretch_width")
        self._method_knobs = pn.Column(sizing_mode="stretch_width")
        # The headed groups the method declares, each a heading and a panel of its knobs.
        self._method_groups = pn.Column(sizing_mode="stretch_width", margin=0)
        self._method_panels: list[KnobPanel] = []
        _guard(self._problem_select, partial(self._refuse_typed, "problem", None))
        _guard(self._method_select, partial(self._refuse_typed, "method", None))
        self._problem_select.param.watch(self._on_problem, "value")
        self._method_select.param.watch(self._on_method, "value")

        chosen = {r.name for r in setup.regularizers}
        self._reg_checks = {}
        self._reg_rows = {}  # per regularizer: its check box and (while checked) its knobs
        self._reg_bodies = {}
        for name, reg in self._reg_objects.items():
            check = pn.widgets.Checkbox(label=reg.title, value=name in chosen)
            check.param.watch(self._on_regularizers, "value")
            _guard(check, partial(self._refuse_typed, f"regularizer {name}", None))
            self._reg_checks[name] = check
            knob_panel = self._knob_panel(reg)
            info = pn.pane.Markdown(
                f"`{name}`: {_first_doc_line(reg)}", sizing_mode="stretch_width", margin=(0, 10)
            )
            body = pn.Column(
                info, knob_panel, knob_panel.note, visible=name in chosen, margin=(0, 0, 0, 20)
            )
            self._reg_bodies[name] = body
            self._reg_rows[name] = pn.Column(check, body, sizing_mode="stretch_width", margin=0)
            reg.param.watch(self._on_knob, list(knobs(reg)))

        self._combiner_select = pn.widgets.Select(
            label="Combiner",
            options=list(COMBINERS),
            value=setup.combiner.name,
            sizing_mode="stretch_width",
        )
        self._combiner_info = pn.pane.Markdown(sizing_mode="stretch_width", margin=(0, 10))
        self._combiner_knobs = pn.Column(sizing_mode="stretch_width")
        self._combiner_select.param.watch(self._on_combiner, "value")
        _guard(self._combiner_select, partial(self._refuse_typed, "combiner", None))
        self._show_combiner()
        self._weights_input = pn.widgets.TextInput(
            label="Term weights",
            value=", ".join(f"{k}={v:g}" for k, v in setup.weights.items()),
            placeholder="e.g. residual=1e-4, boundary=10 (default 1 each)",
            sizing_mode="stretch_width",
        )
        self._weights_input.param.watch(self._on_weights, "value")
        _guard(self._weights_input, partial(self._refuse_typed, "term weights", None))

        self._data_upload = DataUpload(
            setup,
            limits,
            notify=notify,
            locked=locked,
            on_change=on_change,
        )

        training_knobs = TRAINING_KNOBS + (["device"] if torch.cuda.is_available() else [])
        # No start/end in the page's number boxes: a box clamps or ignores an out-of-range
        # entry by itself, silently; the server refuses it with a message instead.
        self._training_knobs = KnobPanel(
            setup.training,
            parameters=training_knobs,
            show_name=False,
            widgets={
                "steps": _number_box(pn.widgets.IntInput, step=500),
                "lr": _number_box(pn.widgets.FloatInput, step=1e-3),
                "ema": _number_box(pn.widgets.FloatInput, step=0.001),
                "lbfgs_steps": _number_box(pn.widgets.IntInput, step=100),
                "seed": _number_box(pn.widgets.IntInput),
            },
            sizing_mode="stretch_width",
        )
        self._training_knobs.refuse = self._refuse_typed
        setup.training.param.watch(self._on_knob, training_knobs)

        self.objects = [
            pn.pane.Markdown("### Problem"),
            self._problem_select,
            self._problem_info,
            self._problem_knobs,
            pn.pane.Markdown("### Method"),
            self._method_select,
            self._method_knobs,
            self._method_groups,
            self._data_upload.panel,
            pn.pane.Markdown("### Regularizers"),
            *self._reg_rows.values(),
            pn.pane.Markdown("### Loss combination"),
            self._combiner_select,
            self._combiner_info,
            self._combiner_knobs,
            self._weights_input,
            pn.pane.Markdown("### Training"),
            self._training_knobs,
            self._training_knobs.note,
        ]

    def show_problem(self) -> None:
        """Show the set-up's problem: its knobs, and the methods that support it."""
        problem = self.setup.problem
        self._problem_info.object = _first_doc_line(problem)
        panel = self._knob_panel(problem)
        self._problem_knobs.objects = [panel, panel.note]
        problem.param.watch(self._on_knob, list(knobs(problem)))
        supported = [n for n, cls in METHODS.items() if cls().supports(problem)]
        self._method_select.options = supported
        if self.setup.method.name not in supported:
            self.setup.method = METHODS[supported[0]]()
        elif getattr(self.setup.method, "data", None) is not None:
            # Uploaded samples belong to the problem they were checked against.
            self.setup.method.data = None
            self._notify(
                f"your own data was dropped: it was for another problem than {problem.name}", "info"
            )
        self._method_select.value = self.setup.method.name
        self._show_method()
        self._problem_shown(problem)

    def _on_problem(self, event) -> None:
        if event.new == self.setup.problem.name or self._undo_if_locked(event, "problem"):
            return
        before = (self.setup.problem.name, self.setup.method.name)
        self.setup.problem = PROBLEMS[event.new]()
        self.show_problem()
        self._apply_recipe(before)
        self._on_change()

    def _on_method(self, event) -> None:
        if event.new and event.new != self.setup.method.name:
            if self._undo_if_locked(event, "method"):
                return
            before = (self.setup.problem.name, self.setup.method.name)
            self.setup.method = METHODS[event.new]()
            self._apply_recipe(before)
            self._show_method()
            self._on_change()

    def _apply_recipe(self, before: tuple[str, str]) -> None:
        """A new (problem, method) pair gets its recipe (:mod:`workbench.recipes`): the knobs,
        training knobs and term weights the previous pair's recipe set go back to the generic
        defaults, then the new pair's are set; what the user set elsewhere stays."""
        setup = self.setup
        pair = (setup.problem.name, setup.method.name)
        old, new = recipe_for(*before), recipe_for(*pair)
        if pair == before or (old is None and new is None):
            return
        same_method = before[1] == pair[1]
        apply_to_method(setup.method, pair[0], old if same_method else None)
        # Training knobs go back to what they were before a recipe set them (the app's own
        # first-run steps, say), not to the class defaults.
        training = {
            k: self._before_recipe.pop(k, v)
            for k, v in (unset(setup.training, old.training) if old else {}).items()
        }
        for k in new.training if new else {}:
            self._before_recipe.setdefault(k, training.get(k, getattr(setup.training, k)))
        training.update(new.training if new else {})
        if self._steps_cap is not None:
            for name in ("steps", "lbfgs_steps"):
                if name in training:
                    training[name] = min(training[name], self._steps_cap)
        if training:
            setup.training.param.update(**training)
        weights = {
            term: w for term, w in setup.weights.items() if not (old and old.weights.get(term) == w)
        }
        weights.update(new.weights if new else {})
        if weights != setup.weights:
            setup.weights = weights
            self._weights_input.value = ", ".join(f"{k}={v:g}" for k, v in weights.items())
        if new is not None and new.combiner and new.combiner != setup.combiner.name:
            self._combiner_select.value = new.combiner

    def _on_regularizers(self, event) -> None:
        if self._undo_if_locked(event, "regularizers"):
            return
        self.setup.regularizers = [
            self._reg_objects[name] for name, check in self._reg_checks.items() if check.value
        ]
        for name, check in self._reg_checks.items():
            self._reg_bodies[name].visible = check.value
        self._on_change()

    def _show_regularizers(self) -> None:
        """Offer the regularizers that apply to the set-up's problem and method; uncheck (and
        say so) the chosen ones that no longer apply."""
        problem, method = self.setup.problem, self.setup.method
        dropped = []
        for name, row in self._reg_rows.items():
            applies = self._reg_objects[name].unsuitable(problem, method) is None
            row.visible = applies
            if not applies and self._reg_checks[name].value:
                dropped.append(name)
        kept = [r for r in self.setup.regularizers if r.name not in dropped]
        if len(kept) != len(self.setup.regularizers):
            self.setup.regularizers = kept
        if dropped:
            with self._reverting_values():  # not a user's change: no undo, no second update
                for name in dropped:
                    self._reg_checks[name].value = False
                    self._reg_bodies[name].visible = False
            self._notify(
                f"regularizer{'s' if len(dropped) > 1 else ''} {', '.join(dropped)} "
                f"unchecked: {'they do' if len(dropped) > 1 else 'it does'} not apply to "
                f"{problem.name} with {method.name}",
                "info",
            )

    def _on_combiner(self, event) -> None:
        if event.new and event.new != self.setup.combiner.name:
            if self._undo_if_locked(event, "combiner"):
                return
            self.setup.combiner = COMBINERS[event.new]()
            self._show_combiner()
            self._on_change()

    def _on_weights(self, event) -> None:
        if self._reverting or self._undo_if_locked(event, "term weights"):
            return
        try:
            self.setup.weights = parse_weights(event.new)
        except ValueError as err:
            self._notify(str(err))
            return
        self._on_change()

    def _show_combiner(self) -> None:
        combiner = self.setup.combiner
        self._combiner_info.object = _first_doc_line(combiner)
        names = list(knobs(combiner))
        # The sum has no knobs; an empty Param panel would still draw a box.
        panel = self._knob_panel(combiner)
        self._combiner_knobs.objects = [panel, panel.note] if names else []
        if names:
            combiner.param.watch(self._on_knob, names)

    def _on_knob(self, *events) -> None:
        if self._reverting:
            return
        if self._locked():
            with self._reverting_values():
                for event in events:
                    setattr(event.obj, event.name, event.old)
            self._notify(_LOCKED.format(what=", ".join(e.name for e in events)))
            return
        if any(e.obj is self.setup.problem for e in events):
            self._problem_knob_changed()
        if any(e.obj is self.setup.method for e in events):
            self._show_used_knobs()  # e.g. the sampler's cadence only for a moving sampler
        self._on_change()

    def _show_method(self) -> None:
        """The method's knobs: the ungrouped ones under "Method", then one headed section
        per group it declares; then what applies to the new pair."""
        method = self.setup.method
        # Knobs that hold data (a Dataset) have no widget; the data upload sets them.
        names = [n for n in knobs(method) if not isinstance(method.param[n], param.ClassSelector)]
        grouped = {n for members in method.knob_groups.values() for n in members}
        panel = self._knob_panel(method, [n for n in names if n not in grouped])
        self._method_knobs.objects = [panel, panel.note]
        panels, sections = [panel], []
        for heading, members in method.knob_groups.items():
            present = [n for n in members if n in names]
            if present:
                group = self._knob_panel(method, present)
                panels.append(group)
                sections.append(
                    pn.Column(
                        pn.pane.Markdown(f"### {heading}"),
                        group,
                        group.note,
                        sizing_mode="stretch_width",
                        margin=0,
                    )
                )
        self._method_panels = panels
        self._method_groups.objects = sections
        self._data_upload.show()
        method.param.watch(self._on_knob, names)
        self._show_used_knobs()
        self._show_regularizers()

    def _show_used_knobs(self) -> None:
        """Hide the method's knobs that have no effect on the problem (and a group whose
        knobs are all hidden)."""
        unused = self.setup.method.unused_knobs(self.setup.problem)
        for panel in self._method_panels:
            for name, widget in panel._widgets.items():
                widget.visible = name not in unused
        for section, panel in zip(self._method_groups, self._method_panels[1:]):
            section.visible = any(w.visible for w in panel._widgets.values())

    # --- the lock ------------------------------------------------------------------------------
    def show_lock(self, training: str | None) -> None:
        """Lock the widgets while ``training`` (what trains, in words) exists; None unlocks.

        Cosmetic: the handlers check the lock themselves at every change.
        """
        locked = training is not None
        if locked:
            self.lock_note.object = (
                f"**Training {training}.** The set-up is locked while a training exists; "
                "Stop or Reset it to change the set-up."
            )
        if locked == self._shown_locked:
            return
        self._shown_locked = locked
        self.lock_note.visible = locked
        if locked:
            self._disabled = [
                w for w in pn.Column(*self.objects).select(pn.widgets.Widget) if not w.disabled
            ]
            for widget in self._disabled:
                widget.disabled = True
        else:
            for widget in self._disabled:
                widget.disabled = False
            self._disabled = []

    def _undo_if_locked(self, event, what: str) -> bool:
        """Undo a widget's change made while locked (True), or let it through (False)."""
        if self._reverting:
            return True
        if not self._locked():
            return False
        with self._reverting_values():
            _restore(event.obj, event.old)
        self._notify(_LOCKED.format(what=what))
        return True

    @contextmanager
    def _reverting_values(self):
        # Undoing a change fires the same watchers again: they must let it through.
        self._reverting = True
        try:
            yield
        finally:
            self._reverting = False

    def _refuse_typed(self, label: str, p: param.Parameter | None, value) -> str | None:
        """Why a value typed into a widget is refused (also shown), or None.

        Refused: any change while locked, and a value the knob's Parameter does not allow.
        """
        message = None
        if self._locked():
            message = _LOCKED.format(what=label)
        elif p is not None:
            try:
                p._validate(value)  # param's own check: type, bounds, None
            except (ValueError, TypeError):
                shown = "nothing" if value is None else repr(value)
                allowed = describe_bounds(p) or "see the knob's description"
                message = f"{label}: {shown} is not allowed; allowed: {allowed}"
            cap = self._steps_cap
            steps = label in ("steps", "lbfgs_steps") and isinstance(value, int)
            if message is None and cap is not None and steps and value > cap:
                message = f"{label}: {value} is over this server's cap of {cap} steps"
        if message is not None:
            self._notify(message)
        return message

    def _knob_panel(self, obj: param.Parameterized, names: list[str] | None = None) -> KnobPanel:
        """Widgets for an object's knobs (``names``, default all): number boxes, not sliders.

        Coefficients such as Burgers' nu = 0.01/pi need exact values, which a slider cannot
        type, and a slider cannot show "none" (e.g. ``n_interior=None``, "the default size").
        """
        widgets = {}
        for name, p in obj.param.objects("existing").items():
            if isinstance(p, param.Integer):
                widgets[name] = _number_box(pn.widgets.IntInput)
            elif isinstance(p, param.Number):
                widgets[name] = _number_box(pn.widgets.FloatInput)
        if names is None:  # knobs holding data (observations) have no typed widget
            names = [n for n in knobs(obj) if not isinstance(obj.param[n], param.ClassSelector)]
        panel = KnobPanel(
            obj,
            parameters=names,
            widgets=widgets,
            show_name=False,
            sizing_mode="stretch_width",
        )
        panel.refuse = self._refuse_typed
        return panel


_LOCKED = (
    "{what}: the set-up is locked while a training exists (training or paused); "
    "Stop or Reset it first"
)


class KnobPanel(pn.Param):
    """``pn.Param`` whose widgets check a typed value before it reaches the Parameter.

    Panel would hand a typed value straight to param, which raises: the page kept the bad
    text, the server logged a traceback, and nothing told the user. Here the value is refused
    first, :attr:`note` (under the panel) says which knob and what it allows, and the field
    shows the knob's value again.

    Attributes
    ----------
    refuse : callable
        ``refuse(label, parameter, value)``: a message when ``value`` is refused, else None.
    note : panel.pane.Alert
        The last refusal, shown under the knobs until the next accepted value.
    """

    def __init__(self, object=None, **params):
        self.note = pn.pane.Alert(
            "", alert_type="warning", visible=False, sizing_mode="stretch_width", margin=(0, 10)
        )
        self.refuse = lambda label, p, value: None
        super().__init__(object, **params)

    def widget(self, p_name, parameterized=None, widget_spec=None):
        widget = super().widget(p_name, parameterized, widget_spec)
        if isinstance(self, KnobPanel):  # not when Panel calls it on the class
            owner = self.object if parameterized is None else parameterized
            _guard(widget, partial(self._check, p_name, owner.param[p_name]))
        return widget

    def _check(self, name: str, p: param.Parameter, value) -> str | None:
        message = self.refuse(name, p, value)
        self.note.param.update(object=message or "", visible=message is not None)
        return message


def _number_box(widget_type, **spec) -> dict:
    """A number box for ``pn.Param`` without the page-side bounds Panel copies from the
    Parameter (``_guard`` checks every entry on the server, with a message)."""
    return {"type": widget_type, "start": None, "end": None, **spec}


def _guard(widget, refuse: Callable[[object], str | None]) -> None:
    """Check every value the page sends for ``widget`` with ``refuse(value)`` first.

    A refused value never becomes the widget's value: the message is shown and the page's
    field is told the widget's (unchanged) value again. Values set from Python are not
    checked here (param checks those, and the Setup's watchers check the lock).
    """
    process = widget._process_property_change

    def checked(msg):
        params = process(msg)
        if "value" in params or "value" in msg:
            # A text the widget could not read (LiteralInput) arrives as no value at all.
            message = refuse(params["value"] if "value" in params else msg["value"])
            if message is not None:
                params.pop("value", None)
                _resend(widget)
        return params

    widget._process_property_change = checked


def _restore(widget, value) -> None:
    """Set ``widget`` back to ``value``, in the page too."""
    widget.value = value
    _resend(widget)


def _resend(widget) -> None:
    # While Panel applies a change from the page it sends nothing back for that property, so
    # the page would keep showing the refused value: send the server's value on the next tick.
    pn.state.execute(lambda: widget.param.trigger("value"), schedule=True)


def _first_doc_line(obj) -> str:
    # Docstrings use reST roles (:math:`...`); Markdown shows their content as code.
    return (type(obj).__doc__ or "").strip().splitlines()[0].replace(":math:`", "`")
