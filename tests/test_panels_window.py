"""The window as a whole: settings dialog round trip (the password never enters Settings), remembered
geometry and period, keyboard shortcuts, layout at 1366×768, and a price burst from another thread."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QDialogButtonBox, QLabel

from core.prices import Quote
from core.settings import Settings
from core.snapshots import AppSnapshot
from core.tradingday import Period
from panels.main_window import MainWindow
from panels.settings_dialog import SettingsDialog, parse_commissions, parse_point_values
from tests.test_panels import FROZEN, Clock, fill, make_state, make_window

PASSWORD = "s3cret-Pw!42"


def _save(dialog: SettingsDialog, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.finished, timeout=2000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_settings_dialog_round_trip_keeps_password_out_of_settings(tmp_path: Path, qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    settings = Settings.for_directories(tmp_path)
    received: list[tuple[Settings, str | None]] = []
    window = MainWindow(settings=settings, on_settings_saved=lambda s, p: received.append((s, p)))
    qtbot.addWidget(window)
    dialog = window.open_settings()
    assert dialog is not None and dialog.isVisible() and dialog.host.text() == "127.0.0.1"
    dialog.host.setText("10.0.0.5")
    dialog.port.setValue(11100)
    dialog.heartbeat.setValue(5)
    dialog.tls.setChecked(True)
    dialog.certificate.setText(str(tmp_path / "sierra.pem"))
    dialog.username.setText("trader")
    dialog.password.setText(PASSWORD)
    dialog.sim_pattern.setText("^(sim|paper)")
    dialog.commissions.setText("mes=0.62, *=2.25")
    dialog.point_values.setText("XYZ=10/0.01")
    dialog.session_start.setTime(dialog.session_start.time().fromString("17:00", "HH:mm"))
    dialog.timezone.setCurrentText("Europe/London")
    dialog.csv_path.setText(str(tmp_path / "prices.csv"))
    dialog.csv_symbol.setText("MESZ25")
    _save(dialog, qtbot)

    assert len(received) == 1
    new, password = received[0]
    assert password == PASSWORD
    assert (new.host, new.port, new.heartbeat_seconds, new.username) == ("10.0.0.5", 11100, 5, "trader")
    assert (new.tls, new.tls_trusted_certificate) == (True, str(tmp_path / "sierra.pem"))
    assert new.sim_account_pattern == "^(sim|paper)"
    assert new.commission_per_contract == {"MES": D("0.62"), "*": D("2.25")}
    assert new.point_values == {"XYZ": (D(10), D("0.01"))}
    assert (new.session_start, new.session_timezone) == ("17:00", "Europe/London")
    assert (new.price_csv_path, new.price_csv_symbol) == (str(tmp_path / "prices.csv"), "MESZ25")
    assert (new.data_dir, new.config_dir) == (settings.data_dir, settings.config_dir)
    assert PASSWORD not in repr(new)
    assert all(PASSWORD not in repr(getattr(new, f.name)) for f in fields(new))
    assert PASSWORD not in new.save().read_text(encoding="utf-8")
    assert PASSWORD not in caplog.text
    assert dialog.password.text() == ""  # not kept in the widget after saving

    again = window.open_settings()  # shows what was saved; the password field starts empty
    assert again is not None and again.host.text() == "10.0.0.5" and again.password.text() == ""
    _save(again, qtbot)
    assert received[-1][1] is None  # empty field: keep the stored password
    third = window.open_settings()
    assert third is not None
    third.forget_password.setChecked(True)
    _save(third, qtbot)
    assert received[-1][1] == ""  # remove it


def test_settings_dialog_rejects_bad_input_without_closing(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    received: list[object] = []
    dialog = SettingsDialog(Settings.for_directories(tmp_path), lambda s, p: received.append(s))
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.password.setText(PASSWORD)
    for field, value, message in [
        (dialog.commissions, "MES=abc", "commission of MES must be a number, got 'abc'"),
        (dialog.point_values, "XYZ=10", "point value 'XYZ=10': write ROOT=point value/tick size, e.g. XYZ=10/0.01"),
        (dialog.sim_pattern, "(", 'SIM accounts (regex) = "(": not a valid regular expression'),
    ]:
        original = field.text()
        field.setText(value)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        assert dialog.isVisible() and received == []
        assert dialog.error.text().startswith(message) and PASSWORD not in dialog.error.text()
        field.setText(original)
    dialog.timezone.setCurrentText("Mars/Olympus")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.error.text().startswith('Session time zone = "Mars/Olympus": not a known time zone')
    assert received == []


def test_commission_and_point_value_parsers() -> None:
    assert parse_commissions("") == {}
    assert parse_commissions(" MES = 0.62 ,*=1") == {"MES": D("0.62"), "*": D(1)}
    assert parse_point_values("abc=5/0.25, XYZ=10/0.01") == {"ABC": (D(5), D("0.25")), "XYZ": (D(10), D("0.01"))}


def test_geometry_and_period_are_remembered(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config" / "ui_state.json"
    clock = Clock()
    state = make_state(tmp_path / "data", clock)
    first = make_window(state, clock, qtbot, ui_state_path=path)
    first.resize(770, 660)  # the offscreen screen is 800 x 800
    first.shortcut_actions["period_3m"].trigger()
    assert first.last_snapshot is not None and first.last_snapshot.period == "3m"
    first.close()
    assert json.loads(path.read_text(encoding="utf-8"))["period"] == "3m"

    restarted = make_state(tmp_path / "data", clock)  # a fresh state starts at Today …
    assert restarted.snapshot().period == "today"
    second = make_window(restarted, clock, qtbot, ui_state_path=path)  # … and the window asks for 3 months
    assert restarted.snapshot().period == "3m"
    assert (second.width(), second.height()) == (770, 660)
    assert second.panel1.period_buttons[Period.QUARTER].isChecked()


def test_unreadable_ui_state_means_defaults(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ui_state.json"
    path.write_text("{not json", encoding="utf-8")
    chosen: list[Period] = []
    window = MainWindow(on_period_chosen=chosen.append, ui_state_path=path)
    qtbot.addWidget(window)
    assert chosen == [] and (window.width(), window.height()) == (1280, 720)


def test_keyboard_shortcuts(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state = make_state(tmp_path, clock)
    followed: list[bool] = []
    window = make_window(state, clock, qtbot, settings=Settings.for_directories(tmp_path / "s"))
    window._on_follow = lambda: followed.append(True)  # observe the request
    state.apply_fill(fill(1, "1", "6000", FROZEN, account="Sim1"))
    state.apply_fill(fill(2, "1", "21000", FROZEN, account="120005", symbol="MNQZ25"))
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    keys = {name: [k.toString() for k in action.shortcuts()] for name, action in window.shortcut_actions.items()}
    assert keys["period_today"] == ["Ctrl+1"] and keys["period_all"] == ["Ctrl+6"]
    assert keys["next_scope"] == ["Ctrl+Tab", "Alt+Down"] and keys["follow"] == ["Ctrl+F"]
    assert keys["settings"][0] == "Ctrl+,"

    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert state.snapshot().period == "week"
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.last_snapshot is not None and window.last_snapshot.period == "all"
    assert (window.last_snapshot.scope_mode, window.last_snapshot.scope_account) == ("LIVE", "120005")
    qtbot.keyClick(window, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert window.last_snapshot.scope_account == "Sim1"
    qtbot.keyClick(window, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert window.last_snapshot.scope_account == "120005"
    window.panel3.table.setFocus()  # a focused table must not swallow Ctrl+Tab
    qtbot.keyClick(window.panel3.table, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.last_snapshot.scope_account == "Sim1"
    qtbot.keyClick(
        window.panel3.table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert window.last_snapshot.scope_account == "120005"
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert followed == [True]
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert window.settings_dialog is not None and window.settings_dialog.isVisible()
    window.settings_dialog.reject()


def test_readable_at_1366_by_768(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "2", "6000", FROZEN - timedelta(minutes=3), fee="1.24"))
    state.apply_fill(fill(2, "-1", "21000", FROZEN, symbol="MNQZ25"))
    state.on_price(Quote("MESZ25", D("6001.25"), FROZEN, "dtc", vwap=D("6000.5"), cum_delta=D(-1520), poc=D(6000)))
    state.publish()
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    image = window.grab()
    assert (image.width(), image.height()) == (1366, 768)
    clipped = [
        (label.objectName(), label.text())
        for label in window.findChildren(QLabel)
        if label.isVisibleTo(window) and label.text() and not label.wordWrap()
        and label.width() < label.sizeHint().width() - 1
    ]  # fmt: skip
    assert clipped == [], clipped
    assert len(window.panel2.card_texts()) == 2


class Recorder(QObject):
    """Connected after ``window.render``: records the last price each rendered snapshot put on screen."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.shown: list[D] = []

    @Slot(object)
    def on_snapshot(self, _snap: AppSnapshot) -> None:
        card = self.window.panel2._cards.get("MESZ25")
        if card is not None and card.last.text()[0].isdigit():
            self.shown.append(D(card.last.text().split(" ")[0].replace(",", "")))


def test_price_burst_from_another_thread_ends_on_the_last_price(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    clock = Clock(now)
    state = make_state(tmp_path, clock)
    state.prices._clock = lambda: datetime.now(UTC).timestamp()  # real time: the burst's quotes stay fresh
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "1", "6000", now))
    recorder = Recorder(window)
    window.shown.connect(recorder.on_snapshot)
    count = 6000
    sent = [D("6000") + D("0.25") * i for i in range(1, count + 1)]

    def burst() -> None:
        for i, price in enumerate(sent):
            state.on_price(Quote("MESZ25", price, now + timedelta(microseconds=i), "dtc"))
            if i % 50 == 49:
                state.publish_throttled()
        state.publish()  # end of the chunk, as the DTC thread does

    thread = threading.Thread(target=burst, name="burst")
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10_000)
    qtbot.waitUntil(lambda: recorder.shown[-1:] == [sent[-1]], timeout=5000)
    assert recorder.shown == sorted(recorder.shown)  # never backwards
    assert window.panel2._cards["MESZ25"].last.text().startswith("7,500.00 · ")
