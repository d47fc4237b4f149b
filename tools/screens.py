"""Shared by the screenshot tools: drive the Qt event loop until the window is in the wanted state."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def wait(qt: QApplication, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Process Qt events until ``predicate()`` holds; ``TimeoutError`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the app did not reach the expected state")
        qt.processEvents()
        time.sleep(0.02)


def settle(qt: QApplication, seconds: float) -> None:
    """Process Qt events for ``seconds`` (the window finishes painting what it was given)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qt.processEvents()
        time.sleep(0.02)
