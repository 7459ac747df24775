"""Operator methods on problem families: contract, learning, transfer, save/load, bad input."""

import math

import numpy as np
import pytest
import torch

from workbench.methods import METHODS, Operator
from workbench.nn.grids import grid_coordinates, resample
from workbench.nn.spectral import SpectralConv
from workbench.problems import PROBLEMS
from workbench.regularizers import PDEResidual, WeightDecay
from workbench.results import Run
from workbench.train import fit

OPERATORS = sorted(m for m, cls in METHODS.items() if issubclass(cls, Operator))
FAMILIES = sorted(p for p, cls in PROBLEMS.items() if cls.family_input is not None)
SMALL = {"n_train": 40, "n_test": 8, "batch_size": 8}
SIZES = {
    "fno": {"modes": 4, "width": 8, "layers": 2, "projection": 16},
    "deeponet": {"width": 32, "depth": 2, "basis": 16},
    "multionet": {"width": 32, "depth": 3, "sum_layers": 2},
}


def small(problem, name, **knobs):
    resolution = 16 if len(problem.family_dims) == 2 else 32
    return METHODS[name](resolution=resolution, **SMALL, **SIZES[name], **knobs)


@pytest.mark.parametrize("problem_name", FAMILIES)
@pytest.mark.parametrize("method_name", OPERATORS)
def test_operator_learns_and_fills_the_run(method_name, problem_name):
    problem = PROBLEMS[problem_name]()
    method = small(problem, method_name)
    run = fit(problem, method, steps=60, lr=3e-3, eval_every=20, progress=False)
    assert run.status == "done"
    l2re = run.history["l2re"].dropna("step").values
    assert all(math.isfinite(v) for v in l2re)
    assert l2re[-1] < l2re[0]
    dims = ("sample", *problem.family_dims)
    name = problem.family_input
    samples = run.samples
    assert samples.sizes["sample"] == SMALL["n_test"]
    assert samples["u"].dims == dims and samples[name].dims == dims
    assert samples.attrs["input"] == name
    assert samples["rel_l2"].mean() == pytest.approx(run.l2re)
    assert ("residual" in samples) == problem.family_has_residual
    assert run.fields.sizes["sample"] <= samples.sizes["sample"]
    transfer = run.transfer
    assert transfer.attrs["resolution"] == 2 * samples.attrs["resolution"]
    assert transfer.sizes[problem.family_dims[0]] == 2 * samples.sizes[problem.family_dims[0]]
    assert np.isfinite(transfer["rel_l2"].values).all()


@pytest.mark.parametrize("method_name", OPERATORS)
def test_save_load_round_trip(method_name, tmp_path):
    problem = PROBLEMS["darcy2d"]()
    run = fit(problem, small(problem, method_name), steps=5, eval_every=0, progress=False)
    loaded = Run.load(run.save(tmp_path / "run"))
    inputs = run.samples[problem.family_input].values
    before = loaded.method.predict(run.model, inputs)
    after = loaded.method.predict(loaded.model, inputs)
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-9)
    assert loaded.samples.equals(run.samples)


def test_same_seed_same_training():
    problem = PROBLEMS["darcy2d"]()
    runs = [
        fit(problem, small(problem, "fno"), steps=8, eval_every=0, progress=False) for _ in range(2)
    ]
    a, b = (r.history["loss"].values for r in runs)
    np.testing.assert_array_equal(a, b)


def test_fno_beats_mean_predictor_on_darcy():
    problem = PROBLEMS["darcy2d"]()
    method = METHODS["fno"](
        resolution=16, n_train=200, n_test=20, modes=6, width=16, transfer_resolution=0
    )
    run = fit(problem, method, steps=300, lr=3e-3, eval_every=0, progress=False)
    test = run.samples
    mean_field = method.split(problem)["train"]["u"].mean("sample").values
    baseline = np.mean(
        np.linalg.norm((test["u_ref"] - mean_field).values.reshape(20, -1), axis=1)
        / np.linalg.norm(test["u_ref"].values.reshape(20, -1), axis=1)
    )
    assert run.l2re < 0.5 * baseline
    assert run.transfer is None


def test_pde_residual_teaches_without_labels():
    problem = PROBLEMS["darcy2d"]()
    method = METHODS["fno"](
        resolution=16, n_train=40, n_test=8, labels=0, modes=4, width=8, transfer_resolution=0
    )
    run = fit(problem, method, [PDEResidual()], steps=80, lr=3e-3, eval_every=0, progress=False)
    residual = run.history["pde_residual"].values
    assert residual[-10:].mean() < 0.2 * residual[:10].mean()
    assert np.all(run.history["data"].values == 0.0)


def test_spectral_conv_is_resolution_invariant_on_band_limited_input():
    conv = SpectralConv(1, 2, (4,), torch.Generator().manual_seed(0)).double()
    coarse = torch.sin(2 * np.pi * torch.arange(32, dtype=torch.float64) / 32)
    fine = torch.sin(2 * np.pi * torch.arange(64, dtype=torch.float64) / 64)
    out_coarse = conv(coarse.reshape(1, 1, -1))
    out_fine = conv(fine.reshape(1, 1, -1))
    torch.testing.assert_close(out_fine[..., ::2], out_coarse)


def test_resample_is_exact_on_linear_fields():
    like = torch.zeros((), dtype=torch.float64)
    (x,) = grid_coordinates((17,), (False,), like)
    (x9,) = grid_coordinates((9,), (False,), like)
    torch.testing.assert_close(resample((3 * x + 1)[None], (9,), (False,))[0], 3 * x9 + 1)
    # A periodic grid closes the loop: the last node's neighbour is the first one.
    (p,) = grid_coordinates((8,), (True,), like)
    (p16,) = grid_coordinates((16,), (True,), like)
    wave = torch.cos(2 * np.pi * p)[None]
    out = resample(wave, (16,), (True,))[0]
    torch.testing.assert_close(out[::2], wave[0])
    assert out[15] == pytest.approx(0.5 * (wave[0, 7] + wave[0, 0]))
    assert p16[1] == pytest.approx(1 / 16)


def test_bad_inputs_raise_before_training():
    darcy = PROBLEMS["darcy2d"]()
    with pytest.raises(ValueError, match="family"):
        fit(PROBLEMS["heat1d"](), METHODS["fno"](), steps=1, progress=False)
    with pytest.raises(ValueError, match="labels"):
        fit(darcy, METHODS["fno"](n_train=10, batch_size=5, labels=11), steps=1, progress=False)
    with pytest.raises(ValueError, match="modes"):
        fit(darcy, METHODS["fno"](resolution=16, modes=9), steps=1, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        fit(darcy, METHODS["fno"](n_train=10, batch_size=20), steps=1, progress=False)
    with pytest.raises(ValueError, match="operator method"):
        fit(darcy, METHODS["pinn"](), [PDEResidual()], steps=1, progress=False)
    with pytest.raises(ValueError, match="grid residual"):
        fit(PROBLEMS["burgers1d"](), METHODS["fno"](), [PDEResidual()], steps=1, progress=False)
    with pytest.raises(ValueError, match="sum_layers"):
        fit(darcy, METHODS["multionet"](depth=2, sum_layers=3), steps=1, progress=False)


def test_weight_decay_combines_with_operators():
    problem = PROBLEMS["darcy2d"]()
    run = fit(
        problem,
        small(problem, "fno", transfer_resolution=0),
        [WeightDecay(weight=1e-4)],
        steps=5,
        eval_every=0,
        schedule="cosine",
        progress=False,
    )
    assert run.status == "done"


def test_few_labels_train_to_the_end():
    # Most batches hold no labelled sample (data term 0): that is not divergence.
    problem = PROBLEMS["darcy2d"]()
    method = small(problem, "fno", labels=3, transfer_resolution=0)
    run = fit(problem, method, steps=40, lr=3e-3, eval_every=0, progress=False)
    assert run.status == "done", run.attrs["message"]
    data = run.history["data"].values
    assert (data == 0).any() and (data > 0).any()


def test_relative_residual_is_small_on_the_grid_solution_and_one_at_zero():
    from workbench.numerics.finite_differences import solve_diffusion

    problem = PROBLEMS["darcy2d"]()
    a = problem.family_inputs(3, 16, np.random.default_rng(0))
    u = solve_diffusion(a, 1.0)
    inputs = torch.as_tensor(a)

    class Fixed(torch.nn.Module):
        def __init__(self, out):
            super().__init__()
            self.out = out
            self.scale = torch.nn.Parameter(torch.ones(()))

        def forward(self, x):
            return self.out * self.scale

    for norm in ("relative_h-1", "l2"):
        reg = PDEResidual(norm=norm)
        values = []
        for field in (torch.as_tensor(u), torch.zeros_like(inputs)):
            model = Fixed(field)
            params = dict(model.named_parameters())
            term = reg.terms(model, problem, {"input": inputs}, params, None)["pde_residual"]
            values.append(float(term.detach()))
        assert values[0] < 1e-10
        if norm == "relative_h-1":
            assert values[1] == pytest.approx(1.0)
