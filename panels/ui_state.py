"""The window's own memory between runs: geometry, splitter sizes, the chosen period, the compact strip's size
and always-on-top, in a small JSON file
whose path the composition root passes in. A missing or unreadable file means "defaults"; it is never fatal."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class UiState:
    geometry: str = ""
    """``QWidget.saveGeometry()`` as base64 text."""
    period: str = ""
    """A ``core.tradingday.Period`` value."""
    splitters: dict[str, str] = field(default_factory=dict)
    """``QSplitter.saveState()`` as base64 text, by splitter object name."""
    primary_unit: str = "$"
    """What P&L and excursions show first: ``$``, ``pt`` or ``t`` (``panels.format.UNITS``)."""
    compact_size: tuple[int, int] | None = None
    """Pixels (width, height) of the compact strip the trader last used; ``None``: the default."""
    full_size: tuple[int, int] | None = None
    """Pixels of the full window the compact strip was switched from."""
    always_on_top: bool = False


def _pixels(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 20000


def _size(value: object) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2 and all(_pixels(v) for v in value):
        return (value[0], value[1])
    return None


def load_ui_state(path: Path | None) -> UiState:
    """The stored state, or defaults when ``path`` is None, missing or unreadable (logged)."""
    if path is None or not path.exists():
        return UiState()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("window state %s not readable, using defaults: %s", path, exc)
        return UiState()
    if not isinstance(raw, dict):
        return UiState()
    splitters = raw.get("splitters")
    return UiState(
        geometry=str(raw.get("geometry", "")),
        period=str(raw.get("period", "")),
        splitters={str(k): str(v) for k, v in splitters.items()} if isinstance(splitters, dict) else {},
        primary_unit=str(raw.get("primary_unit", "$")) if raw.get("primary_unit") in ("$", "pt", "t") else "$",
        compact_size=_size(raw.get("compact_size")),
        full_size=_size(raw.get("full_size")),
        always_on_top=raw.get("always_on_top") is True,
    )


def save_ui_state(path: Path | None, state: UiState) -> None:
    """Write ``state`` to ``path`` (no-op for None); a failure is logged, never raised."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "geometry": state.geometry,
            "period": state.period,
            "splitters": state.splitters,
            "primary_unit": state.primary_unit,
            "compact_size": state.compact_size,
            "full_size": state.full_size,
            "always_on_top": state.always_on_top,
        }
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    except OSError as exc:
        log.warning("window state not saved to %s: %s", path, exc)
