"""The three sizes of the teaching notebooks, and the lesson values each one computes.

Every notebook in ``notebooks/`` runs at one of three sizes, chosen by the environment
variable ``WORKBENCH_SIZE`` before the kernel starts (or by setting ``os.environ`` in the
notebook's first cell):

``smoke``
    Seconds per training: proves the notebook runs, shows nothing. The old switch
    ``WORKBENCH_SMALL=1`` still selects it.
``lecture`` (the default)
    The whole notebook in at most 5 minutes on a 2-core laptop without a GPU, chosen so that
    the notebook's lesson holds. ``tests/lessons`` executes every notebook at this size and
    asserts its lesson on the values the notebook computed.
``full``
    The papers' settings; minutes to hours per training.

A notebook collects the numbers its lesson rests on in a dict named ``LESSON`` (plain floats,
ints, bools or strings) and shows them as a table; its text refers to that table instead of
quoting numbers. The lesson tests read ``LESSON`` back from the executed kernel.
"""

from __future__ import annotations

import os
from typing import TypeVar

#: The sizes, smallest first.
SIZES = ("smoke", "lecture", "full")

#: The size a notebook runs at when nothing is set.
DEFAULT_SIZE = "lecture"

#: Environment variable that chooses the size.
SIZE_VARIABLE = "WORKBENCH_SIZE"

T = TypeVar("T")


def lesson_size() -> str:
    """The size the notebooks run at: ``WORKBENCH_SIZE``, else ``smoke`` if the older
    ``WORKBENCH_SMALL=1`` is set, else ``lecture``.

    Raises
    ------
    ValueError
        If ``WORKBENCH_SIZE`` is set to anything but one of :data:`SIZES`.
    """
    value = os.environ.get(SIZE_VARIABLE)
    if value is None or not value.strip():
        return "smoke" if os.environ.get("WORKBENCH_SMALL", "0") == "1" else DEFAULT_SIZE
    size = value.strip().lower()
    if size not in SIZES:
        raise ValueError(f"{SIZE_VARIABLE}={value!r}: choose one of {', '.join(SIZES)}")
    return size


def by_size(*, smoke: T, lecture: T, full: T, size: str | None = None) -> T:
    """The value for the current size (or ``size``): ``by_size(smoke=300, lecture=3000,
    full=12000)``.

    Raises
    ------
    ValueError
        If ``size`` (or ``WORKBENCH_SIZE``) is not one of :data:`SIZES`.
    """
    if size is None:
        size = lesson_size()
    elif size not in SIZES:
        raise ValueError(f"size {size!r}: choose one of {', '.join(SIZES)}")
    return {"smoke": smoke, "lecture": lecture, "full": full}[size]
