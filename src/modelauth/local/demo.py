"""``make demo``: a scripted walkthrough through the local AppSync endpoint (``modelauth serve``).

It starts the endpoint in-process on a free loopback port with the embedded backend (moto on
127.0.0.1; no Docker, no network beyond loopback), signs up users in the local user pool, gets
identity-pool and STS credentials, mints OIDC and partner tokens, and then sends real HTTP
GraphQL requests in every auth mode to every model of ``appschema``. Each call is printed with
its verdict (ALLOW / DENY / REJECTED: a 401 or 403 before any field), the reason of the
decision (from the endpoint's
``x-modelauth-reasons`` header: AppSync's directive check, the Lambda authorizer, or the rules),
and the data or errors the client got. The exit code is 1 when any call is decided unexpectedly.

Example::

    $ modelauth demo          # or: make demo
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from modelauth.local import sample_input, selection_of
from modelauth.rules import Schema

__all__ = ["ALLOW", "DENY", "INVALID", "REJECT", "Call", "Caller", "Section", "main", "run", "tour"]

ALLOW, DENY, REJECT = "ALLOW", "DENY", "REJECTED"
#: a value refused before any rule: AppSync's own check of the query (ValidationError) or
#: modelauth's input checks (BadRequest)
INVALID = "INVALID"


@dataclass(frozen=True)
class Caller:
    """Who sends a request: fixed headers, or AWS credentials to SigV4-sign each request with."""

    label: str
    mode: str
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Call:
    """One GraphQL request of the walkthrough and the verdict it must get."""

    caller: str
    query: str
    #: the verdict the rules must give; None: shown, not checked (:func:`tour`)
    expect: str | None
    note: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    title: str
    calls: tuple[Call, ...]


def tour(schema: Schema) -> list[Section]:
    """Calls derived from ``schema`` for any project: per model, a create by alice (a signed-in
    user), reads by every kind of caller, and writes by bob (another user). No verdict is
    expected of them (``expect=None``): the endpoint's decisions and reasons are the output."""
    callers = (
        "alice",
        "bob",
        "carol",
        "api key",
        "guest",
        "alice (identity pool)",
        "erin (oidc)",
        "dave (lambda)",
    )
    sections = []
    for model in schema.models:
        selection = "{ id " + selection_of(model.fields) + " }"
        item_id = f"{model.name.lower()}-demo-1"
        create = (
            f"mutation($input: Create{model.name}Input!) {{ create{model.name}(input: $input) {selection} }}"
        )
        get = f'query {{ get{model.name}(id: "{item_id}") {selection} }}'
        update = (
            f"mutation($input: Update{model.name}Input!) {{ update{model.name}(input: $input) {{ id }} }}"
        )
        delete = f'mutation {{ delete{model.name}(input: {{id: "{item_id}"}}) {{ id }} }}'
        listing = f"query {{ list{model.list_name}(limit: 5) {{ items {{ id }} nextToken }} }}"
        calls = [Call("alice", create, None, variables={"input": sample_input(model, item_id)})]
        calls += [Call(caller, get, None) for caller in callers]
        calls += [Call(caller, listing, None) for caller in ("bob", "api key")]
        calls += [
            Call("bob", update, None, variables={"input": {"id": item_id}}),
            Call("bob", delete, None),
            Call("alice", delete, None),
        ]
        rules = ", ".join(f"{r.strategy.value}({r.provider.value})" for r in model.rules)
        sections.append(Section(f"{model.name} - rules: {rules}", tuple(calls)))
    return sections


# --------------------------------------------------------------------------- set-up


def _callers(backend: Any, root_url: str, needed: frozenset[str]) -> dict[str, Caller]:
    import boto3

    # the local identity pool and STS check no signature on these calls: any key will do
    options = {"endpoint_url": root_url, "region_name": backend.region, **_ANY_CREDENTIALS}
    identity = boto3.client("cognito-identity", **options)

    def pool_credentials(user: str | None = None) -> dict[str, str]:
        logins = {backend.login_provider: backend.token(user, "id")} if user else {}
        identity_id = identity.get_id(IdentityPoolId=backend.identity_pool_id, Logins=logins)["IdentityId"]
        creds = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
        return {k: creds[k] for k in ("AccessKeyId", "SecretKey", "SessionToken")}

    def role_credentials() -> dict[str, str]:
        assumed = boto3.client("sts", **options).assume_role(
            RoleArn=f"arn:aws:iam::{backend.account_id}:role/modelauth-backend", RoleSessionName="worker"
        )
        role = assumed["Credentials"]
        return {
            "AccessKeyId": role["AccessKeyId"],
            "SecretKey": role["SecretAccessKey"],
            "SessionToken": role["SessionToken"],
        }

    guest = pool_credentials()
    api_key = next(iter(backend.api_keys))

    def bearer(token: str) -> dict[str, str]:
        return {"authorization": token}

    up = "AMAZON_COGNITO_USER_POOLS"
    return {
        c.label: c
        for c in [
            *(Caller(name, up, bearer(backend.token(name))) for name in ("alice", "bob", "carol")),
            Caller("api key", "API_KEY", {"x-api-key": api_key}),
            Caller("guest", "AWS_IAM", credentials=guest),
            Caller("alice (identity pool)", "AWS_IAM", credentials=pool_credentials("alice")),
            Caller("bob (identity pool)", "AWS_IAM", credentials=pool_credentials("bob")),
            Caller("dave (lambda)", "AWS_LAMBDA", bearer(backend.token("dave", "lambda"))),
            Caller("lambda key", "AWS_LAMBDA", bearer(backend.lambda_api_key)),
            Caller("bad token", "AWS_LAMBDA", bearer("not-a-token")),
            Caller("erin (oidc)", "OPENID_CONNECT", bearer(backend.token("erin", "oidc"))),
            Caller(
                "frank (oidc Moderator)",
                "OPENID_CONNECT",
                bearer(backend.token("frank", "oidc", ["Moderator"])),
            ),
            Caller("gina (oidc)", "OPENID_CONNECT", bearer(backend.token("gina", "oidc"))),
            Caller("unknown api key", "API_KEY", {"x-api-key": "da2-" + "x" * 26}),
            Caller("expired api key", "API_KEY", {"x-api-key": _EXPIRED_KEY}),
            Caller("forged signature", "AWS_IAM", credentials={**guest, "SecretKey": "not-the-secret"}),
        ]
        # a role of the template's: only when the calls use it (a project may have none)
        + (
            [Caller("backend role", "AWS_IAM", credentials=role_credentials())]
            if "backend role" in needed
            else []
        )
    }


_ANY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
_EXPIRED_KEY = "da2-" + "expired" * 3 + "00000"


# --------------------------------------------------------------------------- the walk


@dataclass
class _Result:
    verdict: str
    reasons: list[dict[str, Any]]
    body: dict[str, Any]


def _send(url: str, caller: Caller, call: Call) -> _Result:
    import requests

    body = json.dumps({"query": call.query, "variables": dict(call.variables)}).encode()
    headers = {"content-type": "application/json", "x-modelauth-explain": "1", **caller.headers}
    if caller.credentials is not None:
        headers = _signed(url, body, headers, caller.credentials)
    response = requests.post(url, data=body, headers=headers, timeout=30)
    reasons = json.loads(response.headers.get("x-modelauth-reasons") or "[]")
    payload = response.json()
    if response.status_code in (401, 403):  # refused before any field: AppSync's 401s and SigV4 403s
        return _Result(REJECT, reasons, payload)
    kinds = {e.get("errorType") for e in payload.get("errors") or () if isinstance(e, dict)}
    if kinds & {"BadRequest", "ValidationError"}:
        return _Result(INVALID, reasons, payload)
    denied = any(not r["allowed"] for r in reasons if r["field"].split(".")[0] in ("Query", "Mutation"))
    return _Result(DENY if denied or response.status_code != 200 else ALLOW, reasons, payload)


def _signed(url: str, body: bytes, headers: dict[str, str], creds: Mapping[str, str]) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    credentials = Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
    SigV4Auth(credentials, "appsync", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _short(value: Any, width: int = 104) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= width else text[: width - 3] + "..."


def _print_call(number: int, caller: Caller, call: Call, result: _Result, out: TextIO) -> bool:
    if call.expect is None:  # a tour call: anything but an authorization answer is a fault
        kinds = {e.get("errorType") for e in result.body.get("errors") or ()}
        expected = kinds <= {"Unauthorized", "UnauthorizedException"}
    else:
        expected = result.verdict == call.expect
    query = " ".join(call.query.split())
    print(f"{number:>3}. {caller.label} [{caller.mode}]", file=out)
    print(f"     {query if len(query) <= 100 else query[:97] + '...'}", file=out)
    flag = "" if expected else f"   <-- UNEXPECTED (expected {call.expect or 'an allow or a deny'})"
    print(f"     {result.verdict}{flag}" + (f"   ({call.note})" if call.note else ""), file=out)
    for reason in result.reasons:
        print(f"       why {reason['field']}: {reason['reason']}", file=out)
    for error in result.body.get("errors") or ():
        print(f"       error: {error.get('message')} [{error.get('errorType')}]", file=out)
    if result.body.get("data"):
        print(f"       data:  {_short(result.body['data'])}", file=out)
    return expected


def _walk(
    url: str, callers: Mapping[str, Caller], sections: Sequence[Section], out: TextIO
) -> tuple[int, int]:
    number = unexpected = 0
    for section in sections:
        print(f"\n== {section.title}", file=out)
        for call in section.calls:
            number += 1
            caller = callers[call.caller]
            unexpected += not _print_call(number, caller, call, _send(url, caller, call), out)
    return number, unexpected


def run(
    schema: Schema,
    template_path: Path = Path("template.yaml"),
    out: TextIO = sys.stdout,
    *,
    schema_ref: str | None = None,
    sections: Sequence[Section] | None = None,
    users: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Run ``sections`` (default: :func:`tour` of ``schema``) through a local endpoint; 0 when
    every call was decided as expected. ``users``: user-pool users and their groups (default:
    alice, bob, and carol in every group the template defines)."""
    from modelauth.local.samtemplate import SamTemplate
    from modelauth.local.sandbox import Backend
    from modelauth.local.server import LocalServer

    started = time.monotonic()
    template = SamTemplate.load(template_path)
    backend = Backend.embedded(template, schema)
    backend.schema_ref = schema_ref
    try:
        backend.api_keys[_EXPIRED_KEY] = time.time() - 3600  # to show that expiry is honoured
        if users is None:
            groups = [str(g["GroupName"]) for g in template.of_type("AWS::Cognito::UserPoolGroup").values()]
            users = {"alice": [], "bob": [], "carol": groups}
        subs = {name: backend.add_user(name, list(groups)) for name, groups in users.items()}
        with LocalServer(template, backend, port=0, log=None) as server:
            _banner(server.url, backend, users, subs, out)
            calls = tour(schema) if sections is None else sections
            needed = frozenset(c.caller for section in calls for c in section.calls)
            callers = _callers(backend, server.root_url, needed)
            count, unexpected = _walk(server.url, callers, calls, out)
    finally:
        backend.stop()
    verdict = "all decided as expected" if not unexpected else f"{unexpected} UNEXPECTED"
    print(f"\n{count} calls through {server.url}: {verdict} ({time.monotonic() - started:.1f} s)", file=out)
    return 1 if unexpected else 0


def _banner(
    url: str, backend: Any, users: Mapping[str, Sequence[str]], subs: Mapping[str, str], out: TextIO
) -> None:
    groups = "; ".join(f"{n} in {', '.join(g)}" for n, g in users.items() if g) or "none"
    lines = [
        f"modelauth demo: real HTTP GraphQL calls to the local AppSync endpoint {url}",
        f"  backend: moto on {backend.aws_endpoint} (tables, user pool, identity pool); handlers in-process",
        "  signed up (user pool): " + ", ".join(f"{n} ({s[:8]}…)" for n, s in subs.items()),
        f"  groups: {groups}; OIDC and partner tokens from local issuers",
    ]
    print("\n".join(lines), file=out)


def main() -> int:
    from modelauth.project import Project

    project = Project.find()
    ref, _ = project.schema_ref()
    return run(project.load_schema(), project.path("template"), schema_ref=str(ref))
