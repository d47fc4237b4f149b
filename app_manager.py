"""DTC Panel — composition root. Parses the command line, builds engine → store → state → router → client
→ window, recovers open positions before the window shows, and starts the DTC thread.

    uv run app_manager.py --demo                       # built-in simulator with a looping scenario
    uv run app_manager.py --host 127.0.0.1 --port 11099  # beside Sierra Chart
"""

from __future__ import annotations

import argparse
import gc
import logging
import logging.handlers
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core import integrity
from core.csv_prices import CsvPriceSource
from core.feed_history import restored_notes
from core.fill_journal import JOURNAL_FILENAME, FillJournal
from core.fills import FillFactory
from core.guard_views import GuardConfig
from core.instruments import InstrumentBook
from core.legacy import import_legacy_files
from core.market_data import MarketDataFeed, SecurityDefinitions
from core.modes import ModeClassifier
from core.order_guards import OrderGuards
from core.orders import OrderBook
from core.prices import PriceBook
from core.resync import ResyncController
from core.router import MessageRouter
from core.secrets import load_password, save_password
from core.settings import THEMES, Settings, SettingsError
from core.sierra_trades import SierraTradeList
from core.snapshots import ConnectionState
from core.state import StateManager
from core.supervisor import ThreadSupervisor
from core.text import EscapeControlCharacters
from data.db import make_engine
from data.repository import PositionStore
from data.sierra_store import SierraTradeStore
from data.storage import OpenedStorage
from dtc.client import ClientConfig, DTCClient, LinkState
from dtc.messages import DTCMessage
from panels.alerts import DesktopAlerts
from panels.bridge import QtBridge
from panels.main_window import MainWindow
from panels.reconcile_dialog import ReconcileController
from panels.startup_reports import EXIT_STORAGE, make_private, open_checked_storage, report_settings_problem

if TYPE_CHECKING:
    from api import LocalApi  # imported only when the API is on: aiohttp stays out of a plain start

log = logging.getLogger("dtc_panel")

RESOURCES = Path(__file__).resolve().parent / "resources"
DEMO_SCENARIO = RESOURCES / "scenarios" / "demo.json"
PASSWORD_ENV = "DTC_PANEL_PASSWORD"
SWITCH_INTERVAL_S = 0.001
HEARTBEAT_RANGE_S = (1, 300)
"""The heartbeat intervals ``--heartbeat`` accepts (seconds): 0 would mean a link that is always stale."""
CLIENT_STOP_WAIT_S = 1.5
"""How long closing waits for the DTC thread to send LOGOFF and finish (s): the whole close stays within 2 s."""

_LINK_TO_CONNECTION = {
    LinkState.DISCONNECTED: ConnectionState.DISCONNECTED,
    LinkState.CONNECTING: ConnectionState.CONNECTING,
    LinkState.LOGGING_ON: ConnectionState.LOGGING_ON,
    LinkState.STALE: ConnectionState.STALE,
    LinkState.STOPPED: ConnectionState.STOPPED,
}


def heartbeat_seconds(text: str) -> int:
    """``--heartbeat``'s type: whole seconds within ``HEARTBEAT_RANGE_S``, else argparse's usage error."""
    low, high = HEARTBEAT_RANGE_S
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds from {low} to {high}, not {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app_manager.py", description="DTC Panel: positions and P&L from Sierra Chart")
    p.add_argument("--demo", action="store_true", help="run against the built-in DTC simulator (no Sierra Chart)")
    p.add_argument("--host", help="Sierra Chart DTC server address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="Sierra Chart DTC listening port (default 11099)")
    p.add_argument("--data-dir", type=Path, help="folder for the database, settings and logs")
    p.add_argument("--account", help="always show this trade account (default: follow the latest fill)")
    p.add_argument("--heartbeat", type=heartbeat_seconds, help="heartbeat interval in seconds, 1-300 (default 10)")
    p.add_argument("--username", help="DTC username if Sierra Chart requires authentication")
    p.add_argument(
        "--no-encoding-request",
        action="store_true",
        help="skip the binary encoding handshake (Sierra Chart's DTC Encoding set to JSON)",
    )
    p.add_argument("--tls", action="store_true", help="connect with TLS (Sierra Chart's Require TLS = Yes)")
    p.add_argument("--trust-certificate", help="with --tls: a certificate file to trust (e.g. a self-signed one)")
    p.add_argument("--scenario", type=Path, help="with --demo: the simulator scenario file")
    p.add_argument("--screenshot", type=Path, help="save a PNG of the window after --after seconds, then exit")
    p.add_argument("--after", type=float, default=5.0, help="seconds before --screenshot (default 5)")
    p.add_argument("--width", type=int, help="open the window this many pixels wide (e.g. 400: the compact strip)")
    p.add_argument("--height", type=int, help="open the window this many pixels high")
    p.add_argument("--theme", choices=THEMES, help="the window's look: system (default), light or dark")
    p.add_argument("--charts", action="store_true", help="open with the trade charts in front (wide window)")
    p.add_argument("--no-connect", action="store_true", help="show stored positions without connecting")
    p.add_argument("--api-port", type=int, help="serve the read-only local API on this port (docs/API.md)")
    p.add_argument(
        "--restore-backup",
        action="store_true",
        help="if the database is damaged: set it aside and restore the newest good backup (empty if none)",
    )
    return p.parse_args(argv)


def build_settings(args: argparse.Namespace) -> tuple[Settings, Settings]:
    """(effective, persisted): platform defaults (or ``--data-dir``) overlaid with settings.json — that is
    ``persisted`` — and that overlaid with the command-line flags.

    Raises ``SettingsError`` naming every value of the file (or flag) that cannot be used."""
    if args.data_dir is not None:
        base = Settings.for_directories(args.data_dir.resolve())
    else:
        base = Settings.platform_default()
        if args.demo:  # the demo never mixes simulated trades or settings into the trader's own
            base = replace(base, data_dir=base.data_dir / "demo", config_dir=base.config_dir / "demo")
    settings = persisted = base.with_file()
    changes: dict[str, object] = {}
    for flag, key in (("host", "host"), ("port", "port"), ("account", "account"), ("heartbeat", "heartbeat_seconds")):
        value = getattr(args, flag)
        if value is not None:
            changes[key] = value
    if args.username is not None:
        changes["username"] = args.username
    if args.no_encoding_request:
        changes["encoding_request"] = False
    if args.tls:
        changes["tls"] = True
    if args.theme:
        changes["theme"] = args.theme
    if args.trust_certificate:
        changes["tls_trusted_certificate"] = args.trust_certificate
    if args.api_port is not None:
        changes.update(api_enabled=True, api_port=args.api_port)
    try:
        return replace(settings, **changes), persisted
    except SettingsError as exc:
        raise SettingsError("command line", exc.problems) from None


def setup_logging(log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    handler = logging.handlers.RotatingFileHandler(
        log_dir / "dtc-panel.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(fmt)
    console = logging.StreamHandler()
    console.setFormatter(fmt)
    for each in (handler, console):
        each.addFilter(EscapeControlCharacters())  # server text can neither forge lines nor drive a terminal
    root.handlers[:] = [handler, console]


class DtcSession:
    """What the DTC thread does besides routing messages: link changes, the end of each received chunk, and
    the periodic tick. Holds no socket: tests drive it directly (``on_chunk_end``, ``on_tick``)."""

    def __init__(
        self,
        state: StateManager,
        router: MessageRouter,
        resync: ResyncController,
        feed: MarketDataFeed,
        trade_list: SierraTradeList | None = None,
    ):
        self.state, self.router, self.resync, self.feed = state, router, resync, feed
        self.trade_list = trade_list
        self.guards: OrderGuards | None = None
        """The stop guard and orphan cleanup (issue 17): ticked here, told when the link drops."""
        self.client: DTCClient | None = None
        self._touched = 0.0

    def on_link(self, link: LinkState, detail: str) -> None:
        """The client's connection state changed (DTC thread)."""
        if link == LinkState.LOGGED_ON:
            self.state.set_connection(*self.resync.status())
        else:
            if link in (LinkState.DISCONNECTED, LinkState.STOPPED):
                self.resync.on_disconnect()
                self.feed.on_disconnect()
                if self.trade_list is not None:
                    self.trade_list.on_disconnect()
                if self.guards is not None:
                    self.guards.on_disconnected()
                self.state.on_disconnected()
            self.state.set_connection(_LINK_TO_CONNECTION[link], detail)
        self.state.publish()

    def on_thread_failed(self, text: str) -> None:
        """The DTC thread is ending with an unexpected error (on that thread; the supervisor restarts it):
        the window says so at once and shows the link as down, and everything of the old link is dropped."""
        self.state.notify("error", text)
        self.on_link(LinkState.DISCONNECTED, text)

    def on_chunk_end(self) -> None:
        """A received chunk is routed: apply its held prices, store its fills in one transaction, publish."""
        self.router.end_of_chunk()
        self.state.end_of_chunk()

    def on_tick(self) -> None:
        """Every ~100 ms on the DTC thread: the GUI's requests, held fills, request timeouts, grace periods,
        excursions to store, and once a second the clock-dependent figures (ages, time in trade)."""
        state = self.state
        state.run_commands()
        state.retry_pending()
        self.resync.tick()
        if self.trade_list is not None:
            self.trade_list.tick()
        state.check_reconciliation()
        if self.guards is not None:
            self.guards.tick()
        state.flush_marks()
        now = time.monotonic()
        if now - self._touched >= 1.0:
            self._touched = now
            client = self.client
            connected = client is not None and client.state in (LinkState.LOGGED_ON, LinkState.STALE)
            state.set_data_age(now - client.last_received if client is not None and connected else None)
            state.touch()
        state.publish_throttled()


@dataclass
class PanelApp:
    """Everything the running panel is made of, wired together. ``start()`` connects; ``stop()`` closes."""

    settings: Settings
    state: StateManager
    store: PositionStore
    router: MessageRouter
    resync: ResyncController
    client: DTCClient
    window: MainWindow
    csv_source: CsvPriceSource | None = None
    reconcile: ReconcileController | None = None
    alerts: DesktopAlerts | None = None
    session: DtcSession | None = None
    trade_list: SierraTradeList | None = None
    """Sierra Chart's own trade list: backfill before first contact and cross-check (issue 15)."""
    supervisor: ThreadSupervisor = field(default_factory=ThreadSupervisor)
    """Restarts the DTC and price threads if one dies of an unexpected error, which the window shows."""
    api: LocalApi | None = None
    """The read-only local API (issue 16), when enabled; it serves from its own thread."""
    guards: OrderGuards | None = None
    """The stop guard and orphan cleanup (issue 17): the only senders of orders, off until armed."""

    def start(self) -> None:
        self.start_api()
        if self.csv_source is not None:
            self.supervisor.start("Price CSV reader", self.csv_source, self._show_failure)
        self.state.attach_worker(True)  # the client's tick runs the GUI's requests from now on
        on_failure = self.session.on_thread_failed if self.session is not None else self._show_failure
        self.supervisor.start("DTC connection", self.client, on_failure)

    def start_api(self) -> None:
        """Serve the local API if it is on (``start`` does; ``--no-connect`` calls it alone). Idempotent."""
        if self.api is not None and not self.api.started:
            for kind, text in self.api.start_reporting():
                self.state.notify(kind, text)

    def _show_failure(self, text: str) -> None:
        """A supervised thread failed (on that thread): an error line in the window's notification feed."""
        self.state.notify("error", text)

    def stop(self) -> None:
        """Close: LOGOFF (5) to Sierra Chart, the GUI's last requests, marks stored, then the database closed
        (its WAL checkpointed). Takes at most ``CLIENT_STOP_WAIT_S`` plus the time of the last commits."""
        self.supervisor.stop()  # nothing restarts while stopping
        self.client.stop(CLIENT_STOP_WAIT_S)
        self.state.attach_worker(False)
        self.state.run_commands()
        if self.csv_source is not None:
            self.csv_source.stop()
        self.state.flush_marks(force=True)
        self.state.publish()
        if self.trade_list is not None:
            self.trade_list.close()  # an answer being stored is finished before the database closes
        if self.api is not None:
            self.api.stop()
        self.state.close()
        self.store.engine.dispose()  # closes every pooled SQLite connection: the database is closed cleanly


def install_quit_signals(quit_app: Callable[[], None]) -> None:
    """Ctrl+C (SIGINT), SIGTERM (``kill``, logout, service managers) and, on Windows, Ctrl+Break (SIGBREAK)
    close the panel the way its window's close button does: ``quit_app`` is called from the Qt event loop.
    A second signal while closing ends the process at once."""

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: closing", signum)
        for again in _quit_signals():
            signal.signal(again, signal.SIG_DFL)
        QTimer.singleShot(0, quit_app)  # also works when it arrives before the event loop runs

    for signum in _quit_signals():
        signal.signal(signum, on_signal)


def _quit_signals() -> list[int]:
    return [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name)]


def store_journaled_fills(state: StateManager, path: Path) -> None:
    """Journal fills held after a storage failure to ``path`` from now on, and store those a previous run
    journaled but could not store before it quit (each once: stored execution ids are skipped)."""
    state.ledger.use_journal(FillJournal(path))
    try:
        count = state.ledger.load_journal()
    except OSError as exc:
        state.notify("error", f"Cannot read the fills held at the last quit from {path}: {exc}")
        return
    if count:
        state.retry_pending()
        state.notify("warning", f"{count} fill(s) not stored when DTC Panel last quit were read back from {path.name}")


def guard_config(settings: Settings) -> GuardConfig:
    """The stop guard's distances and both grace periods from the settings."""
    return GuardConfig(
        dict(settings.stop_guard_ticks), settings.stop_guard_grace_seconds, settings.orphan_cleanup_grace_seconds
    )


def build_app(
    settings: Settings,
    password: str = "",
    persisted: Settings | None = None,
    storage: OpenedStorage | None = None,
    password_source: Callable[[], str] | None = None,
) -> PanelApp:
    """Build the panel: open the database, recover every open position, create the window (already showing
    the recovered state) and a DTC client that is not started yet.

    ``persisted`` is what the settings file holds (without command-line overrides); the settings dialog
    saves only the fields the trader changed on top of it, so ``--demo`` or ``--port`` never leak into it.
    ``storage`` is the data folder as ``open_storage`` locked, checked and opened it (its notes, e.g. a restored
    backup, are shown in the window); without it the database is opened here, unchecked and unlocked (tests,
    tools).

    Raises ``data.repository.StorageError`` if stored positions cannot be read.
    """
    # The DTC thread releases the GIL for every socket read and SQLite call; with the GUI thread busy in
    # Python it would wait up to the default 5 ms switch interval to get it back, per call. 1 ms keeps a
    # burst of fills moving while the window renders.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    store = PositionStore(storage.engine if storage is not None else make_engine(settings.data_dir))
    instruments = InstrumentBook(settings.point_values)
    state = StateManager(
        store,
        instruments,
        ModeClassifier(settings.sim_account_pattern),
        prices=PriceBook(),
        orders=OrderBook(),
        pinned_account=settings.account,
        session_start=settings.session_start,
        session_timezone=settings.session_timezone,
    )
    state.background_statistics(True)  # a period's history loads off the DTC and GUI threads
    for result in import_legacy_files(settings.data_dir, store):
        log.info("legacy timer file %s: %s", result.path.name, result.note)
    problems = integrity.check(store)
    state.recover()
    state.restore_notifications(restored_notes(store, lambda symbol: instruments.lookup(symbol).tick_size))
    store_journaled_fills(state, settings.data_dir / JOURNAL_FILENAME)
    for problem in problems:
        integrity.record(store, problem)
        state.notify("error", f"Integrity check: {problem.text}")
    for note in storage.notes if storage is not None else ():
        state.notify("error", note)

    def save_settings(new: Settings, password: str | None) -> None:  # from the settings dialog (GUI thread)
        changed = {
            f.name: getattr(new, f.name) for f in fields(new) if getattr(new, f.name) != getattr(settings, f.name)
        }
        saved = replace(persisted or settings, **changed).save()
        guards.set_config(guard_config(new))  # stop distances and grace periods apply at once
        log.info("settings saved to %s (connection changes apply after a restart)", saved)
        if password is not None and not save_password(new.username, password):
            state.notify("warning", f"No system keyring: password not stored; set {PASSWORD_ENV} instead")

    window = MainWindow(
        on_scope_chosen=state.set_scope,
        on_follow=state.follow_latest_fill,
        on_period_chosen=state.set_period,
        on_settings_saved=save_settings,
        settings=settings,
        ui_state_path=settings.config_dir / "ui_state.json",
        heat_thresholds=(settings.heat_warning_seconds, settings.heat_alarm_seconds),
        look=settings.theme,
        font_size=settings.font_size,
    )
    reconcile = ReconcileController(state.resolve, window)
    window.shown.connect(reconcile.on_snapshot)
    window.reconcile_requested.connect(reconcile.show_dialog)  # the "positions differ" chip
    alerts = DesktopAlerts(window, desktop=settings.desktop_notifications, sound=settings.sound)
    window.shown.connect(alerts.on_snapshot)  # the first snapshot shown is not news: alerts skip it
    bridge = QtBridge(window)
    bridge.updated.connect(window.apply)
    state.subscribe(bridge.publish)
    api = None
    if settings.api_enabled:
        from api import LocalApi

        api = LocalApi.from_settings(settings)
        state.subscribe(api.publish)  # before the first snapshot: the API starts from the same picture
    state.publish(force=True)  # the recovered state, on screen before the window shows

    def send(message: DTCMessage) -> None:
        client.send(message)  # the client is created below; resync only sends after it has started

    resync = ResyncController(send, state, store)
    guards = OrderGuards(state, store, instruments, send, guard_config(settings))
    guard_bridge = QtBridge(window)
    guard_bridge.updated.connect(window.panel2.show_guards)
    guards.subscribe(guard_bridge.publish)
    window.panel2.guard_bar.arm_requested.connect(guards.arm)
    window.panel2.guard_bar.cancel_requested.connect(guards.cancel_orphans)
    trade_list = SierraTradeList(
        send,
        state,
        SierraTradeStore(store.engine),
        instruments,
        days=settings.sierra_trades_days,
        session=(settings.session_start, settings.session_timezone),
    )
    resync.on_synced = trade_list.request
    sierra_bridge = QtBridge(window)
    sierra_bridge.updated.connect(window.show_sierra)
    trade_list.subscribe(sierra_bridge.publish)
    trade_list.publish()  # the differences stored by earlier runs
    feed = MarketDataFeed(send, state.on_price)
    router = MessageRouter(
        state,
        FillFactory(instruments, settings.commission_for),
        resync,
        instruments,
        feed=feed,
        definitions=SecurityDefinitions(send, instruments.define),
        trade_list=trade_list,
        guards=guards,
    )

    session = DtcSession(state, router, resync, feed, trade_list)
    session.guards = guards
    client = DTCClient(
        ClientConfig(
            host=settings.host,
            port=settings.port,
            username=settings.username,
            password=password,
            password_source=password_source,
            heartbeat_seconds=settings.heartbeat_seconds,
            client_name=settings.client_name,
            encoding_request=settings.encoding_request,
            connect_timeout=settings.connect_timeout_seconds,
            reconnect_max=settings.reconnect_max_seconds,
            tls=settings.tls,
            tls_trusted_certificate=settings.tls_trusted_certificate,
        ),
        on_message=router.route,
        on_bad_frame=router.skip,
        on_link=session.on_link,
        on_chunk_end=session.on_chunk_end,
        on_tick=session.on_tick,
        on_notice=lambda text: state.notify("warning", text),
    )
    session.client = client
    state.set_connection(ConnectionState.DISCONNECTED, "not connected yet", f"{settings.host}:{settings.port}")
    csv_source = None
    if settings.price_csv_path:
        csv_source = CsvPriceSource(
            Path(settings.price_csv_path),
            state.on_price,
            symbol=settings.price_csv_symbol,
            on_problem=lambda text: state.notify("warning", text),
        )
    return PanelApp(
        settings, state, store, router, resync, client, window, csv_source, reconcile, alerts, session, trade_list,
        api=api, guards=guards,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings, persisted = build_settings(args)
    except SettingsError as exc:
        return report_settings_problem(exc)
    make_private(settings)
    try:
        setup_logging(settings.log_dir)
    except OSError as exc:
        print(f"DTC Panel cannot start: cannot write its log in {settings.log_dir} ({exc.strerror or exc}).\n"
              "What to do: make the folder writable for your user (or free disk space), or start with "
              "--data-dir pointing at a folder you can write to.", file=sys.stderr)  # fmt: skip
        return EXIT_STORAGE
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    storage = open_checked_storage(settings, args.restore_backup)
    if isinstance(storage, int):
        return storage
    simulator = None
    if args.demo:
        from dtc.sim.scenario import load_scenario
        from dtc.sim.server import SimulatorServer

        scenario_path = args.scenario or DEMO_SCENARIO
        # the simulated "Sierra Chart" keeps its world beside the demo database, so a restarted demo
        # finds the same positions and fills and continues the scenario where it stopped
        simulator = SimulatorServer(
            load_scenario(scenario_path),
            host="127.0.0.1",
            port=0,
            state_file=settings.data_dir / f"simulator-{scenario_path.stem}.json",
        )
        simulator.start()
        settings = replace(settings, host="127.0.0.1", port=simulator.port)
        log.info("demo: DTC simulator listening on 127.0.0.1:%d; data in %s", simulator.port, settings.data_dir)
    username = settings.username
    # read when the DTC thread logs on, not before the window shows: the keyring's first read is slow
    app = build_app(settings, os.environ.get(PASSWORD_ENV, ""), persisted, storage,
                    password_source=lambda: load_password(username))  # fmt: skip

    def shutdown() -> None:
        qt_app.aboutToQuit.disconnect(shutdown)
        app.stop()
        if simulator is not None:
            simulator.stop()
        storage.lock.release()
        log.info("closed")

    qt_app.aboutToQuit.connect(shutdown)  # closing the window, a signal or --screenshot: all end here
    install_quit_signals(qt_app.quit)
    if args.width or args.height:
        app.window.resize_to(args.width or app.window.width(), args.height or app.window.height())
    app.window.show()
    if args.charts:
        app.window.show_charts()
    if not args.no_connect:
        app.start()
    else:
        app.start_api()  # the stored positions, served as they are shown
    keepalive = QTimer()
    keepalive.timeout.connect(lambda: None)  # lets Python run its signal handlers during the Qt loop
    keepalive.start(200)
    if args.screenshot is not None:

        def shoot() -> None:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            app.window.grab().save(str(args.screenshot))
            log.info("screenshot saved to %s", args.screenshot)
            qt_app.quit()

        QTimer.singleShot(int(args.after * 1000), shoot)
    return qt_app.exec()


if __name__ == "__main__":
    exit_code = main()
    # Everything is closed. Tearing down the interpreter would still walk every object of PySide6, SQLAlchemy
    # and pydantic (~0.5 s on a busy machine); frozen objects are skipped, so the process ends at once.
    gc.freeze()
    sys.exit(exit_code)
