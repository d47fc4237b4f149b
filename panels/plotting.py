"""pyqtgraph, loaded once the window is on screen rather than before it.

Importing pyqtgraph takes about as long as the rest of the window's imports together (numpy and Qt modules the
panel does not otherwise use), and no chart is needed to show a position. So the window first shows the
stored positions; then ``warm_up()`` imports numpy on a background thread (numpy has no Qt in it), and
``pyqtgraph()`` imports pyqtgraph itself on the GUI thread once that is done — a one-time pause at start-up
(about half a second here), not in the middle of a trading session.

pyqtgraph itself must be imported on the GUI thread. An import on a background thread (tried) crashed the
process now and then: pyqtgraph reads every attribute of PySide6's modules as it loads and defines Qt subclasses,
and PySide6 creates its types lazily, on first access, without guarding against a second thread doing the same
(a SIGSEGV in ``pyqtgraph/Qt/__init__.py`` ``_copy_attrs`` while the GUI thread ran its event loop)."""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

_configured: list[ModuleType] = []
_warming: list[threading.Thread] = []


def ready() -> bool:
    """Whether ``pyqtgraph()`` returns without an import to run."""
    return bool(_configured) or "pyqtgraph" in sys.modules


def warm_up() -> None:
    """Start importing numpy on a background thread (once; nothing if pyqtgraph is loaded)."""
    if ready() or _warming:
        return
    thread = threading.Thread(target=importlib.import_module, args=("numpy",), name="numpy-import", daemon=True)
    _warming.append(thread)
    thread.start()


def warmed_up() -> bool:
    """Whether what ``warm_up`` loads in the background is loaded (so ``pyqtgraph()`` only has its own part)."""
    return ready() or (bool(_warming) and not _warming[0].is_alive())


def pyqtgraph() -> ModuleType:
    """The pyqtgraph module, configured for the panel (no OpenGL, antialiased). GUI thread only."""
    if not _configured:
        pg = importlib.import_module("pyqtgraph")
        pg.setConfigOptions(useOpenGL=False, antialias=True)
        _configured.append(pg)
    return _configured[0]
