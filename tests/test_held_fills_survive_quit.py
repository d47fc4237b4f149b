"""Fills held after a storage failure survive a quit: they are journaled (append + fsync) and stored — each
once — at the next start; quitting while fills are not stored asks first. The disk-full condition is
injected at the SQLite driver edge (as in test_storage_failure.py); the app, the window and the database
file are real."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from PySide6.QtWidgets import QMessageBox
from sqlalchemy import event
from sqlmodel import Session, select

from app_manager import PanelApp, build_app
from core.accounting import Fill
from core.settings import Settings
from data.models import FillRecord, OpenPosition

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)


class DiskFullSwitch:
    """While ``on``, every INSERT/UPDATE/DELETE fails the way SQLite fails on a full disk."""

    def __init__(self) -> None:
        self.on = threading.Event()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.on.is_set() and statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise sqlite3.OperationalError("database or disk is full")


def fill(n: int, qty: str, price: str) -> Fill:
    return Fill(f"E{n}", "Sim1", "MESZ25", D(qty), D(price), T0 + timedelta(minutes=n), server_order_id=f"O{n}")


def app_with_held_fills(settings: Settings, qtbot: Any) -> PanelApp:  # type: ignore[no-untyped-def]
    """The app with one stored fill (LONG 1) and three more held because the disk is full."""
    app = build_app(replace(settings, port=1))
    qtbot.addWidget(app.window)
    app.window.render_gap = 0.0
    app.window.position_gap = 0.0
    assert app.state.apply_fill(fill(1, "1", "6000.00"))
    switch = DiskFullSwitch()
    event.listen(app.store.engine, "before_cursor_execute", switch)
    switch.on.set()
    for n, price in ((2, "6001.00"), (3, "6002.00"), (4, "6003.00")):
        assert not app.state.apply_fill(fill(n, "1", price))
    return app


def test_fills_held_on_a_full_disk_are_stored_once_at_the_next_start(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = app_with_held_fills(settings, qtbot)
    snap = app.window.last_snapshot
    assert snap is not None and snap.pending_fills == 3 and "disk is full" in (snap.storage_error or "")
    assert "saved in held-fills.jsonl" in app.window.storage.text()
    app.stop()  # the trader quits
    app.store.engine.dispose()

    again = build_app(replace(settings, port=1))
    qtbot.addWidget(again.window)
    snap = again.window.last_snapshot
    assert snap is not None and snap.pending_fills == 0 and snap.storage_error is None
    assert [(p.quantity, p.avg_entry) for p in snap.positions] == [(4, D("6001.50"))]
    again.stop()
    third = build_app(replace(settings, port=1))  # a journal replayed twice stores nothing twice
    qtbot.addWidget(third.window)
    with Session(third.store.engine) as session:
        ids = [f.execution_id for f in session.exec(select(FillRecord)).all()]
        (position,) = session.exec(select(OpenPosition)).all()
    assert sorted(ids) == ["E1", "E2", "E3", "E4"]
    assert position.qty == 4
    third.stop()


def test_quitting_with_fills_not_stored_asks_first_and_keeping_it_open_keeps_them(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = app_with_held_fills(settings, qtbot)
    window = app.window
    window.show()
    qtbot.waitExposed(window)
    assert not window.close()  # the trader clicks the window's close button
    box = window.findChild(QMessageBox, "quitWithHeldFills")
    assert box is not None and box.isVisible() and window.isVisible()
    assert "3 fill(s)" in box.text() and "disk is full" in box.informativeText()
    keep = next(b for b in box.buttons() if b.text() == "Keep running")
    quit_anyway = next(b for b in box.buttons() if b.text() == "Quit anyway")
    with qtbot.waitSignal(box.finished):
        keep.click()
    assert window.isVisible()
    window.close()
    box = window.findChild(QMessageBox, "quitWithHeldFills")
    assert box is not None and box.isVisible()
    quit_anyway = next(b for b in box.buttons() if b.text() == "Quit anyway")
    with qtbot.waitSignal(box.finished):
        quit_anyway.click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)
    app.stop()


def test_quitting_with_every_fill_stored_asks_nothing(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = build_app(replace(settings, port=1))
    qtbot.addWidget(app.window)
    app.state.apply_fill(fill(1, "1", "6000.00"))
    app.window.show()
    qtbot.waitExposed(app.window)
    assert app.window.close()
    assert app.window.findChild(QMessageBox, "quitWithHeldFills") is None
    app.stop()
