"""What the tests of secondary indexes and custom identifiers (tests/fixtures/keys.py) share: a
moto store with the schema's tables, its GraphQL callers, and the items they seed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from tests.fixtures.keys import SCHEMA
from tests.functional.helpers import ALICE, BOB, CAROL, Client

__all__ = ["API_KEY", "ORDERS", "TASKS", "graphql_clients", "keys_app", "keys_store"]

API_KEY = {"x-api-key": "da2-fixture"}
#: (owner, title, status, priority), created in this order: alice open 1, open 3, done 2; bob open 2
TASKS = [
    ("alice", "a-open-1", "open", 1),
    ("alice", "a-done-2", "done", 2),
    ("bob", "b-open-2", "open", 2),
    ("alice", "a-open-3", "open", 3),
]
A, B = "a@example.com", "b@example.com"
#: (owner, customerEmail, orderId): bob's o-3 is in alice's email partition on purpose
ORDERS = [("alice", A, "o-1"), ("alice", A, "o-2"), ("bob", A, "o-3"), ("bob", B, "o-1")]


@contextmanager
def keys_store() -> Iterator[Store]:
    """A store on moto with the tables of tests/fixtures/keys.py."""
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        yield Store(client, create_tables(client, SCHEMA), token_key=b"k")


@contextmanager
def keys_app() -> Iterator[GraphQLApp]:
    with keys_store() as store:
        yield GraphQLApp(SCHEMA, store)


def graphql_clients(app: GraphQLApp) -> dict[str, Client]:
    """alice and bob (owners), carol (Admin) and the API key, as GraphQL callers."""
    return {
        "alice": Client(app, ALICE),
        "bob": Client(app, BOB),
        "carol": Client(app, CAROL),
        "api_key": Client(app, None, "API Key Authorization", API_KEY),
    }
