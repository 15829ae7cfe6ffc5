"""Shared fixtures: events from tests/events/, a moto DynamoDB with the fixture schema's tables.

The library's tests run against the fixture schema (tests/fixtures/schema.py), never against the
example app's models: ``MODELAUTH_SCHEMA`` points every handler and command at it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"
EXAMPLE = ROOT / "example"  # the example project (its own models, template and events)
# The SAM project the library's local/functional tests run: template, functions and SDL for the
# fixture schema (today the example project's files, whose tables match the fixture schema).
PROJECT = EXAMPLE
FIXTURE_SCHEMA = "tests.fixtures.schema:SCHEMA"
os.environ["MODELAUTH_SCHEMA"] = FIXTURE_SCHEMA

# never reach real AWS from tests
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "modelauth")
os.environ.setdefault("POWERTOOLS_DEV", "false")


def load_event(name: str) -> dict[str, Any]:
    """An event from events/, e.g. ``load_event("getTodo.alice")``."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """An in-process moto DynamoDB client with every model's table created."""
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client
    from tests.fixtures.schema import SCHEMA

    with mock_aws():
        client = dynamodb_client()
        create_tables(client, SCHEMA)
        yield client


@pytest.fixture
def store(dynamodb: Any) -> Any:
    """A Store over every app table (and the index table) in moto."""
    from modelauth.local import create_tables
    from modelauth.store import INDEX_TABLE, Store
    from tests.fixtures.schema import SCHEMA

    return Store(dynamodb, create_tables(dynamodb, SCHEMA), token_key=b"test-key", index_table=INDEX_TABLE)


@pytest.fixture
def graphql_app(store: Any) -> Any:
    """The resolver for every app model, on moto."""
    from modelauth.resolvers import GraphQLApp
    from tests.fixtures.schema import SCHEMA

    return GraphQLApp(SCHEMA, store)
