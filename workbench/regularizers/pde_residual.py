"""The physics-informed operator loss: the PDE residual of predicted fields on the grid.

PINO (Li, Zheng, Kovachki, Jin, Chen, Liu, Azizzadenesheli & Anandkumar, "Physics-Informed
Neural Operator for Learning Partial Differential Equations", 2021) adds to an operator's data
loss the residual of the equation, evaluated on the output grid by finite differences. It needs
only input functions, not solutions, so it keeps teaching the operator where labels are few.
"""

from __future__ import annotations

import param
import torch
from torch.func import functional_call

from workbench.numerics.finite_differences import inverse_laplacian
from workbench.regularizers.base import Regularizer


class PDEResidual(Regularizer):
    r"""The grid residual of an operator's predictions (PINO's physics loss).

    With ``norm="l2"`` it is PINO's mean square,

    .. math:: R = \frac{1}{B} \sum_{b=1}^{B} \frac{1}{|G|} \sum_{g \in G}
        r_g\big(a_b, \mathcal{G}_\theta(a_b)\big)^2,

    where :math:`r` is the problem's finite-difference residual on the grid :math:`G`
    (``problem.grid_residual``: the PDE at interior nodes, the boundary condition at boundary
    nodes, in the same units) and the batch holds every training input, labelled or not.

    The default ``norm="relative_h-1"`` measures the residual through the inverse grid
    Laplacian :math:`L^{-1}` (:func:`~workbench.numerics.finite_differences.inverse_laplacian`)
    relative to the forcing :math:`f_b` (the residual of :math:`u = 0`),

    .. math:: R = \frac{1}{B} \sum_{b} \frac{\lVert L^{-1} r_b \rVert}{\lVert L^{-1} f_b \rVert},

    an estimate of the relative error to the grid's own discrete solution. A plain mean square
    weighs an error by :math:`1/h^2` per grid frequency, so on a 32 x 32 Darcy grid one percent
    of grid-scale noise costs ten times the residual of the true solution itself, and the
    term drowns the data term; the relative form sits on the data term's scale.
    Use it with an operator method (``fno``, ``deeponet``, ``multionet``) and a family that has
    a grid residual (``darcy2d``, ``poisson2d``); with ``labels=0`` it is the only teacher.
    """

    title = "PDE residual on the grid (PINO)"
    name = param.String("pde_residual", constant=True, doc="Registry name of this regularizer.")
    weight = param.Number(
        3.0,
        bounds=(0.0, None),
        doc="Multiplier of the term (3: best of 0.3, 1, 3, 10 for an FNO on darcy2d with 100 of "
        "1000 samples labelled).",
    )
    norm = param.Selector(
        objects=["relative_h-1", "l2"],
        default="relative_h-1",
        doc="How the residual field becomes a number: 'relative_h-1' maps it through the "
        "inverse grid Laplacian and divides by the same for the forcing (a relative error in "
        "u's units, like the data term); 'l2' is PINO's plain mean square.",
    )

    def unsuitable(self, problem, method) -> str | None:
        from workbench.methods.operators.base import Operator

        if not isinstance(method, Operator):
            return (
                f"regularizer 'pde_residual' needs an operator method (fno, deeponet, "
                f"multionet), got {method.name!r}; PINN-family methods have the residual "
                "in their own loss"
            )
        if not problem.family_has_residual:
            return (
                f"regularizer 'pde_residual': problem {problem.name!r} has no grid residual "
                "for its family"
            )
        return None

    def terms(self, model, problem, batch, params, objective):
        inputs = batch["input"]
        u = functional_call(model, params, (inputs,))
        residual = problem.grid_residual(inputs, u)
        if self.norm == "l2":
            return {"pde_residual": residual.pow(2).mean()}
        # The residual of u = 0 is the forcing: the scale a solution's residual is measured in.
        forcing = problem.grid_residual(inputs, torch.zeros_like(u))
        dims = tuple(range(1, residual.ndim))
        size = inverse_laplacian(residual).pow(2).sum(dims).sqrt()
        scale = inverse_laplacian(forcing).pow(2).sum(dims).sqrt().clamp_min(1e-30)
        return {"pde_residual": (size / scale).mean()}
