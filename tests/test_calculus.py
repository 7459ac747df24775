"""Forward-propagated derivatives (Jets) agree with autograd; grid derivatives converge."""

import numpy as np
import pytest
import torch

from workbench.calculus import coordinate_jets, jet_by_autograd, jet_on_grid, stack_jets
from workbench.nn.mlp import MLP, FourierFeatures

DIMS = ("x", "t")
ORDERS = {"x": 2, "t": 2}


def _net(activation, fourier=False):
    g = torch.Generator().manual_seed(0)
    ff = FourierFeatures(2, 8, 1.0, g) if fourier else None
    return MLP(2, 1, 16, 3, activation, g, ff).double()


@pytest.mark.parametrize("activation", ["tanh", "sin", "gelu"])
@pytest.mark.parametrize("fourier", [False, True])
def test_mlp_jet_matches_autograd(activation, fourier):
    net = _net(activation, fourier)
    pts = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    coords = coordinate_jets(pts, DIMS, ORDERS)
    forward = net.forward_jet(stack_jets([coords[d] for d in DIMS]))
    reverse = jet_by_autograd(net, pts, DIMS, ORDERS)
    for a, b in zip(forward.parts, reverse.parts):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_jet_arithmetic_follows_product_and_chain_rules():
    pts = torch.rand(20, 2, dtype=torch.float64)
    coords = coordinate_jets(pts, DIMS, ORDERS)
    x, t = coords["x"], coords["t"]
    jet = (1.0 - x * x) * (2.0 * x).sin() + t * (x - 0.5).exp() - x.cos()

    def f(p):
        xx, tt = p[:, :1], p[:, 1:]
        return (1 - xx**2) * torch.sin(2 * xx) + tt * torch.exp(xx - 0.5) - torch.cos(xx)

    ref = jet_by_autograd(f, pts, DIMS, ORDERS)
    for a, b in zip(jet.parts, ref.parts):
        torch.testing.assert_close(a, b)


def test_jet_access_by_name():
    pts = torch.rand(5, 2, dtype=torch.float64)
    u = coordinate_jets(pts, DIMS, {"x": 2, "t": 1})["x"]
    assert torch.equal(u.value, pts[:, :1])
    assert torch.all(u.d("x") == 1) and torch.all(u.d("t") == 0)
    assert torch.all(u.dd("x") == 0)


def test_grid_derivatives_are_second_order():
    errors = []
    for n in (41, 81, 161):
        x = np.linspace(0, 1, n)
        jet = jet_on_grid(np.sin(3 * x), {"x": x}, {"x": 2})
        errors.append(np.abs(jet.dd("x").numpy().ravel() + 9 * np.sin(3 * x)).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 1.8)
