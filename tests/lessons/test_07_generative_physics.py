"""The lesson of notebooks/07_generative_physics.py at lecture size: PBFM's generated fields have
a lower PDE residual than flow matching's at an energy distance within 1.5x of flow matching's,
and DiffusionPDE-style guidance from 3 % observations of u gives a posterior whose mean u has
l2re <= 0.25, with the coverage of its 90 % interval reported."""

NOTEBOOK = "07_generative_physics"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)
    assert values["pbfm residual"] < values["flow matching residual"], values
    assert values["distance ratio pbfm / fm"] <= 1.5, values
    assert values["observed nodes of u"] == 8, values  # 3 % of the 16 x 16 nodes
    assert values["posterior l2re u"] <= 0.25, values
    for key in ("coverage u", "coverage a"):
        assert 0.0 <= values[key] <= 1.0, values
