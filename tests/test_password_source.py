"""The DTC password is read when the client logs on (on its thread), not before the window shows: a system
keyring's first read can take a few hundred milliseconds. Over a real socket against the simulator."""

from __future__ import annotations

import threading
from dataclasses import replace

from app_manager import build_app
from tests.test_end_to_end import wait_synced


def test_the_stored_password_is_sent_at_logon_read_off_the_gui_thread(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    readers: list[str] = []

    def keyring_password() -> str:
        readers.append(threading.current_thread().name)
        return "secret"

    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port, username="trader"),
                    password_source=keyring_password)  # fmt: skip
    qtbot.addWidget(app.window)
    assert readers == []  # nothing is read while the window is built
    app.start()
    try:
        wait_synced(app, qtbot, timeout=15_000)
        logon = simulator.logon_requests()[-1]
        assert (logon.username, logon.password_sent) == ("trader", True)
        assert readers and threading.main_thread().name not in readers
    finally:
        app.stop()


def test_a_password_typed_on_the_command_line_wins_over_the_keyring(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    asked: list[bool] = []
    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port), "from-env",
                    password_source=lambda: asked.append(True) or "")  # fmt: skip
    qtbot.addWidget(app.window)
    app.start()
    try:
        wait_synced(app, qtbot, timeout=15_000)
        assert simulator.logon_requests()[-1].password_sent
        assert asked == []
    finally:
        app.stop()


def test_a_broken_keyring_still_logs_on_without_a_password(settings, simulator, qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    def broken() -> str:
        raise RuntimeError("D-Bus went away")

    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port), password_source=broken)
    qtbot.addWidget(app.window)
    app.start()
    try:
        wait_synced(app, qtbot, timeout=15_000)
        assert simulator.logon_requests()[-1].password_sent is False
        assert "cannot read the DTC password (RuntimeError)" in caplog.text
    finally:
        app.stop()
