"""Message boxes for a data folder that cannot be used at start-up (locked, damaged, read-only, newer schema).

They are built here and shown by the caller: ``exec()`` at start-up, before the main window exists (no socket
is open yet); tests drive them offscreen with ``open()`` and the buttons.
"""

from __future__ import annotations

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
