"""SIM and LIVE themes. LIVE must never be mistaken for SIM: red frame, red "● LIVE" badge and a warm tint
versus a calm blue frame and badge. Colours only; no widget is built here."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette


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
    frame_width: int


SIM = Theme("SIM", "#2f6fb3", "SIM", "#2f6fb3", "#ffffff", "#f3f6fa", "#ffffff", "#1d2733", "#5f6b7a", 3)
LIVE = Theme("LIVE", "#c62828", "● LIVE", "#c62828", "#ffffff", "#fff5f4", "#ffffff", "#2a1a1a", "#6d5a58", 5)
NONE = Theme("", "#888888", "NO ACCOUNT", "#888888", "#ffffff", "#f4f4f4", "#ffffff", "#222222", "#666666", 3)

PROFIT = "#1b7f3a"
LOSS = "#c62828"
LONG = "#1b7f3a"
SHORT = "#c62828"
FLAT = "#5f6b7a"
WARNING_BG = "#fff3cd"
WARNING_FG = "#7a5300"
ERROR_BG = "#fde2e1"
ERROR_FG = "#8a1c1c"
HEAT_AMBER = "#b26a00"
HEAT_RED = "#c62828"
STALE_BG = "#6d4c00"
STALE_FG = "#ffffff"

CHIP = "padding:1px 6px; border-radius:3px; font-weight:700;"
"""Style fragment of the small coloured flags (UNCONFIRMED, STALE, TRADING DISABLED)."""


def theme_for(mode: str | None) -> Theme:
    if mode == "LIVE":
        return LIVE
    if mode == "SIM":
        return SIM
    return NONE


def pnl_color(value: object) -> str:
    """Green for a positive amount, red for a negative one, the inherited colour for zero or unknown."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "inherit"
    if number > 0:
        return PROFIT
    if number < 0:
        return LOSS
    return "inherit"


def window_style(theme: Theme) -> str:
    """The style sheet of the window's central widget: tinted background and the coloured frame."""
    return (
        f"QWidget#central {{ background: {theme.window_bg}; border: {theme.frame_width}px solid {theme.accent}; }}"
        f" QGroupBox {{ font-weight: 600; border: 1px solid #c9d1da; border-radius: 4px; margin-top: 1.1em;"
        f" background: {theme.card_bg}; }}"
        " QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }"
        f" QFrame#positionCard {{ background: {theme.card_bg}; border: 1px solid {theme.accent}; border-radius: 4px; }}"
        f' QLabel[muted="true"] {{ color: {theme.muted}; }}'
    )


def badge_style(theme: Theme) -> str:
    return (
        f"background:{theme.badge_bg}; color:{theme.badge_fg}; font-weight:800; font-size:13pt;"
        " padding:3px 10px; border-radius:4px;"
    )


def palette_for(theme: Theme, base: QPalette) -> QPalette:
    """A light palette in the theme's colours, so text stays readable under a dark system theme."""
    palette = QPalette(base)
    roles = {
        QPalette.ColorRole.Window: theme.window_bg,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f5f7fa",
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: "#eef1f5",
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.ToolTipBase: "#ffffe1",
        QPalette.ColorRole.ToolTipText: "#000000",
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: "#ffffff",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    return palette
