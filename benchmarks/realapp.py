"""The real app against the DTC simulator, seen only from outside: what the benchmarks of issue 10 share.

Only stable interfaces are used: ``app_manager.build_app`` → ``PanelApp`` (``.window``, ``.start()``,
``.stop()``, ``.store.engine``, ``.settings``), ``Settings``, the simulator, the database tables (read with
plain ``sqlite3``, read-only) and the widgets' object names and visible text. What the trader sees is read
by ``read_screen`` alone, so a renamed label is fixed in one place.

The simulator runs in a child process (``benchmarks.simproc``), as Sierra Chart does. Times are
``time.perf_counter()`` seconds: the system's monotonic clock, shared with the child's ``BurstResult.sent_at``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QToolButton, QWidget

if TYPE_CHECKING:
    from app_manager import PanelApp
    from benchmarks.simproc import SimProcess

SYNC_TIMEOUT_S = 30.0
POLL_S = 0.005
"""How often the store and the screen are looked at while waiting (s)."""
SESSION_TIMEZONE = "UTC"


def qt_app() -> QApplication:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([])


# --- what the trader sees --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """The window's visible text that the benchmarks look at."""

    connection: str
    """The connection label, e.g. "● SYNCED"."""
    positions: tuple[str, ...]
    """Banner of each visible position card ("LONG 1 MESZ25"), sorted; empty when flat."""
    flat: bool
    """The FLAT label is visible."""
    trades_today: int | None
    """"Trades today" (Panel3)."""
    period_trades: int | None
    """The "Trades" statistic of the chosen period (Panel3)."""
    period_caption: str
    """E.g. "Closed trades, all time:"."""

    @property
    def synced(self) -> bool:
        return self.connection.upper().startswith("● SYNCED")

    def shows(self, positions: Sequence[str], trades_today: int) -> bool:
        """The given open positions (banners; empty = FLAT) and that many trades today are on screen."""
        wanted = tuple(sorted(positions))
        return self.positions == wanted and (self.flat or bool(wanted)) and self.trades_today == trades_today


def _count(text: str) -> int | None:
    digits = re.sub(r"[^0-9]", "", text)
    return int(digits) if digits else None


def read_screen(window: QWidget) -> Screen:
    """The only place that knows which widgets show what (object names; see panels/)."""

    def label(name: str) -> QLabel | None:
        return window.findChild(QLabel, name)

    def text(name: str) -> str:
        widget = label(name)
        return widget.text() if widget is not None else ""

    flat = label("flat")
    banners = sorted(w.text() for w in window.findChildren(QLabel, "banner") if w.isVisible())
    return Screen(
        connection=text("connection"),
        positions=tuple(banners),
        flat=flat is not None and flat.isVisible() and flat.text() == "FLAT",
        trades_today=_count(text("todayTrades")),
        period_trades=_count(text("stat_trades")),
        period_caption=text("periodCaption"),
    )


def count_labels(window: QWidget) -> list[QWidget]:
    """The labels whose painting puts a new trade count or FLAT on screen (see ``wait_until``'s ``painted``)."""
    return [w for name in ("todayTrades", "stat_trades", "flat") if (w := window.findChild(QLabel, name)) is not None]


def period_button(window: QWidget, period: str) -> QToolButton | None:
    """The period button ("today", "week", "month", "3m", "ytd", "all"), as the trader clicks it."""
    return window.findChild(QToolButton, f"period_{period}")


# --- waiting without blocking the GUI thread ---------------------------------------------------------------


class _PaintWatch(QObject):
    """Evaluates ``done()`` whenever one of the watched widgets is about to paint."""

    def __init__(self, done: Callable[[], bool], loop: QEventLoop, found: list[float]) -> None:
        super().__init__()
        self._done, self._loop, self._found = done, loop, found

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if not self._found and event.type() == QEvent.Type.Paint and self._done():
            self._found.append(time.perf_counter())
            QTimer.singleShot(0, self._loop.quit)
        return False


def wait_until(
    done: Callable[[], bool], timeout_s: float, poll_s: float = POLL_S, painted: Sequence[QWidget] = ()
) -> float | None:
    """Run the Qt event loop (as the app does) until ``done()``; the perf_counter time it was first seen true,
    or None after ``timeout_s``. ``done()`` is evaluated every ``poll_s`` by a timer and, for ``painted``
    widgets, just before each of their paints: a GUI thread flooded with queued work fires timers late, but
    what it paints is what the trader sees."""
    if done():
        return time.perf_counter()
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    found: list[float] = []

    def check() -> None:
        if not found and done():
            found.append(time.perf_counter())
        if found or time.perf_counter() >= deadline:
            loop.quit()

    watch = _PaintWatch(done, loop, found)
    for widget in painted:
        widget.installEventFilter(watch)
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(check)
    timer.start(max(1, round(poll_s * 1000)))
    try:
        loop.exec()
    finally:
        timer.stop()
        for widget in painted:
            widget.removeEventFilter(watch)
    return found[0] if found else None


def charts_loaded(window: QWidget, timeout_s: float = 30.0) -> bool:
    """Wait until the equity chart is drawn, if the window has a curve to draw: pyqtgraph is imported in the
    background after start (``panels.plotting``) and the plot made then, once — startup work, not what a
    benchmark of the running window measures. False if it was not done in time."""
    from panels import plotting

    chart = getattr(getattr(window, "panel1", None), "chart", None)

    def drawn() -> bool:
        return chart is None or not chart.waiting_for_plot()

    return wait_until(lambda: drawn() and (plotting.ready() or chart is None), timeout_s) is not None


def pump(seconds: float) -> None:
    """Let the Qt event loop run for ``seconds``."""
    wait_until(lambda: False, seconds, poll_s=min(0.05, seconds))


class LatenessProbe:
    """A 10 ms precise ``QTimer`` on the GUI thread noting how late each tick fires (ms), as
    ``benchmarks/gui_lateness.py`` does."""

    TICK_MS = 10

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._expected = 0.0

    def start(self) -> None:
        self.samples = []
        self._clock.start()
        self._expected = self.TICK_MS
        self._timer.start(self.TICK_MS)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        self.samples.append(max(0.0, now - self._expected))
        self._expected = now + self.TICK_MS


# --- the database, read from outside -----------------------------------------------------------------------


def db_path(app: PanelApp) -> Path:
    database = app.store.engine.url.database
    if not database:
        raise RuntimeError("the app's database is not a file")
    return Path(database)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    try:
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True)
class Stored:
    """What the database holds: fills (rows, distinct execution ids, of the ids looked for: how many are
    missing) and closed trades."""

    fills: int
    distinct: int
    missing: int
    trades: int

    @property
    def duplicates(self) -> int:
        return self.fills - self.distinct


def stored(path: Path, execution_ids: Sequence[str] = ()) -> Stored:
    with read_only(path) as conn:
        fills, distinct = conn.execute("SELECT count(*), count(DISTINCT execution_id) FROM fillrecord").fetchone()
        have = {row[0] for row in conn.execute("SELECT execution_id FROM fillrecord")}
        trades = conn.execute("SELECT count(*) FROM traderecord").fetchone()[0]
    return Stored(fills, distinct, len(set(execution_ids) - have), trades)


class StoreWatcher(threading.Thread):
    """Polls ``SELECT count(*) FROM fillrecord`` every ``POLL_S`` from its own thread (WAL: readers never block
    the app's writer) and notes when the count first reached 1 and ``target``; optionally also when the
    simulator first had a logged-on client. Stops by itself after ``timeout_s``."""

    def __init__(self, path: Path, target: int, timeout_s: float, simulator: SimProcess | None = None) -> None:
        super().__init__(name="bench-store-watcher", daemon=True)
        self.path, self.target, self.timeout_s, self.simulator = path, target, timeout_s, simulator
        self.first_at: float | None = None
        self.reached_at: float | None = None
        self.logon_at: float | None = None
        self.count = 0
        self._cancelled = threading.Event()

    def run(self) -> None:
        deadline = time.perf_counter() + self.timeout_s
        with read_only(self.path) as conn:
            while not self._cancelled.is_set() and time.perf_counter() < deadline:
                if self.simulator is not None and self.logon_at is None and self.simulator.logged_on_clients:
                    self.logon_at = time.perf_counter()
                with contextlib.suppress(sqlite3.OperationalError):  # e.g. busy during a checkpoint
                    self.count = conn.execute("SELECT count(*) FROM fillrecord").fetchone()[0]
                now = time.perf_counter()
                if self.count and self.first_at is None:
                    self.first_at = now
                if self.count >= self.target:
                    self.reached_at = now
                    return
                time.sleep(POLL_S)

    def cancel(self) -> None:
        self._cancelled.set()


# --- the app and the simulator ----------------------------------------------------------------------------


def bench_settings(data_dir: Path, port: int) -> Any:
    """Settings in ``data_dir`` for the simulator on ``port``. The trading day starts three hours ago (UTC),
    so "today" never flips during a run whatever the hour."""
    from core.settings import Settings

    start = (datetime.now(UTC) - timedelta(hours=3)).strftime("%H:%M")
    settings = Settings.for_directories(data_dir)
    return replace(settings, host="127.0.0.1", port=port, session_start=start, session_timezone=SESSION_TIMEZONE)


def trading_day_start() -> datetime:
    """When "today" began for ``bench_settings`` (UTC, whole minute), computed the same way."""
    start = datetime.now(UTC) - timedelta(hours=3)
    return start.replace(second=0, microsecond=0)


def simulator(accounts: Sequence[str], cash: float = 50_000.0) -> SimProcess:
    """A started simulator declaring ``accounts``, in a child process (see ``benchmarks.simproc``)."""
    from benchmarks.simproc import SimProcess

    return SimProcess(accounts, cash)


class RunningApp:
    """``build_app`` on ``data_dir`` (a temporary one when None, removed at exit) against ``sim``; the window
    shown offscreen at 1366×768. ``start()`` connects; ``close()`` stops and cleans up (idempotent)."""

    def __init__(self, sim: SimProcess, data_dir: Path | None = None, **changes: Any) -> None:
        """``changes``: settings to change beyond ``bench_settings`` (e.g. ``api_enabled=True``)."""
        from app_manager import build_app

        qt_app()
        self._own_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="dtc-bench-")) if data_dir is None else data_dir
        try:
            settings = replace(bench_settings(self.data_dir, sim.port), **changes)
            self.app: PanelApp = build_app(settings, password="", persisted=None)
        except BaseException:
            if self._own_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            raise
        self.window: QWidget = self.app.window
        self.window.resize(1366, 768)
        self.window.show()
        self.db = db_path(self.app)
        self._started = self._closed = False

    def screen(self) -> Screen:
        return read_screen(self.window)

    def start(self, wait_synced: bool = True) -> bool:
        """Connect; with ``wait_synced`` wait until the window says SYNCED (False if it did not in time)."""
        self.app.start()
        self._started = True
        if not wait_synced:
            return True
        return wait_until(lambda: self.screen().synced, SYNC_TIMEOUT_S) is not None

    def close(self, remove: bool | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._started:
                self.app.stop()
        finally:
            self.window.close()
            pump(0.05)
            self.window.deleteLater()
            self.app.store.engine.dispose()
            pump(0.05)
            if remove if remove is not None else self._own_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> RunningApp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def round_trips(
    count: int, accounts: Sequence[str], symbols: Sequence[str]
) -> list[tuple[str, str, str, float, float]]:
    """``count`` one-lot fills (even) as BUY 1 / SELL 1 pairs, each pair closing one trade, cycling over
    (account, symbol) combinations pair by pair: (account, symbol, side, quantity, price)."""
    combos = [(a, s) for s in symbols for a in accounts]
    base = {"MES": 6000.0, "MNQ": 21000.0}
    out = []
    for i in range(count):
        pair = i // 2
        account, symbol = combos[pair % len(combos)]
        price = base.get(symbol[:3], 100.0) + 0.25 * (pair % 9) + (0.5 if i % 2 else 0.0)
        out.append((account, symbol, "BUY" if i % 2 == 0 else "SELL", 1.0, price))
    return out


def rate(count: int, began: float, ended: float | None) -> float | None:
    """``count`` per second between two perf_counter times; None when the end was never reached."""
    return None if ended is None or ended <= began else count / (ended - began)
