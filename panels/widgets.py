"""Small widgets shared by the panels. ``ValueLabel`` takes its colour from its palette, not from a style sheet:
``setStyleSheet`` re-polishes the widget (~230 µs a label, measured), a palette change costs ~7 µs, and a
profit that turns into a loss re-colours several labels per render.

Every label here elides: it asks the layout for its whole text's width but accepts as little as a few
characters, paints ``…`` where the text does not fit and then carries the whole text in its tooltip. So no
text can make the window wider than the screen, and nothing is cut without a way to read it."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, QSize, QStandardPaths, Qt
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QWidget

_FONT_SIZE = re.compile(r"font-size:\s*([0-9.]+)pt")
_scale = [1.0]  # the font-size setting relative to the system's font; labels built later take it too
MIN_CHARS = 4
"""An eliding label can shrink to about this many characters plus the ellipsis."""


class ElidingLabel(QLabel):
    """A one-line plain-text label that elides on the right when narrower than its text; ``text()`` is always the
    whole text, ``is_elided()`` says whether ``…`` is shown, and the tooltip then holds the whole text (before
    any tooltip of its own).

    The elided text is worked out when the text, the size or the font changes and handed to ``QLabel`` to
    paint, so painting runs no Python (a Python ``paintEvent`` on every label cost a quarter of the GUI
    thread at 25 renders a second)."""

    _full, _own_tip, _elided = "", "", False  # until __init__ sets them (Qt may send events before)
    _min_chars: int | None = MIN_CHARS
    _own_min = False
    _hints: tuple[QSize, QSize] | None = None
    _hinted = ""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = text
        self._own_tip = ""
        self._elided = False

    def text(self) -> str:  # the whole text, whatever is painted
        return self._full

    def setToolTip(self, tip: str) -> None:
        self._own_tip = tip
        self._update_tip()

    def setText(self, text: str) -> None:
        self._full = text
        self._refresh()

    def sizeHint(self) -> QSize:  # the whole text's width, not the elided one's
        # layouts ask for the hints of every label on each relayout; they change only with the text, the font or
        # the style (``_hints`` is cleared then), so each is worked out once
        cached = self._hints
        if cached is not None:
            return cached[0]
        hint = super().sizeHint()
        if not self.wordWrap() and self._elided:
            hint = QSize(max(hint.width(), self.text_width() + self._chrome()), hint.height())
        if not self.wordWrap() and self.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
            self._hints = (hint, self._minimum_hint())  # once its style sheet's font applies
        return hint

    def set_min_chars(self, chars: int | None) -> None:
        """Shrink to no less than the text's first ``chars`` characters and ``…`` (so a short text such as
        "● SYNCED" is never cut), or never below the whole text (None): for a value the trader must always read
        whole, such as a position's side and size."""
        self._min_chars = chars
        self._own_min = True
        self._hints = None
        self.updateGeometry()

    def minimumSizeHint(self) -> QSize:
        cached = self._hints
        if cached is not None:
            return cached[1]
        return self._minimum_hint()

    def _minimum_hint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self.wordWrap():
            return hint
        whole = self.text_width() + self._chrome()
        if self._min_chars is None:
            return QSize(max(hint.width(), whole), hint.height())
        metrics = self.fontMetrics()
        if self._own_min:
            small = metrics.horizontalAdvance(self._full[: self._min_chars] + "…") + self._chrome()
        else:
            small = metrics.horizontalAdvance("M" * self._min_chars + "…") + self._chrome()
        return QSize(min(hint.width(), whole, small), hint.height())

    def _chrome(self) -> int:
        margins = self.contentsMargins()
        return margins.left() + margins.right() + 2 * self.margin() + max(0, self.indent()) + 2

    def text_width(self) -> int:
        """Pixels the whole text needs."""
        return self.fontMetrics().horizontalAdvance(self._full)

    def _room(self) -> int:
        return self.contentsRect().width() - 2 * self.margin()

    def is_elided(self) -> bool:
        """Whether the text is too wide for the label and shown with ``…``."""
        return self._elided

    def _refresh(self) -> None:
        """Show the whole text, or as much of it as fits followed by ``…``."""
        full = self._full
        room = self._room()
        elided = not self.wordWrap() and bool(full) and self.text_width() > room
        shown = self.fontMetrics().elidedText(full, Qt.TextElideMode.ElideRight, max(0, room)) if elided else full
        new_text, self._hinted = full != self._hinted, full
        if super().text() != shown:
            self._hints = None
            super().setText(shown)  # QLabel asks the layout to take the new hints
        elif new_text:
            self._hints = None
            if elided:
                self.updateGeometry()  # the same shown text, but the hint is the new whole text's width
        if elided != self._elided:
            self._elided = elided
            self._hints = None
            self.updateGeometry()  # the size hint is the whole text's again (or no longer)
        if self.accessibleName() != (full if elided else ""):
            self.setAccessibleName(full if elided else "")  # screen readers read the whole text
        self._update_tip()

    def _update_tip(self) -> None:
        # the own tooltip may already be rich text (``plain_tooltip``); the whole text is escaped
        tip = plain_tooltip(self._full) + self._own_tip if self._elided else self._own_tip
        if super().toolTip() != tip:
            super().setToolTip(tip)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._hints = None
            self._refresh()


class ValueLabel(ElidingLabel):
    """A label showing one value; ``base_css`` is its fixed style (font size, weight). Always plain text: a
    value may come from Sierra Chart (status texts, reject texts, account and symbol names), and Qt would
    otherwise render anything that looks like HTML as rich text."""

    def __init__(self, object_name: str = "", base_css: str = "", parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        if object_name:
            self.setObjectName(object_name)
        self._original_css = base_css
        self._base_css = _FONT_SIZE.sub(self._scaled, base_css)
        self._css: str | None = None
        self._colour: str | None = None
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._restyle("")

    def _restyle(self, extra: str) -> None:
        css = self._base_css + extra
        if css != self._css:
            self._css = css
            self.setStyleSheet(css)

    @staticmethod
    def _scaled(match: re.Match[str]) -> str:
        return f"font-size:{float(match[1]) * _scale[0]:.1f}pt"

    def rescale(self) -> None:
        """Apply the current ``set_font_scale`` to the fixed point size of its style (the big figures)."""
        base = _FONT_SIZE.sub(self._scaled, self._original_css)
        if base != self._base_css:
            extra = (self._css or "")[len(self._base_css) :]
            self._base_css = base
            self._restyle(extra)

    def show_value(self, text: str, color: str | None = None, extra_css: str = "") -> None:
        """Show ``text`` in ``color`` (CSS colour; ``None``/``inherit`` = the theme's text colour). A colour in
        ``extra_css`` (which changes the style sheet: for rare states, such as a stale price) wins over it."""
        if self.text() != text:
            self.setText(text)
        self._restyle(extra_css)
        colour = color if color and color != "inherit" else None
        if colour != self._colour:
            self._colour = colour
            self._apply_colour()

    def colour(self) -> str | None:
        """The colour the value is shown in (CSS, as given to ``show_value``); None: the look's text colour."""
        return self._colour

    def _apply_colour(self) -> None:
        palette = QPalette()  # nothing set: every role follows the window's palette (its look)
        if self._colour is not None:
            palette.setColor(QPalette.ColorRole.WindowText, QColor(self._colour))
        self.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.StyleChange and self._colour is not None:
            self._apply_colour()  # a re-polish puts back the palette the style sheet found


def set_font_scale(factor: float) -> None:
    """The font-size setting relative to the system's font: every ``ValueLabel`` built from now on scales
    its fixed point sizes by it (call ``rescale`` on those that exist)."""
    _scale[0] = factor


def documents_folder() -> str:
    """Where save dialogs start: the user's Documents folder (``QStandardPaths``), "" if the system has none."""
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows exactly these characters. Qt has no plain-text switch for tooltips
    and renders any tooltip that looks like HTML as rich text, so the text is escaped into a paragraph."""
    return QtGuiNamespace.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal) if text else ""


def caption(text: str) -> QLabel:
    """A muted caption to the left of a value (eliding, like every value)."""
    label = ElidingLabel(text)
    label.setProperty("muted", True)
    return label


def add_pairs(grid: QGridLayout, pairs: list[tuple[str, QWidget]], columns: int, first_row: int = 0) -> int:
    """Lay out (caption, value) pairs in ``columns`` caption/value column pairs; returns the next free row."""
    for index, (text, widget) in enumerate(pairs):
        row, col = divmod(index, columns)
        grid.addWidget(caption(text), first_row + row, col * 2)
        grid.addWidget(widget, first_row + row, col * 2 + 1)
    return first_row + (len(pairs) + columns - 1) // columns


class StableScrollArea(QScrollArea):
    """A ``widgetResizable`` scroll area whose content cannot be resized in an endless loop.

    When the content's height depends on its width (word-wrapped or eliding labels), showing the vertical
    scroll bar narrows the content, which then fits, which hides the scroll bar, which widens it again — Qt
    resizes the content from inside its own resize handling until the stack overflows (a 92,217-frame crash
    seen in the tests). Resizes nested deeper than ``MAX_NESTED_RESIZES`` are left to the next layout pass."""

    MAX_NESTED_RESIZES = 4
    _nested = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if event.type() != QEvent.Type.Resize or watched is not self.widget():
            return super().eventFilter(watched, event)
        if self._nested >= self.MAX_NESTED_RESIZES:
            return False
        self._nested += 1
        try:
            return super().eventFilter(watched, event)
        finally:
            self._nested -= 1
