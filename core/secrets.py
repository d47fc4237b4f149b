"""The DTC password in the system keyring (Windows Credential Manager, macOS Keychain, Secret Service).

It is never written to the settings file, a log or an exception message. Where no keyring backend exists
(a headless Linux box), ``load_password`` returns "" and ``save_password`` says so by returning False.
"""

from __future__ import annotations

import contextlib
import logging

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

log = logging.getLogger(__name__)

SERVICE = "DTC Panel"


def load_password(username: str) -> str:
    """The stored password for ``username`` ("" if none or no keyring)."""
    try:
        return keyring.get_password(SERVICE, username or "default") or ""
    except (NoKeyringError, KeyringError) as exc:
        log.info("no system keyring available (%s); no stored DTC password", exc.__class__.__name__)
        return ""


def save_password(username: str, password: str) -> bool:
    """Store (or, for "", delete) the password; False if no keyring is available."""
    try:
        if password:
            keyring.set_password(SERVICE, username or "default", password)
        else:
            with contextlib.suppress(PasswordDeleteError):  # nothing stored: nothing to delete
                keyring.delete_password(SERVICE, username or "default")
        return True
    except (NoKeyringError, KeyringError) as exc:
        log.warning("cannot store the DTC password: no system keyring (%s)", exc.__class__.__name__)
        return False
