"""``modelauth explain``: the access matrix of every model, and why one request is allowed or denied.

The matrix is :func:`modelauth.policy.explain` per model (caller kind x operation → ``allowed`` /
``only own`` / ``only group`` / ``conditional`` / ``denied``), rendered as a table or JSON.

A single request is judged as the local endpoint would: first AppSync's stage (the ``@aws_*``
directives of the operation's field, and a Lambda authorizer's ``deniedFields``), then the
resolver's :func:`~modelauth.policy.decide` with the stored item when ``--id`` names one (for a
model with a custom identifier ``--key customerEmail=a@example.com --key orderId=o-1``, the
whole key: :func:`item_key`). The
caller comes from an event file (AppSync or API Gateway, e.g. ``events/getTodo.alice.json``) or
from a credential the running endpoint would accept (a user-pool / OIDC / partner JWT, an API
key, a Lambda-authorizer key), authenticated exactly as the endpoint does.

Example::

    >>> from modelauth.identity import AuthMode, Principal
    >>> from modelauth.rules import Model, Operation, allow
    >>> todo = Model("Todo", rules=[allow.owner()])
    >>> bob = Principal(AuthMode.USER_POOLS, sub="B2", username="bob")
    >>> print(explain_request(bob, todo, Operation.UPDATE, item={"id": "t1", "owner": "A1::alice"}).render())
    DENY  update Todo as AMAZON_COGNITO_USER_POOLS bob
      stage:  resolver (rules)
      why:    owner rule: caller is 'B2::bob', item owner is 'A1::alice'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelauth.errors import BadRequest
from modelauth.identity import IdentityConfig, Principal
from modelauth.policy import AuthConfig, decide, explain
from modelauth.rules import Model, Operation, Schema, operation_kind, root_fields
from modelauth.store import ItemKey, check_key, key_from_text

__all__ = [
    "RequestExplanation",
    "access_matrix",
    "explain_request",
    "graphql_field",
    "item_key",
    "principal_from_file",
    "render_matrix",
]


def access_matrix(schema: Schema, config: AuthConfig | None = None) -> dict[str, dict[str, dict[str, str]]]:
    """model → caller kind → operation → cell, for every model of ``schema``; and for each
    custom operation (``Mutation.publishPost``) caller kind → ``call`` → cell (``only own``:
    only when the item its argument names is the caller's)."""
    matrix = {model.name: explain(model, config) for model in schema.models}
    for bound in schema.bound_operations:
        # a custom subscription of a model also needs the model's listen (its filter)
        listen = (
            explain(bound.returns, config) if bound.op.type_name == "Subscription" and bound.returns else {}
        )
        rows: dict[str, dict[str, str]] = {}
        for kind, ops in explain(bound.gate, config).items():
            cell = ops.get("get", "denied")
            if listen and cell != "denied":
                cell = listen.get(kind, {}).get("listen", "denied")
            rows[kind] = {"call": cell}
        matrix[bound.op.field] = rows
    return matrix


def render_matrix(matrix: Mapping[str, Mapping[str, Mapping[str, str]]]) -> str:
    """The matrix as one aligned table per model.

    >>> print(render_matrix({"Todo": {"api_key": {"get": "allowed", "create": "denied"}}}))
    Todo     get      create
    api_key  allowed  denied
    """
    blocks = []
    for model, rows in matrix.items():
        operations = list(dict.fromkeys(op for cells in rows.values() for op in cells))
        table = [[model, *operations]] + [
            [kind, *(cells.get(op, "") for op in operations)] for kind, cells in rows.items()
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        blocks.append(
            "\n".join(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                for row in table
            )
        )
    return "\n\n".join(blocks)


def graphql_field(model: Model, operation: Operation) -> tuple[str, str] | None:
    """The root field that performs ``operation`` on ``model`` (``listen``: ``onCreate…``;
    None: no GraphQL field, e.g. ``sync``)."""
    root = next((f for f in root_fields(model) if f.operation is operation), None)
    return (root.type_name, root.field_name) if root else None


def _disabled_reason(model: Model, operation: Operation) -> str | None:
    """Why ``operation`` does not exist on ``model`` (every root field of it disabled), or None."""
    kinds = [
        operation_kind(model, f)
        for f in root_fields(model, include_disabled=True)
        if f.operation is operation
    ]
    if kinds and not any(model.is_enabled(kind) for kind in kinds):
        return f"{model.name} disables {', '.join(kinds)}: the operation is not in the API"
    return None


@dataclass(frozen=True)
class RequestExplanation:
    """The verdict on one request and where it was reached (``appsync`` or ``resolver``)."""

    model: str
    operation: str
    mode: str
    caller: str
    allowed: bool
    stage: str
    reason: str
    rule: str | None = None
    constraint: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        lines = [
            f"{'ALLOW' if self.allowed else 'DENY '} {self.operation} {self.model} "
            f"as {self.mode} {self.caller}",
            f"  stage:  {self.stage}",
            f"  why:    {self.reason}",
        ]
        if self.rule:
            lines.append(f"  rule:   {self.rule}")
        if self.constraint:
            lines.append(f"  only:   items where {self.constraint} (the store enforces it atomically)")
        return "\n".join(lines)


def _caller(principal: Principal) -> str:
    iam = principal.iam
    return principal.username or principal.sub or (iam.user_arn if iam else None) or principal.mode.value


def explain_request(
    principal: Principal,
    model: Model,
    operation: Operation,
    *,
    item: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    config: AuthConfig | None = None,
    field_modes: Mapping[tuple[str, str], frozenset[str]] | None = None,
    denied_fields: frozenset[str] = frozenset(),
    via: tuple[str, str] | None = None,
) -> RequestExplanation:
    """Judge one request: AppSync's directive / ``deniedFields`` check, then the rules.

    ``via``: the relationship field the request comes through (``("Post", "comments")``: a
    ``list`` of Comment below a Post), whose directives AppSync checks instead of a root field's."""
    base = {"model": model.name, "operation": operation.value, "mode": principal.mode.value}
    base["caller"] = _caller(principal)
    disabled = _disabled_reason(model, operation)
    if disabled is not None:
        return RequestExplanation(**base, allowed=False, stage="schema (disabled operation)", reason=disabled)
    target = via or graphql_field(model, operation)
    if target is not None:
        where = ".".join(target)
        modes = (field_modes or {}).get(target)
        if modes is not None and principal.mode.value not in modes:
            allowed = ", ".join(sorted(modes))
            why = f"{where} is reachable only with {allowed}: AppSync refuses before the resolver"
            return RequestExplanation(**base, allowed=False, stage="appsync (@aws_* directives)", reason=why)
        if where in denied_fields:
            why = f"the Lambda authorizer listed {where} in deniedFields"
            return RequestExplanation(**base, allowed=False, stage="appsync (Lambda authorizer)", reason=why)
    decision = decide(principal, model, operation, item=item, input=input, config=config)
    return RequestExplanation(
        **base,
        allowed=decision.allowed,
        stage="resolver (rules)",
        reason=decision.reason,
        rule=decision.rule.describe() if decision.rule else None,
        constraint=decision.constraint.describe() if decision.constraint else None,
    )


def item_key(model: Model, item_id: str | None = None, parts: Sequence[str] = ()) -> ItemKey | None:
    """The key of the stored item to judge against: ``item_id`` (``--id``) for an ``id``-keyed
    model, or ``parts`` (``--key name=value``, one per key field, numbers for number keys) for
    any model; None when neither is given. Anything else is a :class:`BadRequest` naming the key.

    >>> from modelauth.rules import Field
    >>> order = Model("Order", fields=[Field("email", required=True), Field("n", "Int", required=True)],
    ...               identifier=["email", "n"])
    >>> item_key(order, parts=["email=a@example.com", "n=7"])
    {'email': 'a@example.com', 'n': 7}
    >>> item_key(order, "o-1")
    Traceback (most recent call last):
    modelauth.errors.BadRequest: Order is keyed by email, n: pass --key email=... --key n=...
    """
    keys = model.key_fields
    usage = " ".join(f"--key {name}=..." for name in keys)
    if item_id is not None and parts:
        raise BadRequest("--id and --key name the same item: pass one of them")
    if item_id is not None:
        if keys != ("id",):
            raise BadRequest(f"{model.name} is keyed by {', '.join(keys)}: pass {usage}")
        return check_key(model, item_id, "--id")
    if not parts:
        return None
    values: dict[str, object] = {}
    for part in parts:
        name, eq, text = part.partition("=")
        if not eq:
            raise BadRequest(f"--key takes name=value, not {part!r}")
        if name not in keys:
            raise BadRequest(f"--key {name}: not a key field of {model.name} (its key: {', '.join(keys)})")
        if name in values:
            raise BadRequest(f"--key {name} is given twice")
        values[name] = key_from_text(model, name, text)
    if set(values) != set(keys):
        raise BadRequest(f"the key of {model.name} is {', '.join(keys)}: pass {usage}")
    return check_key(model, values["id"] if keys == ("id",) else values, "--key")


def principal_from_file(path: Path, config: IdentityConfig | None = None) -> Principal:
    """The caller of an event file: AppSync direct-resolver or API Gateway proxy event."""
    event = json.loads(path.read_text())
    if isinstance(event, dict) and "identity" not in event and "requestContext" in event:
        return Principal.from_apigw(event, config=config)
    return Principal.from_appsync(event, config=config)
