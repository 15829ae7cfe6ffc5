"""The local endpoint, for attacks made over its HTTP and WebSocket interfaces: one embedded
backend (tests/local/conftest.py's, with its users) and server per test module, so the moto
state that the functional fixtures reset around other tests is never shared with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.local.conftest import Client, embedded_backend, local_server, make_clients, template
from tests.local.test_subscriptions_ws import realtime

__all__ = ["backend", "clients", "realtime", "server", "template"]


@pytest.fixture(scope="module")
def backend(template: Any) -> Iterator[Any]:
    with embedded_backend(template) as backend:
        yield backend


@pytest.fixture(scope="module")
def clients(server: Any, backend: Any) -> dict[str, Client]:
    return make_clients(server, backend)


@pytest.fixture(scope="module")
def server(template: Any, backend: Any) -> Iterator[Any]:
    with local_server(template, backend) as server:
        yield server
