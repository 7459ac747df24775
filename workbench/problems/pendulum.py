"""Damped pendulum, the ODE benchmark of physics-integrated VAEs (Takeishi & Kalousis 2021)."""

from __future__ import annotations

import math

import numpy as np
import param
import torch

from workbench.problems.base import Problem
from workbench.problems.conditions import DerivativeCondition, ValueCondition

#: Final time: 50 samples 0.05 apart, the trajectories of the Phys-VAE paper.
FINAL_TIME = 2.45
#: Largest ``rate * h`` of the family's RK4 steps, with ``rate`` the largest of the angular
#: frequency and the damping rate. The global error of RK4 is ~(rate h)^4 per unit of
#: ``rate * t``: measured at 2e-9 (max norm, radians) against solve_ivp at rtol 1e-12 for
#: omega = 3.14 over [0, 2.45], well inside the 1e-6 the tests ask for.
RATE_STEP = 0.02


def _rk4(theta0, omega, gamma, t_out, rate):
    """Fixed-step classical RK4 of all samples at once, recording the angle at ``t_out``
    (evenly spaced from 0): every output interval is split into the same number of steps,
    so output times are hit exactly."""
    theta = np.array(theta0, dtype=np.float64)
    velocity = np.zeros_like(theta)
    out = np.empty((len(theta), len(t_out)))
    out[:, 0] = theta
    if len(t_out) == 1:
        return out
    dt_out = t_out[1] - t_out[0]
    substeps = max(1, math.ceil(dt_out * rate / RATE_STEP))
    h = dt_out / substeps
    w2 = omega * omega

    def accel(th, v):
        return -w2 * np.sin(th) - gamma * v

    for j in range(1, len(t_out)):
        for _ in range(substeps):
            k1t, k1v = velocity, accel(theta, velocity)
            v2 = velocity + 0.5 * h * k1v
            k2t, k2v = v2, accel(theta + 0.5 * h * k1t, v2)
            v3 = velocity + 0.5 * h * k2v
            k3t, k3v = v3, accel(theta + 0.5 * h * k2t, v3)
            v4 = velocity + h * k3v
            k4t, k4v = v4, accel(theta + h * k3t, v4)
            theta = theta + h / 6.0 * (k1t + 2 * k2t + 2 * k3t + k4t)
            velocity = velocity + h / 6.0 * (k1v + 2 * k2v + 2 * k3v + k4v)
        out[:, j] = theta
    return out


class Pendulum(Problem):
    r"""Damped nonlinear pendulum released from rest.

    .. math::

        \theta''(t) + \gamma\, \theta'(t) + \omega^2 \sin\theta(t) = 0,
        \quad t \in [0, 2.45], \qquad \theta(0) = \theta_0, \quad \theta'(0) = 0,

    with the angle :math:`\theta` as the field ``u``. Without damping the energy
    :math:`E = \tfrac12 \theta'^2 + \omega^2 (1 - \cos\theta)` is conserved; with
    :math:`\gamma > 0` it decays, :math:`E' = -\gamma \theta'^2`. The reference is
    ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10, atol 1e-12). The exact-constraint
    transform is :math:`\theta = \theta_0 + t^2 N(t)`, which satisfies both initial conditions.

    **Family** (parameter family, for physics-integrated generative models after Takeishi &
    Kalousis, "Physics-integrated variational autoencoders for robust and interpretable
    generative modeling", NeurIPS 2021): each sample draws

    .. math::

        \omega \sim U[\omega_\min, \omega_\max], \quad
        \gamma \sim U[\gamma_\min, \gamma_\max], \quad
        \theta_0 \sim U[\theta_{0,\min}, \theta_{0,\max}]

    (defaults :math:`[0.785, 3.14]`, :math:`[0, 0.8]`, :math:`[-1.57, 1.57]`, the ranges of
    the paper's ``data/pendulum/makedata.sh``; the paper's data also has a periodic forcing,
    left out here) and observes :math:`\theta` at ``resolution`` times evenly spaced on
    :math:`[0, 2.45]` (50 by default: steps of 0.05, as in the paper), plus Gaussian noise of
    standard deviation ``noise``. Trajectories are integrated by fixed-step RK4 (all samples
    of a chunk at once), with steps of at most ``0.02 / max(omega_max, gamma_max)``; 2000
    samples take ~0.1 s. Out-of-distribution data: the same problem with other ranges (they
    are Parameters, so they are part of the dataset's cache key).
    """

    name = param.String("pendulum", constant=True, doc="Registry name of this problem.")
    dims = ("t",)
    domain = {"t": (0.0, FINAL_TIME)}
    derivatives = {"t": 2}
    grid_size = {"t": 246}  # steps of 0.01
    constrained = ("initial", "velocity")

    omega = param.Number(2.0, bounds=(0.1, 10.0), doc="Angular frequency omega (sqrt(g / l)).")
    gamma = param.Number(0.2, bounds=(0.0, 5.0), doc="Damping rate gamma.")
    theta0 = param.Number(1.0, bounds=(-3.0, 3.0), doc="Initial angle theta0 (radians).")

    omega_min = param.Number(
        0.785, bounds=(0.1, 10.0), doc="Family: smallest angular frequency omega drawn."
    )
    omega_max = param.Number(
        3.14, bounds=(0.1, 10.0), doc="Family: largest angular frequency omega drawn."
    )
    gamma_min = param.Number(0.0, bounds=(0.0, 5.0), doc="Family: smallest damping rate drawn.")
    gamma_max = param.Number(0.8, bounds=(0.0, 5.0), doc="Family: largest damping rate drawn.")
    theta0_min = param.Number(
        -1.57, bounds=(-3.0, 3.0), doc="Family: smallest initial angle theta0 drawn (radians)."
    )
    theta0_max = param.Number(
        1.57, bounds=(-3.0, 3.0), doc="Family: largest initial angle theta0 drawn (radians)."
    )
    noise = param.Number(
        0.0,
        bounds=(0.0, 1.0),
        doc="Family: standard deviation of the Gaussian noise added to the observed angle.",
    )

    family_parameters = ("omega", "gamma", "theta0")
    family_dims = ("t",)
    family_periodic = (False,)
    family_resolution = 50
    family_attrs = {
        "omega": {"long_name": "angular frequency omega", "units": "1"},
        "gamma": {"long_name": "damping rate gamma", "units": "1"},
        "theta0": {"long_name": "initial angle theta0", "units": "rad"},
        "u": {"long_name": "angle theta", "units": "rad"},
    }
    # Every RK4 stage is a handful of vector operations: long vectors amortise numpy's
    # per-call overhead.
    family_chunk = 1024

    def residual(self, coords, u):
        return u.dd("t") + self.gamma * u.d("t") + self.omega**2 * torch.sin(u.value)

    def conditions(self):
        start = ({"t": 0.0},)
        return [
            ValueCondition(
                "initial", start, self.dims, lambda c: torch.full_like(c["t"], self.theta0)
            ),
            DerivativeCondition(
                "velocity", start, self.dims, "t", lambda c: torch.zeros_like(c["t"])
            ),
        ]

    def solve_reference(self, grid):
        # Imported here: scipy.integrate (with scipy.optimize) costs ~0.1 s at `import
        # workbench`, and only this reference needs it.
        from scipy.integrate import solve_ivp

        t = grid["t"]
        w2, gamma = self.omega**2, self.gamma
        sol = solve_ivp(
            lambda _, s: [s[1], -w2 * np.sin(s[0]) - gamma * s[1]],
            (t[0], t[-1]),
            [self.theta0, 0.0],
            method="DOP853",
            t_eval=t,
            rtol=1e-10,
            atol=1e-12,
        )
        return sol.y[0]

    def constrain(self, coords, net):
        t = coords["t"]
        return t * t * net + self.theta0

    # --- family ---------------------------------------------------------------------------
    def family_simulate(self, parameters, resolution):
        omega, gamma, theta0 = self.family_parameter_arrays(parameters)
        # The step follows the problem's ranges (not the chunk's largest draw), so a sample
        # comes out the same whichever chunk it is simulated in.
        rate = max(self.omega_max, self.gamma_max, omega.max(initial=0.0), gamma.max(initial=0.0))
        return _rk4(theta0, omega, gamma, self.family_grid(resolution)["t"], rate)

    #: The physics a Phys-VAE knows: the frictionless pendulum (Takeishi & Kalousis 2021).
    physics_latents = ("omega",)

    def physics_model(self, latents, condition, correction=None):
        r"""The frictionless pendulum :math:`\theta'' = -\omega^2 \sin\theta` (+ ``correction``
        of the acceleration, given the state :math:`(\theta, \theta')`), from the observed
        initial angle ``condition[:, 0]`` at rest, by one RK4 step per grid interval (omega h
        <= 0.16 on the default grid: about 2e-5 from the exact solution, below the data's
        noise, and half the cost of two steps in training, where it runs at every step)."""
        t = self.family_grid(condition.shape[-1])["t"]
        theta = condition[:, 0]
        velocity = torch.zeros_like(theta)
        w2 = latents[:, 0].pow(2)

        def acceleration(th, v, time):
            a = -w2 * torch.sin(th)
            if correction is not None:
                a = a + correction(torch.stack([th, v], dim=1), time)
            return a

        out = [theta]
        for j in range(1, len(t)):
            h, time = float(t[j] - t[j - 1]), float(t[j - 1])
            k1t, k1v = velocity, acceleration(theta, velocity, time)
            v2 = velocity + 0.5 * h * k1v
            k2t, k2v = v2, acceleration(theta + 0.5 * h * k1t, v2, time + h / 2)
            v3 = velocity + 0.5 * h * k2v
            k3t, k3v = v3, acceleration(theta + 0.5 * h * k2t, v3, time + h / 2)
            v4 = velocity + h * k3v
            k4t, k4v = v4, acceleration(theta + h * k3t, v4, time + h)
            theta = theta + h / 6 * (k1t + 2 * k2t + 2 * k3t + k4t)
            velocity = velocity + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
            out.append(theta)
        return torch.stack(out, dim=1)

    def family_observe(self, u, rng):
        if not self.noise:
            return u
        return u + self.noise * rng.standard_normal(u.shape)

    def family_provenance(self, resolution):
        return {
            "equation": "theta'' + gamma theta' + omega^2 sin(theta) = 0, theta(0) = theta0, "
            f"theta'(0) = 0, t in [0, {FINAL_TIME:g}]",
            "parameter_distribution": "omega, gamma, theta0 independent and uniform on "
            "[omega_min, omega_max], [gamma_min, gamma_max], [theta0_min, theta0_max]",
            "observation": "u = theta + noise * N(0, 1), independent per sample and time",
            "solver": "classical RK4, all samples at once, step <= "
            f"{RATE_STEP:g} / max(omega_max, gamma_max)",
        }
