"""The local endpoint's fixtures (tests/local/conftest.py), for the attacks sent to it over HTTP;
each starts only when a test asks for it."""

from tests.local.conftest import backend, clients, server, template  # noqa: F401 - pytest fixtures
