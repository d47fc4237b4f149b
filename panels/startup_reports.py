"""Saying why DTC Panel cannot start — bad settings, a data folder in use, a damaged or unusable database — on
stderr and, when there is a screen, in a message box; each with what to do, and an exit code, never a traceback.
Also: files and folders from here on private to the user (POSIX)."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtWidgets import QApplication

from core.settings import Settings, SettingsError
from data.private import restrict_new_files, tighten
from data.storage import OpenedStorage, Problem, StartupProblem, open_storage
from panels.settings_dialog import settings_problem_box, settings_problem_text
from panels.storage_dialogs import damaged_box, problem_box

log = logging.getLogger(__name__)

EXIT_BAD_SETTINGS = 2
EXIT_LOCKED = 3
EXIT_STORAGE = 4


def display_available() -> bool:
    """Whether a message box would be seen: not Qt's offscreen or minimal platform, and on Linux and the BSDs
    an X11 or Wayland display."""
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal"):
        return False
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def report_settings_problem(exc: SettingsError) -> int:
    """Say which settings cannot be used — on stderr, and in a message box when there is a screen to show it
    on — and return the exit code (2). Nothing has started yet; there is no traceback."""
    text = settings_problem_text(exc)
    print(text, file=sys.stderr)
    if display_available():
        _qt = QApplication.instance() or QApplication(sys.argv[:1])
        settings_problem_box(text).exec()  # before the event loop: nothing else is running yet
    return EXIT_BAD_SETTINGS


def open_checked_storage(settings: Settings, restore: bool) -> OpenedStorage | int:
    """Lock the data folder and open its checked database (``data.storage.open_storage``). A problem is said
    on stderr and, with a display, in a message box — a damaged database with the offer to restore the newest
    good backup. Returns the storage, or the exit code when the app cannot start."""
    try:
        return open_storage(settings.data_dir, restore=restore)
    except StartupProblem as problem:
        log.error("cannot start (%s): %s", problem.kind, problem.text)
        print(f"DTC Panel cannot start: {problem.text}\n{problem.advice}", file=sys.stderr)
        if display_available():
            if problem.kind == Problem.DAMAGED:
                box, restore_button = damaged_box(problem)
                box.exec()
                if box.clickedButton() is restore_button:
                    return open_checked_storage(settings, restore=True)
            else:
                problem_box(problem).exec()
        return EXIT_LOCKED if problem.kind == Problem.LOCKED else EXIT_STORAGE


def make_private(settings: Settings) -> None:
    """From now on files and folders are created for the user only; the ones an older version created are
    tightened (POSIX: 0700 folders, 0600 files)."""
    restrict_new_files()
    for folder in (settings.data_dir, settings.config_dir, settings.log_dir):
        tighten(folder)
        if folder.is_dir():
            for path in folder.iterdir():
                tighten(path)
