"""The job lanes: ordered yields, one terminal signal, cancel, supersede, failures, clean shutdown."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import CancelToken, InputError
from app.ui.errors import ErrorPresenter
from app.ui.responsiveness import StallProbe
from app.ui.workers import JobLane, JobState


@pytest.fixture
def lane() -> Iterator[JobLane]:
    lane = JobLane("test")
    yield lane
    lane.shutdown()


def test_generator_items_arrive_in_order_then_result(qtbot: QtBot, lane: JobLane) -> None:
    threads: set[str] = set()

    def work(token: CancelToken) -> Generator[int, None, int]:
        threads.add(threading.current_thread().name)
        yield from range(5)
        return 42

    job = lane.submit(work, "count")
    got: list[int] = []
    job.yielded.connect(got.append)
    with qtbot.waitSignal(job.finished) as blocker:
        pass
    assert got == [0, 1, 2, 3, 4] and blocker.args == [42]
    assert job.state == JobState.FINISHED
    assert threading.current_thread().name not in threads


def test_cancel_stops_between_items_and_drops_the_rest(qtbot: QtBot, lane: JobLane) -> None:
    release = threading.Event()

    def work(token: CancelToken) -> Iterator[int]:
        yield 1
        release.wait(5)
        yield 2
        yield 3

    job = lane.submit(work, "slow")
    got: list[int] = []
    job.yielded.connect(got.append)
    qtbot.waitUntil(lambda: got == [1])
    job.cancel()
    release.set()
    with qtbot.waitSignal(job.cancelled):
        pass
    assert got == [1] and job.state == JobState.CANCELLED


def test_a_newer_job_in_the_same_slot_supersedes_the_older(qtbot: QtBot, lane: JobLane) -> None:
    release = threading.Event()

    def slow(token: CancelToken) -> str:
        release.wait(5)
        return "old patient"

    first = lane.submit(slow, "load patient", slot="patient")
    second = lane.submit(lambda token: "new patient", "load patient", slot="patient")
    old_results: list[object] = []
    first.finished.connect(old_results.append)
    release.set()
    with qtbot.waitSignal(second.finished) as blocker:
        pass
    assert blocker.args == ["new patient"]
    assert old_results == [] and first.state == JobState.CANCELLED


def test_failures_reach_the_error_presenter_without_their_text(qtbot: QtBot, lane: JobLane) -> None:
    presenter = ErrorPresenter()
    job = lane.submit(lambda token: (_ for _ in ()).throw(InputError("Empty dictation", "Record first")), "bad")
    job.failed.connect(lambda exc: presenter.present(exc, "drafting"))
    with qtbot.waitSignal(presenter.presented) as blocker:
        pass
    problem = blocker.args[0]
    assert problem.expected and problem.message == "Empty dictation" and problem.hint == "Record first"

    secret = "Mrs Jane Example, DOB 01/02/1950"
    job2 = lane.submit(lambda token: (_ for _ in ()).throw(ValueError(secret)), "bug")
    job2.failed.connect(lambda exc: presenter.present(exc, "drafting"))
    with qtbot.waitSignal(presenter.presented) as blocker:
        pass
    shown = blocker.args[0]
    assert not shown.expected and "Jane" not in shown.message + shown.hint and "ValueError" in shown.message


def test_stall_probe_sees_a_blocked_gui_thread(qtbot: QtBot) -> None:
    probe = StallProbe()
    probe.start()
    qtbot.waitUntil(lambda: probe.report().ticks >= 2)
    threading.Event().wait(0.12)  # deliberately block the GUI thread for 120 ms
    qtbot.waitUntil(lambda: probe.report().ticks >= 4)
    report = probe.stop()
    assert report.ticks >= 3 and report.max_ms >= 80


def test_a_burst_of_items_costs_one_wake_up_and_keeps_its_order(qtbot: QtBot, lane: JobLane) -> None:
    produced = threading.Event()

    def work(token: CancelToken) -> Generator[int, None, str]:
        yield from range(50)
        produced.set()
        return "done"

    got: list[int] = []
    events: list[str] = []
    job = lane.submit(work, "tokens")
    job.yielded.connect(got.append)
    job.finished.connect(lambda _v: events.append(f"finished after {len(got)}"))
    assert produced.wait(10)  # the GUI thread is busy meanwhile: every item waits in the mailbox
    with qtbot.waitSignal(job.ended):
        pass
    assert got == list(range(50)) and events == ["finished after 50"]
    assert lane.wakeups == 1
    assert threading.current_thread().name == "MainThread"


def test_the_stall_probe_names_the_threads_busy_during_a_stall(qtbot: QtBot) -> None:
    stop = threading.Event()

    def spin() -> None:  # pure Python: it holds the GIL in turns with the GUI thread
        while not stop.is_set():
            sum(range(1000))

    busy = threading.Thread(target=spin, name="busy-worker")
    probe = StallProbe(watch_stacks=True)
    probe.start()
    busy.start()
    try:
        qtbot.waitUntil(lambda: probe.report().ticks >= 2)
        threading.Event().wait(0.15)  # block the GUI thread: a stall with a known cause on each side
        qtbot.waitUntil(lambda: probe.report().ticks >= 4)
    finally:
        stop.set()
        busy.join(5)
    report = probe.stop()
    sites = [site for site, _count in report.stall_sites]
    assert any(site.startswith("[GUI] ") and "test_workers.py" in site for site in sites), sites
    assert any(site.startswith("[busy-worker] ") for site in sites), sites
    longest = report.longest[0]
    assert longest.stall_ms == pytest.approx(report.max_ms, abs=1.0)
    threads = {activity.thread: activity for activity in longest.threads}
    assert threads["busy-worker"].cpu_ms > 0 and "GUI" in threads
    assert "stall_sites" in report.as_dict() and "longest" in report.as_dict()


def test_an_executor_lane_gives_the_same_job_api_over_a_core_executor(qtbot: QtBot) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app.ui.executor_lane import ExecutorLane

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="core-executor")
    lane = ExecutorLane("core", pool.submit, lambda: pool.shutdown(wait=True))
    release = threading.Event()

    def reporting(token: CancelToken) -> str:
        token.emit("half way")  # type: ignore[attr-defined]
        release.wait(5)
        return threading.current_thread().name

    first = lane.submit(reporting, "report", slot="view")
    items: list[object] = []
    first.yielded.connect(items.append)
    qtbot.waitUntil(lambda: items == ["half way"])
    second = lane.submit(lambda token: "newer", "report", slot="view")  # supersedes the first
    release.set()
    with qtbot.waitSignal(second.finished) as blocker:
        pass
    assert blocker.args == ["newer"] and first.state == JobState.CANCELLED
    failing = lane.submit(lambda token: 1 / 0, "bug")
    with qtbot.waitSignal(failing.failed) as failure:
        pass
    assert isinstance(failure.args[0], ZeroDivisionError)
    assert lane.shutdown()
