"""The lesson of notebooks/09_navier_stokes.py at lecture size: exact constraints beat loss
terms on Kovasznay flow, the cavity solver matches Ghia et al. within 1 % of the lid speed at
second order, and the FNO's one-step forecast beats "nothing changes" while its rollout
drifts."""

NOTEBOOK = "09_navier_stokes"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed (see conftest.py)
    # Kovasznay: with the walls built in, both velocities are learnt several times better.
    for c in ("u", "v"):
        hard = values[f"kovasznay exact-constraint l2re {c}"]
        soft = values[f"kovasznay loss-term l2re {c}"]
        assert hard < 1e-2, values
        assert hard < 0.5 * soft, values
    # The classical cavity: within 1 % of the lid speed of the table, second order.
    assert values["cavity max difference from Ghia / lid speed"] < 0.01, values
    assert 1.5 < values["cavity observed order"] < 2.6, values
    # Kolmogorov: one step better than persistence by far; the rollout's error grows.
    one_step, persistence = (
        values["kolmogorov one-step l2re"],
        values["kolmogorov persistence one-step l2re"],
    )
    assert one_step < 0.5 * persistence, values
    assert values["kolmogorov rollout error grows"] is True, values
    after_1, after_10 = (
        values["kolmogorov rollout l2re after 1 step"],
        values["kolmogorov rollout l2re after 10 steps"],
    )
    assert after_10 > after_1, values
