"""Small widgets shared by the panels. ``ValueLabel`` re-styles itself only when its colour changes, because
``setStyleSheet`` re-polishes the widget and would make 30 renders per second expensive."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget


class ValueLabel(QLabel):
    """A label showing one value; ``base_css`` is its fixed style (font size, weight). Always plain text: a
    value may come from Sierra Chart (status texts, reject texts, account and symbol names), and Qt would
    otherwise render anything that looks like HTML as rich text."""

    def __init__(self, object_name: str = "", base_css: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self._base_css = base_css
        self._css: str | None = None
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._restyle("")

    def _restyle(self, extra: str) -> None:
        css = self._base_css + extra
        if css != self._css:
            self._css = css
            self.setStyleSheet(css)

    def show_value(self, text: str, color: str | None = None, extra_css: str = "") -> None:
        """Show ``text`` in ``color`` (CSS colour; ``None``/``inherit`` = the theme's text colour)."""
        if self.text() != text:
            self.setText(text)
        self._restyle((f"color:{color};" if color and color != "inherit" else "") + extra_css)


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows exactly these characters. Qt has no plain-text switch for tooltips
    and renders any tooltip that looks like HTML as rich text, so the text is escaped into a paragraph."""
    return QtGuiNamespace.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal) if text else ""


def caption(text: str) -> QLabel:
    """A muted caption to the left of a value."""
    label = QLabel(text)
    label.setProperty("muted", True)
    return label


def add_pairs(grid: QGridLayout, pairs: list[tuple[str, QWidget]], columns: int, first_row: int = 0) -> int:
    """Lay out (caption, value) pairs in ``columns`` caption/value column pairs; returns the next free row."""
    for index, (text, widget) in enumerate(pairs):
        row, col = divmod(index, columns)
        grid.addWidget(caption(text), first_row + row, col * 2)
        grid.addWidget(widget, first_row + row, col * 2 + 1)
    return first_row + (len(pairs) + columns - 1) // columns
