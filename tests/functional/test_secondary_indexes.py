"""Secondary index query fields (issue 18.2) through the Lambda handler on moto: key conditions,
order, the model's read rules per caller, the work bound for an owner-constrained caller, and
typed errors for bad key arguments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from tests.functional.helpers import Client
from tests.functional.keys import API_KEY, TASKS, graphql_clients, keys_app


@pytest.fixture
def app() -> Iterator[GraphQLApp]:
    with keys_app() as app:
        yield app


def clients(app: GraphQLApp) -> dict[str, Client]:
    return graphql_clients(app)


def seed(app: GraphQLApp) -> dict[str, Client]:
    """alice: open p1, open p3, done p2; bob: open p2 (created in that order)."""
    c = clients(app)
    for who, title, status, priority in TASKS:
        c[who].mutate("createTask", title=title, status=status, priority=priority)
    return c


def titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["items"]]


# caller → the open tasks they read, oldest first: the model's read rules applied to the index
DECISIONS = {
    "alice": ["a-open-1", "a-open-3"],
    "bob": ["b-open-2"],
    "carol": ["a-open-1", "b-open-2", "a-open-3"],  # Admin: every owner's
    "api_key": ["a-open-1", "b-open-2", "a-open-3"],  # read for everyone with the key
}


@pytest.mark.parametrize("caller", sorted(DECISIONS))
def test_index_query_applies_the_read_rules(app: GraphQLApp, caller: str) -> None:
    c = seed(app)
    assert titles(c[caller].query("tasksByStatus", status="open")) == DECISIONS[caller]


def test_sort_key_conditions_and_direction(app: GraphQLApp) -> None:
    carol = seed(app)["carol"]

    def by_priority(**args: Any) -> list[str]:
        return titles(carol.query("tasksByStatusAndPriority", status="open", **args))

    assert by_priority() == ["a-open-1", "b-open-2", "a-open-3"]
    assert by_priority(sortDirection="DESC") == ["a-open-3", "b-open-2", "a-open-1"]
    assert by_priority(priority={"eq": 2}) == ["b-open-2"]
    assert by_priority(priority={"gt": 1}) == ["b-open-2", "a-open-3"]
    assert by_priority(priority={"ge": 2}) == ["b-open-2", "a-open-3"]
    assert by_priority(priority={"lt": 3}) == ["a-open-1", "b-open-2"]
    assert by_priority(priority={"le": 1}) == ["a-open-1"]
    assert by_priority(priority={"between": [2, 3]}) == ["b-open-2", "a-open-3"]
    assert by_priority(filter={"title": {"beginsWith": "a-"}}) == ["a-open-1", "a-open-3"]
    created = [t["createdAt"] for t in carol.query("tasksByStatus", status="open")["items"]]
    later = titles(carol.query("tasksByStatus", status="open", createdAt={"gt": created[0]}))
    assert later == ["b-open-2", "a-open-3"]
    year = titles(carol.query("tasksByStatus", status="open", createdAt={"beginsWith": created[0][:4]}))
    assert year == ["a-open-1", "b-open-2", "a-open-3"]


def test_pages_follow_next_token(app: GraphQLApp) -> None:
    alice = seed(app)["alice"]
    first = alice.query("tasksByStatus", status="open", limit=1)
    assert titles(first) == ["a-open-1"]
    assert first["nextToken"]
    second = alice.query("tasksByStatus", status="open", limit=1, nextToken=first["nextToken"])
    assert titles(second) == ["a-open-3"]
    # a token is bound to its query: another partition value is refused
    other = alice.call("Query", "tasksByStatus", status="done", nextToken=first["nextToken"])
    assert other["errors"][0]["errorType"] == "BadRequest"


def read_counter(app: GraphQLApp) -> list[int]:
    """The ScannedCount of every Query the store makes from now on."""
    reads: list[int] = []
    client = app.store._client
    client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: reads.append(int(parsed.get("ScannedCount", 0)))
    )
    return reads


def test_owner_query_of_a_created_at_index_reads_only_the_owners_items(app: GraphQLApp) -> None:
    """Sorted by createdAt, the index is read through the owner index (owner, createdAt) with
    the status as a filter: alice reads her 3 items, not bob's 7 open ones."""
    c = seed(app)
    for n in range(6):
        c["bob"].mutate("createTask", title=f"b-more-{n}", status="open")
    reads = read_counter(app)
    assert titles(c["alice"].query("tasksByStatus", status="open")) == ["a-open-1", "a-open-3"]
    assert sum(reads) == 3
    newest = c["alice"].query("tasksByStatus", status="open", sortDirection="DESC", limit=1)
    assert titles(newest) == ["a-open-3"]


def test_owner_query_of_another_sort_key_is_bounded(app: GraphQLApp) -> None:
    """Sorted by priority, the owner is a filter of the index partition: a request stops at the
    read bound and its nextToken resumes there, so alice never reads bob's part of the partition
    without bound, and still sees all of hers, in priority order."""
    c = seed(app)
    for n in range(6):
        c["bob"].mutate("createTask", title=f"b-more-{n}", status="open", priority=0)
    app.store._max_read_items = 3  # the per-request bound (MODELAUTH_LIST_MAX_READ_ITEMS)
    reads = read_counter(app)
    seen: list[str] = []
    token, pages = None, 0
    while True:
        page = c["alice"].query("tasksByStatusAndPriority", status="open", limit=10, nextToken=token)
        seen += titles(page)
        pages, token = pages + 1, page["nextToken"]
        if token is None:
            break
    assert seen == ["a-open-1", "a-open-3"]
    assert pages >= 3  # 9 items in the partition
    assert max(reads) <= 3
    assert sum(reads) == 9  # each item of the partition read once over the walk


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"priority": {"eq": 1}}, "missing required argument(s) ['status']"),  # sort key, no partition
        ({"status": "open", "title": {"eq": "x"}}, "unknown argument(s) ['title']"),  # not a key
        ({"status": "open", "priority": {"eq": "1"}}, "priority: a key value must be a number"),
        ({"status": "open", "priority": {"eq": 1, "gt": 0}}, "takes exactly one of"),
        ({"status": "open", "priority": {"beginsWith": 1}}, "beginsWith is for string keys"),
        ({"status": "open", "priority": {"between": [1]}}, "between takes a list of two values"),
        ({"status": "open", "sortDirection": "UP"}, "sortDirection must be ASC or DESC"),
        ({"status": ""}, "status: a key value must be a non-empty string"),
    ],
)
def test_bad_key_arguments_are_typed_errors(app: GraphQLApp, arguments: dict[str, Any], message: str) -> None:
    error = clients(app)["carol"].error("Query", "tasksByStatusAndPriority", **arguments)
    assert error["errorType"] == "BadRequest"
    assert message in error["message"], error


def test_caller_without_read_rule_is_refused_before_the_table() -> None:
    from modelauth.rules import Field, Model, Schema, allow, index

    hidden = Model("Secret", fields=[Field("kind")], rules=[allow.owner()], secondary_indexes=[index("kind")])
    app = GraphQLApp(Schema([hidden]), Store(object(), {"Secret": "x"}, token_key=b"k"))  # type: ignore[arg-type]
    error = Client(app, None, "API Key Authorization", API_KEY).error("Query", "listSecretByKind", kind="a")
    message = "Not Authorized to access listSecretByKind on type Query"
    assert error == {"message": message, "errorType": "Unauthorized"}
