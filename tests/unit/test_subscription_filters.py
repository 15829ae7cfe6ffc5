"""Decision constraint → AppSync enhanced subscription filter: exact shapes and limits."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.identity import AuthMode, Principal
from modelauth.policy import Condition, Constraint, decide
from modelauth.rules import Field, Model, Operation, SchemaError, allow
from modelauth.subscriptions import (
    MAX_CONTAINS_ANY_VALUES,
    MAX_FILTERS,
    MAX_IN_VALUES,
    SubscriptionLimitError,
    check_model,
    event_passes,
    subscription_filter,
)

TODO = Model("Todo", fields=[Field("content")], rules=[allow.owner()])
POST = Model(
    "Post",
    rules=[
        allow.owners_defined_in("editors"),
        allow.groups_defined_in("groups").to(["read"]),
        allow.group("Admin"),
    ],
)
ITEM = Model("Item", rules=[allow.owner("oidc").identity_claim("sub")])


def up(sub: str, username: str, groups: tuple[str, ...] = ()) -> Principal:
    claims: dict[str, Any] = {"sub": sub, "username": username}
    if groups:
        claims["cognito:groups"] = list(groups)
    return Principal(AuthMode.USER_POOLS, sub=sub, username=username, claims=claims, groups=groups)


def listen_filter(principal: Principal, model: Model) -> dict[str, Any] | None:
    decision = decide(principal, model, Operation.LISTEN)
    assert decision.allowed, decision.reason
    return subscription_filter(model, decision.constraint) if decision.constraint else None


def rule(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"fieldName": field, "operator": operator, "value": value}


CASES = [
    pytest.param(
        up("A1", "alice"),
        TODO,
        [[rule("_storedOwner", "in", ["A1::alice", "A1", "alice"])]],
        id="owner: the stored value against the caller's owner values",
    ),
    pytest.param(
        up("B2", "bob", ("Sales",)),
        POST,
        [
            [rule("_storedEditors", "containsAny", ["B2::bob", "B2", "bob"])],
            [rule("groups", "containsAny", ["Sales"])],
        ],
        id="co-owner list or group list",
    ),
    pytest.param(up("C3", "carol", ("Admin",)), POST, None, id="static group: no filter"),
    pytest.param(
        Principal(AuthMode.OIDC, sub="u-42", claims={"sub": "u-42"}),
        ITEM,
        [[rule("owner", "eq", "u-42")]],
        id="oidc custom claim: one value is eq",
    ),
]


@pytest.mark.parametrize(("principal", "model", "groups"), CASES)
def test_listen_constraint_becomes_the_filter(principal: Principal, model: Model, groups: Any) -> None:
    expected = None if groups is None else {"filterGroup": [{"filters": g} for g in groups]}
    assert listen_filter(principal, model) == expected


def test_subscriber_never_receives_another_owners_items() -> None:
    alice_filter = listen_filter(up("A1", "alice"), TODO)
    assert event_passes(alice_filter, {"id": "1", "owner": "alice", "_storedOwner": "A1::alice"})
    assert event_passes(
        alice_filter, {"id": "1", "owner": "alice", "_storedOwner": "alice"}
    )  # legacy, as get
    assert not event_passes(alice_filter, {"id": "2", "owner": "bob", "_storedOwner": "B2::bob"})
    assert not event_passes(alice_filter, {"id": "2", "owner": "alice", "_storedOwner": "Z9::alice"})
    assert not event_passes(alice_filter, {"id": "3", "owner": "alice"})  # not in the payload: not delivered


def test_group_member_receives_only_items_shared_with_their_group() -> None:
    dave_filter = listen_filter(up("D4", "dave", ("Sales",)), POST)
    assert event_passes(dave_filter, {"editors": ["alice"], "groups": ["Sales"]})
    assert not event_passes(dave_filter, {"editors": ["alice"], "groups": ["Ops"]})
    assert not event_passes(dave_filter, {"editors": ["alice"], "groups": None})


def test_caller_without_a_listen_rule_is_denied() -> None:
    model = Model("Secret", rules=[allow.owner().to(["create", "get"])])
    decision = decide(up("A1", "alice"), model, Operation.LISTEN)
    assert not decision.allowed
    assert decision.reason == "no rule for provider user_pools allows listen on Secret"


def test_too_many_caller_groups_refuse_the_subscription_rather_than_widen_it() -> None:
    many = tuple(f"g{n}" for n in range(MAX_CONTAINS_ANY_VALUES + 1))
    decision = decide(up("D4", "dave", many), POST, Operation.LISTEN)
    with pytest.raises(SubscriptionLimitError, match="containsAny"):
        subscription_filter(POST, decision.constraint)  # type: ignore[arg-type]


def test_in_is_limited_to_five_values() -> None:
    values = tuple(f"v{n}" for n in range(MAX_IN_VALUES + 1))
    with pytest.raises(SubscriptionLimitError, match="in"):
        subscription_filter(TODO, Constraint(((Condition("owner", values),),)))


def test_more_filters_than_appsync_allows_is_refused() -> None:
    alternatives = tuple((Condition("owner", (f"o{n}",)),) for n in range(MAX_FILTERS + 1))
    with pytest.raises(SubscriptionLimitError, match="filters"):
        subscription_filter(TODO, Constraint(alternatives))


def test_schema_build_rejects_models_whose_listen_rules_cannot_fit() -> None:
    rules = [allow.owner_defined_in(f"o{n}") for n in range(MAX_FILTERS + 1)]
    with pytest.raises(SchemaError, match="subscription filters"):
        check_model(Model("Wide", rules=rules))


def test_schema_build_accepts_the_app_models() -> None:
    from tests.fixtures.schema import SCHEMA

    for model in SCHEMA.models:
        check_model(model)


def test_a_declared_field_cannot_take_the_name_of_an_owner_fields_stored_value() -> None:
    with pytest.raises(SchemaError, match="managed by modelauth"):
        Model("Todo", fields=[Field("_storedOwner")], rules=[allow.owner()])
    assert Model("Todo", rules=[allow.owner()]).stored_owner_fields == {"owner": "_storedOwner"}
    assert Model("Item", rules=[allow.owner().identity_claim("sub")]).stored_owner_fields == {}
