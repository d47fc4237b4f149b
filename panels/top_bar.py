"""The window's top bar: the focused scope's SIM / ● LIVE badge, the account picker, the connection and
reconciliation state (with a chip that reopens the reconcile dialog), the unit switch, Sierra Chart's trade-list
differences, Pin (always on top), Strip/Full and Settings; below it a thin strip in
the focused scope's colour.

It only shows things and offers its controls; the window connects them (``scope_picker.activated``,
``unit_picker.activated``, ``on_top_button.toggled``, ``compact_button.clicked``, ``settings_button.clicked``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.snapshots import AppSnapshot
from panels import format as fmt
from panels.theme import CHIP, WARNING_BG, WARNING_FG, Theme, badge_style, focus_strip_style
from panels.widgets import ElidingLabel, ValueLabel

FOLLOW = "__follow__"
"""The picker's item data for "Follow latest fill"; the others carry (mode, account)."""


class ElidingComboBox(QComboBox):
    """A combo box whose current text ends in ``…`` when it does not fit (Qt's cuts it mid-character)."""

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name; the combo repaints rarely
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(0, field.width() - 4)
        )
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class TopBar(QWidget):
    """Badge, pickers, states and buttons; ``mark(theme)`` colours the badge and the strip for the focused scope."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("topBar")
        self.rendering = False
        """True while the picker is refilled (its ``activated`` is then no choice of the trader's)."""
        self._scopes_key: object = None
        self._theme: Theme | None = None
        self._narrow, self._wide, self._differences, self._sierra_text = False, True, 0, ""
        self.badge = ElidingLabel()
        self.badge.setObjectName("modeBadge")
        self.scope_picker = ElidingComboBox(objectName="scopePicker")
        self.scope_picker.setMinimumContentsLength(24)
        self.scope_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scope_picker.setMinimumWidth(90)  # below its preferred width it elides the account's name
        self.scope_picker.setToolTip("Account shown (Ctrl+Tab / Ctrl+Shift+Tab to cycle, Ctrl+F to follow)")
        self.connection = ValueLabel("connection", "font-weight:600;")
        self.connection.set_min_chars(9)  # "● SYNCED" whole even at the narrowest medium width
        self.positions_status = ValueLabel("positionsStatus")
        self.positions_status.setProperty("muted", True)
        self.positions_status.setToolTip("Whether Sierra Chart's position report agrees with the stored positions")
        self.unit_picker = QComboBox(objectName="unitPicker")
        for unit in fmt.UNITS:
            self.unit_picker.addItem(fmt.UNIT_NAMES[unit], unit)
        self.unit_picker.setMinimumWidth(60)
        self.unit_picker.setToolTip("Show P&L and MAE/MFE in money, points or ticks first (Ctrl+U)")
        self.on_top_button = QToolButton(objectName="alwaysOnTop")
        self.on_top_button.setText("Pin")
        self.on_top_button.setCheckable(True)
        self.on_top_button.setToolTip("Pin: always on top, above Sierra Chart's windows (Ctrl+T)")
        self.compact_button = QToolButton(objectName="compactButton")
        self.compact_button.setText("Strip")
        self.compact_button.setToolTip(
            "Switch between the compact strip (its size is remembered) and the full window (Ctrl+M)"
        )
        self.settings_button = QToolButton(objectName="settingsButton")
        self.settings_button.setText("⚙ Settings")
        self.settings_button.setToolTip("Settings (Ctrl+,)")
        self.reconcile_chip = QPushButton(objectName="reconcileChip")  # open discrepancies: reopens the dialog
        self.reconcile_chip.setStyleSheet(f"background:{WARNING_BG}; color:{WARNING_FG}; {CHIP} border:none;")
        self.reconcile_chip.setToolTip("Review the positions that differ from Sierra Chart")
        self.reconcile_chip.hide()
        self.sierra_button = QToolButton(objectName="sierraButton")  # issue 15: Sierra Chart's own trade list
        self.sierra_button.setToolTip("Differences with Sierra Chart's own trade list (Ctrl+D)")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.badge)
        row.addWidget(self.scope_picker)
        row.addStretch(1)
        row.addWidget(self.connection)
        row.addSpacing(8)
        row.addWidget(self.positions_status)
        row.addWidget(self.reconcile_chip)
        row.addSpacing(8)
        for widget in (
            self.unit_picker,
            self.sierra_button,
            self.on_top_button,
            self.compact_button,
            self.settings_button,
        ):
            row.addWidget(widget)
        self.focus_strip = QFrame(objectName="focusStrip")
        self.focus_strip.setFixedHeight(4)
        self.focus_strip.setToolTip("The focused account's mode: blue SIM, red LIVE")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        outer.addLayout(row)
        outer.addWidget(self.focus_strip)

    def mark(self, theme: Theme) -> None:
        """Mark the focused scope's mode: the badge and the strip only (never the whole window)."""
        if theme is self._theme:
            return
        self._theme = theme
        self.badge.setText(f" {theme.badge_text} ")
        self.badge.setStyleSheet(badge_style(theme))
        # SIM and ● LIVE are never cut; "NO ACCOUNT" may be, on a narrow strip
        self.badge.setMinimumWidth(0 if theme.name == "" else self.badge.sizeHint().width())
        self.focus_strip.setStyleSheet(focus_strip_style(theme))

    def show_differences(self, count: int) -> None:
        """The chip for ``count`` positions that differ from Sierra Chart (hidden at 0); short when narrow."""
        self._differences = count
        plural = "s" if count != 1 else ""
        whole = f"⚠ {count} position{plural} differ{'s' if count == 1 else ''} — review"
        text = f"⚠ {count} differ{'s' if count == 1 else ''}" if self._narrow else whole
        if count and self.reconcile_chip.text() != text:
            self.reconcile_chip.setText(text)
            self.reconcile_chip.setToolTip(f"{whole}: the positions that differ from Sierra Chart")
        self.reconcile_chip.setVisible(bool(count))

    def show_sierra(self, text: str, tip: str | None = None) -> None:
        """The trade-list button: "Sierra Chart ≠ 3" when wide, "SC ≠ 3" otherwise (the tooltip says all)."""
        self._sierra_text = text
        shown = text if self._wide else text.replace("Sierra Chart", "SC")
        if self.sierra_button.text() != shown:
            self.sierra_button.setText(shown)
        if tip is not None:
            self.sierra_button.setToolTip(tip)

    def set_narrow(self, narrow: bool, wide: bool) -> None:
        """Narrow: the states, the unit switch and the trade-list button leave (the strip shows the connection),
        the differences chip gets short; only wide spells out Settings."""
        self._narrow, self._wide = narrow, wide
        self.show_sierra(self._sierra_text)
        for widget in (self.connection, self.positions_status, self.unit_picker, self.sierra_button):
            widget.setVisible(not narrow)
        self.show_differences(self._differences)
        self.settings_button.setText("⚙ Settings" if wide else "⚙")
        self.compact_button.setText("Full" if narrow else "Strip")
        self.scope_picker.setMinimumContentsLength(24 if wide else 10)

    def render_scopes(self, snap: AppSnapshot) -> None:
        """Fill the account picker (only when the accounts or the focus changed)."""
        key = (snap.accounts, snap.scope_mode, snap.scope_account, snap.scope_pinned)
        if key == self._scopes_key:
            return
        self._scopes_key = key
        self.rendering = True
        try:
            picker = self.scope_picker
            picker.clear()
            picker.addItem("Follow latest fill", FOLLOW)
            current = 0
            for account in snap.accounts:
                flag = " (trading disabled)" if account.trading_disabled else ""
                picker.addItem(f"{account.mode} · {account.account}{flag}", (account.mode, account.account))
                if snap.scope_pinned and (account.mode, account.account) == (snap.scope_mode, snap.scope_account):
                    current = picker.count() - 1
            picker.setCurrentIndex(current)
            if not snap.scope_pinned and snap.scope_account:
                picker.setItemText(0, f"Follow latest fill ({snap.scope_mode} · {snap.scope_account})")
        finally:
            self.rendering = False
