"""pyqtgraph, imported when a chart is first needed rather than at start.

Importing pyqtgraph takes about as long as the rest of the window's imports together (it loads Qt modules the
panel does not otherwise use), and no chart is needed to show a position. ``preload()`` imports it once the
window is on screen (the equity chart calls it a moment after its first curve, showing "Loading the chart…"
meanwhile); ``pyqtgraph()`` returns the module, importing it at once if it is not loaded yet.

Both run on the GUI thread. An import on a background thread (tried) crashed the process now and then: pyqtgraph
reads every attribute of PySide6's modules as it loads and defines Qt subclasses, and PySide6 creates its types
lazily, on first access, without guarding against a second thread doing the same (a SIGSEGV in
``pyqtgraph/Qt/__init__.py`` ``_copy_attrs`` while the GUI thread ran its event loop)."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

_configured: list[ModuleType] = []


def ready() -> bool:
    """Whether ``pyqtgraph()`` returns without an import to run."""
    return bool(_configured) or "pyqtgraph" in sys.modules


def preload() -> None:
    """Import pyqtgraph now (GUI thread only; nothing if it is loaded)."""
    pyqtgraph()


def pyqtgraph() -> ModuleType:
    """The pyqtgraph module, configured for the panel (no OpenGL, antialiased). GUI thread only."""
    if not _configured:
        pg = importlib.import_module("pyqtgraph")
        pg.setConfigOptions(useOpenGL=False, antialias=True)
        _configured.append(pg)
    return _configured[0]
