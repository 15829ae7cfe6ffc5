"""A JSON REST API over every model of a schema, on Powertools' API Gateway resolvers, with
the same identity, rules and store as the GraphQL API.

Routes per model (``Todo`` → ``/todos``; the plural is ``Model.list_name`` in lower case):

==================================  ==========  ===========================================
``GET /todos``                      list        ``?limit=&nextToken=&filter=<JSON filter>``
``POST /todos``                     create      body: the fields (``id`` optional) → 201 +
                                                Location
``GET /todos/{id}``                 get         404 when missing
``PATCH /todos/{id}``               update      body: the fields to change, ``_version``
                                                optional
``DELETE /todos/{id}``              delete      ``?_version=`` optional
``GET /todos/{queryField}/{pk}``    the index   a secondary index's query field (Gen 2
                                    query       ``.queryField``): ``?createdAt.gt=…``,
                                                ``?sortDirection=DESC`` and list's parameters
==================================  ==========  ===========================================

A model with a custom identifier (``identifier=["customerEmail", "orderId"]``) is addressed by
its whole key, one path segment per key field in the identifier's order:
``GET/PATCH/DELETE /orders/{customerEmail}/{orderId}``; ``GET /orders/{customerEmail}`` alone is a
400 (a key part is missing). Its list takes the key condition of ``listOrders``:
``GET /orders?customerEmail=a@example.com&orderId.beginsWith=2026-&sortDirection=DESC``.

A sort key condition is one ``?<sortKey>.<op>=<value>`` (``op``: ``eq``, ``le``, ``lt``, ``ge``,
``gt``, ``beginsWith``, or ``between=<low>,<high>``; ``?<sortKey>=<value>`` is ``eq``). Number keys
(``Int``, ``Float``, ``AWSTimestamp``) are written as numbers. A parameter naming a field that is
not a key of the query, a condition on the partition key, two conditions, a condition or
``sortDirection`` without the partition value, or a malformed value is a 400 with the reason.
The index and key queries are the GraphQL fields' :meth:`Operations.query_index` calls: the
model's ``list`` rules, the same constraint and bounds.

Relationship fields of ``id``-keyed models are sub-resources, answered with the related model's
rules as their GraphQL fields are: ``GET /posts/{id}/comments`` (``has_many``: a page, with
``?limit=&nextToken=&filter=&sortDirection=``), ``GET /comments/{id}/post`` (``belongs_to``) and
``GET /accounts/{id}/profile`` (``has_one``): the related item, or 404 when there is none; 403
when the caller may not read it. The parent is read first with ``get``'s rules (a parent the caller
may not read is 403, a missing one 404), as a client reaches a nested field only through its parent.

The caller is :meth:`Principal.from_apigw` (the Lambda authorizer's context, Cognito authorizer
claims, IAM, …). Errors are :class:`~modelauth.errors.ModelAuthError` mapped in one place to
their HTTP status (400/401/403/404/409/503) with the JSON body
``{"message", "errorType"[, "errorInfo"]}``; fields the caller may not read come back as
``null`` and are named in the ``x-modelauth-denied-fields`` header. One function serves REST APIs
(payload 1.0) and HTTP APIs (payload 2.0): the event's ``version`` picks the resolver.

Example (functions/rest/app.py)::

    from modelauth.rest import RestApp

    app = RestApp.from_env()  # the schema named by $MODELAUTH_SCHEMA

    def lambda_handler(event, context):
        return app.resolve(event, context)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NoReturn
from urllib.parse import quote, unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from modelauth.errors import BadRequest, ModelAuthError, NotFound
from modelauth.identity import IdentityConfig, Principal
from modelauth.operations import ListOutput, Operations, Output
from modelauth.policy import AuthConfig, Decision
from modelauth.rules import Model, Relation, Schema, SecondaryIndex
from modelauth.startup import build_from_env
from modelauth.store import ItemKey, Store, key_from_text, key_of

__all__ = ["RestApp", "index_path", "item_path", "resource_path"]

logger = Logger(service="modelauth")

_JSON = "application/json"
DENIED_FIELDS_HEADER = "x-modelauth-denied-fields"


def resource_path(model: Model) -> str:
    """The collection path of a model: ``/todos``, ``/catalogitems``."""
    return "/" + model.list_name.lower()


def item_path(model: Model, key: ItemKey) -> str:
    """The path of one item: ``/todos/t-1``, ``/orders/a%40example.com/o-1`` (each key part
    percent-encoded, in the identifier's order).

    >>> from modelauth.rules import Field
    >>> order = Model("Order", fields=[Field("email", required=True), Field("n", "Int", required=True)],
    ...               identifier=["email", "n"])
    >>> item_path(order, {"email": "a b@example.com", "n": 7})
    '/orders/a%20b%40example.com/7'
    """
    parts = [key] if isinstance(key, str) else [key[name] for name in model.key_fields]
    return resource_path(model) + "".join("/" + quote(str(part), safe="") for part in parts)


def index_path(model: Model, secondary: SecondaryIndex) -> str:
    """The collection of a secondary index's query: ``/tasks/tasksByStatus`` (its query field's
    name); ``/{partition key value}`` follows."""
    return f"{resource_path(model)}/{secondary.field_name(model)}"


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response[str]:
    return Response(status, _JSON, json.dumps(body, separators=(",", ":")), headers=dict(headers or {}))


def _item(output: Output, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[str]:
    extra = dict(headers or {})
    if output.denied_fields:
        extra[DENIED_FIELDS_HEADER] = ",".join(output.denied_fields)
    return _json(status, output.item, extra)


def _error(exc: ModelAuthError) -> Response[str]:
    logger.info("refused", extra={"status": exc.http_status, "reason": exc.reason})
    return _json(exc.http_status, exc.as_http_body())


def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("unexpected failure")
    return _json(500, ModelAuthError("Internal error").as_http_body())


def _not_found(exc: Exception) -> Response[str]:
    return _json(404, NotFound("No such resource").as_http_body())


class RestApp:
    """The REST/HTTP API for every model of a schema."""

    def __init__(
        self,
        schema: Schema,
        store: Store,
        *,
        identity_config: IdentityConfig | None = None,
        auth_config: AuthConfig | None = None,
    ) -> None:
        self.schema = schema
        self.operations = Operations(store, auth_config, on_decision=_log_decision)
        self.identity_config = identity_config or IdentityConfig()
        self.rest = APIGatewayRestResolver()
        self.http = APIGatewayHttpResolver()
        for router in (self.rest, self.http):
            for model in schema.models:
                self._register(router, model)
            router.not_found(_not_found)
            router.exception_handler(ModelAuthError)(_error)
            router.exception_handler(Exception)(_unexpected)

    @classmethod
    def from_env(cls, schema: Schema | None = None) -> RestApp:
        """Build once at import: DynamoDB client, tables and settings from the environment
        (``schema`` defaults to the one ``$MODELAUTH_SCHEMA`` names). The same
        :meth:`AuthConfig.from_env` as the GraphQL resolver, so an IAM-authorized route is judged
        like AppSync's AWS_IAM mode."""
        return build_from_env(cls, schema)

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        """Answer one API Gateway proxy event (REST/payload 1.0, or HTTP API payload 2.0).

        Powertools reads the event before any route (and its error handlers) runs, so the event's
        envelope is checked first: a malformed one is a 400, never a traceback."""
        try:
            version = _check_envelope(event)
        except BadRequest as exc:
            return _bare(_error(exc))
        router = self.http if version == "2.0" else self.rest
        try:
            return router.resolve(event, context)
        except Exception as exc:  # outside the routes: no handler of the router's saw it
            return _bare(_unexpected(exc))

    # -- wiring ---------------------------------------------------------------------------------
    def _register(self, router: ApiGatewayResolver, model: Model) -> None:
        collection = resource_path(model)
        router.get(collection)(lambda: self._list(router, model))
        router.post(collection)(lambda: self._create(router, model))
        # A REST API (payload 1.0) delivers the path still percent-encoded, an HTTP API decoded
        # (verified on live captures, middleapi/standard-server#93): an id is the same item on both.
        decode: Callable[[str], str] = unquote if router is self.rest else str
        # index queries first: Powertools takes the first route that matches (a 2-part key whose
        # partition value is a query field's name is read by GET /orders?customerEmail=…)
        for secondary in model.secondary_indexes:
            if secondary.relation is None:  # a relationship's index is read through its parent
                self._register_index(router, model, secondary, decode)
        parts = [f"<k{n}>" for n in range(len(model.key_fields))]
        one = collection + "/" + "/".join(parts)

        def key(segments: Mapping[str, str]) -> ItemKey:
            return _path_key(model, [decode(segments[f"k{n}"]) for n in range(len(parts))])

        router.get(one)(lambda **segments: self._get(router, model, key(segments)))
        router.patch(one)(lambda **segments: self._update(router, model, key(segments)))
        router.delete(one)(lambda **segments: self._delete(router, model, key(segments)))
        for rel in model.relations:  # /posts/{id}/comments: the related model's rules
            related = partial(self._related, router, model, rel)
            router.get(f"{one}/{rel.name}")(lambda related=related, **segments: related(key(segments)))
        if len(parts) == 2:  # /orders/{customerEmail} alone: a key part is missing
            incomplete = collection + "/<k0>"
            for method in ("GET", "PATCH", "DELETE"):
                router.route(incomplete, method)(lambda k0: _missing_key_part(model))

    def _register_index(
        self,
        router: ApiGatewayResolver,
        model: Model,
        secondary: SecondaryIndex,
        decode: Callable[[str], str],
    ) -> None:
        path = index_path(model, secondary)
        router.get(path)(lambda: _missing_partition(model, secondary))
        router.get(path + "/<partition>")(
            lambda partition: self._query(router, model, secondary, decode(partition))
        )

    def _principal(self, router: ApiGatewayResolver) -> Principal:
        return Principal.from_apigw(router.current_event.raw_event, config=self.identity_config)

    # -- operations -----------------------------------------------------------------------------
    def _get(self, router: ApiGatewayResolver, model: Model, item_id: ItemKey) -> Response[str]:
        output = self.operations.get(self._principal(router), model, item_id)
        if output is None:
            label = item_id if isinstance(item_id, str) else "/".join(str(v) for v in item_id.values())
            raise NotFound(f"{model.name} {label} not found")
        return _item(output)

    def _list(self, router: ApiGatewayResolver, model: Model) -> Response[str]:
        query = _query_parameters(router)
        primary = model.primary_index
        if primary is not None:
            # GET /orders?customerEmail=…&orderId.beginsWith=…: a Query of the table's key
            partition, sort = _key_parameters(model, primary, query, f"list{model.list_name}")
            if partition is not None:
                Operations.check_enabled(model, "list")
                return self._query_page(router, model, primary, partition, sort, query)
            if sort is not None or "sortDirection" in query:
                raise BadRequest(
                    f"list{model.list_name}: a sort key condition or sortDirection needs the partition "
                    f"key value ({primary.partition_key}=…)"
                )
        else:
            _key_parameters(model, None, query, f"list{model.list_name}")
            if "sortDirection" in query:
                raise BadRequest(
                    f"list{model.list_name}: sortDirection is for key queries (a custom identifier's "
                    "list or a secondary index)"
                )
        page = self.operations.list(
            self._principal(router),
            model,
            filter=_json_param(query.get("filter"), "filter"),
            limit=_int_param(query.get("limit"), "limit"),
            next_token=query.get("nextToken"),
        )
        return _page(page)

    def _related(
        self, router: ApiGatewayResolver, parent: Model, rel: Relation, item_id: ItemKey
    ) -> Response[str]:
        """A relationship of one item: the parent as ``get`` reads it, then the related model's
        rules (:meth:`Operations.related`, as for the GraphQL field)."""
        principal = self._principal(router)
        source = self.operations.get(principal, parent, item_id)
        if source is None:
            raise NotFound(f"{parent.name} {item_id} not found")
        query = router.current_event.query_string_parameters or {}
        allowed = {"filter", "limit", "nextToken", "sortDirection"} if rel.is_list else set()
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise BadRequest(f"unknown query parameter(s) {unknown}")
        found = self.operations.related(
            principal,
            parent,
            rel,
            self.schema.model(rel.related),
            source.item,
            sort_direction=query.get("sortDirection"),
            filter=_json_param(query.get("filter"), "filter"),
            limit=_int_param(query.get("limit"), "limit"),
            next_token=query.get("nextToken"),
        )
        if isinstance(found, ListOutput):
            return _page(found)
        if found is None:
            raise NotFound(f"{parent.name} {item_id} has no {rel.name}")
        return _item(found)

    def _query(
        self, router: ApiGatewayResolver, model: Model, secondary: SecondaryIndex, partition: str
    ) -> Response[str]:
        """``GET /tasks/tasksByStatus/open?createdAt.gt=…``: the index's query field."""
        Operations.check_enabled(model, "list")
        query = _query_parameters(router)
        where = secondary.field_name(model)
        if secondary.partition_key in query or any(
            k.startswith(secondary.partition_key + ".") for k in query
        ):
            raise BadRequest(f"{where}: the partition key value ({secondary.partition_key}) is in the path")
        _, sort = _key_parameters(model, secondary, query, where)
        value = key_from_text(model, secondary.partition_key, partition)
        return self._query_page(router, model, secondary, value, sort, query)

    def _query_page(
        self,
        router: ApiGatewayResolver,
        model: Model,
        secondary: SecondaryIndex,
        partition: Any,
        sort: Any,
        query: Mapping[str, str],
    ) -> Response[str]:
        page = self.operations.query_index(
            self._principal(router),
            model,
            secondary,
            partition,
            sort=sort,
            sort_direction=query.get("sortDirection"),
            filter=_json_param(query.get("filter"), "filter"),
            limit=_int_param(query.get("limit"), "limit"),
            next_token=query.get("nextToken"),
        )
        return _page(page)

    def _create(self, router: ApiGatewayResolver, model: Model) -> Response[str]:
        output = self.operations.create(self._principal(router), model, _body(router), _condition(router))
        return _item(output, 201, {"Location": item_path(model, key_of(model, output.item))})

    def _update(self, router: ApiGatewayResolver, model: Model, item_id: ItemKey) -> Response[str]:
        body = _body(router)
        if isinstance(item_id, str) and isinstance(body, dict) and "id" in body:
            if body["id"] != item_id:
                raise BadRequest("the body's id differs from the path's")
            body = {k: v for k, v in body.items() if k != "id"}
        return _item(
            self.operations.update(self._principal(router), model, item_id, body, _condition(router))
        )

    def _delete(self, router: ApiGatewayResolver, model: Model, item_id: ItemKey) -> Response[str]:
        query = router.current_event.query_string_parameters or {}
        version = _int_param(query.get("_version"), "_version")
        return _item(
            self.operations.delete(self._principal(router), model, item_id, version, _condition(router))
        )


def _page(page: ListOutput) -> Response[str]:
    denied = sorted({name for out in page.items for name in out.denied_fields})
    headers = {DENIED_FIELDS_HEADER: ",".join(denied)} if denied else None
    return _json(200, {"items": [out.item for out in page.items], "nextToken": page.next_token}, headers)


def _log_decision(decision: Decision) -> None:
    log = logger.debug if decision.allowed else logger.info  # refusals at INFO, the rest on demand
    log(
        "allowed" if decision.allowed else "denied",
        extra={"model": decision.model, "operation": decision.operation.value, "reason": decision.reason},
    )


# --------------------------------------------------------------------------- keys in paths and queries

_SORT_OPERATORS = ("eq", "le", "lt", "ge", "gt", "between", "beginsWith")
#: the list parameters, never read as a key condition (whatever the model's fields are called)
_PAGE_PARAMETERS = frozenset({"limit", "nextToken", "filter", "sortDirection", "condition", "_version"})


def _path_key(model: Model, parts: list[str]) -> ItemKey:
    """The key of ``/orders/{customerEmail}/{orderId}``: ``id``'s text, or the identifier's
    values, each of its field's type (checked by the operation)."""
    if model.key_fields == ("id",):
        return parts[0]
    names = model.key_fields
    return {name: key_from_text(model, name, part) for name, part in zip(names, parts, strict=True)}


def _key_parameters(
    model: Model, secondary: SecondaryIndex | None, query: Mapping[str, str], where: str
) -> tuple[Any, Any]:
    """(partition value, sort key condition) of a query string, each None when absent.

    ``customerEmail=…`` is the partition value, ``orderId.beginsWith=…`` (or ``orderId=…``, eq)
    the sort key condition. A parameter naming another field of the model (``status=``,
    ``title.eq=``) is refused: a key condition on a field that is not a key of this query (the
    ``filter`` parameter filters any field). Other parameters (``limit``, ``filter``, …) pass."""
    pk = secondary.partition_key if secondary else None
    sk = secondary.sort_key if secondary else None
    partition: Any = None
    conditions: list[dict[str, Any]] = []
    for name, text in query.items():
        field, dot, op = name.partition(".")
        if name in _PAGE_PARAMETERS or field not in model.field_names:
            continue
        if field == pk and secondary is model.primary_index and not dot:
            partition = key_from_text(model, field, text)
        elif field == pk:
            raise BadRequest(f"{where}: the partition key {pk} takes a value ({pk}=…), not a condition")
        elif field == sk and sk is not None:
            conditions.append(_sort_condition(model, sk, op if dot else "eq", text, where))
        else:
            keys = ", ".join(k for k in (pk, sk) if k) or "none"
            raise BadRequest(
                f"{where}: {field} is not a key of this query (its keys: {keys}); "
                "use filter=<JSON filter> for other fields"
            )
    if len(conditions) > 1:
        raise BadRequest(f"{where}: {sk} takes one condition, not {len(conditions)}")
    return partition, conditions[0] if conditions else None


def _sort_condition(model: Model, sk: str, op: str, text: str, where: str) -> dict[str, Any]:
    if op not in _SORT_OPERATORS:
        raise BadRequest(f"{where}: {sk}.{op}: unknown operator (one of {', '.join(_SORT_OPERATORS)})")
    if op != "between":
        return {op: key_from_text(model, sk, text)}
    low, comma, high = text.partition(",")
    if not comma or "," in high:
        raise BadRequest(f"{where}: {sk}.between takes two values: {sk}.between=<low>,<high>")
    return {op: [key_from_text(model, sk, low), key_from_text(model, sk, high)]}


def _query_parameters(router: ApiGatewayResolver) -> dict[str, str]:
    """The query string; a key parameter given twice on a REST API (its last value is all
    ``queryStringParameters`` keeps) is refused rather than half-read."""
    event = router.current_event
    multi = event.multi_value_query_string_parameters or {}
    repeated = sorted(name for name, values in multi.items() if len(values) > 1)
    if repeated:
        raise BadRequest(f"query parameters given more than once: {', '.join(repeated)}")
    return dict(event.query_string_parameters or {})


def _missing_key_part(model: Model) -> NoReturn:
    path = resource_path(model) + "".join(f"/{{{name}}}" for name in model.key_fields)
    raise BadRequest(f"the key of {model.name} is {', '.join(model.key_fields)}: {path}")


def _missing_partition(model: Model, secondary: SecondaryIndex) -> NoReturn:
    path = f"{index_path(model, secondary)}/{{{secondary.partition_key}}}"
    raise BadRequest(f"{secondary.field_name(model)} needs the partition key value: {path}")


def _body(router: ApiGatewayResolver) -> Any:
    try:
        raw = router.current_event.decoded_body
    except ValueError:  # base64 or UTF-8
        raise BadRequest("the body is not valid base64-encoded UTF-8") from None
    if not raw:
        raise BadRequest("a JSON object body is required")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None


def _int_param(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


def _condition(router: ApiGatewayResolver) -> Any:
    """``?condition=<JSON ModelXConditionInput>``: the GraphQL mutations' condition argument."""
    query = router.current_event.query_string_parameters or {}
    return _json_param(query.get("condition"), "condition")


def _json_param(text: str | None, name: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest(f"{name} must be JSON") from None


# --------------------------------------------------------------------------- the event's envelope


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _string_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _strings_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and _strings(v) for k, v in value.items())


# what Powertools reads of each payload version, and the shape it assumes (null: absent)
_COMMON: dict[str, Callable[[Any], bool]] = {
    "headers": _string_map,
    "queryStringParameters": _string_map,
    "pathParameters": _string_map,
    "stageVariables": _string_map,
    "body": lambda v: isinstance(v, str),
    "isBase64Encoded": lambda v: isinstance(v, bool),
    "requestContext": lambda v: isinstance(v, Mapping),
}
_ENVELOPES: dict[str | None, dict[str, Callable[[Any], bool]]] = {
    None: {
        **_COMMON,
        "httpMethod": lambda v: isinstance(v, str),
        "path": lambda v: isinstance(v, str),
        "multiValueHeaders": _strings_map,
        "multiValueQueryStringParameters": _strings_map,
    },
    "2.0": {
        **_COMMON,
        "rawPath": lambda v: isinstance(v, str),
        "rawQueryString": lambda v: isinstance(v, str),
        "cookies": _strings,
    },
}
_REQUIRED = {None: ("httpMethod", "path"), "2.0": ("rawPath", "requestContext")}


def _check_envelope(event: Any) -> str | None:
    """The payload version (``"2.0"`` or None for 1.0) of a well-formed proxy event."""
    if not isinstance(event, Mapping):
        raise BadRequest("the API Gateway event must be an object")
    version = "2.0" if event.get("version") == "2.0" else None
    for name, valid in _ENVELOPES[version].items():
        value = event.get(name)
        if (value is not None or name in _REQUIRED[version]) and not valid(value):
            raise BadRequest(f"malformed API Gateway event: {name}")
    if version is not None:  # the method and the stage (stripped from rawPath) live here
        context = event["requestContext"]
        http = context.get("http")
        if not isinstance(http, Mapping) or not isinstance(http.get("method"), str):
            raise BadRequest("malformed API Gateway event: requestContext.http.method")
        if not isinstance(context.get("stage"), str):
            raise BadRequest("malformed API Gateway event: requestContext.stage")
    return version


def _bare(response: Response[str]) -> dict[str, Any]:
    """A proxy response built without a router (both payload versions read this shape)."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": _JSON, **{k: str(v) for k, v in response.headers.items()}},
        "body": response.body,
        "isBase64Encoded": False,
    }
