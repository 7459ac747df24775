"""What the four kinds of spec (Problem, Method, Regularizer, Combiner) share beyond param."""

from __future__ import annotations

from collections.abc import Mapping


def refuse_name_knob(spec: type, kind: str, params: Mapping) -> None:
    """Raise ``TypeError`` when ``params`` (a spec's constructor arguments) set ``name``.

    ``name`` is the registry name a Run records (and loads by), not a knob: param would accept
    ``name="x"`` and label the run with a ``kind`` (problem, method, ...) that does not exist.
    """
    if "name" in params:
        raise TypeError(
            f"name: {spec.name!r} is the {kind}'s registry name, not a knob; choose another "
            f"{kind} from the registry instead"
        )
