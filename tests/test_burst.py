"""A burst of fills through the real app: the simulator writes many fills (301 + 306 + 600 each) back to back
on loopback; the panel stores each once, in groups, and shows the end state — the last position, the trade
count and today's P&L — with statistics folded per closed trade, not re-read."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D

from core.settings import Settings
from data.db import database_path
from tests.test_end_to_end import screen, start_panel, wait_synced

FILLS = 600


def test_a_burst_is_stored_once_and_the_window_shows_its_end(settings: Settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        # 300 round trips of 1 MES: buy at 6000, sell at 6000.25 (+$1.25 gross each); then one more buy
        orders = [
            ("Sim1", "MESZ25", "BUY" if i % 2 == 0 else "SELL", 1.0, 6000.0 + 0.25 * (i % 2)) for i in range(FILLS)
        ]
        orders.append(("Sim1", "MESZ25", "BUY", 2.0, 6001.0))
        simulator.burst(orders)

        def shows_end_state() -> None:
            assert screen(app) == "LONG 2 MESZ25 · 2 @ 6,001.00 avg entry"
            assert app.window.panel3.trades.text() == str(FILLS // 2)

        qtbot.waitUntil(shows_end_state, timeout=30_000)
        assert app.window.panel3.realized.text() == "+$375.00"  # 300 × 0.25 pt × $5
        assert app.window.panel3.stats["trades"].text() == str(FILLS // 2)
        assert app.window.panel3.model.rowCount() == FILLS // 2
        assert app.state.ledger.commits < (FILLS + 1) // 4  # grouped: far fewer transactions than fills
    finally:
        app.stop()
    with sqlite3.connect(database_path(settings.data_dir)) as conn:
        ids = [row[0] for row in conn.execute("SELECT execution_id FROM fillrecord")]
        trades = conn.execute("SELECT COUNT(*), SUM(CAST(realized_pnl AS REAL)) FROM traderecord").fetchone()
        (position,) = conn.execute("SELECT qty, entry_price FROM openposition").fetchall()
    expected = {f["execution_id"] for f in simulator.fill_log()}
    assert len(ids) == len(set(ids)) == len(expected) == FILLS + 1 and set(ids) == expected
    assert trades == (FILLS // 2, 375.0)
    assert (D(position[0]), D(position[1])) == (D(2), D("6001"))
