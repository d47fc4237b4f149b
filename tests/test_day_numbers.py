"""Issue 11: the figures a trader reads on an ordinary day — scale-outs in today's P&L, MAE/MFE points that
size changes do not distort, and the R-multiple of an entry order filled in parts. Real StateManager, real
SQLite file, real window offscreen; each test replays the sequence and reads the screen or the database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from sqlmodel import Session, col, select

from core.accounting import Fill
from core.fills import FillFactory
from core.instruments import InstrumentBook
from core.prices import Quote
from core.tradingday import Period, period_start
from data.db import make_engine
from data.models import FillRecord, TradeRecord
from data.repository import PositionStore
from dtc.messages import HistoricalOrderFillResponse, OrderUpdate
from dtc.types import BuySellEnum, OrderStatusEnum, OrderTypeEnum, OrderUpdateReasonEnum
from tests.test_panels import Clock, make_state, make_window, working


def _now() -> datetime:
    """Inside today's trading day whatever the wall clock (today's figures follow the real clock)."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = period_start(Period.TODAY, now)
    assert start is not None
    return max(now - timedelta(minutes=10), start + timedelta(seconds=1))


def _fill(n: int, qty: str, price: str, at: datetime, fee: str = "0", order: str = "") -> Fill:
    return Fill(f"E{n}", "Sim1", "MESZ25", D(qty), D(price), at, commission=D(fee), server_order_id=order)


def _trades(data_dir: Path, mode: str, account: str) -> list[TradeRecord]:
    """The closed trades the database holds (read through a connection of its own)."""
    return PositionStore(make_engine(data_dir)).trades(mode, account)


def _quote(clock: Clock, price: str, seconds: int) -> Quote:
    return Quote("MESZ25", D(price), clock.now + timedelta(seconds=seconds), "dtc")


def test_partial_exit_of_an_open_trade_counts_in_realized_today(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(_fill(1, "2", "6000", t0))
    state.apply_fill(_fill(2, "-1", "6010", t0 + timedelta(seconds=5)))
    state.on_price(_quote(clock, "6010", 0))
    state.publish(force=True)
    panel = window.panel3
    qtbot.waitUntil(lambda: panel.total.text() == "+$100.00", timeout=3000)
    assert panel.realized.text() == "+$50.00"  # the scale-out, while the trade is still open
    assert panel.open_pnl.text() == "+$50.00"
    assert panel.trades.text() == "0"  # no trade closed yet


def test_realized_today_is_net_of_each_fills_commission_and_survives_a_restart(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    state.apply_fill(_fill(1, "2", "6000", t0, fee="1.24"))
    state.apply_fill(_fill(2, "-1", "6010", t0 + timedelta(seconds=5), fee="0.62"))
    state.close()

    restarted = make_state(tmp_path, clock)
    restarted.recover()
    window = make_window(restarted, clock, qtbot)
    restarted.on_price(_quote(clock, "6010", 0))
    restarted.publish(force=True)
    # 50 realized − 1.24 − 0.62 of today's fills; open +50
    qtbot.waitUntil(lambda: window.panel3.total.text() == "+$98.14", timeout=3000)
    assert window.panel3.realized.text() == "+$48.14"


def test_trade_opened_yesterday_counts_only_what_todays_fills_realized(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    start = period_start(Period.TODAY, t0)
    assert start is not None
    yesterday = start - timedelta(hours=2)
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(_fill(1, "3", "6000", yesterday))
    state.apply_fill(_fill(2, "-1", "6004", yesterday + timedelta(minutes=1)))  # +20 yesterday
    state.apply_fill(_fill(3, "-2", "6010", t0))  # +100 today, closes the trade
    state.publish(force=True)
    qtbot.waitUntil(lambda: window.panel3.trades.text() == "1", timeout=3000)
    assert window.panel3.realized.text() == "+$100.00"


def test_mfe_points_are_the_price_distance_not_scaled_by_a_scale_out(tmp_path: Path) -> None:
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    state.apply_fill(_fill(1, "2", "6000", t0))
    state.on_price(_quote(clock, "6010", 1))
    state.apply_fill(_fill(2, "-1", "6010", t0 + timedelta(seconds=5)))
    state.on_price(_quote(clock, "6005", 2))
    view = state.snapshot().positions[0]
    assert view.mfe_points == D(10)  # the price never went more than 10 points above the entry
    assert view.mfe == D(100)  # the trade's P&L at its best: 2 × 10 × $5


def test_mae_points_after_adding_at_the_low_are_the_full_adverse_move(tmp_path: Path) -> None:
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    state.apply_fill(_fill(1, "1", "6000", t0))
    state.on_price(_quote(clock, "5990", 1))
    state.apply_fill(_fill(2, "1", "5990", t0 + timedelta(seconds=5)))
    state.flush_marks(force=True)
    assert state.snapshot().positions[0].mae_points == D(-10)
    state.close()
    restarted = make_state(tmp_path, clock)
    restarted.recover()
    assert restarted.snapshot().positions[0].mae_points == D(-10)  # stored, not recomputed from the size
    restarted.apply_fill(_fill(3, "-2", "5995", t0 + timedelta(seconds=9)))
    (trade,) = _trades(tmp_path, "SIM", "Sim1")
    assert (trade.mae_points, trade.mfe_points) == (D(-10), D(0))


def test_r_multiple_of_an_entry_order_filled_in_parts_uses_the_whole_order(tmp_path: Path) -> None:
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    state.apply_fill(_fill(1, "1", "6000", t0, order="O-1"))  # one buy-3 order, filled 1 + 2
    # the bracket's stop goes to work after the first part; it is the stop when the order completed
    state.orders.on_order_update(working("S1", BuySellEnum.SELL, OrderTypeEnum.ORDER_TYPE_STOP, 5990.0, 3))
    state.on_orders_changed("Sim1", "MESZ25")
    state.apply_fill(_fill(2, "2", "6000", t0 + timedelta(seconds=1), order="O-1"))
    view = state.snapshot().positions[0]
    assert view.initial_risk == D(150)  # 10 points × 3 contracts × $5
    state.apply_fill(_fill(3, "-3", "6010", t0 + timedelta(seconds=9), order="O-2"))
    (trade,) = _trades(tmp_path, "SIM", "Sim1")
    assert (trade.initial_risk, trade.r_multiple) == (D(150), D(1))


def test_a_second_order_adding_to_the_trade_does_not_change_the_initial_risk(tmp_path: Path) -> None:
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    state.orders.on_order_update(working("S1", BuySellEnum.SELL, OrderTypeEnum.ORDER_TYPE_STOP, 5990.0, 1))
    state.apply_fill(_fill(1, "1", "6000", t0, order="O-1"))
    state.apply_fill(_fill(2, "1", "5995", t0 + timedelta(seconds=1), order="O-2"))  # a separate add
    state.apply_fill(_fill(3, "-2", "6010", t0 + timedelta(seconds=9), order="O-3"))
    (trade,) = _trades(tmp_path, "SIM", "Sim1")
    assert (trade.initial_risk, trade.r_multiple) == (D(50), D("2.5"))  # 1 contract × 10 pt; +$125


def _live_fill_without_id(order: str, filled: float, qty: float, price: float, at: datetime) -> OrderUpdate:
    """A 301 fill as Sierra Chart may send it: no ``LastFillExecutionID``."""
    return OrderUpdate(
        ServerOrderID=order,
        TradeAccount="Sim1",
        Symbol="MESZ25",
        OrderStatus=OrderStatusEnum.ORDER_STATUS_FILLED,
        OrderUpdateReason=OrderUpdateReasonEnum.ORDER_FILLED,
        BuySell=BuySellEnum.BUY,
        OrderQuantity=2,
        FilledQuantity=filled,
        LastFillQuantity=qty,
        LastFillPrice=price,
        LastFillDateTime=round(at.timestamp() * 1000),
    )


def _history_fill(order: str, execution_id: str, qty: float, price: float, at: datetime) -> HistoricalOrderFillResponse:
    return HistoricalOrderFillResponse(
        RequestID=7,
        Symbol="MESZ25",
        ServerOrderID=order,
        BuySell=BuySellEnum.BUY,
        Price=price,
        DateTime=int(at.timestamp()),
        Quantity=qty,
        UniqueExecutionID=execution_id,
        TradeAccount="Sim1",
    )


def _stored_fills(data_dir: Path) -> list[tuple[str, str, D]]:
    with Session(make_engine(data_dir)) as session:
        rows = session.exec(select(FillRecord).order_by(col(FillRecord.id))).all()
        return [(r.execution_id, r.source, r.quantity) for r in rows]


def test_live_fill_without_execution_id_is_counted_once_when_history_sends_it_again(tmp_path: Path) -> None:
    t0 = _now().replace(microsecond=0)
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    factory = FillFactory(InstrumentBook(), lambda _root: D(0))
    # one buy-2 order filled 1 + 1 at the same price in the same second, both parts live without ids
    state.stage_fill(factory.from_order_update(_live_fill_without_id("O-9", 1, 1, 6000.0, t0)))
    state.stage_fill(factory.from_order_update(_live_fill_without_id("O-9", 2, 1, 6000.0, t0)))
    state.end_of_chunk()
    assert state.snapshot().positions[0].quantity == D(2)
    # after a reconnect, history sends both executions with their real ids (and a third, new fill)
    later = t0 + timedelta(minutes=1)
    state.apply_fills(
        [
            factory.from_historical(_history_fill("O-9", "X-1", 1, 6000.0, t0)),
            factory.from_historical(_history_fill("O-9", "X-2", 1, 6000.0, t0)),
            factory.from_historical(_history_fill("O-10", "X-3", 1, 6001.0, later)),
        ]
    )
    assert state.snapshot().positions[0].quantity == D(3)  # not 5
    assert _stored_fills(tmp_path) == [("X-1", "301+304", D(1)), ("X-2", "301+304", D(1)), ("X-3", "304", D(1))]
    # and a second replay of the history changes nothing
    state.apply_fills([factory.from_historical(_history_fill("O-9", "X-1", 1, 6000.0, t0))])
    assert state.snapshot().positions[0].quantity == D(3)
    assert len(_stored_fills(tmp_path)) == 3


def test_fill_under_a_stored_id_with_another_price_is_shown_as_a_conflict(tmp_path: Path, qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(_fill(1, "1", "6000", t0))
    with caplog.at_level(logging.WARNING):
        state.apply_fill(_fill(1, "1", "6003.25", t0))  # same execution id, another price
    assert state.snapshot().positions[0].avg_entry == D(6000)  # the stored fill is kept
    assert any("conflicting fill E1" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    qtbot.waitUntil(lambda: any("conflicting fill E1" in line for line in window.feed.lines()), timeout=3000)
    (line,) = [line for line in window.feed.lines() if "conflicting fill E1" in line]
    assert "+1 @ 6,003.25 received, +1 @ 6,000.00 stored" in line
