"""Text that came from Sierra Chart is shown as the characters it is and logged with its control characters
escaped: a server (or anything between it and the panel) cannot draw on the window or forge log lines.

Real parts only: the app (``build_app``: DTC thread, SQLite in tmp_path, offscreen window) against the DTC
simulator over loopback; what is checked is the window's pixels and the log file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QAccessible, QHelpEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app_manager import setup_logging
from core.settings import Settings
from core.snapshots import ConnectionState
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from tests.test_reconnect import Running

GREEN = "#00ff00"
FAKE_SYNCED = f'<span style="color:{GREEN}; font-size:40px">SYNCED - all positions confirmed</span>'


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(name="server-text", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    server.start()
    yield server
    server.stop()


def green_pixels(widget: QWidget) -> int:
    """How many pixels of ``widget`` as painted now are the bright green of ``FAKE_SYNCED``."""
    image = widget.grab().toImage()
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            color = image.pixelColor(x, y)
            if color.green() > 200 and color.red() < 90 and color.blue() < 90:
                count += 1
    return count


def shown_text(widget: QLabel) -> str:
    """The text a label shows, as Qt gives it to screen readers (rich text is reduced to what is drawn)."""
    accessible = QAccessible.queryAccessibleInterface(widget)
    assert accessible is not None
    return accessible.text(QAccessible.Text.Name)


def shown_tooltip(widget: QWidget, at: QPoint) -> QLabel:
    """Hover ``widget`` at ``at`` the way Qt does (a ToolTip help event) and return the tooltip label shown."""
    event = QHelpEvent(QEvent.Type.ToolTip, at, widget.mapToGlobal(at))
    QApplication.sendEvent(widget, event)
    tips = [w for w in QApplication.topLevelWidgets() if w.metaObject().className() == "QTipLabel" and w.isVisible()]
    assert len(tips) == 1, "no tooltip appeared"
    tip = tips[0]
    assert isinstance(tip, QLabel)
    return tip


def test_html_in_a_refused_logon_shows_as_text_not_as_a_green_synced(settings: Settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_logon_result(2, FAKE_SYNCED)
    run = Running(settings, simulator.port, qtbot)
    try:
        label = run.app.window.connection
        qtbot.waitUntil(lambda: "DISCONNECTED" in label.text() and "SYNCED - all" in label.text(), timeout=10_000)
        assert run.snap.connection.state == ConnectionState.DISCONNECTED
        line_height = label.fontMetrics().height()
        assert label.sizeHint().height() < 2 * line_height  # one line of ordinary text, not a 40 px headline
        assert FAKE_SYNCED in shown_text(label)
        assert green_pixels(label) == 0
    finally:
        run.stop()


def test_html_in_a_rejected_positions_request_shows_as_text_in_the_feed_and_its_tooltip(
    settings: Settings, simulator, qtbot
) -> None:  # type: ignore[no-untyped-def]
    simulator.set_positions_reject(FAKE_SYNCED)
    run = Running(settings, simulator.port, qtbot)
    try:
        run.wait_synced()
        feed = run.app.window.feed
        qtbot.waitUntil(lambda: any("positions unknown" in line for line in feed.lines()), timeout=10_000)
        status = run.app.window.connection
        assert f"positions rejected: {FAKE_SYNCED}" in shown_text(status)
        assert green_pixels(status) == 0  # "partially synced: positions rejected: <span …" is not drawn green
        row = next(i for i in range(feed.count()) if "positions unknown" in feed.item(i).text())
        tip = shown_tooltip(feed.viewport(), feed.visualItemRect(feed.item(row)).center())
        assert shown_text(tip).endswith(f"request rejected: {FAKE_SYNCED}")
        assert green_pixels(tip) == 0
    finally:
        run.stop()


def test_control_characters_from_the_server_are_escaped_in_the_log_file_and_the_status_line(
    settings: Settings, simulator, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    log_dir = tmp_path / "logs"
    forged = "2025-01-01 00:00:00,000 INFO MainThread dtc_panel: all positions confirmed"
    simulator.set_positions_reject(f"nope\x1b[2J\x1b[31m\r\n{forged}")
    setup_logging(log_dir)
    try:
        run = Running(settings, simulator.port, qtbot)
        try:
            run.wait_synced()
            run.wait(lambda s: "positions rejected" in s.connection.detail)
            status = shown_text(run.app.window.connection)
        finally:
            run.stop()
        for handler in root.handlers:
            handler.flush()
        data = (log_dir / "dtc-panel.log").read_bytes()
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)
    text = data.decode("utf-8")
    assert "nope\\x1b[2J\\x1b[31m\\r\\n2025-01-01" in text
    assert b"\x1b" not in data and b"\r" not in data
    assert not any(line.startswith(forged) for line in text.splitlines())
    assert "positions rejected: nope\\x1b[2J\\x1b[31m\\r\\n2025-01-01" in status  # one line on screen too
