"""The README's catalog lists every registered problem, method, regularizer, combiner and
sampler."""

from pathlib import Path

from workbench import COMBINERS, METHODS, PROBLEMS, REGULARIZERS
from workbench.sampling import SAMPLERS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_catalog_is_complete():
    text = README.read_text()
    for registry in (PROBLEMS, METHODS, REGULARIZERS, COMBINERS, SAMPLERS):
        for name in registry:
            assert f"`{name}`" in text, name
