"""Callers and a GraphQL client for functional tests: AppSync events built like AppSync does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelauth.local import appsync_event
from modelauth.resolvers import GraphQLApp

POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"


def user(username: str, sub: str, groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """The identity AppSync passes for a user-pool access token."""
    claims: dict[str, Any] = {"sub": sub, "iss": POOL, "username": username, "token_use": "access"}
    if groups:
        claims["cognito:groups"] = list(groups)
    return {
        "sub": sub,
        "issuer": POOL,
        "username": username,
        "claims": claims,
        "sourceIp": ["203.0.113.10"],
        "defaultAuthStrategy": "ALLOW",
        "groups": list(groups) or None,
    }


ALICE = user("alice", "a1")
BOB = user("bob", "b2")
CAROL = user("carol", "c3", ("Admin",))
DAVE = user("dave", "d4", ("Sales",))


@dataclass
class Client:
    """Sends GraphQL fields through the resolver as one caller."""

    app: GraphQLApp
    identity: Mapping[str, Any] | None
    auth_type: str = "User Pool Authorization"
    headers: Mapping[str, str] | None = None

    def call(self, parent: str, field: str, **arguments: Any) -> dict[str, Any]:
        event = appsync_event(
            parent, field, arguments, self.identity, headers=self.headers, auth_type=self.auth_type
        )
        return self.app.resolve(event, None)

    def nested(self, parent: str, field: str, source: Mapping[str, Any] | None, **arguments: Any) -> Any:
        """A field below an item, as AppSync invokes its resolver: ``source`` is the parent
        field's result (the envelope ``{"data", "errors"}`` comes back)."""
        event = appsync_event(
            parent, field, arguments, self.identity, headers=self.headers, auth_type=self.auth_type
        )
        event["source"] = dict(source) if source is not None else None
        return self.app.resolve(event, None)

    def query(self, field: str, **arguments: Any) -> Any:
        """The field's data, asserting there was no error."""
        result = self.call("Query", field, **arguments)
        assert result["errors"] == [], result
        return result["data"]

    def mutate(self, field: str, **input_fields: Any) -> Any:
        result = self.call("Mutation", field, input=input_fields)
        assert result["errors"] == [], result
        return result["data"]

    def error(self, parent: str, field: str, **arguments: Any) -> dict[str, Any]:
        """The single error of a refused call (asserting data is null)."""
        result = self.call(parent, field, **arguments)
        assert result["data"] is None, result
        [error] = result["errors"]
        return dict(error)


def list_all(client: Client, field: str, **arguments: Any) -> list[dict[str, Any]]:
    """Every item of a list field, following nextToken; asserts pages are full."""
    items: list[dict[str, Any]] = []
    token = None
    limit = arguments.pop("limit", 100)
    while True:
        page = client.query(field, limit=limit, nextToken=token, **arguments)
        items += page["items"]
        token = page["nextToken"]
        if token is None:
            return items
        assert len(page["items"]) == limit, "a non-final page must be full"
