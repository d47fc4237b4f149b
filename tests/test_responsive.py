"""The window beside Sierra Chart, from a 360 px strip to a 1920 px dashboard, light and dark: every visible
label fits or is elided with its whole text in the tooltip, the window never needs more width than it is
given, and a fill in one account never hides or recolours another account's focused position.

Real StateManager over SQLite in tmp_path, real widgets offscreen, the layout as Qt computes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette, QTextDocumentFragment
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel

from core.prices import Quote
from core.settings import Settings, SettingsError
from core.snapshots import ConnectionState
from core.state import StateManager
from panels.main_window import MainWindow
from panels.theme import DARK, LIGHT, LIVE, SIM
from panels.ui_state import load_ui_state
from panels.widgets import ElidingLabel
from panels.window_body import MEDIUM, MEDIUM_FROM_PX, NARROW, WIDE, WIDE_FROM_PX
from tests.test_panels import FROZEN, Clock, fill, make_state, make_window

LONG_STATUS = (
    "ProtocolError: frame of type 3 longer than the 65,535 bytes allowed; the connection was closed by the panel "
    "after 3 frames of garbage from 127.0.0.1:11099 — check that Sierra Chart's DTC server uses JSON encoding"
)
SIZES = [(360, 640, NARROW), (400, 300, NARROW), (683, 768, MEDIUM), (1366, 768, WIDE), (1920, 1080, WIDE)]


def _plain(tip: str) -> str:
    return QTextDocumentFragment.fromHtml(tip).toPlainText() if tip else ""


def unreadable(window: MainWindow) -> list[tuple[str, str, int, int]]:
    """Visible labels whose text is cut without ``…`` and tooltip: (object name, text, needed px, room px)."""
    bad = []
    for label in window.findChildren(QLabel):
        if not label.isVisibleTo(window) or not label.text():
            continue
        room = label.contentsRect().width() - 2 * label.margin()
        metrics = label.fontMetrics()
        if label.wordWrap():
            need = max(metrics.horizontalAdvance(word) for word in label.text().split())
        else:
            need = metrics.horizontalAdvance(label.text())
        if need <= room:
            continue
        elided_with_tip = (
            isinstance(label, ElidingLabel)
            and label.is_elided()
            and " ".join(label.text().split()) in " ".join(_plain(label.toolTip()).split())
        )
        if not elided_with_tip:
            bad.append((label.objectName(), label.text(), need, room))
    return bad


def two_accounts(tmp_path: Path, clock: Clock, qtbot, look: str) -> tuple[StateManager, MainWindow]:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot, look=look)
    state.apply_fill(fill(1, "2", "6850.125", FROZEN - timedelta(minutes=7), account="Sim1", fee="1.24"))
    state.apply_fill(fill(2, "1", "6851.00", FROZEN - timedelta(minutes=6), account="Sim1", symbol="ESZ25"))
    state.apply_fill(fill(3, "-1", "6852.00", FROZEN - timedelta(minutes=5), account="Sim1", symbol="ESZ25"))
    state.apply_fill(fill(4, "-3", "21000.25", FROZEN - timedelta(minutes=4), account="120005", symbol="MNQZ25"))
    state.on_price(Quote("MESZ25", D("6853.375"), FROZEN, "dtc", vwap=D("6851.5"), cum_delta=D(-1520), poc=D(6851)))
    state.on_price(Quote("MNQZ25", D("20990.50"), FROZEN, "dtc"))
    state.set_connection(ConnectionState.DISCONNECTED, LONG_STATUS, "127.0.0.1:11099")
    state.set_scope("LIVE", "120005")
    state.publish()
    return state, window


@pytest.mark.parametrize("look", ["light", "dark"])
def test_every_width_is_readable_in_both_looks(tmp_path: Path, qtbot, look: str) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    _state, window = two_accounts(tmp_path, clock, qtbot, look)
    assert window.look is (DARK if look == "dark" else LIGHT)
    # lists and tables under the window's style sheet follow the look too (they take the application palette)
    for view in (window.panel3.table, window.feed):
        base = view.palette().color(QPalette.ColorRole.Base).lightness()
        assert (base < 60) if look == "dark" else (base > 200), (view.objectName(), base)
    window.show()
    qtbot.waitExposed(window)
    for width, height, mode in SIZES:
        for _ in range(2):  # like a trader dragging: the layout of the new width lets it narrow further
            window.resize(width, height)
            QApplication.processEvents()
        assert (window.width(), window.height()) == (width, height)
        QApplication.processEvents()
        assert window.layout_mode == mode
        # no text, not even the long status, makes the window wider than it is given (or than the screen);
        # each layout's minimum is below the width where the narrower layout takes over
        minimum = window.minimumSizeHint()
        assert minimum.width() <= min(width, window.screen().availableGeometry().width()), (width, minimum)
        assert minimum.width() < {NARROW: 361, MEDIUM: MEDIUM_FROM_PX, WIDE: WIDE_FROM_PX}[mode], (width, minimum)
        assert minimum.height() <= height, (width, minimum)
        assert unreadable(window) == [], (width, unreadable(window))
        rows = window.board.row_texts()
        assert len(rows) == 2 and rows[0].startswith("● LIVE 120005 · MNQZ25 SHORT 3")
        # side, size and open P&L are read whole at every width ("SHO…" hid the size at 400 px)
        cut = [r.texts() for r in window.board.rows.values() if r.side.is_elided() or r.pnl.is_elided()]
        assert cut == [], (width, cut)
        assert window.board_scroll.isVisibleTo(window)
        # the connection state is always on screen; when elided, its whole text is in the tooltip
        shown = window.board.connection if mode == NARROW else window.connection
        assert shown.isVisibleTo(window) and shown.text().startswith("● DISCONNECTED — ProtocolError")
        assert shown.is_elided() and "JSON encoding" in _plain(shown.toolTip())
        assert window.panel2.isVisibleTo(window) == (mode != NARROW)
        assert window.panel1.isVisibleTo(window) == (mode == WIDE)
        assert window.panel3.table.isVisibleTo(window) == (mode == WIDE)
        assert window.board.today.isVisibleTo(window) == (mode == NARROW)
    # the narrow strip: one row per position with what a trader reads first
    window.resize_to(360, 640)
    assert window.layout_mode == NARROW and window.width() == 360
    row = window.board.rows[("LIVE", "120005", "MNQZ25")]
    assert row.chip.text() == "● LIVE" and row.side.text() == "SHORT 3"
    assert row.entry.text() == "@ 21,000.25" and row.pnl.text() == "+$58.50" and row.ticks.text() == "+39 t"
    assert row.age.text() == "4 min 0 s"
    sim = window.board.rows[("SIM", "Sim1", "MESZ25")]
    assert sim.chip.text() == "SIM" and sim.entry.text() == "@ 6,850.125" and sim.ticks.text() == "+13 t"
    assert window.board.today.text().startswith("Today ")


def test_a_sim_fill_neither_hides_nor_recolours_the_focused_live_position(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state, window = two_accounts(tmp_path, clock, qtbot, "light")
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.board.rows[("LIVE", "120005", "MNQZ25")].mousePressEvent  # noqa: B018 (the row is clickable)
    style_before = window.centralWidget().styleSheet()
    live_row = window.board.rows[("LIVE", "120005", "MNQZ25")]
    card = window.panel2._cards["MNQZ25"]
    assert card.property("mode") == "LIVE" and live_row.property("focused") is True
    state.apply_fill(fill(9, "1", "6854", FROZEN, account="Sim1"))  # SIM fills while LIVE is focused
    snap = window.last_snapshot
    assert snap is not None and (snap.scope_mode, snap.scope_account) == ("LIVE", "120005")
    assert window.panel2.card_texts() == ["SHORT 3 MNQZ25 · 3 @ 21,000.25 avg entry · +$58.50"]
    assert window.panel2._cards["MNQZ25"] is card and card.property("mode") == "LIVE"
    assert window.badge.text().strip() == "● LIVE" and LIVE.accent in window.focus_strip.styleSheet()
    assert window.centralWidget().styleSheet() is style_before or window.centralWidget().styleSheet() == style_before
    assert window.board.rows[("LIVE", "120005", "MNQZ25")] is live_row and live_row.property("focused") is True
    assert window.board.rows[("SIM", "Sim1", "MESZ25")].texts().startswith("SIM Sim1 · MESZ25 LONG 3")
    # following the latest fill moves the focus (the marks), never the LIVE row off the board
    state.follow_latest_fill()
    state.apply_fill(fill(10, "1", "6855", FROZEN, account="Sim1"))
    assert window.badge.text().strip() == "SIM" and SIM.accent in window.focus_strip.styleSheet()
    assert window.centralWidget().styleSheet() == style_before
    assert live_row.isVisibleTo(window) and live_row.property("mode") == "LIVE"
    assert live_row.chip.text() == "● LIVE" and LIVE.badge_bg in live_row.chip.styleSheet()
    assert live_row.property("focused") is False
    # a click on the LIVE row focuses it again
    from PySide6.QtCore import QPoint, Qt

    qtbot.mouseClick(live_row, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    snap = window.last_snapshot
    assert snap is not None and (snap.scope_mode, snap.scope_account, snap.scope_pinned) == ("LIVE", "120005", True)
    assert window.panel2.card_texts()[0].startswith("SHORT 3 MNQZ25")


def test_compact_size_and_always_on_top_are_remembered(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state = make_state(tmp_path, clock)
    path = tmp_path / "ui_state.json"
    window = make_window(state, clock, qtbot, ui_state_path=path)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.toggle_compact()
    assert (window.width(), window.height()) == (400, 300) and window.layout_mode == NARROW
    window.resize(420, 260)  # the trader makes the strip a little wider and shorter
    window.on_top_button.click()
    assert window.windowFlags() & window.windowFlags().WindowStaysOnTopHint
    window.close()
    saved = load_ui_state(path)
    assert saved.compact_size == (420, 260) and saved.always_on_top is True and saved.full_size == (1366, 768)
    again = make_window(make_state(tmp_path / "b", clock), clock, qtbot, ui_state_path=path)
    assert again.on_top_button.isChecked()
    again.resize_to(1366, 768)  # as large as the screen allows
    assert again.layout_mode != NARROW
    again.toggle_compact()
    assert (again.width(), again.height()) == (420, 260)
    again.toggle_compact()
    screen = again.screen().availableGeometry()  # never larger than the screen (offscreen: 800 × 600)
    assert (again.width(), again.height()) == (min(1366, screen.width()), min(768, screen.height()))


def test_theme_and_font_size_from_the_settings_apply_at_once(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state = make_state(tmp_path, clock)
    saved: list[Settings] = []
    window = make_window(
        state,
        clock,
        qtbot,
        settings=Settings.for_directories(tmp_path / "s"),
        on_settings_saved=lambda settings, _password: saved.append(settings),
        look="light",
    )
    assert window.look is LIGHT
    dialog = window.open_settings()
    assert dialog is not None
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.font_size.setValue(14)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert saved and (saved[0].theme, saved[0].font_size) == ("dark", 14.0)
    assert window.look is DARK and window.font().pointSizeF() == 14.0
    system = QApplication.font().pointSizeF()
    # the big figures grow with the text: 13 pt on the system's font is 13 × 14 / system pt now
    assert f"font-size:{13 * 14 / system:.1f}pt" in window.panel3.realized.styleSheet()
    state.apply_fill(fill(1, "1", "6000", FROZEN))  # a card built after the change is scaled too
    assert f"font-size:{18 * 14 / system:.1f}pt" in window.panel2._cards["MESZ25"].banner.styleSheet()
    window.set_font_size(0)  # back to the system's size
    assert "font-size:13pt" in window.panel3.realized.styleSheet() or "font-size:13.0pt" in (
        window.panel3.realized.styleSheet()
    )
    assert DARK.window_bg in window.centralWidget().styleSheet()
    assert window.panel3.table.palette().color(QPalette.ColorRole.Base).lightness() < 60
    reopened = Settings.for_directories(tmp_path / "s")
    assert reopened.theme == "system" and reopened.font_size == 0  # defaults: the system's look and font
    with pytest.raises(SettingsError):
        replace(reopened, theme="purple")
    with pytest.raises(SettingsError):
        replace(reopened, font_size=99.0)


@pytest.mark.parametrize("width", [360, 400])
def test_the_strip_never_cuts_side_size_or_open_pnl(tmp_path: Path, qtbot, width: int) -> None:  # type: ignore[no-untyped-def]
    """At 400 px the demo's strip read "SHO…" and "LON…" (the size gone) beside "120005 · MNQZ25-CME": the
    account and symbol give way instead, elided with the whole text in the tooltip."""
    clock = Clock()
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    window.show()
    qtbot.waitExposed(window)
    window.resize_to(width, 300)
    QApplication.processEvents()
    # as in the demo: the positions open small and scale in while the strip is on screen
    for n, (qty, price) in enumerate((("-1", "25417.50"), ("-3", "25417.50"))):
        at = FROZEN - timedelta(seconds=9)
        state.apply_fill(fill(10 + n, qty, price, at, account="120005", symbol="MNQZ25-CME"))
        state.apply_fill(fill(20 + n, qty[1:], "6850.0625", at, symbol="MESZ25-CME"))
        state.on_price(Quote("MNQZ25-CME", D("25414.50"), FROZEN, "dtc"))
        state.on_price(Quote("MESZ25-CME", D("6851.00"), FROZEN, "dtc"))
        state.publish()
        QApplication.processEvents()
    assert window.layout_mode == NARROW
    rows = {key[1]: row for key, row in window.board.rows.items()}
    assert rows["120005"].side.text() == "SHORT 4" and rows["Sim1"].side.text() == "LONG 4"
    for row in rows.values():
        assert not row.side.is_elided() and not row.pnl.is_elided(), row.texts()
    title = rows["120005"].title
    assert title.text() == "120005 · MNQZ25-CME"
    assert title.is_elided() and "120005 · MNQZ25-CME" in _plain(title.toolTip())
    assert unreadable(window) == []


def _ink(label: QLabel) -> set[str]:
    image = label.grab().toImage()
    return {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}


@pytest.mark.parametrize("look", ["light", "dark"])
def test_values_are_painted_in_their_colours_and_turn_when_the_sign_does(tmp_path: Path, qtbot, look: str) -> None:  # type: ignore[no-untyped-def]
    """Colours come from each value label's palette (not a style sheet per change): what is painted is a
    profit's green, a loss's red, and the look's text colour for a plain value, in both looks."""
    clock = Clock()
    state, window = two_accounts(tmp_path, clock, qtbot, look)
    theme = DARK if look == "dark" else LIGHT
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    row = window.board.rows[("LIVE", "120005", "MNQZ25")]
    assert row.pnl.text() == "+$58.50"
    assert theme.profit in _ink(row.pnl) and theme.loss not in _ink(row.pnl)
    assert theme.text in _ink(row.entry)  # a value shown without a colour of its own
    state.on_price(Quote("MNQZ25", D("21010.50"), FROZEN, "dtc"))  # the short is now losing
    state.publish()
    qtbot.waitUntil(lambda: row.pnl.text().startswith("-$"))
    QApplication.processEvents()
    assert theme.loss in _ink(row.pnl) and theme.profit not in _ink(row.pnl)
    state.on_price(Quote("MNQZ25", D("21000.25"), FROZEN, "dtc"))  # back to the entry: no colour
    state.publish()
    qtbot.waitUntil(lambda: row.pnl.text() == "$0.00")
    QApplication.processEvents()
    ink = _ink(row.pnl)
    assert theme.text in ink and theme.loss not in ink and theme.profit not in ink
