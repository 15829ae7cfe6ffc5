"""Per-model options (issue 19.3): disable_operations, subscription levels and subscription
arguments, from the schema to the SDL, the template's resolvers and the events; decided
without AWS (the functional and local tests send them through the handlers)."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema
from graphql import build_schema as _build

from modelauth.explain import explain_request
from modelauth.identity import AuthMode, Principal
from modelauth.local.appsync import APPSYNC_PRELUDE
from modelauth.local.events import LocalConfig, sample_events
from modelauth.local.generate import region_lines
from modelauth.rules import Field, Model, Operation, Schema, SchemaError, allow, root_fields
from modelauth.sdl import render
from modelauth.subscriptions import event_passes, narrow, owner_arguments


def build_schema(sdl: str) -> GraphQLSchema:
    return _build(APPSYNC_PRELUDE + sdl)


ALL = ("get", "list", "create", "update", "delete", "onCreate", "onUpdate", "onDelete")


def todo(**options: object) -> Model:
    return Model(
        "Todo", fields=[Field("content"), Field("rank", type="Int")], rules=[allow.owner()], **options
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("names", "left"),
    [
        ([], ALL),
        (["queries"], ("create", "update", "delete", "onCreate", "onUpdate", "onDelete")),
        (["mutations"], ("get", "list")),  # each subscription follows its mutation
        (["subscriptions"], ("get", "list", "create", "update", "delete")),
        (["get", "list"], ("create", "update", "delete", "onCreate", "onUpdate", "onDelete")),
        (["delete"], ("get", "list", "create", "update", "onCreate", "onUpdate")),
        (["onCreate", "onUpdate"], ("get", "list", "create", "update", "delete", "onDelete")),
        (["queries", "subscriptions", "update"], ("create", "delete")),
    ],
)
def test_disable_operations_decision_table(names: list[str], left: tuple[str, ...]) -> None:
    model = todo().disable_operations(names)
    kinds = tuple(f.field_name.removesuffix("Todo").removesuffix("Todos") for f in root_fields(model))
    expected = {"get": "get", "list": "list", "create": "create", "update": "update", "delete": "delete"}
    assert kinds == tuple(expected.get(k, k) for k in left)
    assert all(model.is_enabled(k) == (k in left) for k in ALL)


@pytest.mark.parametrize("bad", [["mutation"], ["read"], ["listen"], [3], "mutations"])
def test_disable_operations_refuses_names_gen2_does_not_know(bad: object) -> None:
    with pytest.raises(SchemaError, match="disable_operations"):
        todo().disable_operations(bad)  # type: ignore[arg-type]


def test_subscription_levels() -> None:
    assert [f.field_name for f in root_fields(todo(subscriptions="off"))][-1] == "deleteTodo"
    assert len(root_fields(todo(subscriptions="public"))) == 8
    with pytest.raises(SchemaError, match="subscriptions must be one of on, public, off"):
        todo(subscriptions="private")


def test_disabled_operations_vanish_from_the_sdl_and_the_template() -> None:
    note = Model("Note", rules=[allow.owner()], subscriptions="off")
    schema = Schema([todo().disable_operations(["delete", "list"]), note])
    sdl = render(schema)
    build_schema(sdl)  # still valid GraphQL
    for gone in (
        "deleteTodo",
        "listTodos",
        "onDeleteTodo",
        "onCreateNote",
        "ModelSubscriptionNoteFilterInput",
    ):
        assert gone not in sdl
    assert "createTodo(input: CreateTodoInput!, condition: ModelTodoConditionInput)" in sdl
    signature = "onCreateTodo(filter: ModelSubscriptionTodoFilterInput, owner: String): Todo"
    assert f'{signature} @aws_subscribe(mutations: ["createTodo"])' in sdl
    resolvers = "\n".join(region_lines(schema)["resolvers"])
    assert "deleteTodo" not in resolvers
    assert "listTodos" not in resolvers
    assert "onCreateNote" not in resolvers
    assert "createTodo" in resolvers
    assert "onCreateTodo" in resolvers
    assert "getNote" in resolvers


def test_a_schema_without_any_mutation_or_subscription_is_valid_graphql() -> None:
    sdl = render(Schema([todo().disable_operations(["mutations"])]))
    schema = build_schema(sdl)
    assert schema.mutation_type is None
    assert schema.subscription_type is None
    assert "mutation:" not in sdl
    assert "subscription:" not in sdl


def test_disabled_operations_have_no_events() -> None:
    events = sample_events(Schema([todo().disable_operations(["update", "get"])]), LocalConfig())
    names = " ".join(events)
    assert "createTodo" in names
    assert "updateTodo" not in names
    assert "getTodo" not in names


def test_explain_says_a_disabled_operation_does_not_exist() -> None:
    alice = Principal(AuthMode.USER_POOLS, sub="A1", username="alice")
    result = explain_request(
        alice, todo().disable_operations(["delete"]), Operation.DELETE, item={"id": "t1"}
    )
    assert not result.allowed
    assert result.stage == "schema (disabled operation)"
    assert "disables delete" in result.reason


def test_public_subscriptions_reach_every_mode_the_rules_name() -> None:
    model = Model(
        "Feed", rules=[allow.owner(), allow.public_api_key().to(["create"])], subscriptions="public"
    )
    sdl = render(Schema([model]))
    line = next(line for line in sdl.splitlines() if line.startswith("  onCreateFeed"))
    assert line.endswith("@aws_cognito_user_pools @aws_api_key")


def test_owner_arguments_are_the_listen_owner_fields() -> None:
    model = Model(
        "Doc",
        rules=[
            allow.owner(),
            allow.owners_defined_in("editors"),
            allow.owner_defined_in("boss").to(["update"]),
        ],
    )
    assert owner_arguments(model) == ("owner", "editors")
    assert owner_arguments(Model("Pub", rules=[allow.public_api_key()])) == ()


MINE = {"filterGroup": [{"filters": [{"fieldName": "_storedOwner", "operator": "eq", "value": "A1::alice"}]}]}
ALICES = {"id": "1", "owner": "alice", "_storedOwner": "A1::alice", "content": "x", "rank": 3}
BOBS = {"id": "2", "owner": "bob", "_storedOwner": "B2::bob", "content": "x", "rank": 3}


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"owner": "bob"},
        {"owner": "alice"},
        {"filter": {"rank": {"gt": 1}}},
        {"filter": {"or": [{"owner": {"eq": "bob"}}, {"rank": {"ge": 0}}]}},
        {"filter": {"and": [{"content": {"beginsWith": "x"}}, {"rank": {"between": [1, 5]}}]}},
        {"filter": {"id": {"in": ["1", "2"]}}, "owner": "bob"},
    ],
)
def test_arguments_only_narrow_the_rules_filter(arguments: dict[str, object]) -> None:
    """Whatever the arguments, bob's item never reaches alice; every filter keeps her rule."""
    narrowed, _ = narrow(todo(), MINE, arguments)
    assert narrowed is not None
    assert not event_passes(narrowed, BOBS)
    for group in narrowed["filterGroup"]:
        assert group["filters"][0] == MINE["filterGroup"][0]["filters"][0]


def test_another_users_owner_argument_yields_nothing() -> None:
    narrowed, names = narrow(todo(), MINE, {"owner": "bob"})
    assert not event_passes(narrowed, ALICES)
    assert not event_passes(narrowed, BOBS)
    assert names == {"owner"}
    mine, _ = narrow(todo(), MINE, {"owner": "alice"})
    assert event_passes(mine, ALICES)


def test_a_filter_narrows_alices_own_events() -> None:
    narrowed, names = narrow(todo(), MINE, {"filter": {"rank": {"lt": 3}}})
    assert not event_passes(narrowed, ALICES)
    assert names == {"rank"}
    assert event_passes(narrow(todo(), MINE, {"filter": {"rank": {"le": 3}}})[0], ALICES)


def test_no_arguments_and_no_rule_filter_is_no_filter() -> None:
    assert narrow(todo(), None, {}) == (None, frozenset())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"filter": "x"}, "must be an object"),
        ({"filter": {"ssn": {"eq": 1}}}, "has no field 'ssn'"),
        ({"filter": {"rank": {"like": 1}}}, "unknown operator 'like'"),
        ({"filter": {"rank": {"between": [1]}}}, "between takes two values"),
        ({"filter": {"rank": {"in": 3}}}, "in takes a list"),
        ({"filter": {"not": {"rank": {"eq": 1}}}}, "'not' is not supported"),
        ({"filter": {"or": []}}, "non-empty list"),
        ({"owner": 3}, "must be a string"),
        ({"filter": {"rank": {"in": [1, 2, 3, 4, 5, 6]}}}, "at most 5 values"),
        ({"filter": {"and": [{"rank": {"ne": i}} for i in range(5)]}}, "rules in one filter"),
        ({"filter": {"or": [{"rank": {"eq": i}} for i in range(11)]}}, "11 filters"),
    ],
)
def test_bad_or_too_wide_arguments_are_refused(arguments: dict[str, object], message: str) -> None:
    from modelauth.errors import BadRequest

    with pytest.raises(BadRequest, match=message):
        narrow(todo(), MINE, arguments)
