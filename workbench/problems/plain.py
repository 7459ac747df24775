"""Plain-Python views of param specs, for ``torch.compile`` and fast attribute access."""

from __future__ import annotations

import param


def plain_view(spec: param.Parameterized):
    """A plain-Python stand-in for a Problem/Method: the same methods, knobs as plain attributes.

    ``torch.compile`` cannot trace param's attribute descriptors (every ``self.nu`` would be a
    graph break), and they cost microseconds per access in eager mode too. The view shares the
    spec's methods and class attributes but reads knob values from its ``__dict__``. Methods
    that call ``super()`` without arguments cannot run on it; only the loss path does.
    """
    namespace = {}
    for klass in reversed(type(spec).__mro__):
        if klass.__module__.split(".")[0] in ("param", "abc", "builtins"):
            continue
        for key, value in vars(klass).items():
            if not key.startswith("__") and not isinstance(value, param.Parameter):
                namespace[key] = value
    view = type(f"Plain{type(spec).__name__}", (), namespace)()
    view.__dict__.update(spec.param.values())
    return view
