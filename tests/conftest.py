"""Shared fixtures: events from events/, a moto DynamoDB with the app's tables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

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
    from appschema import SCHEMA
    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client
    from moto import mock_aws

    with mock_aws():
        client = dynamodb_client()
        create_tables(client, SCHEMA)
        yield client


@pytest.fixture
def store(dynamodb: Any) -> Any:
    """A Store over every app table (and the index table) in moto."""
    from appschema import SCHEMA
    from modelauth.local import create_tables
    from modelauth.store import INDEX_TABLE, Store

    return Store(dynamodb, create_tables(dynamodb, SCHEMA), token_key=b"test-key", index_table=INDEX_TABLE)


@pytest.fixture
def graphql_app(store: Any) -> Any:
    """The resolver for every app model, on moto."""
    from appschema import SCHEMA
    from modelauth.resolvers import GraphQLApp

    return GraphQLApp(SCHEMA, store)
