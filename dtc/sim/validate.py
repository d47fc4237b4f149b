"""Validation helpers for the simulator's declarative inputs (scenario JSON and API arguments).

Every helper takes the loose value and ``where`` (a JSON path such as ``demo.json.steps[3].fill.price``) and
raises ``ValueError`` naming ``where`` when the value does not fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def number(value: Any, where: str, *, positive: bool = False) -> float:
    """A finite JSON number (not a bool) as float; ``positive`` also demands > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{where}: must be > 0, got {value!r}")
    return float(value)


def integer(value: Any, where: str, *, minimum: int | None = None) -> int:
    """A JSON integer (not a bool, not 1.5); ``minimum`` is inclusive."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: must be >= {minimum}, got {value!r}")
    return value


def text(value: Any, where: str) -> str:
    """A non-empty ASCII string (DTC text fields are fixed-size char arrays)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    if not value.isascii():
        raise ValueError(f"{where}: DTC text must be ASCII, got {value!r}")
    return value


def optional_text(value: Any, where: str) -> str:
    """An ASCII string that may be empty."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    if not value.isascii():
        raise ValueError(f"{where}: DTC text must be ASCII, got {value!r}")
    return value


def boolean(value: Any, where: str) -> bool:
    """A JSON ``true``/``false`` (not 0/1)."""
    if not isinstance(value, bool):
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    return value


def mapping(value: Any, where: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    """A JSON object with only ``allowed`` keys and every ``required`` key."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    unknown = set(value) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = required - set(value)
    if missing:
        raise ValueError(f"{where}: missing key(s) {sorted(missing)}")
    return value
