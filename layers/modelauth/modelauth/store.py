"""DynamoDB data layer: CRUD that enforces the constraint a :class:`~modelauth.policy.Decision`
hands it, atomically, in the ConditionExpression — never read-then-write.

- create fills owner fields from the decision's ``owner_stamp``, ``id``, timestamps, ``_version``;
- update/delete carry ``attribute_exists(id) AND <constraint> [AND _version = :expected]``; a
  failed condition is told apart from the old item DynamoDB returns
  (``ReturnValuesOnConditionCheckFailure``): missing, not yours, or a version conflict;
- owner-constrained lists Query the owner index (``by<Field>``: owner, createdAt), other lists
  Scan; both loop until the page is full, so a page of ``limit`` N has N items unless last;
- ``nextToken`` is opaque and HMAC-signed, bound to the query (model, constraint, filter).

Example::

    store = Store(boto3.client("dynamodb"), tables={"Todo": "todo-table"}, token_key=b"secret")
    item = store.create(todo_model, {"content": "hi"}, decision)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from modelauth.errors import BadRequest, ConditionFailed, Conflict, RetryableError, Unauthorized
from modelauth.filters import Placeholders, build_filter
from modelauth.policy import Condition, Constraint, Decision
from modelauth.rules import Model

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DEFAULT_LIST_LIMIT", "MAX_LIST_LIMIT", "Page", "Store", "dynamodb_client", "index_name"]

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
}


def dynamodb_client() -> DynamoDBClient:
    """A DynamoDB client with standard retries (honours ``AWS_ENDPOINT_URL_DYNAMODB``)."""
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", endpoint_url=endpoint, config=config)


def index_name(field: str) -> str:
    """The GSI serving lists constrained on a single-valued owner ``field``: ``byOwner``."""
    return "by" + field[:1].upper() + field[1:]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_token: str | None
    scanned: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    return value


class Store:
    """Generic CRUD for the models of a schema, one DynamoDB table per model."""

    def __init__(
        self,
        client: DynamoDBClient,
        tables: Mapping[str, str],
        *,
        token_key: bytes,
        clock: Callable[[], str] = _now,
    ) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._client = client
        self._tables = dict(tables)
        self._key = token_key
        self._clock = clock
        self._ser = TypeSerializer()
        self._de = TypeDeserializer()

    @classmethod
    def from_env(cls, models: Sequence[Model], client: DynamoDBClient | None = None) -> Store:
        """Tables from ``TABLE_<MODEL>`` variables, token key from ``NEXT_TOKEN_SECRET``.

        Without a secret a random per-process key is used: tokens then only work on the
        instance that issued them (fine locally; set the secret when deployed).
        """
        tables = {m.name: os.environ.get(f"TABLE_{m.name.upper()}", m.name) for m in models}
        secret = os.environ.get("NEXT_TOKEN_SECRET")
        key = secret.encode() if secret else secrets.token_bytes(32)
        return cls(client or dynamodb_client(), tables, token_key=key)

    # -- serialization --------------------------------------------------------------------------
    def _dump(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}

    def _load(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return {k: _from_dynamo(self._de.deserialize(v)) for k, v in raw.items()}

    def table(self, model: Model) -> str:
        return self._tables[model.name]

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _RETRYABLE:
                raise RetryableError(
                    "The data store is busy; retry the request", reason=f"DynamoDB {operation}: {code}"
                ) from exc
            raise

    # -- reads ----------------------------------------------------------------------------------
    def get(self, model: Model, item_id: str) -> dict[str, Any] | None:
        out = self._call(
            "get_item", TableName=self.table(model), Key={"id": {"S": item_id}}, ConsistentRead=True
        )
        raw = out.get("Item")
        return self._load(raw) if raw else None

    def batch_get(self, model: Model, ids: list[str]) -> list[dict[str, Any] | None]:
        """Items in the order of ``ids`` (None where missing), in chunks of 100."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table(model): {"Keys": [{"id": {"S": i}} for i in unique[start : start + 100]]}
            }
            while request:
                out = self._call("batch_get_item", RequestItems=request)
                for raw in out.get("Responses", {}).get(self.table(model), []):
                    item = self._load(raw)
                    found[item["id"]] = item
                request = out.get("UnprocessedKeys") or {}
        return [found.get(i) for i in ids]

    # -- writes ---------------------------------------------------------------------------------
    def create(self, model: Model, data: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
        now = self._clock()
        item = {**data, **decision.owner_stamp}
        item.update(id=data.get("id") or str(uuid.uuid4()), createdAt=now, updatedAt=now, _version=1)
        try:
            self._call(
                "put_item",
                TableName=self.table(model),
                Item=self._dump(item),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": "id"},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(reason=f"{model.name} {item['id']} already exists") from exc
            raise
        return {k: v for k, v in item.items() if v is not None}

    def update(
        self,
        model: Model,
        item_id: str,
        changes: Mapping[str, Any],
        decision: Decision,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        ph = Placeholders()
        sets = [f"{ph.name('updatedAt')} = {ph.value(self._clock())}"]
        removes: list[str] = []
        for name, value in changes.items():
            if value is None:
                removes.append(ph.name(name))
            else:
                sets.append(f"{ph.name(name)} = {ph.value(value)}")
        expression = "SET " + ", ".join(sets) + f" ADD {ph.name('_version')} {ph.value(1)}"
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        out = self._conditional_write(
            model,
            item_id,
            decision,
            expected_version,
            ph,
            "update_item",
            UpdateExpression=expression,
            ReturnValues="ALL_NEW",
        )
        return self._load(out["Attributes"])

    def delete(
        self, model: Model, item_id: str, decision: Decision, expected_version: int | None = None
    ) -> dict[str, Any]:
        out = self._conditional_write(
            model, item_id, decision, expected_version, Placeholders(), "delete_item", ReturnValues="ALL_OLD"
        )
        return self._load(out["Attributes"])

    def _conditional_write(
        self,
        model: Model,
        item_id: str,
        decision: Decision,
        expected_version: int | None,
        ph: Placeholders,
        operation: str,
        **kwargs: Any,
    ) -> Any:
        conditions = [f"attribute_exists({ph.name('id')})"]
        if decision.constraint is not None:
            conditions.append(_constraint_expression(decision.constraint, ph))
        if expected_version is not None:
            conditions.append(f"{ph.name('_version')} = {ph.value(expected_version)}")
        values = {k: self._ser.serialize(_to_dynamo(v)) for k, v in ph.values.items()}
        request: dict[str, Any] = {
            "TableName": self.table(model),
            "Key": {"id": {"S": item_id}},
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": ph.names,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **kwargs,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            return self._call(operation, **request)
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            raw: Any = exc.response.get("Item")
            current = self._load(raw) if isinstance(raw, dict) and raw else self.get(model, item_id)
            raise _explain_failure(model, item_id, decision, expected_version, current) from exc

    # -- lists ----------------------------------------------------------------------------------
    def list_items(
        self,
        model: Model,
        decision: Decision,
        *,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
        caller: str = "",
    ) -> Page:
        """One full page of items the decision allows, matching ``filter``."""
        limit = DEFAULT_LIST_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        scope = _query_scope(model, decision, filter, caller)
        state: dict[str, Any] = self._open_token(next_token, scope) if next_token else {"p": 0, "k": None}
        plan = self._plan(model, decision, filter)
        items: list[dict[str, Any]] = []
        scanned = 0
        partition, start_key = int(state["p"]), state["k"]
        while partition < len(plan):
            request = dict(plan[partition])
            if start_key:
                request["ExclusiveStartKey"] = start_key
            request["Limit"] = max(limit - len(items), 1) if "IndexName" in request else max(limit, 25)
            out = self._call(plan_operation(request), **request)
            scanned += int(out.get("ScannedCount", 0))
            for raw in out.get("Items", []):
                items.append(self._load(raw))
                if len(items) == limit:
                    key = self._resume_key(model, request, raw)
                    more = key is not None and self._has_more(out, raw, partition, len(plan))
                    token = self._seal({"p": partition, "k": key}, scope) if more else None
                    return Page(items, token, scanned)
            start_key = out.get("LastEvaluatedKey")
            if not start_key:
                partition, start_key = partition + 1, None
        return Page(items, None, scanned)

    @staticmethod
    def _has_more(out: Mapping[str, Any], raw: Mapping[str, Any], partition: int, partitions: int) -> bool:
        last_of_response = out.get("Items", [])[-1] is raw
        return not (last_of_response and not out.get("LastEvaluatedKey") and partition == partitions - 1)

    @staticmethod
    def _resume_key(
        model: Model, request: Mapping[str, Any], raw: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        keys = ["id"]
        index = request.get("IndexName")
        if index:
            keys += [request["ExpressionAttributeNames"]["#pk"], "createdAt"]
        return {k: raw[k] for k in keys if k in raw}

    def _plan(
        self, model: Model, decision: Decision, filter_input: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The requests a list walks through, in order: one Query per owner value on the owner
        index, or one Scan when the constraint can't be served by an index."""
        fields = model.field_names
        condition = decision.constraint.single_condition if decision.constraint else None
        if condition is not None and not condition.list_field and _indexed(model, condition):
            requests = []
            for value in condition.values:
                ph = Placeholders()
                ph.names["#pk"] = condition.field
                request: dict[str, Any] = {
                    "TableName": self.table(model),
                    "IndexName": index_name(condition.field),
                    "KeyConditionExpression": f"#pk = {ph.value(value)}",
                }
                if filter_input:
                    request["FilterExpression"] = build_filter(filter_input, fields, ph)
                requests.append(self._with_placeholders(request, ph))
            return requests
        ph = Placeholders()
        parts = []
        if decision.constraint is not None:
            parts.append(_constraint_expression(decision.constraint, ph))
        if filter_input:
            parts.append(build_filter(filter_input, fields, ph))
        scan: dict[str, Any] = {"TableName": self.table(model)}
        if parts:
            scan["FilterExpression"] = " AND ".join(parts)
        return [self._with_placeholders(scan, ph)]

    def _with_placeholders(self, request: dict[str, Any], ph: Placeholders) -> dict[str, Any]:
        if ph.names:
            request["ExpressionAttributeNames"] = dict(ph.names)
        if ph.values:
            request["ExpressionAttributeValues"] = {
                k: self._ser.serialize(_to_dynamo(v)) for k, v in ph.values.items()
            }
        return request

    # -- nextToken ------------------------------------------------------------------------------
    def _seal(self, state: Mapping[str, Any], scope: str) -> str:
        body = json.dumps({"s": state, "q": scope}, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return _b64(body) + "." + _b64(mac)

    def _open_token(self, token: str, scope: str) -> dict[str, Any]:
        try:
            body_part, mac_part = token.split(".")
            body = _unb64(body_part)
            ok = hmac.compare_digest(_unb64(mac_part), hmac.new(self._key, body, hashlib.sha256).digest())
            payload = json.loads(body) if ok else None
        except (ValueError, TypeError):
            payload = None
        if (
            not isinstance(payload, dict)
            or payload.get("q") != scope
            or not isinstance(payload.get("s"), dict)
        ):
            raise BadRequest("Invalid nextToken", reason="nextToken signature, query or caller mismatch")
        state: dict[str, Any] = payload["s"]
        return state


def plan_operation(request: Mapping[str, Any]) -> str:
    return "query" if "KeyConditionExpression" in request else "scan"


def _indexed(model: Model, condition: Condition) -> bool:
    return any(r.owner_field == condition.field and not r.multi for r in model.owner_rules)


def _query_scope(
    model: Model, decision: Decision, filter_input: Mapping[str, Any] | None, caller: str
) -> str:
    """What a nextToken is bound to: the model, the caller, the constraint and the filter."""
    text = json.dumps(
        [
            model.name,
            caller,
            decision.constraint.describe() if decision.constraint else "",
            filter_input or {},
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _constraint_expression(constraint: Constraint, ph: Placeholders) -> str:
    """The constraint as a condition, parenthesised only where needed (DynamoDB rejects
    redundant parentheses)."""

    def one(c: Condition) -> str:
        name = ph.name(c.field)
        if c.list_field:
            return _any_of([f"contains({name}, {ph.value(v)})" for v in c.values])
        return f"{name} IN (" + ", ".join(ph.value(v) for v in c.values) + ")"

    alternatives = [" AND ".join(one(c) for c in alt) for alt in constraint.alternatives]
    if len(alternatives) > 1:
        alternatives = [f"({a})" if " AND " in a else a for a in alternatives]
    return _any_of(alternatives)


def _any_of(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _explain_failure(
    model: Model,
    item_id: str,
    decision: Decision,
    expected_version: int | None,
    current: Mapping[str, Any] | None,
) -> Exception:
    """Tell a failed condition apart: missing item, not the caller's, or a stale version."""
    if current is None:
        if decision.constraint is not None:
            # an owner/group rule met no stored owner: Amplify answers Unauthorized (spec §3.4)
            return Unauthorized("Not Authorized", reason=f"{model.name} {item_id} does not exist")
        return ConditionFailed(reason=f"{model.name} {item_id} does not exist")
    if decision.constraint is not None and not decision.constraint.matches(current):
        return Unauthorized(
            "Not Authorized", reason=f"{model.name} {item_id}: {decision.constraint.why_not(current)}"
        )
    version = current.get("_version")
    return Conflict(
        f"Conflict: {model.name} {item_id} is at version {version}, not {expected_version}",
        reason="version conflict",
        data={"_version": version, "id": item_id},
    )


def iter_pages(store: Store, model: Model, decision: Decision, **kwargs: Any) -> Iterator[Page]:
    """Every page of a list, following nextToken (for tools and tests)."""
    token: str | None = None
    while True:
        page = store.list_items(model, decision, next_token=token, **kwargs)
        yield page
        token = page.next_token
        if token is None:
            return
