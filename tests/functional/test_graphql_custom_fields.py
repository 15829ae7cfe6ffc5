"""Fields that are not a model's: registered with GraphQLApp.resolver, answered by Powertools'
AppSyncResolver with the arguments as keywords, after the caller has been parsed."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest

from modelauth.errors import Unauthorized
from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from tests.conftest import FIXTURE_SCHEMA, PROJECT, ROOT, load_event
from tests.fixtures.schema import SCHEMA


@pytest.fixture
def app(dynamodb: Any) -> GraphQLApp:
    app = GraphQLApp(SCHEMA, Store(dynamodb, {"Todo": "Todo"}, token_key=b"test-key"))

    @app.resolver(type_name="Query", field_name="whoAmI")
    def who_am_i(greeting: str = "hello") -> str:
        return f"{greeting} {app.principal.username}"

    @app.resolver(type_name="Mutation", field_name="adminOnly")
    def admin_only() -> bool:
        if "Admin" not in app.principal.groups:
            raise Unauthorized("Not Authorized", reason="adminOnly needs the Admin group")
        return True

    return app


def event_for(type_name: str, field_name: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("getTodo.alice"))
    event["info"] = {**event["info"], "parentTypeName": type_name, "fieldName": field_name}
    event["arguments"] = arguments
    return event


def test_a_custom_field_gets_its_arguments_and_the_parsed_caller(app: GraphQLApp) -> None:
    assert app.resolve(event_for("Query", "whoAmI", {"greeting": "hi"}), None) == {
        "data": "hi alice",
        "errors": [],
    }
    assert app.resolve(event_for("Query", "whoAmI", None), None)["data"] == "hello alice"


def test_a_custom_resolvers_denial_is_a_typed_error(app: GraphQLApp) -> None:
    result = app.resolve(event_for("Mutation", "adminOnly", {}), None)
    assert result == {
        "data": None,
        "errors": [
            {"message": "Not Authorized to access adminOnly on type Mutation", "errorType": "Unauthorized"}
        ],
    }


def test_a_malformed_identity_is_refused_before_a_custom_resolver_runs(app: GraphQLApp) -> None:
    event = event_for("Query", "whoAmI", {})
    event["identity"]["claims"]["sub"] = "someone-else"  # disagrees with identity.sub
    result = app.resolve(event, None)
    assert result["data"] is None
    assert result["errors"][0]["errorType"] == "Unauthorized"


def test_an_unregistered_field_is_still_unknown(app: GraphQLApp) -> None:
    result = app.resolve(event_for("Query", "notThere", {}), None)
    assert result["errors"] == [{"message": "Unknown field Query.notThere", "errorType": "BadRequest"}]


def test_a_model_field_cannot_be_taken_over(app: GraphQLApp) -> None:
    with pytest.raises(ValueError, match="is a model field"):
        app.resolver(type_name="Query", field_name="getTodo")


def test_the_handler_does_not_import_powertools_event_handler_without_custom_fields() -> None:
    """Model fields are dispatched without it: its import is a third of the cold start beyond boto3."""
    code = "import sys, app\nprint('aws_lambda_powertools.event_handler' in sys.modules)\n"
    env_path = f"{ROOT / 'src'}:{ROOT}:{PROJECT / 'functions' / 'graphql'}"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PYTHONPATH": env_path,
            "AWS_DEFAULT_REGION": "us-east-1",
            "PATH": "",
            "MODELAUTH_SCHEMA": FIXTURE_SCHEMA,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"
