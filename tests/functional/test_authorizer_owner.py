"""Owner rules end to end for Lambda-authorized callers, with real moto Cognito tokens:
authorizer answer → AppSync resolverContext / API Gateway requestContext.authorizer → the
resolvers → allow.owner("function") on Ticket passes for the token's user and no one else."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from modelauth.authorizer import CallerKind, Issuer, LambdaAuthorizer, TokenVerifier
from modelauth.local import LocalUserPool, appsync_event, moto_jwks
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.store import Store
from tests.authz import authorizer_event, proxy_event, rest_authorizer_context
from tests.conftest import load_event
from tests.fixtures.schema import SCHEMA

PASSWORD = "Correct-Horse-9"
LAMBDA_AUTH = "Lambda Authorization"  # util.authType() for AWS_LAMBDA, forwarded by graphql/invoke.js


@dataclass
class World:
    authorizer: LambdaAuthorizer
    graphql: GraphQLApp
    rest: RestApp
    tokens: dict[str, str]
    subs: dict[str, str]
    store: Store


@pytest.fixture
def world(store: Store) -> World:
    """Inside the moto of the `store` fixture: a user pool, alice and bob signed in."""
    pool = LocalUserPool.create(boto3.client("cognito-idp", region_name="us-east-1"))
    subs = {name: pool.add_user(name, PASSWORD) for name in ("alice", "bob")}
    tokens = {name: pool.sign_in(name, PASSWORD)["AccessToken"] for name in subs}
    verifier = TokenVerifier([Issuer.cognito(pool.pool_id, [pool.client_id], jwks=moto_jwks())])
    authorizer = LambdaAuthorizer(verifier, schema=SCHEMA)
    return World(authorizer, GraphQLApp(SCHEMA, store), RestApp(SCHEMA, store), tokens, subs, store)


# ----------------------------------------------------------------------------- AppSync


def graphql_as(world: World, user: str) -> tuple[Callable[..., dict[str, Any]], list[str]]:
    """A caller of the GraphQL resolver as AppSync would invoke it after our authorizer."""
    answer = world.authorizer.handle(authorizer_event(CallerKind.APPSYNC, f"Bearer {world.tokens[user]}"))
    assert answer["isAuthorized"] is True
    identity = {"resolverContext": answer["resolverContext"]}

    def call(parent: str, field: str, **arguments: Any) -> dict[str, Any]:
        event = appsync_event(parent, field, arguments, identity, auth_type=LAMBDA_AUTH)
        return world.graphql.resolve(event, None)

    return call, answer["deniedFields"]


def test_appsync_owner_rule_passes_for_the_tokens_user_only(world: World) -> None:
    alice, _ = graphql_as(world, "alice")
    bob, _ = graphql_as(world, "bob")

    created = alice("Mutation", "createTicket", input={"id": "t1", "title": "printer jam", "status": "open"})
    assert created["errors"] == []
    assert created["data"]["owner"] == "alice"
    stored = world.store.get(SCHEMA.model("Ticket"), "t1")
    assert stored is not None
    assert stored["owner"] == f"{world.subs['alice']}::alice"

    assert bob("Query", "getTicket", id="t1")["data"]["title"] == "printer jam"  # custom read
    refused = bob("Mutation", "updateTicket", input={"id": "t1", "status": "closed"})
    assert refused == {
        "data": None,
        "errors": [
            {"message": "Not Authorized to access updateTicket on type Mutation", "errorType": "Unauthorized"}
        ],
    }
    updated = alice("Mutation", "updateTicket", input={"id": "t1", "status": "closed"})
    assert (updated["errors"], updated["data"]["status"]) == ([], "closed")
    assert bob("Mutation", "deleteTicket", input={"id": "t1"})["errors"][0]["errorType"] == "Unauthorized"
    assert alice("Mutation", "deleteTicket", input={"id": "t1"})["errors"] == []


ARGUMENTS: dict[str, dict[str, Any]] = {
    "get": {"id": "x"},
    "list": {},
    "create": {"input": {}},
    "update": {"input": {"id": "x"}},
    "delete": {"input": {"id": "x"}},
    "on": {},
}


def test_every_denied_field_is_one_the_resolver_refuses_anyway(world: World) -> None:
    """deniedFields only saves AppSync the round trip: it never denies what the rules allow."""
    alice, denied = graphql_as(world, "alice")
    operations = [entry for entry in denied if entry.split(".")[0] in ("Query", "Mutation", "Subscription")]
    assert len(operations) == 48  # 6 models without a rule for Lambda callers x 8 root fields

    for entry in operations:
        parent, field = entry.split(".")
        verb = next(v for v in ARGUMENTS if field.startswith(v))
        result = alice(parent, field, **ARGUMENTS[verb])
        assert result["errors"][0]["errorType"] == "Unauthorized", (entry, result)


# ----------------------------------------------------------------------------- REST and HTTP API


def rest_as(world: World, user: str) -> dict[str, Any]:
    """requestContext.authorizer of a REST proxy event after our TOKEN authorizer allowed it."""
    event = authorizer_event(CallerKind.REST_TOKEN, f"Bearer {world.tokens[user]}")
    return rest_authorizer_context(world.authorizer.handle(event))


def status(world: World, method: str, path: str, authorizer: dict[str, Any], body: Any = None) -> int:
    response = world.rest.resolve(proxy_event(method, path, authorizer, body), None)
    return int(response["statusCode"])


def test_rest_owner_rule_passes_for_the_tokens_user_only(world: World) -> None:
    alice, bob = rest_as(world, "alice"), rest_as(world, "bob")

    assert status(world, "POST", "/tickets", alice, {"id": "t1", "title": "printer jam"}) == 201
    assert status(world, "GET", "/tickets/t1", bob) == 200
    assert status(world, "PATCH", "/tickets/t1", bob, {"status": "closed"}) == 403
    assert status(world, "DELETE", "/tickets/t1", bob) == 403
    assert status(world, "PATCH", "/tickets/t1", alice, {"status": "closed"}) == 200
    assert status(world, "GET", "/todos", alice) == 403  # no rule for Lambda callers on Todo
    assert status(world, "DELETE", "/tickets/t1", alice) == 200


def test_http_api_context_reaches_the_owner_rule(world: World) -> None:
    answer = world.authorizer.handle(authorizer_event(CallerKind.HTTP_V2, f"Bearer {world.tokens['alice']}"))
    event = copy.deepcopy(load_event("rest.getTicket.alice-http"))
    context = event["requestContext"]
    context["authorizer"] = {"lambda": answer["context"]}  # what payload 2.0 integrations see
    context["http"].update(method="POST", path="/tickets")
    event.update(rawPath="/tickets", body=json.dumps({"id": "t9", "title": "from the HTTP API"}))

    assert world.rest.resolve(event, None)["statusCode"] == 201
    stored = world.store.get(SCHEMA.model("Ticket"), "t9")
    assert stored is not None
    assert stored["owner"] == f"{world.subs['alice']}::alice"


def test_a_ticket_made_through_graphql_is_the_same_users_over_rest(world: World) -> None:
    alice_graphql, _ = graphql_as(world, "alice")
    assert alice_graphql("Mutation", "createTicket", input={"id": "t1", "title": "x"})["errors"] == []
    assert status(world, "PATCH", "/tickets/t1", rest_as(world, "bob"), {"title": "y"}) == 403
    assert status(world, "PATCH", "/tickets/t1", rest_as(world, "alice"), {"title": "y"}) == 200
