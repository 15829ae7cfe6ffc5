"""Custom queries, mutations and subscriptions (modelauth.custom) through the Lambda handler on
moto: the rules decide before the handler, which is never called on a refusal; an item rule is
judged against the record the argument names; bad arguments are typed errors; the sample
events `modelauth events` writes for them answer as the rules decide."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.local import create_tables
from modelauth.local.events import LocalConfig, sample_events
from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from modelauth.subscriptions import event_passes
from tests.conftest import load_event
from tests.fixtures import custom_app
from tests.fixtures.custom_schema import SCHEMA

NOT_AUTHORIZED = "Not Authorized to access {} on type {}"


@pytest.fixture
def app(dynamodb: Any) -> Iterator[GraphQLApp]:
    tables = create_tables(dynamodb, SCHEMA)
    custom_app.CALLS.clear()
    yield custom_app.register(GraphQLApp(SCHEMA, Store(dynamodb, tables, token_key=b"test-key")))
    custom_app.CALLS.clear()


def event(caller: str, type_name: str, field: str, arguments: dict[str, Any], *groups: str) -> dict[str, Any]:
    """An AppSync event of ``caller`` (alice, bob: user pools; apikey) for a custom field."""
    base = copy.deepcopy(load_event(f"getTodo.{caller}"))
    base["arguments"] = arguments
    base["info"] = {**base["info"], "parentTypeName": type_name, "fieldName": field, "selectionSetList": []}
    if groups:
        base["identity"]["claims"]["cognito:groups"] = list(groups)
    return base


def call(app: GraphQLApp, caller: str, type_name: str, field: str, *groups: str, **arguments: Any) -> Any:
    return app.resolve(event(caller, type_name, field, arguments, *groups), None)


def create_article(app: GraphQLApp, caller: str = "alice", item_id: str = "a1") -> dict[str, Any]:
    created = call(app, caller, "Mutation", "createArticle", input={"id": item_id, "title": "Hello"})
    assert created["errors"] == [], created
    return dict(created["data"])


def handled() -> list[str]:
    return [name for name, _ in custom_app.CALLS]


def unauthorized(field: str, type_name: str) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"message": NOT_AUTHORIZED.format(field, type_name), "errorType": "Unauthorized"}],
    }


# -- a query without an item ---------------------------------------------------------------------


def test_echo_allowed_for_signed_in_users_and_api_key(app: GraphQLApp) -> None:
    assert call(app, "alice", "Query", "echo", text="hi", times=2) == {"data": "alice: hi hi", "errors": []}
    assert call(app, "apikey", "Query", "echo", text="hi") == {"data": "anonymous: hi", "errors": []}
    principal = custom_app.CALLS[0][1].principal
    assert principal.username == "alice"


def test_echo_denied_by_rule_never_calls_the_handler(app: GraphQLApp) -> None:
    for caller in ("iam-guest", "lambda", "oidc"):
        assert call(app, caller, "Query", "echo", text="hi") == unauthorized("echo", "Query")
    assert handled() == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "echo: missing required argument(s) ['text']"),
        ({"text": None}, "echo: missing required argument(s) ['text']"),
        ({"text": "hi", "loud": True}, "echo: unknown argument(s) ['loud']"),
        ({"text": 3}, "echo: 'text' must be String"),
        ({"text": "hi", "times": "2"}, "echo: 'times' must be"),
        ({"text": "hi", "times": 2**40}, "echo: 'times' must be"),
        ({"text": "hi", "replyTo": "not an email"}, "echo: 'replyTo' must be"),
    ],
)
def test_invalid_arguments_are_bad_request_and_never_reach_the_handler(
    app: GraphQLApp, arguments: dict[str, Any], message: str
) -> None:
    result = call(app, "alice", "Query", "echo", **arguments)
    assert result["data"] is None
    [error] = result["errors"]
    assert error["errorType"] == "BadRequest"
    assert error["message"].startswith(message), error
    assert handled() == []


def test_arguments_must_be_an_object(app: GraphQLApp) -> None:
    bad = event("alice", "Query", "echo", {})
    bad["arguments"] = ["text"]
    assert app.resolve(bad, None)["errors"][0]["errorType"] == "BadRequest"
    assert handled() == []


def test_handler_errors_are_typed_and_never_a_traceback(app: GraphQLApp) -> None:
    own = call(app, "alice", "Query", "echo", text="boom")
    assert own == {
        "data": None,
        "errors": [{"message": "echo: boom is not echoed", "errorType": "BadRequest"}],
    }
    crash = call(app, "alice", "Query", "echo", text="crash")
    assert crash == {"data": None, "errors": [{"message": "Internal error", "errorType": "InternalFailure"}]}


def test_a_static_group_rule(app: GraphQLApp) -> None:
    assert call(app, "alice", "Query", "articleStats") == unauthorized("articleStats", "Query")
    assert handled() == []
    assert call(app, "alice", "Query", "articleStats", "Admin") == {"data": 42, "errors": []}


# -- a mutation judged against the item its argument names ---------------------------------------


def test_owner_publishes_own_article_and_gets_it_as_a_read(app: GraphQLApp, dynamodb: Any) -> None:
    create_article(app)
    result = call(app, "alice", "Mutation", "publishArticle", id="a1")
    assert result["errors"] == []
    assert result["data"]["published"] is True
    assert result["data"]["owner"] == "alice"  # shown as reads show it
    assert result["data"]["__typename"] == "Article"
    assert result["data"]["_version"] == 2
    [(name, handler_call)] = custom_app.CALLS
    assert name == "publishArticle"
    assert handler_call.item is not None
    assert handler_call.item["title"] == "Hello"
    assert handler_call.principal.username == "alice"
    stored = dynamodb.get_item(TableName="Article", Key={"id": {"S": "a1"}})["Item"]
    assert stored["published"] == {"BOOL": True}


def test_not_the_callers_item_is_unauthorized_and_the_handler_never_runs(
    app: GraphQLApp, dynamodb: Any
) -> None:
    create_article(app)
    assert call(app, "bob", "Mutation", "publishArticle", id="a1") == unauthorized(
        "publishArticle", "Mutation"
    )
    assert call(app, "bob", "Query", "articleDraft", id="a1") == unauthorized("articleDraft", "Query")
    assert handled() == []
    stored = dynamodb.get_item(TableName="Article", Key={"id": {"S": "a1"}})["Item"]
    assert "published" not in stored


def test_denial_reason_names_the_stored_owner(dynamodb: Any) -> None:
    outcomes: list[Any] = []
    tables = create_tables(dynamodb, SCHEMA)
    app = custom_app.register(
        GraphQLApp(SCHEMA, Store(dynamodb, tables, token_key=b"k"), on_outcome=outcomes.append)
    )
    create_article(app)
    call(app, "bob", "Mutation", "publishArticle", id="a1")
    assert outcomes[-1].allowed is False
    assert "item owner is" in outcomes[-1].reason
    assert "alice" in outcomes[-1].reason
    call(app, "iam-guest", "Query", "echo", text="x")
    assert outcomes[-1].reason.endswith("allows Query.echo")


def test_a_static_rule_grants_without_owning_the_item(app: GraphQLApp) -> None:
    create_article(app)
    result = call(app, "bob", "Mutation", "publishArticle", "Admin", id="a1")
    assert result["errors"] == []
    assert result["data"]["published"] is True


def test_missing_item_is_unauthorized_for_an_item_rule_and_not_found_for_a_static_one(
    app: GraphQLApp,
) -> None:
    assert call(app, "alice", "Mutation", "publishArticle", id="nope") == unauthorized(
        "publishArticle", "Mutation"
    )
    admin = call(app, "bob", "Mutation", "publishArticle", "Admin", id="nope")
    assert admin["errors"][0]["errorType"] == "NotFound"
    assert handled() == []


def test_the_item_argument_is_checked(app: GraphQLApp) -> None:
    result = call(app, "alice", "Mutation", "publishArticle", id="")
    assert result["errors"][0]["errorType"] == "BadRequest"
    result = call(app, "alice", "Mutation", "publishArticle", id="a1", note=["x"])
    assert result["errors"][0] == {
        "message": "publishArticle: 'note' must be String (at most 64 KiB)",
        "errorType": "BadRequest",
    }
    assert handled() == []


def test_query_with_item_rule(app: GraphQLApp) -> None:
    create_article(app)
    assert call(app, "alice", "Query", "articleDraft", id="a1") == {"data": "draft of Hello", "errors": []}


def test_the_write_is_conditioned_on_the_item_that_was_judged(dynamodb: Any) -> None:
    """update_item writes only the version that was judged: a change in between is a conflict,
    never a write over an item no longer judged (here: given to bob meanwhile)."""
    tables = create_tables(dynamodb, SCHEMA)
    store = Store(dynamodb, tables, token_key=b"k")
    app = GraphQLApp(SCHEMA, store)
    create_article(app)

    @app.operation("publishArticle")
    def publish(call_: Any) -> Any:
        dynamodb.update_item(
            TableName="Article",
            Key={"id": {"S": "a1"}},
            UpdateExpression="SET #o = :bob, #v = :v",
            ExpressionAttributeNames={"#o": "owner", "#v": "_version"},
            ExpressionAttributeValues={":bob": {"S": "b0b::bob"}, ":v": {"N": "7"}},
        )
        return call_.update_item({"published": True})

    result = call(app, "alice", "Mutation", "publishArticle", id="a1")
    assert result["data"] is None
    assert result["errors"][0]["errorType"] in ("Unauthorized", "ConflictUnhandled")
    stored = dynamodb.get_item(TableName="Article", Key={"id": {"S": "a1"}})["Item"]
    assert "published" not in stored


def test_a_handler_is_registered_once_for_a_declared_query_or_mutation(app: GraphQLApp) -> None:
    with pytest.raises(ValueError, match="already has a handler"):
        app.operation("articleStats")(lambda call_: 0)
    with pytest.raises(ValueError, match="not a custom query or mutation"):
        app.operation("onPublishArticle")(lambda call_: 0)
    with pytest.raises(ValueError, match="custom operation"):
        app.resolver(type_name="Query", field_name="echo")


def test_missing_handler_is_a_typed_error_after_the_rules(dynamodb: Any) -> None:
    tables = create_tables(dynamodb, SCHEMA)
    app = GraphQLApp(SCHEMA, Store(dynamodb, tables, token_key=b"k"))
    assert call(app, "alice", "Query", "echo", text="x") == {
        "data": None,
        "errors": [{"message": "No handler for Query.echo", "errorType": "InternalFailure"}],
    }
    assert call(app, "iam-guest", "Query", "echo", text="x") == unauthorized("echo", "Query")


# -- a custom subscription -----------------------------------------------------------------------


def test_custom_subscription_gets_the_models_listen_decision_and_filter(app: GraphQLApp) -> None:
    answer = call(app, "alice", "Subscription", "onPublishArticle")
    assert answer["errors"] == []
    assert answer["data"] is None
    # Article: owners, signed-in readers, Admin: every signed-in user reads every Article
    assert answer["subscriptionFilter"] is None
    assert call(app, "apikey", "Subscription", "onPublishArticle") == unauthorized(
        "onPublishArticle", "Subscription"
    )


def test_custom_subscription_arguments_are_refused(app: GraphQLApp) -> None:
    result = call(app, "alice", "Subscription", "onPublishArticle", owner="bob")
    assert result["errors"][0]["errorType"] == "BadRequest"


def test_custom_subscription_of_an_owner_model_filters_to_the_callers_items(app: GraphQLApp) -> None:
    created = call(app, "alice", "Mutation", "createMemo", input={"id": "m1", "text": "x"})
    assert created["errors"] == []
    alice = call(app, "alice", "Subscription", "onArchiveMemo")
    bob = call(app, "bob", "Subscription", "onArchiveMemo")
    assert alice["errors"] == []
    assert bob["errors"] == []
    archived = call(app, "alice", "Mutation", "archiveMemo", id="m1")
    assert archived["errors"] == []
    assert archived["data"]["archived"] is True
    # the same filter a model subscription of Memo gets: alice hears of it, bob does not
    model_filter = call(app, "alice", "Subscription", "onUpdateMemo")["subscriptionFilter"]
    assert alice["subscriptionFilter"] == model_filter
    assert event_passes(alice["subscriptionFilter"], archived["data"]) is True
    assert event_passes(bob["subscriptionFilter"], archived["data"]) is False
    assert call(app, "bob", "Mutation", "archiveMemo", id="m1") == unauthorized("archiveMemo", "Mutation")


def test_sample_events_of_custom_operations_answer_as_the_rules_decide(dynamodb: Any) -> None:
    events = sample_events(SCHEMA, LocalConfig())
    assert events["publishArticle.userPools.bob.json"]["arguments"] == {"id": "article-userpools-alice"}
    assert events["echo.apiKey.json"]["arguments"] == {"text": "text by apiKey"}
    assert "onPublishArticle.userPools.alice.json" in events
    assert "articleStats.apiKey.json" not in events
    tables = create_tables(dynamodb, SCHEMA)
    app = custom_app.register(GraphQLApp(SCHEMA, Store(dynamodb, tables, token_key=b"k")))
    assert app.resolve(events["createArticle.userPools.alice.json"], None)["errors"] == []
    assert app.resolve(events["publishArticle.userPools.alice.json"], None)["errors"] == []
    [error] = app.resolve(events["publishArticle.userPools.bob.json"], None)["errors"]
    assert error["errorType"] == "Unauthorized"
    assert app.resolve(events["articleStats.userPools.alice.json"], None)["data"] == 42  # alice: every group
    assert app.resolve(events["echo.apiKey.json"], None)["data"] == "anonymous: text by apiKey"
