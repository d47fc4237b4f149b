"""Details a trader reads: the feed whole and kept across a restart, Ctrl+Shift+Tab as X11 delivers it, points
never finer than the tick shows, signed run-up/drawdown, a zero that is not red, the CSV dialog's folder."""

from __future__ import annotations

import ctypes.util
import os
import shutil
import socket
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QKeyEvent, QTextDocumentFragment
from PySide6.QtWidgets import QApplication, QFileDialog

from core.feed_history import restored_notes
from core.instruments import InstrumentBook
from core.tradingday import Period
from panels import format as fmt
from panels import panel3 as panel3_module
from panels.panel3 import _signed
from tests.test_panels import FROZEN, Clock, fill, make_state, make_window


def test_the_feed_survives_a_restart_and_reads_whole(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    first = make_state(tmp_path, clock)
    first.apply_fill(fill(1, "1", "6852.125", FROZEN - timedelta(days=1), account="Sim1"))
    first.apply_fill(fill(2, "1", "6852.375", FROZEN - timedelta(days=1, seconds=-5), account="Sim1"))
    first.apply_fill(fill(3, "-2", "21000.25", FROZEN, account="120005", symbol="MNQZ25"))
    # the next run: a new StateManager over the same database
    state = make_state(tmp_path, clock)
    state.recover()
    tick_for = InstrumentBook({}).lookup
    state.restore_notifications(restored_notes(state._store, lambda s: tick_for(s).tick_size))
    window = make_window(state, clock, qtbot)
    lines = window.feed.lines()
    assert [line.split("  ", 1)[1] for line in lines] == [  # at the times they were stored, newest first
        "LIVE 120005 · OPENED · SHORT 2 MNQZ25 @ 21,000.25",
        "SIM Sim1 · INCREASED · LONG 2 MESZ25 @ 6,852.25",
        "SIM Sim1 · OPENED · LONG 1 MESZ25 @ 6,852.125",
    ]
    # new entries come on top of the restored ones
    state.apply_fill(fill(4, "1", "21001", FROZEN + timedelta(seconds=1), account="120005", symbol="MNQZ25"))
    assert window.feed.lines()[0].endswith("LIVE 120005 · DECREASED · SHORT 1 MNQZ25 @ 21,000.25")
    assert len(window.feed.lines()) == 4
    # every line can be read whole: tooltip, and a double-click shows whole wrapped entries
    item = window.feed.item(0)
    tip = QTextDocumentFragment.fromHtml(item.toolTip()).toPlainText()
    assert "LIVE 120005 · DECREASED · SHORT 1 MNQZ25 @ 21,000.25" in tip
    window.feed.resize(160, 200)
    assert not window.feed.expanded and not window.feed.wordWrap()
    window.feed.itemActivated.emit(item)
    assert window.feed.expanded and window.feed.wordWrap()
    assert window.feed.visualItemRect(item).height() > window.feed.fontMetrics().height() * 2  # wrapped whole
    window.feed.itemActivated.emit(item)
    assert not window.feed.expanded


def test_ctrl_shift_tab_cycles_back_as_tab_and_as_x11_backtab(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "1", "6000", FROZEN, account="Sim1"))
    state.apply_fill(fill(2, "1", "21000", FROZEN, account="120005", symbol="MNQZ25"))
    state.apply_fill(fill(3, "1", "21000", FROZEN, account="Sim2", symbol="MNQZ25"))
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    assert window.last_snapshot is not None and window.last_snapshot.scope_account == "Sim2"
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    for key, expected in ((Qt.Key.Key_Backtab, "Sim1"), (Qt.Key.Key_Tab, "120005")):
        target = QApplication.focusWidget() or window
        # what X11 sends for Ctrl+Shift+Tab is Key_Backtab with Ctrl+Shift; other platforms send Key_Tab
        QApplication.sendEvent(target, QKeyEvent(QKeyEvent.Type.ShortcutOverride, key, ctrl_shift))
        qtbot.keyClick(target, key, ctrl_shift)
        assert window.last_snapshot.scope_account == expected, key


def _usable_x11_display() -> str | None:
    """The X11 display to run the probe on, or None when there is none that answers.

    A socket file left behind by an Xvfb that has exited still exists, so the display is only usable when a
    connection to its socket succeeds; Qt's xcb plugin also needs libxcb-cursor (README, Linux packages)."""
    display = os.environ.get("DTC_PANEL_X11_DISPLAY", ":99")
    path = Path(f"/tmp/.X11-unix/X{display.lstrip(':').split('.')[0]}")
    if not shutil.which("xdotool") or ctypes.util.find_library("xcb-cursor") is None:
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(str(path))
        except OSError:
            return None
    return display


X11_DISPLAY = _usable_x11_display()


@pytest.mark.skipif(X11_DISPLAY is None, reason="needs a running X11 display (Xvfb :99), libxcb-cursor0 and xdotool")
def test_ctrl_shift_tab_on_a_real_x11_display() -> None:
    """On X11 the key arrives as Backtab with Ctrl+Shift; with both Ctrl+Shift+Tab and Ctrl+Backtab registered
    Qt called it ambiguous and did nothing (the bug this reproduces)."""
    display = X11_DISPLAY
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    probe = Path(__file__).with_name("x11_backtab_probe.py")
    done = subprocess.run(
        [sys.executable, str(probe)], env=env, cwd=probe.parent.parent, capture_output=True, text=True, timeout=60
    )
    assert "before/after: ['Sim2', 'Sim1']" in done.stdout, done.stdout + done.stderr


def test_points_and_money_as_a_trader_reads_them() -> None:
    assert fmt.points(D("-0.125"), D("0.25")) == "-0.125 pt"  # half a tick from an average entry: not "-0.12"
    assert fmt.points(D("-0.12"), D("0.25")) == "-0.12 pt"
    assert fmt.points(D("1.5"), D("0.25")) == "+1.50 pt"
    assert fmt.points(D("0.00001"), D("0.25")) == "0.0000 pt"
    assert _signed(D("-0.004")) == ("$0.00", "inherit")  # an expectancy that shows as zero is not red
    assert _signed(D("-0.006"))[0] == "-$0.01" and _signed(D("-0.006"))[1] != "inherit"


def test_signed_runup_and_drawdown(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(FROZEN + timedelta(hours=1))
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.set_period(Period.ALL)
    state.apply_fill(fill(1, "1", "6000", FROZEN))
    state.apply_fill(fill(2, "-1", "6002", FROZEN + timedelta(seconds=5)))  # +$10
    state.apply_fill(fill(3, "1", "6000", FROZEN + timedelta(seconds=10)))
    state.apply_fill(fill(4, "-1", "5997", FROZEN + timedelta(seconds=15)))  # -$15
    qtbot.waitUntil(lambda: window.panel3.stats["trades"].text() == "2", timeout=3000)
    texts = window.panel3.stat_texts()
    assert (texts["max_runup"], texts["max_drawdown"]) == ("+$10.00", "-$15.00")


def test_csv_save_dialog_starts_in_documents(tmp_path: Path, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the real folder is asked of QStandardPaths; the test points it at tmp_path so nothing in home is touched
    assert panel3_module.documents_folder() == QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation
    )
    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setattr(panel3_module, "documents_folder", lambda: str(documents))
    clock = Clock()
    state = make_state(tmp_path / "db", clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "1", "6000", FROZEN))
    window.panel3._ask_export()
    dialog = window.panel3._dialog
    assert isinstance(dialog, QFileDialog)
    assert Path(dialog.directory().absolutePath()) == documents
    assert dialog.selectedFiles()[0].endswith("trades-Sim1.csv")
    dialog.reject()


def test_restored_trade_events_read_as_what_happened_not_as_a_flat_position() -> None:
    """A restored Sierra Chart trade-list difference read "SIM Sim1 · SIERRA_DIFFERS · MESZ25 flat"."""
    from datetime import UTC, datetime

    from core.feed_history import note_for
    from data.models import PositionEvent

    at = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

    def event(kind: str, source: str, realized: str = "0") -> PositionEvent:
        return PositionEvent(at=at, mode="SIM", account="Sim1", symbol="MESZ25", kind=kind, quantity_before=D(0),
                             quantity_after=D(0), realized=D(realized), reason="x", source=source)  # fmt: skip

    differs = note_for(event("sierra_differs", "10102:ClosedProfitLoss"), D("0.25"))
    assert (differs.kind, differs.text) == (
        "warning", "SIM Sim1 · MESZ25: differs from Sierra Chart's trade list (10102:ClosedProfitLoss)"
    )
    released = note_for(event("trade_released", "trade LONG 1 exited 2026-11-30 14:59:00", "5"), D("0.25"))
    assert released.kind == "reconciled" and released.text == (
        "SIM Sim1 · MESZ25: trade held apart while disputed, counted (trade LONG 1 exited 2026-11-30 14:59:00)"
        " · net +5.00"
    )
    assert "flat" not in differs.text and "flat" not in released.text
