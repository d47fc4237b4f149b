"""The main window: the top bar (``top_bar``: mode badge, account picker, connection state, buttons) over the
body (``window_body``: the board of every open position; Panel2, Panel1 and the notification feed; Panel3
and the trade charts as tabs).

The layout follows the width (``window_body.layout_for``): a compact strip when narrow (the board of open
positions with today's net and the connection), the board with the focused position's card and today's
statistics at medium widths, the full dashboard when wide. Every label elides with its whole text in a tooltip, so no
text can make the window wider than the screen. The look (light/dark) is styled once; following a fill into
another account only moves the small SIM/LIVE marks (badge, focus strip, card frame, board row).

It applies the core's ``Update``s (``apply``): a full ``AppSnapshot`` is rendered whole; a batch of events
updates ``ViewState`` and the panels incrementally (the trades table appends rows, the chart appends
points), so a fill costs the window the same with ten closed trades or a hundred thousand. ``shown`` is
emitted with the snapshot now on screen (the reconnect dialog and the alerts follow it). It asks for
things only through the callbacks it is given:
``on_scope_chosen(mode, account)``, ``on_follow()``, ``on_period_chosen(Period)`` and
``on_settings_saved(Settings, password | None)``. It never reads or writes state itself.

Keyboard: Ctrl+1…Ctrl+6 periods, Ctrl+Tab / Ctrl+Shift+Tab (or Alt+Down / Alt+Up) next/previous account,
Ctrl+F follow the latest fill, Ctrl+U money/points/ticks first, Ctrl+M compact strip, Ctrl+T always on top,
Ctrl+G charts, Ctrl+, settings (``shortcuts``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLayout,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.events import Update
from core.settings import Settings
from core.sierra_trades import SierraTradesView
from core.snapshots import AppSnapshot, ConnectionState
from core.text import printable
from core.tradingday import Period
from panels import format as fmt
from panels.position_card import DEFAULT_HEAT_THRESHOLDS
from panels.settings_dialog import SavedCallback, SettingsDialog
from panels.shortcuts import install_shortcuts
from panels.sierra_differences import SierraDifferencesDialog
from panels.storage_dialogs import QuitGuard
from panels.theme import (
    ERROR_BG,
    ERROR_FG,
    Look,
    palette_for,
    pnl_color,
    resolve_look,
    set_active_look,
    theme_for,
    window_style,
)
from panels.top_bar import FOLLOW, TopBar
from panels.trade_charts import chart_caption
from panels.ui_state import UiState, load_ui_state, save_ui_state
from panels.view_state import ViewState
from panels.widgets import ElidingLabel, ValueLabel, plain_tooltip, set_font_scale
from panels.window_body import DEFAULT_COMPACT_SIZE, NARROW, WIDE, WindowBody, layout_for

MIN_WIDTH, MIN_HEIGHT = 350, 220
"""The smallest window: the compact strip with one position (px)."""

FORCED_PAINT_GAP_S = 0.1
RENDER_GAP_S = 0.04
"""Updates closer together than this are shown together (the first at once)."""
POSITION_GAP_S = 0.05
"""A position change is shown at once unless the window was rendered less than this ago; then with the next
render, at most this much later (in a burst of fills the window renders ~20 times a second, not per fill)."""

CONNECTION_COLORS = {
    ConnectionState.SYNCED: "#1b7f3a",
    ConnectionState.SYNCING: "#2f6fb3",
    ConnectionState.LOGGING_ON: "#2f6fb3",
    ConnectionState.CONNECTING: "#2f6fb3",
    ConnectionState.STALE: "#b26a00",
    ConnectionState.DISCONNECTED: "#c62828",
    ConnectionState.STOPPED: "#c62828",
}


def _now() -> datetime:
    return datetime.now(UTC)


class MainWindow(QMainWindow):
    shown = Signal(object)
    """The ``AppSnapshot`` now on screen, after every full render or applied batch of events."""
    reconcile_requested = Signal()
    """The trader clicked the "positions differ" chip: (re)open the reconnect dialog."""

    """Shows every ``Update`` and ``AppSnapshot`` (an older ``seq`` than the one shown is ignored).

    ``settings`` pre-fills the settings dialog (without it, the dialog is unavailable); ``ui_state_path`` is
    the JSON file for geometry and the chosen period (``None``: not remembered); ``heat_thresholds`` seconds
    in heat before amber and red; ``clock`` gives the current UTC time for ages; ``tz`` is the zone times
    are shown in (``None``: this computer's).
    """

    def __init__(
        self,
        on_scope_chosen: Callable[[str, str], None] | None = None,
        on_follow: Callable[[], None] | None = None,
        on_period_chosen: Callable[[Period], None] | None = None,
        on_settings_saved: SavedCallback | None = None,
        *,
        settings: Settings | None = None,
        ui_state_path: Path | None = None,
        heat_thresholds: tuple[float, float] = DEFAULT_HEAT_THRESHOLDS,
        clock: Callable[[], datetime] = _now,
        tz: tzinfo | None = None,
        look: str = "system",
        font_size: float = 0,
    ) -> None:
        super().__init__()
        self.setWindowTitle("DTC Panel")
        self.setObjectName("mainWindow")
        self._on_scope_chosen = on_scope_chosen
        self._on_follow = on_follow
        self._on_period_chosen = on_period_chosen
        self._on_settings_saved = on_settings_saved
        self._settings = settings
        self._ui_state_path = ui_state_path
        self._ui_state = load_ui_state(ui_state_path)
        self._look: Look | None = None
        self._system_font = QFont(QApplication.font())
        self.settings_dialog: SettingsDialog | None = None
        self.view_state = ViewState()
        self._forced_paint = 0.0
        self._last_show = 0.0
        self.render_gap = RENDER_GAP_S
        self.position_gap = POSITION_GAP_S
        """Seconds: updates closer together than this are shown together (0: every update at once)."""
        self._positions_changed = False
        self._parts: dict[str, tuple[object, ...]] = {}
        self._render_timer = QTimer(self, singleShot=True, objectName="renderTimer")
        self._render_timer.timeout.connect(self._show_pending)
        self._shown: tuple[tuple[str, str, Decimal], ...] | None = None
        self.renders = 0
        self.quit_guard = QuitGuard(self)

        central = QWidget(objectName="central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 6)
        outer.setSpacing(6)
        self.top_bar = bar = TopBar()
        outer.addWidget(bar)
        # the bar's parts by their old names (tests and the reconnect dialog read them)
        self.badge, self.scope_picker, self.connection = bar.badge, bar.scope_picker, bar.connection
        self.positions_status, self.unit_picker = bar.positions_status, bar.unit_picker
        self.focus_strip, self.on_top_button = bar.focus_strip, bar.on_top_button
        self.compact_button, self.settings_button = bar.compact_button, bar.settings_button
        self.reconcile_chip, self.sierra_button = bar.reconcile_chip, bar.sierra_button
        bar.reconcile_chip.clicked.connect(self.reconcile_requested)
        bar.sierra_button.clicked.connect(self.open_sierra_differences)
        bar.scope_picker.activated.connect(self._scope_activated)
        bar.unit_picker.activated.connect(lambda index: self.set_primary_unit(bar.unit_picker.itemData(index)))
        bar.settings_button.clicked.connect(self.open_settings)
        bar.settings_button.setEnabled(self._settings is not None)
        bar.on_top_button.toggled.connect(self.set_always_on_top)
        bar.compact_button.clicked.connect(self.toggle_compact)
        self.storage = QLabel(objectName="storageError")
        self.storage.setTextFormat(Qt.TextFormat.PlainText)  # the database's error text
        self.storage.setWordWrap(True)
        self.storage.setStyleSheet(f"background:{ERROR_BG}; color:{ERROR_FG}; padding:6px; font-weight:600;")
        self.storage.hide()
        outer.addWidget(self.storage)

        self.body = body = WindowBody(self._row_clicked, self._period_chosen, heat_thresholds, clock, tz)
        outer.addWidget(body, 1)
        self.board, self.board_scroll, self.feed, self.charts = body.board, body.board_scroll, body.feed, body.charts
        self.panel1, self.panel2, self.panel3 = body.panel1, body.panel2, body.panel3
        self.main_splitter, self.top_splitter, self.bottom_tabs = body.main_splitter, body.top_splitter, body.tabs

        self.advisory = ElidingLabel("P&L computed by DTC Panel from fills — advisory; Sierra Chart is authoritative.")
        self.advisory.setProperty("muted", True)
        outer.addWidget(self.advisory)
        self.setCentralWidget(central)
        # The width chooses the layout (strip, medium, wide), each fitting its whole range of widths: the window
        # is not held at the current layout's minimum (a drag from wide to the strip would stop at each
        # layout's minimum for one step); only at the strip's.
        self.layout().setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.sierra_differences = SierraDifferencesDialog(self, tz)
        self.top_bar.show_sierra(self.sierra_differences.button_text())
        self._build_actions()
        self.resize(1280, 720)
        self.set_look(look)
        self.set_font_size(font_size)
        self.top_bar.mark(theme_for(None))
        self._restore_ui_state()
        self._apply_layout(layout_for(self.width()))

    # --- construction ---------------------------------------------------------------------------------

    def _splitters(self) -> tuple[QSplitter, ...]:
        return self.body.splitters()

    def _build_actions(self) -> None:
        """Window-wide shortcuts as ``QAction``s (``self.shortcut_actions`` by name; keys in ``shortcuts``)."""
        slots: dict[str, Callable[[], None]] = {
            "next_scope": lambda: self.cycle_scope(1),
            "previous_scope": lambda: self.cycle_scope(-1),
            "follow": self._follow,
            "next_unit": self._next_unit,
            "compact": self.toggle_compact,
            "always_on_top": lambda: self.on_top_button.setChecked(not self.on_top_button.isChecked()),
            "charts": self.show_charts,
            "sierra_differences": self.open_sierra_differences,
            "settings": self.open_settings,
        }
        self.shortcut_actions = install_shortcuts(self, slots, self._period_chosen)

    def open_sierra_differences(self) -> None:
        """Show the "Differences with Sierra Chart" window (non-modal)."""
        self.sierra_differences.show()
        self.sierra_differences.raise_()

    @Slot(object)
    def show_sierra(self, view: SierraTradesView) -> None:
        """Where the comparison with Sierra Chart's trade list stands (``core.sierra_trades``)."""
        self.sierra_differences.show_view(view)
        self.top_bar.show_sierra(self.sierra_differences.button_text(), self.sierra_differences.status_text(view))

    # --- rendering ------------------------------------------------------------------------------------

    @property
    def last_snapshot(self) -> AppSnapshot | None:
        """What the window shows now (its ``trades`` are those of the last full render; rows appended since
        are in ``panel3.model``)."""
        return self.view_state.snapshot

    @Slot(object)
    def apply(self, update: Update) -> None:
        """Show one update from the core: a full snapshot, or a batch of events applied incrementally."""
        if update.snapshot is not None:
            self.render(update.snapshot)
            return
        applied = self.view_state.apply(update)
        snap = self.view_state.snapshot
        if applied is None or snap is None:
            return
        if applied.trades:
            self.panel3.append_trades(applied.trades)
            self.charts.append(applied.trades)
        if applied.equity:
            self.panel1.chart.append(applied.equity)
        self._positions_changed |= applied.positions_changed
        # a position that opened, changed or closed is shown at once (in a burst: at most every 50 ms); prices,
        # figures and the feed that change in quick succession are shown together, at most ~25 times a second
        gap = self.position_gap if applied.positions_changed else self.render_gap
        wait = self._last_show + gap - time.monotonic()
        if wait > 0:
            if not self._render_timer.isActive():
                self._render_timer.start(max(1, int(wait * 1000)))
            return
        self._show_pending()

    def _show_pending(self) -> None:
        snap = self.view_state.snapshot
        if snap is not None:
            positions_first, self._positions_changed = self._positions_changed, False
            self._show(snap, positions_first=positions_first)

    @Slot(object)
    def render(self, snap: AppSnapshot) -> None:
        """Show ``snap`` whole. Snapshots arrive in order; an older one than the last shown is ignored."""
        current = self.view_state.snapshot
        if current is not None and snap.seq < current.seq:
            return
        self.view_state.reset(snap)
        self.panel3.set_trades(snap.trades)
        self.charts.set_trades(
            snap.trades, chart_caption(fmt.period_label(snap.period), snap.scope_mode, snap.scope_account)
        )
        self._render_timer.stop()
        self._positions_changed = False
        self._parts = {}
        self._show(snap, positions_first=True)

    def _changed(self, part: str, *inputs: object) -> bool:
        """Whether ``inputs`` (fields of the snapshot, kept by identity when unchanged) differ from those
        ``part`` was last rendered with."""
        before = self._parts.get(part)
        if (
            before is not None
            and len(before) == len(inputs)
            and all(a is b for a, b in zip(before, inputs, strict=True))
        ):
            return False
        self._parts[part] = inputs
        return True

    def _show(self, snap: AppSnapshot, positions_first: bool) -> None:
        self._last_show = time.monotonic()
        self.renders += 1
        scope = (snap.scope_mode, snap.scope_account)
        # the position cards first: a position that opened, changed size or closed is painted before the rest
        # of the window is brought up to date (the top bar, the board, the statistics follow in the same pass)
        if self._changed("panel2", snap.positions, snap.broker_only, snap.orphan_orders, snap.other_open, *scope):
            self.panel2.render(snap)
        shown = tuple((v.account, v.symbol, v.quantity) for v in snap.positions)
        now = time.monotonic()
        if positions_first and shown != self._shown and now - self._forced_paint >= FORCED_PAINT_GAP_S:
            # in a burst, at most every 100 ms; the normal repaint follows the rest
            self._shown, self._forced_paint = shown, now
            self.panel2.layout().activate()
            self.panel2.repaint()  # paints and flushes now; the other panels follow in the next paint
        self.top_bar.mark(theme_for(snap.scope_mode))
        title = f"DTC Panel — {snap.scope_mode} {snap.scope_account}" if snap.scope_account else "DTC Panel"
        if snap.scope_mode == "LIVE":
            title = "● LIVE — " + title
        if self.windowTitle() != title:
            self.setWindowTitle(title)
        self.top_bar.render_scopes(snap)
        conn = snap.connection
        # the detail quotes Sierra Chart (logon, logoff and reject texts): one line, its characters escaped
        text = f"● {conn.state.value.upper()}" + (f" — {printable(conn.detail)}" if conn.detail else "")
        if conn.data_age_seconds is not None and conn.data_age_seconds >= 2:
            text += f" · last data {conn.data_age_seconds:.0f} s ago"
        color = CONNECTION_COLORS.get(conn.state, "#555555")
        self.connection.show_value(text, color)
        self.board.connection.show_value(text, color)
        server_tip = plain_tooltip(conn.server)
        if self.connection._own_tip != server_tip:
            self.connection.setToolTip(server_tip)
            self.board.connection.setToolTip(server_tip)
        status = snap.positions_status
        self.positions_status.show_value(f"Positions: {printable(status)}" if status else "")
        self.top_bar.show_differences(len(snap.discrepancies))
        if snap.storage_error:
            held = f"{snap.pending_fills} fill(s) held and retried, none lost: " if snap.pending_fills else ""
            self.storage.setText(f"DATABASE ERROR — {held}{snap.storage_error}")
        self.storage.setVisible(bool(snap.storage_error))
        if self.board.render(snap.positions, snap.other_open, scope):  # re-renders only changed rows (and ages)
            self.body.fit_board(self.height())
        today = snap.today
        self.board.today.show_value(
            f"Today {fmt.money(today.total_pnl)}" + (f" · {snap.scope_account}" if snap.scope_account else ""),
            pnl_color(today.total_pnl),
        )
        if self._changed("panel1", snap.accounts, snap.period, snap.equity_curve, *scope):
            self.panel1.render(snap)
        if self._changed("panel3", snap.today, snap.statistics, snap.period, snap.statistics_loading, *scope):
            self.panel3.render(snap)
        self.feed.render(snap.notifications)
        self.shown.emit(snap)
        for job in (self.panel1.chart.redraw, self.panel3.table_flush, self.charts.redraw):
            job.displayed()  # deferred redraws follow the display, not a moment a new fill may come at

    def set_look(self, choice: str) -> Look:
        """Style the window ``light``, ``dark`` or as the operating system (``system``); returns the look used.
        Re-styles every widget once, so it is for start-up and the settings, never per update."""
        look = resolve_look(choice)
        if look is self._look:
            return look
        self._look = look
        set_active_look(look)
        palette = palette_for(look, QApplication.palette())
        # widgets under a style sheet take the application's palette, not the window's: set both (dialogs too)
        QApplication.setPalette(palette)
        self.setPalette(palette)
        self.centralWidget().setStyleSheet(window_style(look))
        self.panel1.chart.set_look(look)
        self.charts.set_look(look)
        self.panel3.model.restyle()
        snap = self.view_state.snapshot
        if snap is not None:  # colours of values are chosen when rendered: render everything again
            self._parts = {}
            self._show(snap, positions_first=False)
        return look

    @property
    def look(self) -> Look | None:
        return self._look

    def set_font_size(self, points: float) -> None:
        """The window's base font size in points; 0 follows the system's font."""
        font = QFont(self._system_font)
        if points > 0:
            font.setPointSizeF(points)
        self.setFont(font)
        system = self._system_font.pointSizeF()
        factor = points / system if points > 0 and system > 0 else 1.0
        set_font_scale(factor)
        for label in self.findChildren(ValueLabel):  # the big figures keep their size relative to the text
            label.rescale()

    def set_always_on_top(self, on: bool) -> None:
        """Keep the window above others (remembered between runs)."""
        self._ui_state.always_on_top = on
        if self.on_top_button.isChecked() != on:
            self.on_top_button.setChecked(on)
            return  # toggled() calls back
        if bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) == on:
            return
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:
            self.show()  # changing window flags hides the window

    def toggle_compact(self) -> None:
        """Switch to the remembered compact size, or back to the full size it was switched from."""
        state = self._ui_state
        if self.layout_mode == NARROW:
            state.compact_size = (self.width(), self.height())
            width, height = state.full_size or (1280, 720)
        else:
            state.full_size = (self.width(), self.height())
            width, height = state.compact_size or DEFAULT_COMPACT_SIZE
        self.resize_to(width, height)

    def resize_to(self, width: int, height: int) -> None:
        """Resize to ``width`` × ``height`` px (at most the screen's size) with the layout of that width already
        applied, so a wider layout's minimum width does not hold the window wider."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None:
            width, height = min(width, screen.width()), min(height, screen.height())
        self._apply_layout(layout_for(width))
        for widget in (self.top_bar, self.body, self.centralWidget()):
            widget.layout().activate()
        self.layout().activate()  # the new minimum size applies now, not at the next event loop pass
        self.resize(width, height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_layout(layout_for(event.size().width()))

    @property
    def layout_mode(self) -> str:
        """``NARROW``, ``MEDIUM`` or ``WIDE`` (``window_body.layout_for``): what the window shows now."""
        return self.body.mode

    def _apply_layout(self, mode: str) -> None:
        """Show what fits ``mode``; the top bar and the advisory line follow."""
        if self.body.apply(mode, self.height()):
            self.top_bar.set_narrow(mode == NARROW, mode == WIDE)
            self.advisory.setVisible(mode != NARROW)

    def show_charts(self) -> None:
        """Bring the charts tab forward (wide layout), or back to the statistics (Ctrl+G)."""
        self.body.toggle_charts()

    def _row_clicked(self, mode: str, account: str) -> None:
        """A board row was clicked: focus its account (pinned, like the picker)."""
        if self._on_scope_chosen is not None:
            self._on_scope_chosen(mode, account)

    @Slot(int)
    def _scope_activated(self, index: int) -> None:
        if self.top_bar.rendering:
            return
        data = self.scope_picker.itemData(index)
        if data == FOLLOW:
            self._follow()
        elif data and self._on_scope_chosen:
            self._on_scope_chosen(data[0], data[1])

    def _follow(self) -> None:
        if self._on_follow is not None:
            self._on_follow()

    def set_primary_unit(self, unit: str) -> None:
        """Show P&L and MAE/MFE in ``unit`` first (``$``, ``pt``, ``t``) everywhere; remembered between runs."""
        if unit not in fmt.UNITS:
            return
        self._ui_state.primary_unit = unit
        self.unit_picker.setCurrentIndex(fmt.UNITS.index(unit))
        if unit == self.panel2.primary_unit:
            return
        self.panel2.primary_unit = unit
        self.panel3.model.set_primary_unit(unit)
        snap = self.view_state.snapshot
        if snap is not None:
            self._parts.pop("panel2", None)
            self._show(snap, positions_first=False)

    def _next_unit(self) -> None:
        units = fmt.UNITS
        self.set_primary_unit(units[(units.index(self.panel2.primary_unit) + 1) % len(units)])

    def _period_chosen(self, period: Period) -> None:
        self._ui_state.period = period.value
        if self._on_period_chosen is not None:
            self._on_period_chosen(period)

    def cycle_scope(self, step: int) -> None:
        """Show the next (``step`` 1) or previous (−1) account of the picker's list."""
        snap = self.last_snapshot
        if snap is None or not snap.accounts or self._on_scope_chosen is None:
            return
        scopes = [(a.mode, a.account) for a in snap.accounts]
        current = (snap.scope_mode, snap.scope_account)
        index = scopes.index(current) if current in scopes else (-1 if step > 0 else 0)
        mode, account = scopes[(index + step) % len(scopes)]
        self._on_scope_chosen(mode, account)

    def open_settings(self) -> SettingsDialog | None:
        """Open the settings dialog (window-modal, non-blocking); ``None`` without settings to edit."""
        if self._settings is None:
            return None
        dialog = SettingsDialog(self._settings, self._settings_saved, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_saved(self, settings: Settings, password: str | None) -> None:
        if self._on_settings_saved is not None:
            self._on_settings_saved(settings, password)  # OSError propagates to the dialog, which shows it
        self._settings = settings
        self.set_look(settings.theme)
        self.set_font_size(settings.font_size)

    # --- window state ---------------------------------------------------------------------------------

    def _restore_ui_state(self) -> None:
        state = self._ui_state
        self.set_primary_unit(state.primary_unit)
        self.set_always_on_top(state.always_on_top)
        if state.geometry:
            self.restoreGeometry(QByteArray.fromBase64(state.geometry.encode("ascii")))
        for splitter in self._splitters():
            saved = state.splitters.get(splitter.objectName())
            if saved:
                splitter.restoreState(QByteArray.fromBase64(saved.encode("ascii")))
        if state.period:
            try:
                period = Period(state.period)
            except ValueError:
                return
            if self._on_period_chosen is not None:
                self._on_period_chosen(period)

    def ui_state(self) -> UiState:
        """The window's geometry, splitter positions and chosen period as they are now."""
        state = self._ui_state
        state.geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        if self.layout_mode == NARROW:
            state.compact_size = (self.width(), self.height())
        state.splitters = {
            s.objectName(): bytes(s.saveState().toBase64().data()).decode("ascii") for s in self._splitters()
        }
        if self.last_snapshot is not None and self.last_snapshot.period:
            state.period = self.last_snapshot.period
        return state

    def closeEvent(self, event: QCloseEvent) -> None:
        snap = self.last_snapshot
        if snap is not None and not self.quit_guard.allows_close(snap.pending_fills, snap.storage_error or ""):
            event.ignore()  # fills are not stored yet: the trader is asked first
            return
        save_ui_state(self._ui_state_path, self.ui_state())
        self.charts.shutdown()
        super().closeEvent(event)
