"""Custom identifiers (issue 18.3) through the Lambda handler on moto: an Order keyed by
``customerEmail`` + ``orderId``, got, listed by key condition, updated and deleted by the whole
key, as its owner, another user, the Admin group and the API key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from tests.functional.helpers import CAROL, Client
from tests.functional.keys import ORDERS, A, B, graphql_clients, keys_app

NOT_AUTHORIZED = "Not Authorized to access {} on type {}"


@pytest.fixture
def app() -> Iterator[GraphQLApp]:
    with keys_app() as app:
        yield app


def seed(app: GraphQLApp) -> dict[str, Client]:
    c = graphql_clients(app)
    for who, email, order in ORDERS:
        c[who].mutate("createOrder", customerEmail=email, orderId=order, total=1.5)
    return c


def keys(page: dict[str, Any]) -> list[str]:
    return [f"{i['customerEmail']}/{i['orderId']}" for i in page["items"]]


# caller → (getOrder(A, o-1) allowed, listOrders(customerEmail: A), update/delete of A/o-1 allowed)
DECISIONS = {
    "alice": (True, [f"{A}/o-1", f"{A}/o-2"], True),
    "bob": (False, [f"{A}/o-3"], False),
    "carol": (True, [f"{A}/o-1", f"{A}/o-2", f"{A}/o-3"], True),
    "api_key": (True, [f"{A}/o-1", f"{A}/o-2", f"{A}/o-3"], False),
}


@pytest.mark.parametrize("caller", sorted(DECISIONS))
def test_get_list_update_delete_by_the_whole_key(app: GraphQLApp, caller: str) -> None:
    can_get, listed, can_write = DECISIONS[caller]
    client = seed(app)[caller]
    got = client.call("Query", "getOrder", customerEmail=A, orderId="o-1")
    if can_get:
        assert got["errors"] == []
        assert (got["data"]["customerEmail"], got["data"]["orderId"]) == (A, "o-1")
    else:
        assert got == {
            "data": None,
            "errors": [{"message": NOT_AUTHORIZED.format("getOrder", "Query"), "errorType": "Unauthorized"}],
        }
    assert keys(client.query("listOrders", customerEmail=A)) == listed
    updated = client.call(
        "Mutation", "updateOrder", input={"customerEmail": A, "orderId": "o-1", "total": 9.0}
    )
    deleted = client.call("Mutation", "deleteOrder", input={"customerEmail": A, "orderId": "o-1"})
    if can_write:
        assert updated["errors"] == []
        assert updated["data"]["total"] == 9.0
        assert updated["data"]["_version"] == 2
        assert deleted["errors"] == []
        assert deleted["data"]["orderId"] == "o-1"
        assert Client(app, CAROL).query("getOrder", customerEmail=A, orderId="o-1") is None
    else:
        for result in (updated, deleted):
            assert result["data"] is None
            assert result["errors"][0]["errorType"] == "Unauthorized", result
        stored = Client(app, CAROL).query("getOrder", customerEmail=A, orderId="o-1")
        assert stored["total"] == 1.5  # nothing changed


def test_the_same_order_id_under_two_emails_is_two_items(app: GraphQLApp) -> None:
    carol = seed(app)["carol"]
    assert carol.query("getOrder", customerEmail=B, orderId="o-1")["customerEmail"] == B
    assert carol.query("getOrder", customerEmail=A, orderId="o-1")["customerEmail"] == A
    assert carol.query("getOrder", customerEmail=B, orderId="o-2") is None


def test_list_key_conditions_direction_and_pages(app: GraphQLApp) -> None:
    c = seed(app)
    carol = c["carol"]
    assert keys(carol.query("listOrders", customerEmail=A, sortDirection="DESC")) == [
        f"{A}/o-3",
        f"{A}/o-2",
        f"{A}/o-1",
    ]
    assert keys(carol.query("listOrders", customerEmail=A, orderId={"beginsWith": "o-"}, limit=2))[:2] == [
        f"{A}/o-1",
        f"{A}/o-2",
    ]
    assert keys(carol.query("listOrders", customerEmail=A, orderId={"gt": "o-1"})) == [f"{A}/o-2", f"{A}/o-3"]
    assert keys(carol.query("listOrders", customerEmail=A, orderId={"between": ["o-2", "o-3"]})) == [
        f"{A}/o-2",
        f"{A}/o-3",
    ]
    first = carol.query("listOrders", customerEmail=A, limit=2)
    rest = carol.query("listOrders", customerEmail=A, limit=2, nextToken=first["nextToken"])
    assert keys(first) + keys(rest) == [f"{A}/o-1", f"{A}/o-2", f"{A}/o-3"]
    # without key arguments: alice's list is the owner index's, every email
    assert sorted(keys(c["alice"].query("listOrders"))) == [f"{A}/o-1", f"{A}/o-2"]
    assert sorted(keys(carol.query("listOrders"))) == sorted(f"{e}/{o}" for _, e, o in ORDERS)
    everyone = Client(app, CAROL)
    page = everyone.query("listOrders", limit=1)
    assert len(page["items"]) == 1
    assert page["nextToken"]
    assert len(everyone.query("listOrders", limit=5, nextToken=page["nextToken"])["items"]) == 3


@pytest.mark.parametrize(
    ("field", "arguments", "message"),
    [
        ("listOrders", {"orderId": {"eq": "o-1"}}, "needs the partition key value (customerEmail)"),
        ("listOrders", {"sortDirection": "DESC"}, "needs the partition key value (customerEmail)"),
        ("listOrders", {"customerEmail": A, "total": {"eq": 1}}, "unknown argument(s) ['total']"),
        (
            "listOrders",
            {"customerEmail": A, "orderId": {"eq": 1}},
            "orderId: a key value must be a non-empty string",
        ),
        ("getOrder", {"customerEmail": A}, "missing required argument(s) ['orderId']"),
        ("getOrder", {"id": "x"}, "unknown argument(s) ['id']"),
    ],
)
def test_bad_key_arguments_are_typed_errors(
    app: GraphQLApp, field: str, arguments: dict[str, Any], message: str
) -> None:
    error = Client(app, CAROL).error("Query", field, **arguments)
    assert error["errorType"] == "BadRequest"
    assert message in error["message"], error


def test_a_write_needs_the_whole_key_and_a_create_never_overwrites(app: GraphQLApp) -> None:
    c = seed(app)
    error = c["alice"].error("Mutation", "deleteOrder", input={"customerEmail": A})
    assert error == {"message": "DeleteOrderInput: 'orderId' is required", "errorType": "BadRequest"}
    again = c["carol"].error("Mutation", "createOrder", input={"customerEmail": A, "orderId": "o-1"})
    assert again["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    assert c["carol"].query("getOrder", customerEmail=A, orderId="o-1")["owner"] == "alice"


def test_an_owner_write_is_judged_in_the_condition_expression(app: GraphQLApp) -> None:
    """bob's update of alice's order fails in DynamoDB's condition (no read first)."""
    c = seed(app)
    calls: list[str] = []
    app.store._client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    result = c["bob"].call(
        "Mutation", "updateOrder", input={"customerEmail": A, "orderId": "o-1", "total": 0.0}
    )
    assert result["errors"][0]["errorType"] == "Unauthorized"
    assert calls == ["UpdateItem"]
