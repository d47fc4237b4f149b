"""TLS to a server that requires it (Sierra Chart's "Require TLS"): verified by default, a self-signed
certificate trusted only when the trader names it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dtc.client import ClientConfig, DTCClient, LinkState
from dtc.sim.server import SimulatorServer


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def connect(port: int, trusted: str) -> tuple[list[tuple[LinkState, str]], DTCClient]:
    states: list[tuple[LinkState, str]] = []
    logged_on = threading.Event()

    def on_link(state: LinkState, detail: str) -> None:
        states.append((state, detail))
        if state in (LinkState.LOGGED_ON, LinkState.DISCONNECTED):
            logged_on.set()

    client = DTCClient(
        ClientConfig("127.0.0.1", port, heartbeat_seconds=2, tls=True, tls_trusted_certificate=trusted),
        on_link=on_link,
    )
    client.start()
    logged_on.wait(10)
    client.stop()
    return states, client


def test_tls_with_the_servers_certificate_trusted_logs_on(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SimulatorServer(None, autoplay=False, ssl_context=context)
    server.start()
    try:
        states, _ = connect(server.port, str(cert))
        assert (LinkState.LOGGED_ON, "DTC Panel simulator: Logon successful") in states
        untrusted, _ = connect(server.port, "")  # verification on by default: a self-signed cert is refused
        refused = [d for s, d in untrusted if s == LinkState.DISCONNECTED]
        assert refused and "CERTIFICATE_VERIFY_FAILED" in refused[0]
        assert all(s != LinkState.LOGGED_ON for s, _ in untrusted)
    finally:
        server.stop()
