"""The lid-driven cavity solver against Ghia, Ghia & Shin (1982) and its own grid convergence."""

import numpy as np
import pytest

from workbench.numerics.cavity import (
    GHIA_RE100_U,
    GHIA_RE100_V,
    centrelines,
    solve_cavity,
)


@pytest.fixture(scope="module")
def re100():
    return {n: solve_cavity(n, 100.0) for n in (17, 33, 65)}


def test_re100_centrelines_match_ghia_within_one_percent_of_the_lid_speed(re100):
    # 33 nodes is the coarsest grid of the sequence that meets 1% (17 nodes: 4.4%).
    u, v = centrelines(re100[33])
    assert np.abs(u - GHIA_RE100_U[:, 1]).max() < 0.01
    assert np.abs(v - GHIA_RE100_V[:, 1]).max() < 0.01
    u, v = centrelines(re100[17])
    assert np.abs(v - GHIA_RE100_V[:, 1]).max() > 0.01


def test_re100_converges_at_second_order(re100):
    def on_coarse(fine, coarse):
        stride = (len(fine.x) - 1) // (len(coarse.x) - 1)
        return fine.u[::stride, ::stride], fine.v[::stride, ::stride]

    coarse = re100[17]
    differences = []
    for a, b in ((17, 33), (33, 65)):
        ua, va = on_coarse(re100[a], coarse)
        ub, vb = on_coarse(re100[b], coarse)
        differences.append(max(np.abs(ua - ub).max(), np.abs(va - vb).max()))
    # The lid's corner singularities hold the max-norm rate a little under 2.
    assert np.log2(differences[0] / differences[1]) > 1.7
    # The stream function's minimum (the primary vortex) converges at second order.
    psi = [re100[n].psi.min() for n in (17, 33, 65)]
    assert 3.5 < (psi[1] - psi[0]) / (psi[2] - psi[1]) < 4.5


def test_solution_satisfies_its_boundary_conditions_and_is_converged(re100):
    flow = re100[33]
    assert flow.residual < 1e-10
    for edge in (flow.psi[0], flow.psi[-1], flow.psi[:, 0], flow.psi[:, -1]):
        assert np.abs(edge).max() == 0.0
    np.testing.assert_array_equal(flow.u[:, -1], 1.0)
    assert np.abs(flow.v[:, -1]).max() == 0.0
    # Incompressible: the discrete divergence of (psi_y, -psi_x) vanishes at interior nodes.
    h = flow.x[1] - flow.x[0]
    div = (flow.u[2:, 1:-1] - flow.u[:-2, 1:-1] + flow.v[1:-1, 2:] - flow.v[1:-1, :-2]) / (2 * h)
    assert np.abs(div[1:-1, 1:-1]).max() < 1e-10


def test_re1000_converges_on_a_coarse_grid():
    flow = solve_cavity(33, 1000.0)
    assert flow.residual < 1e-10
    # The primary vortex strengthens with Re: the return flow along x = 1/2 is faster.
    assert flow.u[16].min() < solve_cavity(33, 100.0).u[16].min()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 5}, "n \\(nodes per side\\)"),
        ({"n": 33.0}, "n \\(nodes per side\\)"),
        ({"re": 0.5}, "re \\(Reynolds number\\)"),
        ({"re": 5000.0}, "re \\(Reynolds number\\)"),
        ({"tol": 0.0}, "tol"),
        ({"max_iterations": 0}, "max_iterations"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs, match):
    args = {"n": 17, "re": 100.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        solve_cavity(args.pop("n"), args.pop("re"), **args)


def test_too_few_iterations_raise():
    with pytest.raises(RuntimeError, match="max_iterations=2"):
        solve_cavity(17, 100.0, max_iterations=2)
