"""The set-up cannot drift from what trains, and bad input never sits silently in the sidebar.

Issue 24, item 2: the set-up is locked while a training exists (training or paused); a typed
value the knob does not allow is refused with a message naming the knob and its range, and
the field shows the valid value again; a link's bad keys are reported all at once; the buttons
are held while a click is being answered. A typed value is simulated as Panel receives it from
the page: through the widget's ``_process_events``.
"""

import pytest

from workbench import PINN, Poisson1D
from workbench.app import ServeLimits, Setup, Workbench, from_query
from workbench.app.setup import read_query
from workbench.train import Training

SMALL = dict(width=8, depth=1, n_interior=32, n_boundary=8)


def paused_workbench(**params) -> Workbench:
    setup = Setup(Poisson1D(), PINN(**SMALL), [], Training(steps=100_000))
    workbench = Workbench(setup, **params)
    workbench.step()  # a training that exists (paused) and holds still
    assert workbench.live.active and workbench.live.state == "paused"
    return workbench


def typed(widget, value) -> None:
    """``value`` arriving from the page, as Panel hands it over."""
    widget._process_events({"value": value})


def test_switching_the_problem_during_a_training_is_refused_and_undone():
    workbench = paused_workbench()
    panel = workbench.setup_panel
    try:
        # From Python, as a notebook would.
        panel._problem_select.value = "heat1d"
        assert workbench.setup.problem.name == "poisson1d"
        assert panel._problem_select.value == "poisson1d"
        assert "locked while a training exists" in workbench._alert.object
        # From the page: refused before it reaches the widget.
        typed(panel._problem_select, "heat1d")
        assert panel._problem_select.value == "poisson1d"
        # Knobs, method, regularizers and weights too.
        workbench.setup.training.lr = 0.5
        assert workbench.setup.training.lr == 1e-2
        panel._reg_checks["weight_decay"].value = True
        assert workbench.setup.regularizers == [] and not panel._reg_checks["weight_decay"].value
        panel._weights_input.value = "boundary=3"
        assert workbench.setup.weights == {} and panel._weights_input.value == ""
        # The sidebar says what trains, and its widgets are disabled.
        assert panel.lock_note.visible and "poisson1d with pinn" in panel.lock_note.object
        assert panel._problem_select.disabled and panel._training_knobs._widgets["lr"].disabled
    finally:
        workbench.stop()
        workbench.wait(60)
    # Stopped: the Run is kept, the set-up unlocks.
    assert workbench.live.state == "stopped"
    assert not panel.lock_note.visible and not panel._problem_select.disabled
    panel._problem_select.value = "heat1d"
    assert workbench.setup.problem.name == "heat1d"


def test_a_typed_value_out_of_range_is_refused_with_a_message_and_restored():
    workbench = Workbench(Setup(Poisson1D(), PINN(**SMALL), [], Training(steps=10)))
    panel = workbench.setup_panel
    lr = panel._training_knobs._widgets["lr"]
    typed(lr, 1e9)
    assert workbench.setup.training.lr == 1e-2 and lr.value == 1e-2
    note = panel._training_knobs.note
    assert note.visible and "lr: 1000000000.0 is not allowed; allowed: (0.0, 10.0]" in note.object
    assert "lr: 1000000000.0" in workbench._alert.object
    typed(lr, 0.5)  # a good value is taken, and the note goes
    assert workbench.setup.training.lr == 0.5 and not note.visible

    workbench.setup_panel._problem_select.value = "burgers1d"
    knobs = panel._problem_knobs[0]
    nu = knobs._widgets["nu"]
    before = workbench.setup.problem.nu
    for bad in (-1, None):  # a number out of range, and a box left empty
        typed(nu, bad)
        assert workbench.setup.problem.nu == before and nu.value == before
        assert panel._problem_knobs[1].visible and "nu: " in panel._problem_knobs[1].object
        assert "allowed: [0.001, 1.0]" in panel._problem_knobs[1].object


def test_a_typed_step_count_over_the_servers_cap_is_refused():
    workbench = Workbench(limits=ServeLimits(max_steps=500))
    steps = workbench.setup_panel._training_knobs._widgets["steps"]
    typed(steps, 100_000)
    assert workbench.setup.training.steps == 2000 and "cap of 500" in workbench._alert.object


def test_the_learning_rate_is_bounded():
    assert Training(lr=10.0).lr == 10.0  # a divergence can still be shown on purpose
    for bad in (0.0, 1e9):
        with pytest.raises(ValueError, match="lr"):
            Training(lr=bad)


def test_a_bad_query_reports_every_bad_key_and_keeps_the_good_ones():
    query = {"problem": "nope", "method": "phys_vae", "p.nu": "-1", "t.lr": "abc", "t.steps": "7"}
    setup, errors = read_query(query)
    assert len(errors) == 4, errors
    assert errors[0].startswith("problem=nope: unknown problem 'nope'")
    assert "method=phys_vae: 'phys_vae' cannot solve problem 'burgers1d'" in errors[1]
    assert errors[2].startswith("p.nu=-1") and errors[3].startswith("t.lr=abc")
    assert setup.problem.name == "burgers1d" and setup.method.name == "pinn"
    assert setup.training.steps == 7  # the good key is kept
    with pytest.raises(ValueError, match="problem=nope.*method=phys_vae.*p.nu=-1.*t.lr=abc"):
        from_query(query)
    # An unknown method is reported too, and a method left out is one that fits.
    assert read_query({"method": "nope"})[1][0].startswith("method=nope: unknown method")
    (error,) = read_query({"t.lr": "1e9"})[1]
    assert error.startswith("t.lr=1e9") and "10.0" in error


def test_buttons_are_held_until_the_server_has_answered():
    workbench = Workbench(Setup(Poisson1D(), PINN(**SMALL), [], Training(steps=100_000)))
    controller = workbench.controller
    controller.hold()
    assert all(b.disabled for b in controller._buttons)
    controller.step_button.clicks += 1  # as a click from the page arrives
    try:
        assert workbench.live.state == "paused"
        assert not controller.train_button.disabled and not controller.step_button.disabled
        assert not controller.stop_button.disabled and controller.pause_button.disabled
        assert not controller.reset_button.disabled
        assert workbench.setup_panel._problem_select.disabled
        controller.reset_button.clicks += 1
        assert workbench.live.state == "idle" and not workbench.live.active
        assert not controller.train_button.disabled and controller.stop_button.disabled
        assert not workbench.setup_panel._problem_select.disabled
    finally:
        workbench.shutdown()
