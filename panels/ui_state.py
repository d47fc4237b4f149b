"""The window's own memory between runs: geometry, splitter sizes and the chosen period, in a small JSON file
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
        }
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    except OSError as exc:
        log.warning("window state not saved to %s: %s", path, exc)
