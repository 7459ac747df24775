"""The latent-model family: variational autoencoders of a family's fields.

* :class:`VAE`: a plain VAE of the solution fields;
* :class:`PhysVAE`: a physics-integrated VAE whose latent holds the PDE's coefficients;
* :class:`VANO`: a variational autoencoding neural operator.

The ELBO, traversals, samples and latent diagnostics are shared: see :class:`LatentModel`.
"""

from workbench.methods.latent.base import LatentModel, gaussian_kl
from workbench.methods.latent.phys_vae import PhysVAE, PhysVAEModel
from workbench.methods.latent.vae import VAE, VAEModel
from workbench.methods.latent.vano import VANO, VANOModel

__all__ = [
    "LatentModel",
    "gaussian_kl",
    "PhysVAE",
    "PhysVAEModel",
    "VAE",
    "VAEModel",
    "VANO",
    "VANOModel",
]
