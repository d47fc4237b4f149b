"""Looks and SIM/LIVE marks. Colours only; no widget is built here.

Two independent things: the **look** of the whole window (``LIGHT`` or a Sierra-Chart-like ``DARK``; by default
the operating system's), styled once; and the **mode** marks (``SIM``/``LIVE`` themes) that colour only the
badge, the focus strip, a position's card and its row on the board. So following a fill in another account
moves a few small marks; it never re-styles the window. LIVE must never be mistaken for SIM: a red "● LIVE"
chip, red frame and red row mark versus calm blue, in both looks.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class Look:
    """The window's colours: backgrounds, text, lines and the P&L colours readable on them."""

    name: str
    window_bg: str
    card_bg: str
    text: str
    muted: str
    border: str
    base: str
    alternate: str
    button: str
    profit: str
    loss: str
    flat: str
    row_focus: str


LIGHT = Look(
    "light", "#f3f5f8", "#ffffff", "#1d2733", "#5f6b7a", "#c9d1da", "#ffffff", "#f5f7fa", "#eef1f5",
    "#1b7f3a", "#c62828", "#5f6b7a", "#dde8f5",
)  # fmt: skip
DARK = Look(
    "dark", "#0d0f12", "#171a1f", "#d7dde4", "#8d97a3", "#2d343c", "#111418", "#181c21", "#232930",
    "#3ec46d", "#ff5c57", "#8d97a3", "#233246",
)  # fmt: skip
LOOKS = {"light": LIGHT, "dark": DARK}
LOOK_CHOICES = ("system", "light", "dark")
"""What the trader can choose (settings ``theme``, ``--theme``): the operating system's look, light or dark."""

_active: list[Look] = [LIGHT]


def active_look() -> Look:
    """The look the window uses now (``set_active_look``)."""
    return _active[0]


def set_active_look(look: Look) -> None:
    """Make ``look`` the one ``pnl_color`` and the panels colour with (the window calls this, then re-renders)."""
    _active[0] = look


def system_is_dark() -> bool:
    """Whether the operating system asks for a dark look (Qt 6.5+ ``colorScheme``; unknown → light)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    hints = QGuiApplication.styleHints()
    return bool(hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark)


def resolve_look(choice: str) -> Look:
    """``light``/``dark`` as named; ``system`` (or anything else) follows the operating system."""
    if choice in LOOKS:
        return LOOKS[choice]
    return DARK if system_is_dark() else LIGHT


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
    """Green for a positive amount, red for a negative one (in the active look's shades), the inherited
    colour for zero or unknown."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "inherit"
    if number > 0:
        return active_look().profit
    if number < 0:
        return active_look().loss
    return "inherit"


def side_color(quantity: object) -> str:
    """LONG green, SHORT red, in the active look's shades."""
    try:
        long = float(quantity) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return active_look().flat
    return active_look().profit if long else active_look().loss


def window_style(look: Look) -> str:
    """The window's one style sheet for ``look`` (set when the look changes, never per fill). Position cards and
    board rows carry a ``mode`` property (``SIM``/``LIVE``) that colours their frame and mark."""
    return _controls_style(look) + (
        f"QWidget#central {{ background: {look.window_bg}; }}"
        # no colour for every QLabel here: labels take the look's text colour from the palette (``set_look``
        # sets the application's and the window's), and a ``ValueLabel`` colours a value by its own palette
        f" QGroupBox {{ font-weight: 600; border: 1px solid {look.border}; border-radius: 4px; margin-top: 1.1em;"
        f" background: {look.card_bg}; color: {look.text}; }}"
        " QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }"
        f" QFrame#positionCard {{ background: {look.card_bg}; border: 1px solid {SIM.accent}; border-radius: 4px; }}"
        f' QFrame#positionCard[mode="LIVE"] {{ border: {LIVE.frame_width}px solid {LIVE.accent}; }}'
        f" QFrame#boardRow {{ background: {look.card_bg}; border: 1px solid {look.border};"
        f" border-left: 4px solid {SIM.accent}; border-radius: 3px; }}"
        f' QFrame#boardRow[mode="LIVE"] {{ border: 1px solid {LIVE.accent}; border-left: 6px solid {LIVE.accent}; }}'
        f' QFrame#boardRow[focused="true"] {{ background: {look.row_focus}; }}'
        f' QLabel[muted="true"] {{ color: {look.muted}; }}'
        f" QHeaderView::section {{ background: {look.button}; color: {look.text}; border: none;"
        f" border-right: 1px solid {look.border}; border-bottom: 1px solid {look.border}; padding: 2px 6px; }}"
    )


def _controls_style(look: Look) -> str:
    """Buttons, pickers and tabs in the dark look (the platform's own controls stay light otherwise)."""
    if look is not DARK:
        return ""
    return (
        f"QToolButton, QPushButton, QComboBox {{ background: {look.button}; color: {look.text};"
        f" border: 1px solid {look.border}; border-radius: 3px; padding: 1px 3px; }}"
        f" QToolButton:checked, QPushButton:checked {{ background: {look.row_focus}; border-color: {SIM.accent}; }}"
        f" QToolButton:hover, QPushButton:hover, QComboBox:hover {{ border-color: {look.muted}; }}"
        f" QPushButton:disabled, QToolButton:disabled {{ color: {look.border}; }}"
        f" QComboBox QAbstractItemView {{ background: {look.base}; color: {look.text};"
        f" selection-background-color: {SIM.accent}; }}"
        f" QTabBar::tab {{ background: {look.button}; color: {look.muted}; padding: 4px 12px;"
        f" border: 1px solid {look.border}; border-bottom: none; }}"
        f" QTabBar::tab:selected {{ background: {look.card_bg}; color: {look.text}; }}"
        f" QScrollBar {{ background: {look.window_bg}; }}"
    ) + " "


def mode_chip_style(mode: str) -> str:
    """The small SIM / ● LIVE chip of a board row."""
    theme = theme_for(mode)
    return f"background:{theme.badge_bg}; color:{theme.badge_fg}; padding:1px 5px; border-radius:3px; font-weight:800;"


def focus_strip_style(theme: Theme) -> str:
    """The thin strip under the top bar in the focused scope's colour."""
    return f"background:{theme.accent}; border:none;"


def badge_style(theme: Theme) -> str:
    return (
        f"background:{theme.badge_bg}; color:{theme.badge_fg}; font-weight:800; font-size:13pt;"
        " padding:3px 6px; border-radius:4px;"
    )


def palette_for(look: Look, base: QPalette) -> QPalette:
    """A palette in ``look``'s colours (so a light look stays light under a dark system theme and vice versa)."""
    palette = QPalette(base)
    roles = {
        QPalette.ColorRole.Window: look.window_bg,
        QPalette.ColorRole.WindowText: look.text,
        QPalette.ColorRole.Base: look.base,
        QPalette.ColorRole.AlternateBase: look.alternate,
        QPalette.ColorRole.Text: look.text,
        QPalette.ColorRole.Button: look.button,
        QPalette.ColorRole.ButtonText: look.text,
        QPalette.ColorRole.ToolTipBase: "#ffffe1",
        QPalette.ColorRole.ToolTipText: "#000000",
        QPalette.ColorRole.PlaceholderText: look.muted,
        QPalette.ColorRole.Highlight: SIM.accent,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: look.button,
        QPalette.ColorRole.Midlight: look.border,
        QPalette.ColorRole.Mid: look.border,
        QPalette.ColorRole.Dark: look.border,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    return palette
