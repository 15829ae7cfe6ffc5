"""Custom identifiers and secondary indexes through the REST handler on moto (issue 18): API
Gateway proxy events as a REST API (payload 1.0, Cognito user-pool authorizer or an API key) and
an HTTP API (payload 2.0, JWT authorizer) deliver them, decided as the GraphQL fields are.

Routes: ``/orders/{customerEmail}/{orderId}``, ``/orders?customerEmail=…&orderId.<op>=…``,
``/tasks/{queryField}/{partition value}?<sortKey>.<op>=…`` (see :mod:`modelauth.rest`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.local import create_tables
from modelauth.rest import RestApp
from modelauth.rules import Field, Model, Schema, allow, index
from modelauth.store import Store
from tests.authz import proxy_event
from tests.conftest import load_event
from tests.fixtures.keys import SCHEMA
from tests.functional.keys import ORDERS, TASKS, A, B, keys_store
from tests.functional.test_custom_identifiers import DECISIONS as ORDER_DECISIONS
from tests.functional.test_secondary_indexes import DECISIONS as TASK_DECISIONS

POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"
#: who → the sub of their user-pool token
SUBS = {"alice": "a1b2c3d4-0000-4000-8000-00000000a11c", "bob": "b0b00000-0000-4000-8000-000000000b0b"}
SUBS["carol"] = "c4c4c4c4-0000-4000-8000-0000000ca401"


def cognito(who: str) -> dict[str, Any]:
    """What a REST API's Cognito user-pool authorizer puts in requestContext.authorizer (an ID
    token's claims, every value a string)."""
    claims = {
        "sub": SUBS[who],
        "iss": POOL,
        "cognito:username": who,
        "aud": "3n4b5urk1ft4fl3mg5e62d9ado",
        "token_use": "id",
        "auth_time": "1767225600",
        "exp": "Fri Jan 01 01:00:00 UTC 2100",
    }
    if who == "carol":
        claims["cognito:groups"] = "Admin"
    return {"claims": claims}


def request(
    who: str, method: str, path: str, query: dict[str, str] | None = None, body: Any = None
) -> dict[str, Any]:
    """A REST (payload 1.0) proxy event from ``who`` (``api_key``: a key API Gateway checked)."""
    event = proxy_event(method, path, None if who == "api_key" else cognito(who), body)
    if who == "api_key":
        event["requestContext"]["identity"]["apiKey"] = "partner-key-1"
    if query:
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


def http_request(who: str, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API (payload 2.0) GET from ``who`` after the JWT authorizer: the path decoded."""
    event = copy.deepcopy(load_event("rest.getTicket.alice-http"))
    claims = {**cognito(who)["claims"], "token_use": "access", "username": who}
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return event


def send(app: RestApp, event: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    response = app.resolve(event, None)
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for key, values in (response.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ",".join(values)
    return response["statusCode"], json.loads(response["body"]), headers


@pytest.fixture
def app() -> Iterator[RestApp]:
    with keys_store() as store:
        yield RestApp(SCHEMA, store)


@pytest.fixture
def seeded(app: RestApp) -> RestApp:
    for who, email, order in ORDERS:
        status, body, _ = send(
            app,
            request(who, "POST", "/orders", body={"customerEmail": email, "orderId": order, "total": 1.5}),
        )
        assert status == 201, body
    for who, title, status_, priority in TASKS:
        body = {"title": title, "status": status_, "priority": priority}
        status, answer, _ = send(app, request(who, "POST", "/tasks", body=body))
        assert status == 201, answer
    return app


def keys(body: dict[str, Any]) -> list[str]:
    return [f"{i['customerEmail']}/{i['orderId']}" for i in body["items"]]


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


# ------------------------------------------------------------------------ custom identifiers


def test_create_answers_the_whole_key_in_location(app: RestApp) -> None:
    event = request("alice", "POST", "/orders", body={"customerEmail": "a b@example.com", "orderId": "o/9"})
    status, body, headers = send(app, event)
    assert (status, body["owner"]) == (201, "alice")
    assert headers["location"] == "/orders/a%20b%40example.com/o%2F9"
    # the Location is the item's path: a REST API delivers it still encoded, and reads it back
    assert send(app, request("alice", "GET", headers["location"]))[:2] == (200, body)


@pytest.mark.parametrize("caller", sorted(ORDER_DECISIONS))
def test_get_list_update_delete_by_the_whole_key_as_graphql_decides(seeded: RestApp, caller: str) -> None:
    may_get, listed, may_write = ORDER_DECISIONS[caller]
    status, body, _ = send(seeded, request(caller, "GET", f"/orders/{A}/o-1"))
    assert status == (200 if may_get else 403), body
    if may_get:
        assert (body["customerEmail"], body["orderId"], body["total"]) == (A, "o-1", 1.5)
    else:
        assert body == {"message": "Not Authorized", "errorType": "Unauthorized"}
    status, body, _ = send(seeded, request(caller, "GET", "/orders", {"customerEmail": A}))
    assert (status, keys(body)) == (200, listed)

    updated = send(seeded, request(caller, "PATCH", f"/orders/{A}/o-1", body={"total": 9.0}))
    deleted = send(seeded, request(caller, "DELETE", f"/orders/{A}/o-1"))
    if may_write:
        assert (updated[0], updated[1]["total"], updated[1]["_version"]) == (200, 9.0, 2)
        assert (deleted[0], deleted[1]["orderId"]) == (200, "o-1")
        assert send(seeded, request("carol", "GET", f"/orders/{A}/o-1"))[:2] == (
            404,
            {"message": f"Order {A}/o-1 not found", "errorType": "NotFound"},
        )
    else:
        assert [updated[0], deleted[0]] == [403, 403]
        assert send(seeded, request("carol", "GET", f"/orders/{A}/o-1"))[1]["total"] == 1.5


def test_list_key_conditions_direction_and_pages(seeded: RestApp) -> None:
    def listed(**query: str) -> list[str]:
        status, body, _ = send(seeded, request("carol", "GET", "/orders", {"customerEmail": A, **query}))
        assert status == 200, body
        return keys(body)

    every = [f"{A}/o-1", f"{A}/o-2", f"{A}/o-3"]
    assert listed() == every
    assert listed(sortDirection="DESC") == every[::-1]
    assert listed(**{"orderId.beginsWith": "o-"}) == every
    assert listed(**{"orderId.gt": "o-1"}) == every[1:]
    assert listed(**{"orderId.between": "o-2,o-3"}) == every[1:]
    assert listed(orderId="o-2") == [f"{A}/o-2"]  # a bare value is eq
    status, first, _ = send(seeded, request("carol", "GET", "/orders", {"customerEmail": A, "limit": "2"}))
    assert (status, keys(first)) == (200, every[:2])
    more = {"customerEmail": A, "limit": "2", "nextToken": first["nextToken"]}
    assert keys(send(seeded, request("carol", "GET", "/orders", more))[1]) == every[2:]
    # without a key: the list of every partition (alice's through the owner index)
    assert sorted(keys(send(seeded, request("alice", "GET", "/orders"))[1])) == every[:2]
    assert sorted(keys(send(seeded, request("carol", "GET", "/orders"))[1])) == [*every, f"{B}/o-1"]


def test_an_http_api_reaches_the_same_items(seeded: RestApp) -> None:
    """Payload 2.0 delivers the path decoded: the key parts are read as they are."""
    status, body, _ = send(seeded, http_request("alice", f"/orders/{A}/o-2"))
    assert (status, body["orderId"]) == (200, "o-2")
    assert send(seeded, http_request("bob", f"/orders/{A}/o-2"))[0] == 403
    status, body, _ = send(seeded, http_request("bob", "/orders", {"customerEmail": A}))
    assert (status, keys(body)) == (200, [f"{A}/o-3"])
    status, body, _ = send(seeded, http_request("carol", "/tasks/tasksByStatus/open"))
    assert (status, titles(body)) == (200, TASK_DECISIONS["carol"])


def test_a_caller_no_rule_admits_is_refused_on_every_key_route(seeded: RestApp) -> None:
    """A Lambda-authorized caller (AWS_LAMBDA): Order and Task have no rule for it."""
    lambda_caller = load_event("rest.getTicket.alice")["requestContext"]["authorizer"]
    for path, query in [
        (f"/orders/{A}/o-1", None),
        ("/orders", {"customerEmail": A}),
        ("/tasks/tasksByStatus/open", {"createdAt.gt": "2000-01-01T00:00:00.000Z"}),
    ]:
        event = proxy_event("GET", path, lambda_caller)
        event["queryStringParameters"] = query
        assert send(seeded, event)[:2] == (403, {"message": "Not Authorized", "errorType": "Unauthorized"})


# ------------------------------------------------------------------------ secondary indexes


@pytest.mark.parametrize("caller", sorted(TASK_DECISIONS))
def test_index_query_applies_the_read_rules(seeded: RestApp, caller: str) -> None:
    status, body, _ = send(seeded, request(caller, "GET", "/tasks/tasksByStatus/open"))
    assert (status, titles(body), body["nextToken"]) == (200, TASK_DECISIONS[caller], None)


def test_index_sort_key_conditions_direction_and_pages(seeded: RestApp) -> None:
    def by_priority(**query: str) -> list[str]:
        status, body, _ = send(seeded, request("carol", "GET", "/tasks/tasksByStatusAndPriority/open", query))
        assert status == 200, body
        return titles(body)

    assert by_priority() == ["a-open-1", "b-open-2", "a-open-3"]
    assert by_priority(sortDirection="DESC") == ["a-open-3", "b-open-2", "a-open-1"]
    assert by_priority(**{"priority.ge": "2"}) == ["b-open-2", "a-open-3"]
    assert by_priority(**{"priority.between": "1,2"}) == ["a-open-1", "b-open-2"]
    assert by_priority(priority="3") == ["a-open-3"]
    assert by_priority(filter=json.dumps({"title": {"beginsWith": "a-"}})) == ["a-open-1", "a-open-3"]
    path = "/tasks/tasksByStatus/open"
    status, first, _ = send(seeded, request("alice", "GET", path, {"limit": "1", "sortDirection": "DESC"}))
    assert (status, titles(first)) == (200, ["a-open-3"])
    then = {"limit": "1", "sortDirection": "DESC", "nextToken": first["nextToken"]}
    assert titles(send(seeded, request("alice", "GET", path, then))[1]) == ["a-open-1"]
    # a token is bound to its query: another partition value is refused
    other = send(
        seeded, request("alice", "GET", "/tasks/tasksByStatus/done", {"nextToken": first["nextToken"]})
    )
    assert (other[0], other[1]["errorType"]) == (400, "BadRequest")
    created = send(seeded, request("alice", "GET", path, {"createdAt.gt": "2000-01-01T00:00:00.000Z"}))
    assert titles(created[1]) == TASK_DECISIONS["alice"]


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("method", "path", "query", "message"),
    [
        ("GET", f"/orders/{A}", None, "the key of Order is customerEmail, orderId"),
        ("PATCH", f"/orders/{A}", None, "the key of Order is customerEmail, orderId"),
        ("DELETE", f"/orders/{A}", None, "the key of Order is customerEmail, orderId"),
        ("GET", "/orders", {"orderId.beginsWith": "o"}, "needs the partition key value (customerEmail=…)"),
        ("GET", "/orders", {"sortDirection": "DESC"}, "needs the partition key value (customerEmail=…)"),
        ("GET", "/orders", {"customerEmail": A, "total.gt": "1"}, "total is not a key of this query"),
        ("GET", "/orders", {"customerEmail": A, "total": "1"}, "total is not a key of this query"),
        ("GET", "/orders", {"customerEmail.beginsWith": "a"}, "customerEmail takes a value"),
        ("GET", "/orders", {"customerEmail": A, "orderId.near": "o"}, "orderId.near: unknown operator"),
        ("GET", "/orders", {"customerEmail": A, "orderId.gt": "a", "orderId.lt": "z"}, "takes one condition"),
        ("GET", "/orders", {"customerEmail": A, "orderId.between": "o-1"}, "between takes two values"),
        ("GET", "/orders", {"customerEmail": ""}, "customerEmail: a key value must be a non-empty string"),
        ("GET", "/orders", {"customerEmail": A, "sortDirection": "UP"}, "sortDirection must be ASC or DESC"),
        ("GET", "/tasks/tasksByStatus", None, "tasksByStatus needs the partition key value"),
        ("GET", "/tasks/tasksByStatus/open", {"status": "done"}, "(status) is in the path"),
        ("GET", "/tasks/tasksByStatus/open", {"title.eq": "x"}, "title is not a key of this query"),
        ("GET", "/tasks/tasksByStatus/open", {"priority.gt": "1"}, "priority is not a key of this query"),
        ("GET", "/tasks/tasksByStatus/open", {"sortDirection": "UP"}, "sortDirection must be ASC or DESC"),
        ("GET", "/tasks/tasksByStatus/open", {"limit": "ten"}, "limit must be an integer"),
        ("GET", "/tasks/tasksByStatus/open", {"filter": "{no"}, "filter must be JSON"),
        (
            "GET",
            "/tasks/tasksByStatusAndPriority/open",
            {"priority.gt": "high"},
            "a key value must be a number",
        ),
        (
            "GET",
            "/tasks/tasksByStatusAndPriority/open",
            {"priority.gt": "nan"},
            "a key value must be a number",
        ),
        ("GET", "/tasks/tasksByStatusAndPriority/open", {"priority.beginsWith": "1"}, "for string keys"),
        ("GET", "/tasks/tasksByStatusAndPriority/open", {"priority.between": "1,2,3"}, "takes two values"),
        ("GET", "/tasks", {"status": "open"}, "status is not a key of this query"),
        ("GET", "/tasks", {"sortDirection": "DESC"}, "sortDirection is for key queries"),
    ],
)
@pytest.mark.parametrize("caller", ["carol", "bob"])
def test_bad_key_input_is_a_400_with_the_reason(
    seeded: RestApp, caller: str, method: str, path: str, query: dict[str, str] | None, message: str
) -> None:
    status, body, _ = send(seeded, request(caller, method, path, query))
    assert (status, body["errorType"]) == (400, "BadRequest"), body
    assert message in body["message"], body


def test_a_key_condition_given_twice_is_refused_not_half_read(seeded: RestApp) -> None:
    event = request("carol", "GET", "/orders", {"customerEmail": A, "orderId.gt": "o-2"})
    event["multiValueQueryStringParameters"]["orderId.gt"] = ["o-0", "o-2"]  # REST keeps the last
    status, body, _ = send(seeded, event)
    assert (status, body["message"]) == (400, "query parameters given more than once: orderId.gt")


def test_a_write_cannot_change_the_key(seeded: RestApp) -> None:
    event = request("alice", "PATCH", f"/orders/{A}/o-1", body={"orderId": "o-7", "total": 2.0})
    status, body, _ = send(seeded, event)
    assert (status, body["errorType"]) == (400, "BadRequest")
    assert "orderId is part of the key and cannot change" in body["message"]
    same = request("alice", "PATCH", f"/orders/{A}/o-1", body={"orderId": "o-1", "total": 2.0})
    assert send(seeded, same)[1]["total"] == 2.0


def test_number_keys_in_paths_and_conditions(dynamodb: Any) -> None:
    reading = Model(
        "Reading",
        fields=[Field("sensor", required=True), Field("at", "Int", required=True), Field("value", "Float")],
        rules=[allow.public_api_key()],
        identifier=["sensor", "at"],
        secondary_indexes=[index("sensor").sort_keys(["value"]).query_field("readingsByValue")],
    )
    schema = Schema([reading])
    app = RestApp(schema, Store(dynamodb, create_tables(dynamodb, schema), token_key=b"k"))
    for at, value in [(10, 0.5), (20, 1.5), (30, 2.5)]:
        body = {"sensor": "s1", "at": at, "value": value}
        status, answer, headers = send(app, request("api_key", "POST", "/readings", body=body))
        assert (status, headers["location"]) == (201, f"/readings/s1/{at}"), answer
    assert send(app, request("api_key", "GET", "/readings/s1/20"))[1]["value"] == 1.5
    status, body, _ = send(app, request("api_key", "GET", "/readings/s1/2x0"))
    assert (status, body["message"]) == (400, "at: a key value must be a number")
    page = send(app, request("api_key", "GET", "/readings", {"sensor": "s1", "at.between": "15,30"}))[1]
    assert [item["at"] for item in page["items"]] == [20, 30]
    page = send(app, request("api_key", "GET", "/readings/readingsByValue/s1", {"value.lt": "2.0"}))[1]
    assert [item["at"] for item in page["items"]] == [10, 20]


def test_a_disabled_list_disables_its_key_and_index_queries(dynamodb: Any) -> None:
    log = Model(
        "Log",
        fields=[Field("stream", required=True), Field("seq", required=True), Field("level")],
        rules=[allow.public_api_key()],
        identifier=["stream", "seq"],
        secondary_indexes=[index("level").query_field("logsByLevel")],
    ).disable_operations(["list"])
    schema = Schema([log])
    app = RestApp(schema, Store(dynamodb, create_tables(dynamodb, schema), token_key=b"k"))
    for path, query in [("/logs", {"stream": "s"}), ("/logs/logsByLevel/warn", None)]:
        status, body, _ = send(app, request("api_key", "GET", path, query))
        assert (status, body["errorType"]) == (405, "OperationDisabled"), body


def test_an_item_named_like_an_index_route_is_read_by_a_list_and_written_by_its_path(app: RestApp) -> None:
    """Index routes come first (README, Keys over REST): GET of the item's path is the index's."""
    created = request("alice", "POST", "/tasks", body={"id": "tasksByStatus", "status": "open", "title": "t"})
    assert send(app, created)[0] == 201
    status, body, _ = send(app, request("alice", "GET", "/tasks/tasksByStatus"))
    assert (status, body["errorType"]) == (400, "BadRequest")
    by_filter = {"filter": json.dumps({"id": {"eq": "tasksByStatus"}})}
    assert titles(send(app, request("alice", "GET", "/tasks", by_filter))[1]) == ["t"]
    status, body, _ = send(app, request("alice", "PATCH", "/tasks/tasksByStatus", body={"title": "u"}))
    assert (status, body["title"]) == (200, "u")
    assert send(app, request("alice", "DELETE", "/tasks/tasksByStatus"))[0] == 200
