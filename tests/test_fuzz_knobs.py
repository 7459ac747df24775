"""Fuzz every knob of every problem, method, regularizer, combiner and sampler, and the
training knobs and CLI flags, through the Python API and ``workbench run`` (issue 25).

A few examples per registry entry (deterministic: ``derandomize=True``); each must succeed
or be refused cleanly (see :mod:`fuzz_knobs` for the precise rules). A failure lists every
failing case with the code or command line that reproduces it. The benchmark
``benchmarks/fuzz_knobs.py`` runs the same harness with thousands of examples.
"""

import pytest
from fuzz_knobs import REGISTRIES, failure_report, fuzz_entry, tally

#: Examples per registry entry in CI: 47 entries, about 280 cases.
EXAMPLES = 6

ENTRIES = [(kind, name) for kind, names in REGISTRIES.items() for name in names]


@pytest.mark.slow
@pytest.mark.parametrize("kind, name", ENTRIES, ids=[f"{k}-{n}" for k, n in ENTRIES])
def test_every_knob_succeeds_or_is_refused_cleanly(kind, name):
    records = fuzz_entry(kind, name, EXAMPLES)
    counts = tally(records)
    assert sum(counts.values()) >= 1
    assert counts["failure"] == 0, failure_report(records)


def test_each_front_end_and_outcome_is_exercised():
    """The harness is not vacuous: both front ends run, and both real trainings and clean
    refusals happen (a harness that refused everything would pass the test above)."""
    records = fuzz_entry("method", "pinn", 12)
    assert {r.case.front for r in records} == {"api", "cli"}
    counts = tally(records)
    assert counts["ok"] >= 1 and counts["refused"] >= 1, counts
    assert counts["failure"] == 0, failure_report(records)
    trained = [r for r in records if r.outcome.detail == "done"]
    assert trained, [r.outcome.detail for r in records]


def test_a_failure_is_reported_with_its_reproduction():
    """A case whose front end raises an unexpected error is a failure, with a repro line."""
    from fuzz_knobs import Case, Record, execute

    case = Case(
        kind="method",
        entry="pinn",
        front="api",
        problem="heat1d",
        method="pinn",
        knobs={"method": {"width": 8}},
        non_finite=("method.width",),  # claims a non-finite value got through
    )
    outcome = execute(case)
    assert outcome.kind == "failure" and "non-finite" in outcome.detail
    report = failure_report([Record(case, outcome)])
    assert "repro: fit(PROBLEMS['heat1d']" in report
