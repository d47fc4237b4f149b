"""``ScopeState``: which (mode, account) the window shows and for which period, the trade accounts Sierra Chart
reported with their balances, and the connection state. Plain data with small rules; runs under the state
lock. Mode comes from the account name (``ModeClassifier``)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from core.modes import ModeClassifier
from core.snapshots import AccountView, ConnectionInfo, ConnectionState
from core.tradingday import Period

Scope = tuple[str, str]  # (mode, account)


class ScopeState:
    """The displayed scope and period, the accounts, and the connection."""

    def __init__(self, modes: ModeClassifier, pinned_account: str | None = None) -> None:
        self._modes = modes
        self.scope: Scope | None = None
        self.pinned = False
        self.period = Period.TODAY
        self.accounts: dict[str, AccountView] = {}
        self.reported: set[str] = set()
        """Accounts named in Sierra Chart's last TRADE_ACCOUNT_RESPONSE batch (401)."""
        self.connection = ConnectionInfo()
        if pinned_account:
            self.scope = (self.mode_of(pinned_account), pinned_account)
            self.pinned = True

    def mode_of(self, account: str) -> str:
        """``SIM`` or ``LIVE`` for a trade account name."""
        return self._modes.mode_of(account).value

    def currency_of(self, account: str) -> str:
        """The account's currency code from its last balance (600 ``AccountCurrency``); "" if not reported."""
        view = self.accounts.get(account)
        return view.currency.strip().upper() if view is not None else ""

    def see(self, account: str) -> bool:
        """Make sure ``account`` is listed; True if it is new."""
        if account in self.accounts:
            return False
        self.accounts[account] = AccountView(account, self.mode_of(account))
        return True

    def follow(self, mode: str, account: str) -> bool:
        """A fill in (mode, account): the displayed scope follows it unless pinned. True if it moved."""
        if self.pinned or self.scope == (mode, account):
            return False
        self.scope = (mode, account)
        return True

    def set_reported(self, accounts: list[tuple[str, bool]]) -> None:
        """The trade accounts Sierra Chart reported (401): (name, trading disabled)."""
        self.reported = {name for name, _ in accounts if name}
        for name, disabled in accounts:
            if name:
                current = self.accounts.get(name) or AccountView(name, self.mode_of(name))
                self.accounts[name] = replace(current, trading_disabled=disabled)
        if self.scope is None and self.accounts:
            first = sorted(self.accounts.values(), key=lambda a: (a.mode != "LIVE", a.account))[0]
            self.scope = (first.mode, first.account)

    def set_balance(
        self,
        account: str,
        cash: Decimal | None,
        currency: str,
        open_pnl: Decimal | None,
        daily_pnl: Decimal | None,
        trading_disabled: bool,
        available_funds: Decimal | None,
        margin_requirement: Decimal | None,
    ) -> None:
        current = self.accounts.get(account) or AccountView(account, self.mode_of(account))
        self.accounts[account] = replace(
            current,
            cash_balance=cash,
            currency=currency,
            open_pnl=open_pnl,
            daily_pnl=daily_pnl,
            trading_disabled=trading_disabled,
            available_funds=available_funds,
            margin_requirement=margin_requirement,
        )

    def account_views(self) -> tuple[AccountView, ...]:
        return tuple(sorted(self.accounts.values(), key=lambda a: (a.mode, a.account)))

    def set_connection(self, state: ConnectionState, detail: str = "", server: str = "") -> None:
        self.connection = replace(self.connection, state=state, detail=detail, server=server or self.connection.server)

    def set_data_age(self, seconds: float | None) -> None:
        self.connection = replace(self.connection, data_age_seconds=seconds)
