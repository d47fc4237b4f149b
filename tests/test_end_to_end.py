"""End to end over a real loopback socket: DTC simulator → client thread → router → SQLite → Panel2."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app_manager import PanelApp, build_app
from core.settings import Settings
from core.snapshots import AppSnapshot, ConnectionState
from data.db import database_path, make_engine
from data.models import FillRecord, OpenPosition, TradeRecord

ROOT = Path(__file__).resolve().parents[1]


def start_panel(settings: Settings, port: int, qtbot) -> PanelApp:  # type: ignore[no-untyped-def]
    app = build_app(replace(settings, host="127.0.0.1", port=port, heartbeat_seconds=2))
    qtbot.addWidget(app.window)
    app.start()
    return app


def wait_synced(app: PanelApp, qtbot, timeout: int = 10_000) -> None:  # type: ignore[no-untyped-def]
    def synced() -> None:
        snap = app.window.last_snapshot
        assert snap is not None and snap.connection.state == ConnectionState.SYNCED

    qtbot.waitUntil(synced, timeout=timeout)


def screen(app: PanelApp, with_pnl: bool = False) -> str:
    """What Panel2 shows: each position card (side, size, average entry and, if asked, open P&L), or FLAT."""
    cards = app.window.panel2.card_texts()
    if not with_pnl:
        cards = [" · ".join(c.split(" · ")[:2]) for c in cards]
    return " | ".join(cards) if cards else app.window.panel2.flat.text()


def test_round_trip_shows_every_position_and_stores_exact_trades(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = start_panel(settings, simulator.port, qtbot)
    shown: list[str] = []

    def record(_snap: AppSnapshot) -> None:  # connected after the window: runs once Panel2 has rendered
        text = screen(app)
        if not shown or shown[-1] != text:
            shown.append(text)

    app.window.shown.connect(record)
    try:
        wait_synced(app, qtbot)
        # the simulator's last price is the last fill price, streamed as DTC market data (107)
        orders = [
            ("BUY", 2, 6000.00, [(1, 6000.00), (1, 6000.50)], "LONG 2 MESZ25 · 2 @ 6,000.25 avg entry · +$2.50"),
            ("BUY", 1, 6001.00, None, "LONG 3 MESZ25 · 3 @ 6,000.50 avg entry · +$7.50"),
            ("SELL", 2, 6003.00, None, "LONG 1 MESZ25 · 1 @ 6,000.50 avg entry · +$12.50"),
            ("SELL", 2, 6002.00, None, "SHORT 1 MESZ25 · 1 @ 6,002.00 avg entry · $0.00"),
            ("BUY", 1, 6001.25, None, "FLAT"),
        ]
        for side, qty, price, partials, expected in orders:
            simulator.fill("Sim1", "MESZ25", side, qty, price, partials)
            qtbot.waitUntil(lambda expected=expected: screen(app, with_pnl=True) == expected, timeout=10_000)
    finally:
        app.stop()
    # the two partial fills of the first order usually arrive in one chunk: stored together, shown together
    first_piece = "LONG 1 MESZ25 · 1 @ 6,000.00 avg entry"
    assert [text for text in shown if text != first_piece][-5:] == [
        "LONG 2 MESZ25 · 2 @ 6,000.25 avg entry",
        "LONG 3 MESZ25 · 3 @ 6,000.50 avg entry",
        "LONG 1 MESZ25 · 1 @ 6,000.50 avg entry",
        "SHORT 1 MESZ25 · 1 @ 6,002.00 avg entry",
        "FLAT",
    ]
    with Session(make_engine(settings.data_dir)) as session:
        assert session.exec(select(OpenPosition)).all() == []
        trades = session.exec(select(TradeRecord).order_by(TradeRecord.id)).all()
        fills = session.exec(select(FillRecord)).all()
    assert [
        (t.mode, t.account, t.symbol, t.side, t.qty, t.entry_price, t.exit_price, t.realized_pnl) for t in trades
    ] == [
        ("SIM", "Sim1", "MESZ25", "LONG", D(3), D("6000.5"), D("6002.666666666666666666666667"), D("32.5")),
        ("SIM", "Sim1", "MESZ25", "SHORT", D(1), D("6002"), D("6001.25"), D("3.75")),
    ]
    assert len(fills) == 6
    assert {f.execution_id for f in fills} == {f["execution_id"] for f in simulator.fill_log()}
    assert app.window.panel3.realized.text() == "+$36.25"
    assert app.window.panel3.trades.text() == "2"
    feed = app.window.feed.lines()  # every fill is announced, grouped or not
    assert sum("OPENED · LONG 1 MESZ25" in line for line in feed) == 1
    assert sum("INCREASED · LONG 2 MESZ25" in line for line in feed) == 1


def test_bad_input_is_skipped_and_next_fill_applied(settings, simulator, qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        negative = {
            "Type": 301, "RequestID": 0, "TotalNumMessages": 1, "MessageNumber": 1, "Symbol": "MESZ25",
            "TradeAccount": "Sim1", "ServerOrderID": "X1", "OrderStatus": 7, "OrderUpdateReason": 4, "BuySell": 1,
            "LastFillPrice": 6000.0, "LastFillQuantity": -1.0, "LastFillExecutionID": "BAD-1",
        }  # fmt: skip
        simulator.send_raw(b'{"Type":301,"Symbol":\x00')
        simulator.send_raw(b'{"Type":9999,"Whatever":1}\x00')
        simulator.send_raw(json.dumps(negative).encode() + b"\x00")
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6010.25)
        qtbot.waitUntil(lambda: screen(app) == "LONG 1 MESZ25 · 1 @ 6,010.25 avg entry", timeout=10_000)
        assert app.client.alive
    finally:
        app.stop()
    counts = dict(app.router.bad_input)
    assert counts == {"undecodable frame": 1, "unknown Type": 1, "invalid OrderUpdate": 1}
    text = caplog.text
    assert "malformed JSON" in text and "Type 9999" in text and "LastFillQuantity" in text
    with Session(make_engine(settings.data_dir)) as session:
        assert [f.execution_id for f in session.exec(select(FillRecord)).all()] != ["BAD-1"]
        assert len(session.exec(select(FillRecord)).all()) == 1


def _open_positions(db: Path) -> list[tuple[str, str, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT account, symbol, qty FROM openposition").fetchall()
    except sqlite3.OperationalError:
        return []


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_killed_app_shows_position_on_restart_before_any_message(settings, simulator, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, str(ROOT / "app_manager.py"), "--host", "127.0.0.1", "--port", str(simulator.port)]
    cmd += ["--data-dir", str(settings.data_dir), "--heartbeat", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert simulator.wait_for_logons(1, timeout=30), "the app never logged on"
        simulator.fill("Sim1", "MESZ25", "SELL", 2, 6857.00)
        db = database_path(settings.data_dir)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _open_positions(db) != [("Sim1", "MESZ25", "-2")]:
            time.sleep(0.05)
        assert _open_positions(db) == [("Sim1", "MESZ25", "-2")]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    simulator.stop()  # nothing may answer the restarted panel
    restarted = build_app(replace(settings, port=1))  # never started: no byte can arrive
    qtbot.addWidget(restarted.window)
    assert screen(restarted, with_pnl=True) == "SHORT 2 MESZ25 · 2 @ 6,857.00 avg entry · —"  # no price yet
    card = restarted.window.panel2._cards["MESZ25"]
    assert not card.unconfirmed.isHidden()
    assert restarted.window.badge.text().strip() == "SIM"


def _raw_fill(execution_id: str, price: float, **fields: object) -> dict[str, object]:
    """A Sierra-shaped ORDER_UPDATE (301) fill: BUY 1 MESZ25 in Sim1, every field present."""
    return {
        "Type": 301, "RequestID": 0, "TotalNumMessages": 1, "MessageNumber": 1, "Symbol": "MESZ25",
        "Exchange": "CME", "PreviousServerOrderID": "", "ServerOrderID": f"SO-{execution_id}", "ClientOrderID": "",
        "ExchangeOrderID": "", "OrderStatus": 7, "OrderUpdateReason": 4, "OrderType": 1, "BuySell": 1,
        "Price1": price, "Price2": None, "TimeInForce": 1, "GoodTillDateTime": 0, "OrderQuantity": 1,
        "FilledQuantity": 1, "RemainingQuantity": 0, "AverageFillPrice": price, "LastFillPrice": price,
        "LastFillDateTime": int(time.time() * 1000), "LastFillQuantity": 1, "LastFillExecutionID": execution_id,
        "TradeAccount": "Sim1", "InfoText": "", "NoOrders": 0, "ParentServerOrderID": "",
        "OCOLinkedOrderServerOrderID": "", "OpenOrClose": 1, "PreviousClientOrderID": "", "FreeFormText": "",
        **fields,
    }  # fmt: skip


def _stored_execution_ids(settings: Settings) -> set[str]:
    with sqlite3.connect(f"file:{database_path(settings.data_dir)}?mode=ro", uri=True, timeout=1) as conn:
        return {row[0] for row in conn.execute("SELECT execution_id FROM fillrecord")}


def test_fills_with_null_fields_and_8_bit_text_are_stored_and_shown(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        # JSON null means "not set" (dtc-protocol §3.2): here for text, a time, and an order id
        unset = _raw_fill("NULL-1", 6000.0, InfoText=None, LastFillDateTime=None, ClientOrderID=None, NoOrders=None)
        simulator.send_raw(json.dumps(unset).encode() + b"\x00")
        # DTC text is 8-bit (Windows-1252 on Sierra Chart's side), not UTF-8
        latin = json.dumps(_raw_fill("LATIN-1", 6001.0, InfoText="@INFO@", FreeFormText="@FREE@")).encode()
        latin = latin.replace(b"@INFO@", b"Ordre ex\xe9cut\xe9").replace(b"@FREE@", b"\x80 stop \xb1 2 ticks")
        simulator.send_raw(latin + b"\x00")
        account = json.dumps(_raw_fill("LATIN-2", 6002.0, TradeAccount="@ACCOUNT@")).encode()
        simulator.send_raw(account.replace(b"@ACCOUNT@", b"SimJ\xfcrgen") + b"\x00")
        (barrier,) = simulator.fill("Sim1", "MESZ25", "BUY", 1, 6005.0)  # a normal fill after them
        qtbot.waitUntil(lambda: barrier in _stored_execution_ids(settings), timeout=10_000)

        def shows_every_fill() -> None:
            assert screen(app) == "LONG 3 MESZ25 · 3 @ 6,002.00 avg entry"

        qtbot.waitUntil(shows_every_fill, timeout=3000)  # the window follows the commit
    finally:
        app.stop()
    assert dict(app.router.bad_input) == {}
    with Session(make_engine(settings.data_dir)) as session:
        fills = session.exec(select(FillRecord).order_by(FillRecord.id)).all()
    assert [(f.account, f.execution_id, f.price) for f in fills[:3]] == [
        ("Sim1", "NULL-1", D("6000")),
        ("Sim1", "LATIN-1", D("6001")),
        ("SimJürgen", "LATIN-2", D("6002")),
    ]
    assert len(fills) == 4 and fills[0].time.year >= 2025  # no fill time given: the time it was received
