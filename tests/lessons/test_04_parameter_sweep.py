"""The lesson of notebooks/04_parameter_sweep.py at lecture size: the beta sweep shows an edge
where the plain PINN and R3 differ by >= 2x, and R3's edge lies at a larger beta."""

NOTEBOOK = "04_parameter_sweep"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed (see conftest.py)
    assert values["R3 l2re at R3 edge"] < 0.1, values
    assert values["plain / R3 at R3 edge"] >= 2.0, values
    assert values["R3 edge beta"] > values["plain edge beta"], values
