"""List-by-owner (issue #5): items read (DynamoDB's ScannedCount) per item returned when one owner
lists their Todos among many owners' items, through ``Store.list_items`` (Query on the byOwner
index), next to Scan + FilterExpression on the same table; and the page sizes. The same for a
multi-owner model (Post, ``owners_defined_in("editors")``, issue 21): one editor's list is served
from the index items of the ``editors`` values.

Items are written straight into the Todo table with ``batch_write_item`` (in-process moto), with
owners ``<sub>::<username>`` and ascending ``createdAt``.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Config, Row, Section, configure_env, put_items

GOAL = 1.1


def _owner(number: int) -> tuple[str, str]:
    return f"sub-{number:05d}", f"user{number:05d}"


def load(client: Any, table: str, items: int, owners: int) -> None:
    """``items`` Todos, owner ``n % owners`` for item n, createdAt one millisecond apart."""
    base = 1_735_689_600_000  # 2025-01-01T00:00:00Z in ms

    def todo(n: int) -> dict[str, Any]:
        sub, user = _owner(n % owners)
        stamp = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((base + n) // 1000)) + f".{(base + n) % 1000:03d}Z"
        )
        return {
            "id": {"S": f"todo-{n:07d}"},
            "owner": {"S": f"{sub}::{user}"},
            "content": {"S": f"item {n}"},
            "done": {"BOOL": False},
            "createdAt": {"S": stamp},
            "updatedAt": {"S": stamp},
            "_version": {"N": "1"},
        }

    put_items(client, table, map(todo, range(items)))


def scan_filter(
    client: Any, table: str, owners: list[str], limit: int
) -> tuple[list[list[dict[str, Any]]], int, int]:
    """The list as Scan + FilterExpression: pages of ``limit`` matching items filled client-side,
    scanning until the table ends (the only way to know no item is left). Each Scan reads up to
    DynamoDB's 1 MB page: the fewest requests; the Limit changes nothing of what is read."""
    values = {f":o{i}": {"S": owner} for i, owner in enumerate(owners)}
    pages: list[list[dict[str, Any]]] = [[]]
    scanned = requests = 0
    start: dict[str, Any] | None = None
    while True:
        request: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": f"#owner IN ({', '.join(values)})",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": values,
        }
        if start:
            request["ExclusiveStartKey"] = start
        out = client.scan(**request)
        requests += 1
        scanned += out["ScannedCount"]
        for item in out["Items"]:
            if len(pages[-1]) == limit:
                pages.append([])
            pages[-1].append(item)
        start = out.get("LastEvaluatedKey")
        if not start:
            return pages, scanned, requests


def run(config: Config) -> Section:
    configure_env()
    from moto import mock_aws

    from modelauth.identity import AuthMode, Principal
    from modelauth.local import create_tables
    from modelauth.policy import decide
    from modelauth.rules import Operation
    from modelauth.store import Store, dynamodb_client, iter_pages
    from tests.fixtures.schema import SCHEMA, TODO

    section = Section("List by owner")
    with mock_aws():
        section.rows.append(_multi_owner(config))
    with mock_aws():
        client = dynamodb_client()
        tables = create_tables(client, SCHEMA)
        started = time.perf_counter()
        load(client, tables["Todo"], config.items, config.owners)
        loaded = time.perf_counter() - started

        sub, user = _owner(config.owners // 2)
        decision = decide(Principal(AuthMode.USER_POOLS, sub=sub, username=user), TODO, Operation.LIST)
        assert decision.constraint is not None, decision
        store = Store(client, tables, token_key=b"bench")
        pages = list(iter_pages(store, TODO, decision, limit=config.page_limit, caller=sub))
        returned = sum(len(p.items) for p in pages)
        read = sum(p.scanned for p in pages)
        owners = list(decision.constraint.alternatives[0][0].values)
        scan_pages, scanned, scans = scan_filter(client, tables["Todo"], owners, config.page_limit)

    expected = config.items // config.owners
    listed = sorted(i["id"] for p in pages for i in p.items)
    assert returned == expected, (returned, expected)
    assert listed == sorted(i["id"]["S"] for p in scan_pages for i in p), "the two lists differ"
    sizes, scan_sizes = [len(p.items) for p in pages], [len(p) for p in scan_pages]
    full_pages = all(size == config.page_limit for size in sizes[:-1])
    ratio = read / returned
    section.rows += [
        Row(
            "list-by-owner: items read / returned",
            f"{read:,} / {returned:,}",
            f"{scanned:,} / {returned:,}",
            ratio,
            f"≤ {GOAL:.1f} read per item",
            ratio <= GOAL,
        ),
        Row(
            "list-by-owner: non-final pages full",
            " ".join(map(str, sizes)),
            " ".join(map(str, scan_sizes)),
            None,
            f"== limit {config.page_limit}",
            full_pages,
        ),
    ]
    section.details += [
        f"List-by-owner: {config.items:,} Todos over {config.owners:,} owners in in-process moto "
        f"(loaded in {loaded:.0f} s with BatchWriteItem); owner '{sub}::{user}' lists with limit "
        f"{config.page_limit}: Store.list_items read {read} items in {len(pages)} pages (Query on byOwner "
        f"per owner form: {', '.join(owners)}); Scan + FilterExpression read {scanned:,} in {scans} Scan "
        f"requests ({scanned / returned:,.0f} read per item returned).",
    ]
    return section


def _multi_owner(config: Config) -> Row:
    """One editor's Posts among up to 500 Posts of a tenth as many editors (two each), written
    through ``Store.create`` (the item and its index items in one transaction, as the resolver
    writes them: in moto ~90 ms a Post, hence the size); read through ``Store.list_items``. An
    editor's index partition holds only their Posts, so the ratio does not grow with the table."""
    from modelauth.identity import AuthMode, Principal
    from modelauth.local import create_tables
    from modelauth.policy import decide
    from modelauth.rules import Operation
    from modelauth.store import INDEX_TABLE, Store, dynamodb_client, iter_pages
    from tests.fixtures.schema import POST, SCHEMA

    client = dynamodb_client()
    store = Store(client, create_tables(client, SCHEMA), token_key=b"bench", index_table=INDEX_TABLE)
    posts = max(min(config.items // 200, 500), 100)
    editors = max(posts // 50, 4)
    expected = 0
    sub, user = _owner(editors // 2)
    for n in range(posts):
        pair = [_owner(n % editors), _owner((n + 1) % editors)]
        creator = Principal(AuthMode.USER_POOLS, sub=pair[0][0], username=pair[0][1])
        data = {"title": f"post {n}", "editors": [f"{s}::{u}" for s, u in pair]}
        store.create(POST, data, decide(creator, POST, Operation.CREATE, input=data))
        expected += (sub, user) in pair
    decision = decide(Principal(AuthMode.USER_POOLS, sub=sub, username=user), POST, Operation.LIST)
    assert decision.constraint is not None, decision
    pages = list(iter_pages(store, POST, decision, limit=config.page_limit, caller=sub))
    returned = sum(len(p.items) for p in pages)
    read = sum(p.scanned for p in pages)
    assert returned == expected, (returned, expected)
    assert all(f"{sub}::{user}" in item["editors"] for p in pages for item in p.items)
    ratio = read / returned
    return Row(
        "multi-owner list (Post editors, index items): items read / returned",
        f"{read:,} / {returned:,} ({len(pages)} pages; {posts:,} posts, {editors} editors)",
        "-",
        ratio,
        f"≤ {GOAL:.1f} read per item",
        ratio <= GOAL,
    )
