"""Mutation ``condition`` arguments (Amplify's ``ModelXConditionInput``) on moto: judged in the
same ConditionExpression as the authorization constraint, so a write either meets both or
changes nothing; a caller the rules refuse learns nothing about the condition."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from tests.functional.helpers import ALICE, BOB, CAROL, Client

FAILED = {
    "message": "The conditional request failed",
    "errorType": "DynamoDB:ConditionalCheckFailedException",
}


@pytest.fixture
def alice(graphql_app: GraphQLApp) -> Client:
    client = Client(graphql_app, ALICE)
    client.mutate("createTodo", id="t1", content="buy milk", done=False)
    client.mutate("createPost", id="p1", title="draft", editors=["alice"])
    return client


def _get(client: Client, field: str, item_id: str) -> Any:
    return client.query(field, id=item_id)


@pytest.mark.parametrize(
    ("field", "get", "item_id", "change", "met", "unmet"),
    [
        (
            "updateTodo",
            "getTodo",
            "t1",
            {"done": True},
            {"content": {"eq": "buy milk"}},
            {"content": {"beginsWith": "sell"}},
        ),
        (
            "updatePost",
            "getPost",
            "p1",
            {"body": "x"},
            {"title": {"eq": "draft"}},
            {"and": [{"title": {"eq": "draft"}}, {"body": {"attributeExists": True}}]},
        ),
    ],
    ids=["owner field (one item)", "owners list (index items, transaction)"],
)
def test_an_update_happens_only_when_its_condition_holds(
    alice: Client, field: str, get: str, item_id: str, change: dict[str, Any], met: Any, unmet: Any
) -> None:
    before = _get(alice, get, item_id)
    assert alice.error("Mutation", field, input={"id": item_id, **change}, condition=unmet) == FAILED
    assert _get(alice, get, item_id) == before  # nothing written
    result = alice.call("Mutation", field, input={"id": item_id, **change}, condition=met)
    assert result["errors"] == []
    assert result["data"]["_version"] == 2


def test_a_delete_happens_only_when_its_condition_holds(alice: Client) -> None:
    assert (
        alice.error("Mutation", "deleteTodo", input={"id": "t1"}, condition={"done": {"eq": True}}) == FAILED
    )
    assert _get(alice, "getTodo", "t1") is not None
    deleted = alice.call("Mutation", "deleteTodo", input={"id": "t1"}, condition={"done": {"eq": False}})
    assert deleted["errors"] == []
    assert _get(alice, "getTodo", "t1") is None


def test_a_caller_the_rules_refuse_is_refused_whatever_the_condition(
    alice: Client, graphql_app: GraphQLApp
) -> None:
    """bob gets Unauthorized for both a true and a false condition: no oracle on alice's item."""
    bob = Client(graphql_app, BOB)
    for condition in ({"content": {"eq": "buy milk"}}, {"content": {"eq": "other"}}):
        error = bob.error("Mutation", "updateTodo", input={"id": "t1", "done": True}, condition=condition)
        assert error["errorType"] == "Unauthorized", error
        error = bob.error("Mutation", "deleteTodo", input={"id": "t1"}, condition=condition)
        assert error["errorType"] == "Unauthorized", error
    assert _get(alice, "getTodo", "t1")["done"] is False


def test_a_static_group_write_is_conditioned_too(alice: Client, graphql_app: GraphQLApp) -> None:
    carol = Client(graphql_app, CAROL)  # Admin: every Post
    assert (
        carol.error(
            "Mutation", "updatePost", input={"id": "p1", "body": "y"}, condition={"title": {"eq": "no"}}
        )
        == FAILED
    )
    assert (
        carol.call(
            "Mutation", "updatePost", input={"id": "p1", "body": "y"}, condition={"title": {"eq": "draft"}}
        )["errors"]
        == []
    )


def test_a_condition_and_a_version_are_both_required(alice: Client) -> None:
    stale = alice.error(
        "Mutation",
        "updateTodo",
        input={"id": "t1", "done": True, "_version": 7},
        condition={"done": {"eq": False}},
    )
    assert stale["errorType"] == "ConflictUnhandled"
    unmet = alice.error(
        "Mutation",
        "updateTodo",
        input={"id": "t1", "done": True, "_version": 1},
        condition={"done": {"eq": True}},
    )
    assert unmet == FAILED
    ok = alice.call(
        "Mutation",
        "updateTodo",
        input={"id": "t1", "done": True, "_version": 1},
        condition={"done": {"eq": False}},
    )
    assert ok["errors"] == []


def test_a_create_condition_is_judged_against_nothing_stored(alice: Client) -> None:
    """As in DynamoDB: a new item has no attributes, so only absence conditions hold."""
    assert (
        alice.error("Mutation", "createTodo", input={"id": "t2"}, condition={"content": {"eq": "x"}})
        == FAILED
    )
    assert _get(alice, "getTodo", "t2") is None
    created = alice.call(
        "Mutation",
        "createTodo",
        input={"id": "t2", "content": "x"},
        condition={"content": {"attributeExists": False}},
    )
    assert created["errors"] == []
    again = alice.error(
        "Mutation", "createTodo", input={"id": "t2"}, condition={"content": {"attributeExists": False}}
    )
    assert again == FAILED  # the id exists


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("done", "condition must be an object"),
        ({"nope": {"eq": 1}}, "nope"),
        ({"done": {"near": True}}, "near"),
    ],
)
def test_a_malformed_condition_is_a_bad_request_and_writes_nothing(
    alice: Client, condition: Any, message: str
) -> None:
    error = alice.error("Mutation", "updateTodo", input={"id": "t1", "done": True}, condition=condition)
    assert error["errorType"] == "BadRequest"
    assert message in error["message"]
    assert _get(alice, "getTodo", "t1")["done"] is False
