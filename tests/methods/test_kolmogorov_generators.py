"""Field generators on kolmogorov2d's velocity: the stored velocity, its divergence as the
physics residual, flow matching and PBFM training on it, and refusals."""

import numpy as np
import pytest
import torch

from workbench import fit
from workbench.calculus import spectral_derivative
from workbench.methods import METHODS
from workbench.problems import PROBLEMS
from workbench.views.generation import generated_channels, sample_gallery

SMALL = {
    "resolution": 16,
    "n_train": 40,
    "n_test": 10,
    "batch_size": 8,
    "n_samples": 8,
    "posterior_samples": 4,
    "sample_steps": 6,
    "guided_steps": 6,
}
LENGTH = 2.0 * np.pi


@pytest.fixture(scope="module")
def flow():
    return PROBLEMS["kolmogorov2d"]()


@pytest.fixture(scope="module")
def data(flow):
    return flow.dataset(50, 16, progress=False)


def velocities(data):
    return torch.as_tensor(np.stack([data["vel_x"].values, data["vel_y"].values], axis=1))


@pytest.fixture(scope="module")
def trained(flow):
    return {
        name: fit(flow, METHODS[name](**SMALL), steps=6, eval_every=0, progress=False, seed=0)
        for name in ("flow_matching", "pbfm")
    }


def without_mean_and_nyquist(w):
    """Fields ``(B, 16, 16)`` without their mean and Nyquist modes."""
    spectrum = np.fft.rfft2(w)
    spectrum[:, 0, 0] = spectrum[:, 8, :] = spectrum[:, :, 8] = 0.0
    return np.fft.irfft2(spectrum, (16, 16))


def test_spectral_derivative_is_exact_on_resolved_modes():
    x = LENGTH * np.arange(16) / 16
    f = torch.as_tensor(np.sin(3 * x)[None, :] * np.cos(2 * x)[:, None])
    d = spectral_derivative(f, 1, LENGTH)
    exact = 3 * np.cos(3 * x)[None, :] * np.cos(2 * x)[:, None]
    assert np.abs(d.numpy() - exact).max() < 1e-12


def test_dataset_stores_the_velocity_of_the_output_vorticity(flow, data):
    assert data["vel_x"].dims == ("sample", "x", "y")
    assert "velocity" in data["vel_x"].attrs["long_name"]
    fields = velocities(data)
    # The stored velocity's curl is the stored output vorticity, less its mean and its
    # Nyquist modes (which have no odd derivative on the grid).
    curl = spectral_derivative(fields[:, 1], 1, LENGTH) - spectral_derivative(
        fields[:, 0], 2, LENGTH
    )
    w = without_mean_and_nyquist(data["u"].values)
    error = np.abs(without_mean_and_nyquist(curl.numpy()) - w).max()
    assert error < 1e-12 * np.abs(w).max()


def test_divergence_residual_is_zero_on_the_data_and_not_on_random_fields(flow, data):
    fields = velocities(data)
    scale = flow.generator_residual_scale(fields)
    assert scale > 0.1
    assert flow.generator_residual(fields).abs().max() / scale < 1e-12
    noise = torch.randn(
        fields.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    random = flow.generator_residual(noise).abs().mean() / flow.generator_residual_scale(noise)
    assert 0.3 < random < 0.8
    # An incompressible field plus a little of a gradient field is a little divergent.
    grad = torch.stack([spectral_derivative(noise[:, 0], a, LENGTH) for a in (1, 2)], 1)
    mixed = fields + 0.01 * grad * fields.std() / grad.std()
    assert 1e-4 < flow.generator_residual(mixed).abs().mean() / scale < random


def test_generators_model_the_velocity_and_other_problems_keep_input_and_u(flow):
    assert flow.generator_fields() == ("vel_x", "vel_y") and flow.generator_has_residual()
    darcy, burgers = PROBLEMS["darcy2d"](), PROBLEMS["burgers1d"]()
    assert darcy.generator_fields() == ("a", "u") and darcy.generator_has_residual()
    assert burgers.generator_fields() == ("u0", "u") and not burgers.generator_has_residual()


@pytest.mark.parametrize("name", ["flow_matching", "pbfm"])
def test_flow_matching_and_pbfm_generate_velocity_samples(trained, name):
    run = trained[name]
    assert run.status == "done"
    assert set(run.history.data_vars) >= ({"flow", "residual"} if name == "pbfm" else {"flow"})
    samples = run.tree["samples"].ds
    assert set(samples.data_vars) == {"vel_x", "vel_y", "residual"}
    assert samples["vel_x"].dims == ("sample", "x", "y") and samples.sizes["sample"] == 8
    assert samples.attrs["channels"] == "vel_x, vel_y"
    assert generated_channels(samples) == ["vel_x", "vel_y"]
    # The data's divergence is rounding (float32 network units); barely trained samples are
    # far from divergence-free.
    assert samples.attrs["data_residual_mean"] < 1e-5
    assert samples.attrs["residual_mean"] > 100 * samples.attrs["data_residual_mean"]
    assert np.isfinite(samples.attrs["distance_normalised"])
    posterior = run.tree["posterior"].ds
    # "solution" observes the last channel.
    assert float(posterior["vel_y_mask"].sum()) > 0 and float(posterior["vel_x_mask"].sum()) == 0
    assert sample_gallery(samples) is not None


def test_generated_divergence_is_measured_in_the_model_scale(trained, flow, data):
    run = trained["pbfm"]
    model = run.model
    x = model.standardise(velocities(data).to(model.mean))
    r = run.method.residual(model, flow, x)
    assert r.abs().max() < 1e-5
    assert float(model.residual_scale) == pytest.approx(
        flow.generator_residual_scale(velocities(run.method.split(flow)["train"])), rel=1e-6
    )


def test_bad_settings_are_refused(flow, data):
    with pytest.raises(ValueError, match="resolution"):
        fit(flow, METHODS["pbfm"](**{**SMALL, "resolution": 12}), steps=1, progress=False)
    with pytest.raises(ValueError, match=r"fields must have shape \(B, 2, x, y\)"):
        flow.generator_residual(torch.zeros(2, 3, 16, 16))
    # Own data without the velocity cannot train a velocity generator.
    own = data.drop_vars(["vel_x", "vel_y"])
    method = METHODS["flow_matching"](**{**SMALL, "resolution": None, "data": own})
    with pytest.raises(ValueError, match=r"data: .*lacks \['vel_x', 'vel_y'\]"):
        fit(flow, method, steps=1, progress=False)
