"""A local AppSync: runs GraphQL requests on the API's SDL with graphql-core, enforcing the
``@aws_*`` directives and invoking the template's Lambda resolvers the way AppSync does.

For every field the request reaches, before anything runs: the request's auth mode must be
among the field's directives, else its type's, else the API's default mode; otherwise the field
is ``null`` with AppSync's ``Not Authorized to access <field> on type <Type>`` (errorType
``Unauthorized``), as are fields a Lambda authorizer listed in ``deniedFields``. A root field
with a resolver gets the direct-resolver event AppSync builds (spec §7.3: identity, request
headers, ``info`` with ``selectionSetList`` / ``selectionSetGraphQL`` / ``variables``, arguments,
source) plus ``authType`` as graphql/invoke.js adds it, and the function's ``{data, errors}``
envelope is unwrapped as invoke.js does: no data → the first error fails the field; data →
every error is appended. Errors are rendered in AppSync's shape (``errorType``, ``errorInfo``,
``data``, ``locations`` with ``sourceName``), with ``errorType`` also in ``extensions`` for
generic GraphQL clients.

Subscriptions (:mod:`modelauth.local.realtime` carries them over WebSocket): :meth:`LocalAppSync.subscribe`
runs the Subscription field's function at subscribe time and keeps the filter it sets; each
mutation's result (what the mutation selected) goes to :attr:`LocalAppSync.publish`, and
:meth:`LocalAppSync.deliver` renders it for one subscriber unless the filter drops it.

Example::

    def invoke(function, event):                       # the template's handler, in-process
        return Invocation(handler(event, None))

    engine = LocalAppSync(sdl, default_mode="AMAZON_COGNITO_USER_POOLS",
                          resolvers={("Query", "getTodo"): "GraphQLFunction"}, invoke=invoke)
    response = engine.execute({"query": "{ getTodo(id: \\"1\\") { id } }"},
                              RequestAuth("API_KEY", None, "api key"), headers={}, source_ip="127.0.0.1")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    default_field_resolver,
    execute_sync,
    get_operation_ast,
    parse,
    print_ast,
    validate,
)

from modelauth.local import appsync_event

__all__ = [
    "APPSYNC_PRELUDE",
    "AUTH_TYPE_TEXT",
    "FieldOutcome",
    "GraphQLResponse",
    "Invocation",
    "Invoker",
    "LocalAppSync",
    "RequestAuth",
    "RequestError",
    "Subscription",
    "field_modes",
    "operation_parts",
]

#: AppSync predefines these; graphql-core needs them declared before the SDL
APPSYNC_PRELUDE = """
scalar AWSDate
scalar AWSTime
scalar AWSDateTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSJSON
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
directive @aws_api_key on FIELD_DEFINITION | OBJECT
directive @aws_iam on FIELD_DEFINITION | OBJECT
directive @aws_oidc on FIELD_DEFINITION | OBJECT
directive @aws_lambda on FIELD_DEFINITION | OBJECT
directive @aws_cognito_user_pools(cognito_groups: [String]) on FIELD_DEFINITION | OBJECT
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""

#: AppSync ``authenticationType`` → what ``util.authType()`` returns (invoke.js passes it on)
AUTH_TYPE_TEXT: Mapping[str, str] = {
    "API_KEY": "API Key Authorization",
    "AWS_IAM": "IAM Authorization",
    "AMAZON_COGNITO_USER_POOLS": "User Pool Authorization",
    "OPENID_CONNECT": "Open ID Connect Authorization",
    "AWS_LAMBDA": "Lambda Authorization",
}
_MODE_OF_DIRECTIVE = {
    "aws_api_key": "API_KEY",
    "aws_iam": "AWS_IAM",
    "aws_cognito_user_pools": "AMAZON_COGNITO_USER_POOLS",
    "aws_auth": "AMAZON_COGNITO_USER_POOLS",
    "aws_oidc": "OPENID_CONNECT",
    "aws_lambda": "AWS_LAMBDA",
}


class RequestError(ValueError):
    """The HTTP request is not a GraphQL request AppSync would run (HTTP 400)."""

    def __init__(self, message: str, error_type: str = "MalformedHttpRequestException") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class RequestAuth:
    """How the request was authorized: the mode, the ``identity`` resolvers get, a label for
    logs, and the fields a Lambda authorizer denied (``Type.field``)."""

    mode: str
    identity: Mapping[str, Any] | None
    caller: str
    denied_fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one resolver Lambda call returned, and the decision's reason when known."""

    result: Any
    reason: str | None = None


#: (function logical id, direct-resolver event) → the function's answer
Invoker = Callable[[str, dict[str, Any]], Invocation]


@dataclass(frozen=True, slots=True)
class FieldOutcome:
    """How one field of the request was decided (``Query.getTodo``), and why."""

    field: str
    allowed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    outcomes: tuple[FieldOutcome, ...] = ()


@dataclass
class _Request:
    auth: RequestAuth
    headers: Mapping[str, str]
    source_ip: str
    variables: Mapping[str, Any]
    #: "execute" a query or mutation; "subscribe": ask the Subscription field's function;
    #: "deliver": render a published payload for a subscriber (no function runs)
    phase: str = "execute"
    payload: Any = None
    subscription_filter: dict[str, Any] | None = None
    #: (mutation field, result) of every mutation that returned data: what subscribers receive
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outcomes: dict[str, FieldOutcome] = field(default_factory=dict)
    appended: list[GraphQLError] = field(default_factory=list)


@dataclass(frozen=True)
class Subscription:
    """An accepted subscription: its document, the caller, and the filter the function set."""

    field: str
    document: DocumentNode
    operation_name: str | None
    variables: Mapping[str, Any]
    auth: RequestAuth
    headers: Mapping[str, str]
    source_ip: str
    filter: dict[str, Any] | None


def operation_parts(request: Any) -> tuple[str, str | None, dict[str, Any]]:
    """``(query, operationName, variables)`` of a GraphQL-over-HTTP body, checked."""
    if not isinstance(request, Mapping):
        raise RequestError("The request body must be a JSON object.")
    query, name, variables = request.get("query"), request.get("operationName"), request.get("variables")
    if not isinstance(query, str) or not query.strip():
        raise RequestError("The request has no GraphQL query.")
    if name is not None and not isinstance(name, str):
        raise RequestError("operationName must be a string.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("variables must be an object.")
    return query, name, dict(variables or {})


class LocalAppSync:
    """The GraphQL API of one SDL; ``invoke`` runs the functions that resolve root fields."""

    def __init__(
        self,
        sdl: str,
        *,
        default_mode: str,
        resolvers: Mapping[tuple[str, str], str],
        invoke: Invoker,
    ) -> None:
        self.schema: GraphQLSchema = build_schema(APPSYNC_PRELUDE + sdl)
        self.default_mode = default_mode
        self.resolvers = dict(resolvers)
        self.invoke = invoke
        self.modes = field_modes(self.schema, default_mode)
        #: called with (mutation field, result) after each mutation that returned data
        self.publish: Callable[[str, dict[str, Any]], None] | None = None
        self._subscribed = _subscribed_fields(self.schema)
        missing = [f"{t}.{f}" for t, f in self.resolvers if (t, f) not in self.modes]
        if missing:
            raise ValueError(f"resolvers for fields the schema does not have: {missing}")

    def execute(
        self, request: Any, auth: RequestAuth, *, headers: Mapping[str, str], source_ip: str
    ) -> GraphQLResponse:
        """Run one query or mutation as AppSync would for a caller authorized as ``auth``; the
        results of its mutations go to :attr:`publish` (the subscriptions' hub) afterwards."""
        prepared = self._prepare(request)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        document, operation, operation_name, variables = prepared
        if operation.operation is OperationType.SUBSCRIPTION:
            error = {"errorType": "ValidationError", "message": "Subscriptions are served over WebSocket."}
            return GraphQLResponse(400, {"data": None, "errors": [error]})
        context = _Request(auth, {k.lower(): v for k, v in headers.items()}, source_ip, variables)
        response = self._run(document, operation_name, context)
        if self.publish is not None:
            for mutation, result in context.published:
                self.publish(mutation, result)
        return response

    def subscribe(
        self, request: Any, auth: RequestAuth, *, headers: Mapping[str, str], source_ip: str
    ) -> Subscription | GraphQLResponse:
        """Subscribe time: the directives, then the Subscription field's function decides
        (``listen``) and may set a filter; a refusal comes back as a response with errors."""
        prepared = self._prepare(request)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        document, operation, operation_name, variables = prepared
        roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
        if operation.operation is not OperationType.SUBSCRIPTION or len(roots) != 1:
            error = {"errorType": "ValidationError", "message": "Expected one subscription field."}
            return GraphQLResponse(400, {"data": None, "errors": [error]})
        lower = {k.lower(): v for k, v in headers.items()}
        context = _Request(auth, lower, source_ip, variables, phase="subscribe")
        response = self._run(document, operation_name, context)
        if "errors" in response.body:
            return response
        return Subscription(
            roots[0].name.value,
            document,
            operation_name,
            variables,
            auth,
            lower,
            source_ip,
            context.subscription_filter,
        )

    def deliver(self, subscription: Subscription, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """What a subscriber receives for a published mutation result, or None when its filter
        drops it. Nested fields are checked against the subscriber's auth mode as for a query."""
        from modelauth.subscriptions import event_passes

        if not event_passes(subscription.filter, dict(payload)):
            return None
        context = _Request(
            subscription.auth,
            subscription.headers,
            subscription.source_ip,
            subscription.variables,
            phase="deliver",
            payload=dict(payload),
        )
        return self._run(subscription.document, subscription.operation_name, context).body

    def subscriptions_of(self, mutation: str) -> tuple[str, ...]:
        """The Subscription fields whose ``@aws_subscribe(mutations: [...])`` names ``mutation``."""
        return self._subscribed.get(mutation, ())

    def _prepare(
        self, request: Any
    ) -> tuple[DocumentNode, OperationDefinitionNode, str | None, dict[str, Any]] | GraphQLResponse:
        try:
            query, operation_name, variables = operation_parts(request)
            document = parse(query)
        except RequestError as exc:
            return GraphQLResponse(400, {"errors": [{"errorType": exc.error_type, "message": exc.message}]})
        except GraphQLError as exc:
            return GraphQLResponse(400, {"data": None, "errors": [_error(exc, "ValidationError")]})
        problems = validate(self.schema, document)
        operation = get_operation_ast(document, operation_name) if not problems else None
        if problems or operation is None:
            problems = problems or [GraphQLError(f"Unknown operation {operation_name!r}")]
            errors = [_error(e, "ValidationError") for e in problems]
            return GraphQLResponse(400, {"data": None, "errors": errors})
        return document, operation, operation_name, variables

    def _run(self, document: DocumentNode, operation_name: str | None, context: _Request) -> GraphQLResponse:
        result = execute_sync(
            self.schema,
            document,
            context_value=context,
            variable_values=dict(context.variables),
            operation_name=operation_name,
            field_resolver=self._resolve,
        )
        errors = [*(result.errors or ()), *context.appended]
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = [_error(e) for e in errors]
        return GraphQLResponse(200, body, tuple(context.outcomes.values()))

    # -- per field -------------------------------------------------------------------------------
    def _resolve(self, source: Any, info: GraphQLResolveInfo[_Request], **arguments: Any) -> Any:
        request: _Request = info.context
        type_name, field_name = info.parent_type.name, info.field_name
        where = f"{type_name}.{field_name}"
        denial = self._denial(request.auth, type_name, field_name)
        if denial is not None:
            request.outcomes.setdefault(where, FieldOutcome(where, False, denial))
            raise GraphQLError(
                f"Not Authorized to access {field_name} on type {type_name}",
                extensions={"errorType": "Unauthorized"},
            )
        subscription_root = info.parent_type is self.schema.subscription_type
        if request.phase == "deliver":
            # the event is the mutation's result: AppSync runs no resolver below the root
            return request.payload if subscription_root else default_field_resolver(source, info, **arguments)
        function = self.resolvers.get((type_name, field_name))
        if function is None:
            return default_field_resolver(source, info, **arguments)
        event = self._event(request, info, arguments, source)
        try:
            invocation = self.invoke(function, event)
        except Exception as exc:  # what AppSync reports for a function that failed: Lambda:Unhandled
            request.outcomes[where] = FieldOutcome(where, False, f"{function} failed: {exc!r}")
            raise GraphQLError(
                str(exc) or type(exc).__name__, extensions={"errorType": "Lambda:Unhandled"}
            ) from exc
        return self._unwrap(invocation, request, info, where)

    def _denial(self, auth: RequestAuth, type_name: str, field_name: str) -> str | None:
        """Why AppSync refuses this field before any resolver, or None."""
        modes = self.modes.get((type_name, field_name))
        if modes is not None and auth.mode not in modes:
            allowed = ", ".join(sorted(modes))
            return f"AppSync: {auth.mode} may not reach {type_name}.{field_name} (its modes: {allowed})"
        if f"{type_name}.{field_name}" in auth.denied_fields:
            return f"the Lambda authorizer denied {type_name}.{field_name} (deniedFields)"
        return None

    def _event(
        self, request: _Request, info: GraphQLResolveInfo[_Request], arguments: Mapping[str, Any], source: Any
    ) -> dict[str, Any]:
        nodes = info.field_nodes
        selection = [
            s for node in nodes if node.selection_set for s in _selections(node.selection_set, info.fragments)
        ]
        event = appsync_event(
            info.parent_type.name,
            info.field_name,
            arguments,
            request.auth.identity,
            headers=request.headers,
            selection=dict.fromkeys(selection),
            auth_type=AUTH_TYPE_TEXT[request.auth.mode],
        )
        event["source"] = source
        event["info"]["selectionSetGraphQL"] = (
            print_ast(nodes[0].selection_set) if nodes[0].selection_set else ""
        )
        event["info"]["variables"] = dict(request.variables)
        return event

    def _unwrap(
        self, invocation: Invocation, request: _Request, info: GraphQLResolveInfo[_Request], where: str
    ) -> Any:
        """graphql/invoke.js's response(): the envelope's data, its errors raised or appended."""
        envelope = invocation.result if isinstance(invocation.result, Mapping) else {}
        if isinstance(envelope.get("subscriptionFilter"), dict):  # invoke.js → subscription.js
            request.subscription_filter = envelope["subscriptionFilter"]
        data = envelope.get("data")
        errors = [e for e in envelope.get("errors") or () if isinstance(e, Mapping)]
        reason = invocation.reason or (errors[0].get("message") if errors and data is None else "")
        request.outcomes[where] = FieldOutcome(where, data is not None or not errors, str(reason))
        if errors and data is None:
            raise GraphQLError(str(errors[0].get("message")), extensions=_extensions(errors[0]))
        if info.parent_type is self.schema.mutation_type and isinstance(data, Mapping):
            # AppSync publishes what the mutation selected: a subscriber sees no other field
            selected = {
                s.split("/")[0]
                for n in info.field_nodes
                if n.selection_set
                for s in _selections(n.selection_set, info.fragments)
            }
            request.published.append((info.field_name, {k: v for k, v in data.items() if k in selected}))
        for error in errors:
            request.appended.append(
                GraphQLError(
                    str(error.get("message")),
                    nodes=info.field_nodes,
                    path=info.path.as_list(),
                    extensions=_extensions(error),
                )
            )
        return data


def _extensions(error: Mapping[str, Any]) -> dict[str, Any]:
    return {"errorType": error.get("errorType"), "errorInfo": error.get("errorInfo")}


def _error(error: GraphQLError, error_type: str | None = None) -> dict[str, Any]:
    """One entry of ``errors`` in AppSync's shape."""
    extensions = dict(error.extensions or {})
    error_type = extensions.get("errorType") or error_type
    entry: dict[str, Any] = {
        "path": error.path,
        "data": None,
        "errorType": error_type,
        "errorInfo": extensions.get("errorInfo"),
        "locations": [
            {"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations or ()
        ],
        "message": error.message,
    }
    if error_type is not None:
        entry["extensions"] = {**extensions, "errorType": error_type}
    plain: dict[str, Any] = json.loads(json.dumps(entry, default=str))  # plain JSON values only
    return plain


def _selections(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], prefix: str = ""
) -> list[str]:
    """AppSync's ``selectionSetList``: field names (not aliases), nested ones as ``a/b``."""
    found: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue
            found.append(prefix + name)
            if selection.selection_set:
                found += _selections(selection.selection_set, fragments, f"{prefix}{name}/")
        elif isinstance(selection, InlineFragmentNode):
            found += _selections(selection.selection_set, fragments, prefix)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            found += _selections(fragments[selection.name.value].selection_set, fragments, prefix)
    return found


def _subscribed_fields(schema: GraphQLSchema) -> dict[str, tuple[str, ...]]:
    """mutation field → the Subscription fields that follow it (``@aws_subscribe``)."""
    subscribed: dict[str, tuple[str, ...]] = {}
    root = schema.subscription_type
    for name, definition in (root.fields if root else {}).items():
        for directive in getattr(definition.ast_node, "directives", None) or ():
            if directive.name.value != "aws_subscribe":
                continue
            for argument in directive.arguments:
                values = getattr(argument.value, "values", ())
                for mutation in (getattr(v, "value", None) for v in values):
                    if isinstance(mutation, str):
                        subscribed[mutation] = (*subscribed.get(mutation, ()), name)
    return subscribed


def _directive_modes(node: Any) -> frozenset[str]:
    directives = getattr(node, "directives", None) or ()
    return frozenset(
        _MODE_OF_DIRECTIVE[d.name.value] for d in directives if d.name.value in _MODE_OF_DIRECTIVE
    )


def field_modes(schema: GraphQLSchema, default_mode: str) -> dict[tuple[str, str], frozenset[str]]:
    """Which auth modes reach each field: its directives, else its type's, else the default."""
    modes = {}
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        type_modes = _directive_modes(graphql_type.ast_node)
        for field_name, definition in graphql_type.fields.items():
            own = _directive_modes(definition.ast_node)
            modes[(type_name, field_name)] = own or type_modes or frozenset({default_mode})
    return modes
