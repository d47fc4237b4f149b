"""Panel2 and the window's theme over a real StateManager and SQLite: the exact text a trader reads.

Time is frozen: the price book's staleness clock and the window's clock are the same ``Clock``; trade times
are shown in UTC. Other panel tests import the helpers below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook, Quote
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore
from dtc.messages import OrderUpdate
from dtc.types import BuySellEnum, OrderStatusEnum, OrderTypeEnum
from panels.main_window import MainWindow
from panels.theme import HEAT_AMBER, HEAT_RED, LIVE, SIM, STALE_BG
from tests.wiring import attach

FROZEN = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)


class Clock:
    """A settable UTC clock shared by the price book (epoch seconds) and the window (datetime)."""

    def __init__(self, now: datetime = FROZEN) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


def make_state(data_dir: Path, clock: Clock, point_values: dict | None = None) -> StateManager:
    store = PositionStore(make_engine(data_dir))
    return StateManager(
        store,
        InstrumentBook(point_values or {}),
        ModeClassifier(),
        prices=PriceBook(clock=clock.epoch),
        orders=OrderBook(),
    )


def make_window(state: StateManager, clock: Clock, qtbot, **kwargs) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(
        on_scope_chosen=state.set_scope,
        on_follow=state.follow_latest_fill,
        on_period_chosen=state.set_period,
        clock=clock,
        tz=UTC,
        **kwargs,
    )
    qtbot.addWidget(window)
    attach(state, window)
    return window


def fill(n: int, qty: str, price: str, at: datetime, account: str = "Sim1", symbol: str = "MESZ25", fee: str = "0"):  # type: ignore[no-untyped-def]
    return Fill(f"E{n}", account, symbol, D(qty), D(price), at, commission=D(fee))


def working(
    order_id: str,
    side: BuySellEnum,
    kind: OrderTypeEnum,
    price: float,
    qty: float = 2,
    symbol: str = "MESZ25",
    status: OrderStatusEnum = OrderStatusEnum.ORDER_STATUS_OPEN,
) -> OrderUpdate:
    """A stop or target order of account Sim1 (``status`` CANCELED takes it off the book)."""
    return OrderUpdate(
        ServerOrderID=order_id,
        TradeAccount="Sim1",
        Symbol=symbol,
        OrderStatus=status,
        OrderType=kind,
        BuySell=side,
        Price1=price,
        OrderQuantity=qty,
    )


def card_fields(window: MainWindow, symbol: str) -> dict[str, str]:
    card = window.panel2._cards[symbol]
    names = ["banner", "entry", "open_pnl", "open_points", "last", "in_trade", "heat", "stop", "target", "risk"]
    names += ["live_r", "mae", "mfe", "vwap", "delta", "poc", "realized", "commissions"]
    return {name: getattr(card, name).text() for name in names}


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_long_position_shows_every_figure(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    t = FROZEN
    clock.now = t - timedelta(seconds=310)
    state.on_price(
        Quote("MESZ25", D("6000.00"), clock.now, "dtc", vwap=D("6000.25"), cum_delta=D(1200), poc=D("5999.75"))
    )
    clock.now = t - timedelta(seconds=300)
    state.apply_fill(fill(1, "1", "6000.00", clock.now, fee="0.62"))  # entry context from the fresh quote
    clock.now = t - timedelta(seconds=240)
    state.apply_fill(fill(2, "1", "6001.00", clock.now, fee="0.62"))
    state.orders.on_order_update(working("S1", BuySellEnum.SELL, OrderTypeEnum.ORDER_TYPE_STOP, 5995.0))
    state.orders.on_order_update(working("T1", BuySellEnum.SELL, OrderTypeEnum.ORDER_TYPE_LIMIT, 6010.0))
    state.on_orders_changed("Sim1", "MESZ25")
    clock.now = t - timedelta(seconds=200)
    state.on_price(Quote("MESZ25", D("5999.00"), clock.now, "dtc"))  # MAE: (5999 - 6000.50) x 2 x $5
    clock.now = t
    state.on_price(
        Quote("MESZ25", D("6004.25"), t - timedelta(seconds=3), "dtc", vwap=D("6001.5"), cum_delta=D(1450), poc=D(6001))
    )
    state.publish()

    assert window.panel2.card_texts() == ["LONG 2 MESZ25 · 2 @ 6,000.50 avg entry · +$37.50"]
    assert card_fields(window, "MESZ25") == {
        "banner": "LONG 2 MESZ25",
        "entry": "2 @ 6,000.50 avg entry",
        "open_pnl": "+$37.50",
        "open_points": "+3.75 pt · +15 t per contract",
        "last": "6,004.25 · 3 s ago · DTC",
        "in_trade": "5 min 0 s",
        "heat": "not in heat",
        "stop": "5,995.00 · 9.25 pt / 37 t away",
        "target": "6,010.00 · 5.75 pt / 23 t away",
        "risk": "$25.00",  # |6000 - 5995| x 1 contract at entry x $5
        "live_r": "+1.45 R",  # (37.50 - 1.24) / 25
        "mae": "-$15.00 · -1.50 pt · -6 t",
        "mfe": "+$37.50 · +3.75 pt · +15 t",
        "vwap": "6,000.25 → 6,001.50",
        "delta": "+1,200 → +1,450",
        "poc": "5,999.75 → 6,001.00",
        "realized": "$0.00",
        "commissions": "$1.24",
    }
    card = window.panel2._cards["MESZ25"]
    assert card.unconfirmed.isHidden() and card.stale.isHidden()
    assert window.panel2.flat.isHidden()
    assert card.banner.colour() == "#1b7f3a"  # long is green


def test_short_live_position_in_heat_with_stale_price(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "-1", "25000.00", FROZEN - timedelta(seconds=120), account="120005", symbol="MNQZ25"))
    state.on_price(Quote("MNQZ25", D("25005.00"), FROZEN - timedelta(seconds=90), "dtc"))
    state.publish()

    fields = card_fields(window, "MNQZ25")
    assert (fields["banner"], fields["entry"], fields["open_pnl"]) == (
        "SHORT 1 MNQZ25",
        "1 @ 25,000.00 avg entry",
        "-$10.00",
    )
    assert fields["open_points"] == "-5.00 pt · -20 t per contract"
    assert fields["last"] == "25,005.00 · 1 min 30 s ago · DTC"  # DTC quotes go stale after 60 s …
    assert STALE_BG in window.panel2._cards["MNQZ25"].last.styleSheet()  # … shown on a dark background
    card = window.panel2._cards["MNQZ25"]
    assert not card.stale.isHidden() and card.stale.text() == "STALE PRICE"
    assert fields["heat"] == "1 min 30 s in heat"
    assert card.heat.colour() == HEAT_AMBER
    assert card.banner.colour() == "#c62828"  # short is red
    clock.now = FROZEN + timedelta(seconds=100)
    state.touch()
    state.publish()
    assert card.heat.text() == "3 min 10 s in heat" and card.heat.colour() == HEAT_RED
    # theme: LIVE is red and says so
    assert window.badge.text().strip() == "● LIVE"
    assert LIVE.badge_bg in window.badge.styleSheet()
    assert window.windowTitle() == "● LIVE — DTC Panel — LIVE 120005"
    assert LIVE.accent in window.focus_strip.styleSheet()
    assert window.panel2._cards["MNQZ25"].property("mode") == "LIVE"  # the card's red frame


def test_sim_theme_is_blue_and_switches_with_the_scope(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    assert window.badge.text().strip() == "NO ACCOUNT"
    state.apply_fill(fill(1, "1", "6000", FROZEN, account="Sim1"))
    assert window.badge.text().strip() == "SIM"
    assert SIM.badge_bg in window.badge.styleSheet() and LIVE.badge_bg not in window.badge.styleSheet()
    assert SIM.accent in window.focus_strip.styleSheet()
    assert window.windowTitle() == "DTC Panel — SIM Sim1"
    state.apply_fill(fill(2, "1", "21000", FROZEN, account="120005", symbol="MNQZ25"))  # follows the fill
    assert window.badge.text().strip() == "● LIVE"
    assert window.panel2.card_texts() == ["LONG 1 MNQZ25 · 1 @ 21,000.00 avg entry · —"]
    assert window.board.row_texts() == [  # every open position on the board, LIVE first
        "● LIVE 120005 · MNQZ25 LONG 1 — @ 21,000.00 — 0 s",
        "SIM Sim1 · MESZ25 LONG 1 — @ 6,000.00 — 0 s",
    ]
    window.cycle_scope(1)  # accounts sorted (LIVE 120005, SIM Sim1): next is Sim1
    assert window.badge.text().strip() == "SIM"
    assert window.panel2.card_texts() == ["LONG 1 MESZ25 · 1 @ 6,000.00 avg entry · —"]


def test_flat_and_no_account(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    assert window.panel2.flat.text() == "No account yet" and not window.panel2.flat.isHidden()
    state.apply_fill(fill(1, "1", "6000", FROZEN))
    assert window.panel2.flat.isHidden() and list(window.panel2._cards) == ["MESZ25"]
    state.apply_fill(fill(2, "-1", "6001", FROZEN + timedelta(seconds=5)))
    assert window.panel2.card_texts() == [] and window.panel2._cards == {}
    assert window.panel2.flat.text() == "FLAT" and not window.panel2.flat.isHidden()
    feed = [line.split("  ", 1)[1] for line in window.feed.lines()]  # "HH:MM:SS  text" (time of notice)
    assert feed == ["SIM Sim1 · CLOSED · MESZ25 flat · trade P&L +5.00", "SIM Sim1 · OPENED · LONG 1 MESZ25 @ 6,000.00"]


def test_recovered_position_is_unconfirmed_until_sierra_agrees(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    make_state(tmp_path, clock).apply_fill(fill(1, "-2", "6857.00", FROZEN))
    state = make_state(tmp_path, clock)
    state.recover()
    window = make_window(state, clock, qtbot)
    card = window.panel2._cards["MESZ25"]
    assert window.panel2.card_texts() == ["SHORT 2 MESZ25 · 2 @ 6,857.00 avg entry · —"]
    assert not card.unconfirmed.isHidden() and card.unconfirmed.text() == "UNCONFIRMED — waiting for Sierra Chart"
    assert card.last.text() == "— (no price source yet)"
    state.on_broker_position("Sim1", "MESZ25", D(-2), D("6857"))
    state.publish()
    assert card.unconfirmed.isHidden()


def test_broker_only_positions_and_orphaned_brackets(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.set_scope("SIM", "Sim1")
    state.on_broker_position("Sim1", "MESZ25", D(1), D("6000"))
    state.orders.on_order_update(working("S9", BuySellEnum.SELL, OrderTypeEnum.ORDER_TYPE_STOP, 5990.0, 1))
    state.publish()
    assert window.panel2.broker_note.text() == (
        "Sierra Chart reports LONG 1 MESZ25 @ 6,000.00 — not from fills seen by this panel"
    )
    assert window.panel2.orphans.text() == (
        "Orphaned order — Sim1 MESZ25: stop sell @ 5,990.00 working on a flat position"
    )
    assert not window.panel2.orphans.isHidden() and window.panel2.flat.text() == "FLAT"


def test_render_ignores_older_snapshots_and_keeps_cards(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    old = state.snapshot()
    state.apply_fill(fill(1, "1", "6000", FROZEN))
    card = window.panel2._cards["MESZ25"]
    window.render(old)  # older seq: ignored
    assert window.panel2.card_texts() == ["LONG 1 MESZ25 · 1 @ 6,000.00 avg entry · —"]
    state.on_price(Quote("MESZ25", D("6001"), FROZEN, "dtc"))
    state.publish()
    assert window.panel2._cards["MESZ25"] is card  # same card object: no widget re-creation per snapshot
    assert card.open_pnl.text() == "+$5.00"
