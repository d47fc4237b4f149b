"""A keyring backend that keeps its entries in memory, for the tests: nothing a test stores (the DTC password,
the local API's token) reaches the developer's real keyring (``tests/conftest.py`` installs a fresh one for
every test)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Entries by (service, user name), in this object only."""

    priority = 1  # type: ignore[assignment]  # a plain value: keyring reads it as the backend's priority

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no entry for {username!r} of {service!r}")
