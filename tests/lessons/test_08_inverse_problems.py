"""The lesson of notebooks/08_inverse_problems.py at lecture size: nu within 5 % from 200
observations at 1 % noise, and the error of the heat diffusivity rising with the noise."""

NOTEBOOK = "08_inverse_problems"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed (see conftest.py)
    # Burgers: the viscosity from 200 observations at 1 % noise, within 5 % of the truth.
    assert values["burgers nu relative error"] <= 0.05, values
    # The noise sweep: the median error over the seeds rises with every step up in noise.
    levels = [k for k in values if k.startswith("heat alpha error at ")]
    assert len(levels) >= 3, values
    medians = [values[k] for k in levels]
    assert all(b > a for a, b in zip(medians, medians[1:])), values
    assert values["noise sweep rises with noise"] is True, values
