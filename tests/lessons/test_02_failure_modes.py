"""The lesson of notebooks/02_failure_modes.py at lecture size: a plain PINN fails on convection
(beta 20), R3 and PIG fix it; causal R3 helps but needs more steps, causal weighting does not."""

NOTEBOOK = "02_failure_modes"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed (see conftest.py)
    assert values["plain l2re"] >= 0.5, values
    # The fixes that hold at lecture size.
    assert values["R3 l2re"] <= 0.1, values
    assert values["PIG l2re"] <= 0.1, values
    # What the text says of the causal variants at this budget: causal R3 beats the plain
    # PINN but has not reached R3 (its gate is still sweeping); causal weighting with a fixed
    # epsilon does not fix convection.
    assert values["R3 l2re"] < values["causal R3 l2re"] < values["plain l2re"], values
    assert values["causal weighting l2re"] > 0.1, values
