"""``make demo``: a scripted walkthrough through the local AppSync endpoint (``modelauth serve``).

It starts the endpoint in-process on a free loopback port with the embedded backend (moto on
127.0.0.1; no Docker, no network beyond loopback), signs up users in the local user pool, gets
identity-pool and STS credentials, mints OIDC and partner tokens, and then sends real HTTP
GraphQL requests in every auth mode to every model of ``appschema``. Each call is printed with
its verdict (ALLOW / DENY / 401), the reason of the decision (from the endpoint's
``x-modelauth-reasons`` header: AppSync's directive check, the Lambda authorizer, or the rules),
and the data or errors the client got. The exit code is 1 when any call is decided unexpectedly.

Example::

    $ modelauth demo          # or: make demo
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from modelauth.rules import Schema

__all__ = ["Call", "Caller", "main", "run"]

ALLOW, DENY, REJECT = "ALLOW", "DENY", "401"


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
    expect: str
    note: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    title: str
    calls: tuple[Call, ...]


def _sections() -> list[Section]:
    todo = "{ id content done owner }"
    return [
        Section(
            "Todo - owner; anyone with the API key may read",
            (
                Call(
                    "alice",
                    f'mutation {{ createTodo(input: {{id: "todo-1", content: "buy milk"}}) {todo} }}',
                    ALLOW,
                ),
                Call("bob", f'query {{ getTodo(id: "todo-1") {todo} }}', DENY, "bob is not the owner"),
                Call("bob", 'mutation { updateTodo(input: {id: "todo-1", done: true}) { id } }', DENY),
                Call(
                    "api key",
                    "query { listTodos { items { id content owner } } }",
                    ALLOW,
                    "public API-key read",
                ),
                Call(
                    "api key",
                    'mutation { createTodo(input: {content: "spam"}) { id } }',
                    DENY,
                    "API key: read only",
                ),
                Call(
                    "alice", f'mutation {{ updateTodo(input: {{id: "todo-1", done: true}}) {todo} }}', ALLOW
                ),
                Call("guest", 'query { getTodo(id: "todo-1") { id } }', DENY, "Todo has no @aws_iam"),
            ),
        ),
        Section(
            "Post - co-owners in `editors`; readers by the `groups` field; Admin group; guests read",
            (
                Call(
                    "alice",
                    'mutation { createPost(input: {id: "post-1", title: "Hello", editors: ["alice"], '
                    'groups: ["editors"]}) { id title editors groups } }',
                    ALLOW,
                ),
                Call("bob", 'query { getPost(id: "post-1") { id title } }', DENY, "not an editor, no group"),
                Call(
                    "carol",
                    'mutation { updatePost(input: {id: "post-1", body: "by Admin"}) { id body } }',
                    ALLOW,
                ),
                Call("guest", 'query { getPost(id: "post-1") { id title body } }', ALLOW, "guests read"),
                Call(
                    "guest",
                    'mutation { deletePost(input: {id: "post-1"}) { id } }',
                    DENY,
                    "AppSync: no @aws_iam",
                ),
            ),
        ),
        Section(
            "CatalogItem - public catalogue: API key, guests and signed-in users read; Admin writes",
            (
                Call(
                    "carol",
                    'mutation { createCatalogItem(input: {id: "pen", name: "Pen", price: 1.5}) { id } }',
                    ALLOW,
                ),
                Call("alice", 'mutation { createCatalogItem(input: {name: "Hat", price: 9}) { id } }', DENY),
                Call("api key", 'query { getCatalogItem(id: "pen") { id name price } }', ALLOW),
                Call("alice (identity pool)", "query { listCatalogItems { items { id name } } }", ALLOW),
            ),
        ),
        Section(
            "Profile - signed-in users read; owners write; `ssn` readable by its owner only",
            (
                Call(
                    "alice",
                    'mutation { createProfile(input: {id: "prof-alice", name: "Alice", ssn: "123-45-6789"}) '
                    "{ id name ssn } }",
                    ALLOW,
                    "mutation results null protected fields, as Amplify",
                ),
                Call(
                    "bob",
                    'query { getProfile(id: "prof-alice") { id name ssn } }',
                    ALLOW,
                    "ssn nulled for bob",
                ),
                Call("bob", 'mutation { updateProfile(input: {id: "prof-alice", ssn: "0"}) { id } }', DENY),
                Call("alice", 'query { getProfile(id: "prof-alice") { id name ssn } }', ALLOW),
            ),
        ),
        Section(
            "Note - signed-in identity-pool users own their notes; the backend role sees all",
            (
                Call(
                    "guest",
                    'mutation { createNote(input: {text: "hi"}) { id owner } }',
                    DENY,
                    "a guest's identity id is anonymous: it owns nothing",
                ),
                Call(
                    "alice (identity pool)",
                    'mutation { createNote(input: {id: "note-alice", text: "mine"}) { id owner } }',
                    ALLOW,
                ),
                Call("bob (identity pool)", 'query { getNote(id: "note-alice") { id text } }', DENY),
                Call("backend role", "query { listNotes { items { id owner text } } }", ALLOW),
                Call("alice", "query { listNotes { items { id } } }", DENY, "user pools can't reach Note"),
            ),
        ),
        Section(
            "Ticket - Lambda authorizer: its callers read; the caller named in the token owns its tickets",
            (
                Call(
                    "dave (lambda)",
                    'mutation { createTicket(input: {id: "t-1", title: "VPN"}) { id owner } }',
                    ALLOW,
                ),
                Call("lambda key", "query { listTickets { items { id title owner } } }", ALLOW),
                Call(
                    "lambda key",
                    'mutation { createTicket(input: {title: "x"}) { id } }',
                    DENY,
                    "deniedFields",
                ),
                Call("bad token", "query { listTickets { items { id } } }", REJECT),
            ),
        ),
        Section(
            "Item - OIDC: owner by the `sub` claim; `Moderator` from the `groups` claim",
            (
                Call(
                    "erin (oidc)",
                    'mutation { createItem(input: {id: "item-1", name: "Lamp"}) { id owner } }',
                    ALLOW,
                ),
                Call(
                    "frank (oidc Moderator)",
                    'mutation { updateItem(input: {id: "item-1", name: "Desk"}) { id name } }',
                    ALLOW,
                ),
                Call("gina (oidc)", 'mutation { deleteItem(input: {id: "item-1"}) { id } }', DENY),
            ),
        ),
        Section(
            "Credentials refused before any resolver (HTTP 401)",
            (
                Call("unknown api key", "query { listTodos { items { id } } }", REJECT),
                Call("expired api key", "query { listTodos { items { id } } }", REJECT),
                Call("forged signature", "query { listNotes { items { id } } }", REJECT),
            ),
        ),
    ]


# --------------------------------------------------------------------------- set-up


def _callers(backend: Any, root_url: str) -> dict[str, Caller]:
    import boto3

    # the local identity pool and STS check no signature on these calls: any key will do
    options = {"endpoint_url": root_url, "region_name": backend.region, **_ANY_CREDENTIALS}
    identity = boto3.client("cognito-identity", **options)

    def pool_credentials(user: str | None = None) -> dict[str, str]:
        logins = {backend.login_provider: backend.token(user, "id")} if user else {}
        identity_id = identity.get_id(IdentityPoolId=backend.identity_pool_id, Logins=logins)["IdentityId"]
        creds = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
        return {k: creds[k] for k in ("AccessKeyId", "SecretKey", "SessionToken")}

    assumed = boto3.client("sts", **options).assume_role(
        RoleArn=f"arn:aws:iam::{backend.account_id}:role/modelauth-backend", RoleSessionName="worker"
    )
    role = assumed["Credentials"]
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
            Caller(
                "backend role",
                "AWS_IAM",
                credentials={
                    "AccessKeyId": role["AccessKeyId"],
                    "SecretKey": role["SecretAccessKey"],
                    "SessionToken": role["SessionToken"],
                },
            ),
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
    if response.status_code == 401:
        return _Result(REJECT, reasons, payload)
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
    expected = result.verdict == call.expect
    query = " ".join(call.query.split())
    print(f"{number:>3}. {caller.label} [{caller.mode}]", file=out)
    print(f"     {query if len(query) <= 100 else query[:97] + '...'}", file=out)
    flag = "" if expected else f"   <-- UNEXPECTED (expected {call.expect})"
    print(f"     {result.verdict}{flag}" + (f"   ({call.note})" if call.note else ""), file=out)
    for reason in result.reasons:
        print(f"       why {reason['field']}: {reason['reason']}", file=out)
    for error in result.body.get("errors") or ():
        print(f"       error: {error.get('message')} [{error.get('errorType')}]", file=out)
    if result.body.get("data"):
        print(f"       data:  {_short(result.body['data'])}", file=out)
    return expected


def _walk(url: str, callers: Mapping[str, Caller], out: TextIO) -> tuple[int, int]:
    number = unexpected = 0
    for section in _sections():
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
) -> int:
    """Run the walkthrough over ``schema``; 0 when every call was decided as expected."""
    SCHEMA = schema
    from modelauth.local.samtemplate import SamTemplate
    from modelauth.local.sandbox import Backend
    from modelauth.local.server import LocalServer

    started = time.monotonic()
    template = SamTemplate.load(template_path)
    backend = Backend.embedded(template, SCHEMA)
    backend.schema_ref = schema_ref
    try:
        backend.api_keys[_EXPIRED_KEY] = time.time() - 3600  # to show that expiry is honoured
        subs = {
            "alice": backend.add_user("alice", ["editors"]),
            "bob": backend.add_user("bob"),
            "carol": backend.add_user("carol", ["Admin"]),
        }
        with LocalServer(template, backend, port=0, log=None) as server:
            _banner(server.url, backend, subs, out)
            count, unexpected = _walk(server.url, _callers(backend, server.root_url), out)
    finally:
        backend.stop()
    verdict = "all decided as expected" if not unexpected else f"{unexpected} UNEXPECTED"
    print(f"\n{count} calls through {server.url}: {verdict} ({time.monotonic() - started:.1f} s)", file=out)
    return 1 if unexpected else 0


def _banner(url: str, backend: Any, subs: Mapping[str, str], out: TextIO) -> None:
    lines = [
        f"modelauth demo: real HTTP GraphQL calls to the local AppSync endpoint {url}",
        f"  backend: moto on {backend.aws_endpoint} (tables, user pool, identity pool); handlers in-process",
        "  signed up (user pool): " + ", ".join(f"{n} ({s[:8]}…)" for n, s in subs.items()),
        "  groups: alice in editors, carol in Admin; OIDC and partner tokens from local issuers",
    ]
    print("\n".join(lines), file=out)


def main() -> int:
    from modelauth.project import Project

    project = Project.find()
    ref, _ = project.schema_ref()
    return run(project.load_schema(), project.path("template"), schema_ref=str(ref))
