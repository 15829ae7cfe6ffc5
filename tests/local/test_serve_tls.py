"""``modelauth serve --tls-cert/--tls-key``: the endpoint over https and its real-time socket
over wss (what Amplify JS dials), with a certificate the client trusts; what is not TLS, or a
certificate that doesn't verify, is refused without stopping the server; bad certificate
arguments are one line and exit 2."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from modelauth.local.cli import main
from modelauth.local.server import LocalServer, tls_context
from modelauth.project import ProjectError
from tests.local.test_subscriptions_ws import RealtimeClient


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (as mkcert would make one) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "modelauth test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(template: Any, backend: Any, certificate: tuple[Path, Path]) -> Iterator[LocalServer]:
    before = backend.endpoint
    try:
        with LocalServer(template, backend, port=0, log=None, tls=tls_context(*certificate)) as server:
            yield server
    finally:
        backend.endpoint = before  # the session's plain-http server is the one other tests use


def _post(server: LocalServer, certificate: tuple[Path, Path], api_key: str) -> dict[str, Any]:
    query = "{ listCatalogItems { items { id } } }"
    response = requests.post(
        server.url,
        json={"query": query},
        headers={"x-api-key": api_key},
        verify=str(certificate[0]),
        timeout=10,
    )
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    assert "items" in answer["data"]["listCatalogItems"], answer
    return answer


def test_graphql_and_realtime_over_tls(
    tls_server: LocalServer, backend: Any, certificate: tuple[Path, Path]
) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    api_key = next(iter(backend.api_keys))
    _post(tls_server, certificate, api_key)
    context = ssl.create_default_context(cafile=str(certificate[0]))
    host = tls_server.url.removeprefix("https://").removesuffix("/graphql")
    realtime = RealtimeClient(
        f"wss://{host}/graphql/realtime", {"host": host, "x-api-key": api_key}, tls=context
    )
    try:
        realtime.send({"type": "connection_init"})
        assert realtime.receive()["type"] == "connection_ack"
    finally:
        realtime.close()


def test_plain_http_and_an_untrusted_client_are_refused_and_the_server_goes_on(
    tls_server: LocalServer, backend: Any, certificate: tuple[Path, Path]
) -> None:
    host, port = tls_server.url.removeprefix("https://").removesuffix("/graphql").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as plain:
        plain.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not plain.recv(1024).startswith(b"HTTP/")  # no HTTP answer without TLS
    with pytest.raises(requests.exceptions.SSLError):  # a client that doesn't trust the certificate
        requests.get(tls_server.url.replace("/graphql", "/health"), timeout=10)
    _post(tls_server, certificate, next(iter(backend.api_keys)))


def test_a_bad_certificate_is_a_project_error(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    other_cert, _ = _certificate(tmp_path)
    for bad in [(tmp_path / "missing.pem", key), (cert, cert), (other_cert, key)]:
        with pytest.raises(ProjectError, match="--tls-cert"):
            tls_context(*bad)


@pytest.mark.parametrize(
    "args",
    [
        ["--tls-cert", "cert.pem"],
        ["--tls-key", "key.pem"],
        ["--tls-cert", "missing.pem", "--tls-key", "key.pem"],
    ],
)
def test_serve_refuses_bad_tls_arguments_in_one_line(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import PROJECT

    monkeypatch.chdir(PROJECT)
    assert main(["--state", str(tmp_path / "state.json"), "serve", "--port", "0", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("modelauth serve: --tls-"), err
    assert "\n" not in err, err
