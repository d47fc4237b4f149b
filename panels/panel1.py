"""Panel1 — the account of the displayed scope: Sierra Chart's balance figures (cash, available funds, margin,
open and daily P&L, trading-disabled and margin warnings), the period buttons and the equity curve.

Money in the account's currency as Sierra Chart reports it (ACCOUNT_BALANCE_UPDATE 600)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.snapshots import AccountView, AppSnapshot
from core.tradingday import PERIOD_LABELS, Period
from panels import format as fmt
from panels.equity_chart import EquityChart
from panels.theme import CHIP, ERROR_BG, ERROR_FG, LOSS, WARNING_BG, WARNING_FG, pnl_color, theme_for
from panels.widgets import ValueLabel, add_pairs

PERIODS: tuple[Period, ...] = tuple(Period)
"""In button order; Ctrl+1 … Ctrl+6 select them."""
SHORT_LABELS = {**PERIOD_LABELS, Period.YEAR: "YTD"}


def _currency_prefix(currency: str) -> str:
    return "$" if currency in ("", "USD") else f"{currency} "


def account_of(snap: AppSnapshot) -> AccountView | None:
    """The ``AccountView`` of the displayed scope, if Sierra Chart reported it."""
    for account in snap.accounts:
        if (account.mode, account.account) == (snap.scope_mode, snap.scope_account):
            return account
    return None


class Panel1(QGroupBox):
    """Account figures, period buttons and equity curve. ``on_period_chosen(Period)`` is called on a click."""

    def __init__(
        self,
        on_period_chosen: Callable[[Period], None] | None = None,
        parent: QWidget | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__("Account", parent)
        self.setObjectName("panel1")
        self._on_period_chosen = on_period_chosen
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        flags = QHBoxLayout()
        self.disabled = QLabel("TRADING DISABLED", objectName="tradingDisabled")
        self.disabled.setStyleSheet(f"background:{ERROR_BG}; color:{ERROR_FG}; {CHIP}")
        self.margin_warning = QLabel(objectName="marginWarning")
        self.margin_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.margin_warning.setStyleSheet(f"background:{WARNING_BG}; color:{WARNING_FG}; {CHIP}")
        flags.addWidget(self.disabled)
        flags.addWidget(self.margin_warning)
        flags.addStretch(1)
        outer.addLayout(flags)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.cash = ValueLabel("cashBalance", "font-size:13pt; font-weight:700;")
        self.available = ValueLabel("availableFunds")
        self.margin = ValueLabel("marginRequirement")
        self.open_pnl = ValueLabel("accountOpenPnl")
        self.daily_pnl = ValueLabel("accountDailyPnl", "font-weight:700;")
        self.currency = ValueLabel("currency")
        pairs: list[tuple[str, QWidget]] = [
            ("Cash", self.cash),
            ("Daily P&L", self.daily_pnl),
            ("Available", self.available),
            ("Open P&L", self.open_pnl),
            ("Margin", self.margin),
            ("Currency", self.currency),
        ]
        self.setToolTip("Balance figures as Sierra Chart reports them (ACCOUNT_BALANCE_UPDATE)")
        add_pairs(grid, pairs, columns=2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        outer.addLayout(grid)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        self.period_group = QButtonGroup(self)
        self.period_group.setExclusive(True)
        self.period_buttons: dict[Period, QToolButton] = {}
        for number, period in enumerate(PERIODS, start=1):
            button = QToolButton(objectName=f"period_{period.value}")
            button.setText(SHORT_LABELS[period])
            button.setToolTip(f"{PERIOD_LABELS[period]} (Ctrl+{number})")
            button.setCheckable(True)
            button.setAutoRaise(False)
            button.clicked.connect(lambda _checked=False, p=period: self._chosen(p))
            self.period_group.addButton(button)
            self.period_buttons[period] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        self.chart = EquityChart(self, tz)
        outer.addWidget(self.chart, 1)
        self.disabled.hide()
        self.margin_warning.hide()

    def _chosen(self, period: Period) -> None:
        if self._on_period_chosen is not None:
            self._on_period_chosen(period)

    def render(self, snap: AppSnapshot) -> None:
        title = (
            f"Account {snap.scope_account} ({snap.scope_mode}) — Sierra Chart's figures"
            if snap.scope_account
            else "Account"
        )
        if self.title() != title:
            self.setTitle(title)
        account = account_of(snap)
        self._render_account(account)
        try:
            current = Period(snap.period)
        except ValueError:
            current = None
        for period, button in self.period_buttons.items():
            if button.isChecked() != (period == current):
                button.setChecked(period == current)
        self.chart.set_curve(snap.equity_curve, snap.equity_source, theme_for(snap.scope_mode))

    def _render_account(self, account: AccountView | None) -> None:
        if account is None:
            for label in (self.cash, self.available, self.margin, self.open_pnl, self.daily_pnl):
                label.show_value(fmt.DASH)
            self.currency.show_value(fmt.DASH)
            self.disabled.hide()
            self.margin_warning.hide()
            return
        prefix = _currency_prefix(account.currency)
        # available funds and margin are shown once AccountView carries them (ACCOUNT_BALANCE_UPDATE 600)
        available: Decimal | None = getattr(account, "available_funds", None)
        margin: Decimal | None = getattr(account, "margin_requirement", None)
        self.cash.show_value(fmt.amount(account.cash_balance, prefix))
        self.available.show_value(
            fmt.amount(available, prefix), LOSS if available is not None and available < 0 else None
        )
        self.margin.show_value(fmt.amount(margin, prefix))
        self.open_pnl.show_value(fmt.money(account.open_pnl, prefix), pnl_color(account.open_pnl))
        self.daily_pnl.show_value(fmt.money(account.daily_pnl, prefix), pnl_color(account.daily_pnl))
        self.currency.show_value(account.currency or fmt.DASH)
        self.disabled.setVisible(account.trading_disabled)
        warning = "MARGIN DEFICIT: available funds below zero" if available is not None and available < 0 else ""
        if self.margin_warning.text() != warning:
            self.margin_warning.setText(warning)
        self.margin_warning.setVisible(bool(warning))
