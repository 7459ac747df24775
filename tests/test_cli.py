"""The workbench CLI: catalog, a real run, one-line errors for bad input (hypothesis)."""

import re
import subprocess
import sys

import param
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import BadInput, build_run_inputs, list_catalog, main, make_parser
from workbench.combiners import COMBINERS
from workbench.methods import METHODS, FieldGenerator, LatentModel, Operator
from workbench.problems import PROBLEMS
from workbench.regularizers import REGULARIZERS
from workbench.results import Run
from workbench.train import Training

SUMMARY = re.compile(
    r"^result problem=(\S+) method=(\S+) steps=(\d+) l2re=([-+.\deE]+|nan)"
    r"(?: l2re@(\d+)=([-+.\deE]+|nan))? wall_s=([.\deE+-]+)(?: \(got \d+% of a CPU core .*\))?$"
)


def workbench(*args):
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_list_names_every_problem_method_regularizer_and_knob():
    text = list_catalog()
    for registry in (PROBLEMS, METHODS, REGULARIZERS, COMBINERS):
        for name, cls in registry.items():
            assert f"  {name}:" in text
            for knob in cls.param.objects("existing"):
                if knob != "name":
                    assert knob in text


def test_run_writes_run_report_and_one_summary_line(tmp_path):
    out = tmp_path / "b1"
    proc = workbench(
        "run",
        "--problem",
        "burgers1d",
        "--method",
        "pinn",
        "--steps",
        "30",
        "--set",
        "nu=0.005",
        "--set",
        "width=16",
        "--set",
        "n_interior=128",
        "--reg",
        "weight_decay=1e-4",
        "--seed",
        "0",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    match = SUMMARY.match(lines[0])
    assert match and match.group(1) == "burgers1d" and match.group(3) == "30"
    for name in ("run.nc", "weights.safetensors", "report.html"):
        assert (out / name).is_file()
    # The same folder is not overwritten silently.
    again = workbench("run", "--problem", "burgers1d", "--steps", "1", "--out", str(out))
    assert again.returncode == 2 and "--out" in again.stderr


def test_operator_run_in_epochs_reports_transfer_error(tmp_path):
    out = tmp_path / "fno"
    knobs = "n_train=40 n_test=8 resolution=16 batch_size=8 modes=4 width=8".split()
    sets = [arg for knob in knobs for arg in ("--set", knob)]
    proc = workbench(
        "run", "--problem", "darcy2d", "--method", "fno", "--epochs", "2", *sets,
        "--reg", "pde_residual=0.5", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    match = SUMMARY.match(proc.stdout.strip())
    assert match, proc.stdout
    assert match.group(3) == "10"  # 2 epochs of 40 / 8 batches
    assert match.group(5) == "32"  # the transfer resolution, twice the training one
    run = Run.load(out)
    assert {"samples", "transfer"} <= set(run.tree.children)
    assert run.history["pde_residual"].notnull().all()
    refused = workbench("run", "--problem", "heat1d", "--epochs", "2")
    assert refused.returncode == 2 and "--epochs" in refused.stderr


def test_generative_run_in_epochs_saves_latent_groups(tmp_path):
    out = tmp_path / "vae"
    knobs = "n_train=40 n_test=8 batch_size=8 width=16".split()
    sets = [arg for knob in knobs for arg in ("--set", knob)]
    proc = workbench(
        "run", "--problem", "pendulum", "--method", "vae", "--epochs", "2", *sets,
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    match = SUMMARY.match(proc.stdout.strip())
    assert match and match.group(3) == "10"
    run = Run.load(out)
    assert {"latent", "samples"} <= set(run.tree.children)
    assert (out / "report.html").is_file()


def test_divergence_exits_nonzero_and_saves_last_good_run(tmp_path):
    out = tmp_path / "d"
    proc = workbench(
        "run",
        "--problem",
        "burgers1d",
        "--lr",
        "10",
        "--steps",
        "3000",
        "--set",
        "n_interior=128",
        "--set",
        "width=16",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 3
    assert "diverged at step" in proc.stderr.strip().splitlines()[-1]
    assert (out / "run.nc").is_file() and (out / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--problem", "nope"], ["problem", "burgers1d"]),
        (["--problem", "burgers1d", "--method", "nope"], ["method", "pinn"]),
        (["--problem", "burgers1d", "--set", "foo=1"], ["foo", "nu"]),
        (["--problem", "burgers1d", "--set", "nu=5"], ["nu", "[0.001, 1.0]"]),
        (["--problem", "burgers1d", "--set", "nu=abc"], ["nu", "not valid"]),
        (["--problem", "burgers1d", "--set", "activation=relu"], ["activation", "tanh"]),
        (["--problem", "burgers1d", "--reg", "dropout"], ["regularizer", "weight_decay"]),
        (["--problem", "burgers1d", "--reg", "l2=-1"], ["weight"]),
        (["--problem", "burgers1d", "--steps", "-3"], ["steps"]),
        (["--problem", "burgers1d", "--bogus"], ["--bogus"]),
        (["--problem", "burgers1d", "--device", "tpu"], ["device", "cuda"]),
        (["--problem", "burgers1d", "--out", __file__], ["--out", "not a folder"]),
    ],
)
def test_bad_input_is_one_line_exit_2(args, names, capsys):
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    for name in names:
        assert name in err[0]


def _numeric_knobs():
    owners = [("problem", n, c) for n, c in PROBLEMS.items()]
    owners += [("method", n, c) for n, c in METHODS.items()]
    out = []
    for kind, owner, cls in owners:
        for name, p in cls.param.objects("existing").items():
            if isinstance(p, param.Number) and name != "name" and p.bounds:
                out.append((kind, owner, name, p))
    return out


KNOBS = _numeric_knobs()

#: Method knobs whose allowed values also depend on another knob (labels <= n_train, ...) or
#: on the problem (a generative model's field="input" needs a function family).
CROSS_CHECKED = {
    "field",
    "sigma_max",
    "sigma_min_sample",
    "labels",
    "batch_size",
    "n_train",
    "modes",
    "resolution",
    "sum_layers",
    "depth",
    "transfer_resolution",
}


def _problem_for(method: str, default: str) -> str:
    """A problem the method can learn: operators need a function family, generative methods
    a family (the pendulum has a physics model too), or a function family where they model
    the input functions by default (vano); field generators model darcy2d's (a, u)."""
    if issubclass(METHODS[method], Operator | FieldGenerator):
        return "darcy2d"
    if issubclass(METHODS[method], LatentModel):
        return "burgers1d" if METHODS[method].field == "input" else "pendulum"
    return default


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_numeric_knob_is_range_checked(data):
    kind, owner, name, p = data.draw(st.sampled_from(KNOBS))
    lo, hi = p.bounds
    outside = []
    # Margins relative to the bound: a seed bounded by 2**31 - 1 needs more room than 1e6.
    if lo is not None:
        span = max(1e6, abs(lo))
        outside.append(st.floats(max_value=lo - max(1, abs(lo)) * 1e-3, min_value=lo - span))
    if hi is not None:
        span = max(1e6, abs(hi))
        outside.append(st.floats(min_value=hi + max(1, abs(hi)) * 1e-3, max_value=hi + span))
    value = data.draw(st.one_of(outside))
    if isinstance(p, param.Integer):
        value = int(value) - 1 if lo is not None and value < lo else int(value) + 1
    problem = owner if kind == "problem" else _problem_for(owner, "poisson1d")
    method = owner if kind == "method" else "pinn"
    args = make_parser().parse_args(
        ["run", "--problem", problem, "--method", method, "--set", f"{kind}.{name}={value}"]
    )
    with pytest.raises(BadInput, match=name):
        build_run_inputs(args)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_values_inside_bounds_are_accepted(data):
    kind, owner, name, p = data.draw(st.sampled_from(KNOBS))
    lo, hi = p.bounds
    lo = -1e6 if lo is None else lo
    hi = 1e6 if hi is None else hi
    if isinstance(p, param.Integer):
        value = data.draw(st.integers(min_value=int(lo), max_value=int(min(hi, lo + 1e6))))
    else:
        value = data.draw(st.floats(min_value=lo, max_value=hi, allow_nan=False))
        if value == lo and not p.inclusive_bounds[0]:
            value = lo + (hi - lo) / 2
    # A time-dependent problem: causal knobs are refused (clearly) on timeless ones.
    problem = owner if kind == "problem" else _problem_for(owner, "heat1d")
    method = owner if kind == "method" else "pinn"
    args = make_parser().parse_args(
        ["run", "--problem", problem, "--method", method, "--set", f"{kind}.{name}={value!r}"]
    )
    if kind == "method" and name in CROSS_CHECKED:
        # In bounds, but it may clash with another knob's default (labels > n_train): then
        # the refusal names it.
        try:
            build_run_inputs(args)
        except BadInput as err:
            assert name in str(err)
        return
    build_run_inputs(args)


def test_regularizer_knobs_are_set_by_its_name():
    base = ["run", "--problem", "pendulum", "--method", "vae", "--reg", "kl_annealing=0.5"]
    args = make_parser().parse_args([*base, "--set", "kl_annealing.warmup=25"])
    regularizers = build_run_inputs(args)[2]
    assert regularizers[0].weight == 0.5 and regularizers[0].warmup == 25
    for bad, match in [
        ("kl_annealing.warmup=0", "warmup"),
        ("kl_annealing.cycle=3", "has knobs: .*cycles"),
        ("least_volume.eta=2", "least_volume"),
    ]:
        with pytest.raises(BadInput, match=match):
            build_run_inputs(make_parser().parse_args([*base, "--set", bad]))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_training_flags_are_range_checked(data):
    name, p = data.draw(
        st.sampled_from(
            [
                (n, p)
                for n, p in Training.param.objects("existing").items()
                if isinstance(p, param.Number) and p.bounds and p.bounds[0] is not None
            ]
        )
    )
    value = data.draw(st.floats(max_value=p.bounds[0] - 1, min_value=p.bounds[0] - 1e6))
    if isinstance(p, param.Integer):
        value = int(value)
    args = make_parser().parse_args(
        ["run", "--problem", "poisson1d", f"--{name.replace('_', '-')}={value}"]
    )
    with pytest.raises(BadInput, match=name):
        build_run_inputs(args)


def test_combiner_and_weights_flags(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "run",
            "--problem",
            "poisson1d",
            "--combiner",
            "lra",
            "--set",
            "combiner.alpha=0.5",
            "--weight",
            "boundary=10",
            "--steps",
            "5",
            "--eval-every",
            "0",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    run = Run.load(out)
    assert '"alpha": 0.5' in run.attrs["combiner"] and '"name": "lra"' in run.attrs["combiner"]
    assert "weight_boundary" in run.history


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--combiner", "adamw"], "unknown combiner 'adamw'"),
        (["--combiner", "lra", "--set", "combiner.beta=2"], "combiner 'lra' has knobs"),
        (["--set", "combiner.alpha=2"], "combiner 'sum' has knobs: none"),
        (["--combiner", "lra", "--set", "combiner.alpha=2"], "alpha"),
        (["--weight", "boundary=big"], "--weight boundary"),
    ],
)
def test_bad_combiner_input_is_named(argv, match, capsys):
    code = main(["run", "--problem", "poisson1d", "--steps", "1", *argv])
    assert code == 2
    assert match in capsys.readouterr().err


TINY_RUN = ["run", "--problem", "poisson1d", "--method", "pinn", "--steps", "3", "--quiet"]
TINY_RUN += ["--set", "width=8", "--set", "n_interior=32"]


@pytest.mark.parametrize(
    "out, why",
    [
        ("/proc/nope/run", "parent folder /proc/nope is missing and cannot be created"),
        ("{tmp}/file/run", "is a file, not a folder"),
        ("{tmp}/file", "exists and is not a folder"),
    ],
)
def test_unwritable_out_fails_before_training(out, why, tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --out")

    monkeypatch.setattr("workbench.cli.fit", no_training)
    assert main([*TINY_RUN, "--out", out.format(tmp=tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --out ") and why in err


def test_overwrite_refuses_a_folder_with_other_files(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setattr("workbench.cli.fit", lambda *a, **k: pytest.fail("trained"))
    assert main([*TINY_RUN, "--out", str(tmp_path), "--overwrite"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_ctrl_c_during_the_final_save_keeps_what_was_there(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    assert main([*TINY_RUN, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(tree, path):  # the Ctrl-C arrives while the report is written
        raise KeyboardInterrupt

    monkeypatch.setattr("workbench.views.report", interrupted)
    capsys.readouterr()
    assert main([*TINY_RUN, "--seed", "1", "--out", str(out), "--overwrite"]) == 130
    assert f"interrupted while saving; the previous run in {out} is unchanged" in (
        capsys.readouterr().err
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert Run.load(out).attrs["seed"] == 0
    assert main([*TINY_RUN, "--out", str(tmp_path / "new")]) == 130
    assert f"{tmp_path / 'new'} was not written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
