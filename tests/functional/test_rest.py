"""The REST API on moto: events/rest.<op>.<caller>.json in, HTTP status and JSON body out, with
the same rules as GraphQL (Ticket: Lambda-authorized callers read; the caller owns its tickets)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from modelauth.local import create_tables
from modelauth.rest import RestApp, resource_path
from modelauth.rules import Field, Model, Schema, allow
from modelauth.store import Store
from tests.authz import proxy_event
from tests.conftest import load_event
from tests.fixtures.schema import SCHEMA

ALICE = load_event("rest.getTicket.alice")["requestContext"]["authorizer"]
BOB = load_event("rest.getTicket.bob")["requestContext"]["authorizer"]


@pytest.fixture
def app(store: Store) -> RestApp:
    return RestApp(SCHEMA, store)


def send(app: RestApp, event: dict[str, Any] | str) -> tuple[int, Any, dict[str, Any]]:
    response = app.resolve(load_event(event) if isinstance(event, str) else event, None)
    headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): [v] for k, v in (response.get("headers") or {}).items()})
    assert headers["content-type"] == ["application/json"], response
    return response["statusCode"], json.loads(response["body"]), headers


@pytest.fixture
def ticket(app: RestApp) -> dict[str, Any]:
    status, body, headers = send(app, "rest.createTicket.alice")
    assert status == 201, body
    assert headers["location"] == ["/tickets/ticket-1"]
    return dict(body)


def test_routes_are_generated_for_every_model() -> None:
    paths = {resource_path(m) for m in SCHEMA.models}
    assert {"/todos", "/posts", "/catalogitems", "/profiles", "/notes", "/tickets", "/items"} == paths


def test_create_stamps_the_caller_as_owner(ticket: dict[str, Any], store: Store) -> None:
    assert ticket["owner"] == "alice"  # read back as the username part (spec §3.2)
    stored = store.get(SCHEMA.model("Ticket"), "ticket-1")
    assert stored is not None
    assert stored["owner"] == f"{ALICE['sub']}::alice"


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ("rest.getTicket.alice", 200),
        ("rest.getTicket.bob", 200),  # allow.custom().to(read): every Lambda-authorized caller reads
        ("rest.getTicket.apikey", 200),
        ("rest.getTicket.alice-http", 200),  # HTTP API, payload 2.0
        ("rest.listTickets.alice", 200),
        ("rest.updateTicket.bob", 403),  # owner rule: not bob's
        ("rest.deleteTicket.bob", 403),
        ("rest.createTicket.apikey", 403),  # an API key has no owner identity to stamp
        ("rest.listTodos.alice", 403),  # Todo has no rule for Lambda-authorized callers
        ("rest.updateTicket.alice", 200),
        ("rest.deleteTicket.alice", 200),
    ],
)
def test_each_sample_request(app: RestApp, ticket: dict[str, Any], event: str, status: int) -> None:
    got, body, _ = send(app, event)
    assert got == status, body
    if status == 403:
        assert body == {"message": "Not Authorized", "errorType": "Unauthorized"}


def test_get_missing_is_404_and_update_of_missing_is_403_like_amplify(app: RestApp) -> None:
    assert send(app, "rest.getTicket.alice")[:2] == (
        404,
        {"message": "Ticket ticket-1 not found", "errorType": "NotFound"},
    )
    # an owner-constrained write finds no stored owner: Unauthorized (spec §3.4), not a leak
    assert send(app, "rest.updateTicket.alice")[0] == 403


def test_stale_version_is_409_with_the_current_version(app: RestApp, ticket: dict[str, Any]) -> None:
    assert send(app, "rest.updateTicket.alice")[0] == 200  # _version 1 -> 2
    status, body, _ = send(app, "rest.updateTicket.alice")  # still sends _version 1
    assert status == 409
    assert body["errorType"] == "ConflictUnhandled"
    assert body["errorInfo"] == {"_version": 2, "id": "ticket-1"}


def test_owner_may_not_give_a_ticket_away(app: RestApp, ticket: dict[str, Any]) -> None:
    event = proxy_event("PATCH", "/tickets/ticket-1", ALICE, {"owner": f"{BOB['sub']}::bob"})
    assert send(app, event)[:2] == (403, {"message": "Unauthorized on [owner]", "errorType": "Unauthorized"})


def test_list_pages_with_next_token(app: RestApp) -> None:
    for n in range(3):
        assert send(app, proxy_event("POST", "/tickets", ALICE, {"title": f"t{n}"}))[0] == 201
    event = proxy_event("GET", "/tickets", ALICE)
    event["queryStringParameters"] = {"limit": "2"}
    status, page, _ = send(app, event)
    assert (status, len(page["items"])) == (200, 2)
    event["queryStringParameters"] = {"limit": "2", "nextToken": page["nextToken"]}
    status, rest, _ = send(app, event)
    assert (status, len(rest["items"]), rest["nextToken"]) == (200, 1, None)


def test_delete_with_version_query_parameter(app: RestApp, ticket: dict[str, Any]) -> None:
    event = proxy_event("DELETE", "/tickets/ticket-1", ALICE)
    event["queryStringParameters"] = {"_version": "7"}
    assert send(app, event)[0] == 409
    event["queryStringParameters"] = {"_version": "1"}
    assert send(app, event)[0] == 200


def test_a_condition_query_parameter_is_the_mutations_condition(app: RestApp, ticket: dict[str, Any]) -> None:
    event = proxy_event("PATCH", "/tickets/ticket-1", ALICE, {"status": "closed"})
    event["queryStringParameters"] = {"condition": json.dumps({"status": {"eq": "closed"}})}
    status, body, _ = send(app, event)
    assert (status, body["errorType"]) == (412, "DynamoDB:ConditionalCheckFailedException")
    event["queryStringParameters"] = {"condition": json.dumps({"status": {"eq": ticket["status"]}})}
    status, body, _ = send(app, event)
    assert (status, body["status"]) == (200, "closed")
    delete = proxy_event("DELETE", "/tickets/ticket-1", ALICE)
    delete["queryStringParameters"] = {"condition": "{not json"}
    assert send(app, delete)[:2] == (400, {"message": "condition must be JSON", "errorType": "BadRequest"})
    delete["queryStringParameters"] = {"condition": json.dumps({"status": {"eq": "open"}})}
    assert send(app, delete)[0] == 412
    bob = proxy_event("DELETE", "/tickets/ticket-1", BOB)
    bob["queryStringParameters"] = {"condition": json.dumps({"status": {"eq": "closed"}})}
    assert send(app, bob)[0] == 403  # the rules first: bob learns nothing of the condition


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/tickets", None, "a JSON object body is required"),
        ("POST", "/tickets", "{not json", "the body is not valid JSON"),
        ("POST", "/tickets", ["a list"], "CreateTicketInput must be an object"),
        ("POST", "/tickets", {"title": 42}, "CreateTicketInput: 'title' must be String (at most 64 KiB)"),
        ("POST", "/tickets", {"priority": "high"}, "field name 'priority' that is not defined"),
        ("PATCH", "/tickets/t1", {"id": "t2", "title": "x"}, "the body's id differs from the path's"),
        ("GET", "/tickets?limit=ten", None, "limit must be an integer"),
    ],
)
def test_bad_requests_are_400_with_a_reason(
    app: RestApp, method: str, path: str, body: Any, message: str
) -> None:
    path, _, query = path.partition("?")
    event = proxy_event(method, path, ALICE, body if not isinstance(body, str) else None)
    if isinstance(body, str):
        event["body"] = body
    if query:
        event["queryStringParameters"] = dict([query.split("=")])
    status, answer, _ = send(app, event)
    assert status == 400
    assert answer["errorType"] == "BadRequest"
    assert message in answer["message"]


def test_base64_bodies_are_decoded(app: RestApp) -> None:
    event = proxy_event("POST", "/tickets", ALICE)
    event.update(body=base64.b64encode(b'{"title": "encoded"}').decode(), isBase64Encoded=True)
    assert send(app, event)[1]["title"] == "encoded"


def test_unknown_routes_are_404(app: RestApp) -> None:
    assert send(app, proxy_event("GET", "/widgets", ALICE))[:2] == (
        404,
        {"message": "No such resource", "errorType": "NotFound"},
    )


def test_without_an_authorizer_the_request_is_refused(app: RestApp) -> None:
    status, body, _ = send(app, proxy_event("GET", "/tickets", None))
    assert status == 403
    assert body["errorType"] == "Unauthorized"


def test_an_unexpected_failure_is_a_json_500(app: RestApp, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.operations.store, "get", explode)
    assert send(app, "rest.getTicket.alice")[:2] == (
        500,
        {"message": "Internal error", "errorType": "InternalFailure"},
    )


def test_fields_the_caller_may_not_read_are_null_and_named(dynamodb: Any) -> None:
    pin_rules = [allow.owner("function").to(["read"]), allow.custom().to(["create"])]
    secret = Model("Secret", fields=[Field("body"), Field("pin", rules=pin_rules)], rules=[allow.custom()])
    schema = Schema([secret])
    app = RestApp(schema, Store(dynamodb, create_tables(dynamodb, schema), token_key=b"k"))

    assert (
        send(app, proxy_event("POST", "/secrets", ALICE, {"id": "s1", "body": "b", "pin": "1234"}))[0] == 201
    )
    status, body, headers = send(app, proxy_event("GET", "/secrets/s1", BOB))
    assert (status, body["body"], body["pin"]) == (200, "b", None)
    assert headers["x-modelauth-denied-fields"] == ["pin"]


def test_an_id_needing_escapes_is_one_item_on_rest_and_http(app: RestApp) -> None:
    """REST (payload 1.0) delivers the path percent-encoded, an HTTP API decoded: both reach
    the item ``a b/c+d``, and the Location header is the encoded path."""
    event = load_event("rest.createTicket.alice")
    event["body"] = json.dumps({**json.loads(event["body"]), "id": "a b/c+d"})
    status, body, headers = send(app, event)
    assert (status, body["id"]) == (201, "a b/c+d")
    assert headers["location"] == ["/tickets/a%20b%2Fc%2Bd"]
    rest = load_event("rest.getTicket.alice")
    rest["path"] = "/tickets/a%20b%2Fc%2Bd"
    rest["pathParameters"] = {"proxy": "tickets/a%20b%2Fc%2Bd"}
    assert send(app, rest)[:2] == (200, body)
    event["body"] = json.dumps({**json.loads(event["body"]), "id": "x y+z"})
    assert send(app, event)[0] == 201
    http = load_event("rest.getTicket.alice-http")
    http["rawPath"] = "/tickets/x y+z"  # as an HTTP API delivers /tickets/x%20y%2Bz
    status, got, _ = send(app, http)
    assert (status, got["id"]) == (200, "x y+z")
