"""Bounded list work (issue 16.4): what one request of the attack costs DynamoDB as the table
grows. The attack: the public API key lists CatalogItems with ``limit: 1`` and a filter that
matches nothing, through the GraphQL resolver on in-process moto.

Each request's Scan calls and items read (``ScannedCount``) are counted on the client (botocore's
``after-call`` events). Measured: the store as deployed (``Store.from_env``: the default bound,
or the smaller one Config gives in smoke mode). Baseline, in the same run on the same table: the
same store with the bound set past the table (every request reads to the end, as before issue
16.4). The table grows in steps; both sides run at every step.

Also timed, for the README's reasoning on the default: what the client spends on one 1 MB Scan
page (botocore's parse of the response plus ``Store._load`` of each item) against ``json.loads``
of the same bytes. moto's own times are not reported: its Scan walks the table on every call, so
they grow with the table on both sides, which DynamoDB's do not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench import common
from bench.common import Config, Row, Section

API_KEY = {"x-api-key": "da2-benchbenchbenchbenchbench"}
NOTHING = {"name": {"eq": "no such item"}}
UNBOUNDED = str(10**9)  # the most either bound may be: past any table here
PAGE_BYTES = 1_000_000  # DynamoDB's most per Scan/Query response


def catalog_item(n: int) -> dict[str, Any]:
    """CatalogItem ``n`` as DynamoDB stores it (about 200 bytes)."""
    stamp = {"S": "2026-12-01T00:00:00.000Z"}
    return {
        "id": {"S": f"item-{n:07d}"},
        "name": {"S": f"catalog item {n}"},
        "price": {"N": f"{n % 1000}.99"},
        "createdAt": stamp,
        "updatedAt": stamp,
        "_version": {"N": "1"},
    }


class Work:
    """One request's DynamoDB calls and the items they read, counted on the client."""

    def __init__(self, client: Any) -> None:
        self.reads: list[int] = []
        client.meta.events.register("after-call.dynamodb.Scan", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.reads.append(int(parsed.get("ScannedCount", 0)))

    def of(self, request: Callable[[], Any]) -> tuple[Any, int, int]:
        """``request()``'s result, its calls and the items they read."""
        self.reads.clear()
        result = request()
        return result, len(self.reads), sum(self.reads)


def attack(app: Any, token: str | None = None) -> dict[str, Any]:
    """listCatalogItems(limit: 1, filter: <nothing>) with the API key: the page."""
    from modelauth.local import appsync_event

    arguments = {"limit": 1, "filter": NOTHING, "nextToken": token}
    event = appsync_event(
        "Query", "listCatalogItems", arguments, None, headers=API_KEY, auth_type="API Key Authorization"
    )
    result = app.resolve(event, None)
    assert result["errors"] == [], result
    page: dict[str, Any] = result["data"]
    assert page["items"] == [], page
    return page


def walk(app: Any, work: Work) -> Iterator[tuple[int, int]]:
    """(calls, items read) of every request of the attack, following nextToken to the end."""
    token = None
    while True:
        page, calls, read = work.of(lambda at=token: attack(app, at))
        yield calls, read
        token = page["nextToken"]
        if token is None:
            return


def before_issue_16_4(client: Any, table: str, limit: int = 1) -> tuple[int, int]:
    """(calls, items read) of the list loop before the bound: Scan with ``Limit`` max(limit, 25)
    until the page is full or the table ends."""
    calls = read = found = 0
    start: dict[str, Any] | None = None
    while True:
        request: dict[str, Any] = {
            "TableName": table,
            "Limit": max(limit, 25),
            "FilterExpression": "#name = :name",
            "ExpressionAttributeNames": {"#name": "name"},
            "ExpressionAttributeValues": {":name": {"S": NOTHING["name"]["eq"]}},
        }
        if start:
            request["ExclusiveStartKey"] = start
        out = client.scan(**request)
        calls, read, found = calls + 1, read + out["ScannedCount"], found + out["Count"]
        start = out.get("LastEvaluatedKey")
        if found >= limit or not start:
            return calls, read


def scan_page() -> bytes:
    """A Scan response body of CatalogItems, just under DynamoDB's 1 MB."""
    items, size = [], 0
    while size < PAGE_BYTES:
        items.append(catalog_item(len(items)))
        size += len(json.dumps(items[-1]))
    body = {
        "Items": items,
        "Count": len(items),
        "ScannedCount": len(items),
        "LastEvaluatedKey": {"id": {"S": "x"}},
    }
    return json.dumps(body).encode()


def page_cost(client: Any, store: Any, config: Config) -> tuple[common.Comparison, int]:
    """Seconds to parse + load one 1 MB Scan page vs ``json.loads`` of it; the page's items."""
    from botocore.parsers import create_parser

    body = scan_page()
    shape = client.meta.service_model.operation_model("Scan").output_shape
    parser = create_parser("json")
    response = {"status_code": 200, "headers": {}, "body": body}

    def client_side() -> None:
        for raw in parser.parse(response, shape)["Items"]:
            store._load(raw)

    samples = common.interleaved_samples(
        {
            "client": lambda: common.per_call(client_side, 1),
            "json": lambda: common.per_call(lambda: json.loads(body), 1),
        },
        config.runs,
    )
    return common.Comparison.of(samples["client"], samples["json"]), json.loads(body)["Count"]


def _counts(values: list[int]) -> str:
    return " / ".join(f"{v:,}" for v in values)


def _bounded(name: str, measured: list[int], baseline: list[int], bound: int) -> Row:
    """A row of per-request counts at every table size; the ratio at the largest."""
    goal = f"≤ {bound:,} at every size"
    return Row(
        name, _counts(measured), _counts(baseline), measured[-1] / baseline[-1], goal, max(measured) <= bound
    )


def run(config: Config) -> Section:
    common.configure_env()
    from moto import mock_aws

    from modelauth.local import table_definition
    from modelauth.resolvers import GraphQLApp
    from modelauth.store import DEFAULT_LIST_MAX_CALLS, DEFAULT_LIST_MAX_READ_ITEMS, Store, dynamodb_client
    from tests.fixtures.schema import CATALOG_ITEM, SCHEMA

    max_reads = config.bound_max_reads or DEFAULT_LIST_MAX_READ_ITEMS
    section = Section("Bounded list work")
    measured: list[tuple[int, int, int]] = []  # per size: calls, items read, requests to the end
    baseline: list[tuple[int, int]] = []
    with mock_aws():
        client = dynamodb_client()
        table = "CatalogItem"
        client.create_table(**table_definition(CATALOG_ITEM, table))
        env = {"TABLE_CATALOGITEM": table, "NEXT_TOKEN_SECRET": "bench"}
        bound = {"MODELAUTH_LIST_MAX_READ_ITEMS": str(max_reads)} if config.bound_max_reads else {}
        deployed = GraphQLApp(SCHEMA, Store.from_env(SCHEMA.models, client, environ={**env, **bound}))
        lifted = {"MODELAUTH_LIST_MAX_READ_ITEMS": UNBOUNDED, "MODELAUTH_LIST_MAX_CALLS": UNBOUNDED}
        unbounded = GraphQLApp(SCHEMA, Store.from_env(SCHEMA.models, client, environ={**env, **lifted}))
        work = Work(client)
        loaded, started = 0, time.perf_counter()
        old: tuple[int, int] | None = None  # the loop before the bound, at the first size
        for size in config.bound_sizes:
            common.put_items(client, table, map(catalog_item, range(loaded, size)))
            loaded = size
            requests = list(walk(deployed, work))
            assert sum(read for _, read in requests) == size, "the walk must read every item once"
            measured.append((*requests[0], len(requests)))
            _, calls, read = work.of(lambda: attack(unbounded))
            assert read == size, (read, size)
            baseline.append((calls, read))
            old = old or before_issue_16_4(client, table)
        took = time.perf_counter() - started
        parse, page_items = page_cost(client, deployed.store, config)

    assert old is not None
    largest = config.bound_sizes[-1]
    sizes = _counts(list(config.bound_sizes))
    reads, calls = [m[1] for m in measured], [m[0] for m in measured]
    walks = _counts([m[2] for m in measured])
    section.rows += [
        _bounded("list attack: items read per request", reads, [b[1] for b in baseline], max_reads),
        _bounded(
            "list attack: DynamoDB calls per request", calls, [b[0] for b in baseline], DEFAULT_LIST_MAX_CALLS
        ),
        Row(
            "list attack: requests to the end (nextToken)",
            walks,
            _counts([1] * len(measured)),
            None,
            "every item read once",
            True,  # asserted above: the reads of each walk add up to the table
        ),
        common.compared("1 MB Scan page: parse + load", parse, common.ms),
    ]
    section.details += [
        f"Bounded list work: CatalogItem table grown to {sizes} items in in-process moto ({took:.0f} s "
        f"in all); one request of listCatalogItems(limit: 1, filter: <matches nothing>) with the API key "
        f"through the resolver, its Scans and their ScannedCount counted by botocore events. Measured: "
        f"Store.from_env's bound (at most {max_reads:,} items read and {DEFAULT_LIST_MAX_CALLS} calls"
        + ("; smoke mode's smaller item bound" if config.bound_max_reads else ", the defaults")
        + "); baseline: the same store with the bound lifted (every request reads to the end). Ratios "
        f"at {largest:,} items.",
        f"  before issue 16.4 (Scan with Limit max(limit, 25) until the page fills): {old[0]:,} Scans "
        f"reading {old[1]:,} items at {config.bound_sizes[0]:,} items; one request at {largest:,} "
        f"would make {-(-largest // 25):,}",
        f"  following nextToken, the bounded requests read every item once: {walks} requests, "
        "all pages empty",
        f"  1 MB Scan page: botocore's parse + Store._load of {page_items:,} CatalogItems "
        f"({parse.measured / page_items * 1e6:.1f} µs per item) vs json.loads of the same body, "
        f"median of {config.runs} interleaved runs",
    ]
    return section
