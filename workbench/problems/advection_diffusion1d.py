"""1D advection-diffusion on a periodic interval, the PDE benchmark of physics-integrated VAEs."""

from __future__ import annotations

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import PeriodicCondition, ValueCondition

#: Period L: with 20 points the spacing is 0.1, the grid of the Phys-VAE paper.
LENGTH = 2.0
#: Final time: 50 snapshots 0.02 apart, as in the paper.
FINAL_TIME = 0.98
#: Snapshots per trajectory of the family.
TIME_POINTS = 50


def _initial(x, amplitude):
    """``A sin^2(pi x / L)``: a bump vanishing (with its slope) at ``x = 0``, smooth and
    periodic, and a single Fourier mode above the mean."""
    cos = torch.cos if isinstance(x, torch.Tensor) else np.cos
    return 0.5 * amplitude * (1.0 - cos(2.0 * np.pi * x / LENGTH))


def _exact(x, t, a, b, amplitude):
    """The closed-form solution: the mean stays, the mode ``k = 2 pi / L`` decays like
    ``exp(-a k^2 t)`` and travels at speed ``b``. Broadcasts over its arguments."""
    k = 2.0 * np.pi / LENGTH
    return 0.5 * amplitude * (1.0 - np.exp(-a * k * k * t) * np.cos(k * (x - b * t)))


def _propagate(u0, a, b, t):
    """Exact Fourier propagation of periodic samples ``u0 (n, m)`` on ``[0, L)`` to the times
    ``t``: each mode is multiplied by ``exp(-(a k^2 + i b k) t)`` (``a, b`` per sample).
    Exact for any ``u0`` without a Nyquist mode (the initial condition here has one mode).

    Returns ``(n, m, len(t))``."""
    m = u0.shape[1]
    k = 2.0 * np.pi * np.fft.rfftfreq(m, d=LENGTH / m)
    spectrum = np.fft.rfft(u0, axis=1)
    symbol = -(a[:, None] * k * k + 1j * b[:, None] * k)  # (n, modes)
    evolved = spectrum[:, :, None] * np.exp(symbol[:, :, None] * t)  # (n, modes, times)
    return np.fft.irfft(evolved, m, axis=1)


class AdvectionDiffusion1D(Problem):
    r"""Advection-diffusion of a bump on a periodic interval.

    .. math::

        u_t = a\, u_{xx} - b\, u_x, \quad x \in [0, 2) \text{ periodic},\ t \in [0, 0.98],
        \qquad u(x, 0) = A \sin^2(\pi x / 2),

    with diffusion coefficient :math:`a`, advection speed :math:`b` and amplitude :math:`A`.
    The exact solution is
    :math:`u = \tfrac{A}{2}\big(1 - e^{-a \pi^2 t} \cos(\pi (x - b t))\big)`: the bump
    spreads out and drifts to the right. The exact-constraint transform is
    :math:`u = u_0(x) + t N(x, t)`.

    **Family** (parameter family, for physics-integrated generative models after Takeishi &
    Kalousis, NeurIPS 2021): each sample draws :math:`a \sim U[a_\min, a_\max]`,
    :math:`b \sim U[b_\min, b_\max]` and :math:`A \sim U[A_\min, A_\max]` (defaults
    :math:`[0.01, 0.1]`, :math:`[0.01, 0.1]`, :math:`[0.5, 1.5]`, the ranges of the paper's
    ``data/advdif/makedata.sh``) and observes :math:`u` on ``resolution`` points
    ``2 j / resolution`` (20 by default: spacing 0.1, as in the paper) at 50 times
    :math:`0, 0.02, \dots, 0.98`, plus Gaussian noise of standard deviation ``noise``.
    Samples are solved exactly, by Fourier propagation of the initial condition.

    The paper's generator differs in two ways: it keeps :math:`u = 0` just outside the 20
    points (a Dirichlet problem, semi-discretised by central differences) with the initial
    condition :math:`A \sin(\pi x / 1.9)` on :math:`[0, 1.9]`; here the domain is periodic and
    the bump is smooth and periodic, so that the data are the exact solution of the PDE.
    """

    name = param.String(
        "advection_diffusion1d", constant=True, doc="Registry name of this problem."
    )
    dims = ("x", "t")
    domain = {"x": (0.0, LENGTH), "t": (0.0, FINAL_TIME)}
    derivatives = {"x": 2, "t": 1}
    grid_size = {"x": 201, "t": 99}
    constrained = ("initial",)

    a = param.Number(0.1, bounds=(1e-3, 1.0), doc="Diffusion coefficient a.")
    b = param.Number(1.0, bounds=(-5.0, 5.0), doc="Advection speed b.")
    amplitude = param.Number(1.0, bounds=(0.01, 10.0), doc="Amplitude A of the initial bump.")

    a_min = param.Number(0.01, bounds=(1e-3, 1.0), doc="Family: smallest diffusion coefficient.")
    a_max = param.Number(0.1, bounds=(1e-3, 1.0), doc="Family: largest diffusion coefficient.")
    b_min = param.Number(0.01, bounds=(-5.0, 5.0), doc="Family: smallest advection speed.")
    b_max = param.Number(0.1, bounds=(-5.0, 5.0), doc="Family: largest advection speed.")
    amplitude_min = param.Number(
        0.5, bounds=(0.01, 10.0), doc="Family: smallest amplitude A of the initial bump."
    )
    amplitude_max = param.Number(
        1.5, bounds=(0.01, 10.0), doc="Family: largest amplitude A of the initial bump."
    )
    noise = param.Number(
        0.0,
        bounds=(0.0, 1.0),
        doc="Family: standard deviation of the Gaussian noise added to the observed u.",
    )

    family_parameters = ("a", "b", "amplitude")
    family_dims = ("x", "t")
    family_periodic = (True, False)
    family_resolution = 20
    family_points = {"t": TIME_POINTS}
    family_attrs = {
        "a": {"long_name": "diffusion coefficient a", "units": "1"},
        "b": {"long_name": "advection speed b", "units": "1"},
        "amplitude": {"long_name": "initial amplitude A", "units": "1"},
        "u": {"long_name": "concentration u", "units": "1"},
    }
    family_chunk = 512

    def residual(self, coords, u):
        return u.d("t") - self.a * u.dd("x") + self.b * u.d("x")

    def conditions(self):
        return [
            PeriodicCondition("periodic", "x", self.domain, self.dims),
            ValueCondition(
                "initial",
                ({"x": (0.0, LENGTH), "t": 0.0},),
                self.dims,
                lambda c: _initial(c["x"], self.amplitude),
            ),
        ]

    def solve_reference(self, grid):
        x, t = np.meshgrid(grid["x"], grid["t"], indexing="ij")
        return _exact(x, t, self.a, self.b, self.amplitude)

    def constrain(self, coords, net):
        x, t = coords["x"], coords["t"]
        u0 = 0.5 * self.amplitude * (1.0 - (2.0 * np.pi / LENGTH * x).cos())
        return u0 + t * net

    # --- family ---------------------------------------------------------------------------
    def family_simulate(self, parameters, resolution):
        a, b, amplitude = self.family_parameter_arrays(parameters)
        grid = self.family_grid(resolution)
        u0 = _initial(grid["x"][None, :], amplitude[:, None])
        return _propagate(u0, a, b, grid["t"])

    def family_observe(self, u, rng):
        if not self.noise:
            return u
        return u + self.noise * rng.standard_normal(u.shape)

    def family_provenance(self, resolution):
        return {
            "equation": f"u_t = a u_xx - b u_x on [0, {LENGTH:g}) periodic, "
            f"u(x, 0) = amplitude sin^2(pi x / {LENGTH:g}), t in [0, {FINAL_TIME:g}]",
            "parameter_distribution": "a, b, amplitude independent and uniform on "
            "[a_min, a_max], [b_min, b_max], [amplitude_min, amplitude_max]",
            "observation": "u + noise * N(0, 1), independent per sample, point and time",
            "solver": "exact Fourier propagation of the initial condition",
        }
