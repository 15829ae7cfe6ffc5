"""Relationships as REST sub-resources (``GET /posts/{id}/comments``, ``/comments/{id}/post``,
``/accounts/{id}/profile``) on moto: the same verdicts as the GraphQL fields
(tests/functional/test_relations.py), with HTTP statuses, through a REST API's Cognito
authorizer context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.rest import RestApp
from modelauth.store import Store
from tests.authz import proxy_event
from tests.fixtures.relations import SCHEMA
from tests.functional.helpers import POOL
from tests.functional.test_relations import P1_COMMENTS


def cognito(username: str, sub: str, groups: str = "") -> dict[str, Any]:
    """A REST API Cognito user-pool authorizer's context (claims as strings)."""
    claims = {"sub": sub, "cognito:username": username, "iss": POOL, "token_use": "id"}
    if groups:
        claims["cognito:groups"] = groups
    return {"claims": claims}


CALLERS = {
    "alice": cognito("alice", "a1"),
    "bob": cognito("bob", "b2"),
    "carol": cognito("carol", "c3", "Admin"),
}


@pytest.fixture
def app() -> Iterator[RestApp]:
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        yield RestApp(SCHEMA, Store(client, create_tables(client, SCHEMA), token_key=b"k"))


def send(app: RestApp, who: str, method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
    event = proxy_event(method, path, CALLERS[who], body)
    if query:
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    response = app.resolve(event, None)
    return response["statusCode"], json.loads(response["body"])


def seed(app: RestApp) -> None:
    assert send(app, "alice", "POST", "/blogs", {"id": "b1", "name": "Notes"})[0] == 201
    assert send(app, "alice", "POST", "/posts", {"id": "p1", "title": "t", "blogId": "b1"})[0] == 201
    for who, cid, viewers in [
        ("alice", "c1", []),
        ("bob", "c2", ["alice"]),
        ("bob", "c3", []),
        ("carol", "c4", []),
    ]:
        status, body = send(app, who, "POST", "/comments", {"id": cid, "postId": "p1", "viewers": viewers})
        assert status == 201, body


@pytest.mark.parametrize("caller", sorted(set(P1_COMMENTS) & set(CALLERS)))
def test_has_many_sub_resource_lists_what_the_comment_rules_allow(app: RestApp, caller: str) -> None:
    seed(app)
    status, body = send(app, caller, "GET", "/posts/p1/comments")
    assert status == 200, body
    assert sorted(item["id"] for item in body["items"]) == P1_COMMENTS[caller]


def test_sub_resource_paging_and_filter(app: RestApp) -> None:
    seed(app)
    status, first = send(app, "carol", "GET", "/posts/p1/comments", limit="3", sortDirection="DESC")
    assert status == 200
    assert len(first["items"]) == 3
    assert first["nextToken"]
    status, rest = send(
        app,
        "carol",
        "GET",
        "/posts/p1/comments",
        limit="3",
        nextToken=first["nextToken"],
        sortDirection="DESC",
    )
    assert status == 200
    assert len(rest["items"]) == 1
    assert rest["nextToken"] is None
    status, only = send(app, "carol", "GET", "/posts/p1/comments", filter=json.dumps({"id": {"eq": "c3"}}))
    assert [item["id"] for item in only["items"]] == ["c3"]


def test_belongs_to_and_has_one(app: RestApp) -> None:
    seed(app)
    assert send(app, "alice", "GET", "/comments/c2/post")[1]["id"] == "p1"
    assert send(app, "bob", "GET", "/comments/c2/post") == (
        403,
        {"message": "Not Authorized", "errorType": "Unauthorized"},
    )
    assert send(app, "alice", "POST", "/accounts", {"id": "a1", "name": "alice"})[0] == 201
    assert send(app, "alice", "GET", "/accounts/a1/profile")[0] == 404  # no profile yet
    assert send(app, "alice", "POST", "/profiles", {"id": "pr1", "bio": "hi", "accountId": "a1"})[0] == 201
    assert send(app, "alice", "GET", "/accounts/a1/profile")[1]["bio"] == "hi"
    assert send(app, "bob", "GET", "/accounts/a1/profile")[0] == 403  # the Profile rules: owner only


@pytest.mark.parametrize(
    ("who", "path", "query", "status", "error_type"),
    [
        ("bob", "/posts/p1/comments", {}, 403, "Unauthorized"),  # bob may not read the post
        ("alice", "/posts/missing/comments", {}, 404, "NotFound"),
        ("alice", "/posts/p1/comments", {"limit": "many"}, 400, "BadRequest"),
        ("alice", "/posts/p1/comments", {"owner": "bob"}, 400, "BadRequest"),
        ("alice", "/posts/p1/comments", {"sortDirection": "UP"}, 400, "BadRequest"),
        ("alice", "/posts/p1/comments", {"nextToken": "forged"}, 400, "BadRequest"),
        ("alice", "/comments/c1/post", {"limit": "1"}, 400, "BadRequest"),
        ("alice", "/posts/p1/nothing", {}, 404, "NotFound"),
    ],
)
def test_bad_or_refused_sub_resource_requests(
    app: RestApp, who: str, path: str, query: dict[str, str], status: int, error_type: str
) -> None:
    seed(app)
    got, body = send(app, who, "GET", path, **query)
    assert (got, body["errorType"]) == (status, error_type), body


def test_a_composite_key_parents_sub_resource(app: RestApp) -> None:
    order = {"customerEmail": "a@example.com", "orderId": "o1"}
    assert send(app, "alice", "POST", "/orders", order)[0] == 201
    for sku in ("pen", "ink"):
        line = {"id": sku, "sku": sku, "orderEmail": "a@example.com", "orderNumber": "o1"}
        assert send(app, "alice", "POST", "/lineitems", line)[0] == 201
    bob_line = {"id": "x", "orderEmail": "a@example.com", "orderNumber": "o1"}
    assert send(app, "bob", "POST", "/lineitems", bob_line)[0] == 201
    status, body = send(app, "alice", "GET", "/orders/a@example.com/o1/lines")
    assert status == 200, body
    assert sorted(item["id"] for item in body["items"]) == ["ink", "pen"]  # not bob's line
    assert send(app, "bob", "GET", "/orders/a@example.com/o1/lines")[0] == 403  # bob may not read the order
    assert send(app, "alice", "GET", "/lineitems/pen/order")[1]["orderId"] == "o1"
