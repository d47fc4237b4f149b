"""Message boxes for a data folder that cannot be used at start-up (locked, damaged, read-only, newer schema).

They are built here and shown by the caller: ``exec()`` at start-up, before the main window exists (no socket
is open yet); tests drive them offscreen with ``open()`` and the buttons.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from data.storage import StartupProblem

TITLE = "DTC Panel cannot start"
HEADLESS_PLATFORMS = ("offscreen", "minimal")


def has_display() -> bool:
    """Whether a message box would be seen (not under the offscreen or minimal Qt platform)."""
    return QGuiApplication.platformName() not in HEADLESS_PLATFORMS


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


def held_fills_box(parent: QWidget) -> tuple[QMessageBox, QAbstractButton]:
    """The question before quitting while fills are not stored: "Quit anyway" or "Keep running" (the
    default). Window-modal; returns the box and its quit button. ``set_held_fills`` fills in the numbers."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, "Quit with fills not stored?", "", QMessageBox.StandardButton.NoButton, parent
    )
    box.setObjectName("quitWithHeldFills")
    quit_button = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole))
    box.setWindowModality(Qt.WindowModality.WindowModal)
    return box, quit_button


def set_held_fills(box: QMessageBox, pending: int, error: str) -> None:
    """How many fills are not stored and why (the error says whether they are saved for the next start)."""
    box.setText(f"{pending} fill(s) from Sierra Chart are not stored in the database yet.")
    box.setInformativeText(f"The database refuses them: {error}")
