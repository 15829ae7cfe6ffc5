"""The local endpoint, for attacks made over its HTTP and WebSocket interfaces: one embedded
backend and server per test module (as tests/local/conftest.py starts them), so the moto state
that the functional fixtures reset around other tests is never shared with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.local.conftest import template
from tests.local.test_subscriptions_ws import realtime

__all__ = ["backend", "realtime", "server", "template"]


@pytest.fixture(scope="module")
def backend(template: Any) -> Iterator[Any]:
    from appschema import SCHEMA
    from modelauth.sandbox import Backend

    backend = Backend.embedded(template, SCHEMA)
    yield backend
    backend.stop()


@pytest.fixture(scope="module")
def server(template: Any, backend: Any) -> Iterator[Any]:
    from modelauth.server import LocalServer

    with LocalServer(template, backend, port=0, log=None) as server:
        yield server
