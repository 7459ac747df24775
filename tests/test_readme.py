"""The README's catalog lists every registered problem, method and regularizer."""

from pathlib import Path

from workbench import METHODS, PROBLEMS, REGULARIZERS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_catalog_is_complete():
    text = README.read_text()
    for registry in (PROBLEMS, METHODS, REGULARIZERS):
        for name in registry:
            assert f"`{name}`" in text, name
