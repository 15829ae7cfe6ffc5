"""A moto server on loopback, shared by the reliability tests (real HTTP, real threads)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _AtomicRequests:
    """WSGI wrapper running one request at a time.

    DynamoDB applies each request's condition and write atomically; moto's backend has no
    locks, so two server threads can interleave inside one UpdateItem (seen here: 77 of 80
    versioned increments survived). Serialising requests restores DynamoDB's per-request
    atomicity while clients still race each other between requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self.lock:
            return list(self.app(environ, start_response))


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    port = free_port()
    app = _AtomicRequests(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


@pytest.fixture
def server_tables(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Fresh app tables in the moto server; yields the settings a Store needs."""
    import requests

    from modelauth.local import create_tables
    from modelauth.store import INDEX_TABLE, dynamodb_client
    from tests.fixtures.schema import SCHEMA

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    client = dynamodb_client()
    tables = create_tables(client, SCHEMA)
    return {"tables": tables, "index_table": INDEX_TABLE, "endpoint": moto_endpoint}
