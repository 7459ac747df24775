"""The ``workbench`` command line: ``list`` the catalog, ``run`` a training headless, ``sweep``
a grid of knob values on Dask, ``serve`` the live app, ``notebooks --html OUT`` the teaching
notebooks as offline HTML pages.

Every knob comes from the same Parameters that drive the widgets: problem and method knobs via
``--set name=value``, regularizers via ``--reg name[=weight]`` (their other knobs as
``--set <regularizer>.name=value``), the loss combination via
``--combiner name`` (its knobs as ``--set combiner.name=value``), fixed term weights via
``--weight term=value``, and the optimisation knobs of :class:`workbench.train.Training` as
flags (``--steps``, ``--lr``, ...). Bad input prints one
line naming the parameter and what is allowed, and exits with code 2 before any work starts.

``sweep`` takes the same flags for its base set-up plus ``--grid knob=v1,v2,...`` (repeat for
more knobs) and ``--seeds``; it writes ``sweep.nc`` into ``--out``, and the same command again
runs only the points not finished there.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import param

from workbench.combiners import COMBINERS
from workbench.methods import METHODS, FamilyMethod
from workbench.problems import PROBLEMS
from workbench.recipes import RECIPES, recipe_for
from workbench.regularizers import REGULARIZERS
from workbench.results import REPORT_FILE, RUN_FILE, RUN_FILES, describe_bounds, knobs, parse_knob
from workbench.train import Training, fit, train

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130
EXIT_SAVE_FAILED = 1


class BadInput(Exception):
    """Raised for user input errors; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse prints the whole usage block; one line is easier to read and to test.
        raise BadInput(message)


# --- describing knobs ----------------------------------------------------------------------
def _knob_lines(obj) -> list[str]:
    lines = []
    for name, p in obj.param.objects("existing").items():
        if name == "name":
            continue
        lines.append(f"    {name:<18} = {p.default!s:<10} {describe_bounds(p):<28} {p.doc or ''}")
    return lines


def _first_doc_line(cls) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0]


def list_catalog() -> str:
    """Every problem, method, regularizer and training knob with defaults and bounds."""
    out = []
    for title, registry in (
        ("problems", PROBLEMS),
        ("methods", METHODS),
        ("regularizers", REGULARIZERS),
        ("combiners (--combiner)", COMBINERS),
    ):
        out.append(f"{title}:")
        for name, cls in registry.items():
            out.append(f"  {name}: {_first_doc_line(cls)}")
            out += _knob_lines(cls)
    out.append("training (flags of `workbench run`, e.g. --lbfgs-steps 500):")
    out += _knob_lines(Training)
    out.append("recipes (applied by `workbench run --problem P --method M` unless --no-recipe):")
    for (problem, method), found in RECIPES.items():
        values = {**found.method, **found.training}
        values.update({f"weight {term}": w for term, w in found.weights.items()})
        if found.combiner:
            values["combiner"] = found.combiner
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        out.append(f"  {problem} + {method}: {shown}  [{found.source}]")
    return "\n".join(out)


# --- parsing values --------------------------------------------------------------------------
def _convert(owner: str, p: param.Parameter, name: str, text: str):
    """Turn command-line text into the Parameter's type; param itself checks the bounds."""
    try:
        return parse_knob(p, text)
    except ValueError:
        raise BadInput(
            f"{owner} knob {name!r}: {text!r} is not valid; allowed: {describe_bounds(p)}"
        ) from None


def _assign(target, owner: str, name: str, text: str) -> None:
    p = target.param.objects("existing")[name]
    value = _convert(owner, p, name, text)
    try:
        setattr(target, name, value)
    except ValueError as err:
        reason = str(err).rstrip(".")
        raise BadInput(f"{owner} knob {name!r}: {reason}; allowed: {describe_bounds(p)}") from None


def _pick(registry: dict, kind: str, name: str):
    if name not in registry:
        raise BadInput(f"unknown {kind} {name!r}; allowed: {', '.join(registry)}")
    return registry[name]()


def _split_assignment(text: str, flag: str) -> tuple[str, str]:
    if "=" not in text:
        raise BadInput(f"{flag} expects name=value, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def build_run_inputs(args: argparse.Namespace):
    """Problem, method, regularizers and training settings from parsed arguments."""
    problem = _pick(PROBLEMS, "problem", args.problem)
    method = _pick(METHODS, "method", args.method)
    # Naming a pair means its best-known recipe; every --set, --weight and flag below wins.
    found = None if args.no_recipe else recipe_for(problem.name, method.name)
    if found is not None:
        method.param.update(**found.method)
    regularizers = []
    for item in args.reg:
        name, _, weight = item.partition("=")
        reg = _pick(REGULARIZERS, "regularizer", name.strip())
        if weight:
            _assign(reg, f"regularizer {reg.name}", "weight", weight)
        regularizers.append(reg)
    chosen = {reg.name: reg for reg in regularizers}
    combiner_knobs = []
    for item in args.set:
        key, value = _split_assignment(item, "--set")
        scope, _, knob = key.rpartition(".")
        if scope in chosen:
            reg = chosen[scope]
            if knob not in knobs(reg):
                allowed = ", ".join(knobs(reg)) or "none"
                raise BadInput(f"--set {key}: regularizer {scope!r} has knobs: {allowed}")
            _assign(reg, f"regularizer {scope}", knob, value)
            continue
        if scope == "combiner":
            combiner_knobs.append((key, knob, value))
            continue
        targets = {"problem": problem, "method": method}
        if scope and scope not in targets:
            raise BadInput(
                f"--set {key}: prefix must be 'problem.', 'method.', 'combiner.' or the name "
                f"of a regularizer given with --reg ({', '.join(chosen) or 'none given'})"
            )
        owners = [s for s in ([scope] if scope else targets) if knob in knobs(targets[s])]
        if not owners:
            allowed = sorted(set(knobs(problem)) | set(knobs(method)))
            raise BadInput(
                f"--set: unknown knob {knob!r} for problem {problem.name!r} and method "
                f"{method.name!r}; allowed: {', '.join(allowed)}"
            )
        if len(owners) > 1:
            raise BadInput(f"--set: {knob!r} is ambiguous; write problem.{knob} or method.{knob}")
        _assign(targets[owners[0]], owners[0], knob, value)
    if args.data is not None:
        if not isinstance(method, FamilyMethod):
            learners = [n for n, cls in METHODS.items() if issubclass(cls, FamilyMethod)]
            raise BadInput(
                f"--data: method {method.name!r} does not learn from a dataset; methods that "
                f"do: {', '.join(learners)}"
            )
        method.data = args.data  # read and checked with the rest by train() below
    _infer(args, method)
    _add_observations(args, regularizers)
    # Picked once the method's knobs are set: without --combiner, the method's default
    # (pbfm combines its terms with ConFIG unless told combine=sum).
    default_combiner = (found.combiner if found else None) or method.default_combiner()
    combiner = _pick(COMBINERS, "combiner", args.combiner or default_combiner or "sum")
    for key, knob, value in combiner_knobs:
        if knob not in knobs(combiner):
            allowed = ", ".join(knobs(combiner)) or "none"
            raise BadInput(f"--set {key}: combiner {combiner.name!r} has knobs: {allowed}")
        _assign(combiner, f"combiner {combiner.name}", knob, value)
    settings = Training(**(found.training if found else {}))
    for name in knobs(settings):
        value = getattr(args, name)
        if value is not None:
            _assign(settings, "training", name, str(value))
    if args.epochs is not None:
        if not isinstance(method, FamilyMethod):
            raise BadInput(
                f"--epochs: only methods that learn from a family's dataset (operators, "
                f"generative models) train in epochs, not {method.name!r}"
            )
        if args.steps is not None:
            raise BadInput("--epochs sets the steps; give --epochs or --steps, not both")
        _assign(settings, "training", "steps", str(args.epochs * method.steps_per_epoch()))
    weights = dict(found.weights) if found else {}
    for item in args.weight:
        term, text = _split_assignment(item, "--weight")
        try:
            weights[term] = float(text)
        except ValueError:
            raise BadInput(f"--weight {term}: {text!r} is not a number") from None
    settings = {**knobs(settings), "weights": weights}
    try:
        # train() checks the whole combination (device, method vs problem) before any work;
        # the generator it returns has not started, so closing it costs nothing.
        train(problem, method, regularizers, combiner, **settings).close()
    except (ValueError, TypeError) as err:
        raise BadInput(str(err)) from None
    return problem, method, regularizers, combiner, settings


def _out_dir(args, problem, method) -> Path:
    """The run's folder, checked before any training: a run that cannot be saved is lost."""
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise BadInput(f"--out {out}: exists and is not a folder")
        if out.exists() and any(out.iterdir()):
            if not args.overwrite:
                raise BadInput(
                    f"--out {out}: folder is not empty; choose another or pass --overwrite"
                )
            others = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES)
            if others:
                raise BadInput(
                    f"--out {out}: holds files that are not part of a saved run "
                    f"({', '.join(others[:5])}); --overwrite replaces only a saved run"
                )
    else:
        base = Path("runs") / f"{problem.name}-{method.name}"
        n = 1
        while Path(f"{base}-{n}").exists():
            n += 1
        out = Path(f"{base}-{n}")
    _check_writable(out, "--out" if args.out else "the default run folder")
    return out


def _check_writable(out: Path, flag: str) -> None:
    """Raise BadInput unless ``out``'s parent exists (or can be made) and takes new folders.

    A save writes a hidden sibling of ``out`` and renames it, so the parent is what must be
    writable; trying it is the only honest test (permission bits do not see read-only mounts
    or /proc).
    """
    parent = out.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise BadInput(f"{flag} {out}: {parent} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BadInput(
            f"{flag} {out}: parent folder {parent} is missing and cannot be created "
            f"({err.strerror or err})"
        ) from None
    try:
        probe = tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent)
    except OSError as err:
        raise BadInput(f"{flag} {out}: cannot write in {parent} ({err.strerror or err})") from None
    os.rmdir(probe)


# --- commands ------------------------------------------------------------------------------
def cmd_run(args) -> int:
    # Imported here: holoviews takes a second to import and `list` does not need it.
    from workbench.views import report

    problem, method, regularizers, combiner, settings = build_run_inputs(args)
    out = _out_dir(args, problem, method)
    run = fit(problem, method, regularizers, combiner, progress=not args.quiet, **settings)
    if run.status == "done" and run.attrs.get("message") and args.quiet:
        # Without the progress bar nobody said why the steps ended early (a time budget).
        print(f"note: {run.attrs['message']}", file=sys.stderr)
    had_run = (out / RUN_FILE).is_file()
    saving = time.perf_counter()
    try:
        # The report is written with the run, so that a replace swaps both or neither.
        run.save(out, extra=lambda folder: report(run.tree, folder / REPORT_FILE))
    except KeyboardInterrupt:
        kept = f"the previous run in {out} is unchanged" if had_run else f"{out} was not written"
        print(f"error: interrupted while saving; {kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:
        print(f"error: could not save the run to {out}: {err}", file=sys.stderr)
        return EXIT_SAVE_FAILED
    # Saving (the report renders every figure) comes after --max-wall-s's budget: say its cost.
    print(f"saved run to {out} in {time.perf_counter() - saving:.1f} s", file=sys.stderr)
    print(run.summary())
    if run.status == "diverged":
        print(f"error: {run.attrs['message']}; last good state saved to {out}", file=sys.stderr)
        return EXIT_DIVERGED
    if run.status == "stopped":
        print(f"error: {run.attrs['message']}; state so far saved to {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _sweep_grid(args, problem, method, regularizers, combiner) -> dict[str, list]:
    """The grid of ``--grid``/``--seeds``, each value converted by its Parameter."""
    from workbench.sweep import knob_owners, resolve_knob

    owners = knob_owners(problem, method, regularizers, combiner)
    texts = [_split_assignment(item, "--grid") for item in args.grid]
    if args.seeds is not None:
        if any(key in ("seed", "training.seed") for key, _ in texts):
            raise BadInput("--seeds: seed is already swept with --grid; give it once")
        texts.append(("seed", args.seeds))
    if not texts:
        raise BadInput("sweep: give at least one --grid KNOB=V1,V2,... (or --seeds)")
    grid = {}
    for key, text in texts:
        try:
            owner, name = resolve_knob(key, problem, method, regularizers, combiner)
        except ValueError as err:
            raise BadInput(str(err)) from None
        p = owners[owner].param.objects("existing")[name]
        values = [v.strip() for v in text.split(",") if v.strip()]
        if not values:
            raise BadInput(f"--grid {key}: give values separated by commas, e.g. {key}=1,2,3")
        if key in grid:
            raise BadInput(f"--grid {key}: given twice")
        grid[key] = [_convert(f"--grid {owner}", p, name, v) for v in values]
    return grid


def _sweep_table(dataset) -> str:
    """One line per point: the knob values, status, l2re and wall time."""
    import numpy as np

    dims = list(dataset["status"].dims)
    widths = [
        max(len(d), *(len(f"{v:g}" if _is_number(v) else str(v)) for v in dataset[d].values))
        for d in dims
    ]
    head = "  ".join(d.ljust(w) for d, w in zip(dims, widths))
    lines = [f"{head}  {'status':<9} {'l2re':>10} {'wall_s':>8}"]
    for index in np.ndindex(*dataset["status"].shape):
        point = dataset.isel(dict(zip(dims, index)))
        values = [point[d].item() for d in dims]
        cells = "  ".join(
            (f"{v:g}" if _is_number(v) else str(v)).ljust(w) for v, w in zip(values, widths)
        )
        lines.append(
            f"{cells}  {point['status'].item():<9} {float(point['l2re']):>10.4g} "
            f"{float(point['wall_s']):>8.3g}"
        )
    return "\n".join(lines)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def cmd_sweep(args) -> int:
    from workbench.sweep import Sweep

    problem, method, regularizers, combiner, settings = build_run_inputs(args)
    grid = _sweep_grid(args, problem, method, regularizers, combiner)
    out = Path(args.out or Path("runs") / f"sweep-{problem.name}-{method.name}")
    try:
        plan = Sweep(
            problem,
            method,
            regularizers,
            combiner,
            grid=grid,
            out=out,
            fields=args.fields,
            overwrite=args.overwrite,
            **settings,
        )
    except ValueError as err:
        raise BadInput(str(err)) from None
    start = time.perf_counter()
    last = plan.collect(args.scheduler, args.workers, progress=not args.quiet)
    dataset = last.result
    statuses = dataset["status"].values.ravel().tolist()
    counts = {s: statuses.count(s) for s in ("done", "diverged", "stopped", "failed", "pending")}
    print(_sweep_table(dataset))
    print(
        f"sweep problem={problem.name} method={method.name} points={plan.total} "
        f"ran={last.done - last.reused} reused={last.reused} "
        + " ".join(f"{k}={v}" for k, v in counts.items())
        + f" wall_s={time.perf_counter() - start:.3g}"
    )
    print(f"saved sweep to {out / 'sweep.nc'}", file=sys.stderr)
    if counts["pending"]:
        print(
            f"error: interrupted with {counts['pending']} points left; run the same command "
            "again to finish them",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if counts["failed"]:
        print(
            f"warning: {counts['failed']} points failed (see the message variable); they run "
            "again when the same command is repeated",
            file=sys.stderr,
        )
    return 0


def cmd_serve(args) -> int:
    from workbench.app.limits import ServeLimits
    from workbench.app.serve import serve

    if not 0 <= args.port <= 65535:
        raise BadInput(f"--port {args.port}: must be in [0, 65535]")
    try:
        limits = ServeLimits(
            max_steps=args.max_steps,
            max_points=args.max_points,
            max_trainings=args.max_trainings,
            allow_disk=not args.no_disk,
            max_upload_mb=args.max_upload_mb,
            idle_release_s=args.idle_release_s or None,
            session_idle_s=args.session_idle_s or None,
            max_session_runs=args.max_session_runs or None,
        )
    except ValueError as err:
        raise BadInput(str(err)) from None
    try:
        serve(
            address=args.address,
            port=args.port,
            allow_websocket_origin=args.allow_websocket_origin or None,
            show=args.show,
            limits=limits,
            runs_dir=args.runs_dir,
        )
    except KeyboardInterrupt:
        pass
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _add_setup_arguments(command: argparse.ArgumentParser) -> None:
    """The flags that describe one training (shared by ``run`` and ``sweep``)."""
    command.add_argument("--problem", required=True, help=f"one of {', '.join(PROBLEMS)}")
    command.add_argument("--method", default="pinn", help=f"one of {', '.join(METHODS)}")
    command.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KNOB=VALUE",
        help="problem, method or combiner knob (prefix problem./method. if ambiguous; "
        "combiner knobs always as combiner.NAME, a --reg regularizer's as REGULARIZER.NAME, "
        "e.g. kl_annealing.warmup=500)",
    )
    command.add_argument(
        "--combiner",
        default=None,
        help=f"how loss terms become one update: {', '.join(COMBINERS)} (default: the "
        "method's, else sum)",
    )
    command.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="TERM=W",
        help="fixed weight of a loss term (e.g. residual=1e-4; default 1 each)",
    )
    command.add_argument(
        "--reg",
        action="append",
        default=[],
        metavar="NAME[=WEIGHT]",
        help=f"add a regularizer: {', '.join(REGULARIZERS)}",
    )
    for name, p in Training.param.objects("existing").items():
        if name == "name":
            continue
        # A bare flag (``--compile``) means true, for a Boolean or a selector that holds True.
        switch = isinstance(p, param.Boolean) or any(o is True for o in getattr(p, "objects", ()))
        flag_value = {"nargs": "?", "const": "true"} if switch else {}
        command.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=None,
            **flag_value,
            help=f"{p.doc} ({describe_bounds(p)}; default {p.default})",
        )
    command.add_argument(
        "--epochs",
        type=_positive_int,
        help="operator and generative methods: passes over the training set (sets --steps)",
    )
    command.add_argument(
        "--data",
        metavar="FILE.nc",
        help="operator, latent and generative methods: train and test on your own samples "
        "(a NetCDF file laid out as the problem's generated datasets: dims sample and the "
        "grid dims, variables u and the input; see README 'Bring your own data')",
    )
    command.add_argument(
        "--infer",
        action="append",
        default=[],
        metavar="COEF[=GUESS]",
        help="learn a problem coefficient from observations (pinn, pig), e.g. nu=0.05 (no "
        "guess: the middle of its range); needs --observe or --reg data",
    )
    command.add_argument(
        "--observe",
        type=_positive_int,
        metavar="N",
        help="fit N synthetic observations of the reference (adds the 'data' regularizer)",
    )
    command.add_argument(
        "--noise",
        type=float,
        metavar="LEVEL",
        help="noise of the synthetic observations relative to the solution's RMS (0.01 = 1%%)",
    )
    command.add_argument(
        "--sensors",
        type=_positive_int,
        metavar="K",
        help="observations from K fixed sensors over time instead of random points",
    )
    command.add_argument(
        "--no-recipe",
        action="store_true",
        help="generic defaults for this problem and method instead of the pair's recipe "
        "(workbench list shows the recipes)",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_observations(args, regularizers: list) -> None:
    """--observe/--noise/--sensors: set up (or add) the 'data' regularizer."""
    wanted = args.observe is not None or args.noise is not None or args.sensors is not None
    if not wanted:
        return
    data = next((r for r in regularizers if r.name == "data"), None)
    if data is None:
        if args.observe is None:
            raise BadInput("--noise/--sensors describe observations; give --observe N too")
        data = REGULARIZERS["data"]()
        regularizers.append(data)
    for flag, knob, value in (
        ("--observe", "n", args.observe),
        ("--noise", "noise", args.noise),
        ("--sensors", "sensors", args.sensors),
    ):
        if value is not None:
            _assign(data, f"{flag} (regularizer data)", knob, str(value))
    if args.sensors is not None:
        data.layout = "sensors"


def _infer(args, method) -> None:
    """--infer COEF[=GUESS]: the method's infer knob."""
    if not args.infer:
        return
    if "infer" not in knobs(method):
        raise BadInput(
            f"--infer: method {method.name!r} cannot learn coefficients; use pinn or pig"
        )
    wanted = {}
    for item in args.infer:
        name, _, guess = item.partition("=")
        name = name.strip()
        if not guess.strip():
            wanted[name] = None
            continue
        try:
            wanted[name] = float(guess)
        except ValueError:
            raise BadInput(f"--infer {item}: {guess!r} is not a number") from None
    method.infer = wanted


def cmd_notebooks(args) -> int:
    import importlib.util

    from workbench.notebook_html import NOTEBOOKS, REQUIRES, render_notebooks

    missing = [name for name in REQUIRES if importlib.util.find_spec(name) is None]
    if missing:
        raise BadInput(f"notebooks --html needs {', '.join(missing)}: pip install -e '.[app]'")
    try:
        folder = args.source or NOTEBOOKS
        pages = render_notebooks(
            args.html, args.names, args.size, folder=folder, timeout=args.timeout
        )
    except ValueError as err:
        raise BadInput(str(err)) from None
    failed = [p.source.name for p in pages if p.path is None]
    if failed:
        print(f"error: {len(failed)} notebooks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def make_parser() -> argparse.ArgumentParser:
    from workbench.notebook_html import SIZES  # standard library only until it renders

    parser = _Parser(prog="workbench", description="Physics-informed ML workbench.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="problems, methods, regularizers and their knobs")
    run = sub.add_parser("run", help="train one method on one problem and save the Run")
    _add_setup_arguments(run)
    run.add_argument("--out", help="folder for run.nc, weights and report.html")
    run.add_argument("--overwrite", action="store_true", help="allow a non-empty --out")
    sweep = sub.add_parser(
        "sweep", help="train at every point of a grid of knob values (on Dask) into one Dataset"
    )
    _add_setup_arguments(sweep)
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KNOB=V1,V2,...",
        help="a swept knob and its values (repeat for more knobs; prefixes as for --set, "
        "e.g. beta=1,10,30 or weight_decay.weight=0,1e-4)",
    )
    sweep.add_argument("--seeds", metavar="S1,S2,...", help="seeds to repeat every point with")
    sweep.add_argument(
        "--scheduler",
        help="Dask scheduler address (tcp://HOST:8786); default: a LocalCluster on this "
        "machine; 'serial': one point after another in this process",
    )
    sweep.add_argument(
        "--workers", type=_positive_int, help="LocalCluster worker processes (default: cores)"
    )
    sweep.add_argument(
        "--fields", action="store_true", help="keep every point's fields in sweep.nc"
    )
    sweep.add_argument(
        "--out",
        help="folder for sweep.nc and the finished points (default runs/sweep-PROBLEM-METHOD); "
        "the same command again runs only the missing points",
    )
    sweep.add_argument("--overwrite", action="store_true", help="allow --out to hold another sweep")
    serve = sub.add_parser("serve", help="open the live Workbench app in a browser")
    serve.add_argument("--address", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=5006, help="port (0 = any free port)")
    serve.add_argument(
        "--allow-websocket-origin",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="host allowed to connect (repeat; needed behind a proxy or on a public address)",
    )
    serve.add_argument("--show", action="store_true", help="open the page in a browser")
    serve.add_argument("--max-steps", type=_positive_int, help="cap on steps per training")
    serve.add_argument("--max-points", type=_positive_int, help="cap on collocation points")
    serve.add_argument(
        "--max-trainings", type=_positive_int, help="cap on trainings running at once"
    )
    serve.add_argument(
        "--no-disk", action="store_true", help="no saving to / loading from the server's disk"
    )
    serve.add_argument(
        "--idle-release-s",
        type=float,
        default=300.0,
        help="stop (keeping its run) a training paused this long without Step or Resume, to "
        "free its slot; 0: never",
    )
    serve.add_argument(
        "--session-idle-s",
        type=float,
        default=1800.0,
        help="close a page with no input this long and nothing training or sweeping, to free "
        "its memory; 0: never",
    )
    serve.add_argument(
        "--max-session-runs",
        type=int,
        default=20,
        help="most runs a page keeps in the server's memory (the oldest go first); 0: no cap",
    )
    serve.add_argument(
        "--max-upload-mb",
        type=float,
        default=50.0,
        help="largest uploaded run (run.nc or .zip, and what a .zip unpacks to), in MB",
    )
    serve.add_argument(
        "--runs-dir", default="workbench-runs", help="where Save writes runs and Load reads them"
    )
    notebooks = sub.add_parser(
        "notebooks",
        help="execute the teaching notebooks and write them as HTML pages that work offline",
    )
    notebooks.add_argument(
        "names", nargs="*", help="notebooks to render (e.g. 01_pinn_basics); default: all"
    )
    notebooks.add_argument(
        "--html",
        required=True,
        metavar="OUT",
        help="folder for one page per notebook and index.html (created)",
    )
    notebooks.add_argument(
        "--size",
        choices=[size for size in SIZES if size],
        default=None,
        help="training size, passed to the kernels as WORKBENCH_SIZE: lecture (the default, "
        "a few minutes per notebook, the lesson holds), smoke (seconds per notebook, proves "
        "it runs) or full (the papers' settings)",
    )
    notebooks.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="folder of the jupytext notebook sources (default: the checkout's notebooks/)",
    )
    notebooks.add_argument(
        "--timeout", type=_positive_int, default=3600, help="seconds one cell may run"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script; returns the exit code."""
    try:
        args = make_parser().parse_args(argv)
        if args.command == "list":
            print(list_catalog())
            return 0
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "notebooks":
            return cmd_notebooks(args)
        return cmd_run(args)
    except BadInput as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
