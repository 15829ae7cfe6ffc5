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
FIXTURE_SCHEMA = "tests.fixtures.schema:SCHEMA"
os.environ["MODELAUTH_SCHEMA"] = FIXTURE_SCHEMA


def fixture_project(schema_ref: str = FIXTURE_SCHEMA) -> Path:
    """The SAM project the library's tests run (template, functions, SDL): made by `modelauth
    init`, generated from a fixture schema, plus the one hand-written resource a user of these
    models would add (the ``editors`` group that Post's ``groups`` field names)."""
    import atexit
    import io
    import shutil
    import tempfile

    from modelauth.local.generate import generate
    from modelauth.local.scaffold import init
    from modelauth.project import Project, SchemaRef

    root = Path(tempfile.mkdtemp(prefix="modelauth-fixture-project-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    project = root / "fixture"
    init(project, modelauth=str(ROOT), out=io.StringIO())
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"appschema:SCHEMA"', f'"{schema_ref}"'))
    template = project / "template.yaml"
    template.write_text(
        template.read_text().replace(
            "\nResources:\n",
            "\nResources:\n  EditorsGroup:\n    Type: AWS::Cognito::UserPoolGroup\n"
            "    Properties: {UserPoolId: !Ref UserPool, GroupName: editors}\n\n",
            1,
        )
    )
    generate(Project.find(project), SchemaRef.parse(schema_ref).load(), out=io.StringIO())
    return project


PROJECT = fixture_project()

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
