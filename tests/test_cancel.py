"""Cooperative cancellation: train(checkpoint=) stops data generation, evaluations and the
LiveTraining worker within a fraction of a second, and leaves no half-written cache."""

from __future__ import annotations

import threading
import time

import pytest

from workbench.app.live import LiveTraining
from workbench.methods import METHODS
from workbench.problems import PROBLEMS, dataset_cache
from workbench.train import Stopped, train


@pytest.fixture
def fresh_data(tmp_path, monkeypatch):
    """An empty dataset cache (disk and memory): generation must really happen."""
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    monkeypatch.setattr(dataset_cache, "MEMORY_CACHE", type(dataset_cache.MEMORY_CACHE)())
    return tmp_path


def test_a_checkpoint_stops_data_generation_at_once_and_nothing_is_cached(fresh_data):
    problem, method = PROBLEMS["darcy2d"](), METHODS["fno"](n_train=2000)
    stop, seen = threading.Event(), []

    def checkpoint(record):
        seen.append(record)
        if stop.is_set():
            raise Stopped

    records = train(problem, method, steps=10, checkpoint=checkpoint)
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    start = time.perf_counter()
    (final,) = list(records)
    latency = time.perf_counter() - start - 1.0
    assert latency < 1.0, f"stopped {latency:.2f} s after the flag"
    assert final.done and final.run is None and "nothing was trained" in final.message
    data = [r for r in seen if r.phase == "data" and r.fraction is not None]
    assert data and 0 < data[-1].fraction < 1
    assert data[-1].message.startswith("generating darcy2d data ")
    assert "/2100, ETA " in data[-1].message
    assert list(fresh_data.iterdir()) == []  # neither a dataset nor a temporary file


def slow_sampling_generator():
    """A tiny flow-matching model whose evaluations sample for long (5000 sampler steps), so
    a stop can land inside one."""
    return METHODS["flow_matching"](
        resolution=16,
        n_train=16,
        n_test=4,
        batch_size=4,
        n_samples=4,
        posterior_samples=2,
        sample_steps=5000,
        guided_steps=2,
        width=4,
        levels=1,
    )


def test_a_checkpoint_stops_a_generators_evaluation_and_keeps_the_trained_state(fresh_data):
    # Long sampling (many sampler steps) in the step-0 evaluation: the stop lands inside it.
    method = slow_sampling_generator()
    stop, phases = threading.Event(), set()

    def checkpoint(record):
        phases.add(record.phase)
        if stop.is_set() and record.phase != "finish":
            raise Stopped
        if record.phase == "eval":
            stop.set()  # inside the first evaluation: stop there

    records = train(PROBLEMS["darcy2d"](), method, steps=1000, checkpoint=checkpoint)
    final = next(records)
    assert final.done and final.run.status == "stopped"
    assert final.message == "stopped by the user at step 0"
    assert {"data", "eval", "finish"} <= phases


def test_live_training_stops_and_pauses_during_data_generation(fresh_data):
    live = LiveTraining()
    live.start(PROBLEMS["darcy2d"](), METHODS["fno"](n_train=2000), steps=10)
    deadline = time.monotonic() + 30
    while live.work is None or live.work[1] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert live.work[0].startswith("generating darcy2d data ")

    live.pause()  # holds the generation
    time.sleep(0.6)
    held = live.work
    time.sleep(0.6)
    assert live.work == held and live.active
    live.resume()
    while live.work == held:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    start = time.perf_counter()
    live.stop()
    assert live.wait(5)
    latency = time.perf_counter() - start
    assert latency < 1.0, f"Stop took {latency:.2f} s"
    assert live.state == "stopped" and live.run is None
    assert "nothing was trained" in live.message
    assert list(fresh_data.iterdir()) == []


def test_reset_discards_the_final_evaluation():
    method = slow_sampling_generator()
    released = threading.Event()
    live = LiveTraining(on_finish=released.set)
    live.start(PROBLEMS["darcy2d"](), method, steps=100_000)
    deadline = time.monotonic() + 60
    while live.step_count < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    live.stop()  # the final evaluation (5000 sampler steps) begins...
    time.sleep(0.3)
    start = time.perf_counter()
    live.reset()  # ...and is abandoned
    assert released.wait(2) and time.perf_counter() - start < 1.0
    assert live.state == "idle" and live.run is None
