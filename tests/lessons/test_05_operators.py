"""The lesson of notebooks/05_operators.py at lecture size: the FNO reaches a test error of at
most 0.05 on 32x32, stays within 1.5x of that zero-shot on 64x64, and beats DeepONet."""

NOTEBOOK = "05_operators"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed (see conftest.py)
    fno = values["fno l2re at 32x32"]
    assert fno <= 0.05, values
    assert values["fno l2re at 64x64 (zero-shot)"] <= 1.5 * fno, values
    assert fno < values["deeponet l2re at 32x32"], values
