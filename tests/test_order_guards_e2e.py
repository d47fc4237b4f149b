"""The stop guard and the orphan cleanup end to end (issue 17): the real app and window against the simulator over
a real socket. Every assertion is about what the simulator received (the DTC order messages), what it holds
working, what the window shows, or what the database's audit trail holds."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from app_manager import PanelApp, build_app
from core.guard_views import STOP_GUARD
from core.settings import Settings
from core.snapshots import ConnectionState
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from dtc.sim.steps import InstrumentSpec

SYMBOL = "MESZ25"
WAIT = 10_000


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    scenario = Scenario(
        name="guards",
        accounts=(AccountSpec("Sim1", 50_000.0), AccountSpec("120005", 50_000.0)),
        instruments={SYMBOL: InstrumentSpec(SYMBOL, 0.25, 1.25, price=6000.0)},
    )
    server = SimulatorServer(scenario, autoplay=False)
    server.start()
    yield server
    server.stop()


def start(settings: Settings, port: int, qtbot, **changes: object) -> PanelApp:  # type: ignore[no-untyped-def]
    base = {
        "host": "127.0.0.1",
        "port": port,
        "heartbeat_seconds": 2,
        "stop_guard_ticks": {"Sim1": 8, "120005": 8},
        "stop_guard_grace_seconds": 0.5,
        "orphan_cleanup_grace_seconds": 0.5,
    }
    app = build_app(replace(settings, **(base | changes)))  # type: ignore[arg-type]
    qtbot.addWidget(app.window)
    app.start()
    qtbot.waitUntil(lambda: app.window.last_snapshot.connection.state == ConnectionState.SYNCED, timeout=WAIT)
    return app


@contextmanager
def running(settings: Settings, port: int, qtbot, **changes: object) -> Iterator[PanelApp]:  # type: ignore[no-untyped-def]
    """``start`` … and ``stop`` whatever the test does in between."""
    app = start(settings, port, qtbot, **changes)
    try:
        yield app
    finally:
        app.stop()


def sent(sim: SimulatorServer, type_: int) -> list[dict]:
    return [m for m in sim.orders_received() if m["Type"] == type_]


def feed(app: PanelApp, kind: str | None = None) -> list[str]:
    return [n.text for n in app.window.last_snapshot.notifications if kind is None or n.kind == kind]


def guard_line(app: PanelApp, symbol: str = SYMBOL) -> str:
    return app.window.panel2.guard_lines().get(symbol, "")


def audit(app: PanelApp, mode: str, account: str, symbol: str = SYMBOL) -> list[tuple[str, str]]:
    return [(e.kind, e.reason) for e in app.store.events(mode, account, symbol) if e.kind == STOP_GUARD]


def test_unprotected_position_is_warned_then_one_stop_is_sent_and_resized(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 2, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)  # after the grace period
        assert "stop guard not armed" in guard_line(app)
        # the card's line and the feed line travel separately (guard view, snapshot): both arrive
        qtbot.waitUntil(
            lambda: any("no working stop (stop guard not armed)" in t for t in feed(app, "unprotected")), timeout=WAIT
        )
        assert sent(simulator, 208) == []  # warnings only until armed

        app.window.panel2.guard_bar.stop_button.click()  # SIM: armed without a dialog
        qtbot.waitUntil(lambda: len(simulator.working_orders()) == 1, timeout=WAIT)
        (order,) = sent(simulator, 208)
        assert order["TradeAccount"] == "Sim1" and order["Symbol"] == SYMBOL
        assert (order["OrderType"], order["BuySell"], order["TimeInForce"]) == (3, 2, 2)  # stop, sell, GTC
        assert (order["Price1"], order["Quantity"]) == (5998.0, 2.0)  # 8 ticks of 0.25 below 6,000.00
        assert (order["OpenOrClose"], order["IsAutomatedOrder"]) == (2, 1)
        assert order["ClientOrderID"].startswith("DTCP-")
        qtbot.waitUntil(lambda: "its stop 2 @ 5,998.00 working" in guard_line(app), timeout=WAIT)
        # the window's order book sees it like any stop: the card's Stop row and the planned risk
        qtbot.waitUntil(lambda: app.window.last_snapshot.positions[0].stop_price == 5998, timeout=WAIT)
        qtbot.wait(1000)
        assert len(sent(simulator, 208)) == 1, "exactly one stop"

        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6002.0)  # scale in: 3 @ 6,000.67 → stop 8 ticks below, on the tick
        qtbot.waitUntil(lambda: [(o["quantity"], o["price"]) for o in simulator.working_orders()] == [(3.0, 5998.5)],
                        timeout=WAIT)  # fmt: skip
        (resize,) = sent(simulator, 204)
        assert (resize["ServerOrderID"], resize["Quantity"], resize["Price1"]) == (order_id(simulator), 3.0, 5998.5)

        simulator.fill("Sim1", SYMBOL, "SELL", 2, 6001.0)  # scale out: 1 left, same entry → same price
        qtbot.waitUntil(lambda: [(o["quantity"], o["price"]) for o in simulator.working_orders()] == [(1.0, 5998.5)],
                        timeout=WAIT)  # fmt: skip
        qtbot.waitUntil(lambda: "its stop 1 @ 5,998.50 working" in guard_line(app), timeout=WAIT)
        assert len(sent(simulator, 208)) == 1 and len(sent(simulator, 204)) == 2
        reasons = [r for _, r in audit(app, "SIM", "Sim1")]
        for expected in ("not sent", "sent 208", "accepted", "sent 204", "resized"):
            assert expected in reasons, reasons
        qtbot.waitUntil(lambda: any("resized it to 1 @ 5,998.50" in t for t in feed(app, "order")), timeout=WAIT)


def order_id(sim: SimulatorServer) -> str:
    (order,) = sim.working_orders()
    return order["server_order_id"]


def test_a_rejected_stop_is_an_alarm_and_is_not_sent_again(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_order_reject("Order rejected. Simulated broker risk check")
    with running(settings, simulator.port, qtbot, sound=True) as app:
        simulator.fill("Sim1", SYMBOL, "SELL", 1, 6000.0)  # short: the stop is a buy 8 ticks above
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "STOP REJECTED" in guard_line(app), timeout=WAIT)
        assert "Simulated broker risk check" in guard_line(app)
        (order,) = sent(simulator, 208)
        assert (order["BuySell"], order["Price1"], order["Quantity"]) == (1, 6002.0, 1.0)
        qtbot.waitUntil(lambda: any("REJECTED" in t for t in feed(app, "error")), timeout=WAIT)
        alarms = [t for t in feed(app, "error") if "REJECTED" in t]
        assert "NO protective stop" in alarms[0] and "Simulated broker risk check" in alarms[0]
        assert any("REJECTED" in text for text in app.alerts.announced)  # sound (and desktop) announcement
        qtbot.wait(1500)
        assert len(sent(simulator, 208)) == 1, "a reject is not retried for the same position"
        assert simulator.working_orders() == []
        assert ("stop_guard", "rejected") in audit(app, "SIM", "Sim1")


def stop_shown(app: PanelApp) -> object:
    positions = app.window.last_snapshot.positions
    return positions[0].stop_price if positions else None


def place_bracket(sim: SimulatorServer, account: str, side: str, stop: float, target: float) -> tuple[str, str]:
    return sim.place_order(account, SYMBOL, side, 3, stop, 1), sim.place_order(account, SYMBOL, side, 2, target, 1)


def bracket_shown(app: PanelApp) -> object:
    """(stop, target) on the position's card: both orders of a bracket reached the panel."""
    positions = app.window.last_snapshot.positions
    return (positions[0].stop_price, positions[0].target_price) if positions else None


def test_orders_left_after_a_manual_flat_are_offered_then_cancelled_by_one_click(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        stop_id, target_id = place_bracket(simulator, "Sim1", "SELL", 5990.0, 6010.0)
        qtbot.waitUntil(lambda: stop_shown(app) == 5990, timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 1, 6001.0)  # the trader closes by hand; the bracket stays
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: any("orphan cleanup not armed" in t for t in bar.offer_texts()), timeout=WAIT)
        (offer,) = bar.offer_texts()
        assert "stop sell 1 @ 5,990.00" in offer and "target sell 1 @ 6,010.00" in offer
        assert "orphan cleanup not armed" in offer
        qtbot.wait(700)
        assert sent(simulator, 203) == []  # offered, not cancelled
        assert len(simulator.working_orders()) == 2

        bar.offer_buttons[("Sim1", SYMBOL)].click()
        qtbot.waitUntil(lambda: simulator.working_orders() == [], timeout=WAIT)
        assert sorted(m["ServerOrderID"] for m in sent(simulator, 203)) == sorted([stop_id, target_id])
        assert all(m["ClientOrderID"] == f"SC-{m['ServerOrderID']}" and m["TradeAccount"] == "Sim1"
                   for m in sent(simulator, 203))  # fmt: skip
        qtbot.waitUntil(lambda: bar.offer_texts() == [], timeout=WAIT)
        qtbot.waitUntil(lambda: app.window.last_snapshot.orphan_orders == (), timeout=WAIT)  # the old flag too
        events = [(e.kind, e.reason) for e in app.store.events("SIM", "Sim1", SYMBOL)]
        assert events.count(("orphan_cleanup", "sent 203")) == 2 and events.count(("orphan_cleanup", "canceled")) == 2


def test_armed_cleanup_cancels_the_closed_sides_orders_a_flip_keeps_the_new_ones(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: bar.account == "Sim1", timeout=WAIT)
        bar.cleanup_button.click()
        qtbot.waitUntil(lambda: bar.cleanup_state.text() == "Orphan cleanup: ARMED", timeout=WAIT)
        old_stop, old_target = place_bracket(simulator, "Sim1", "SELL", 5990.0, 6010.0)
        qtbot.waitUntil(lambda: stop_shown(app) == 5990, timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 2, 6001.0)  # flip: short 1
        new_stop, new_target = place_bracket(simulator, "Sim1", "BUY", 6011.0, 5991.0)  # the short's own bracket
        qtbot.waitUntil(lambda: len(sent(simulator, 203)) == 2, timeout=WAIT)
        qtbot.waitUntil(lambda: len(simulator.working_orders()) == 2, timeout=WAIT)
        assert sorted(m["ServerOrderID"] for m in sent(simulator, 203)) == sorted([old_stop, old_target])
        assert sorted(o["server_order_id"] for o in simulator.working_orders()) == sorted([new_stop, new_target])
        qtbot.wait(800)
        assert len(sent(simulator, 203)) == 2, "the new position's orders are never cancelled"

        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)  # flat by hand: now the short's bracket is orphaned
        qtbot.waitUntil(lambda: simulator.working_orders() == [], timeout=WAIT)
        assert sorted(m["ServerOrderID"] for m in sent(simulator, 203))[-4:] == sorted(
            [old_stop, old_target, new_stop, new_target]
        )
        qtbot.waitUntil(lambda: bar.offer_texts() == [], timeout=WAIT)


def test_nothing_is_sent_for_a_disputed_position(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: bool(app.window.last_snapshot.positions), timeout=WAIT)
        simulator.set_position("Sim1", SYMBOL, 3, 6000.0)  # Sierra Chart reports 3: the panel's fills say 1
        qtbot.waitUntil(lambda: bool(app.window.last_snapshot.discrepancies), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "differs from Sierra Chart" in guard_line(app), timeout=WAIT)
        qtbot.wait(800)
        assert sent(simulator, 208) == []
        assert any("none sent: the position differs" in t for t in feed(app, "unprotected"))


def test_nothing_is_sent_for_an_unconfirmed_position(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        simulator.set_positions_reject("Positions are not available")  # the next 305 is answered with 307
        simulator.drop_connections()
        qtbot.waitUntil(lambda: simulator.logged_on_clients == 1, timeout=WAIT)
        qtbot.waitUntil(lambda: not app.window.last_snapshot.positions[0].confirmed, timeout=WAIT)
        qtbot.waitUntil(lambda: "unknown" in app.window.last_snapshot.positions_status, timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "not confirmed by Sierra Chart" in guard_line(app), timeout=WAIT)
        qtbot.wait(800)
        assert sent(simulator, 208) == []


def test_nothing_is_sent_with_a_stale_price(settings, simulator, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    simulator.set_market_data_rejected(["MES"])  # CME data: prices only from the study's CSV
    csv = tmp_path / "prices.csv"
    csv.write_text("last,high,low,vwap,poc,cum_delta\n6000.25,6003,5997,5999.5,6000,-310\n")
    old = time.time() - 120
    os.utime(csv, (old, old))  # written two minutes ago: stale
    with running(settings, simulator.port, qtbot, price_csv_path=str(csv), price_csv_symbol=SYMBOL) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "last price is stale" in guard_line(app), timeout=WAIT)
        qtbot.wait(800)
        assert sent(simulator, 208) == []
        csv.write_text("last,high,low,vwap,poc,cum_delta\n6000.50,6003,5997,5999.5,6000,-310\n")  # fresh again
        qtbot.waitUntil(lambda: len(sent(simulator, 208)) == 1, timeout=WAIT)
        assert sent(simulator, 208)[0]["Price1"] == 5998.0


def test_nothing_is_sent_when_sierra_chart_does_not_allow_trading(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_trading_allowed(False)
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "Allow Trading = No" in guard_line(app), timeout=WAIT)
        assert "Allow Trading = No" in app.window.panel2.guard_bar.note.text()
        qtbot.wait(800)
        assert sent(simulator, 208) == []


def test_a_live_account_is_armed_only_after_the_confirmation_naming_it(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        assert app.guards is not None
        simulator.fill("120005", SYMBOL, "BUY", 1, 6000.0)  # a LIVE account (not Sim#)
        qtbot.waitUntil(lambda: app.window.last_snapshot.scope_account == "120005", timeout=WAIT)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        bar = app.window.panel2.guard_bar
        bar.stop_button.click()
        assert bar.dialog is not None and bar.dialog.isVisible()
        shown = bar.dialog.findChild(type(bar.note), "armBody").text()
        assert "120005" in bar.dialog.windowTitle() and "SUBMIT_NEW_SINGLE_ORDER (208)" in shown and "8 ticks" in shown
        bar.dialog.reject()  # the trader cancels
        qtbot.wait(800)
        assert "120005" not in app.guards.view().stop_armed and sent(simulator, 208) == []
        app.guards.arm(STOP_GUARD, "120005", True)  # a request without the confirmation is refused
        qtbot.waitUntil(lambda: "confirmation naming the account is missing" in bar.note.text(), timeout=WAIT)
        assert sent(simulator, 208) == []
        assert ("stop_guard", "arming refused") in [(e.kind, e.reason) for e in app.store.events("LIVE", "120005", "")]

        bar.stop_button.click()
        bar.dialog.findChild(type(bar.stop_button), "armConfirm").click()
        qtbot.waitUntil(lambda: len(sent(simulator, 208)) == 1, timeout=WAIT)
        assert sent(simulator, 208)[0]["TradeAccount"] == "120005"
        qtbot.waitUntil(lambda: guard_line(app).startswith("LIVE · STOP GUARD ARMED"), timeout=WAIT)
        assert bar.stop_state.text() == "LIVE 120005 · STOP GUARD ARMED"


def test_nothing_is_sent_for_a_position_the_panel_did_not_see_open(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as first:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(first), timeout=WAIT)
    with running(settings, simulator.port, qtbot) as app:  # restarted: the position is recovered, not seen opening
        qtbot.waitUntil(lambda: bool(app.window.last_snapshot.positions), timeout=WAIT)
        qtbot.waitUntil(lambda: app.window.last_snapshot.positions[0].confirmed, timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "did not see this position open" in guard_line(app), timeout=WAIT)
        qtbot.wait(800)
        assert sent(simulator, 208) == []


def test_a_trading_disabled_account_gets_warnings_only(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        simulator.set_trading_disabled("Sim1")  # Sierra Chart's risk settings lock the account (600)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: "TradingIsDisabled" in bar.note.text(), timeout=WAIT)
        bar.stop_button.click()
        qtbot.waitUntil(lambda: "trading is disabled for Sim1" in guard_line(app), timeout=WAIT)
        qtbot.wait(800)
        assert sent(simulator, 208) == []


def test_a_disabled_account_stays_disabled_through_later_balance_updates(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Every 600 carries TradingIsDisabled: the simulator's balance update that comes with a later fill must say
    the account is still locked (it used to say 0, and the panel took the account as enabled again)."""
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        simulator.set_trading_disabled("Sim1")
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: "TradingIsDisabled" in bar.note.text(), timeout=WAIT)
        simulator.burst([("Sim1", SYMBOL, "BUY", 1, 6000.0)])  # 301, 306 and a 600 of the account
        qtbot.waitUntil(lambda: app.window.panel2.card_texts()[0].startswith("LONG 2"), timeout=WAIT)
        bar.stop_button.click()
        qtbot.waitUntil(lambda: "trading is disabled for Sim1" in guard_line(app), timeout=WAIT)
        assert "TradingIsDisabled" in bar.note.text()
        qtbot.wait(800)
        assert sent(simulator, 208) == []


def test_a_slow_answer_and_a_link_drop_meanwhile_never_double_the_stop(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_order_delay(2.0)  # Sierra Chart (or the broker) takes 2 s to answer
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: len(sent(simulator, 208)) == 1, timeout=WAIT)
        qtbot.waitUntil(lambda: "waiting for Sierra Chart" in guard_line(app), timeout=WAIT)
        simulator.drop_connections()  # the answer is lost with the link; the order is accepted meanwhile
        qtbot.waitUntil(lambda: simulator.logged_on_clients == 1, timeout=WAIT)
        qtbot.waitUntil(lambda: len(simulator.working_orders()) == 1, timeout=WAIT)
        # after the reconnect Sierra Chart's open orders restate the stop: the panel knows it as its own
        qtbot.waitUntil(lambda: "its stop 1 @ 5,998.00 working" in guard_line(app), timeout=WAIT)
        qtbot.wait(1000)
        assert len(sent(simulator, 208)) == 1, "never a second stop for the same position"


def test_a_filled_guard_stop_then_a_new_trade_at_the_same_price_gets_its_own_stop(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: len(simulator.working_orders()) == 1, timeout=WAIT)
        (stop,) = sent(simulator, 208)
        simulator.fill_order(stop["ClientOrderID"])  # the market falls to the stop: Sierra Chart fills it
        qtbot.waitUntil(lambda: not app.window.last_snapshot.positions, timeout=WAIT)
        (trade,) = app.store.trades("SIM", "Sim1")
        assert trade.exit_price == 5998 and trade.stop_price == 5998
        qtbot.waitUntil(lambda: any("stop 5,998.00 MESZ25 filled" in t for t in feed(app, "order")), timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)  # the same entry again: a new position
        qtbot.waitUntil(lambda: len(sent(simulator, 208)) == 2, timeout=WAIT)
        assert sent(simulator, 208)[1]["ClientOrderID"] != stop["ClientOrderID"]
        assert simulator.positions()[("Sim1", SYMBOL)] == (1.0, 6000.0)


def test_a_flip_and_a_flip_back_never_leave_two_stops_for_one_position(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:  # stop guard armed, orphan cleanup not
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: len(simulator.working_orders()) == 1, timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 2, 6000.0)  # flip: short 1; the long's sell stop stays (offered)
        qtbot.waitUntil(lambda: len(sent(simulator, 208)) == 2, timeout=WAIT)
        qtbot.waitUntil(lambda: len(simulator.working_orders()) == 2, timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "BUY", 2, 6000.0)  # flip back: long 1, and the first sell stop still works
        qtbot.waitUntil(lambda: "its stop 1 @ 5,998.00 working" in guard_line(app), timeout=WAIT)
        qtbot.wait(1500)
        assert len(sent(simulator, 208)) == 2, "no third stop"
        sells = [(o["side"], o["price"], o["quantity"]) for o in simulator.working_orders() if o["side"] == "SELL"]
        assert sells == [("SELL", 5998.0, 1.0)], "one sell stop for a long of 1"
        qtbot.waitUntil(lambda: any("protects the position again" in t for t in feed(app, "order")), timeout=WAIT)


def test_a_refused_cancel_is_never_sent_again_by_itself_but_offered_with_one_alarm(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_cancel_reject("Cancel rejected. Simulated exchange lock")  # the orders stay working
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: bar.account == "Sim1", timeout=WAIT)
        bar.cleanup_button.click()
        stop_id, target_id = place_bracket(simulator, "Sim1", "SELL", 5990.0, 6010.0)
        qtbot.waitUntil(lambda: bracket_shown(app) == (5990, 6010), timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 1, 6001.0)  # flat by hand: cleanup armed cancels, Sierra Chart refuses
        qtbot.waitUntil(lambda: any("not cancelled automatically again" in t for t in bar.offer_texts()), timeout=WAIT)
        qtbot.wait(2000)
        assert sorted(m["ServerOrderID"] for m in sent(simulator, 203)) == sorted([stop_id, target_id]), "once each"
        assert len(simulator.working_orders()) == 2
        (offer,) = bar.offer_texts()
        assert "stop sell 1 @ 5,990.00" in offer and "Simulated exchange lock" in offer
        # the panel's own book still holds them (the reject restated the order): the old flag shows them too
        assert len(app.window.last_snapshot.orphan_orders) == 2
        alarms = [t for t in feed(app, "error") if "REJECTED" in t]
        assert len(alarms) == 2 and all("still working" in t for t in alarms), alarms  # one per order


def test_the_guards_stop_gone_while_the_link_was_down_is_an_alarm_on_reconnect(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: "its stop 1 @ 5,998.00 working" in guard_line(app), timeout=WAIT)
        (stop,) = sent(simulator, 208)
        assert simulator.lose_working_order(stop["ClientOrderID"])  # gone at Sierra Chart, no 301 reaches the panel
        simulator.drop_connections()
        qtbot.waitUntil(lambda: simulator.logged_on_clients == 1, timeout=WAIT)
        qtbot.waitUntil(lambda: "STOP GONE" in guard_line(app), timeout=WAIT)  # never green "working"
        qtbot.waitUntil(lambda: any("NOT working at Sierra Chart after the reconnect" in t for t in feed(app, "error")),
                        timeout=WAIT)  # fmt: skip
        qtbot.wait(1000)
        assert "working" not in guard_line(app)
        assert len(sent(simulator, 208)) == 1 and simulator.working_orders() == []


def test_nothing_is_sent_until_the_open_orders_are_restated_after_a_logon(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: bar.account == "Sim1", timeout=WAIT)
        simulator.place_order("Sim1", SYMBOL, "SELL", 3, 5990.0, 1)  # the trader's own stop
        qtbot.waitUntil(lambda: stop_shown(app) == 5990, timeout=WAIT)
        bar.stop_button.click()
        qtbot.waitUntil(lambda: "protected" in guard_line(app), timeout=WAIT)
        simulator.set_open_orders_reject("Open orders are not available")  # the next 300 is answered with 302
        simulator.drop_connections()
        qtbot.waitUntil(lambda: simulator.logged_on_clients == 1, timeout=WAIT)
        qtbot.waitUntil(lambda: "STOP UNKNOWN" in guard_line(app) and "not restated" in guard_line(app), timeout=WAIT)
        qtbot.waitUntil(lambda: "not restated since the logon" in bar.note.text(), timeout=WAIT)
        qtbot.waitUntil(lambda: any("not restated since the logon" in t for t in feed(app, "warning")), timeout=WAIT)
        qtbot.wait(1500)
        assert sent(simulator, 208) == [], "the trader's stop is not doubled"

        simulator.set_open_orders_reject(None)
        simulator.drop_connections()  # the next logon's 300 is answered: the trader's stop is known again
        qtbot.waitUntil(lambda: "protected" in guard_line(app), timeout=WAIT)
        qtbot.wait(1000)
        assert sent(simulator, 208) == [] and not bar.note.isVisible()


def test_an_offer_to_cancel_orphans_survives_a_reconnect(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        stop_id, target_id = place_bracket(simulator, "Sim1", "SELL", 5990.0, 6010.0)
        qtbot.waitUntil(lambda: stop_shown(app) == 5990, timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 1, 6001.0)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: any("orphan cleanup not armed" in t for t in bar.offer_texts()), timeout=WAIT)
        simulator.set_open_orders_reject("Open orders are not available")
        simulator.drop_connections()
        qtbot.waitUntil(lambda: simulator.logged_on_clients == 1, timeout=WAIT)
        qtbot.waitUntil(lambda: any("on hold" in t for t in bar.offer_texts()), timeout=WAIT)
        qtbot.wait(1500)
        assert any("stop sell 1 @ 5,990.00" in t for t in bar.offer_texts())  # not dropped while the book is empty
        bar.offer_buttons[("Sim1", SYMBOL)].click()  # refused: the orders are not known
        qtbot.wait(800)
        assert sent(simulator, 203) == []
        simulator.set_open_orders_reject(None)
        simulator.drop_connections()
        qtbot.waitUntil(lambda: any("orphan cleanup not armed" in t for t in bar.offer_texts()), timeout=WAIT)
        bar.offer_buttons[("Sim1", SYMBOL)].click()
        qtbot.waitUntil(lambda: simulator.working_orders() == [], timeout=WAIT)
        assert sorted(m["ServerOrderID"] for m in sent(simulator, 203)) == sorted([stop_id, target_id])


def test_no_answer_to_the_stop_is_one_alarm_and_it_is_not_sent_again(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_order_delay(600.0)  # Sierra Chart never answers (in this test's time)
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: "NO STOP" in guard_line(app), timeout=WAIT)
        app.window.panel2.guard_bar.stop_button.click()
        qtbot.waitUntil(lambda: len(sent(simulator, 208)) == 1, timeout=WAIT)
        (stop,) = sent(simulator, 208)
        qtbot.waitUntil(lambda: "NO ANSWER" in guard_line(app), timeout=WAIT)  # ~5 s after sending
        qtbot.waitUntil(lambda: len([t for t in feed(app, "error") if "no answer from Sierra Chart" in t]) == 1,
                        timeout=WAIT)  # fmt: skip
        alarm = [t for t in feed(app, "error") if "no answer from Sierra Chart" in t]
        assert stop["ClientOrderID"] in alarm[0] and "not sent again" in alarm[0]
        qtbot.wait(2000)
        assert len(sent(simulator, 208)) == 1, "never re-sent"
        assert len([t for t in feed(app, "error") if "no answer from Sierra Chart" in t]) == 1, "one alarm"
        assert ("stop_guard", "no answer") in audit(app, "SIM", "Sim1")


def test_a_cancel_reject_that_names_only_the_client_order_id_is_an_alarm(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_cancel_reject("Cancel rejected. Simulated exchange lock", bare=True)  # no ServerOrderID in the 301
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: bar.account == "Sim1", timeout=WAIT)
        bar.cleanup_button.click()
        place_bracket(simulator, "Sim1", "SELL", 5990.0, 6010.0)
        qtbot.waitUntil(lambda: bracket_shown(app) == (5990, 6010), timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 1, 6001.0)
        qtbot.waitUntil(lambda: len(sent(simulator, 203)) == 2, timeout=WAIT)
        # the reject itself is recognised at once (not only the 5 s "no answer" alarm later)
        qtbot.waitUntil(lambda: len([t for t in feed(app, "error") if "Simulated exchange lock" in t]) == 2,
                        timeout=3000)  # fmt: skip
        qtbot.waitUntil(lambda: any("Simulated exchange lock" in t for t in bar.offer_texts()), timeout=WAIT)
        assert len(simulator.working_orders()) == 2 and len(sent(simulator, 203)) == 2


def test_the_one_click_cancel_is_refused_for_a_disputed_position(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    with running(settings, simulator.port, qtbot) as app:
        simulator.fill("Sim1", SYMBOL, "BUY", 1, 6000.0)
        place_bracket(simulator, "Sim1", "SELL", 5990.0, 6010.0)
        qtbot.waitUntil(lambda: bracket_shown(app) == (5990, 6010), timeout=WAIT)
        simulator.fill("Sim1", SYMBOL, "SELL", 1, 6001.0)  # flat by hand: offered (cleanup not armed)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: any("orphan cleanup not armed" in t for t in bar.offer_texts()), timeout=WAIT)
        simulator.set_position("Sim1", SYMBOL, 1, 6000.0)  # Sierra Chart now reports long 1: the flat is disputed
        qtbot.waitUntil(lambda: bool(app.window.last_snapshot.discrepancies), timeout=WAIT)
        bar.offer_buttons[("Sim1", SYMBOL)].click()
        qtbot.waitUntil(lambda: any("cancel not sent: the position differs" in t for t in feed(app, "warning")),
                        timeout=WAIT)  # fmt: skip
        qtbot.wait(800)
        assert sent(simulator, 203) == [] and len(simulator.working_orders()) == 2


def test_the_live_confirmation_lists_every_stop_distance_of_the_account(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    per_symbol_only = {"Sim1": 8, "120005/MES": 12}
    with running(settings, simulator.port, qtbot, stop_guard_ticks=per_symbol_only) as app:
        simulator.fill("120005", SYMBOL, "BUY", 1, 6000.0)
        qtbot.waitUntil(lambda: app.window.last_snapshot.scope_account == "120005", timeout=WAIT)
        bar = app.window.panel2.guard_bar
        qtbot.waitUntil(lambda: bar.stop_button.isEnabled(), timeout=WAIT)
        bar.stop_button.click()
        assert bar.dialog is not None and bar.dialog.isVisible()
        shown = bar.dialog.findChild(type(bar.note), "armBody").text()
        assert "MES: 12 ticks" in shown and "none set" not in shown
        bar.dialog.reject()
    with running(settings, simulator.port, qtbot, stop_guard_ticks={"120005": 8, "120005/MES": 12}) as app:
        qtbot.waitUntil(lambda: app.window.last_snapshot.scope_account == "120005", timeout=WAIT)
        bar = app.window.panel2.guard_bar
        bar.stop_button.click()
        shown = bar.dialog.findChild(type(bar.note), "armBody").text()
        assert "8 ticks (every other symbol); MES: 12 ticks" in shown
        bar.dialog.reject()
