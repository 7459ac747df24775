"""The set-up panel: the sidebar's widgets that edit a :class:`~workbench.app.setup.Setup`.

Problem, method, regularizers, combiner, term weights and training knobs, each a widget bound
to the Setup's objects: editing a widget edits the Setup in place. The panel does not know
what a change means for the rest of the page; it says so through its callbacks (a new
problem, a knob of the problem, any change at all), and the Workbench decides.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param
import torch

from workbench.app.limits import ServeLimits
from workbench.app.setup import Setup, parse_weights
from workbench.combiners import COMBINERS
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.problems.base import Problem
from workbench.regularizers import REGULARIZERS
from workbench.results import knobs

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
        Shows a message in the page, ``notify(message)`` (term weights that do not parse).
    on_change : callable
        Called after every change of the set-up.
    on_problem : callable
        Called with the problem whenever a problem is shown: a new choice, or the first.
    on_problem_knob : callable
        Called when a knob of the problem changes, before ``on_change``.

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
        notify: Callable[[str], None],
        on_change: Callable[[], None],
        on_problem: Callable[[Problem], None],
        on_problem_knob: Callable[[], None],
    ):
        self.setup = setup
        self._notify = notify
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
        self._problem_select.param.watch(self._on_problem, "value")
        self._method_select.param.watch(self._on_method, "value")

        chosen = {r.name for r in setup.regularizers}
        self._reg_checks = {}
        reg_rows = []
        for name, reg in self._reg_objects.items():
            check = pn.widgets.Checkbox(
                label=f"{name}: {_first_doc_line(reg)}", value=name in chosen
            )
            check.param.watch(self._on_regularizers, "value")
            self._reg_checks[name] = check
            knob_panel = _knob_panel(reg)
            reg_rows += [check, knob_panel]
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
        self._show_combiner()
        self._weights_input = pn.widgets.TextInput(
            label="Term weights",
            value=", ".join(f"{k}={v:g}" for k, v in setup.weights.items()),
            placeholder="e.g. residual=1e-4, boundary=10 (default 1 each)",
            sizing_mode="stretch_width",
        )
        self._weights_input.param.watch(self._on_weights, "value")

        training_knobs = TRAINING_KNOBS + (["device"] if torch.cuda.is_available() else [])
        steps_cap = limits.max_steps
        self._training_knobs = pn.Param(
            setup.training,
            parameters=training_knobs,
            show_name=False,
            widgets={
                "steps": {"type": pn.widgets.IntInput, "start": 0, "end": steps_cap, "step": 500},
                "lr": {"type": pn.widgets.FloatInput, "start": 1e-6, "step": 1e-3},
                "ema": {"type": pn.widgets.FloatInput, "start": 0.0, "end": 0.9999, "step": 0.001},
                "lbfgs_steps": {
                    "type": pn.widgets.IntInput,
                    "start": 0,
                    "end": steps_cap,
                    "step": 100,
                },
                "seed": pn.widgets.IntInput,
            },
            sizing_mode="stretch_width",
        )
        setup.training.param.watch(self._on_knob, training_knobs)

        self.objects = [
            pn.pane.Markdown("### Problem"),
            self._problem_select,
            self._problem_info,
            self._problem_knobs,
            pn.pane.Markdown("### Method"),
            self._method_select,
            self._method_knobs,
            pn.pane.Markdown("### Regularizers"),
            *reg_rows,
            pn.pane.Markdown("### Loss combination"),
            self._combiner_select,
            self._combiner_info,
            self._combiner_knobs,
            self._weights_input,
            pn.pane.Markdown("### Training"),
            self._training_knobs,
        ]

    def show_problem(self) -> None:
        """Show the set-up's problem: its knobs, and the methods that support it."""
        problem = self.setup.problem
        self._problem_info.object = _first_doc_line(problem)
        self._problem_knobs.objects = [_knob_panel(problem)]
        problem.param.watch(self._on_knob, list(knobs(problem)))
        supported = [n for n, cls in METHODS.items() if cls().supports(problem)]
        self._method_select.options = supported
        if self.setup.method.name not in supported:
            self.setup.method = METHODS[supported[0]]()
        self._method_select.value = self.setup.method.name
        self._show_method()
        self._problem_shown(problem)

    def _on_problem(self, event) -> None:
        self.setup.problem = PROBLEMS[event.new]()
        self.show_problem()
        self._on_change()

    def _on_method(self, event) -> None:
        if event.new and event.new != self.setup.method.name:
            self.setup.method = METHODS[event.new]()
            self._show_method()
            self._on_change()

    def _on_regularizers(self, event) -> None:
        self.setup.regularizers = [
            self._reg_objects[name] for name, check in self._reg_checks.items() if check.value
        ]
        self._on_change()

    def _on_combiner(self, event) -> None:
        if event.new and event.new != self.setup.combiner.name:
            self.setup.combiner = COMBINERS[event.new]()
            self._show_combiner()
            self._on_change()

    def _on_weights(self, event) -> None:
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
        self._combiner_knobs.objects = [_knob_panel(combiner)] if names else []
        if names:
            combiner.param.watch(self._on_knob, names)

    def _on_knob(self, *events) -> None:
        if any(e.obj is self.setup.problem for e in events):
            self._problem_knob_changed()
        self._on_change()

    def _show_method(self) -> None:
        method = self.setup.method
        self._method_knobs.objects = [_knob_panel(method)]
        method.param.watch(self._on_knob, list(knobs(method)))


def _knob_panel(obj: param.Parameterized) -> pn.Param:
    """Widgets for an object's knobs: number boxes rather than sliders.

    Coefficients such as Burgers' nu = 0.01/pi need exact values, which a slider cannot type,
    and a slider cannot show "none" (e.g. ``n_interior=None``, meaning "the default size").
    """
    widgets = {}
    for name, p in obj.param.objects("existing").items():
        if isinstance(p, param.Integer):
            widgets[name] = pn.widgets.IntInput
        elif isinstance(p, param.Number):
            widgets[name] = pn.widgets.FloatInput
    return pn.Param(
        obj,
        parameters=list(knobs(obj)),
        widgets=widgets,
        show_name=False,
        sizing_mode="stretch_width",
    )


def _first_doc_line(obj) -> str:
    # Docstrings use reST roles (:math:`...`); Markdown shows their content as code.
    return (type(obj).__doc__ or "").strip().splitlines()[0].replace(":math:`", "`")
