"""The local endpoint's fixtures (tests/local/conftest.py), for attacks made over its HTTP and
WebSocket interfaces."""

from tests.local.conftest import backend, clients, server, template
from tests.local.test_subscriptions_ws import realtime

__all__ = ["backend", "clients", "realtime", "server", "template"]
