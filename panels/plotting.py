"""pyqtgraph, imported when a chart is first needed rather than at start.

Importing pyqtgraph takes about as long as the rest of the window's imports together (it loads Qt modules the
panel does not otherwise use), and no chart is needed to show a position. ``preload()`` imports it on a
background thread once the window is on screen (an import runs Python code only: no widget is created there,
and the GUI thread keeps getting the interpreter every few milliseconds); ``pyqtgraph()`` returns the module,
importing it at once if it is not loaded yet (waiting for a preload under way)."""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

_lock = threading.Lock()
_configured: list[ModuleType] = []
_preload: list[threading.Thread] = []


def ready() -> bool:
    """Whether ``pyqtgraph()`` returns without waiting for an import to run."""
    if _configured:
        return True
    if _preload:
        return not _preload[0].is_alive()
    return "pyqtgraph" in sys.modules


def preload() -> None:
    """Import pyqtgraph on a background thread (once; nothing if it is loaded or loading)."""
    with _lock:
        if _configured or _preload or "pyqtgraph" in sys.modules:
            return
        thread = threading.Thread(target=_import, name="pyqtgraph-import", daemon=True)
        _preload.append(thread)
    thread.start()


def _import() -> None:
    importlib.import_module("pyqtgraph")


def pyqtgraph() -> ModuleType:
    """The pyqtgraph module, configured for the panel (no OpenGL, antialiased)."""
    if _configured:
        return _configured[0]
    pg = importlib.import_module("pyqtgraph")  # waits for a preload under way (the import lock)
    with _lock:
        if not _configured:
            pg.setConfigOptions(useOpenGL=False, antialias=True)
            _configured.append(pg)
    return _configured[0]
