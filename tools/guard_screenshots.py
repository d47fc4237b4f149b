"""Screenshots of the stop guard and orphan cleanup (issue 17) for the README: a LIVE position with the stop guard
armed (its stop working, the red "LIVE · STOP GUARD ARMED" line) and an orphan offer, and the LIVE arming
confirmation.

Runs the real app against the DTC simulator in a temporary data folder. Saves ``stop-guard-live.png`` and
``stop-guard-confirm.png`` into the folder given (default ``docs/screenshots``).

    DISPLAY=:99 uv run python -m tools.guard_screenshots [out_dir]
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app_manager import build_app
from core.guard_views import STOP_GUARD
from core.settings import Settings
from core.snapshots import ConnectionState
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from dtc.sim.steps import InstrumentSpec
from tools.screens import settle, wait

MES, MNQ = "MESZ25-CME", "MNQZ25-CME"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    instruments = {
        MES: InstrumentSpec(MES, 0.25, 1.25, price=6850.0),
        MNQ: InstrumentSpec(MNQ, 0.25, 0.5, price=25400.0),
    }
    scenario = Scenario(name="guards", accounts=(AccountSpec("120005", 25_000.0),), instruments=instruments)
    simulator = SimulatorServer(scenario, autoplay=False)
    simulator.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = replace(
            Settings.for_directories(Path(folder)),
            host="127.0.0.1",
            port=simulator.port,
            heartbeat_seconds=2,
            stop_guard_ticks={"120005": 8},
            stop_guard_grace_seconds=0.5,
            orphan_cleanup_grace_seconds=0.5,
        )
        app = build_app(settings)
        window, bar = app.window, app.window.panel2.guard_bar
        window.resize(1100, 700)
        window.show()
        app.start()
        try:
            wait(qt, lambda: window.last_snapshot.connection.state == ConnectionState.SYNCED)
            simulator.fill("120005", MNQ, "SELL", 1, 25400.0)  # a trade closed by hand, its stop left working
            simulator.place_order("120005", MNQ, "BUY", 3, 25420.0, 1)
            wait(qt, lambda: bool(window.last_snapshot.positions) and window.last_snapshot.positions[0].stop_price)
            simulator.fill("120005", MNQ, "BUY", 1, 25399.0)
            simulator.fill("120005", MES, "BUY", 2, 6850.0)  # no stop
            simulator.place_order("120005", MES, "SELL", 2, 6860.0, 2)  # a target only
            wait(qt, lambda: "NO STOP" in window.panel2.guard_lines().get(MES, ""))
            bar.stop_button.click()
            wait(qt, lambda: bar.dialog is not None and bar.dialog.isVisible())
            qt.processEvents()
            bar.dialog.grab().save(str(out / "stop-guard-confirm.png"))
            bar.dialog.reject()
            assert app.guards is not None
            app.guards.arm(STOP_GUARD, "120005", True, "120005")  # what the dialog's confirm button sends
            wait(qt, lambda: "working" in window.panel2.guard_lines().get(MES, ""))
            wait(qt, lambda: bool(bar.offer_texts()) and "not armed" in bar.offer_texts()[0])
            settle(qt, 0.5)
            window.grab().save(str(out / "stop-guard-live.png"))
        finally:
            app.stop()
            simulator.stop()
    print(f"saved {out / 'stop-guard-live.png'} and {out / 'stop-guard-confirm.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
