"""Wires a schema into Powertools' ``AppSyncResolver``: ``getX``, ``listXs``, ``createX``,
``updateX``, ``deleteX`` for every model, each going Principal → decide → store.

The Lambda always answers with an envelope ``{"data": ..., "errors": [...]}``; the APPSYNC_JS
step (graphql/invoke.js) turns its errors into ``util.error`` / ``util.appendError`` so clients
see Amplify's ``errorType: "Unauthorized"`` rather than ``Lambda:Unhandled``. Errors are mapped
to GraphQL here and only here.

Example (functions/graphql/app.py)::

    from appschema import SCHEMA
    from modelauth.resolvers import GraphQLApp

    app = GraphQLApp.from_env(SCHEMA)

    def lambda_handler(event, context):
        return app.resolve(event, context)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import AppSyncResolver

from modelauth.errors import BadRequest, ModelAuthError, Unauthorized, UnauthorizedFields
from modelauth.identity import IdentityConfig, Principal
from modelauth.policy import AuthConfig, Decision, decide, denied_read_fields, present
from modelauth.rules import Model, Operation, Schema
from modelauth.store import Store
from modelauth.subscriptions import SUBSCRIPTION_PREFIXES, check_model, subscription_filter
from modelauth.validation import check_arguments, check_id, check_input

__all__ = ["GraphQLApp", "Outcome", "OutcomeListener", "caller_key"]

logger = Logger(service="modelauth")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one request ended, for logs, the demo and ``explain``: the final reason includes
    what the data layer found (e.g. the stored owner) when its condition refused a write."""

    field: str
    principal: Principal | None
    allowed: bool
    reason: str
    decision: Decision | None


OutcomeListener = Callable[[Outcome], None]


def caller_key(principal: Principal) -> str:
    """A stable identifier of the caller, to bind nextTokens to it (never the raw API key)."""
    who = principal.sub or (principal.iam.user_arn if principal.iam else None) or principal.username
    if who is None and principal.api_key:
        who = "key:" + hashlib.sha256(principal.api_key.encode()).hexdigest()[:16]
    return f"{principal.mode.value}:{who or ''}"


@dataclass
class _Request:
    """Per-invocation state: the caller and the non-fatal errors (denied fields) to report."""

    principal: Principal
    type_name: str
    field_name: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    decision: Decision | None = None


@dataclass(frozen=True, slots=True)
class _Subscription:
    """A subscribe-time answer: the enhanced filter (None: every event of the model)."""

    filter: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class _Route:
    model: Model
    operation: Operation


class GraphQLApp:
    """The AppSync resolver for every model of a schema."""

    def __init__(
        self,
        schema: Schema,
        store: Store,
        *,
        identity_config: IdentityConfig | None = None,
        auth_config: AuthConfig | None = None,
        on_outcome: OutcomeListener | None = None,
    ) -> None:
        self.schema = schema
        self.store = store
        self.identity_config = identity_config or IdentityConfig()
        self.auth_config = auth_config or AuthConfig()
        self.on_outcome = on_outcome
        self.router = AppSyncResolver()  # type: ignore[no-untyped-call]
        self.routes: dict[tuple[str, str], _Route] = {}
        self._request: _Request | None = None
        for model in schema.models:
            self._register(model)

    @classmethod
    def from_env(cls, schema: Schema) -> GraphQLApp:
        """Build once at import: DynamoDB client, tables and settings from the environment."""
        import os

        auth = AuthConfig(
            identity_pool_id=os.environ.get("IDENTITY_POOL_ID") or None,
            auth_role_arns=_arn_set(os.environ.get("AUTH_ROLE_ARNS")),
            unauth_role_arns=_arn_set(os.environ.get("UNAUTH_ROLE_ARNS")),
            generic_iam_access=os.environ.get("GENERIC_IAM_ACCESS", "").lower() == "true",
        )
        return cls(
            schema, Store.from_env(schema.models), identity_config=IdentityConfig.from_env(), auth_config=auth
        )

    # -- wiring ---------------------------------------------------------------------------------
    def _register(self, model: Model) -> None:
        name = model.name
        handlers: dict[tuple[str, str, Operation], Callable[..., Any]] = {
            ("Query", f"get{name}", Operation.GET): lambda **a: self._get(model, a),
            ("Query", f"list{model.list_name}", Operation.LIST): lambda **a: self._list(model, a),
            ("Mutation", f"create{name}", Operation.CREATE): lambda **a: self._create(model, a),
            ("Mutation", f"update{name}", Operation.UPDATE): lambda **a: self._update(model, a),
            ("Mutation", f"delete{name}", Operation.DELETE): lambda **a: self._delete(model, a),
        }
        check_model(model)
        for prefix in SUBSCRIPTION_PREFIXES:
            handlers[("Subscription", f"{prefix}{name}", Operation.LISTEN)] = lambda **a: self._subscribe(
                model, a
            )
        for (type_name, field_name, op), handler in handlers.items():
            self.router.resolver(type_name=type_name, field_name=field_name)(handler)
            self.routes[(type_name, field_name)] = _Route(model, op)

    # -- entry point ----------------------------------------------------------------------------
    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        """Answer one AppSync invocation with the ``{"data", "errors"}`` envelope."""
        type_name, field_name = _field_of(event)
        where = f"{type_name}.{field_name}"
        principal: Principal | None = None
        try:
            if (type_name, field_name) not in self.routes:
                raise BadRequest(f"Unknown field {where}")
            auth_type = event.get("authType")
            if auth_type is not None and not isinstance(auth_type, str):
                raise BadRequest("authType must be a string")
            principal = Principal.from_appsync(event, auth_type=auth_type, config=self.identity_config)
            self._request = _Request(principal, type_name, field_name)
            arguments = event.get("arguments")
            if arguments is not None and not isinstance(arguments, dict):
                raise BadRequest(f"{field_name}: arguments must be an object")
            data = self.router.resolve({**event, "arguments": arguments or {}}, context)
            decision = self._request.decision
            self._report(Outcome(where, principal, True, decision.reason if decision else "", decision))
            if isinstance(data, _Subscription):
                # graphql/invoke.js passes it to extensions.setSubscriptionFilter
                return {"data": None, "errors": [], "subscriptionFilter": data.filter}
            return {"data": data, "errors": self._request.errors}
        except ModelAuthError as exc:
            decision = self._request.decision if self._request else None
            self._report(Outcome(where, principal, False, exc.reason, decision))
            return {"data": None, "errors": [_graphql_error(exc, type_name, field_name)]}
        except Exception:
            logger.exception("unexpected failure", extra={"field": where})
            return {"data": None, "errors": [{"message": "Internal error", "errorType": "InternalFailure"}]}
        finally:
            self._request = None

    def _report(self, outcome: Outcome) -> None:
        logger.info(
            "allowed" if outcome.allowed else "refused",
            extra={
                "field": outcome.field,
                "reason": outcome.reason,
                "mode": outcome.principal.mode.value if outcome.principal else None,
            },
        )
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    # -- helpers --------------------------------------------------------------------------------
    @property
    def _req(self) -> _Request:
        assert self._request is not None
        return self._request

    def _decide(self, model: Model, op: Operation, **kwargs: Any) -> Decision:
        req = self._req
        decision = decide(req.principal, model, op, config=self.auth_config, **kwargs)
        req.decision = decision
        if not decision.allowed:
            if decision.denied_input_fields:
                raise UnauthorizedFields(decision.denied_input_fields, reason=decision.reason)
            raise Unauthorized("Not Authorized", reason=decision.reason)
        return decision

    def _output(self, model: Model, op: Operation, item: Mapping[str, Any]) -> dict[str, Any]:
        """The item as the client sees it: read-denied fields nulled (with an error each).

        A mutation's result is also what subscribers receive, whoever they are, so fields with
        their own rules are nulled in it, as Amplify does (spec §2.4)."""
        req = self._req
        mutation = op in (Operation.CREATE, Operation.UPDATE, Operation.DELETE)
        read_op = Operation.GET if mutation else op
        denied = denied_read_fields(req.principal, model, read_op, item, self.auth_config)
        out = present(model, item)
        if mutation:
            out.update({f.name: None for f in model.fields if f.rules is not None})
        for name in sorted(denied):
            if name in out or model.field(name) is not None:
                out[name] = None
                error = {
                    "message": f"Not Authorized to access {name} on type {model.name}",
                    "errorType": "Unauthorized",
                }
                if error not in req.errors:
                    req.errors.append(error)
        out["__typename"] = model.name
        return out

    def _subscribe(self, model: Model, arguments: Mapping[str, Any]) -> _Subscription:
        """Subscribe time (operation ``listen``): deny, or allow with the filter AppSync applies
        to every event so this caller only receives what the rules let it read."""
        check_arguments(arguments, self._req.field_name, (), ())
        decision = self._decide(model, Operation.LISTEN)
        if decision.constraint is None:
            return _Subscription(None)
        return _Subscription(subscription_filter(model, decision.constraint))

    # -- operations -----------------------------------------------------------------------------
    def _get(self, model: Model, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
        args = check_arguments(arguments, self._req.field_name, {"id"}, {"id"})
        item_id = check_id(args["id"], self._req.field_name)
        self._decide(model, Operation.GET)
        item = self.store.get(model, item_id)
        if item is None:
            return None  # not found is not an auth failure (spec §12 #8)
        self._decide(model, Operation.GET, item=item)
        return self._output(model, Operation.GET, item)

    def _list(self, model: Model, arguments: Mapping[str, Any]) -> dict[str, Any]:
        args = check_arguments(arguments, self._req.field_name, {"filter", "limit", "nextToken"}, ())
        limit, token, filter_input = args.get("limit"), args.get("nextToken"), args.get("filter")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            raise BadRequest("limit must be an integer")
        if token is not None and not isinstance(token, str):
            raise BadRequest("nextToken must be a string")
        if filter_input is not None and not isinstance(filter_input, dict):
            raise BadRequest("filter must be an object")
        decision = self._decide(model, Operation.LIST)
        page = self.store.list_items(
            model,
            decision,
            filter=filter_input,
            limit=limit,
            next_token=token,
            caller=caller_key(self._req.principal),
        )
        items = [self._output(model, Operation.LIST, item) for item in page.items]
        return {"items": items, "nextToken": page.next_token, "__typename": f"Model{model.name}Connection"}

    def _create(self, model: Model, arguments: Mapping[str, Any]) -> dict[str, Any]:
        args = check_arguments(arguments, self._req.field_name, {"input", "condition"}, {"input"})
        if args.get("condition") is not None:
            raise BadRequest("condition is not supported on create")
        data = check_input(model, args["input"], f"Create{model.name}Input", allow_keys={"id"})
        if "id" in data and data["id"] is not None:
            check_id(data["id"], f"Create{model.name}Input")
        decision = self._decide(model, Operation.CREATE, input=data)
        item = self.store.create(model, data, decision)
        return self._output(model, Operation.CREATE, item)

    def _update(self, model: Model, arguments: Mapping[str, Any]) -> dict[str, Any]:
        args = check_arguments(arguments, self._req.field_name, {"input", "condition"}, {"input"})
        if args.get("condition") is not None:
            raise BadRequest("condition is not supported on update; use _version")
        data = check_input(
            model, args["input"], f"Update{model.name}Input", allow_keys={"id", "_version"}, require=("id",)
        )
        item_id, expected = data.pop("id"), data.pop("_version", None)
        decision = self._decide(model, Operation.UPDATE, input=data)
        changes = {k: v for k, v in data.items() if k not in decision.unchanged_input_fields}
        item = self.store.update(model, item_id, changes, decision, expected)
        return self._output(model, Operation.UPDATE, item)

    def _delete(self, model: Model, arguments: Mapping[str, Any]) -> dict[str, Any]:
        args = check_arguments(arguments, self._req.field_name, {"input", "condition"}, {"input"})
        if args.get("condition") is not None:
            raise BadRequest("condition is not supported on delete; use _version")
        data = check_input(
            model, args["input"], f"Delete{model.name}Input", allow_keys={"id", "_version"}, require=("id",)
        )
        if set(data) - {"id", "_version"}:
            raise BadRequest(f"Delete{model.name}Input takes only id and _version")
        decision = self._decide(model, Operation.DELETE)
        item = self.store.delete(model, data["id"], decision, data.get("_version"))
        return self._output(model, Operation.DELETE, item)


def _arn_set(text: str | None) -> frozenset[str]:
    return frozenset(a.strip() for a in (text or "").split(",") if a.strip())


def _field_of(event: Any) -> tuple[str, str]:
    info = event.get("info") if isinstance(event, dict) else None
    if not isinstance(info, dict):
        return "?", "?"
    type_name, field_name = info.get("parentTypeName"), info.get("fieldName")
    if not isinstance(type_name, str) or not isinstance(field_name, str):
        return "?", "?"
    return type_name, field_name


def _graphql_error(exc: ModelAuthError, type_name: str, field_name: str) -> dict[str, Any]:
    # Amplify's text for a denial names the field, whatever the internal reason was (spec §6.3)
    if type(exc) is Unauthorized:
        return Unauthorized.for_field(field_name, type_name).as_graphql_error()
    return exc.as_graphql_error()
