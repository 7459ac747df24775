"""The notebooks' size switch (``WORKBENCH_SIZE``) and its errors."""

import pytest

from workbench.lessons import SIZES, by_size, lesson_size


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.delenv("WORKBENCH_SIZE", raising=False)
    monkeypatch.delenv("WORKBENCH_SMALL", raising=False)


def test_lecture_is_the_default():
    assert lesson_size() == "lecture"
    assert by_size(smoke=1, lecture=2, full=3) == 2


@pytest.mark.parametrize("size", SIZES)
def test_size_from_the_environment(monkeypatch, size):
    monkeypatch.setenv("WORKBENCH_SIZE", f" {size.upper()} ")
    assert lesson_size() == size
    assert by_size(smoke="s", lecture="l", full="f") == size[0]


def test_old_small_switch_means_smoke(monkeypatch):
    monkeypatch.setenv("WORKBENCH_SMALL", "1")
    assert lesson_size() == "smoke"
    monkeypatch.setenv("WORKBENCH_SIZE", "full")  # the new switch wins
    assert lesson_size() == "full"


def test_unknown_size_names_the_choices(monkeypatch):
    monkeypatch.setenv("WORKBENCH_SIZE", "huge")
    with pytest.raises(ValueError, match="WORKBENCH_SIZE='huge'.*smoke, lecture, full"):
        lesson_size()
    with pytest.raises(ValueError, match="size 'tiny'"):
        by_size(smoke=1, lecture=2, full=3, size="tiny")
