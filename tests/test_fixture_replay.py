"""The real-server fixture messages, sent over the socket to the running app, are all understood."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from tests.conftest import FIXTURES, fixture_messages
from tools.replay_fixtures import replay


def test_fixtures_replayed_through_the_app_are_routed_and_none_is_bad_input(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    fixture_messages()  # skips when ../shared is absent
    app, snap = replay(FIXTURES, tmp_path / "data")
    assert dict(app.router.bad_input) == {}
    for name in ("TradeAccountResponse", "PositionUpdate", "AccountBalanceUpdate", "HistoricalOrderFillsReject"):
        assert app.router.routed[name] >= 1, name
    live = {a.account: a for a in snap.accounts}["120005"]
    assert (live.mode, live.cash_balance, live.currency) == ("LIVE", D("21.66"), "USD")
    assert "partially synced" not in snap.connection.detail  # a reject of someone else's request is not ours
