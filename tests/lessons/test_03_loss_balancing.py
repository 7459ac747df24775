"""The lesson of notebooks/03_loss_balancing.py at lecture size: the terms' gradients conflict
(negative cosine), ConFIG's update never has a negative inner product with a term's gradient,
and ConFIG's mean best error over 3 seeds is below the plain sum's."""

NOTEBOOK = "03_loss_balancing"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)
    assert values["seeds"] == 3, values
    # The gradient cosine between loss terms goes negative.
    assert values["smallest grad cosine"] < 0, values
    # ConFIG's update has a non-negative inner product with every term's gradient, every step.
    assert values["ConFIG min update cosine"] >= 0, values
    assert values["ConFIG steps against a term"] == 0, values
    # ConFIG's mean best error over the 3 seeds is below the plain sum's.
    assert values["ConFIG mean best MSE"] < values["sum mean best MSE"], values
    assert values["ConFIG mean best l2re"] < values["sum mean best l2re"], values
