"""``Model(timestamps=...)`` (issue 19 item 3) through the Lambda handlers on moto: renamed
timestamps are written on create and update, returned, filtered and used as the owner index's
sort key; a model without timestamps has none, and its lists by owner are still served by its
owner index (items read = items returned); one timestamp off leaves the other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest

from modelauth.local import create_tables
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.store import INDEX_TABLE, Store
from tests.fixtures.timestamps import HALF, PLAIN, SCHEMA, SHARED, STAMP
from tests.functional.helpers import ALICE, BOB, Client, list_all
from tests.functional.test_field_types import send  # a REST request as alice (user pool)
from tests.functional.test_secondary_indexes import read_counter

TIMESTAMPS = {"createdAt", "updatedAt", "createdOn", "updatedOn", "loggedAt"}


def ticking_clock() -> Any:
    """A store clock one second later on every call, so an update's timestamp differs."""
    seconds = count()
    return lambda: f"2026-01-01T00:00:{next(seconds):02d}.000Z"


@pytest.fixture
def store() -> Iterator[Store]:
    from moto import mock_aws

    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        tables = create_tables(client, SCHEMA)
        yield Store(client, tables, token_key=b"k", index_table=INDEX_TABLE, clock=ticking_clock())


@pytest.fixture
def app(store: Store) -> GraphQLApp:
    return GraphQLApp(SCHEMA, store)


def stamps_of(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k in TIMESTAMPS}


def test_create_and_update_fill_the_renamed_timestamps(app: GraphQLApp, store: Store) -> None:
    alice = Client(app, ALICE)
    created = alice.mutate("createStamp", id="s1", status="open")
    assert stamps_of(created) == {
        "createdOn": "2026-01-01T00:00:00.000Z",
        "updatedOn": "2026-01-01T00:00:00.000Z",
    }
    updated = alice.mutate("updateStamp", id="s1", title="t")
    assert stamps_of(updated) == {
        "createdOn": "2026-01-01T00:00:00.000Z",
        "updatedOn": "2026-01-01T00:00:01.000Z",
    }
    stored = store.get(STAMP, "s1")
    assert stored is not None
    assert stamps_of(stored) == stamps_of(updated)
    assert alice.query("getStamp", id="s1")["updatedOn"] == "2026-01-01T00:00:01.000Z"


def test_a_timestamp_turned_off_is_never_written(app: GraphQLApp, store: Store) -> None:
    alice = Client(app, ALICE)
    alice.mutate("createHalf", id="h1", title="a")
    alice.mutate("updateHalf", id="h1", title="b")
    assert stamps_of(store.get(HALF, "h1") or {}) == {"createdAt": "2026-01-01T00:00:00.000Z"}
    # timestamps=None: none at all; the model's own createdAt field is the client's to write
    created = alice.mutate("createPlain", id="p1", status="open", createdAt="2025-05-05")
    alice.mutate("updatePlain", id="p1", title="b")
    stored = store.get(PLAIN, "p1")
    assert stored is not None
    assert stamps_of(stored) == {"createdAt": "2025-05-05"} == stamps_of(created)
    assert stored["_version"] == 2


def test_filters_and_conditions_name_the_renamed_timestamps(app: GraphQLApp) -> None:
    alice = Client(app, ALICE)
    for n in range(3):
        alice.mutate("createStamp", id=f"s{n}", status="open")
    later = alice.query("listStamps", filter={"createdOn": {"gt": "2026-01-01T00:00:00.000Z"}})
    assert sorted(i["id"] for i in later["items"]) == ["s1", "s2"]
    # the Amplify name is not a field of this model: a typed error, not an empty list
    error = alice.error("Query", "listStamps", filter={"createdAt": {"gt": "2026"}})
    assert error["errorType"] == "BadRequest"
    refused = alice.error(
        "Mutation", "updateStamp", input={"id": "s0", "title": "x"}, condition={"updatedOn": {"gt": "2027"}}
    )
    assert refused["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    met = alice.call(
        "Mutation", "updateStamp", input={"id": "s0", "title": "x"}, condition={"updatedOn": {"lt": "2027"}}
    )
    assert met["errors"] == []
    assert met["data"]["title"] == "x"
    # nor may a client write a timestamp
    written = alice.error("Mutation", "createStamp", input={"status": "x", "createdOn": "2020"})
    assert written["errorType"] == "BadRequest"


def seed_owners(app: GraphQLApp, model: str, extra: dict[str, Any]) -> None:
    """alice: 3 open items; bob: 5 open items."""
    for who, identity, n in (("a", ALICE, 3), ("b", BOB, 5)):
        for i in range(n):
            Client(app, identity).mutate(f"create{model}", id=f"{who}{i}", status="open", **extra)


def test_without_timestamps_a_list_by_owner_reads_only_the_owners_items(app: GraphQLApp) -> None:
    """The owner index has no sort key (no creation timestamp): alice's list is still a Query
    of it, reading her 3 items, not bob's; pages are full and follow nextToken."""
    seed_owners(app, "Plain", {})
    alice = Client(app, ALICE)
    reads = read_counter(app)
    assert sorted(i["id"] for i in alice.query("listPlains")["items"]) == ["a0", "a1", "a2"]
    assert sum(reads) == 3
    assert sorted(i["id"] for i in list_all(alice, "listPlains", limit=1)) == ["a0", "a1", "a2"]
    # an unsorted secondary index is read through the owner index too, the status a filter
    reads.clear()
    assert len(alice.query("plainsByStatus", status="open")["items"]) == 3
    assert sum(reads) == 3


def test_the_renamed_creation_timestamp_sorts_the_owner_index(app: GraphQLApp) -> None:
    seed_owners(app, "Stamp", {})
    alice = Client(app, ALICE)
    reads = read_counter(app)
    assert [i["id"] for i in alice.query("listStamps")["items"]] == ["a0", "a1", "a2"]  # oldest first
    assert sum(reads) == 3
    reads.clear()
    newest = alice.query("stampsByStatus", status="open", sortDirection="DESC")
    assert [i["id"] for i in newest["items"]] == ["a2", "a1", "a0"]
    first = newest["items"][-1]["createdOn"]
    later = alice.query("stampsByStatus", status="open", createdOn={"gt": first})
    assert [i["id"] for i in later["items"]] == ["a1", "a2"]
    assert sum(reads) == 3 + 2  # the owner index, with the key condition on createdOn


def test_index_items_of_a_model_without_timestamps(app: GraphQLApp) -> None:
    """List-valued owner fields get index items; without a creation timestamp they sort by id."""
    alice, bob = Client(app, ALICE), Client(app, BOB)
    for n in (2, 0, 1):
        alice.mutate("createShared", id=f"x{n}", title="t", editors=["b2::bob"] if n else [])
    reads = read_counter(app)
    assert [i["id"] for i in bob.query("listShareds")["items"]] == ["x1", "x2"]
    assert sum(reads) == 2
    bob.mutate("updateShared", id="x1", title="by bob")
    alice.mutate("deleteShared", id="x2")  # its index items go with it
    assert [i["id"] for i in bob.query("listShareds")["items"]] == ["x1"]
    assert SHARED.timestamp_fields == ()


def test_rest_returns_the_renamed_timestamp(store: Store) -> None:
    rest = RestApp(SCHEMA, store)
    status, created = send(rest, "POST", "/logs", {"id": "l1", "line": "x"})
    assert status == 201, created
    assert stamps_of(created) == {"loggedAt": "2026-01-01T00:00:00.000Z"}
    status, updated = send(rest, "PATCH", "/logs/l1", {"line": "y"})
    assert (status, stamps_of(updated)) == (200, {"loggedAt": "2026-01-01T00:00:00.000Z"})
    for stamp, found in (("2026", ["l1"]), ("2025", [])):
        query = {"filter": json.dumps({"loggedAt": {"beginsWith": stamp}})}
        status, listed = send(rest, "GET", "/logs", query=query)
        assert (status, [i["id"] for i in listed["items"]]) == (200, found), listed
    status, refused = send(rest, "GET", "/logs", query={"filter": json.dumps({"updatedAt": {"gt": "2026"}})})
    assert (status, refused["errorType"]) == (400, "BadRequest")
