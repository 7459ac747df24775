"""Execute one teaching notebook and write the ``LESSON`` dict it computed as JSON.

``python tests/lessons/execute_lesson.py SOURCE.py OUT_DIR`` runs the jupytext source in a
fresh kernel with the working directory ``OUT_DIR`` (so whatever the notebook writes lands
there), saves the executed notebook as ``OUT_DIR/<stem>.ipynb`` for reading after a failure,
writes it as an offline page ``OUT_DIR/<stem>.html`` (as ``workbench notebooks --html`` does,
to look at its figures), and writes ``OUT_DIR/lesson.json``: ``{"lesson": {...}, "seconds":
wall time}``. The size comes from the environment (``WORKBENCH_SIZE``), as when a person opens
the notebook.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat

from workbench.notebook_html import KERNEL_ENV, static_outputs, to_html

MARK = "LESSON-JSON:"

# Appended to the notebook: print the lesson values in a form the harness can find.
READ_LESSON = f"""import json as _json
print({MARK!r} + _json.dumps(LESSON, default=float))"""


def main(source: str, out_dir: str) -> int:
    source_path, out = Path(source), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source_path)
    os.environ.update(KERNEL_ENV)  # Panel inlines its stylesheets, as in the HTML export
    nb.cells.append(nbformat.v4.new_code_cell(READ_LESSON))
    client = nbclient.NotebookClient(
        nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(out)}}
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        nbformat.write(nb, out / f"{source_path.stem}.ipynb")
    seconds = time.perf_counter() - start
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    line = next(x for x in printed.splitlines() if x.startswith(MARK))
    lesson = json.loads(line[len(MARK) :])
    page = copy.deepcopy(nb)
    page.cells.pop()  # the harness's own cell
    static_outputs(page)
    (out / f"{source_path.stem}.html").write_text(to_html(page, source_path.stem), "utf-8")
    (out / "lesson.json").write_text(json.dumps({"lesson": lesson, "seconds": seconds}, indent=1))
    print(f"{source_path.stem}: {seconds:.0f} s; LESSON = {lesson}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
