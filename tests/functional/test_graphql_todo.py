"""The GraphQL resolver end to end on moto: events/*.json in, the JS-step envelope out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from tests.conftest import load_event
from tests.fixtures.schema import SCHEMA, TODO

ALICE_SUB = "a1b2c3d4-0000-4000-8000-00000000a11c"
BOB_SUB = "b0b0b0b0-0000-4000-8000-000000000b0b"
NOT_AUTHORIZED = "Not Authorized to access {} on type {}"


@pytest.fixture
def app(dynamodb: Any) -> GraphQLApp:
    return GraphQLApp(SCHEMA, Store(dynamodb, {"Todo": "Todo"}, token_key=b"test-key"))


def call(app: GraphQLApp, name: str, **arguments: Any) -> dict[str, Any]:
    event = load_event(name)
    if arguments:
        event["arguments"] = {**event["arguments"], **arguments}
    return app.resolve(event, None)


def seed_alice_todo(app: GraphQLApp) -> dict[str, Any]:
    result = call(app, "createTodo.alice", input={"id": "todo-alice-1", "content": "buy milk"})
    assert result["errors"] == []
    return result["data"]


def assert_unauthorized(result: dict[str, Any], field: str, type_name: str) -> None:
    assert result["data"] is None
    assert result["errors"] == [
        {"message": NOT_AUTHORIZED.format(field, type_name), "errorType": "Unauthorized"}
    ]


def test_create_fills_owner_as_sub_and_username_and_returns_username(app: GraphQLApp, dynamodb: Any) -> None:
    result = call(app, "createTodo.alice")
    assert result["errors"] == []
    todo = result["data"]
    assert todo["owner"] == "alice"  # read back as the username part (spec §3.2)
    assert todo["content"] == "buy milk"
    assert todo["_version"] == 1
    assert todo["__typename"] == "Todo"
    stored = dynamodb.get_item(TableName="Todo", Key={"id": {"S": todo["id"]}})["Item"]
    assert stored["owner"] == {"S": f"{ALICE_SUB}::alice"}


def test_owner_can_get_update_and_delete_own_todo(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    got = call(app, "getTodo.alice")
    assert got["errors"] == []
    assert got["data"]["content"] == "buy milk"

    updated = call(app, "updateTodo.alice")
    assert updated["errors"] == []
    assert updated["data"]["done"] is True
    assert updated["data"]["_version"] == 2

    deleted = call(app, "deleteTodo.alice")
    assert deleted["errors"] == []
    assert deleted["data"]["id"] == "todo-alice-1"
    assert call(app, "getTodo.alice") == {"data": None, "errors": []}


@pytest.mark.parametrize(
    ("event", "field", "type_name"),
    [
        ("getTodo.bob", "getTodo", "Query"),
        ("updateTodo.bob", "updateTodo", "Mutation"),
        ("deleteTodo.bob", "deleteTodo", "Mutation"),
    ],
)
def test_another_user_is_unauthorized_on_alices_todo(
    app: GraphQLApp, event: str, field: str, type_name: str
) -> None:
    seed_alice_todo(app)
    assert_unauthorized(call(app, event), field, type_name)
    # and nothing changed
    assert call(app, "getTodo.alice")["data"]["content"] == "buy milk"


def test_list_shows_each_user_only_their_own(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    call(app, "createTodo.bob")
    alice = call(app, "listTodos.alice")["data"]
    bob = call(app, "listTodos.bob")["data"]
    assert [t["content"] for t in alice["items"]] == ["buy milk"]
    assert [t["content"] for t in bob["items"]] == ["walk the dog"]
    assert alice["nextToken"] is None


def test_api_key_can_read_everything_but_not_create(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    call(app, "createTodo.bob")
    listed = call(app, "listTodos.apikey")
    assert listed["errors"] == []
    assert sorted(t["content"] for t in listed["data"]["items"]) == ["buy milk", "walk the dog"]
    assert call(app, "getTodo.apikey")["data"]["owner"] == "alice"
    assert_unauthorized(call(app, "createTodo.apikey"), "createTodo", "Mutation")


def test_foreign_owner_on_create_is_rejected_not_rewritten(app: GraphQLApp) -> None:
    result = call(app, "createTodo.alice-foreign-owner")
    assert_unauthorized(result, "createTodo", "Mutation")
    assert call(app, "listTodos.bob")["data"]["items"] == []


def test_get_missing_todo_is_null_without_error(app: GraphQLApp) -> None:
    assert call(app, "getTodo.bob", id="does-not-exist") == {"data": None, "errors": []}


def test_update_missing_todo_is_unauthorized_under_owner_rule(app: GraphQLApp) -> None:
    assert_unauthorized(call(app, "updateTodo.alice"), "updateTodo", "Mutation")


def test_owner_cannot_reassign_todo_by_default(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    result = call(app, "updateTodo.alice", input={"id": "todo-alice-1", "owner": f"{BOB_SUB}::bob"})
    assert result == {
        "data": None,
        "errors": [{"message": "Unauthorized on [owner]", "errorType": "Unauthorized"}],
    }
    assert call(app, "getTodo.alice")["data"]["owner"] == "alice"


def test_resending_own_owner_value_on_update_is_a_no_op(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    result = call(
        app, "updateTodo.alice", input={"id": "todo-alice-1", "owner": "alice", "content": "oat milk"}
    )
    assert result["errors"] == []
    assert result["data"]["owner"] == "alice"
    assert result["data"]["content"] == "oat milk"


def test_stale_version_is_a_conflict_with_the_current_version(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    call(app, "updateTodo.alice", input={"id": "todo-alice-1", "content": "v2", "_version": 1})
    result = call(app, "updateTodo.alice", input={"id": "todo-alice-1", "content": "lost", "_version": 1})
    assert result["data"] is None
    [error] = result["errors"]
    assert error["errorType"] == "ConflictUnhandled"
    assert error["errorInfo"] == {"_version": 2, "id": "todo-alice-1"}


def test_plain_direct_resolver_event_and_js_step_event_agree(app: GraphQLApp) -> None:
    seed_alice_todo(app)
    plain = call(app, "getTodo.bob")
    with_auth_type = load_event("getTodo.bob") | {"authType": "User Pool Authorization"}
    assert app.resolve(with_auth_type, None) == plain


MALFORMED: list[tuple[str, Any, str]] = [
    ("missing identity key", lambda e: e.pop("identity"), "Unauthorized"),
    ("identity is a string", lambda e: e.update(identity="alice"), "Unauthorized"),
    ("unknown field name", lambda e: e["info"].update(fieldName="dropTables"), "BadRequest"),
    ("id is a number", lambda e: e.update(arguments={"id": 42}), "BadRequest"),
    ("id missing", lambda e: e.update(arguments={}), "BadRequest"),
    ("unknown argument", lambda e: e["arguments"].update(evil=True), "BadRequest"),
    ("arguments is a list", lambda e: e.update(arguments=[1, 2]), "BadRequest"),
    ("info missing", lambda e: e.pop("info"), "BadRequest"),
    ("authType lies about the mode", lambda e: e.update(authType="API Key Authorization"), "Unauthorized"),
    ("authType unknown", lambda e: e.update(authType="Root Authorization"), "Unauthorized"),
]


@pytest.mark.parametrize(("case", "mutate", "error_type"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_get_event_gets_a_typed_error(
    app: GraphQLApp, case: str, mutate: Any, error_type: str
) -> None:
    seed_alice_todo(app)
    event = copy.deepcopy(load_event("getTodo.alice"))
    mutate(event)
    result = app.resolve(event, None)
    assert result["data"] is None
    [error] = result["errors"]
    assert error["errorType"] == error_type
    assert "Traceback" not in error["message"]


@pytest.mark.parametrize(
    "bad_input",
    [
        {"content": 5},
        {"done": "yes"},
        {"content": "x", "secret": "y"},
        {"content": "x" * 70_000},
        "not an object",
    ],
)
def test_create_with_wrong_argument_types_is_a_bad_request(app: GraphQLApp, bad_input: Any) -> None:
    result = call(app, "createTodo.alice", input=bad_input)
    assert result["data"] is None
    assert result["errors"][0]["errorType"] == "BadRequest"
    assert call(app, "listTodos.alice")["data"]["items"] == []


def test_not_an_event_at_all_is_a_bad_request(app: GraphQLApp) -> None:
    assert app.resolve(["not", "an", "event"], None)["errors"][0]["errorType"] == "BadRequest"


def test_todo_model_rules_are_owner_plus_public_read() -> None:
    assert [r.describe() for r in TODO.rules] == ["owner(owner) via userPools", "public via apiKey"]
