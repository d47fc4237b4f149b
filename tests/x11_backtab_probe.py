"""Run under a real X11 display (``DISPLAY``, ``QT_QPA_PLATFORM=xcb``): opens the window with three accounts,
presses Ctrl+Shift+Tab with xdotool and prints the focused account before and after. Used by
``test_readable_details``; X11 delivers the key as Backtab with Ctrl+Shift, which offscreen Qt cannot show."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent))
    app = QApplication([])
    from panels.main_window import MainWindow
    from tests.test_panels import FROZEN, Clock, fill, make_state
    from tests.wiring import attach

    clock = Clock()
    state = make_state(Path(tempfile.mkdtemp()), clock)
    window = MainWindow(on_scope_chosen=state.set_scope, on_follow=state.follow_latest_fill, clock=clock)
    attach(state, window)
    state.apply_fill(fill(1, "1", "6000", FROZEN, account="Sim1"))
    state.apply_fill(fill(2, "1", "21000", FROZEN, account="120005", symbol="MNQZ25"))
    state.apply_fill(fill(3, "1", "21000", FROZEN, account="Sim2", symbol="MNQZ25"))
    window.show()
    window.activateWindow()
    seen: list[str | None] = []

    def press() -> None:
        seen.append(window.last_snapshot.scope_account if window.last_snapshot else None)
        subprocess.run(["xdotool", "search", "--name", "DTC Panel", "windowactivate", "--sync"], check=False)
        subprocess.run(["xdotool", "key", "--clearmodifiers", "ctrl+shift+Tab"], check=False)

    def check() -> None:
        seen.append(window.last_snapshot.scope_account if window.last_snapshot else None)
        print("before/after:", seen)
        app.quit()

    QTimer.singleShot(1500, press)
    QTimer.singleShot(3000, check)
    app.exec()


if __name__ == "__main__":
    main()
