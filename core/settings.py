"""Application settings: one object from which every path and connection option comes.

Defaults use platformdirs (``user_data_dir``/``user_config_dir``/``user_log_dir`` for "DTC Panel"); a JSON
settings file ``settings.json`` in the config directory overrides them, and command-line flags override
that. Tests build a ``Settings`` pointing at ``tmp_path`` and never touch the real home directory.
The DTC password is never stored here (it comes from the ``DTC_PANEL_PASSWORD`` environment variable).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "DTC Panel"
APP_AUTHOR = "DTC Panel"
SETTINGS_FILENAME = "settings.json"

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """The settings file exists but cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    """Every configurable value. Paths are absolute; money in account currency; times in seconds."""

    data_dir: Path
    config_dir: Path
    log_dir: Path
    host: str = "127.0.0.1"
    port: int = 11099
    heartbeat_seconds: int = 10
    username: str = ""
    encoding_request: bool = True
    """Send the 16-byte binary ENCODING_REQUEST first (Sierra Chart's DTC Encoding = Automatic)."""
    client_name: str = "DTC Panel"
    account: str | None = None
    """Pin the displayed account; ``None`` follows the account of the latest fill."""
    sim_account_pattern: str = r"^sim"
    commission_per_contract: dict[str, Decimal] = field(default_factory=dict)
    """Commission per contract per side by symbol root (e.g. ``{"MES": Decimal("0.62")}``); ``"*"`` for all."""
    point_values: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Trader's (point value, tick size) by symbol root, used when the server gives no definition."""
    session_start: str = "18:00"
    session_timezone: str = "America/New_York"
    tls: bool = False
    """Connect with TLS (Sierra Chart's "Require TLS" = Yes). Certificates are always verified."""
    tls_trusted_certificate: str = ""
    """A certificate file to trust, e.g. Sierra Chart's self-signed certificate exported to a file."""
    price_csv_path: str = ""
    """A snapshot CSV (``last,high,low,vwap,poc,cum_delta``) written by a Sierra Chart study; empty = none."""
    price_csv_symbol: str = ""
    """The contract (e.g. ``MESZ25``) the CSV's rows without a symbol cell are for; empty = none: such rows
    price nothing and the window says so."""
    desktop_notifications: bool = False
    """Announce position changes, reconciliation warnings and errors as desktop notifications."""
    sound: bool = False
    """Play the system alert sound with each announcement."""
    heat_warning_seconds: float = 60.0
    """Heat (time the open P&L has been negative) turns amber after this many seconds, red after the next."""
    heat_alarm_seconds: float = 180.0
    connect_timeout_seconds: float = 5.0
    reconnect_max_seconds: float = 30.0

    @classmethod
    def for_directories(cls, data_dir: Path, config_dir: Path | None = None, log_dir: Path | None = None) -> Settings:
        """Settings with every path under explicit directories (tests, ``--data-dir``)."""
        return cls(
            data_dir=data_dir,
            config_dir=config_dir or data_dir / "config",
            log_dir=log_dir or data_dir / "logs",
        )

    @classmethod
    def platform_default(cls) -> Settings:
        """Settings under the user's platform directories (platformdirs)."""
        return cls(
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
        )

    def commission_for(self, root: str) -> Decimal:
        """Commission per contract per side for a symbol root (account currency)."""
        return self.commission_per_contract.get(root, self.commission_per_contract.get("*", Decimal(0)))

    def with_file(self) -> Settings:
        """These settings overlaid with ``<config_dir>/settings.json`` if it exists.

        Raises ``SettingsError`` if the file is not valid JSON or a value has the wrong type.
        """
        path = self.config_dir / SETTINGS_FILENAME
        if not path.exists():
            return self
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SettingsError(f"{path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise SettingsError(f"{path}: expected a JSON object")
        return _overlay(self, raw, path)

    def save(self) -> Path:
        """Write the non-path settings to ``<config_dir>/settings.json`` and return its path."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / SETTINGS_FILENAME
        data: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("data_dir", "config_dir", "log_dir"):
                continue
            value = getattr(self, f.name)
            if f.name == "commission_per_contract":
                value = {k: str(v) for k, v in value.items()}
            elif f.name == "point_values":
                value = {k: [str(pv), str(t)] for k, (pv, t) in value.items()}
            data[f.name] = value
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return path


def _decimal(value: Any, path: Path, key: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise SettingsError(f"{path}: {key} must be a number, got {value!r}") from exc


def _overlay(base: Settings, raw: dict[str, Any], path: Path) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known or key in ("data_dir", "config_dir", "log_dir"):
            log.warning("%s: ignoring unknown setting %r", path, key)
            continue
        if key == "commission_per_contract":
            changes[key] = {str(k): _decimal(v, path, f"{key}.{k}") for k, v in dict(value).items()}
        elif key == "point_values":
            changes[key] = {
                str(k): (_decimal(v[0], path, f"{key}.{k}"), _decimal(v[1], path, f"{key}.{k}"))
                for k, v in dict(value).items()
            }
        else:
            default = getattr(base, key)
            expected = type(default) if default is not None else (str, type(None))
            if isinstance(default, bool) and not isinstance(value, bool):
                raise SettingsError(f"{path}: {key} must be true or false")
            if not isinstance(value, expected) and not (isinstance(default, float) and isinstance(value, int)):
                raise SettingsError(f"{path}: {key} has the wrong type ({type(value).__name__})")
            changes[key] = value
    return replace(base, **changes)
