"""In a real browser: Stop acts within a second during data generation and during a
generator's training, the page shows the data generation's progress, and closing the page
discards its training and frees the server's slot within 5 s.

The helpers and Chromium fixtures are ``test_browser.py``'s (imported: a second
``conftest.py`` would shadow ``tests/conftest.py``); the server here allows one training at a
time, so a freed slot is visible from another page.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect
from test_browser import (  # noqa: F401 (pytest fixtures, found by name)
    TIMEOUT_MS,
    _open,
    _step,
    _wait_for,
    base_url,
    browser_type_launch_args,
    serving,
)

# Stop within 1 s; the shared 2-core box also runs Chromium and the tick (200 ms), so allow 2.
STOP_S = 2.0


@pytest.fixture(scope="module")
def one_slot_url(tmp_path_factory):
    """``workbench serve --max-trainings 1``, datasets cached in a fresh folder: (URL, that
    folder)."""
    tmp = tmp_path_factory.mktemp("serve-cancel")
    data = tmp / "data"
    with serving(tmp, "--max-trainings", "1", env={"WORKBENCH_DATA": str(data)}) as (url, _):
        yield url, data


def _state(page: Page) -> str:
    return page.locator(".wb-state").text_content(timeout=TIMEOUT_MS)


def _time_until_stopped(page: Page) -> float:
    start = time.monotonic()
    page.get_by_role("button", name="Stop", exact=True).click()
    while _state(page) not in ("stopping", "stopped"):
        assert time.monotonic() - start < 30, "Stop was not taken"
        time.sleep(0.05)
    return time.monotonic() - start


def test_stop_during_data_generation_shows_progress_and_acts_at_once(page: Page, one_slot_url):
    url, data = one_slot_url
    # fno on darcy2d with a fresh cache: 2100 samples to generate (over a minute).
    _open(page, url + "?problem=darcy2d&method=fno&m.n_train=2000&m.data_seed=7")
    page.get_by_role("button", name="Train", exact=True).click()
    work = page.locator(".wb-work")
    expect(work).to_contain_text("generating darcy2d data", timeout=TIMEOUT_MS)
    expect(work).to_contain_text("/2100, ETA", timeout=TIMEOUT_MS)
    first = work.text_content()
    expect(work).not_to_have_text(first, timeout=TIMEOUT_MS)  # it advances
    progress = page.locator("progress").first.get_attribute("value")
    assert progress is not None and 0 <= float(progress) < 100

    latency = _time_until_stopped(page)
    print(f"Stop during data generation: {latency:.2f} s")
    assert latency < STOP_S
    expect(page.locator(".wb-state")).to_have_text("stopped", timeout=TIMEOUT_MS)
    assert _step(page) == 0
    # A stopped generation caches nothing, not even a part.
    assert not data.exists() or list(data.iterdir()) == []


def test_stop_during_a_generators_training_acts_at_once(page: Page, one_slot_url):
    url, _ = one_slot_url
    # Slow sampling (many sampler steps) makes every live snapshot take seconds.
    query = "problem=darcy2d&method=flow_matching&t.steps=100000&m.resolution=16"
    query += "&m.n_train=16&m.n_test=4&m.batch_size=4&m.n_samples=4&m.posterior_samples=2"
    query += "&m.sample_steps=800&m.guided_steps=2&m.width=4&m.levels=1"
    _open(page, f"{url}?{query}")
    page.get_by_role("button", name="Train", exact=True).click()
    _wait_for(lambda: _step(page), lambda s: s > 1, "training steps")
    latency = _time_until_stopped(page)
    print(f"Stop during flow_matching training: {latency:.2f} s")
    assert latency < STOP_S
    stopped_at = _step(page)
    expect(page.locator(".wb-state")).to_have_text("stopped", timeout=TIMEOUT_MS)
    assert _step(page) <= stopped_at + 1  # the step in flight, at most


def test_closing_the_page_frees_its_training_slot(page: Page, new_context, one_slot_url):
    url, _ = one_slot_url
    _open(page, url + "?t.steps=1000000")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator(".wb-state")).to_have_text("training", timeout=TIMEOUT_MS)

    other = new_context().new_page()
    _open(other, url)
    page.close()
    closed = time.monotonic()
    # The one slot comes free: a Train on the other page is accepted.
    train = other.get_by_role("button", name="Train", exact=True)
    # Click only while Train is enabled: the page holds its buttons while a click is served,
    # and a click that got the slot disables Train before the status line says "training".
    while _state(other) != "training":
        assert time.monotonic() - closed < 10, "the closed page's training kept its slot"
        if train.is_enabled():
            train.click()
        other.wait_for_timeout(300)
    freed = time.monotonic() - closed
    print(f"slot free {freed:.2f} s after the page closed")
    assert freed < 5.0
    other.get_by_role("button", name="Stop", exact=True).click()
