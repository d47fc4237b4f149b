"""The settings dialog: edits a copy of ``core.settings.Settings`` and hands the new one, with the password
typed (or ``None`` = keep the stored one), to ``on_saved(settings, password)``.

It never writes a file, and the password never goes into the ``Settings``, a log or an exception message:
it leaves this dialog only as the second argument of ``on_saved``. Open it with ``open()`` (not ``exec()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from zoneinfo import available_timezones

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from core.local_api import api_token, exposure_warning, is_loopback
from core.modes import DEFAULT_SIM_PATTERN
from core.settings import FONT_SIZE_RANGE, SettingProblem, Settings, SettingsError, guard_key, show
from panels.theme import ERROR_FG

SavedCallback = Callable[[Settings, str | None], None]


def format_commissions(values: dict[str, Decimal]) -> str:
    """``{"MES": 0.62, "*": 2.25}`` → ``MES=0.62, *=2.25``."""
    return ", ".join(f"{root}={value}" for root, value in values.items())


def parse_commissions(text: str) -> dict[str, Decimal]:
    """``MES=0.62, *=2.25`` → per-contract-per-side commissions by root. Raises ``ValueError`` for text that is
    not ``ROOT=number``; whether an amount can be used is for ``core.settings`` to say."""
    out: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        root, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not root:
            raise ValueError(f"commission {part!r}: write ROOT=amount, e.g. MES=0.62")
        out[root.upper() if root != "*" else root] = _decimal(value, f"commission of {root}")
    return out


def format_point_values(values: dict[str, tuple[Decimal, Decimal]]) -> str:
    """``{"XYZ": (10, 0.01)}`` → ``XYZ=10/0.01``."""
    return ", ".join(f"{root}={pv}/{tick}" for root, (pv, tick) in values.items())


def parse_point_values(text: str) -> dict[str, tuple[Decimal, Decimal]]:
    """``XYZ=10/0.01`` → (point value, tick size) by root. Raises ``ValueError`` for text that is not
    ``ROOT=number/number``; whether the numbers can be used is for ``core.settings`` to say."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        root, sep, value = (s.strip() for s in part.partition("="))
        point_value, slash, tick = (s.strip() for s in value.partition("/"))
        if not sep or not slash or not root:
            raise ValueError(f"point value {part!r}: write ROOT=point value/tick size, e.g. XYZ=10/0.01")
        out[root.upper()] = (_decimal(point_value, f"point value of {root}"), _decimal(tick, f"tick size of {root}"))
    return out


def format_stop_distances(values: dict[str, int]) -> str:
    """``{"Sim1": 8, "Sim1/MES": 12}`` → ``Sim1=8, Sim1/MES=12``."""
    return ", ".join(f"{key}={ticks}" for key, ticks in values.items())


def parse_stop_distances(text: str) -> dict[str, int]:
    """``Sim1=8, 120005/MES=12`` → stop guard distances in ticks by account (or account/ROOT). Raises
    ``ValueError`` for text that is not ``ACCOUNT=whole number``; the range is for ``core.settings`` to check."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not key or not value.lstrip("-").isdigit():
            raise ValueError(f"stop distance {part!r}: write ACCOUNT=ticks or ACCOUNT/ROOT=ticks, e.g. Sim1=8")
        out[guard_key(key)] = int(value)
    return out


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, got {text!r}") from None


FIELD_LABELS = {
    "host": "Sierra Chart host",
    "port": "DTC port",
    "heartbeat_seconds": "Heartbeat",
    "tls_trusted_certificate": "Trusted certificate",
    "username": "Username",
    "sim_account_pattern": "SIM accounts (regex)",
    "commission_per_contract": "Commissions",
    "point_values": "Point values",
    "session_start": "Trading day starts",
    "session_timezone": "Session time zone",
    "price_csv_path": "Price CSV file",
    "price_csv_symbol": "Price CSV symbol",
    "api_port": "Local API port",
    "api_bind_address": "Local API address",
    "stop_guard_ticks": "Stop guard distances",
    "stop_guard_grace_seconds": "Stop guard grace",
    "orphan_cleanup_grace_seconds": "Orphan cleanup grace",
}
"""The dialog's name for each setting it edits (what the trader reads beside the field)."""


def problem_text(problem: SettingProblem) -> str:
    """One rejected value as the dialog shows it: the field's label, the value as typed, and why —
    ``Commissions * = -0.5: a commission per contract per side must be a finite amount of 0 or more``."""
    label = FIELD_LABELS.get(problem.key, problem.key)
    value = problem.value
    if problem.key == "point_values" and isinstance(value, tuple) and len(value) == 2:
        typed = f"{value[0]}/{value[1]}"
    else:
        typed = str(value) if isinstance(value, Decimal) else show(value)
    where = f"{label} {problem.item}" if problem.item is not None else label
    return f"{where} = {typed}: {problem.reason}"


def settings_problem_text(exc: SettingsError) -> str:
    """What the trader reads when DTC Panel cannot start because of its settings: which values, where from,
    and what to do."""
    source = exc.source or "settings"
    lines = [f"DTC Panel cannot start: {'a setting' if len(exc.problems) <= 1 else 'some settings'} cannot be used."]
    lines += [str(exc)] if not exc.problems else [f"{source}:", *(f"  {p}" for p in exc.problems)]
    if source == "command line":
        lines.append("Correct the command-line option and start DTC Panel again.")
    elif exc.problems:
        lines.append("Correct each value (or remove its key to use the default) and start DTC Panel again.")
    else:
        lines.append('Correct the file (JSON: {"key": value, ...}) or remove it, and start DTC Panel again.')
    return "\n".join(lines)


def settings_problem_box(text: str, parent: QWidget | None = None) -> QMessageBox:
    """A critical message box showing ``settings_problem_text`` (not shown yet)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "DTC Panel — settings problem", text, parent=parent)
    box.setObjectName("settingsProblem")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return box


class SettingsDialog(QDialog):
    """Edits ``settings``; on OK with valid input calls ``on_saved(new_settings, password_or_None)``."""

    def __init__(self, settings: Settings, on_saved: SavedCallback | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("DTC Panel — Settings")
        self._settings = settings
        self._on_saved = on_saved
        self.saved: Settings | None = None
        form = QFormLayout()
        self.host = QLineEdit(settings.host, objectName="host")
        self.port = QSpinBox(objectName="port")
        self.port.setRange(1, 65535)
        self.port.setValue(settings.port)
        self.heartbeat = QSpinBox(objectName="heartbeat")
        self.heartbeat.setRange(1, 300)
        self.heartbeat.setSuffix(" s")
        self.heartbeat.setValue(settings.heartbeat_seconds)
        self.encoding = QCheckBox("Send the binary encoding request first (DTC Encoding = Automatic)")
        self.encoding.setChecked(settings.encoding_request)
        self.tls = QCheckBox("Connect with TLS (Sierra Chart's DTC server requires it)", objectName="tls")
        self.tls.setChecked(settings.tls)
        self.certificate = QLineEdit(settings.tls_trusted_certificate, objectName="certificate")
        self.certificate.setPlaceholderText("system trust store")
        cert_row = self._path_row(
            self.certificate, "Trusted certificate (PEM)", "Certificates (*.pem *.crt);;All files (*)"
        )
        self.username = QLineEdit(settings.username, objectName="username")
        self.password = QLineEdit(objectName="password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("leave empty to keep the stored password")
        self.forget_password = QCheckBox("Remove the stored password", objectName="forgetPassword")
        self.sim_pattern = QLineEdit(settings.sim_account_pattern, objectName="simPattern")
        self.commissions = QLineEdit(format_commissions(settings.commission_per_contract), objectName="commissions")
        self.commissions.setPlaceholderText("MES=0.62, *=2.25   (per contract per side)")
        self.point_values = QLineEdit(format_point_values(settings.point_values), objectName="pointValues")
        self.point_values.setPlaceholderText("XYZ=10/0.01   (point value / tick size, for unknown symbols)")
        self.session_start = QTimeEdit(objectName="sessionStart")
        self.session_start.setDisplayFormat("HH:mm")
        self.session_start.setTime(QTime.fromString(settings.session_start, "HH:mm"))
        self.timezone = QComboBox(objectName="timezone")
        self.timezone.setEditable(True)
        self.timezone.addItems(sorted(available_timezones()))
        self.timezone.setCurrentText(settings.session_timezone)
        self.csv_path = QLineEdit(settings.price_csv_path, objectName="csvPath")
        self.csv_path.setPlaceholderText("none")
        csv_row = self._path_row(
            self.csv_path, "Price CSV written by a Sierra Chart study", "CSV files (*.csv);;All files (*)"
        )
        self.csv_symbol = QLineEdit(settings.price_csv_symbol, objectName="csvSymbol")
        self.csv_symbol.setPlaceholderText("e.g. MESZ25, when the CSV has no symbol column")
        self.desktop = QCheckBox("Desktop notification for each position change and warning", objectName="desktop")
        self.desktop.setChecked(settings.desktop_notifications)
        self.sound = QCheckBox("Play the alert sound with it", objectName="sound")
        self.sound.setChecked(settings.sound)
        form.addRow("Sierra Chart host", self.host)
        form.addRow("DTC port", self.port)
        form.addRow("Heartbeat", self.heartbeat)
        form.addRow("", self.encoding)
        form.addRow("", self.tls)
        form.addRow("Trusted certificate", cert_row)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.forget_password)
        form.addRow("SIM accounts (regex)", self.sim_pattern)
        form.addRow("Commissions", self.commissions)
        form.addRow("Point values", self.point_values)
        form.addRow("Trading day starts", self.session_start)
        form.addRow("Session time zone", self.timezone)
        form.addRow("Price CSV file", csv_row)
        form.addRow("Price CSV symbol", self.csv_symbol)
        form.addRow("Notifications", self.desktop)
        form.addRow("", self.sound)
        self._add_api_rows(form, settings)
        self._add_guard_rows(form, settings)
        self._add_look_rows(form, settings)
        self.error = QLabel(objectName="settingsError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color:{ERROR_FG}; font-weight:600;")
        self.error.hide()
        hint = QLabel("Connection, notification and local API changes take effect when DTC Panel is restarted.")
        hint.setProperty("muted", True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._file_dialog: QFileDialog | None = None

    def build(self) -> Settings:
        """The edited settings (paths and the pinned account unchanged). Raises ``SettingsError`` naming each
        value ``core.settings`` rejects, or ``ValueError`` for text that is not in the field's form; the message
        never contains the password."""
        return replace(
            self._settings,
            host=self.host.text().strip(),
            port=self.port.value(),
            heartbeat_seconds=self.heartbeat.value(),
            encoding_request=self.encoding.isChecked(),
            tls=self.tls.isChecked(),
            tls_trusted_certificate=self.certificate.text().strip(),
            username=self.username.text().strip(),
            sim_account_pattern=self.sim_pattern.text().strip() or DEFAULT_SIM_PATTERN,
            commission_per_contract=parse_commissions(self.commissions.text()),
            point_values=parse_point_values(self.point_values.text()),
            session_start=self.session_start.time().toString("HH:mm"),
            session_timezone=self.timezone.currentText().strip(),
            price_csv_path=self.csv_path.text().strip(),
            price_csv_symbol=self.csv_symbol.text().strip(),
            desktop_notifications=self.desktop.isChecked(),
            sound=self.sound.isChecked(),
            api_enabled=self.api_enabled.isChecked(),
            api_port=self.api_port.value(),
            api_bind_address=self.api_address.text().strip() or "127.0.0.1",
            theme=self.theme.currentData(),
            font_size=self.font_size.value(),
            stop_guard_ticks=parse_stop_distances(self.stop_distances.text()),
            stop_guard_grace_seconds=self.stop_grace.value(),
            orphan_cleanup_grace_seconds=self.cleanup_grace.value(),
        )

    def _add_guard_rows(self, form: QFormLayout, settings: Settings) -> None:
        """The stop guard's distances and both grace periods (issue 17; applied at once). Arming is on the
        position bar, never here: it is not stored."""
        self.stop_distances = QLineEdit(format_stop_distances(settings.stop_guard_ticks), objectName="stopDistances")
        self.stop_distances.setPlaceholderText("Sim1=8, 120005/MES=12   (ticks from the average entry)")
        self.stop_distances.setToolTip(
            "Protective stop distance in ticks, by account or account/ROOT. An account without one has no stop "
            "guard. Orders are sent only after arming the guard on the position bar (LIVE: with a confirmation)."
        )
        self.stop_grace = QDoubleSpinBox(objectName="stopGrace")
        self.cleanup_grace = QDoubleSpinBox(objectName="cleanupGrace")
        for box, value in ((self.stop_grace, settings.stop_guard_grace_seconds),
                           (self.cleanup_grace, settings.orphan_cleanup_grace_seconds)):  # fmt: skip
            box.setRange(0.5, 600.0)
            box.setDecimals(1)
            box.setSuffix(" s")
            box.setValue(value)
        form.addRow("Stop guard distances", self.stop_distances)
        form.addRow("Stop guard grace", self.stop_grace)
        form.addRow("Orphan cleanup grace", self.cleanup_grace)

    def _add_look_rows(self, form: QFormLayout, settings: Settings) -> None:
        """Theme and font size (applied at once when saved)."""
        self.theme = QComboBox(objectName="theme")
        for value, text in (("system", "As the system"), ("light", "Light"), ("dark", "Dark (Sierra Chart-like)")):
            self.theme.addItem(text, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.font_size = QDoubleSpinBox(objectName="fontSize")
        self.font_size.setRange(0, FONT_SIZE_RANGE[1])
        self.font_size.setDecimals(1)
        self.font_size.setSuffix(" pt")
        self.font_size.setSpecialValueText("as the system")
        self.font_size.setValue(settings.font_size)
        form.addRow("Theme", self.theme)
        form.addRow("Font size", self.font_size)

    def password_change(self) -> str | None:
        """The new password; "" to remove the stored one; ``None`` to keep it."""
        if self.forget_password.isChecked():
            return ""
        return self.password.text() or None

    def accept(self) -> None:
        try:
            settings = self.build()
        except SettingsError as exc:  # the same checks as at start: the dialog stays open, nothing is saved
            self.error.setText("\n".join(problem_text(p) for p in exc.problems) or str(exc))
            self.error.show()
            return
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        if self._on_saved is not None:
            try:
                self._on_saved(settings, self.password_change())
            except OSError as exc:  # the settings file could not be written: say so, stay open
                self.error.setText(f"Settings not saved: {exc.strerror or exc.__class__.__name__}")
                self.error.show()
                return
        self.saved = settings
        self.password.clear()
        super().accept()

    def _add_api_rows(self, form: QFormLayout, settings: Settings) -> None:
        """The local API (issue 16): on/off, port, address (warned about unless this computer's), the token."""
        self.api_enabled = QCheckBox("Serve positions, P&&L and health to other programs (read-only)")
        self.api_enabled.setObjectName("apiEnabled")
        self.api_enabled.setChecked(settings.api_enabled)
        self.api_port = QSpinBox(objectName="apiPort")
        self.api_port.setRange(0, 65535)
        self.api_port.setSpecialValueText("any free port")
        self.api_port.setValue(settings.api_port)
        self.api_address = QLineEdit(settings.api_bind_address, objectName="apiAddress")
        self.api_address.setPlaceholderText("127.0.0.1 (this computer only)")
        self.api_exposure = QLabel(objectName="apiExposure")
        self.api_exposure.setStyleSheet(f"color:{ERROR_FG}; font-weight:600;")
        self.api_address.textChanged.connect(self._show_exposure)
        self._show_exposure(settings.api_bind_address)
        self.api_token = QLineEdit(objectName="apiToken")
        self.api_token.setReadOnly(True)
        self._token = api_token(settings.config_dir)
        try:
            self.api_token.setText(self._token.current())
        except OSError as exc:
            self.api_token.setPlaceholderText(f"cannot be stored: {exc.strerror or exc.__class__.__name__}")
        regenerate = QPushButton("Regenerate", objectName="apiRegenerate")
        regenerate.setToolTip("A new token now: the old one stops working at once, open streams are closed")
        regenerate.clicked.connect(self._regenerate_token)
        copy = QPushButton("Copy", objectName="apiCopy")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.api_token.text()))
        token_row = QHBoxLayout()
        token_row.addWidget(self.api_token, 1)
        token_row.addWidget(copy)
        token_row.addWidget(regenerate)
        self.api_token_note = QLabel(objectName="apiTokenNote")
        self.api_token_note.setProperty("muted", True)
        self.api_token_note.setText("Programs send it as  Authorization: Bearer <token>  (see docs/API.md).")
        form.addRow("Local API", self.api_enabled)
        form.addRow("Local API port", self.api_port)
        form.addRow("Local API address", self.api_address)
        form.addRow("", self.api_exposure)
        form.addRow("API token", token_row)
        form.addRow("", self.api_token_note)

    def _show_exposure(self, address: str) -> None:
        address = address.strip() or "127.0.0.1"
        self.api_exposure.setText("⚠ Reachable from other computers: anyone with the token can read your positions.")
        self.api_exposure.setToolTip("" if is_loopback(address) else exposure_warning(address))
        self.api_exposure.setVisible(not is_loopback(address))

    def _regenerate_token(self) -> None:
        try:
            self.api_token.setText(self._token.regenerate())
        except OSError as exc:
            self.api_token_note.setText(f"No new token: it cannot be stored ({exc.strerror or exc.__class__.__name__})")
            return
        self.api_token_note.setText("New token made: the old one no longer works. Give this one to your programs.")

    def _path_row(self, field: QLineEdit, title: str, filters: str) -> QHBoxLayout:
        """``field`` with a "Browse…" button that opens a file dialog (``open()``, never ``exec()``)."""
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(field, title, filters))
        row = QHBoxLayout()
        row.addWidget(field, 1)
        row.addWidget(browse)
        return row

    def _browse(self, field: QLineEdit, title: str, filters: str) -> None:
        dialog = QFileDialog(self, title, field.text())
        dialog.setNameFilter(filters)
        dialog.fileSelected.connect(field.setText)
        self._file_dialog = dialog
        dialog.open()
