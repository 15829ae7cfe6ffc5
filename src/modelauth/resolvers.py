"""The AppSync resolver of a schema: ``getX``, ``listXs``, ``createX``, ``updateX``, ``deleteX``
and the ``onCreateX``/``onUpdateX``/``onDeleteX`` subscriptions of every model, each going
Principal → decide → store.

Model fields are dispatched from the app's own route table, which already has to vet the field
before the caller is parsed. The schema's custom operations (:mod:`modelauth.custom`) are decided
by their rules, and their item loaded and judged, before the handler registered with
:meth:`GraphQLApp.operation` runs. Other fields (custom queries and mutations) go to a Powertools
``AppSyncResolver`` (:attr:`GraphQLApp.router`), registered with :meth:`GraphQLApp.resolver`; it
is imported on first use. Measured in bench/: Powertools' ``event_handler`` import is about a
third of the handler's cold start beyond boto3's, and its dispatch about 8 µs of a warm getTodo,
more than all the rule work of a repeated caller.

The Lambda always answers with an envelope ``{"data": ..., "errors": [...]}``; the APPSYNC_JS
step (graphql/invoke.js) turns its errors into ``util.error`` / ``util.appendError`` so clients
see Amplify's ``errorType: "Unauthorized"`` rather than ``Lambda:Unhandled``. Errors are mapped
to GraphQL here and only here.

Example (functions/graphql/app.py)::

    from modelauth.resolvers import GraphQLApp

    app = GraphQLApp.from_env()  # the schema named by $MODELAUTH_SCHEMA

    def lambda_handler(event, context):
        return app.resolve(event, context)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from aws_lambda_powertools import Logger

from modelauth.custom import CustomResolver, Subscribed
from modelauth.errors import BadRequest, ModelAuthError, Unauthorized, UnauthorizedFields
from modelauth.identity import IdentityConfig, Principal, PrincipalCache
from modelauth.operations import ListOutput, Operations, Output
from modelauth.policy import AuthConfig, Decision
from modelauth.rules import (
    WRITE_OPERATIONS,
    Model,
    Operation,
    Relation,
    Schema,
    SecondaryIndex,
    mode_of,
    operation_kind,
    root_fields,
)
from modelauth.startup import build_from_env
from modelauth.store import Store
from modelauth.subscriptions import check_model, narrow, owner_arguments, subscription_filter
from modelauth.validation import check_arguments

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import AppSyncResolver

__all__ = ["GraphQLApp", "Outcome", "OutcomeListener"]

logger = Logger(service="modelauth")

# the arguments each kind of root field takes
_GET_ARGUMENTS = frozenset({"id"})
_LIST_ARGUMENTS = frozenset({"filter", "limit", "nextToken"})
_MUTATION_ARGUMENTS = frozenset({"input", "condition"})
_RELATION_ARGUMENTS = frozenset({"filter", "limit", "nextToken", "sortDirection"})
#: the key of a mutation's result that marks it as one for its relationship fields (Amplify's)
MUTATION_MARK = "__operation"


class Outcome(NamedTuple):
    """How one request ended, for logs, the demo and ``explain``: the final reason includes
    what the data layer found (e.g. the stored owner) when its condition refused a write."""

    field: str
    principal: Principal | None
    allowed: bool
    reason: str
    decision: Decision | None


OutcomeListener = Callable[[Outcome], None]
_Handler = Callable[[Model, Mapping[str, Any], "_Request"], Any]
_F = TypeVar("_F", bound=Callable[..., Any])


class _Request:
    """Per-invocation state: the caller, the item fields the client selected (None: unknown)
    and the non-fatal errors (denied fields) to report."""

    __slots__ = ("decision", "errors", "field_name", "principal", "selected", "source", "type_name")

    def __init__(
        self, principal: Principal, type_name: str, field_name: str, selected: frozenset[str] | None = None
    ) -> None:
        self.principal = principal
        self.type_name = type_name
        self.field_name = field_name
        self.selected = selected
        self.errors: list[dict[str, Any]] = []
        self.decision: Decision | None = None
        #: a nested field's parent (AppSync's ``source``): the item a relationship starts from
        self.source: Any = None


class _Subscription(NamedTuple):
    """A subscribe-time answer: the enhanced filter (None: every event of the model)."""

    filter: dict[str, Any] | None


class _Route(NamedTuple):
    model: Model
    operation: Operation
    handler: _Handler


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
        self._principals = PrincipalCache(self.identity_config)
        self.auth_config = auth_config or AuthConfig()
        self.on_outcome = on_outcome
        self.operations = Operations(store, self.auth_config, on_decision=self._record)
        self.routes: dict[tuple[str, str], _Route] = {}
        self._custom_fields: set[tuple[str, str]] = set()
        #: the schema's custom operations, decided by their rules before their handlers
        self.custom = CustomResolver(schema, store, self.auth_config, on_decision=self._record)
        self._router: AppSyncResolver | None = None
        self._request: _Request | None = None
        for model in schema.models:
            self._register(model)

    @classmethod
    def from_env(cls, schema: Schema | None = None) -> GraphQLApp:
        """Build once at import: DynamoDB client, tables and settings from the environment.

        ``schema`` defaults to the one ``$MODELAUTH_SCHEMA`` names (``package.module:ATTR``).
        """
        return build_from_env(cls, schema)

    # -- wiring ---------------------------------------------------------------------------------
    @property
    def router(self) -> AppSyncResolver:
        """The Powertools ``AppSyncResolver`` answering the custom fields (created on first use)."""
        if self._router is None:
            from aws_lambda_powertools.event_handler import AppSyncResolver

            self._router = AppSyncResolver()  # type: ignore[no-untyped-call]
        return self._router

    def resolver(self, *, type_name: str = "Query", field_name: str) -> Callable[[_F], _F]:
        """Register a resolver for a field that is not a model's, as Powertools'
        ``AppSyncResolver.resolver`` does (arguments as keywords, ``app.router.current_event``).

        No model rule covers it: the caller has been parsed (a malformed identity is refused
        first) and is :attr:`principal`; the resolver decides what it may do. A
        :class:`~modelauth.errors.ModelAuthError` it raises becomes a typed GraphQL error.

        Example::

            @app.resolver(type_name="Query", field_name="whoAmI")
            def who_am_i() -> str:
                return app.principal.sub or "anonymous"
        """
        if (type_name, field_name) in self.routes:
            raise ValueError(f"{type_name}.{field_name} is a model field: its rules answer it")
        if (type_name, field_name) in self.custom.routes:
            raise ValueError(f"{type_name}.{field_name} is a custom operation: use @app.operation")
        self._custom_fields.add((type_name, field_name))
        register: Callable[[_F], _F] = self.router.resolver(type_name=type_name, field_name=field_name)
        return register

    def operation(self, name: str) -> Callable[[_F], _F]:
        """Register the handler of a custom query or mutation declared in the schema
        (:mod:`modelauth.custom`). It runs only after the operation's rules allowed the caller
        (and the item it names, loaded and judged), with one :class:`~modelauth.custom.Call`.

        Example::

            @app.operation("publishPost")
            def publish_post(call: Call) -> dict[str, Any]:
                return call.update_item({"published": True})
        """

        def register(handler: _F) -> _F:
            self.custom.register(name, handler)
            return handler

        return register

    @property
    def principal(self) -> Principal:
        """The caller of the request being answered (for custom resolvers)."""
        return self._req.principal

    def _register(self, model: Model) -> None:
        check_model(model)
        handlers: dict[Operation, _Handler] = {
            Operation.GET: self._get,
            Operation.LIST: self._list,
            Operation.CREATE: self._create,
            Operation.UPDATE: self._update,
            Operation.DELETE: self._delete,
            Operation.LISTEN: self._subscribe,
        }
        for root in root_fields(model, include_disabled=True):
            kind = operation_kind(model, root)
            secondary = root.secondary
            if not model.is_enabled(kind):
                handler = _disabled(kind)
            elif secondary is None:
                handler = handlers[root.operation]
            else:
                handler = partial(self._query, secondary)
            self.routes[(root.type_name, root.field_name)] = _Route(model, root.operation, handler)
        for rel in model.relations:  # nested fields: the related model's rules answer them
            related = self.schema.model(rel.related)
            op = Operation.LIST if rel.is_list else Operation.GET
            self.routes[(model.name, rel.name)] = _Route(related, op, partial(self._related, model, rel))

    # -- entry point ----------------------------------------------------------------------------
    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        """Answer one AppSync invocation with the ``{"data", "errors"}`` envelope."""
        type_name, field_name = _field_of(event)
        principal: Principal | None = None
        try:
            route = self.routes.get((type_name, field_name))
            custom = self.custom.routes.get((type_name, field_name)) if route is None else None
            if route is None and custom is None and (type_name, field_name) not in self._custom_fields:
                raise BadRequest(f"Unknown field {type_name}.{field_name}")
            auth_type = event.get("authType")
            if auth_type is not None and not isinstance(auth_type, str):
                raise BadRequest("authType must be a string")
            principal = self._principals.from_appsync(event, auth_type=auth_type)
            operation = route.operation if route is not None else Operation.GET
            selected = (
                None if route is None and custom is None else _selected_fields(event["info"], operation)
            )
            self._request = req = _Request(principal, type_name, field_name, selected)
            req.source = event.get("source")
            arguments = event.get("arguments")
            if arguments is not None and not isinstance(arguments, dict):
                raise BadRequest(f"{field_name}: arguments must be an object")
            if route is not None:
                data = route.handler(route.model, arguments or {}, req)
            elif custom is not None:
                data = self.custom.run(custom, principal, arguments or {}, self._present)
                if isinstance(data, Subscribed):
                    data = _Subscription(data.filter)
            else:  # a custom field: Powertools calls it with the arguments as keywords
                data = self.router.resolve({**event, "arguments": arguments or {}}, context)
            if self.on_outcome is not None or logger.log_level <= logging.DEBUG:
                # an allowed request is only worth an Outcome when someone looks at it
                decision = self._request.decision
                reason = decision.reason if decision else ""
                self._report(Outcome(f"{type_name}.{field_name}", principal, True, reason, decision))
            if isinstance(data, _Subscription):
                # graphql/invoke.js passes it to extensions.setSubscriptionFilter
                return {"data": None, "errors": [], "subscriptionFilter": data.filter}
            return {"data": data, "errors": self._request.errors}
        except ModelAuthError as exc:
            decision = self._request.decision if self._request else None
            self._report(Outcome(f"{type_name}.{field_name}", principal, False, exc.reason, decision))
            return {"data": None, "errors": [_graphql_error(exc, type_name, field_name)]}
        except Exception:
            logger.exception("unexpected failure", extra={"field": f"{type_name}.{field_name}"})
            return {"data": None, "errors": [{"message": "Internal error", "errorType": "InternalFailure"}]}
        finally:
            self._request = None

    def _report(self, outcome: Outcome) -> None:
        # refusals are worth an INFO line each; successes only when debugging (a JSON log
        # line costs more than the rest of a warm request's authorization work)
        log = logger.info if not outcome.allowed else logger.debug
        log(
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

    def _record(self, decision: Decision) -> None:
        if self._request is not None:
            self._request.decision = decision

    def _present(self, model: Model, value: Any, mutating: bool) -> dict[str, Any]:
        """A custom operation's result of a model type, shown as the model's reads are."""
        if not isinstance(value, Mapping):
            raise TypeError(f"a {model.name} result must be a mapping, not {type(value).__name__}")
        op = Operation.UPDATE if mutating else Operation.GET
        return self._output(
            model, op, self.operations.output(self._req.principal, model, op, value), self._req
        )

    @staticmethod
    def _output(model: Model, op: Operation, output: Output, req: _Request) -> dict[str, Any]:
        """The item as the client sees it: read-denied fields null, with an error each the
        client selected (Amplify's clients fail on any error, so none for fields not asked for).

        A mutation's result is also what subscribers receive, whoever they are, so the fields
        some reader of the model may not read are nulled in it, without an error, as Amplify
        does (spec §2.4, :attr:`Model.mutation_masked_fields`)."""
        out = output.item  # a fresh dict per request (Operations.output)
        if op in WRITE_OPERATIONS:
            out.update(dict.fromkeys(model.with_stored(model.mutation_masked_fields)))
        for name in output.denied_fields:
            if req.selected is not None and name not in req.selected:
                continue
            error = {
                "message": f"Not Authorized to access {name} on type {model.name}",
                "errorType": "Unauthorized",
            }
            if error not in req.errors:
                req.errors.append(error)
        out["__typename"] = model.name
        if op in WRITE_OPERATIONS and model.relations:
            # what subscribers receive: relationship fields below it are redacted (null), as
            # Amplify does, since the mutation's caller resolved them (see _related)
            out[MUTATION_MARK] = "Mutation"
        return out

    def _subscribe(self, model: Model, arguments: Mapping[str, Any], req: _Request) -> _Subscription:
        """Subscribe time (operation ``listen``): deny, or allow with the filter AppSync applies
        to every event so this caller only receives what the rules let it read."""
        args = check_arguments(arguments, req.field_name, {"filter", *owner_arguments(model)}, ())
        if model.subscriptions == "public":
            return _Subscription(self._public_filter(model, args, req))
        decision = self.operations.decide(req.principal, model, Operation.LISTEN)
        rules_filter = (
            None if decision.constraint is None else subscription_filter(model, decision.constraint)
        )
        narrowed, names = narrow(model, rules_filter, args)
        if names:  # which events arrive would tell a field's value: the list filter's check
            self.operations.check_readable(req.principal, model, decision, names, "subscription filter")
        return _Subscription(narrowed)

    @staticmethod
    def _public_filter(model: Model, args: Mapping[str, Any], req: _Request) -> dict[str, Any] | None:
        """``subscriptions="public"`` (Gen 1 ``level: public``): no rule decides and no filter
        limits, for a caller of any auth mode the model's rules name (others: Unauthorized).
        Events carry what every mutation result carries (mutation-masked fields null), so a
        filter on a masked field is refused: it would compare the hidden value."""
        modes = {mode_of(sub.provider) for rule in model.rules for sub in rule.rules or (rule,)}
        if req.principal.mode.value not in modes:
            raise Unauthorized(
                "Not Authorized", reason=f"{model.name}: no rule names {req.principal.mode.value}"
            )
        narrowed, names = narrow(model, None, args)
        masked = names & model.mutation_masked_fields
        if masked:
            raise UnauthorizedFields(
                masked, reason=f"subscription filter names masked fields {sorted(masked)}"
            )
        return narrowed

    # -- operations -----------------------------------------------------------------------------
    def _get(self, model: Model, arguments: Mapping[str, Any], req: _Request) -> dict[str, Any] | None:
        keys = model.key_fields
        args = check_arguments(
            arguments, req.field_name, _GET_ARGUMENTS if keys == ("id",) else set(keys), keys
        )
        output = self.operations.get(req.principal, model, _key(model, args))
        # not found is not an auth failure (spec §12 #8)
        return None if output is None else self._output(model, Operation.GET, output, req)

    def _list(self, model: Model, arguments: Mapping[str, Any], req: _Request) -> dict[str, Any]:
        primary = model.primary_index
        if primary is not None and any(
            arguments.get(n) is not None for n in (*model.key_fields, "sortDirection")
        ):
            # listOrders(customerEmail: ..., orderId: {beginsWith: ...}): a Query of the table's key
            if arguments.get(primary.partition_key) is None:
                raise BadRequest(
                    f"{req.field_name}: a sort key condition or sortDirection needs the partition key "
                    f"value ({primary.partition_key})"
                )
            return self._query(primary, model, arguments, req)
        names = _LIST_ARGUMENTS if primary is None else _LIST_ARGUMENTS | {*model.key_fields, "sortDirection"}
        args = check_arguments(arguments, req.field_name, names, ())
        page = self.operations.list(
            req.principal,
            model,
            filter=args.get("filter"),
            limit=args.get("limit"),
            next_token=args.get("nextToken"),
        )
        return self._connection(model, page, req)

    def _query(
        self, secondary: SecondaryIndex, model: Model, arguments: Mapping[str, Any], req: _Request
    ) -> dict[str, Any]:
        """A secondary index's query field: the partition key value (required), a condition on
        the sort key, ``sortDirection``, ``filter``, ``limit``, ``nextToken``."""
        pk, sk = secondary.partition_key, secondary.sort_key
        names = _LIST_ARGUMENTS | {pk, "sortDirection"} | ({sk} if sk else set())
        args = check_arguments(arguments, req.field_name, names, (pk,))
        page = self.operations.query_index(
            req.principal,
            model,
            secondary,
            args[pk],
            sort=args.get(sk) if sk else None,
            sort_direction=args.get("sortDirection"),
            filter=args.get("filter"),
            limit=args.get("limit"),
            next_token=args.get("nextToken"),
        )
        return self._connection(model, page, req)

    def _connection(self, model: Model, page: ListOutput, req: _Request) -> dict[str, Any]:
        items = [self._output(model, Operation.LIST, out, req) for out in page.items]
        return {"items": items, "nextToken": page.next_token, "__typename": f"Model{model.name}Connection"}

    def _related(
        self, parent: Model, rel: Relation, model: Model, arguments: Mapping[str, Any], req: _Request
    ) -> dict[str, Any] | None:
        """A relationship field below an item (``source``), answered by ``model`` (the related
        one)'s rules: ``has_many`` a Query on the child's reference index (the caller's
        constraint a filter of it, bounded as every list is), ``has_one`` its first item,
        ``belongs_to`` the parent as ``get`` reads it. Below a mutation's result it is null
        (Amplify's redaction of relational fields: subscribers receive that result)."""
        source = req.source
        if source is None:
            raise BadRequest(f"{parent.name}.{rel.name}: a nested field needs its parent item (source)")
        if not isinstance(source, Mapping):
            raise BadRequest(f"{parent.name}.{rel.name}: source must be an object")
        if source.get(MUTATION_MARK) == "Mutation":
            if rel.is_list and arguments:
                check_arguments(arguments, req.field_name, _RELATION_ARGUMENTS, ())
            return None
        allowed = _RELATION_ARGUMENTS if rel.is_list else frozenset()
        args = check_arguments(arguments, req.field_name, allowed, ())
        found = self.operations.related(
            req.principal,
            parent,
            rel,
            model,
            source,
            sort_direction=args.get("sortDirection"),
            filter=args.get("filter"),
            limit=args.get("limit"),
            next_token=args.get("nextToken"),
        )
        if isinstance(found, ListOutput):
            return self._connection(model, found, req)
        return None if found is None else self._output(model, Operation.GET, found, req)

    def _create(self, model: Model, arguments: Mapping[str, Any], req: _Request) -> dict[str, Any]:
        args = self._mutation_arguments(arguments, req)
        output = self.operations.create(req.principal, model, args["input"], args.get("condition"))
        return self._output(model, Operation.CREATE, output, req)

    def _update(self, model: Model, arguments: Mapping[str, Any], req: _Request) -> dict[str, Any]:
        args = self._mutation_arguments(arguments, req)
        data = self._input_with_id(model, args["input"], "Update")
        key = _key(model, data)
        for name in model.key_fields:
            data.pop(name)
        output = self.operations.update(req.principal, model, key, data, args.get("condition"))
        return self._output(model, Operation.UPDATE, output, req)

    def _delete(self, model: Model, arguments: Mapping[str, Any], req: _Request) -> dict[str, Any]:
        args = self._mutation_arguments(arguments, req)
        data = self._input_with_id(model, args["input"], "Delete")
        if set(data) - {*model.key_fields, "_version"}:
            raise BadRequest(f"Delete{model.name}Input takes only {', '.join(model.key_fields)} and _version")
        output = self.operations.delete(
            req.principal, model, _key(model, data), data.get("_version"), args.get("condition")
        )
        return self._output(model, Operation.DELETE, output, req)

    @staticmethod
    def _mutation_arguments(arguments: Mapping[str, Any], req: _Request) -> dict[str, Any]:
        """``input`` and the optional ``condition`` (Amplify's ``ModelXConditionInput``)."""
        return check_arguments(arguments, req.field_name, _MUTATION_ARGUMENTS, ("input",))

    @staticmethod
    def _input_with_id(model: Model, data: Any, verb: str) -> dict[str, Any]:
        """The input, with its key (``id`` or the identifier fields) present."""
        if not isinstance(data, Mapping):
            raise BadRequest(f"{verb}{model.name}Input must be an object")
        for name in model.key_fields:
            if data.get(name) is None:
                raise BadRequest(f"{verb}{model.name}Input: '{name}' is required")
        return dict(data)


def _key(model: Model, values: Mapping[str, Any]) -> Any:
    """The item's key from arguments or input: its ``id``, or the identifier fields' values."""
    if model.key_fields == ("id",):
        return values["id"]
    return {name: values[name] for name in model.key_fields}


def _disabled(kind: str) -> _Handler:
    """The handler of a disabled root field (not in the SDL; a direct call is refused, typed)."""

    def refuse(model: Model, arguments: Mapping[str, Any], req: _Request) -> Any:
        Operations.check_enabled(model, kind)

    return refuse


def _selected_fields(info: Mapping[str, Any], op: Operation) -> frozenset[str] | None:
    """The item fields the client selected, from AppSync's ``info.selectionSetList``: the
    top-level names, or those under ``items/`` for a list (``["items", "items/id", "nextToken"]``).

    None when the list is absent or empty, as in hand-built events (AppSync lists at least one
    field for an object result): every denied field is then reported, as before selections were
    read. The selection decides only which errors are reported, never what data is returned.

    >>> sorted(_selected_fields({"selectionSetList": ["items", "items/id", "nextToken"]}, Operation.LIST))
    ['id']
    """
    selection = info.get("selectionSetList")
    if selection is None or selection == []:
        return None
    # a client sends the same few selections again and again: each is read once, and only a
    # list of strings is remembered (an equal list is then one of strings too)
    key = None
    if type(selection) is list:
        try:
            key = (op, tuple(selection))
            found = _SELECTIONS.get(key)
        except TypeError:  # unhashable entries: no field names, refused below
            key = found = None
        if found is not None:
            return found
    if not isinstance(selection, list) or not all(isinstance(s, str) for s in selection):
        raise BadRequest("info.selectionSetList must be a list of field names")
    prefix = "items/" if op is Operation.LIST else ""
    names = (s.removeprefix(prefix) for s in selection if s.startswith(prefix))
    selected = frozenset(name for name in names if "/" not in name)
    if key is not None:
        if len(_SELECTIONS) >= _MAX_SELECTIONS:
            _SELECTIONS.clear()
        _SELECTIONS[key] = selected
    return selected


_SELECTIONS: dict[tuple[Operation, tuple[str, ...]], frozenset[str]] = {}
_MAX_SELECTIONS = 256


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
