"""The default combiner: the weighted sum of the terms, one gradient."""

from __future__ import annotations

import param

from workbench.combiners.base import Combiner


class Sum(Combiner):
    """Add the terms (each times its fixed weight) and follow the gradient of the sum with Adam.

    With ``weights=`` given to ``train()`` this is the "fixed weights" combination. It is the only
    combiner whose step can be ``torch.compile``-d: it needs one backward pass, not one per term.
    """

    name = param.String("sum", constant=True, doc="Registry name of this combiner.")
    per_term = False

    def combine(self, grads, state, step):
        return sum(grads.values()), {}
