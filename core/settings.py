"""Application settings: one object from which every path and connection option comes.

Defaults use platformdirs (``user_data_dir``/``user_config_dir``/``user_log_dir`` for "DTC Panel"); a JSON
settings file ``settings.json`` in the config directory overrides them, and command-line flags override
that. Tests build a ``Settings`` pointing at ``tmp_path`` and never touch the real home directory.

Every value is checked in one place (``problems``), whenever a ``Settings`` is made — from the file, the
command line or the settings dialog: types, ranges, time zone, session start, commissions, point values, the
SIM-account pattern. A value that cannot be used raises ``SettingsError`` naming the key and the value, so
no thread ever meets one. ``save`` replaces the file atomically.
The DTC password is never stored here (it comes from the ``DTC_PANEL_PASSWORD`` environment variable).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from data.files import write_atomic

APP_NAME = "DTC Panel"
APP_AUTHOR = "DTC Panel"
SETTINGS_FILENAME = "settings.json"
PATH_FIELDS = ("data_dir", "config_dir", "log_dir")

log = logging.getLogger(__name__)


def show(value: object) -> str:
    """``value`` as a trader writes it in settings.json: JSON text, a ``Decimal`` as its digits, a tuple as a
    list (``[10, 0.01]``)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Path):
        value = str(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True)
class SettingProblem:
    """One value that cannot be used: the setting's ``key``, the entry of a table (``item``, e.g. ``"MES"`` of
    ``commission_per_contract``; ``None`` for a plain value), the ``value`` as written, and why not."""

    key: str
    value: object
    reason: str
    item: str | None = None

    def where(self) -> str:
        """``commission_per_contract["MES"]`` or ``port``."""
        return self.key if self.item is None else f"{self.key}[{json.dumps(self.item, ensure_ascii=False)}]"

    def __str__(self) -> str:
        return f"{self.where()} = {show(self.value)}: {self.reason}"


class SettingsError(ValueError):
    """Settings that cannot be used. ``problems`` names each key and value; ``source`` says where they came
    from (the settings file's path, "command line"); ``str()`` is one line per problem, for the trader."""

    def __init__(self, source: str, problems: Sequence[SettingProblem] = (), detail: str = "") -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems] or [detail]
        if len(lines) == 1:
            text = f"{source}: {lines[0]}" if source else lines[0]
        else:
            text = "\n".join([f"{source}:" if source else "settings:", *(f"  {line}" for line in lines)])
        super().__init__(text)


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
    sierra_trades_days: int = 0
    """How many days of Sierra Chart's own trade list to ask for after each logon (backfill and cross-check);
    0: from the earliest start of the statistics periods (the year to date; from January to March the "3 months"
    period, which starts in the previous year)."""
    api_enabled: bool = False
    """Serve positions, P&L and health read-only to other programs (``docs/API.md``); ``--api-port`` turns it on."""
    api_port: int = 11180
    """The local API's TCP port (0: any free port, named in the log)."""
    api_bind_address: str = "127.0.0.1"
    """Where the local API listens; anything but a loopback address is reachable from other computers and is
    warned about at start and in the settings dialog."""
    theme: str = "system"
    """The window's look: ``system`` (follow the operating system), ``light`` or ``dark`` (``THEMES``)."""
    font_size: float = 0.0
    """The window's base font size in points; 0 follows the system's font (else ``FONT_SIZE_RANGE``)."""
    stop_guard_ticks: dict[str, int] = field(default_factory=dict)
    """Protective stop distance in ticks from the average entry, by account (``"Sim1"``) or account and symbol
    root (``"Sim1/MES"``); an account without one has no stop guard. Sending needs arming (never stored)."""
    stop_guard_grace_seconds: float = 3.0
    """A position may be without a working stop this long before the stop guard warns (or, armed, acts)."""
    orphan_cleanup_grace_seconds: float = 2.0
    """After a position closes, its stop/target orders are left alone this long (a flip may be in progress)."""

    def __post_init__(self) -> None:
        """Every ``Settings`` is usable: a value of the wrong type or out of range raises ``SettingsError``
        naming each key and value, so no thread ever meets one (ARCHITECTURE §9)."""
        found = problems(self)
        if found:
            raise SettingsError("", found)

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

        Raises ``SettingsError`` (source: the file's path) if the file is not a JSON object or any value cannot
        be used; it lists every such value at once, as written in the file.
        """
        path = self.config_dir / SETTINGS_FILENAME
        if not path.exists():
            return self
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SettingsError(str(path), detail=f"cannot be read as JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise SettingsError(str(path), detail=f"must hold a JSON object {{...}}, not {show(raw)[:60]}")
        return _overlay(self, raw, str(path))

    def save(self) -> Path:
        """Write the non-path settings to ``<config_dir>/settings.json`` atomically (a temporary file, flushed to
        disk, then renamed over the old one: a crash or a full disk leaves the old file whole) and return its
        path. Raises ``OSError``."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / SETTINGS_FILENAME
        data: dict[str, Any] = {}
        for f in fields(self):
            if f.name in PATH_FIELDS:
                continue
            value = getattr(self, f.name)
            if f.name == "commission_per_contract":
                value = {k: str(v) for k, v in value.items()}
            elif f.name == "point_values":
                value = {k: [str(pv), str(t)] for k, (pv, t) in value.items()}
            data[f.name] = value
        write_atomic(path, json.dumps(data, indent=2).encode("utf-8"))
        return path


# --- validation: the one place that decides whether a value can be used ----------------------------------

THEMES = ("system", "light", "dark")
FONT_SIZE_RANGE = (6.0, 32.0)

BOOL_FIELDS = ("encoding_request", "tls", "desktop_notifications", "sound")
TEXT_FIELDS = ("username", "client_name", "tls_trusted_certificate", "price_csv_path", "price_csv_symbol")
WHOLE_RANGES = {"port": (1, 65535), "heartbeat_seconds": (1, 300), "sierra_trades_days": (0, 3660)}
SECONDS_FIELDS = (
    "heat_warning_seconds",
    "heat_alarm_seconds",
    "connect_timeout_seconds",
    "reconnect_max_seconds",
    "stop_guard_grace_seconds",
    "orphan_cleanup_grace_seconds",
)
STOP_GUARD_TICKS_RANGE = (1, 10_000)
_SESSION_START = re.compile(r"(\d{1,2}):(\d{2})")
TIME_ZONE_HINT = "not a known time zone; use a name such as America/New_York, America/Chicago or Europe/London"


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _amount_problem(value: object, *, positive: bool) -> str | None:
    """Why ``value`` is not a usable ``Decimal`` amount (``None`` if it is)."""
    if not isinstance(value, Decimal):
        return "must be a number"
    if not value.is_finite():  # before comparing: a signalling NaN raises on comparison
        return "must be a finite number"
    if positive and value <= 0:
        return "must be greater than 0"
    if value < 0:
        return "must be 0 or more"
    return None


def session_start_problem(value: object) -> str | None:
    """Why ``value`` is not a session start ``HH:MM`` from 00:00 to 23:59 (``None`` if it is)."""
    match = _SESSION_START.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return "not a time of day; write HH:MM from 00:00 to 23:59, e.g. 18:00"
    return None


def time_zone_problem(value: object) -> str | None:
    """Why ``value`` is not an IANA time zone this machine knows (``None`` if it is)."""
    if not isinstance(value, str) or not value:
        return TIME_ZONE_HINT
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return TIME_ZONE_HINT
    return None


def pattern_problem(value: object) -> str | None:
    """Why ``value`` is not a usable SIM-account regular expression (``None`` if it is)."""
    if not isinstance(value, str):
        return "must be a regular expression (text)"
    if not value:
        return "must not be empty (it would make every account SIM); the default is ^sim"
    try:
        re.compile(value, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError) as exc:
        return f"not a valid regular expression ({exc})"
    return None


def problems(settings: Settings) -> list[SettingProblem]:
    """Every value of ``settings`` that cannot be used, each with its key, value and reason (empty: all fine)."""
    reasons: dict[str, str | None] = {key: _path_problem(getattr(settings, key)) for key in PATH_FIELDS}
    reasons["host"] = _host_problem(settings.host)
    for key, (low, high) in WHOLE_RANGES.items():
        value = getattr(settings, key)
        in_range = _is_whole(value) and low <= value <= high
        reasons[key] = None if in_range else f"must be a whole number from {low} to {high}"
    for key in BOOL_FIELDS:
        reasons[key] = None if isinstance(getattr(settings, key), bool) else "must be true or false"
    for key in TEXT_FIELDS:
        reasons[key] = None if isinstance(getattr(settings, key), str) else "must be text"
    account = settings.account
    reasons["account"] = None if account is None or isinstance(account, str) else "must be text or null"
    for key in SECONDS_FIELDS:
        value = getattr(settings, key)
        usable = _is_number(value) and math.isfinite(value) and value > 0
        reasons[key] = None if usable else "must be a number of seconds greater than 0"
    reasons["theme"] = None if settings.theme in THEMES else f"must be one of {', '.join(THEMES)}"
    size, (low, high) = settings.font_size, FONT_SIZE_RANGE
    usable_size = _is_number(size) and math.isfinite(size) and (size == 0 or low <= size <= high)
    reasons["font_size"] = None if usable_size else f"must be 0 (the system's size) or points from {low:g} to {high:g}"
    reasons["sim_account_pattern"] = pattern_problem(settings.sim_account_pattern)
    reasons["session_start"] = session_start_problem(settings.session_start)
    reasons["session_timezone"] = time_zone_problem(settings.session_timezone)
    reasons.update(_api_problems(settings))
    found = [SettingProblem(key, getattr(settings, key), reason) for key, reason in reasons.items() if reason]
    _check_table(found, "commission_per_contract", settings.commission_per_contract, _commission_problem)
    _check_table(found, "point_values", settings.point_values, _point_value_problem)
    _check_table(found, "stop_guard_ticks", settings.stop_guard_ticks, _stop_ticks_problem)
    return found


def _stop_ticks_problem(value: object) -> str | None:
    low, high = STOP_GUARD_TICKS_RANGE
    if _is_whole(value) and low <= value <= high:  # type: ignore[operator]
        return None
    return f"a stop distance must be a whole number of ticks from {low} to {high}"


def _api_problems(settings: Settings) -> dict[str, str | None]:
    """The local API's settings (issue 16): a switch, a port (0 = any free one) and an address."""
    port = settings.api_port
    address = settings.api_bind_address
    return {
        "api_enabled": None if isinstance(settings.api_enabled, bool) else "must be true or false",
        "api_port": None if _is_whole(port) and 0 <= port <= 65535 else "must be a whole number from 0 to 65535",
        "api_bind_address": None
        if isinstance(address, str) and address.strip()
        else "must be an address to listen on, e.g. 127.0.0.1",
    }


def _path_problem(value: object) -> str | None:
    return None if isinstance(value, Path) else "must be a folder path"


def _host_problem(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return "must be the address of Sierra Chart's DTC server, e.g. 127.0.0.1"


def _commission_problem(value: object) -> str | None:
    if _amount_problem(value, positive=False) is None:
        return None
    return "a commission per contract per side must be a finite amount of 0 or more"


def _point_value_problem(value: object) -> str | None:
    if not isinstance(value, tuple) or len(value) != 2:
        return "must be [point value, tick size], e.g. [10, 0.01]"
    for what, part in zip(("point value", "tick size"), value, strict=True):
        reason = _amount_problem(part, positive=True)
        if reason is not None:
            return f"the {what} {reason}"
    return None


def _check_table(found: list[SettingProblem], key: str, table: object, problem: Callable[[object], str | None]) -> None:
    if not isinstance(table, dict):
        found.append(SettingProblem(key, table, "must be a table of symbol root → value"))
        return
    for root, value in table.items():
        if not isinstance(root, str) or not root.strip():
            found.append(SettingProblem(key, value, "a symbol root must not be empty", str(root)))
            continue
        reason = problem(value)
        if reason is not None:
            found.append(SettingProblem(key, value, reason, root))


# --- settings.json → typed values ---------------------------------------------------------------------


def _to_decimal(value: object) -> Decimal | None:
    """A JSON number or numeric text as a ``Decimal`` (``None`` if it is neither)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def guard_key(key: str) -> str:
    """``"Sim1"`` or ``"Sim1/MES"``: the account as written, the symbol root upper case."""
    account, slash, root = key.strip().partition("/")
    return f"{account.strip()}/{_root(root)}" if slash else account.strip()


def _root(key: str) -> str:
    """Symbol roots are upper case (``core.instruments.symbol_root``); ``*`` stands for every root."""
    return key.strip().upper()


def _convert(key: str, value: object, default: object) -> tuple[object, list[SettingProblem]]:
    """The JSON ``value`` of ``key`` as the field's type, or the problems that prevent it."""
    if key == "commission_per_contract":
        if not isinstance(value, dict):
            return None, [SettingProblem(key, value, 'must be an object of symbol root → amount, e.g. {"MES": 0.62}')]
        amounts = {_root(str(k)): _to_decimal(v) for k, v in value.items()}
        bad = [SettingProblem(key, v, "must be a number", _root(str(k))) for k, v in value.items()]
        return amounts, [p for p in bad if amounts[p.item or ""] is None]
    if key == "point_values":
        if not isinstance(value, dict):
            return None, [SettingProblem(key, value, "must be an object of symbol root → [point value, tick size]")]
        pairs: dict[str, object] = {}
        bad = []
        for k, v in value.items():
            parts = [_to_decimal(x) for x in v] if isinstance(v, list) else []
            if len(parts) != 2 or None in parts:
                bad.append(SettingProblem(key, v, "must be [point value, tick size], e.g. [10, 0.01]", _root(str(k))))
            pairs[_root(str(k))] = tuple(parts)
        return pairs, bad
    if key == "stop_guard_ticks":
        if not isinstance(value, dict):
            return None, [SettingProblem(key, value, 'must be an object of account (or "account/ROOT") → ticks')]
        return {guard_key(str(k)): v for k, v in value.items()}, []
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = _is_whole(value)
    elif isinstance(default, float):
        ok = _is_number(value)
        value = float(value) if ok else value  # type: ignore[arg-type]
    elif default is None:
        ok = value is None or isinstance(value, str)
    else:
        ok = isinstance(value, str)
    if ok:
        return value, []
    return None, [SettingProblem(key, value, f"has the wrong type: {_expected(default)}")]


def _expected(default: object) -> str:
    if isinstance(default, bool):
        return "write true or false"
    if isinstance(default, int):
        return "write a whole number"
    if isinstance(default, float):
        return "write a number"
    if default is None:
        return "write text in quotes, or null"
    return "write text in quotes"


def _overlay(base: Settings, raw: dict[str, Any], source: str) -> Settings:
    """``base`` with the values of ``raw``; every problem, as written in ``raw``, in one ``SettingsError``."""
    known = {f.name for f in fields(Settings)} - set(PATH_FIELDS)
    changes: dict[str, Any] = {}
    found: list[SettingProblem] = []
    for key, value in raw.items():
        if key not in known:
            log.warning("%s: ignoring unknown setting %r", source, key)
            continue
        converted, bad = _convert(key, value, getattr(base, key))
        found.extend(bad)
        if not bad:
            changes[key] = converted
    try:
        result = replace(base, **changes)
    except SettingsError as exc:  # in range checks: report the value as the trader wrote it
        found.extend(replace(p, value=_as_written(raw, p)) for p in exc.problems)
        order = list(raw)
        found.sort(key=lambda p: order.index(p.key) if p.key in order else len(order))  # as in the file
        raise SettingsError(source, found) from None
    if found:
        raise SettingsError(source, found)
    return result


def _as_written(raw: dict[str, Any], problem: SettingProblem) -> object:
    value = raw.get(problem.key, problem.value)
    if problem.item is None:
        return value
    if isinstance(value, dict):
        for k, v in value.items():
            if _root(str(k)) == problem.item:
                return v
    return problem.value
