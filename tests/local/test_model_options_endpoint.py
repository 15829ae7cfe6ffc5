"""Subscription arguments and levels through the local AppSync engine: the generated SDL
validates the arguments, the resolver Lambda (on moto) narrows the filter, and the engine
delivers only what the filter lets through, as AppSync does. Inline schema."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from modelauth.local import create_tables
from modelauth.local.appsync import Invocation, LocalAppSync, RequestAuth, Subscription
from modelauth.resolvers import GraphQLApp
from modelauth.rules import Field, Model, Schema, allow, root_fields
from modelauth.sdl import render
from modelauth.store import Store
from tests.functional.helpers import ALICE, BOB

NOTE = Model("Note", fields=[Field("body"), Field("rank", type="Int")], rules=[allow.owner()])
SHOUT = Model("Shout", fields=[Field("body")], rules=[allow.owner()], subscriptions="public")
SCHEMA = Schema([NOTE, SHOUT.disable_operations(["onDelete"])])
POOLS = "AMAZON_COGNITO_USER_POOLS"
AS_ALICE = RequestAuth(POOLS, ALICE, "alice")
AS_BOB = RequestAuth(POOLS, BOB, "bob")


@pytest.fixture
def engine(backend: Any) -> LocalAppSync:
    """The engine over the session's embedded moto (its own tables: ``mock_aws`` here would
    reset the moto state the session's endpoint and user pool serve from)."""
    client = backend.client("dynamodb")
    prefix = f"options-{uuid.uuid4().hex[:8]}-"
    tables = create_tables(client, SCHEMA, {m.name: prefix + m.name for m in SCHEMA.models})
    app = GraphQLApp(SCHEMA, Store(client, tables, token_key=b"k"))
    resolvers = {(r.type_name, r.field_name): "Fn" for m in SCHEMA.models for r in root_fields(m)}
    return LocalAppSync(
        render(SCHEMA),
        default_mode=POOLS,
        resolvers=resolvers,
        invoke=lambda _fn, event: Invocation(app.resolve(event, None)),
    )


def subscribe(engine: LocalAppSync, auth: RequestAuth, query: str) -> Subscription:
    result = engine.subscribe({"query": query}, auth, headers={}, source_ip="10.0.0.1")
    assert isinstance(result, Subscription), getattr(result, "body", result)
    return result


def create(engine: LocalAppSync, auth: RequestAuth, model: str, **fields: Any) -> dict[str, Any]:
    """The mutation's result as the engine publishes it (its selection: AppSync filters what the
    mutation selected, so it selects the stored owner the rules' filter compares)."""
    published: list[dict[str, Any]] = []
    engine.publish = lambda _mutation, result: published.append(result)
    query = (
        f"mutation($in: Create{model}Input!) {{ create{model}(input: $in) {{ id owner _storedOwner body }} }}"
    )
    response = engine.execute(
        {"query": query, "variables": {"in": fields}}, auth, headers={}, source_ip="10.0.0.1"
    )
    assert "errors" not in response.body, response.body
    [result] = published
    return result


def test_an_owner_argument_naming_bob_delivers_alice_nothing(engine: LocalAppSync) -> None:
    sub = subscribe(engine, AS_ALICE, 'subscription { onCreateNote(owner: "bob") { id owner } }')
    own = subscribe(engine, AS_ALICE, 'subscription { onCreateNote(owner: "alice") { id owner } }')
    bobs = create(engine, AS_BOB, "Note", body="bob's")
    alices = create(engine, AS_ALICE, "Note", body="alice's")
    assert engine.deliver(sub, bobs) is None
    assert engine.deliver(sub, alices) is None
    assert engine.deliver(own, bobs) is None
    assert engine.deliver(own, alices) is not None


def test_a_filter_argument_narrows_alices_own_events(engine: LocalAppSync) -> None:
    sub = subscribe(
        engine,
        AS_ALICE,
        'subscription { onCreateNote(filter: {or: [{owner: {eq: "bob"}}, {body: {beginsWith: "a"}}]}) '
        "{ id body } }",
    )
    assert engine.deliver(sub, create(engine, AS_BOB, "Note", body="a-bob")) is None
    assert engine.deliver(sub, create(engine, AS_ALICE, "Note", body="b-alice")) is None
    delivered = engine.deliver(sub, create(engine, AS_ALICE, "Note", body="a-alice"))
    assert delivered is not None
    assert delivered["data"]["onCreateNote"]["body"] == "a-alice"


def test_an_argument_the_sdl_does_not_have_fails_validation(engine: LocalAppSync) -> None:
    result = engine.subscribe(
        {"query": 'subscription { onCreateNote(editors: "x") { id } }'}, AS_ALICE, headers={}, source_ip="1"
    )
    assert not isinstance(result, Subscription)
    assert result.body["errors"]


def test_public_subscribers_hear_every_shout_and_disabled_ones_do_not_exist(engine: LocalAppSync) -> None:
    sub = subscribe(engine, AS_BOB, "subscription { onCreateShout { id body } }")
    assert sub.filter is None
    assert engine.deliver(sub, create(engine, AS_ALICE, "Shout", body="hi")) is not None
    result = engine.subscribe(
        {"query": "subscription { onDeleteShout { id } }"}, AS_BOB, headers={}, source_ip="1"
    )
    assert not isinstance(result, Subscription)
    assert "onDeleteShout" in str(result.body["errors"])
