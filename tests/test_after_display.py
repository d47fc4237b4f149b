"""Deferred redraws (equity curve, trades table, trade charts) run right after the window shows an update, at
most once per gap, and by their timer when no display comes (``panels.after_display``). A real Qt timer and
event loop; the gap is long enough (400 ms) that the waits below cannot reach it by accident."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from panels.after_display import AfterDisplay

GAP_MS = 400


def _job() -> tuple[AfterDisplay, list[int]]:
    runs: list[int] = []
    timer = QTimer(interval=GAP_MS)
    timer.timeout.connect(lambda: runs.append(len(runs) + 1))
    return AfterDisplay(timer), runs


def test_requested_work_runs_right_after_the_next_display(qtbot) -> None:  # type: ignore[no-untyped-def]
    after, runs = _job()
    after.displayed()  # nothing asked for: nothing runs
    qtbot.wait(50)
    assert runs == []
    after.request()
    qtbot.wait(50)
    assert runs == [] and after.pending()  # waits for a display (or the gap)
    after.displayed()
    qtbot.waitUntil(lambda: runs == [1], timeout=GAP_MS // 2)  # the next turn of the event loop, not the gap
    assert not after.pending()


def test_within_the_gap_a_display_does_not_run_it_again_but_the_timer_does(qtbot) -> None:  # type: ignore[no-untyped-def]
    after, runs = _job()
    after.request()
    after.displayed()
    qtbot.waitUntil(lambda: runs == [1], timeout=GAP_MS // 2)
    after.request()
    after.displayed()  # less than a gap since the last run: the display does not run it
    qtbot.wait(GAP_MS // 4)
    assert runs == [1] and after.pending()
    qtbot.waitUntil(lambda: runs == [1, 2], timeout=3 * GAP_MS)  # the quiet window: the timer runs it


def test_cancel_forgets_the_request(qtbot) -> None:  # type: ignore[no-untyped-def]
    after, runs = _job()
    after.request()
    after.cancel()
    after.displayed()
    qtbot.wait(GAP_MS + 200)
    assert runs == []
