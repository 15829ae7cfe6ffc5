"""Secondary index query by an owner-constrained caller (issue 18.2): items read (DynamoDB's
ScannedCount) per item returned when one owner queries ``tasksByStatus(status: "open")`` among
every owner's open Tasks, through ``Store.query_index``, next to the ``Admin`` group (no
constraint) reading the same partition; and the requests the owner needs to the end.

The owner is not a key of the index, so the caller's constraint is a FilterExpression of the
Query: the owner's reads are the partition's items, and each request stops at the per-request
bound (``list_max_read_items``) with a partial page and a nextToken that resumes there. Items
are written straight into the Task table with ``batch_write_item`` (in-process moto).
"""

from __future__ import annotations

from typing import Any

from bench.common import Config, Row, Section, configure_env, put_items

STATUSES = ("open", "done", "blocked", "review")
GOAL = 1.1


def _owner(number: int) -> tuple[str, str]:
    return f"sub-{number:05d}", f"user{number:05d}"


def task(n: int, owners: int) -> dict[str, Any]:
    """Task ``n``: owner ``n % owners``, status ``STATUSES[n // owners % 4]``, createdAt by ``n``."""
    sub, user = _owner(n % owners)
    stamp = {"S": f"2026-01-01T00:00:00.000Z#{n:07d}"}
    return {
        "id": {"S": f"task-{n:07d}"},
        "owner": {"S": f"{sub}::{user}"},
        "status": {"S": STATUSES[n // owners % len(STATUSES)]},
        "title": {"S": f"task {n}"},
        "priority": {"N": str(n % 5)},
        "createdAt": stamp,
        "updatedAt": stamp,
        "_version": {"N": "1"},
    }


def run(config: Config) -> Section:
    configure_env()
    from moto import mock_aws

    from modelauth.identity import AuthMode, Principal
    from modelauth.local import create_tables
    from modelauth.policy import decide
    from modelauth.rules import Operation
    from modelauth.store import DEFAULT_LIST_MAX_READ_ITEMS, Store, dynamodb_client
    from tests.fixtures.keys import SCHEMA, TASK

    by_created, by_priority = TASK.secondary_indexes
    bound = config.bound_max_reads or DEFAULT_LIST_MAX_READ_ITEMS
    section = Section("Secondary index query")
    with mock_aws():
        client = dynamodb_client()
        tables = create_tables(client, SCHEMA)
        put_items(client, tables["Task"], (task(n, config.owners) for n in range(config.items)))
        store = Store(client, tables, token_key=b"bench", list_max_read_items=bound)

        def walk(principal: Principal, secondary: Any) -> tuple[int, int, int, int]:
            """(items returned, items read, requests, most read by one request) to the end."""
            decision = decide(principal, TASK, Operation.LIST)
            returned = read = requests = most = 0
            token = None
            while True:
                page = store.query_index(
                    TASK, secondary, decision, "open", limit=config.page_limit, next_token=token, caller="c"
                )
                returned, read, requests = returned + len(page.items), read + page.scanned, requests + 1
                most, token = max(most, page.scanned), page.next_token
                if token is None:
                    return returned, read, requests, most

        sub, user = _owner(config.owners // 2)
        alice = Principal(AuthMode.USER_POOLS, sub=sub, username=user)
        admin = Principal(AuthMode.USER_POOLS, sub="admin", username="admin", groups=("Admin",))
        created, priority, whole = walk(alice, by_created), walk(alice, by_priority), walk(admin, by_created)

    mine = [n for n in range(config.items) if n % config.owners == config.owners // 2]
    expected = sum(1 for n in mine if n // config.owners % len(STATUSES) == 0)
    assert created[0] == priority[0] == expected, (created, priority, expected)
    assert whole[1] == whole[0], whole  # no constraint: every item read is returned
    section.rows += [
        Row(
            "index query by owner (createdAt): read / returned",
            f"{created[1]:,} / {created[0]:,}",
            f"{priority[1]:,} / {priority[0]:,} (partition)",
            created[1] / created[0],
            f"≤ {GOAL:.1f} read per item",
            created[1] / created[0] <= GOAL,
            note=f"reads the owner's items of every status ({len(STATUSES)})",
        ),
        Row(
            "index query by owner (priority): read / returned",
            f"{priority[1]:,} / {priority[0]:,}",
            f"{whole[1]:,} / {whole[0]:,} (Admin)",
            priority[1] / priority[0],
            f"≤ {bound:,} read per request",
            priority[3] <= bound,
            note="the owner filters the whole index partition",
        ),
        Row(
            "index query by owner (priority): requests",
            f"{priority[2]:,}",
            f"{whole[2]:,} (Admin)",
            None,
            "report",
            None,
        ),
    ]
    section.details += [
        f"Secondary index query: {config.items:,} Tasks over {config.owners:,} owners and {len(STATUSES)} "
        f"statuses in in-process moto ({whole[0]:,} open); owner '{sub}::{user}' walks "
        f'tasksByStatus(status: "open") and tasksByStatusAndPriority(status: "open") with limit '
        f"{config.page_limit}, {expected} items each. Sorted by createdAt, the store Queries the owner "
        f"index (owner, createdAt) with the status as a filter: {created[1]:,} read (the owner's items "
        f"of every status) in {created[2]} requests. Sorted by another key, the owner is a filter of the "
        f"index partition: {priority[1]:,} read in {priority[2]} requests, at most {priority[3]:,} per "
        f"request (bound {bound:,}). The goal of ≤ {GOAL} read per item needs a key holding the owner "
        "and the index key together (owner#status); not built.",
    ]
    return section
