"""Per-model options through the GraphQL Lambda handler and the REST API, on moto, with
inline schemas: a disabled operation is refused (typed, before the table), subscription
levels and subscription arguments decide what a subscriber may receive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.local import create_tables
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.rules import Field, Model, Schema, allow
from modelauth.store import Store
from modelauth.subscriptions import event_passes
from tests.authz import proxy_event
from tests.conftest import load_event
from tests.functional.helpers import ALICE, BOB, Client

NOTE = Model("Note", fields=[Field("body"), Field("rank", type="Int")], rules=[allow.owner()])
LOCKED = Model("Locked", fields=[Field("body")], rules=[allow.owner()]).disable_operations(
    ["delete", "list", "onUpdate"]
)
FEED = Model(
    "Feed",
    fields=[Field("body"), Field("secret", rules=[allow.owner()])],
    rules=[allow.owner(), allow.authenticated().to(["read"])],
    subscriptions="public",
)
QUIET = Model("Quiet", fields=[Field("body")], rules=[allow.owner()], subscriptions="off")
MEMO = Model("Memo", fields=[Field("body")], rules=[allow.custom()]).disable_operations(["update", "list"])
SCHEMA = Schema([NOTE, LOCKED, FEED, QUIET, MEMO])


@pytest.fixture
def store() -> Iterator[Store]:
    from moto import mock_aws

    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        yield Store(client, create_tables(client, SCHEMA), token_key=b"test-key")


@pytest.fixture
def app(store: Store) -> GraphQLApp:
    return GraphQLApp(SCHEMA, store)


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    [error] = result["errors"]
    return dict(error)


# -- disable_operations -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parent", "field", "arguments"),
    [
        ("Mutation", "deleteLocked", {"input": {"id": "l1"}}),
        ("Query", "listLockeds", {}),
        ("Subscription", "onUpdateLocked", {}),
        ("Subscription", "onDeleteLocked", {}),  # follows deleteLocked
        ("Subscription", "onCreateQuiet", {}),  # subscriptions="off"
    ],
)
def test_a_disabled_field_is_refused_typed(app: GraphQLApp, parent: str, field: str, arguments: Any) -> None:
    result = Client(app, ALICE).call(parent, field, **arguments)
    assert result["data"] is None
    assert error_of(result)["errorType"] == "OperationDisabled"
    assert "is disabled on" in error_of(result)["message"]


def test_enabled_fields_of_a_model_with_disabled_ones_still_work(app: GraphQLApp, store: Store) -> None:
    alice = Client(app, ALICE)
    created = alice.mutate("createLocked", id="l1", body="x")
    assert created["owner"] == "alice"
    assert alice.query("getLocked", id="l1")["body"] == "x"
    # the refusal came before the table: the item is still there after a delete attempt
    alice.call("Mutation", "deleteLocked", input={"id": "l1"})
    assert store.get(LOCKED, "l1") is not None


def test_a_disabled_operation_is_refused_for_every_caller_even_without_a_rule(app: GraphQLApp) -> None:
    api_key = Client(app, None, auth_type="API Key Authorization")
    assert error_of(api_key.call("Query", "listLockeds"))["errorType"] == "OperationDisabled"


# -- REST ------------------------------------------------------------------------------------------
LAMBDA_ALICE = load_event("rest.getTicket.alice")["requestContext"]["authorizer"]


def send(rest: RestApp, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = rest.resolve(proxy_event(method, path, LAMBDA_ALICE, body), None)
    return response["statusCode"], json.loads(response["body"])


def test_rest_answers_405_with_a_reason_for_a_disabled_operation(store: Store) -> None:
    rest = RestApp(SCHEMA, store)
    assert send(rest, "POST", "/memos", {"id": "m1", "body": "x"})[0] == 201
    assert send(rest, "GET", "/memos/m1")[0] == 200
    for method, path in (("GET", "/memos"), ("PATCH", "/memos/m1")):
        status, body = send(rest, method, path, {"body": "y"} if method == "PATCH" else None)
        assert status == 405
        assert body["errorType"] == "OperationDisabled"
        assert body["message"] in ("list is disabled on Memo", "update is disabled on Memo")
    assert send(rest, "GET", "/memos/m1")[1]["body"] == "x"


# -- subscription levels and arguments ---------------------------------------------------------------
def subscribe(app: GraphQLApp, identity: Any, field: str, **arguments: Any) -> dict[str, Any]:
    return Client(app, identity).call("Subscription", field, **arguments)


def test_public_subscriptions_have_no_filter_but_still_mask_owner_only_fields(app: GraphQLApp) -> None:
    bob = subscribe(app, BOB, "onCreateFeed")
    assert bob == {"data": None, "errors": [], "subscriptionFilter": None}
    created = Client(app, ALICE).mutate("createFeed", body="hello", secret="s3cret")
    assert created["secret"] is None  # what every subscriber receives (spec §2.4)
    refused = subscribe(app, BOB, "onCreateFeed", filter={"secret": {"eq": "s3cret"}})
    assert error_of(refused)["errorType"] == "Unauthorized"


def test_public_subscriptions_still_need_a_mode_the_rules_name(app: GraphQLApp) -> None:
    api_key = Client(app, None, auth_type="API Key Authorization")
    assert error_of(api_key.call("Subscription", "onCreateFeed"))["errorType"] == "Unauthorized"


def test_an_owner_argument_cannot_widen_alices_subscription(app: GraphQLApp) -> None:
    """alice asks for bob's notes: her filter keeps her own rule, and bob's notes never pass."""
    narrowed = subscribe(app, ALICE, "onCreateNote", owner="bob")["subscriptionFilter"]
    bobs = Client(app, BOB).mutate("createNote", body="bob's", rank=1)
    alices = Client(app, ALICE).mutate("createNote", body="alice's", rank=1)
    assert not event_passes(narrowed, bobs)
    assert not event_passes(narrowed, alices)  # owner "bob" and owner alice: nothing
    own = subscribe(app, ALICE, "onCreateNote", owner="alice")["subscriptionFilter"]
    assert event_passes(own, alices)
    assert not event_passes(own, bobs)


def test_a_filter_argument_narrows_and_never_widens(app: GraphQLApp) -> None:
    wide = {"or": [{"owner": {"eq": "bob"}}, {"rank": {"ge": 0}}]}
    narrowed = subscribe(app, ALICE, "onCreateNote", filter=wide)["subscriptionFilter"]
    bobs = Client(app, BOB).mutate("createNote", body="b", rank=5)
    low = Client(app, ALICE).mutate("createNote", body="a", rank=1)
    assert not event_passes(narrowed, bobs)
    assert event_passes(narrowed, low)
    high_only = subscribe(app, ALICE, "onCreateNote", filter={"rank": {"gt": 3}})["subscriptionFilter"]
    assert not event_passes(high_only, low)


def test_a_filter_on_a_field_the_subscriber_cannot_read_is_refused(app: GraphQLApp) -> None:
    """Feed.secret is owner-only; on an "on" model bob would learn it from which events arrive."""
    on_feed = Model("Feed", fields=FEED.fields, rules=FEED.rules)
    event = _event(BOB, "onCreateFeed", {"filter": {"secret": {"eq": "x"}}})
    result = GraphQLApp(Schema([on_feed]), app.store).resolve(event, None)
    assert error_of(result)["errorType"] == "Unauthorized"
    assert error_of(result)["message"] == "Unauthorized on [secret]"


def _event(identity: Any, field: str, arguments: Any) -> dict[str, Any]:
    from modelauth.local import appsync_event

    return appsync_event("Subscription", field, arguments, identity, auth_type="User Pool Authorization")


@pytest.mark.parametrize(
    "arguments",
    [{"filter": {"nope": {"eq": 1}}}, {"filter": {"not": {"rank": {"eq": 1}}}}, {"owner": 5}, {"bogus": 1}],
)
def test_bad_subscription_arguments_are_bad_requests(app: GraphQLApp, arguments: Any) -> None:
    assert error_of(subscribe(app, ALICE, "onCreateNote", **arguments))["errorType"] == "BadRequest"
