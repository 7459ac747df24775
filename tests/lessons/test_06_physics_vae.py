"""The lesson of notebooks/06_physics_vae.py at lecture size: the Phys-VAE's omega latent
correlates with the true omega (|corr| >= 0.9), and it reconstructs trajectories with omega
beyond the training range better than the plain VAE."""

NOTEBOOK = "06_physics_vae"


def test_lesson(lesson):
    values = lesson(NOTEBOOK)  # the LESSON dict the notebook computed
    assert values["phys_vae |corr(omega latent, omega)|"] >= 0.9, values
    assert values["phys_vae out-of-range l2re"] < values["vae out-of-range l2re"], values
