"""Write the reference files shipped in this folder (see README.md), and print their sizes.

Run from the repository root, with the workbench package importable::

    python data/make_references.py                # every problem in shipped.SHIPPED
    python data/make_references.py burgers1d      # only these

Each file is the problem's reference at its default parameters on its default grid, solved
with its solver (:func:`workbench.problems.shipped.write`). ``tests/problems/test_shipped_data.py``
checks that the files still equal what the solvers compute.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from workbench.problems import shipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(shipped.SHIPPED), help="problems")
    args = parser.parse_args(argv)
    folder = Path(__file__).resolve().parent
    for name in args.names:
        start = time.perf_counter()
        path = shipped.write(name, folder)
        wall = time.perf_counter() - start
        print(f"{path.name}: {path.stat().st_size / 1024:.1f} KiB, {wall:.2f} s")


if __name__ == "__main__":
    main()
