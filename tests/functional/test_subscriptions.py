"""Subscribe-time decisions through the resolver: events/on*.json in, the envelope with the
enhanced filter out; and what the filter lets through from real mutation results."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from modelauth.subscriptions import event_passes
from tests.conftest import load_event
from tests.functional.helpers import ALICE, BOB, Client

ALICE_SUB = "a1b2c3d4-0000-4000-8000-00000000a11c"
BOB_SUB = "b0b0b0b0-0000-4000-8000-000000000b0b"


def subscribe(app: GraphQLApp, name: str) -> dict[str, Any]:
    return app.resolve(load_event(name), None)


def owner_filter(*values: Any) -> dict[str, Any]:
    """The stored owner (``_storedOwner``) among the caller's owner values, as get compares it."""
    rule = {"fieldName": "_storedOwner", "operator": "in", "value": list(values)}
    return {"filterGroup": [{"filters": [rule]}]}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            "onCreateTodo.alice",
            {
                "data": None,
                "errors": [],
                "subscriptionFilter": owner_filter(f"{ALICE_SUB}::alice", ALICE_SUB, "alice"),
            },
        ),
        ("onCreateTodo.apikey", {"data": None, "errors": [], "subscriptionFilter": None}),
        (
            "onCreatePost.bob",
            {
                "data": None,
                "errors": [],
                "subscriptionFilter": {
                    "filterGroup": [
                        {
                            "filters": [
                                {
                                    "fieldName": "_storedEditors",
                                    "operator": "containsAny",
                                    "value": [f"{BOB_SUB}::bob", BOB_SUB, "bob"],
                                }
                            ]
                        }
                    ]
                },
            },
        ),
        (
            "onCreateTicket.lambda",
            {
                "data": None,
                "errors": [],
                "subscriptionFilter": None,  # custom() allows read for every Lambda-authorized caller
            },
        ),
    ],
)
def test_subscribe_allows_with_the_callers_filter(graphql_app: GraphQLApp, event: str, expected: Any) -> None:
    assert subscribe(graphql_app, event) == expected


def test_subscribe_without_a_listen_rule_is_unauthorized(graphql_app: GraphQLApp) -> None:
    assert subscribe(graphql_app, "onUpdateTodo.iam-guest") == {
        "data": None,
        "errors": [
            {
                "message": "Not Authorized to access onUpdateTodo on type Subscription",
                "errorType": "Unauthorized",
            }
        ],
    }


def test_subscription_arguments_other_than_filter_are_rejected(graphql_app: GraphQLApp) -> None:
    event = load_event("onCreateTodo.alice")
    event["arguments"] = {"owner": "bob"}
    assert graphql_app.resolve(event, None)["errors"][0]["errorType"] == "BadRequest"


def subscribe_with(app: GraphQLApp, name: str, filter_input: Any) -> dict[str, Any]:
    """Subscribe with a client's ``filter`` argument (Amplify's onCreate({filter}) sends it)."""
    event = load_event(name)
    event["arguments"] = {"filter": filter_input}
    return app.resolve(event, None)


def test_a_client_filter_only_narrows_the_rules_filter(graphql_app: GraphQLApp) -> None:
    wanted = {"or": [{"content": {"beginsWith": "buy"}}, {"done": {"eq": True}}]}
    answer = subscribe_with(graphql_app, "onCreateTodo.alice", wanted)
    owner = owner_filter(f"{ALICE_SUB}::alice", ALICE_SUB, "alice")["filterGroup"][0]["filters"][0]
    assert answer["subscriptionFilter"] == {
        "filterGroup": [
            {"filters": [owner, {"fieldName": "content", "operator": "beginsWith", "value": "buy"}]},
            {"filters": [owner, {"fieldName": "done", "operator": "eq", "value": True}]},
        ]
    }
    stored = {"_storedOwner": f"{ALICE_SUB}::alice"}
    assert event_passes(answer["subscriptionFilter"], {**stored, "content": "buy milk"})
    assert not event_passes(answer["subscriptionFilter"], {**stored, "content": "sell milk"})
    # someone else's item that matches the client's filter still does not pass
    assert not event_passes(answer["subscriptionFilter"], {"_storedOwner": "bob", "content": "buy"})


def test_a_client_filter_alone_when_the_rules_need_none(graphql_app: GraphQLApp) -> None:
    answer = subscribe_with(graphql_app, "onCreateTodo.apikey", {"content": {"in": ["a", "b"]}})
    assert answer["subscriptionFilter"] == {
        "filterGroup": [{"filters": [{"fieldName": "content", "operator": "in", "value": ["a", "b"]}]}]
    }
    assert subscribe_with(graphql_app, "onCreateTodo.apikey", {})["subscriptionFilter"] is None


@pytest.mark.parametrize(
    ("filter_input", "error_type", "message"),
    [
        ({"ssn": {"eq": "1"}}, "BadRequest", "unknown field or operator 'ssn'"),
        ({"content": {"attributeExists": True}}, "BadRequest", "unknown operator 'attributeExists'"),
        ({"not": {"content": {"eq": "a"}}}, "BadRequest", "unknown field or operator 'not'"),
        ({"content": {"between": ["a"]}}, "BadRequest", "must be a list of 2"),
        ({"content": {"eq": {"x": 1}}}, "BadRequest", "must be a scalar"),
        ({"content": {"in": list("abcdef")}}, "BadRequest", "AppSync allows 5"),
        ({"or": []}, "BadRequest", "matches no event"),
        ({"or": [{"content": {"eq": str(i)}} for i in range(11)]}, "BadRequest", "more than 10"),
        ("content", "BadRequest", "must be an object"),
    ],
)
def test_a_bad_client_filter_is_refused(
    graphql_app: GraphQLApp, filter_input: Any, error_type: str, message: str
) -> None:
    [error] = subscribe_with(graphql_app, "onCreateTodo.alice", filter_input)["errors"]
    assert error["errorType"] == error_type
    assert message in error["message"]


def test_a_client_filter_on_a_field_the_caller_may_not_read_is_refused(graphql_app: GraphQLApp) -> None:
    # Profile.ssn is readable by its owner only: which events arrive would tell bob its value
    event = load_event("onCreateTodo.alice")
    event["info"]["fieldName"] = "onCreateProfile"
    event["arguments"] = {"filter": {"ssn": {"eq": "123-45-6789"}}}
    [error] = graphql_app.resolve(event, None)["errors"]
    assert error["errorType"] == "Unauthorized"
    event["arguments"] = {"filter": {"name": {"eq": "Alice"}}}
    assert graphql_app.resolve(event, None)["errors"] == []


def test_alice_never_receives_bobs_todos(graphql_app: GraphQLApp) -> None:
    alice_filter = subscribe(graphql_app, "onCreateTodo.alice")["subscriptionFilter"]
    alice, bob = (
        Client(graphql_app, {**ALICE, "sub": ALICE_SUB, "claims": {**ALICE["claims"], "sub": ALICE_SUB}}),
        Client(graphql_app, BOB),
    )
    mine = alice.mutate("createTodo", content="mine")
    theirs = bob.mutate("createTodo", content="theirs")
    assert event_passes(alice_filter, mine)
    assert not event_passes(alice_filter, theirs)


def test_mutation_results_null_field_protected_fields_for_subscribers(graphql_app: GraphQLApp) -> None:
    alice = Client(graphql_app, ALICE)
    created = alice.mutate("createProfile", id="pr1", name="Alice", ssn="123-45-6789")
    assert created["ssn"] is None  # what every onCreateProfile subscriber would receive
    assert alice.query("getProfile", id="pr1")["ssn"] == "123-45-6789"
