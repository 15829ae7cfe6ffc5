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


def test_unknown_subscription_arguments_are_rejected(graphql_app: GraphQLApp) -> None:
    event = load_event("onCreateTodo.alice")
    event["arguments"] = {"editors": "bob"}  # Todo has no such owner field
    assert graphql_app.resolve(event, None)["errors"][0]["errorType"] == "BadRequest"


def test_an_owner_argument_naming_bob_only_narrows_alices_filter(graphql_app: GraphQLApp) -> None:
    event = load_event("onCreateTodo.alice")
    event["arguments"] = {"owner": "bob"}
    narrowed = graphql_app.resolve(event, None)["subscriptionFilter"]
    alice_rule = owner_filter(f"{ALICE_SUB}::alice", ALICE_SUB, "alice")["filterGroup"][0]["filters"][0]
    assert narrowed == {
        "filterGroup": [{"filters": [alice_rule, {"fieldName": "owner", "operator": "eq", "value": "bob"}]}]
    }


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
