"""DynamoDB data layer: CRUD that enforces the constraint a :class:`~modelauth.policy.Decision`
hands it, atomically, in the ConditionExpression — never read-then-write.

- create fills owner fields from the decision's ``owner_stamp``, ``id``, timestamps, ``_version``;
- update/delete carry ``attribute_exists(id) AND <constraint> [AND _version = :expected]``; a
  failed condition is told apart from the old item DynamoDB returns
  (``ReturnValuesOnConditionCheckFailure``): missing, not yours, or a version conflict;
- owner-constrained lists Query the owner index (``by<Field>``: owner, and the creation timestamp
  ``createdAt`` or as ``Model.timestamps`` names it; no sort key when it is off), other lists
  Scan; both loop until the page is full, so a page of ``limit`` N has N items unless last;
- a list whose reads are not its items (a Scan, or a Query with a filter) stops once it has read
  ``list_max_read_items`` items or made ``list_max_calls`` calls, and returns what it found with
  a ``nextToken`` that resumes there (``MODELAUTH_LIST_MAX_READ_ITEMS`` /
  ``MODELAUTH_LIST_MAX_CALLS``; defaults 10,000 and 10): one request's work does not grow with
  the table;
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
import math
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from modelauth.errors import (
    BadRequest,
    ConditionFailed,
    ConditionNotMet,
    Conflict,
    RetryableError,
    Unauthorized,
)
from modelauth.filters import Placeholders, build_filter
from modelauth.policy import Condition, Constraint, Decision
from modelauth.rules import Model, SecondaryIndex, key_attribute_type
from modelauth.validation import check_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_LIST_MAX_CALLS",
    "DEFAULT_LIST_MAX_READ_ITEMS",
    "INDEX_TABLE",
    "ItemKey",
    "MAX_LIST_LIMIT",
    "Page",
    "Store",
    "dynamodb_client",
    "index_fields",
    "index_name",
    "index_table_definition",
    "check_key",
    "key_from_text",
    "key_of",
    "max_index_values",
    "owner_index_sort_key",
]

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
#: items a list request may read (ScannedCount) when its reads are not its items: ten of the
#: largest pages (``MAX_LIST_LIMIT``); see README "Bounded list work" for the reasoning
DEFAULT_LIST_MAX_READ_ITEMS = 10_000
#: Scan/Query calls such a request may make: with DynamoDB's 1 MB per call, at most 10 MB read
DEFAULT_LIST_MAX_CALLS = 10
_MAX_BOUND = 10**9  # the most either bound may be set to: far past what one request can read
_FIRST_READ_LIMIT = 25  # the smallest Limit of a Scan/filtered Query's first call
#: TransactWriteItems takes at most 100 actions (25 until September 2022); see max_index_values
_MAX_TRANSACTION_ITEMS = 100
_MAX_INDEX_RETRIES = 5
_MAX_UNPROCESSED_RETRIES = 4
_MAX_CACHED_PLANS = 512
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
    config = Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", endpoint_url=endpoint, config=config)


def index_name(field: str) -> str:
    """The GSI serving lists constrained on a single-valued owner ``field``: ``byOwner``."""
    return "by" + field[:1].upper() + field[1:]


#: an item's key: its ``id``, or a mapping of the model's identifier fields to their values
ItemKey = str | Mapping[str, Any]


class Page(NamedTuple):
    items: list[dict[str, Any]]
    next_token: str | None
    scanned: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# a whole number TypeSerializer writes as its digits and TypeDeserializer + _from_dynamo read
# back as an int (DynamoDB numbers have at most 38 significant digits)
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,38}")
_MAX_WHOLE = 10**38


def _wire(value: Any, serialize: Callable[[Any], Any]) -> Any:
    """DynamoDB's wire form of ``value``, as ``serialize`` (boto3's TypeSerializer) writes it
    after :func:`_to_dynamo`. Strings, booleans and whole numbers (most values) skip its
    type dispatch; bench/ measured the serializer as the largest part of a write's own work.

    >>> from boto3.dynamodb.types import TypeSerializer
    >>> [_wire(v, TypeSerializer().serialize) for v in ("a", True, -7, 1.5)]
    [{'S': 'a'}, {'BOOL': True}, {'N': '-7'}, {'N': '1.5'}]
    """
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_MAX_WHOLE < value < _MAX_WHOLE:
        return {"N": str(value)}
    return serialize(_to_dynamo(value))


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
        index_table: str | None = None,
        clock: Callable[[], str] = _now,
        list_max_read_items: int = DEFAULT_LIST_MAX_READ_ITEMS,
        list_max_calls: int = DEFAULT_LIST_MAX_CALLS,
    ) -> None:
        """``list_max_read_items`` / ``list_max_calls``: the work one list request may do when
        its reads are not its items (Scan, filtered Query); see :meth:`list_items`."""
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._max_read_items = _bound("list_max_read_items", list_max_read_items)
        self._max_calls = _bound("list_max_calls", list_max_calls)
        self._client = client
        self._tables = dict(tables)
        self._index_table = index_table
        self._key = token_key
        self._clock = clock
        self._ser = TypeSerializer()
        self._de = TypeDeserializer()
        # list plans without a filter depend only on the model and the constraint: built once
        self._plans: dict[tuple[int, Constraint | None], tuple[Model, list[_Partition]]] = {}

    @classmethod
    def from_env(
        cls,
        models: Sequence[Model],
        client: DynamoDBClient | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Store:
        """Tables from ``TABLE_<MODEL>`` and ``INDEX_TABLE``, token key from ``NEXT_TOKEN_SECRET``,
        the list bound from ``MODELAUTH_LIST_MAX_READ_ITEMS`` and ``MODELAUTH_LIST_MAX_CALLS``
        (whole numbers from 1 to 10⁹; unset or empty: the defaults). A bad value fails here, at
        the cold start, with a ``ValueError`` naming the variable: not on every list request.

        Without a secret a random per-process key is used: tokens then only work on the
        instance that issued them (fine locally; set the secret when deployed).

        >>> Store.from_env([], object(), {"MODELAUTH_LIST_MAX_CALLS": "0"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: MODELAUTH_LIST_MAX_CALLS must be a whole number from 1 to ..., not '0' (default 10)
        """
        env = os.environ if environ is None else environ
        max_reads = _env_count(env, "MODELAUTH_LIST_MAX_READ_ITEMS", DEFAULT_LIST_MAX_READ_ITEMS)
        max_calls = _env_count(env, "MODELAUTH_LIST_MAX_CALLS", DEFAULT_LIST_MAX_CALLS)
        tables = {m.name: env.get(f"TABLE_{m.name.upper()}", m.name) for m in models}
        secret = env.get("NEXT_TOKEN_SECRET")
        key = secret.encode() if secret else secrets.token_bytes(32)
        index = env.get("INDEX_TABLE", INDEX_TABLE) if any(index_fields(m) for m in models) else None
        return cls(
            client or dynamodb_client(),
            tables,
            token_key=key,
            index_table=index,
            list_max_read_items=max_reads,
            list_max_calls=max_calls,
        )

    # -- serialization --------------------------------------------------------------------------
    def _dump(self, item: Mapping[str, Any]) -> dict[str, Any]:
        serialize = self._ser.serialize
        return {k: _wire(v, serialize) for k, v in item.items() if v is not None}

    def _load(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        deserialize = self._de.deserialize
        item = {}
        for name, wire in raw.items():
            # strings, booleans and whole numbers (most values) read without boto3's
            # TypeDeserializer, to the same values it and _from_dynamo give
            if type(wire) is dict and len(wire) == 1:
                if "S" in wire:
                    item[name] = wire["S"]
                    continue
                if "BOOL" in wire and type(wire["BOOL"]) is bool:
                    item[name] = wire["BOOL"]
                    continue
                number = wire.get("N")
                if type(number) is str and _WHOLE_NUMBER.fullmatch(number):
                    item[name] = int(number)
                    continue
            value = deserialize(wire)
            item[name] = value if type(value) is str else _from_dynamo(value)
        return item

    def table(self, model: Model) -> str:
        return self._tables[model.name]

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raw: Any = exc.response.get("Item")
                raise _ConditionFailed(self._load(raw) if isinstance(raw, dict) and raw else None) from exc
            raise self._translate(exc, operation) from exc

    @staticmethod
    def _translate(exc: ClientError, operation: str) -> Exception:
        """Throttling and 5xx that outlived boto3's retries → RetryableError; a request DynamoDB
        rejects (e.g. an item over 400 KB) → BadRequest; anything else stays as it is."""
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in _RETRYABLE:
            return _busy(f"DynamoDB {operation}: {code}")
        if code == "ValidationException":
            return BadRequest("The request was rejected by the data store", reason=error.get("Message", code))
        return exc

    # -- reads ----------------------------------------------------------------------------------
    def key(self, model: Model, key: ItemKey) -> dict[str, Any]:
        """The DynamoDB ``Key`` of an item: its ``id``, or the values of the model's identifier
        fields (``{"customerEmail": ..., "orderId": ...}``)."""
        values = {"id": key} if isinstance(key, str) else dict(key)
        if set(values) != set(model.key_fields) or any(v is None for v in values.values()):
            raise BadRequest(f"{model.name}: the key is {', '.join(model.key_fields)}", reason=repr(key))
        return self._dump(values)

    def get(self, model: Model, item_id: ItemKey) -> dict[str, Any] | None:
        table = self._tables[model.name]
        out = self._call("get_item", TableName=table, Key=self.key(model, item_id), ConsistentRead=True)
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
            for attempt in range(_MAX_UNPROCESSED_RETRIES + 1):
                out = self._call("batch_get_item", RequestItems=request)
                for raw in out.get("Responses", {}).get(self.table(model), []):
                    item = self._load(raw)
                    found[item["id"]] = item
                request = out.get("UnprocessedKeys") or {}
                if not request:
                    break
                # DynamoDB hands keys back when throttled: back off, don't spin
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise _busy("BatchGetItem kept returning UnprocessedKeys")
        return [found.get(i) for i in ids]

    # -- writes ---------------------------------------------------------------------------------
    def create(
        self,
        model: Model,
        data: Mapping[str, Any],
        decision: Decision,
        condition: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Put a new item; ``condition`` (Amplify's ``ModelXConditionInput``) is part of the same
        ConditionExpression, so it is judged atomically against what is stored (nothing, for a
        new id: as in DynamoDB, a comparison with a missing attribute is false)."""
        now = self._clock()
        item = {k: v for k, v in {**data, **decision.owner_stamp}.items() if v is not None}
        item.update(id=data.get("id") or str(uuid.uuid4()), **dict.fromkeys(model.timestamp_fields, now))
        item["_version"] = 1
        ph = Placeholders()
        conditions = [f"attribute_not_exists({ph.name('id')})"]
        if condition is not None:
            conditions.append(f"({build_filter(condition, model.field_names, ph)})")
        put = self._with_placeholders(
            {
                "TableName": self.table(model),
                "Item": self._dump(item),
                "ConditionExpression": " AND ".join(conditions),
            },
            ph,
        )
        try:
            if self._index_fields(model):
                self._transact([{"Put": put}, *self._index_writes(model, None, item)])
            else:
                self._call("put_item", **put)
        except _ConditionFailed as exc:
            if condition is not None and self.get(model, key_of(model, item)) is None:
                raise ConditionNotMet(reason=f"{model.name} {item['id']}: condition not met") from exc
            raise ConditionFailed(reason=f"{model.name} {item['id']} already exists") from exc
        return item

    def update(
        self,
        model: Model,
        item_id: ItemKey,
        changes: Mapping[str, Any],
        decision: Decision,
        expected_version: int | None = None,
        condition: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply ``changes`` (None removes a field) if the stored item meets the decision's
        constraint, ``expected_version`` and ``condition``; bumps ``_version`` and sets the update
        timestamp (``updatedAt``, or as ``Model.timestamps`` names it, if the model has one)."""
        now = self._clock()
        stamp = {model.updated_field: now} if model.updated_field is not None else {}

        def request(ph: Placeholders) -> dict[str, Any]:
            sets = [f"{ph.name(name)} = {ph.value(value)}" for name, value in stamp.items()]
            removes = [ph.name(name) for name, value in changes.items() if value is None]
            sets += [
                f"{ph.name(name)} = {ph.value(value)}" for name, value in changes.items() if value is not None
            ]
            expression = "SET " + ", ".join(sets) + f" ADD {ph.name('_version')} {ph.value(1)}"
            return {"UpdateExpression": expression + (" REMOVE " + ", ".join(removes) if removes else "")}

        def after(current: Mapping[str, Any]) -> dict[str, Any]:
            new = {**current, **changes, **stamp, "_version": int(current.get("_version", 0)) + 1}
            return {k: v for k, v in new.items() if v is not None}

        return self._conditional_write(
            model, item_id, decision, expected_version, "Update", request, after, condition
        )

    def delete(
        self,
        model: Model,
        item_id: ItemKey,
        decision: Decision,
        expected_version: int | None = None,
        condition: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._conditional_write(
            model,
            item_id,
            decision,
            expected_version,
            "Delete",
            lambda ph: {},
            lambda current: dict(current),
            condition,
        )

    def _conditional_write(
        self,
        model: Model,
        item_id: ItemKey,
        decision: Decision,
        expected_version: int | None,
        kind: str,
        build: Callable[[Placeholders], dict[str, Any]],
        after: Callable[[Mapping[str, Any]], dict[str, Any]],
        condition: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One atomic update/delete: ``attribute_exists(id) AND <constraint> [AND _version = v]
        [AND (<condition>)]``.

        Models with index items (list-valued owner/group fields) read the item first and write
        it with its index items in one transaction conditioned on the version they read, so a
        concurrent writer makes the transaction fail and it is retried on fresh data."""
        indexed = bool(self._index_fields(model))
        for _attempt in range(_MAX_INDEX_RETRIES):
            current = self.get(model, item_id) if indexed else None
            if indexed and current is None:
                raise _explain_failure(model, item_id, decision, expected_version, None)
            version = expected_version
            if indexed and current is not None and version is None:
                version = int(current.get("_version", 0))
            ph = Placeholders()
            conditions = [f"attribute_exists({ph.name('id')})"]
            if decision.constraint is not None:
                conditions.append(_constraint_expression(decision.constraint, ph))
            if version is not None:
                conditions.append(f"{ph.name('_version')} = {ph.value(version)}")
            if condition is not None:
                conditions.append(f"({build_filter(condition, model.field_names, ph)})")
            write = {
                "TableName": self.table(model),
                "Key": self.key(model, item_id),
                "ConditionExpression": " AND ".join(conditions),
                **build(ph),
            }
            self._with_placeholders(write, ph)
            try:
                if not indexed:
                    returns = "ALL_NEW" if kind == "Update" else "ALL_OLD"
                    call = "update_item" if kind == "Update" else "delete_item"
                    out = self._call(
                        call, ReturnValues=returns, ReturnValuesOnConditionCheckFailure="ALL_OLD", **write
                    )
                    return self._load(out["Attributes"])
                assert current is not None
                result = after(current)
                new = result if kind == "Update" else None
                self._transact([{kind: write}, *self._index_writes(model, current, new)])
                return result
            except _ConditionFailed as exc:
                latest = exc.item if exc.item is not None else self.get(model, item_id)
                raced = (
                    current is not None
                    and latest is not None
                    and latest.get("_version") != current.get("_version")
                )
                if indexed and expected_version is None and raced:
                    continue  # someone else wrote in between: decide again on fresh data
                raise _explain_failure(
                    model, item_id, decision, expected_version, latest, conditioned=condition is not None
                ) from exc
        raise RetryableError(
            "The item is being changed concurrently; retry", reason=f"{model.name} {_label(item_id)}"
        )

    # -- index items (list-valued owner and group fields) ----------------------------------------
    def _index_fields(self, model: Model) -> tuple[str, ...]:
        """Fields served by index items: list-valued owner fields and group fields."""
        if self._index_table is None:
            return ()
        return index_fields(model)

    def _index_writes(
        self, model: Model, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        """Transaction items turning ``old``'s index items into ``new``'s (one copy of the item
        per value of each indexed field). A write that sets more values than
        :func:`max_index_values` is refused; one that leaves them alone is not, so a record stored
        before that limit can still be fixed (its values only ever shrink)."""
        assert self._index_table is not None
        old_keys = _index_keys(model, old, self._index_fields(model)) if old else {}
        new_keys = _index_keys(model, new, self._index_fields(model)) if new else {}
        limit = max_index_values(model)
        sets_values = new is not None and new_keys.keys() != old_keys.keys()
        if sets_values and limit is not None and len(new_keys) > limit:
            assert new is not None
            raise BadRequest(_too_many_values(model, new, limit), reason=f"{len(new_keys)} index items")
        writes: list[dict[str, Any]] = [
            {"Delete": {"TableName": self._index_table, "Key": self._dump(key)}}
            for name, key in old_keys.items()
            if name not in new_keys
        ]
        for key in new_keys.values():
            assert new is not None
            writes.append({"Put": {"TableName": self._index_table, "Item": self._dump({**new, **key})}})
        if len(writes) + 1 > _MAX_TRANSACTION_ITEMS:  # only a record stored before the limit held
            raise BadRequest(
                f"{model.name}: too many index items change at once; change fewer values of "
                f"{', '.join(self._index_fields(model))} in one update",
                reason=f"{len(writes) + 1} transaction items",
            )
        return writes

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type,unused-ignore]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reasons: list[Any] = list(exc.response.get("CancellationReasons", []))
            codes = [r.get("Code") for r in reasons]
            if error.get("Code") == "TransactionCanceledException" and "ConditionalCheckFailed" in codes:
                raw = reasons[codes.index("ConditionalCheckFailed")].get("Item")
                raise _ConditionFailed(self._load(raw) if raw else None) from exc
            if error.get("Code") == "TransactionCanceledException" and any(
                c in ("ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded")
                for c in codes
            ):
                raise _busy(f"transaction: {codes}") from exc
            raise self._translate(exc, "TransactWriteItems") from exc

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
        """One page of items the decision allows, matching ``filter``.

        Where every item read is listed (owner-index or index-item Queries without a filter),
        a page of ``limit`` N holds N items unless it is the last one. Elsewhere (a Scan, a
        filtered Query) reads are not items: each call asks DynamoDB for twice the Limit of the
        one before (from ``max(limit, 25)``, never past what is left of the budget, so DynamoDB
        reads no more than that), and the request stops after ``list_max_read_items`` items read
        or ``list_max_calls`` calls. It then returns the items found so far (maybe none) and a
        ``nextToken`` at the last key read: following it lists every matching item once.

        A filter that pins the partition key of an index with ``eq`` (``{postId: {eq: "p1"}}``,
        alone or in a top-level ``and``: what Amplify's lazy loaders send for
        ``post.comments()``) is served by a Query of that index, the rest of the filter and the
        constraint its FilterExpression, whenever the list would otherwise be a Scan."""
        scope = _query_scope(model, decision, filter, caller)
        plan = self._cached_plan(model, decision) if not filter else self._plan(model, decision, filter)
        pinned = _pinned_index(model, filter) if filter and _is_scan(plan) else None
        if pinned is not None:
            secondary, value, rest = pinned
            return self.query_index(
                model,
                secondary,
                decision,
                value,
                filter=rest,
                limit=limit,
                next_token=next_token,
                caller=caller,
            )
        return self._read(plan, scope, limit, next_token)

    def query_index(
        self,
        model: Model,
        secondary: SecondaryIndex,
        decision: Decision,
        partition: Any,
        *,
        sort: Mapping[str, Any] | None = None,
        descending: bool = False,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
        caller: str = "",
    ) -> Page:
        """One page of a secondary index's query: the items of one partition key value (and a
        key condition on the sort key: ``eq``, ``le``, ``lt``, ``ge``, ``gt``, ``between``,
        ``beginsWith``), in sort key order (``descending``: newest first).

        The decision's constraint (e.g. an owner) is not a key of the index: it is a filter of
        the Query, so reads are not items and the request is bounded as a Scan is
        (``list_max_read_items`` / ``list_max_calls``, a partial page and a nextToken that
        resumes there). Without a constraint or filter every item read is listed."""
        primary = secondary is model.primary_index  # the table's own key (a custom identifier)
        name = "" if primary else secondary.gsi_name(model)
        where = {"index": name, "pk": partition, "sk": sort, "desc": descending}
        scope = _query_scope(model, decision, {"filter": filter or {}, "key": where}, caller)
        pk, sk = secondary.partition_key, secondary.sort_key
        if sort is not None and sk is None:
            raise BadRequest(f"index {name or model.name} has no sort key")
        value = _key_value(model, pk, partition)
        by_owner = (
            None
            if primary
            else self._owner_index_plan(model, secondary, decision, value, sort, descending, filter)
        )
        if by_owner is not None:
            return self._read(by_owner, scope, limit, next_token)
        ph = Placeholders()
        expression = f"{ph.name(pk)} = {ph.value(value)}"
        if sort is not None and sk is not None:
            expression += " AND " + _key_condition(model, sk, sort, ph)
        parts = [_constraint_expression(decision.constraint, ph)] if decision.constraint else []
        if filter:
            parts.append(build_filter(filter, model.filter_fields, ph, conjunct=True))
        request: dict[str, Any] = {
            "TableName": self.table(model),
            "KeyConditionExpression": expression,
            "ScanIndexForward": not descending,
        }
        if not primary:
            request["IndexName"] = name
        if parts:
            request["FilterExpression"] = " AND ".join(parts)
        keys = tuple(dict.fromkeys(k for k in (*model.key_fields, pk, sk) if k is not None))
        plan = [_Partition(self._with_placeholders(request, ph), keys, None, exact=not parts)]
        return self._read(plan, scope, limit, next_token)

    def _owner_index_plan(
        self,
        model: Model,
        secondary: SecondaryIndex,
        decision: Decision,
        partition: Any,
        sort: Mapping[str, Any] | None,
        descending: bool,
        filter: Mapping[str, Any] | None,
    ) -> list[_Partition] | None:
        """For an owner-constrained caller of an index sorted as the owner index is (by the
        creation timestamp, or not sorted): Query the owner index of each owner value the caller
        matches, with the index's partition key as a filter. Reads are then this owner's items,
        not every owner's items of the partition, in the same order. None when the constraint is not
        served by owner indexes alone (e.g. groups fields, all_of): the partition is read."""
        constraint = decision.constraint
        if constraint is None or secondary.sort_key not in (None, owner_index_sort_key(model)):
            return None
        plan: list[_Partition] = []
        for alternative in constraint.alternatives:
            condition = alternative[0]
            if len(alternative) != 1 or condition.list_field or not _has_owner_index(model, condition.field):
                return None
            for owner in condition.values:
                ph = Placeholders()
                expression = f"{ph.name(condition.field)} = {ph.value(owner)}"
                if sort is not None and secondary.sort_key is not None:
                    expression += " AND " + _key_condition(model, secondary.sort_key, sort, ph)
                filters = [f"{ph.name(secondary.partition_key)} = {ph.value(partition)}"]
                if filter:
                    filters.append(build_filter(filter, model.filter_fields, ph, conjunct=True))
                request = {
                    "TableName": self.table(model),
                    "IndexName": index_name(condition.field),
                    "KeyConditionExpression": expression,
                    "FilterExpression": " AND ".join(filters),
                    "ScanIndexForward": not descending,
                }
                one = Condition(condition.field, (owner,))
                keys = _owner_index_keys(model, condition.field)
                plan.append(_Partition(self._with_placeholders(request, ph), keys, one, exact=False))
        return plan

    def _read(self, plan: list[_Partition], scope: str, limit: int | None, next_token: str | None) -> Page:
        """Run a list plan from ``next_token``: one page (see :meth:`list_items`)."""
        limit = DEFAULT_LIST_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        state: dict[str, Any] = self._open_token(next_token, scope) if next_token else {"p": 0, "k": None}
        items: list[dict[str, Any]] = []
        scanned = calls = 0  # calls: those of partitions whose reads are not their items
        reads_left = self._max_read_items
        partition, start_key = state.get("p"), state.get("k")
        if not isinstance(partition, int) or not 0 <= partition <= len(plan):
            raise BadRequest("Invalid nextToken")
        if start_key is not None and not isinstance(start_key, dict):
            raise BadRequest("Invalid nextToken")
        while partition < len(plan):
            part = plan[partition]
            request = dict(part.request)
            if start_key:
                request["ExclusiveStartKey"] = start_key
            if part.exact:  # an index partition holds only allowed items: read what the page needs
                request["Limit"] = limit - len(items)
            else:  # Limit applies before the filter: DynamoDB reads at most what is left
                request["Limit"] = min(max(limit, _FIRST_READ_LIMIT) << calls, reads_left)
            out = self._call("query" if "KeyConditionExpression" in request else "scan", **request)
            read = int(out.get("ScannedCount", 0))
            scanned += read
            if not part.exact:
                calls, reads_left = calls + 1, reads_left - read
            raws = out.get("Items", [])
            for position, raw in enumerate(raws):
                item = self._load(raw)
                if any(earlier.condition_matches(item) for earlier in plan[:partition]):
                    continue  # listed from an earlier partition (e.g. under 'alice' and '<sub>::alice')
                items.append(_strip_index_keys(item))
                if len(items) == limit:
                    last = position == len(raws) - 1 and not out.get("LastEvaluatedKey")
                    if last and partition == len(plan) - 1:
                        return Page(items, None, scanned)
                    key = {k: raw[k] for k in part.key_attributes if k in raw}
                    return Page(items, self._seal({"p": partition, "k": key}, scope), scanned)
            start_key = out.get("LastEvaluatedKey")
            if not start_key:
                partition, start_key = partition + 1, None
            spent = calls >= self._max_calls or reads_left <= 0
            if spent and not part.exact and partition < len(plan):
                # the bound: what was found so far, and a token that resumes after the last read
                return Page(items, self._seal({"p": partition, "k": start_key}, scope), scanned)
        return Page(items, None, scanned)

    def _cached_plan(self, model: Model, decision: Decision) -> list[_Partition]:
        key = (id(model), decision.constraint)
        entry = self._plans.get(key)
        if entry is not None and entry[0] is model:  # the model is kept, so its id isn't reused
            return entry[1]
        plan = self._plan(model, decision, None)
        if len(self._plans) >= _MAX_CACHED_PLANS:
            self._plans.pop(next(iter(self._plans)))  # the oldest goes
        self._plans[key] = (model, plan)
        return plan

    def _plan(
        self, model: Model, decision: Decision, filter_input: Mapping[str, Any] | None
    ) -> list[_Partition]:
        """What a list reads, in order: for each value a constrained caller may match, a Query on
        the owner index (scalar owner fields) or on the index table (list and group fields); one
        Scan when there is no constraint, or one no index serves (e.g. all_of)."""
        constraint = decision.constraint
        if constraint is not None:
            partitions = [
                self._index_partition(model, alternative, value, filter_input)
                for alternative in constraint.alternatives
                for value in (alternative[0].values if len(alternative) == 1 else (None,))
            ]
            served = [p for p in partitions if p is not None]
            if len(served) == len(partitions):
                return served
        ph = Placeholders()
        parts = []
        if constraint is not None:
            parts.append(_constraint_expression(constraint, ph))
        if filter_input:
            parts.append(build_filter(filter_input, model.filter_fields, ph, conjunct=True))
        scan: dict[str, Any] = {"TableName": self.table(model)}
        if parts:
            scan["FilterExpression"] = " AND ".join(parts)
        return [_Partition(self._with_placeholders(scan, ph), model.key_fields, None, exact=False)]

    def _index_partition(
        self,
        model: Model,
        alternative: tuple[Condition, ...],
        value: str | None,
        filter_input: Mapping[str, Any] | None,
    ) -> _Partition | None:
        """A Query returning exactly the items one caller value opens, or None if no index can."""
        if value is None or len(alternative) != 1:
            return None
        condition = alternative[0]
        ph = Placeholders()
        request: dict[str, Any]
        if not condition.list_field and _has_owner_index(model, condition.field):
            request = {"TableName": self.table(model), "IndexName": index_name(condition.field)}
            keys: tuple[str, ...] = _owner_index_keys(model, condition.field)
            request["KeyConditionExpression"] = f"{ph.name(condition.field)} = {ph.value(value)}"
        elif condition.field in self._index_fields(model) and self._index_table is not None:
            request = {"TableName": self._index_table}
            keys = (_PK, _SK)
            request["KeyConditionExpression"] = (
                f"{ph.name(_PK)} = {ph.value(_index_pk(model, condition.field, value))}"
            )
        else:
            return None
        if filter_input:
            request["FilterExpression"] = build_filter(filter_input, model.filter_fields, ph)
        one = Condition(condition.field, (value,), condition.list_field)
        return _Partition(self._with_placeholders(request, ph), keys, one, exact=not filter_input)

    def _with_placeholders(self, request: dict[str, Any], ph: Placeholders) -> dict[str, Any]:
        if ph.names:
            request["ExpressionAttributeNames"] = dict(ph.names)
        if ph.values:
            serialize = self._ser.serialize
            request["ExpressionAttributeValues"] = {k: _wire(v, serialize) for k, v in ph.values.items()}
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


INDEX_TABLE = "ModelIndex"
_PK, _SK = "_pk", "_sk"


class _Partition(NamedTuple):
    """One Query or Scan of a list plan, the key attributes to resume it after an item, and the
    condition its items are listed under (to skip them in later partitions)."""

    request: dict[str, Any]
    key_attributes: tuple[str, ...]
    condition: Condition | None
    exact: bool

    def condition_matches(self, item: Mapping[str, Any]) -> bool:
        return self.condition is not None and self.condition.matches(item)


class _ConditionFailed(Exception):
    """A write's ConditionExpression failed; ``item`` is the stored item when DynamoDB sent it."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.item = item


def _is_scan(plan: list[_Partition]) -> bool:
    return all("KeyConditionExpression" not in part.request for part in plan)


def _pinned_index(
    model: Model, filter_input: Mapping[str, Any]
) -> tuple[SecondaryIndex, Any, dict[str, Any] | None] | None:
    """The index whose partition key ``filter_input`` pins with ``eq`` (the table's own key for a
    custom identifier first, then the secondary and relationship indexes), that key value, and
    the rest of the filter; None when none is pinned or the value is not a key value."""
    conjuncts: list[Any] = [{k: v for k, v in filter_input.items() if k != "and"}]
    ands = filter_input.get("and")
    if ands is not None:
        if not isinstance(ands, list) or not all(isinstance(c, Mapping) for c in ands):
            return None  # malformed: the list path refuses it with its reason
        conjuncts += [dict(c) for c in ands]
    indexes = [*((model.primary_index,) if model.primary_index is not None else ()), *model.secondary_indexes]
    for secondary in indexes:
        pk = secondary.partition_key
        for position, conjunct in enumerate(conjuncts):
            condition = conjunct.get(pk)
            if not isinstance(condition, Mapping) or set(condition) != {"eq"}:
                continue
            value = condition["eq"]
            numeric = key_attribute_type(model, pk) == "N"
            valid = (
                isinstance(value, int | float) and not isinstance(value, bool)
                if numeric
                else isinstance(value, str) and value != ""
            )
            if not valid:
                continue
            rest = [
                {k: v for k, v in c.items() if k != pk} if i == position else c
                for i, c in enumerate(conjuncts)
            ]
            rest = [c for c in rest if c]
            remaining = None if not rest else rest[0] if len(rest) == 1 else {"and": rest}
            return secondary, value, remaining
    return None


def _busy(reason: str) -> RetryableError:
    """DynamoDB kept throttling or failing after boto3's retries: the client may retry."""
    return RetryableError("The data store is busy; retry the request", reason=reason)


def index_fields(model: Model) -> tuple[str, ...]:
    """Fields whose values get index items: list-valued owner fields and group fields (a GSI
    can't be keyed on a list, and group fields are read by group)."""
    names = {r.owner_field for r in model.owner_rules if r.multi and r.owner_field}
    for rule in model.rules:
        for sub in rule.rules or (rule,):
            if sub.groups_field:
                names.add(sub.groups_field)
    return tuple(sorted(names))


def max_index_values(model: Model) -> int | None:
    """How many values a record's indexed fields (:func:`index_fields`) may hold in all, so that
    every later write of it fits one TransactWriteItems; None when the model has no index items.

    Each value is one index item. An update is one transaction: the item's Update, a Delete of
    each old index item whose value is gone and a Put of each new one (the Put refreshes the
    copy of the item). With at most N values before and after, that is at most 1 + N + N
    actions, so N = (100 - 1) // 2 = 49; a create (1 + N) then always fits too. Creates and
    updates that set more are refused with :class:`BadRequest`, so no record is ever stored
    that even an ``Admin`` could not update later.

    >>> from modelauth.rules import Model, allow
    >>> max_index_values(Model("Post", rules=[allow.owners_defined_in("editors")]))
    49
    >>> max_index_values(Model("Todo", rules=[allow.owner()])) is None
    True
    """
    if not index_fields(model):
        return None
    return (_MAX_TRANSACTION_ITEMS - 1) // 2


def _too_many_values(model: Model, item: Mapping[str, Any], limit: int) -> str:
    """``editors: at most 49 values ...``, naming the fields that hold values."""
    fields = index_fields(model)
    holding = [name for name in fields if item.get(name)] or list(fields)
    shared = f" in all across {', '.join(fields)}" if len(fields) > 1 else ""
    return (
        f"{', '.join(holding)}: at most {limit} values{shared} (each value is an index item of "
        f"{model.name}, and an update rewrites them in one DynamoDB transaction of at most "
        f"{_MAX_TRANSACTION_ITEMS} items)"
    )


def _has_owner_index(model: Model, field: str) -> bool:
    return any(r.owner_field == field and not r.multi for r in model.owner_rules)


def owner_index_sort_key(model: Model) -> str | None:
    """The sort key of the model's owner indexes (``by<Field>``): its creation timestamp, so a
    list by owner is oldest first; None (HASH only, no order) when ``timestamps`` turns it off."""
    return model.created_field


def _owner_index_keys(model: Model, field: str) -> tuple[str, ...]:
    """The attributes of an owner index's key (the table's, the owner, the sort key) that a
    nextToken resumes a Query of ``field``'s owner index after."""
    return tuple(dict.fromkeys(k for k in (*model.key_fields, field, owner_index_sort_key(model)) if k))


def _index_pk(model: Model, field: str, value: str) -> str:
    return f"{model.name}#{field}#{value}"


def _index_keys(model: Model, item: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The index-item keys of an item: one per distinct value of each indexed field."""
    keys: dict[str, dict[str, str]] = {}
    for name in fields:
        value = item.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                pk = _index_pk(model, name, v)
                created = model.created_field  # index items sort by creation, else by id
                keys[pk] = {_PK: pk, _SK: f"{item.get(created, '')}#{item['id']}" if created else item["id"]}
    return keys


def _strip_index_keys(item: dict[str, Any]) -> dict[str, Any]:
    item.pop(_PK, None)
    item.pop(_SK, None)
    return item


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


def _bound(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_BOUND:
        raise ValueError(f"{name} must be a whole number from 1 to {_MAX_BOUND:,}, not {value!r}")
    return value


def _env_count(env: Mapping[str, str], name: str, default: int) -> int:
    """A bound from the environment: digits only (``10000``), unset or empty for ``default``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= _MAX_BOUND:
        raise ValueError(
            f"{name} must be a whole number from 1 to {_MAX_BOUND:,}, not {raw!r} (default {default:,})"
        )
    return int(raw)


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


_KEY_OPERATORS = {"eq": "=", "le": "<=", "lt": "<", "ge": ">=", "gt": ">"}


def _key_value(model: Model, name: str, value: Any) -> Any:
    """A key value of the field's DynamoDB type (``S`` or ``N``), or a :class:`BadRequest`."""
    number = key_attribute_type(model, name) == "N"
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = numeric if number else isinstance(value, str)
    if not ok or value == "":
        kind = "a number" if number else "a non-empty string"
        raise BadRequest(f"{name}: a key value must be {kind}", reason=f"{name}={value!r}")
    return value


def _key_condition(model: Model, name: str, condition: Any, ph: Placeholders) -> str:
    """A sort key condition (Amplify's ``Model<T>KeyConditionInput``: one of ``eq``, ``le``,
    ``lt``, ``ge``, ``gt``, ``between: [a, b]``, ``beginsWith``) as a KeyConditionExpression.

    >>> from modelauth.rules import Field, Model
    >>> _key_condition(Model("T", fields=[Field("day")]), "day", {"beginsWith": "2026"}, Placeholders())
    'begins_with(#f0, :v0)'
    """
    where = f"{name}: a key condition"
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise BadRequest(f"{where} takes exactly one of eq, le, lt, ge, gt, between, beginsWith")
    [(op, value)] = condition.items()
    attribute = ph.name(name)
    if op in _KEY_OPERATORS:
        return f"{attribute} {_KEY_OPERATORS[op]} {ph.value(_key_value(model, name, value))}"
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise BadRequest(f"{where}: between takes a list of two values")
        low, high = (ph.value(_key_value(model, name, v)) for v in value)
        return f"{attribute} BETWEEN {low} AND {high}"
    if op == "beginsWith":
        if key_attribute_type(model, name) == "N":
            raise BadRequest(f"{where}: beginsWith is for string keys")
        return f"begins_with({attribute}, {ph.value(_key_value(model, name, value))})"
    raise BadRequest(f"{where}: unknown operator {op!r} (eq, le, lt, ge, gt, between, beginsWith)")


def key_of(model: Model, item: Mapping[str, Any]) -> ItemKey:
    """The key of a stored item: its ``id``, or its identifier fields' values."""
    if model.key_fields == ("id",):
        return str(item["id"])
    return {name: item[name] for name in model.key_fields}


def check_key(model: Model, key: Any, where: str) -> ItemKey:
    """A client's key of ``model``: ``id`` (a non-empty string of at most 1024 characters), or
    the identifier fields' values, each of its type; anything else is a :class:`BadRequest`.

    >>> from modelauth.rules import Field, Model
    >>> order = Model("Order", fields=[Field("email", required=True), Field("n", "Int", required=True)],
    ...               identifier=["email", "n"])
    >>> check_key(order, {"email": "a@b.c", "n": 1}, "getOrder")
    {'email': 'a@b.c', 'n': 1}
    >>> check_key(order, {"email": "a@b.c"}, "getOrder")
    Traceback (most recent call last):
    modelauth.errors.BadRequest: getOrder: the key of Order is email, n
    """
    if model.key_fields == ("id",):
        return check_id(key, where)
    if not isinstance(key, Mapping) or set(key) != set(model.key_fields):
        raise BadRequest(f"{where}: the key of {model.name} is {', '.join(model.key_fields)}")
    return {name: _key_value(model, name, key[name]) for name in model.key_fields}


def key_from_text(model: Model, name: str, text: str) -> Any:
    """A key value written as text (a path segment, a query parameter, a command-line
    argument): a number for a number key (``Int``, ``Float``, ``AWSTimestamp``), else the text
    itself; :func:`check_key` then checks it as it checks any client's key.

    >>> from modelauth.rules import Field, Model
    >>> order = Model("Order", fields=[Field("email", required=True), Field("n", "Int", required=True)],
    ...               identifier=["email", "n"])
    >>> key_from_text(order, "n", "42"), key_from_text(order, "email", "42")
    (42, '42')
    >>> key_from_text(order, "n", "4x2")
    Traceback (most recent call last):
    modelauth.errors.BadRequest: n: a key value must be a number
    """
    if key_attribute_type(model, name) != "N":
        return text
    try:
        value: float = int(text) if _INTEGER.fullmatch(text) else float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadRequest(f"{name}: a key value must be a number", reason=f"{name}={text!r}")
    return value


_INTEGER = re.compile(r"-?[0-9]+")


def _label(key: ItemKey) -> str:
    """A key for messages: ``todo-1``, ``a@example.com/o-1``."""
    return key if isinstance(key, str) else "/".join(str(v) for v in key.values())


def _any_of(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _explain_failure(
    model: Model,
    key: ItemKey,
    decision: Decision,
    expected_version: int | None,
    current: Mapping[str, Any] | None,
    *,
    conditioned: bool = False,
) -> Exception:
    """Tell a failed condition apart: missing item, not the caller's (said first, so a caller
    never learns whether its ``condition`` held on an item it may not write), a stale version,
    or the caller's ``condition``."""
    item_id = _label(key)
    if current is None:
        if decision.constraint is not None:
            # an owner/group rule met no stored owner: Amplify answers Unauthorized (spec §3.4)
            return Unauthorized("Not Authorized", reason=f"{model.name} {item_id} does not exist")
        return ConditionFailed(reason=f"{model.name} {item_id} does not exist")
    if decision.constraint is not None and not decision.constraint.matches(current):
        refusals = "".join(f"; {refusal}" for refusal in decision.refusals)
        why = f"{model.name} {item_id}: {decision.constraint.why_not(current)}{refusals}"
        return Unauthorized("Not Authorized", reason=why)
    version = current.get("_version")
    if conditioned and (expected_version is None or version == expected_version):
        return ConditionNotMet(reason=f"{model.name} {item_id}: condition not met")
    return Conflict(
        f"Conflict: {model.name} {item_id} is at version {version}, not {expected_version}",
        reason="version conflict",
        data={"_version": version, **({"id": key} if isinstance(key, str) else dict(key))},
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


def index_table_definition(table_name: str = INDEX_TABLE) -> dict[str, Any]:
    """The CreateTable request of the index table (template.yaml's ModelIndexTable)."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": _PK, "KeyType": "HASH"}, {"AttributeName": _SK, "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": _PK, "AttributeType": "S"},
            {"AttributeName": _SK, "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
