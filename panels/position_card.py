"""One open position as a card: side banner, size @ average entry, last price (age, source, STALE), open P&L
in money and points per contract, time in trade, heat, stop/target with distances, planned risk and live R,
MAE/MFE, entry context (VWAP, cumulative delta, POC) beside its live value, and realized P&L of this trade.

Ages are computed at render time against ``now`` (UTC); the window renders at least once per second."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.snapshots import PositionView
from panels import format as fmt
from panels.theme import (
    CHIP,
    HEAT_AMBER,
    HEAT_RED,
    STALE_BG,
    STALE_FG,
    WARNING_BG,
    WARNING_FG,
    pnl_color,
    side_color,
)
from panels.trades_table import MAE_TIP, MFE_TIP
from panels.widgets import ValueLabel, add_pairs, caption

DEFAULT_HEAT_THRESHOLDS = (60.0, 180.0)
"""Seconds in heat after which the heat turns amber, then red."""

SOURCE_NAMES = {"dtc": "DTC", "csv": "CSV file", "position": "position report"}


def heat_color(seconds: float | None, thresholds: tuple[float, float] = DEFAULT_HEAT_THRESHOLDS) -> str | None:
    """Amber from ``thresholds[0]`` seconds in heat, red from ``thresholds[1]``; ``None`` below or not in heat."""
    if seconds is None:
        return None
    if seconds >= thresholds[1]:
        return HEAT_RED
    if seconds >= thresholds[0]:
        return HEAT_AMBER
    return None


def distance_text(
    level: Decimal | None, distance: Decimal | None, tick: Decimal, distance_ticks: Decimal | None = None
) -> str:
    """``5,995.00 · 6.00 pt / 24 t away`` (positive = not reached yet), ``… · 1.00 pt / 4 t through`` when
    passed."""
    if level is None:
        return fmt.DASH
    text = fmt.price(level, tick)
    if distance is None:
        return text
    how = "away" if distance >= 0 else "through"
    points = fmt.points(abs(distance), tick).lstrip("+")
    in_ticks = f" / {fmt.ticks(abs(distance_ticks)).lstrip('+')}" if distance_ticks is not None else ""
    return f"{text} · {points}{in_ticks} {how}"


def context_text(entry: str, live: str) -> str:
    """``entry → now``, or ``—`` when neither is known."""
    return fmt.DASH if entry == live == fmt.DASH else f"{entry} → {live}"


class PositionCard(QFrame):
    """Shows one ``PositionView``; rebuilt only when the set of open symbols changes."""

    def __init__(
        self, heat_thresholds: tuple[float, float] = DEFAULT_HEAT_THRESHOLDS, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("positionCard")
        self.setProperty("mode", "SIM")
        self.heat_thresholds = heat_thresholds
        self.primary_unit = "$"
        """What the card shows first: ``$`` money, ``pt`` points, ``t`` ticks (``format.UNITS``)."""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 8)
        outer.setSpacing(4)
        head = QGridLayout()
        head.setHorizontalSpacing(10)
        head.setVerticalSpacing(0)
        self.banner = ValueLabel("banner", "font-size:18pt; font-weight:800;")
        self.entry = ValueLabel("entry", "font-size:12pt;")
        self.open_pnl = ValueLabel("openPnl", "font-size:17pt; font-weight:700;")
        self.open_points = ValueLabel("openPoints")
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        head.addWidget(self.banner, 0, 0)
        head.addWidget(self.open_pnl, 0, 1, alignment=right)
        head.addWidget(self.entry, 1, 0)
        head.addWidget(self.open_points, 1, 1, alignment=right)
        head.setColumnStretch(0, 1)
        outer.addLayout(head)
        flags = QHBoxLayout()
        self.unconfirmed = QLabel("UNCONFIRMED — waiting for Sierra Chart", objectName="unconfirmed")
        self.unconfirmed.setStyleSheet(f"background:{WARNING_BG}; color:{WARNING_FG}; {CHIP}")
        self.stale = QLabel("STALE PRICE", objectName="stale")
        self.stale.setStyleSheet(f"background:{STALE_BG}; color:{STALE_FG}; {CHIP}")
        self.panel_figure = QLabel(objectName="panelFigure")  # while disputed: the panel's own position
        self.panel_figure.setTextFormat(Qt.TextFormat.PlainText)
        self.panel_figure.setStyleSheet(f"color:{WARNING_FG}; font-weight:600;")
        self.panel_figure.setToolTip(
            "Sierra Chart's report differs from the position the panel's own fills give (shown here); "
            "decide in the review dialog (the \u201cpositions differ\u201d chip at the top)"
        )
        flags.addWidget(self.stale)
        flags.addWidget(self.unconfirmed)
        flags.addWidget(self.panel_figure)
        flags.addStretch(1)
        self._flags = QWidget()
        self._flags.setLayout(flags)
        flags.setContentsMargins(0, 2, 0, 2)
        outer.addWidget(self._flags)
        self.guard = QLabel(objectName="guardLine")  # the stop guard (issue 17); LIVE arming always shown
        self.guard.setTextFormat(Qt.TextFormat.PlainText)
        self.guard.setWordWrap(True)
        self.guard.hide()
        outer.addWidget(self.guard)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        self.last = ValueLabel("last")
        self.in_trade = ValueLabel("inTrade")
        self.heat = ValueLabel("heat")
        self.realized = ValueLabel("realized")
        self.stop = ValueLabel("stop")
        self.target = ValueLabel("target")
        self.risk = ValueLabel("risk")
        self.live_r = ValueLabel("liveR", "font-weight:700;")
        self.mae = ValueLabel("mae")
        self.mfe = ValueLabel("mfe")
        self.vwap = ValueLabel("vwap")
        self.delta = ValueLabel("cumDelta")
        self.poc = ValueLabel("poc")
        self.commissions = ValueLabel("commissions")
        left: list[tuple[str, QWidget]] = [
            ("Last", self.last),
            ("Stop", self.stop),
            ("Target", self.target),
            ("Planned risk", self.risk),
            ("MAE", self.mae),
            ("MFE", self.mfe),
            ("VWAP", self.vwap),
            ("Cum. delta", self.delta),
            ("POC", self.poc),
        ]
        right: list[tuple[str, QWidget]] = [
            ("In trade", self.in_trade),
            ("Heat", self.heat),
            ("Live R", self.live_r),
            ("Realized", self.realized),
            ("Commissions", self.commissions),
        ]
        add_pairs(grid, left, columns=1)
        for row, (text, widget) in enumerate(right):
            grid.addWidget(caption(text), row, 2)
            grid.addWidget(widget, row, 3)
        for text, widget in (("VWAP", self.vwap), ("Cum. delta", self.delta), ("POC", self.poc)):
            widget.setToolTip(f"{text} when the position was opened → now")
        self.realized.setToolTip("P&L already realized by partial exits of this trade (gross)")
        self.live_r.setToolTip("Trade P&L so far (realized + open − commissions) ÷ planned risk")
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        outer.addLayout(grid)
        self.note = QLabel(objectName="note")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color:{WARNING_FG};")
        outer.addWidget(self.note)
        self.stale.hide()
        self.note.hide()

    def set_mode(self, mode: str) -> None:
        """Frame the card for ``mode``: red and thick for LIVE, blue for SIM (``theme.window_style``)."""
        if self.property("mode") == mode:
            return
        self.setProperty("mode", mode)
        self.style().unpolish(self)
        self.style().polish(self)

    def render(self, view: PositionView, now: datetime) -> None:
        """Show ``view`` with ages measured at ``now`` (aware UTC)."""
        tick = view.tick_size
        if view.quantity == 0:  # disputed: Sierra Chart reports flat
            self.banner.show_value(f"FLAT {view.symbol}", side_color(None))
        else:
            self.banner.show_value(
                f"{view.side} {fmt.quantity(view.quantity)} {view.symbol}", side_color(view.quantity)
            )
        stale = view.last_price is not None and view.last_price_stale
        self.unconfirmed.setVisible(not view.confirmed)
        self.stale.setVisible(stale)
        self._flags.setVisible(stale or not view.confirmed)
        self._render_dispute(view)
        if view.quantity == 0:
            self.entry.show_value("Sierra Chart reports no position")
        else:
            self.entry.show_value(f"{fmt.quantity(view.quantity)} @ {fmt.avg_price(view.avg_entry, tick)} avg entry")
        stale_css = "color:#8a8f96;" if view.last_price_stale else ""
        unit, primary = view.pnl_unit, self.primary_unit
        shown = fmt.in_units(view.open_pnl, view.open_points, view.open_ticks, primary, unit=unit, tick=tick)
        if view.last_price is None:
            shown = [fmt.DASH]
        color = None if stale_css else pnl_color(view.open_pnl)
        self.open_pnl.show_value(shown[0], color, stale_css)
        rest = " · ".join(shown[1:])
        per_contract = f"{rest} per contract" if rest and primary == "$" else rest
        self.open_points.show_value(per_contract, color, stale_css)
        self._render_last(view, now)
        self.in_trade.show_value(fmt.age(view.entry_time, now))
        heat_seconds = fmt.seconds_since(view.heat_since, now)
        color = heat_color(heat_seconds, self.heat_thresholds)
        heat_text = "not in heat" if heat_seconds is None else f"{fmt.duration(heat_seconds)} in heat"
        self.heat.show_value(heat_text, color, "font-weight:700;" if color else "")
        self.realized.show_value(fmt.pnl(view.realized_in_trade, unit), pnl_color(view.realized_in_trade))
        self.commissions.show_value(fmt.amount(view.commissions))
        self.stop.show_value(distance_text(view.stop_price, view.stop_distance, tick, view.stop_distance_ticks))
        self.target.show_value(distance_text(view.target_price, view.target_distance, tick, view.target_distance_ticks))
        self.mae.setToolTip(MAE_TIP)
        self.mfe.setToolTip(MFE_TIP)
        self.risk.show_value(fmt.amount(view.initial_risk) if view.initial_risk is not None else "— (no stop at entry)")
        self.live_r.show_value(fmt.r_multiple(view.live_r), pnl_color(view.live_r))
        for label, money, points, ticks in (
            (self.mae, view.mae, view.mae_points, view.mae_ticks),
            (self.mfe, view.mfe, view.mfe_points, view.mfe_ticks),
        ):
            text = " · ".join(fmt.in_units(money, points, ticks, primary, unit=unit, tick=tick))
            if view.disputed:  # the panel's trade excursions do not describe Sierra Chart's position
                text, money = fmt.DASH, None
            label.show_value(text, pnl_color(money))
        self.vwap.show_value(context_text(fmt.price(view.entry_vwap, tick), fmt.price(view.live_vwap, tick)))
        self.delta.show_value(
            context_text(fmt.signed_number(view.entry_cum_delta), fmt.signed_number(view.live_cum_delta))
        )
        self.poc.show_value(context_text(fmt.price(view.entry_poc, tick), fmt.price(view.live_poc, tick)))
        self._render_note(view)

    def _render_dispute(self, view: PositionView) -> None:
        """While a discrepancy is open the card shows Sierra Chart's position, the panel's beside it."""
        chip = "UNCONFIRMED — waiting for Sierra Chart"
        if view.disputed:
            chip = "SIERRA CHART'S POSITION"
        if self.unconfirmed.text() != chip:
            self.unconfirmed.setText(chip)
        text = ""
        if view.disputed and view.panel_quantity is not None:
            q = view.panel_quantity
            text = "panel: flat" if q == 0 else f"panel: {'LONG' if q > 0 else 'SHORT'} {fmt.quantity(q)}"
            if q != 0 and view.panel_avg_entry is not None:
                text += f" @ {fmt.avg_price(view.panel_avg_entry, view.tick_size)}"
        if self.panel_figure.text() != text:
            self.panel_figure.setText(text)
        self.panel_figure.setVisible(bool(text))

    def _render_last(self, view: PositionView, now: datetime) -> None:
        if view.last_price is None:
            self.last.show_value(f"{fmt.DASH} (no price source yet)")
            return
        source = SOURCE_NAMES.get(view.last_price_source, view.last_price_source or "unknown source")
        text = f"{fmt.price(view.last_price, view.tick_size)} · {fmt.age(view.last_price_time, now)} ago · {source}"
        if view.last_price_stale:
            self.last.show_value(text, STALE_FG, f"background:{STALE_BG}; font-weight:700;")  # + the STALE chip
        else:
            self.last.show_value(text)

    def _render_note(self, view: PositionView) -> None:
        notes = []
        if not view.point_value_known:
            notes.append(
                f"Point value of {view.symbol} unknown: P&L is in points × contracts (pt·ct), not added to the "
                "account's totals; set it in Settings."
            )
        elif view.pnl_unit:
            notes.append(f"P&L in {view.pnl_unit}, the contract's currency: not added to the account's totals.")
        if not view.confirmed and view.broker_quantity is not None and view.broker_quantity != view.quantity:
            qty = view.broker_quantity
            side = "flat" if qty == 0 else ("long" if qty > 0 else "short")
            notes.append(f"Sierra Chart reports {fmt.quantity(qty)} ({side}).")
        text = " ".join(notes)
        if self.note.text() != text:
            self.note.setText(text)
        self.note.setVisible(bool(notes))

    def show_guard(self, text: str, css: str) -> None:
        """The stop guard's line for this position (``panels.order_guards.card_guard``); hidden when empty."""
        if self.guard.text() != text:
            self.guard.setText(text)
        if self.guard.styleSheet() != css:
            self.guard.setStyleSheet(css)
        self.guard.setVisible(bool(text))

    def summary(self) -> str:
        """banner · entry · open P&L, as one line (tests and the end-to-end check read this)."""
        return " · ".join([self.banner.text(), self.entry.text(), self.open_pnl.text()])
