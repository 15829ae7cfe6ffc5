"""Concurrent writers through the resolver against a moto server: no lost update, no
resurrected item, every loser told why."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from modelauth.resolvers import GraphQLApp
from modelauth.store import Store, dynamodb_client
from tests.fixtures.schema import SCHEMA
from tests.functional.helpers import ALICE, CAROL, Client

WRITERS = 16
ROUNDS = 4


def new_client(settings: dict[str, Any], identity: dict[str, Any]) -> Client:
    """One resolver per thread, as each Lambda container has its own."""
    store = Store(dynamodb_client(), settings["tables"], token_key=b"k", index_table=settings["index_table"])
    return Client(GraphQLApp(SCHEMA, store), identity)


def increment_with_versions(settings: dict[str, Any], model: str, item_id: str) -> Counter[str]:
    """Read-modify-write ROUNDS times with _version; returns how each attempt ended."""
    client = new_client(settings, ALICE)
    outcomes: Counter[str] = Counter()
    done = 0
    while done < ROUNDS:
        current = client.query(f"get{model}", id=item_id)
        field = "content" if model == "Todo" else "body"
        result = client.call(
            "Mutation",
            f"update{model}",
            input={"id": item_id, field: str(int(current[field]) + 1), "_version": current["_version"]},
        )
        if result["errors"]:
            outcomes[result["errors"][0]["errorType"]] += 1
        else:
            outcomes["ok"] += 1
            done += 1
    return outcomes


def run_writers(settings: dict[str, Any], model: str, item_id: str) -> Counter[str]:
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda _: increment_with_versions(settings, model, item_id), range(WRITERS)))
    return sum(results, Counter())


def test_sixteen_writers_with_versions_lose_no_update(server_tables: dict[str, Any]) -> None:
    alice = new_client(server_tables, ALICE)
    alice.mutate("createTodo", id="t1", content="0")

    outcomes = run_writers(server_tables, "Todo", "t1")

    final = alice.query("getTodo", id="t1")
    assert outcomes["ok"] == WRITERS * ROUNDS
    assert int(final["content"]) == WRITERS * ROUNDS  # every success counted exactly once
    assert final["_version"] == 1 + WRITERS * ROUNDS
    assert set(outcomes) <= {"ok", "ConflictUnhandled"}  # every loser was told it lost a race


def test_writers_on_an_indexed_model_lose_no_update_and_keep_one_index_item(
    server_tables: dict[str, Any],
) -> None:
    alice = new_client(server_tables, ALICE)
    alice.mutate("createPost", id="p1", title="counter", body="0", editors=["a1::alice"])

    outcomes = run_writers(server_tables, "Post", "p1")

    final = alice.query("getPost", id="p1")
    assert int(final["body"]) == outcomes["ok"] == WRITERS * ROUNDS
    index = dynamodb_client().scan(TableName=server_tables["index_table"])["Items"]
    assert len(index) == 1
    assert index[0]["body"] == {"S": str(WRITERS * ROUNDS)}  # the index copy is never stale


def test_deleted_items_are_never_resurrected_by_racing_updates(server_tables: dict[str, Any]) -> None:
    admin = new_client(server_tables, CAROL)
    ids = [f"c{n}" for n in range(WRITERS)]
    for item_id in ids:
        admin.mutate("createCatalogItem", id=item_id, name="0")

    def update_then_delete(item_id: str) -> list[str]:
        client = new_client(server_tables, CAROL)
        ends = []
        for step in range(6):
            if step == 3:
                result = client.call("Mutation", "deleteCatalogItem", input={"id": item_id})
            else:
                result = client.call(
                    "Mutation", "updateCatalogItem", input={"id": item_id, "name": str(step)}
                )
            ends.append(result["errors"][0]["errorType"] if result["errors"] else "ok")
        return ends

    with ThreadPoolExecutor(WRITERS) as pool:
        # two threads per item: one updates while the other deletes
        runs = list(pool.map(update_then_delete, ids + ids))

    assert all(admin.query("getCatalogItem", id=item_id) is None for item_id in ids)
    flat = Counter(end for run in runs for end in run)
    assert set(flat) <= {"ok", "DynamoDB:ConditionalCheckFailedException"}
    assert flat["DynamoDB:ConditionalCheckFailedException"] >= len(ids)  # writes after the delete were told
