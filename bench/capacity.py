"""What a request costs in DynamoDB: the items each operation reads and writes, through the full
GraphQL handler and through bench/warm.py's hand-written handler (same guarantees), on one
in-process moto table.

DynamoDB bills read and write capacity by the items a request touches (every Todo here is far
under 1 KB, so an item is one unit: 1 RCU per strongly consistent read, 0.5 per eventually
consistent one, 1 WCU per write, twice that in a transaction). moto does not model capacity:
asked for ``ReturnConsumedCapacity=TOTAL`` it answers a constant per call whatever it read
(0.5 per GetItem or UpdateItem, 1 per Query or PutItem). So both sides' clients are wrapped
(botocore events) to count the items each request read (GetItem: the item; Query/Scan:
``ScannedCount``) and wrote (one per Put/Update/Delete, one per transaction item), and what
moto returned is shown next to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench import common, warm
from bench.common import Config, Row, Section

GOAL = 1.0
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class Usage:
    """What one side's requests touched."""

    requests: int = 0
    read: int = 0
    written: int = 0
    transactional: int = 0  # items written in a transaction (twice the capacity: counted twice)
    moto_units: float = 0.0  # the ConsumedCapacity moto answered, summed

    @property
    def items(self) -> int:
        return self.read + self.written + 2 * self.transactional

    def __str__(self) -> str:
        parts = [f"{self.read} read", f"{self.written + self.transactional} written"]
        if self.transactional:
            parts[-1] += " (transaction)"
        plural = "s" if self.requests != 1 else ""
        return f"{', '.join(parts)} ({self.requests} request{plural})"


class Meter:
    """Counts, on a boto3 DynamoDB client, what each request read and wrote."""

    def __init__(self, client: Any) -> None:
        self.usage: Usage | None = None  # counting only inside measure()
        events = client.meta.events
        self._transaction_items = 0
        events.register("provide-client-params.dynamodb.*", self._ask_capacity)
        events.register("after-call.dynamodb.*", self._count)

    def _ask_capacity(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")
        self._transaction_items = len(params.get("TransactItems", ()))

    def _count(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        usage, operation = self.usage, model.name
        if usage is None:
            return
        usage.requests += 1
        if operation == "GetItem":
            usage.read += 1 if parsed.get("Item") else 0
        elif operation in ("Query", "Scan"):
            usage.read += int(parsed.get("ScannedCount", 0))
        elif operation in WRITES:
            usage.written += 1
        elif operation == "TransactWriteItems":
            usage.transactional += self._transaction_items
        consumed = parsed.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            usage.moto_units += float(entry.get("CapacityUnits", 0))

    def measure(self, call: Callable[[], Mapping[str, Any]]) -> Usage:
        """What ``call`` (a request answered without errors) touched."""
        self.usage = usage = Usage()
        try:
            answer = call()
        finally:
            self.usage = None
        assert answer["errors"] == [], answer
        return usage


def _without_context(
    baseline: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> Callable[[Mapping[str, Any], object], dict[str, Any]]:
    """A hand-written handler called as Lambda calls the full one: ``(event, context)``."""
    return lambda event, _context: baseline(event)


def run(config: Config) -> Section:
    del config  # counts, not times: the same in smoke and full runs
    from moto import mock_aws

    from modelauth.local import create_tables

    section = Section("DynamoDB capacity")
    with mock_aws():
        handler = warm.load_handler()
        client = handler.app.store._client
        create_tables(client, handler.app.schema)
        minimal = warm.MinimalHandler(client, warm.todo_defaults(handler.app.schema))
        meter = Meter(client)
        owner = warm.owners(common.load_event("getTodo.alice"))[0]
        baseline = {case.field: case for case in warm.cases(minimal) if not case.fresh_callers}
        seeded = [warm.dump(warm.todo(owner, n)) for n in range(1, 11)]
        moto: dict[str, tuple[float, float]] = {}
        for name, case in baseline.items():
            used = []
            for side in (handler.lambda_handler, _without_context(case.baseline)):
                common.put_items(client, warm.TABLE, seeded)  # the same stored items before each side
                used.append(meter.measure(functools.partial(side, case.event, None)))
            full, hand = used
            moto[name] = (full.moto_units, hand.moto_units)
            ratio = full.items / hand.items
            section.rows.append(
                Row(
                    f"DynamoDB items per {name}",
                    str(full),
                    str(hand),
                    ratio,
                    f"= {common.times(GOAL)}",
                    ratio <= GOAL,
                )
            )
    section.details += [
        "DynamoDB capacity: items each request read and wrote (DynamoDB bills capacity by them; every item "
        "here is under 1 KB, one unit each), counted on the client in in-process moto with 10 of the "
        "caller's Todos stored, full handler vs the hand-written one of the warm rows. moto does not model "
        "capacity (asked for ReturnConsumedCapacity=TOTAL it answers a constant per call"
        + "), so its numbers are not used. What moto answered (full / hand-written): "
        + ", ".join(f"{name} {a:g} / {b:g}" for name, (a, b) in moto.items())
        + ".",
    ]
    return section
