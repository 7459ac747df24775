"""The lesson of notebooks/01_pinn_basics.py at lecture size: exact boundary conditions cut the
boundary error by >= 100x, and Burgers reaches l2re <= 1e-2 with its largest residual at the
shock."""

NOTEBOOK = "01_pinn_basics"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed (see conftest.py)
    # Poisson: the exact transform cuts the boundary error at least a hundredfold (the exact
    # variant's error is floored at float32 resolution, so this is a lower bound).
    assert values["poisson boundary error cut (soft / max(exact, float32 eps))"] >= 100, values
    assert values["poisson exact boundary error (median)"] < 1e-5, values
    # Burgers: accurate overall ...
    assert values["burgers l2re"] <= 1e-2, values
    # ... and worst at the shock: the largest residual lies in the front around x = 0.
    assert values["burgers largest |residual| in the front (|x| <= 0.05)"] is True, values
    assert abs(values["burgers largest |residual| at x"]) <= 0.05, values
