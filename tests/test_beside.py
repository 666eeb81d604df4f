"""Work beside the run on a second process (sitefinder/programme/beside.py): the same answer.

The programme of a ranking run is worked out on a forked child while the ranking and the plan
are chosen; every published byte must be the same as a run that works it out here.
"""

from __future__ import annotations

import errno
import os
import signal
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import real_data_folder

import sitefinder.pipeline as pipeline
from sitefinder.config import load_scenario, with_settings
from sitefinder.programme.beside import beside, can_fork
from sitefinder.report import to_json
from sitefinder.resources import bundled_root, default_scenario_path

forking = pytest.mark.skipif(not can_fork(), reason="no second process here (fork, 2 CPUs)")


def _work(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=1000)
    return {"pid": os.getpid(), "sum": float(values.sum()), "sorted": np.sort(values)}


@forking
def test_a_task_forked_gives_the_answer_it_gives_here_and_runs_on_another_process():
    with beside(lambda: _work(7)) as pending:
        assert pending.forked
        there = pending.result()
        assert pending.result() is there  # read once
    here = _work(7)
    assert there["pid"] != os.getpid()
    assert there["sum"] == here["sum"]
    assert np.array_equal(there["sorted"], here["sorted"])


def test_asked_not_to_fork_it_runs_here_when_read():
    calls = []

    def task() -> int:
        calls.append(os.getpid())
        return 3

    with beside(task, fork=False) as pending:
        assert not pending.forked
        assert calls == []  # not before its answer is asked for
        assert pending.result() == 3
    assert calls == [os.getpid()]


@forking
def test_a_task_that_fails_on_the_child_raises_here_as_a_serial_run_would():
    def task() -> int:
        raise ValueError("selection: more bases asked than candidates")

    with (
        beside(task) as pending,
        pytest.raises(ValueError, match="more bases asked than candidates"),
    ):
        pending.result()


@forking
def test_a_child_killed_before_it_answers_leaves_the_task_to_run_here():
    parent = os.getpid()

    def task() -> int:
        if os.getpid() != parent:  # the child dies as if out of memory
            os.kill(os.getpid(), signal.SIGKILL)
        return 11

    with beside(task) as pending:
        assert pending.forked
        assert pending.result() == 11


@forking
def test_a_fork_the_system_refuses_leaves_the_task_to_run_here(monkeypatch):
    def refused() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    with beside(lambda: os.getpid()) as pending:
        assert not pending.forked
        assert pending.result() == os.getpid()


@forking
def test_warnings_raised_on_the_child_are_raised_here():
    def task() -> int:
        warnings.warn("a warning from the programme", UserWarning, stacklevel=1)
        return 1

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with beside(task) as pending:
            assert pending.result() == 1
    assert [str(w.message) for w in seen] == ["a warning from the programme"]
    assert seen[0].category is UserWarning


@forking
def test_a_child_whose_answer_is_not_read_is_stopped_on_leaving():
    with beside(lambda: __import__("time").sleep(60)) as pending:
        pid = pending._pid
        assert pid is not None
    with pytest.raises(ChildProcessError):  # stopped and reaped: no child of that id left
        os.waitpid(pid, os.WNOHANG)


@forking
def test_ctrl_c_in_the_run_stops_the_child():
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt), beside(lambda: __import__("time").sleep(60)) as pending:
        assert pending._pid is not None
        pids.append(pending._pid)
        raise KeyboardInterrupt
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)


@contextmanager
def _spy(monkeypatch: pytest.MonkeyPatch, forked: list[bool]):
    real = pipeline.beside

    @contextmanager
    def spy(task, *, fork=True):
        with real(task, fork=fork) as pending:
            forked.append(pending.forked)
            yield pending

    monkeypatch.setattr(pipeline, "beside", spy)
    yield


def _both_ways(scenario, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    forked: list[bool] = []
    with _spy(monkeypatch, forked):
        beside_ = to_json(pipeline.rank(scenario), top=scenario.top)
        serial = to_json(pipeline.rank(scenario, overlap=False), top=scenario.top)
    assert forked == [can_fork(), False]
    return beside_, serial


def test_the_demo_s_programme_worked_out_beside_the_plan_publishes_the_same_bytes(monkeypatch):
    scenario = with_settings(
        load_scenario(default_scenario_path()),
        {"programme.years": [2026, 2027], "programme.growth": 0.1, "programme.bases": 1},
    )
    beside_, serial = _both_ways(scenario, monkeypatch)
    assert '"programme_years"' in serial and '"year": 2027' in serial
    assert beside_ == serial


def test_rutland_s_programme_worked_out_beside_the_plan_publishes_the_same_bytes(monkeypatch):
    real_data_folder()
    scenario = load_scenario(Path(bundled_root()) / "configs" / "examples" / "rutland.toml")
    beside_, serial = _both_ways(scenario, monkeypatch)
    assert beside_ == serial
