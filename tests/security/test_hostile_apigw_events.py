"""Hostile API Gateway events: hypothesis drops, retypes and inflates fields of the real REST
(payload 1.0) and HTTP API (payload 2.0) proxy events in events/rest.*.json and feeds them to
the deployed REST function (functions/rest/app.py on moto), and does the same to the authorizer
events in events/authorizer.*.json against the deployed authorizer.

REST: always a well-formed proxy response (an int status, a JSON body, ``message`` and
``errorType`` on errors, never a 5xx for what the client sent), and bob never changes alice's
items nor reads her Todo unless the mutation forged her identity. Authorizer: never an allow
without the valid token at the credential's place, never another exception than REST's
``Exception("Unauthorized")``. (AppSync events: tests/security/test_hostile_events.py.)"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelauth.authorizer import CallerKind, detect_caller
from tests.authz import (
    assert_invalid_credential_answer,
    authorizer_event,
    forge,
    load_function,
    proxy_event,
    rejected_with,
)
from tests.conftest import EVENTS, load_event
from tests.fixtures.schema import SCHEMA
from tests.security.test_hostile_events import ALICE_MARKERS, MUTATION, mutate
from tests.security.test_hostile_tokens import environment
from tests.unit.test_authorizer_tokens import ALICE_SUB, POOL, access_token

KNOWN_ERROR_TYPES = {
    "BadRequest",
    "Unauthorized",
    "UnauthorizedException",
    "NotFound",
    "ConflictUnhandled",
    "DynamoDB:ConditionalCheckFailedException",
}
BOB_SUB = "b0b0b0b0-0000-4000-8000-000000000b0b"
SECRET = "the content only alice may read"
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=4)
HYPOTHESIS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def user_pool_claims(sub: str, username: str) -> dict[str, Any]:
    """What a REST Cognito user-pool authorizer (or an HTTP API JWT authorizer) passes on."""
    return {"sub": sub, "username": username, "iss": POOL.issuer, "token_use": "access", "client_id": "c"}


def http_event(method: str, path: str, authorizer: dict[str, Any]) -> dict[str, Any]:
    """events/rest.getTicket.alice-http.json (payload 2.0) for another method, path and caller."""
    event = copy.deepcopy(load_event("rest.getTicket.alice-http"))
    event.update(rawPath=path, pathParameters={"proxy": path.lstrip("/")})
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["authorizer"] = authorizer
    if method == "PATCH":
        event["body"] = json.dumps({"title": "bob was here"})
    return event


BOB_CLAIMS = {"claims": user_pool_claims(BOB_SUB, "bob")}


def bobs_proxy_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """tests.authz.proxy_event (made from alice's sample) as bob, via a Cognito authorizer."""
    event = proxy_event(method, path, BOB_CLAIMS, body)
    event["requestContext"]["requestId"] = "req-bob"
    return event


BOB_LAMBDA = load_event("rest.getTicket.bob")["requestContext"]["authorizer"]
BOB_HTTP_LAMBDA = {
    "lambda": {k: v for k, v in BOB_LAMBDA.items() if k not in ("principalId", "integrationLatency")}
}
BOB_HTTP_JWT = {"jwt": {"claims": user_pool_claims(BOB_SUB, "bob"), "scopes": None}}

# bob at alice's items, over every event format and authorizer kind the REST function reads
BOBS: dict[str, dict[str, Any]] = {
    "REST Lambda update ticket": load_event("rest.updateTicket.bob"),
    "REST Lambda delete ticket": load_event("rest.deleteTicket.bob"),
    "REST Cognito get todo": bobs_proxy_event("GET", "/todos/todo-1"),
    "REST Cognito update todo": bobs_proxy_event("PATCH", "/todos/todo-1", {"content": "mine"}),
    "REST Cognito delete todo": bobs_proxy_event("DELETE", "/todos/todo-1"),
    "HTTP Lambda update ticket": http_event("PATCH", "/tickets/ticket-1", BOB_HTTP_LAMBDA),
    "HTTP Lambda delete ticket": http_event("DELETE", "/tickets/ticket-1", BOB_HTTP_LAMBDA),
    "HTTP JWT get todo": http_event("GET", "/todos/todo-1", BOB_HTTP_JWT),
    "HTTP JWT delete todo": http_event("DELETE", "/todos/todo-1", BOB_HTTP_JWT),
}
EVENTS_IN = {
    **{name: load_event(name) for name in sorted(p.stem for p in EVENTS.glob("rest.*.json"))},
    **BOBS,
}


# ----------------------------------------------------------------------------- REST function


@dataclass
class RestWorld:
    function: ModuleType
    client: Any
    #: alice's items as stored: (table, id) -> raw DynamoDB item
    alices: dict[tuple[str, str], dict[str, Any]]

    def send(self, event: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.function.lambda_handler(event, None)
        return response

    def stored(self, table: str, item_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.client.get_item(TableName=table, Key={"id": {"S": item_id}}).get(
            "Item"
        )
        return item

    def changed(self) -> list[tuple[str, str]]:
        return [key for key, item in self.alices.items() if self.stored(*key) != item]

    def restore(self) -> None:
        for key in self.changed():
            self.client.put_item(TableName=key[0], Item=self.alices[key])


@pytest.fixture(scope="module")
def rest() -> Iterator[RestWorld]:
    """The deployed REST function on moto, with alice's Ticket and Todo stored."""
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        create_tables(client, SCHEMA)
        world = RestWorld(load_function("rest", {"NEXT_TOKEN_SECRET": "test"}), client, {})
        alice_todo = proxy_event(
            "POST",
            "/todos",
            {"claims": user_pool_claims(ALICE_SUB, "alice")},
            {"id": "todo-1", "content": SECRET},
        )
        for event in (load_event("rest.createTicket.alice"), alice_todo):
            assert world.send(event)["statusCode"] == 201
        world.alices = {key: world.stored(*key) or {} for key in (("Ticket", "ticket-1"), ("Todo", "todo-1"))}
        yield world


def assert_proxy_response(response: Any) -> tuple[int, Any]:
    """A proxy response API Gateway can deliver, with a typed JSON error; the status and body."""
    assert isinstance(response, dict), response
    status = response["statusCode"]
    assert type(status) is int
    assert 200 <= status < 500, response  # nothing the client sends is a server error
    assert isinstance(response["body"], str)
    body = json.loads(response["body"])
    if status >= 400:
        assert isinstance(body, dict), body
        assert isinstance(body["message"], str)
        assert body["errorType"] in KNOWN_ERROR_TYPES, body
        assert "Traceback" not in body["message"]
    json.dumps(response)  # what Lambda serialises back to API Gateway
    return status, body


def mutated(event: dict[str, Any], mutations: list[tuple[int, str, Any]]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    mutate(event, mutations, roots=None)
    return event


@HYPOTHESIS
@given(name=st.sampled_from(sorted(EVENTS_IN)), mutations=MUTATIONS)
def test_mutated_proxy_events_always_get_a_well_formed_typed_response(
    rest: RestWorld, name: str, mutations: list[tuple[int, str, Any]]
) -> None:
    event = mutated(EVENTS_IN[name], mutations)
    try:
        assert_proxy_response(rest.send(event))
    finally:
        rest.restore()  # alice's own events may change her items


@HYPOTHESIS
@given(name=st.sampled_from(sorted(BOBS)), mutations=MUTATIONS)
def test_bob_never_changes_alices_items_or_reads_her_todo(
    rest: RestWorld, name: str, mutations: list[tuple[int, str, Any]]
) -> None:
    event = mutated(BOBS[name], mutations)
    if any(marker in json.dumps(event.get("requestContext"), default=str) for marker in ALICE_MARKERS):
        return  # API Gateway builds requestContext from what the authorizer verified: unforgeable
    status, body = assert_proxy_response(rest.send(event))
    assert rest.changed() == []
    assert SECRET not in json.dumps(body), (status, body)


@pytest.mark.parametrize("name", sorted(BOBS))
def test_bobs_unmutated_attempts_are_refused(rest: RestWorld, name: str) -> None:
    assert not any(marker in json.dumps(BOBS[name]["requestContext"]) for marker in ALICE_MARKERS)
    status, body = assert_proxy_response(rest.send(copy.deepcopy(BOBS[name])))
    assert (status, body["errorType"]) == (403, "Unauthorized")


def with_authorizer(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["requestContext"]["authorizer"].update(changes)
    return event


def with_event(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(event), **changes}


API_KEY_IDENTITY = {"sourceIp": "198.51.100.7", "apiKey": "partner-usage-plan-key"}
# bob's requests with a second identity mixed in: refused (403) or malformed (400), never his way
MIXED: dict[str, tuple[dict[str, Any], int]] = {
    "Lambda context plus Cognito claims": (
        with_authorizer(BOBS["REST Lambda update ticket"], claims=user_pool_claims(BOB_SUB, "bob")),
        403,
    ),
    "Lambda context plus an HTTP API JWT section": (
        with_authorizer(BOBS["REST Lambda delete ticket"], jwt=BOB_HTTP_JWT["jwt"]),
        403,
    ),
    "HTTP API lambda and jwt sections at once": (
        with_authorizer(BOBS["HTTP JWT get todo"], **BOB_HTTP_LAMBDA),
        403,
    ),
    "principalId of alice with bob's sub": (
        with_authorizer(BOBS["REST Lambda update ticket"], principalId=ALICE_SUB),
        403,
    ),
    "an API key identity next to bob's context": (
        with_event(
            BOBS["REST Cognito get todo"],
            requestContext={**BOBS["REST Cognito get todo"]["requestContext"], "identity": API_KEY_IDENTITY},
        ),
        403,
    ),
    "an x-api-key header on bob's call": (
        with_event(BOBS["REST Cognito get todo"], headers={"x-api-key": "partner-usage-plan-key"}),
        403,
    ),
    "a REST event claiming payload 2.0": (with_event(BOBS["REST Lambda update ticket"], version="2.0"), 400),
    "an HTTP API event claiming payload 1.0": (with_event(BOBS["HTTP JWT delete todo"], version="1.0"), 400),
    "a base64 body that isn't": (with_event(BOBS["REST Cognito update todo"], isBase64Encoded=True), 400),
}


@pytest.mark.parametrize("case", list(MIXED))
def test_mixed_identities_and_formats_are_refused(rest: RestWorld, case: str) -> None:
    event, expected = MIXED[case]
    status, body = assert_proxy_response(rest.send(copy.deepcopy(event)))
    assert status == expected, body
    assert rest.changed() == []


# ----------------------------------------------------------------------------- authorizer


@pytest.fixture(scope="module")
def authorizer() -> ModuleType:
    return load_function("authorizer", environment("access"))


def decoyed(kind: CallerKind, token: str, decoy: str) -> dict[str, Any]:
    """The caller's event with ``token`` where the credential goes and ``decoy`` (a valid token)
    in every place that is not the credential: other headers, the query, the variables."""
    event = authorizer_event(kind, f"Bearer {token}")
    if kind is CallerKind.APPSYNC:
        event["requestHeaders"].update({"authorization": f"Bearer {decoy}", "x-id-token": decoy})
        event["requestContext"]["variables"]["token"] = decoy
    elif kind is CallerKind.REST_TOKEN:
        event["headers"] = {"Authorization": f"Bearer {decoy}"}
    else:
        event["queryStringParameters"] = {"access_token": decoy}
        event["multiValueHeaders"] = {"X-Authorization": [f"Bearer {decoy}"]}
        event["cookies"] = [f"token={decoy}"]
    return event


def authorize(function: ModuleType, event: Any) -> Any:
    outcome = rejected_with(lambda: function.lambda_handler(event, None))
    if not isinstance(outcome, Exception):
        json.dumps(outcome)  # what Lambda serialises back to the gateway
    return outcome


def allowed(outcome: Any) -> bool:
    if not isinstance(outcome, dict):
        return False
    if "policyDocument" in outcome:
        return any(s["Effect"] == "Allow" for s in outcome["policyDocument"]["Statement"])
    return outcome.get("isAuthorized") is True


def assert_denied(event: Any, outcome: Any) -> None:
    kind = detect_caller(event)
    if kind is None:  # no known caller: REST's 401 contract, the only exception the gateways get
        assert type(outcome) is Exception, outcome
        assert outcome.args == ("Unauthorized",)
    else:
        assert_invalid_credential_answer(kind, outcome)


@HYPOTHESIS
@given(kind=st.sampled_from(list(CallerKind)), mutations=MUTATIONS)
def test_a_forged_token_is_never_allowed_whatever_else_the_event_carries(
    authorizer: ModuleType, kind: CallerKind, mutations: list[tuple[int, str, Any]]
) -> None:
    valid = access_token()
    event = mutated(decoyed(kind, forge(valid, sub=BOB_SUB), valid), mutations)
    assert_denied(event, authorize(authorizer, event))


@HYPOTHESIS
@given(kind=st.sampled_from(list(CallerKind)), mutations=MUTATIONS)
def test_mutated_events_are_allowed_only_for_the_valid_token(
    authorizer: ModuleType, kind: CallerKind, mutations: list[tuple[int, str, Any]]
) -> None:
    valid = access_token()
    event = mutated(authorizer_event(kind, f"Bearer {valid}"), mutations)
    outcome = authorize(authorizer, event)
    if not allowed(outcome):
        assert_denied(event, outcome)
        return
    assert valid in json.dumps(event)
    context = outcome.get("resolverContext") or outcome.get("context")
    assert context["sub"] == ALICE_SUB
    assert all(isinstance(value, str) for value in context.values())


def rest_request_with(headers: dict[str, Any], multi: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    event = authorizer_event(CallerKind.REST_REQUEST, None)
    event["headers"].update(headers)
    if multi is not None:
        event["multiValueHeaders"] = multi
    return event


@pytest.mark.parametrize(
    "build",
    [
        lambda valid, forged: rest_request_with({"Authorization": valid, "authorization": forged}),
        lambda valid, forged: rest_request_with({"authorization": forged, "AUTHORIZATION": valid}),
        lambda valid, forged: rest_request_with({"Authorization": valid}, {"Authorization": [forged, valid]}),
        lambda valid, forged: authorizer_event(CallerKind.HTTP_V2, f"{valid},{forged}"),  # joined duplicates
    ],
    ids=["two spellings", "two spellings, forged first", "several values", "HTTP API joined values"],
)
def test_conflicting_authorization_headers_are_denied(authorizer: ModuleType, build: Any) -> None:
    """The gateway's identity source (and cache key) may be either value: use neither."""
    valid = f"Bearer {access_token()}"
    event = build(valid, f"Bearer {forge(access_token(), sub=BOB_SUB)}")
    assert_denied(event, authorize(authorizer, event))
