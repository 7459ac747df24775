"""Fuzz every knob of every registry through the Python API and the CLI (issue 25).

The harness of ``tests/test_fuzz_knobs.py`` (``tests/fuzz_knobs.py``) with many more
examples: ``--examples`` in total, spread evenly over the registry entries (problems, methods,
regularizers, combiners, samplers, and the training knobs with the CLI's own flags). Each
example draws knob values inside and outside their declared bounds and types and runs them
through ``workbench.fit`` or ``workbench.cli.main``; it must train (or, for a case too large
to train here, validate) or be refused cleanly. Prints one table per registry (examples,
successes, of them trained to the end, clean refusals, failures; API and CLI cases) and every
failure with the code or command line that reproduces it; exits 1 on any failure.

Usage::

    python benchmarks/fuzz_knobs.py [--examples 2000] [--only problem,method,...]

Deterministic (hypothesis with ``derandomize=True``): the same command draws the same cases.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_knobs import REGISTRIES, failure_report, fuzz_entry  # noqa: E402


def _row(label: str, records: list, wall: float) -> str:
    counts = Counter(r.outcome.kind for r in records)
    trained = sum(
        1 for r in records if r.outcome.kind == "ok" and "validated" not in r.outcome.detail
    )
    fronts = Counter(r.case.front for r in records)
    return (
        f"{label:<24} {len(records):>8} {counts['ok']:>9} {trained:>8} {counts['refused']:>8} "
        f"{counts['failure']:>8} {fronts['api']:>5} {fronts['cli']:>5} {wall:>8.1f}"
    )


HEADER = (
    f"{'entry':<24} {'examples':>8} {'successes':>9} {'trained':>8} {'refused':>8} "
    f"{'failures':>8} {'api':>5} {'cli':>5} {'wall_s':>8}"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples in total")
    parser.add_argument(
        "--only", default="", help=f"comma-separated registries (of {', '.join(REGISTRIES)})"
    )
    args = parser.parse_args(argv)
    only = [k for k in args.only.split(",") if k] or list(REGISTRIES)
    unknown = sorted(set(only) - set(REGISTRIES))
    if unknown:
        parser.error(f"--only: unknown {unknown}; allowed: {', '.join(REGISTRIES)}")
    entries = [(kind, name) for kind in only for name in REGISTRIES[kind]]
    per_entry = max(1, math.ceil(args.examples / len(entries)))
    print(f"{len(entries)} entries x {per_entry} examples (hypothesis, derandomized)", flush=True)
    everything = []
    totals = []
    start = time.perf_counter()
    for kind in only:
        print(f"\n{kind}s:\n{HEADER}", flush=True)
        registry_records = []
        registry_start = time.perf_counter()
        for name in REGISTRIES[kind]:
            t0 = time.perf_counter()
            records = fuzz_entry(kind, name, per_entry)
            registry_records += records
            print(_row(name, records, time.perf_counter() - t0), flush=True)
        print(_row(f"= all {kind}s", registry_records, time.perf_counter() - registry_start))
        totals.append((kind, registry_records, time.perf_counter() - registry_start))
        everything += registry_records
    print(f"\ntotal:\n{HEADER}")
    for kind, records, wall in totals:
        print(_row(kind, records, wall))
    print(_row("= all", everything, time.perf_counter() - start))
    report = failure_report(everything)
    if report:
        print(f"\nfailures:\n{report}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
