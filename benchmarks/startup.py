"""Startup to position on screen (s), and the Panel3 statistics refresh (ms), over a database of many trades.

Startup: a fresh Python process runs what ``app_manager.main`` runs with ``--no-connect --data-dir DB``
(settings, logging, ``QApplication``, ``build_app`` with migrations, integrity check and recovery, the window
shown) and reports when Panel2 has painted the stored position (and, as information, when the equity chart
is drawn: pyqtgraph is loaded after the positions are shown); the time is counted from just before the
parent starts the process (interpreter start and imports included). Median of three starts with the bytecode
cache warm (every start after the first on a trader's machine); the first start is shown too.

Statistics: ``StatisticsCache.refresh(mode, account, Period.ALL)`` right after a closed trade was stored (the
new row read by primary key and folded in); the cold ``figures`` of a new cache too. Median of five refreshes.

    uv run python -m benchmarks.startup --child DATA_DIR   # the child side (prints timings as JSON)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import Figure
from benchmarks.dbgen import ACCOUNT, MODE, generate

if TYPE_CHECKING:
    from data.models import TradeRecord

ROOT = Path(__file__).resolve().parents[1]
STARTS = 3


def child(data_dir: Path) -> int:
    """Start the app like ``main`` (no connection) and print phase times (monotonic s) once Panel2 painted."""
    phases = {"process": time.monotonic()}
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    import app_manager

    phases["imported"] = time.monotonic()
    args = app_manager.parse_args(["--data-dir", str(data_dir), "--no-connect"])
    built = app_manager.build_settings(args)  # (effective, persisted) or, in older versions, effective only
    settings = built[0] if isinstance(built, tuple) else built
    app_manager.setup_logging(settings.log_dir)
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    app = app_manager.build_app(settings)
    phases["built"] = time.monotonic()
    panel2 = app.window.panel2

    class Probe(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
            if (
                "painted" not in phases
                and event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and panel2.isAncestorOf(watched)
                and panel2.card_texts()
            ):
                phases["painted"] = time.monotonic()
            return False

    chart = app.window.panel1.chart

    def charted() -> None:  # the equity chart loads pyqtgraph a moment after the window is made
        if "painted" in phases and not chart.waiting_for_plot():
            phases["charted"] = time.monotonic()
            qt.quit()

    probe = Probe()
    qt.installEventFilter(probe)
    app.window.show()
    poll = QTimer(interval=20)
    poll.timeout.connect(charted)
    poll.start()
    QTimer.singleShot(10_000, qt.quit)
    qt.exec()
    print(json.dumps({**phases, "cards": panel2.card_texts()}))
    return 0 if "painted" in phases else 1


def _start_once(data_dir: Path, pycache: Path) -> dict[str, float]:
    """One start of the child. Bytecode is cached in ``pycache`` (``PYTHONPYCACHEPREFIX``) as on a trader's
    machine after the first start, even where ``PYTHONDONTWRITEBYTECODE`` is set (as in some sandboxes)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.startup", "--child", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"startup child failed ({out.returncode}): {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["cards"]:
        raise RuntimeError("the stored position was not on screen")
    return {
        "total": result["painted"] - began,
        "imports": result["imported"] - began,
        "build": result["built"] - result["imported"],
        "paint": result["painted"] - result["built"],
        "charted": result.get("charted", result["painted"]) - began,
    }


def measure(trades: int) -> list[Figure]:
    """Generate the database, then time the startups and the statistics refresh."""
    with tempfile.TemporaryDirectory(prefix="dtc-bench-startup-", ignore_cleanup_errors=True) as tmp:
        data_dir = Path(tmp) / "data"
        began = time.perf_counter()
        generate(data_dir, trades)
        made = time.perf_counter() - began
        first = _start_once(data_dir, Path(tmp) / "pycache")  # compiles and caches the bytecode
        runs = [_start_once(data_dir, Path(tmp) / "pycache") for _ in range(STARTS)]
        median = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
        stats_ms, cold_ms = _statistics_refresh(data_dir)
    detail = (
        f"{trades:,} trades; imports {median['imports']:.2f} s, build_app {median['build']:.2f} s, "
        f"show+paint {median['paint']:.2f} s; database made in {made:.0f} s"
    )
    return [
        Figure(f"startup to position on screen ({trades:,} trades)", median["total"], "s", 1.5, False, detail),
        Figure(
            f"Panel3 statistics refresh, period ALL ({trades:,})",
            stats_ms,
            "ms",
            50,
            False,
            "a trade closed: refresh() folds in the new row",
        ),
        Figure("Panel3 statistics cold load, period ALL", cold_ms, "ms", note="scope/period switch: information"),
        Figure(
            "startup to equity chart drawn", median["charted"], "s", note="loaded after the positions: information"
        ),
        Figure("first start (no bytecode cache yet)", first["total"], "s", note="after an install: information"),
    ]


def _statistics_refresh(data_dir: Path) -> tuple[float, float]:
    """(refresh ms, cold ms): the median ``refresh`` of period ALL right after a new closed trade was stored
    (what a publication does when a trade closes), and the first ``figures`` of a new cache (a scope or
    period switch)."""
    from sqlmodel import Session

    from core.statistics_cache import StatisticsCache
    from core.tradingday import Period
    from data.db import make_engine
    from data.repository import PositionStore

    engine = make_engine(data_dir)
    cache = StatisticsCache(PositionStore(engine), "18:00", "America/New_York")
    began = time.perf_counter()
    cache.figures(MODE, ACCOUNT, Period.ALL)
    cold = (time.perf_counter() - began) * 1000
    samples = []
    for i in range(5):
        with Session(engine) as session:
            session.add(_closed_trade(i))
            session.commit()
        began = time.perf_counter()
        increment = cache.refresh(MODE, ACCOUNT, Period.ALL)  # what a publication does when a trade closed
        samples.append((time.perf_counter() - began) * 1000)
        if increment is None or increment.statistics.trades == 0 or not increment.rows:
            raise RuntimeError("the new trade was not folded into the statistics")
    engine.dispose()
    return statistics.median(samples), cold


def _closed_trade(n: int) -> TradeRecord:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from data.models import TradeRecord

    now = datetime.now(UTC)
    entry, exit_ = Decimal("6010.25"), Decimal("6011.50") + n
    return TradeRecord(
        mode=MODE, account=ACCOUNT, symbol="MESZ25", side="LONG", qty=Decimal(1), max_qty=Decimal(1),
        entry_price=entry, exit_price=exit_, entry_time=now - timedelta(minutes=3), exit_time=now,
        gross_pnl=(exit_ - entry) * 5, commissions=Decimal("1.24"), realized_pnl=(exit_ - entry) * 5 - Decimal("1.24"),
        point_value=Decimal(5), mae=Decimal(-5), mfe=(exit_ - entry) * 5 + 5,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n")[0])
    parser.add_argument("--child", type=Path, help="run as the measured app process over this data directory")
    parser.add_argument("--trades", type=int, default=100_000, help="closed trades in the database")
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args.child)
    for figure in measure(args.trades):
        print(figure.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
