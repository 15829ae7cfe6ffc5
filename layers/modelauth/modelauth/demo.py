"""``make demo``: real requests through the resolver on the embedded backend (moto DynamoDB +
Cognito), printing each request's result and the decision's reason.

Users sign in against moto's Cognito and get real RS256 tokens; the tokens are verified with
moto's published keys and turned into the ``identity`` AppSync would send; the resolver Lambda
runs in-process against moto's DynamoDB.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Caller", "Step", "main", "run"]

PASSWORD = "Demo-passw0rd!"  # noqa: S105 - a throwaway user in in-process moto
API_KEY = "da2-demodemodemodemodemodemo"


@dataclass(frozen=True)
class Caller:
    """Who sends a request: a label, the identity AppSync would pass, headers, authType."""

    label: str
    identity: Mapping[str, Any] | None
    auth_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    caller: str
    parent: str
    field: str
    arguments: Mapping[str, Any]
    expect_allowed: bool
    note: str = ""


def _steps() -> list[Step]:
    todo = "todo-alice-1"
    return [
        Step(
            "alice",
            "Mutation",
            "createTodo",
            {"input": {"id": todo, "content": "buy milk"}},
            True,
            "owner omitted: filled with alice's sub::username",
        ),
        Step(
            "bob", "Mutation", "createTodo", {"input": {"id": "todo-bob-1", "content": "walk the dog"}}, True
        ),
        Step(
            "alice",
            "Mutation",
            "createTodo",
            {"input": {"content": "spoof", "owner": "{bob_sub}::bob"}},
            False,
            "a foreign owner is rejected, never rewritten",
        ),
        Step(
            "api key",
            "Mutation",
            "createTodo",
            {"input": {"content": "anonymous"}},
            False,
            "the public API-key rule is read-only",
        ),
        Step("api key", "Query", "listTodos", {}, True, "public read: every Todo"),
        Step("alice", "Query", "listTodos", {}, True, "owner rule: only alice's Todos (owner index query)"),
        Step("bob", "Query", "getTodo", {"id": todo}, False, "bob is not the owner"),
        Step("bob", "Mutation", "updateTodo", {"input": {"id": todo, "content": "hacked"}}, False),
        Step("alice", "Mutation", "updateTodo", {"input": {"id": todo, "done": True, "_version": 1}}, True),
        Step(
            "alice",
            "Mutation",
            "updateTodo",
            {"input": {"id": todo, "owner": "{bob_sub}::bob"}},
            False,
            "owners can't give records away unless a rule allows transfer",
        ),
        Step("bob", "Mutation", "deleteTodo", {"input": {"id": todo}}, False),
        Step("alice", "Mutation", "deleteTodo", {"input": {"id": todo}}, True),
    ]


def _fill(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _short(value: Any, width: int = 110) -> str:
    text = json.dumps(value, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def run(out: TextIO = sys.stdout) -> int:
    """Run the walkthrough; returns 0 when every request was decided as expected."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import boto3
    import jwt
    from appschema import SCHEMA
    from moto import mock_aws

    from modelauth.identity import IdentityConfig, Principal
    from modelauth.local import LocalUserPool, appsync_event, create_tables, moto_jwks, user_pool_identity
    from modelauth.resolvers import GraphQLApp, Outcome
    from modelauth.store import Store, dynamodb_client

    with mock_aws():
        ddb = dynamodb_client()
        tables = create_tables(ddb, SCHEMA)
        pool = LocalUserPool.create(boto3.client("cognito-idp"), groups=["Admin", "editors"])
        subs = {name: pool.add_user(name, PASSWORD) for name in ("alice", "bob")}
        keys = jwt.PyJWKSet.from_dict(moto_jwks())

        def verified_identity(username: str) -> dict[str, Any]:
            token = pool.sign_in(username, PASSWORD)["AccessToken"]
            key = keys[jwt.get_unverified_header(token)["kid"]]
            claims = jwt.decode(token, key, algorithms=["RS256"], issuer=pool.issuer)
            return user_pool_identity(claims)

        callers = {
            name: Caller(
                name, verified_identity(name), "User Pool Authorization", {"authorization": "<access token>"}
            )
            for name in subs
        }
        callers["api key"] = Caller("api key", None, "API Key Authorization", {"x-api-key": API_KEY})

        outcomes: list[Outcome] = []
        app = GraphQLApp(
            SCHEMA,
            Store(ddb, tables, token_key=os.urandom(32)),
            identity_config=IdentityConfig(user_pool_issuers=frozenset({pool.issuer})),
            on_outcome=outcomes.append,
        )
        print(
            "modelauth demo: embedded moto DynamoDB + Cognito (real RS256 tokens), resolver in-process\n",
            file=out,
        )
        for name, sub in subs.items():
            print(f"  signed in {name:<6} sub={sub}", file=out)
        print(f"  api key    {API_KEY[:8]}…\n", file=out)
        return _walk(app, callers, outcomes, {"bob_sub": subs["bob"]}, appsync_event, Principal, out)


def _walk(
    app: Any,
    callers: Mapping[str, Caller],
    outcomes: list[Any],
    names: Mapping[str, str],
    make_event: Callable[..., dict[str, Any]],
    principal_cls: Any,
    out: TextIO,
) -> int:
    mismatches = 0
    steps = _steps()
    for number, step in enumerate(steps, 1):
        caller = callers[step.caller]
        arguments = _fill(step.arguments, names)
        event = make_event(
            step.parent,
            step.field,
            arguments,
            caller.identity,
            headers=caller.headers,
            auth_type=caller.auth_type,
        )
        outcomes.clear()
        result = app.resolve(event, None)
        allowed = not result["errors"] or result["data"] is not None
        mode = principal_cls.from_appsync(event, auth_type=caller.auth_type).mode.value
        verdict = "ALLOW" if allowed else "DENY"
        flag = "" if allowed == step.expect_allowed else "   <-- UNEXPECTED"
        mismatches += allowed != step.expect_allowed
        print(f"{number:>2}. {caller.label:<8} {mode:<26} {step.field}({_short(arguments, 70)})", file=out)
        print(f"    {verdict}{flag}", file=out)
        if outcomes:
            print(f"    why:    {outcomes[-1].reason}", file=out)
        if step.note:
            print(f"    note:   {step.note}", file=out)
        if result["errors"]:
            print(f"    errors: {_short(result['errors'])}", file=out)
        if result["data"] is not None:
            print(f"    data:   {_short(result['data'])}", file=out)
        print(file=out)
    allowed_count = sum(1 for s in steps if s.expect_allowed)
    summary = (
        f"{len(steps)} requests, {allowed_count} meant to be allowed, {len(steps) - allowed_count} denied"
    )
    print(
        summary + (": all decided as expected." if not mismatches else f": {mismatches} UNEXPECTED."),
        file=out,
    )
    return 1 if mismatches else 0


def main() -> int:
    return run()
