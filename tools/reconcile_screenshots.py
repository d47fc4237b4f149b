"""Screenshots of the reconnect dialog and of a card with an open discrepancy, for the README.

Runs the real app against the DTC simulator in a temporary data folder: LONG 1 MESZ25 @ 6850.00 is opened,
Sierra Chart then reports flat without a fill, and a SELL 3 fills while the difference is open. Saves
``reconcile-dialog.png`` and ``disputed-card.png`` into the folder given (default ``docs/screenshots``).

    uv run python -m tools.reconcile_screenshots [out_dir]
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app_manager import build_app
from core.settings import Settings
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from tools.screens import settle, wait


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    simulator = SimulatorServer(Scenario(name="reconcile", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    simulator.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = replace(Settings.for_directories(Path(folder)), host="127.0.0.1", port=simulator.port)
        app = build_app(settings)
        window = app.window
        window.resize(1280, 720)
        window.show()
        app.start()
        try:
            wait(qt, lambda: window.last_snapshot is not None and window.last_snapshot.connection.state == "synced")
            simulator.fill("Sim1", "MESZ25", "BUY", 1, 6850.00)
            wait(qt, lambda: bool(window.last_snapshot.positions) and window.last_snapshot.positions[0].confirmed)  # type: ignore[union-attr]
            simulator.set_position("Sim1", "MESZ25", 0, 0)
            wait(qt, lambda: app.reconcile is not None and app.reconcile.dialog is not None)
            simulator.fill("Sim1", "MESZ25", "SELL", 3, 6851.00)
            simulator.price("MESZ25", 6850.25)
            wait(qt, lambda: window.panel2._cards["MESZ25"].panel_figure.text() == "panel: SHORT 2 @ 6,851.00")
            settle(qt, 3.0)  # Sierra Chart's SHORT 3 report reaches the dialog's row
            dialog = app.reconcile.dialog  # type: ignore[union-attr]
            assert dialog is not None
            dialog.adjustSize()
            window.grab().save(str(out / "disputed-card.png"))
            dialog.grab().save(str(out / "reconcile-dialog.png"))
        finally:
            app.stop()
            simulator.stop()
    print(f"saved {out / 'disputed-card.png'} and {out / 'reconcile-dialog.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
