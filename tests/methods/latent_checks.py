"""Checks shared by the tests of the generative methods (imported by their test files)."""

import numpy as np


def assert_traverse_sets_only(method, model, problem, dim: int, values, base: int):
    """``method.traverse`` decodes latents equal to test sample ``base``'s encoding except
    latent ``dim``, which takes each of ``values``; returns the traversal dataset."""
    names = method.latent_names(problem)
    seen = []
    original = model.decode

    def recording(z, u):
        seen.append(z.detach().clone())
        return original(z, u)

    model.decode = recording
    try:
        out = method.traverse(model, problem, names[dim], values, base=base)
    finally:
        del model.decode
    z = seen[-1].double().numpy()
    field = method.split(problem)["test"][method.field_name(problem)].values
    encoded, _ = method.encode(model, field[base : base + 1])
    others = [i for i in range(len(names)) if i != dim]
    np.testing.assert_allclose(z[:, dim], values)
    np.testing.assert_allclose(
        z[:, others], np.repeat(encoded[:, others], len(values), axis=0), rtol=1e-6
    )
    assert out.sizes["value"] == len(values)
    return out
