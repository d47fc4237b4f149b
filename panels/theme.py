"""SIM and LIVE themes. LIVE must never be mistaken for SIM: red frame and badge versus calm blue."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    name: str
    accent: str
    badge_text: str
    badge_bg: str
    badge_fg: str
    window_bg: str
    card_bg: str
    text: str
    muted: str


SIM = Theme("SIM", "#2f6fb3", "SIM", "#2f6fb3", "#ffffff", "#f3f6fa", "#ffffff", "#1d2733", "#5f6b7a")
LIVE = Theme("LIVE", "#c62828", "● LIVE", "#c62828", "#ffffff", "#fff5f4", "#ffffff", "#2a1a1a", "#6d5a58")
NONE = Theme("", "#888888", "NO ACCOUNT", "#888888", "#ffffff", "#f4f4f4", "#ffffff", "#222222", "#666666")

PROFIT = "#1b7f3a"
LOSS = "#c62828"
LONG = "#1b7f3a"
SHORT = "#c62828"
WARNING_BG = "#fff3cd"
WARNING_FG = "#7a5300"
ERROR_BG = "#fde2e1"
ERROR_FG = "#8a1c1c"


def theme_for(mode: str | None) -> Theme:
    if mode == "LIVE":
        return LIVE
    if mode == "SIM":
        return SIM
    return NONE


def pnl_color(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "inherit"
    if number > 0:
        return PROFIT
    if number < 0:
        return LOSS
    return "inherit"
