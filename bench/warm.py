"""Warm overhead: one request through the full GraphQL handler (functions/graphql/app.py:
identity → rules → decide → store, Powertools router, one JSON log line) vs a hand-written
minimal handler making the same DynamoDB calls with boto3 and the same owner check.

Both use the handler's own DynamoDB client with one botocore ``Stubber`` on it: boto3 still
validates and serializes every request, only the HTTP round trip is replaced by a queued
response. After every timed batch the stub queue must be empty, so both sides made exactly the
same calls.
"""

from __future__ import annotations

import collections
import importlib.util
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.stub import Stubber

from bench import common
from bench.common import Config, Row, Section

GOAL_RATIO = 1.10  # warm getTodo, a repeated caller (issue 21)
GOAL_ADDED = 15e-6
GOAL_NEW_CALLER = 1.25
GOAL_WRITE = 1.15  # list, update, create, delete
TABLE = "Todo"
_ser, _de = TypeSerializer(), TypeDeserializer()


def load_handler() -> ModuleType:
    """functions/graphql/app.py as Lambda imports it (GraphQLApp.from_env at import)."""
    common.configure_env()
    # the example's handler with the example's schema: it registers its custom operations' handlers
    os.environ["MODELAUTH_SCHEMA"] = common.ENV["MODELAUTH_SCHEMA"]
    spec = importlib.util.spec_from_file_location("graphql_handler", common.GRAPHQL_HANDLER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    common.silence_logs()
    return module


def dump(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in item.items()}


def _load(raw: Mapping[str, Any]) -> dict[str, Any]:
    item = {k: _de.deserialize(v) for k, v in raw.items()}
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in item.items()}


# -- the hand-written baseline ----------------------------------------------------------------------


def _unauthorized(field: str, type_name: str) -> dict[str, Any]:
    message = f"Not Authorized to access {field} on type {type_name}"
    return {"data": None, "errors": [{"message": message, "errorType": "Unauthorized"}]}


def owners(event: Mapping[str, Any]) -> list[str]:
    """The owner values a Cognito caller matches: ``<sub>::<username>`` and the legacy forms."""
    identity = event["identity"]
    sub, username = identity["sub"], identity["username"]
    return [f"{sub}::{username}", sub, username]


class MinimalHandler:
    """What a developer would write by hand for the Todo owner rule, without modelauth."""

    def __init__(self, client: Any, defaults: Mapping[str, Any]) -> None:
        """``defaults``: the Todo model's field defaults, as a developer would write them in."""
        self.client = client
        self.defaults = dict(defaults)

    def get_todo(self, event: Mapping[str, Any]) -> dict[str, Any]:
        out = self.client.get_item(
            TableName=TABLE, Key={"id": {"S": event["arguments"]["id"]}}, ConsistentRead=True
        )
        if "Item" not in out:
            return {"data": None, "errors": []}
        item = _load(out["Item"])
        if item.get("owner") not in owners(event):
            return _unauthorized("getTodo", "Query")
        return {"data": item, "errors": []}

    def list_todos(self, event: Mapping[str, Any]) -> dict[str, Any]:
        limit = event["arguments"].get("limit") or 100
        items: list[dict[str, Any]] = []
        for owner in owners(event):  # one Query per owner form, like the store
            out = self.client.query(
                TableName=TABLE,
                IndexName="byOwner",
                KeyConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
                Limit=limit - len(items),
            )
            items += [_load(raw) for raw in out["Items"]]
            if len(items) == limit:
                break
        return {"data": {"items": items, "nextToken": None}, "errors": []}

    def update_todo(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Conditioned on the item existing, the caller owning it and, when the input carries
        ``_version``, that version (optimistic concurrency); bumps ``_version``."""
        changes = dict(event["arguments"]["input"])
        item_id, version = changes.pop("id"), changes.pop("_version", None)
        names = {"#id": "id", "#owner": "owner", "#updatedAt": "updatedAt", "#version": "_version"}
        values: dict[str, Any] = {f":o{i}": {"S": owner} for i, owner in enumerate(owners(event))}
        values |= {":now": {"S": _now()}, ":one": {"N": "1"}}
        condition = "attribute_exists(#id) AND #owner IN (:o0, :o1, :o2)"
        if version is not None:
            values[":version"] = {"N": str(version)}
            condition += " AND #version = :version"
        sets = ["#updatedAt = :now"]
        for i, (name, value) in enumerate(changes.items()):
            names[f"#f{i}"], values[f":v{i}"] = name, _ser.serialize(value)
            sets.append(f"#f{i} = :v{i}")
        try:
            out = self.client.update_item(
                TableName=TABLE,
                Key={"id": {"S": item_id}},
                UpdateExpression="SET " + ", ".join(sets) + " ADD #version :one",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return _unauthorized("updateTodo", "Mutation")
        return {"data": _load(out["Attributes"]), "errors": []}

    def create_todo(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Stamps the caller as owner, the model's defaults, a new id and the timestamps; a put
        conditioned on the id being new."""
        now = _now()
        item = {**self.defaults, **event["arguments"]["input"], "owner": owners(event)[0]}
        item |= {"id": item.get("id") or str(uuid.uuid4()), "createdAt": now, "updatedAt": now, "_version": 1}
        try:
            self.client.put_item(
                TableName=TABLE,
                Item=dump(item),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": "id"},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return _unauthorized("createTodo", "Mutation")
        return {"data": item, "errors": []}

    def delete_todo(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Conditioned on the item existing and the caller owning it; answers the deleted item."""
        values = {f":o{i}": {"S": owner} for i, owner in enumerate(owners(event))}
        try:
            out = self.client.delete_item(
                TableName=TABLE,
                Key={"id": {"S": event["arguments"]["input"]["id"]}},
                ConditionExpression="attribute_exists(#id) AND #owner IN (:o0, :o1, :o2)",
                ExpressionAttributeNames={"#id": "id", "#owner": "owner"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return _unauthorized("deleteTodo", "Mutation")
        return {"data": _load(out["Attributes"]), "errors": []}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the benchmark ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    field: str
    event: dict[str, Any]
    responses: list[tuple[str, dict[str, Any]]]  # what DynamoDB answers, in order
    baseline: Callable[[Mapping[str, Any]], dict[str, Any]]
    goal_ratio: float
    goal_added: float | None = None  # seconds a request may add, if that is a goal too
    #: every request from a user never seen before (else the same event, as one user's calls)
    fresh_callers: bool = False

    @property
    def label(self) -> str:
        return (
            f"warm {self.field}, a caller never seen before"
            if self.fresh_callers
            else f"warm {self.field} (owner rule)"
        )

    @property
    def goal(self) -> str:
        added = f" and ≤ +{self.goal_added * 1e6:.0f} µs" if self.goal_added is not None else ""
        return common.at_most(self.goal_ratio) + added

    def met(self, result: common.Comparison) -> bool:
        return result.ratio <= self.goal_ratio and (
            self.goal_added is None or result.added <= self.goal_added
        )

    def requests(self) -> Iterator[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]]:
        """The events to send and what DynamoDB answers each, in order, forever."""
        if not self.fresh_callers:
            return itertools.repeat((self.event, self.responses))
        return itertools.cycle([_new_caller(self, n) for n in range(FRESH_CALLERS)])


# more distinct users than the handler's caches hold (256 Principals, 1024 decisions): all miss
FRESH_CALLERS = 4096


def _new_caller(case: Case, number: int) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """The case's event from another user (sub, username and token claims differ) and the same
    answers with that user as the stored owner."""
    sub, username = f"b0b0{number:04x}-0000-4000-8000-{number:012x}", f"user{number:05d}"
    identity = case.event["identity"]
    claims = dict(identity["claims"], sub=sub, username=username, jti=f"bench-{number:05d}")
    claims |= {"iat": 1735689600 + number, "exp": 1735689600 + number + 3600}
    event = {**case.event, "identity": {**identity, "sub": sub, "username": username, "claims": claims}}
    answers = json.dumps(case.responses).replace(owners(case.event)[0], owners(event)[0])
    return event, [(operation, response) for operation, response in json.loads(answers)]


class Feed:
    """One side's requests: ``queue`` hands DynamoDB's answers to the stubber ahead of a batch,
    ``next`` gives the events in the same order."""

    def __init__(self, case: Case, stubber: Stubber) -> None:
        self._source, self._stubber = case.requests(), stubber
        self._events: collections.deque[dict[str, Any]] = collections.deque()

    def queue(self, calls: int) -> None:
        for _ in range(calls):
            event, responses = next(self._source)
            for operation, response in responses:
                self._stubber.add_response(operation, response)
            self._events.append(event)

    def next(self) -> dict[str, Any]:
        return self._events.popleft()


def todo(owner: str, number: int, **fields: Any) -> dict[str, Any]:
    stamp = f"2025-01-01T00:00:{number:02d}.000Z"
    return {
        "id": f"todo-alice-{number}",
        "content": f"item {number}",
        "done": False,
        "owner": owner,
        "createdAt": stamp,
        "updatedAt": stamp,
        "_version": 1,
        **fields,
    }


def cases(minimal: MinimalHandler) -> list[Case]:
    get, listing, update, create, delete = (
        common.load_event(f"{f}.alice")
        for f in ("getTodo", "listTodos", "updateTodo", "createTodo", "deleteTodo")
    )
    # the client sends the version it read: both sides condition the write on it
    update = {**update, "arguments": {"input": {**update["arguments"]["input"], "_version": 1}}}
    owner = owners(get)[0]
    stored = {"Item": dump(todo(owner, 1))}
    page = [dump(todo(owner, n)) for n in range(1, 11)]
    empty = {"Items": [], "Count": 0, "ScannedCount": 0}
    updated = todo(owner, 1, done=True, _version=2)
    return [
        Case("getTodo", get, [("get_item", stored)], minimal.get_todo, GOAL_RATIO, GOAL_ADDED),
        Case("getTodo", get, [("get_item", stored)], minimal.get_todo, GOAL_NEW_CALLER, fresh_callers=True),
        Case(
            "listTodos",
            listing,
            [("query", {"Items": page, "Count": 10, "ScannedCount": 10}), ("query", empty), ("query", empty)],
            minimal.list_todos,
            GOAL_WRITE,
        ),
        Case(
            "updateTodo",
            update,
            [("update_item", {"Attributes": dump(updated)})],
            minimal.update_todo,
            GOAL_WRITE,
        ),
        Case("createTodo", create, [("put_item", {})], minimal.create_todo, GOAL_WRITE),
        Case(
            "deleteTodo",
            delete,
            [("delete_item", {"Attributes": stored["Item"]})],
            minimal.delete_todo,
            GOAL_WRITE,
        ),
    ]


def _check(case: Case, full: dict[str, Any], minimal: dict[str, Any]) -> None:
    """Both sides return the same items (the full handler adds __typename, shows the owner as
    Amplify does and carries the stored owner in _storedOwner)."""
    assert full["errors"] == [], full
    assert minimal["errors"] == [], minimal

    def found(result: dict[str, Any]) -> list[dict[str, Any]]:
        data = result["data"]
        return list(data["items"] if case.field == "listTodos" else [data])

    shown: tuple[str, ...] = ("owner", "_storedOwner", "__typename")
    if case.field == "createTodo":  # each side makes its own id and timestamps
        shown += ("id", "createdAt", "updatedAt")
    items = [
        [{k: v for k, v in item.items() if k not in shown} for item in found(r)] for r in (full, minimal)
    ]
    assert items[0] == items[1], (full, minimal)
    stored = [item["_storedOwner"] for item in found(full)]
    assert stored == [item["owner"] for item in found(minimal)], (full, minimal)


def stubbed() -> tuple[ModuleType, Stubber, MinimalHandler]:
    """The handler and the hand-written baseline on one activated Stubber: the handler's own
    client, built by Store.from_env."""
    handler = load_handler()
    client = handler.app.store._client
    stubber = Stubber(client)
    stubber.activate()
    return handler, stubber, MinimalHandler(client, todo_defaults(handler.app.schema))


def todo_defaults(schema: Any) -> dict[str, Any]:
    """The Todo model's field defaults in the schema the handler serves (the example app's,
    or the test fixtures' when tests/ sets MODELAUTH_SCHEMA)."""
    [model] = [m for m in schema.models if m.name == TABLE]
    return {f.name: f.default for f in model.fields if f.default is not None}


def run(config: Config) -> Section:
    handler, stubber, minimal = stubbed()
    section = Section("Warm overhead")
    for case in cases(minimal):
        full_feed, minimal_feed = Feed(case, stubber), Feed(case, stubber)

        def timed(call: Callable[[], object], feed: Feed) -> Callable[[], float]:
            def sample() -> float:
                seconds = common.per_call(call, config.batch, feed.queue)
                stubber.assert_no_pending_responses()
                return seconds

            return sample

        def full(feed: Feed = full_feed) -> dict[str, Any]:
            result: dict[str, Any] = handler.lambda_handler(feed.next(), None)
            return result

        def hand_written(case: Case = case, feed: Feed = minimal_feed) -> dict[str, Any]:
            return case.baseline(feed.next())

        full_feed.queue(1)
        first = full()
        minimal_feed.queue(1)
        _check(case, first, hand_written())
        samples = common.interleaved_samples(
            {"full": timed(full, full_feed), "minimal": timed(hand_written, minimal_feed)}, config.runs
        )
        result = common.Comparison.of(samples["full"], samples["minimal"])
        measured = f"{common.us(result.measured)} ({result.added * 1e6:+,.0f} µs)"
        section.rows.append(
            Row(case.label, measured, common.us(result.baseline), result.ratio, case.goal, case.met(result))
        )
    stubber.deactivate()
    section.details.append(
        f"Warm: median over {config.runs} runs of {config.batch} requests per side, interleaved, on one "
        "botocore Stubber (requests validated and serialized, no HTTP). listTodos returns 10 items and makes "
        "3 Queries on byOwner (owner as `<sub>::<username>`, `<sub>`, `<username>`) on both sides. The "
        "hand-written writes carry the same guarantees: update conditions on existence, owner and the "
        "`_version` the client sent; create stamps the owner, the default and a new id, conditioned on the "
        "id being new; delete conditions on existence and owner.",
    )
    section.details.append(
        "  The owner-rule rows repeat one event, as one user's calls to a warm function: the handler then "
        "reuses its Principal (keyed by the identity) and its item-less decision (keyed by the Principal). "
        f"'a caller never seen before' cycles through {FRESH_CALLERS:,} users (sub, username and token "
        "claims differ; each one's own item stored), more than those caches hold: nothing is reused.",
    )
    return section
