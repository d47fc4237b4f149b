"""Message boxes for a data folder that cannot be used at start-up (locked, damaged, read-only, newer schema).

They are built here and shown by the caller: ``exec()`` at start-up, before the main window exists (no socket
is open yet); tests drive them offscreen with ``open()`` and the buttons.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from data.storage import StartupProblem

TITLE = "DTC Panel cannot start"


def problem_box(problem: StartupProblem, parent: QWidget | None = None) -> QMessageBox:
    """What happened and what to do, with one button: Quit."""
    box = QMessageBox(QMessageBox.Icon.Critical, TITLE, problem.text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("startupProblem")
    box.setInformativeText(problem.advice)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    return box


def damaged_box(problem: StartupProblem, parent: QWidget | None = None) -> tuple[QMessageBox, QAbstractButton]:
    """A damaged database: the offer to restore the newest good backup (or, without one, to start with an
    empty database), or to quit. Returns the box and its restore button (``clickedButton()`` says which)."""
    box = QMessageBox(
        QMessageBox.Icon.Critical, "DTC Panel — database damaged", problem.text, QMessageBox.StandardButton.NoButton,
        parent,
    )  # fmt: skip
    box.setObjectName("damagedDatabase")
    box.setInformativeText(problem.advice)
    label = (
        f"Restore the backup of {problem.backup.describe()}"
        if problem.backup is not None
        else "Set it aside and start empty"
    )
    restore = box.addButton(label, QMessageBox.ButtonRole.AcceptRole)
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(quit_button)
    return box, restore


class QuitGuard:
    """Asks before ``window`` closes while fills are not stored: "Quit anyway" closes it again, "Keep running"
    (the default) keeps it open. The question is window-modal and opened with ``open()`` (never blocks)."""

    def __init__(self, window: QWidget) -> None:
        self._window = window
        self._confirmed = False
        self.box: QMessageBox | None = None
        """The question, created the first time it is needed."""
        self._quit: QAbstractButton | None = None

    def allows_close(self, pending: int, error: str) -> bool:
        """Whether the window may close now; if not, the question is shown (``pending`` fills, the error)."""
        if not pending or self._confirmed:
            return True
        box = self.box or self._make_box()
        if not box.isVisible():
            box.setText(f"{pending} fill(s) from Sierra Chart are not stored in the database yet.")
            box.setInformativeText(f"The database refuses them: {error}")
            box.open()
        return False

    def _make_box(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Quit with fills not stored?", "", QMessageBox.StandardButton.NoButton,
            self._window,
        )  # fmt: skip
        box.setObjectName("quitWithHeldFills")
        self._quit = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole))
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(self._answered)
        self.box = box
        return box

    def _answered(self, _result: int) -> None:
        if self.box is not None and self.box.clickedButton() is self._quit:
            self._confirmed = True
            QTimer.singleShot(0, self._window.close)
