"""Issue 16.4: a list must not read without bound. With the public API key,
``listCatalogItems(limit: 1, filter: <matches nothing>)`` over 3,000 items made 120 Scans and read
all 3,000 in one invocation, then returned an empty page.

One request whose reads are not its items (a Scan, a filtered Query) now reads at most
``list_max_read_items`` items in at most ``list_max_calls`` calls, and hands back what it found
with a ``nextToken`` that resumes there; owner-index pages (every item read is listed) stay full.
DynamoDB's work is counted on the client (botocore's ``after-call`` events: calls and
``ScannedCount``), not taken from the store's own accounting.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelauth.local import create_tables, table_definition
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.store import (
    DEFAULT_LIST_MAX_CALLS,
    DEFAULT_LIST_MAX_READ_ITEMS,
    INDEX_TABLE,
    Store,
    index_table_definition,
)
from tests.authz import proxy_event
from tests.conftest import FIXTURE_SCHEMA, PROJECT, load_event
from tests.fixtures.schema import CATALOG_ITEM, SCHEMA
from tests.functional.helpers import ALICE, BOB, Client

API_KEY = {"x-api-key": "da2-testtesttesttesttesttest"}
NOTHING = {"name": {"eq": "no such item"}}  # the attack's filter: matches no item
BATCH = 25  # BatchWriteItem's maximum


class DynamoReads:
    """The Scan and Query calls a client makes, and the items DynamoDB read for them."""

    def __init__(self, client: Any) -> None:
        self.scanned: list[int] = []
        for operation in ("Scan", "Query"):
            client.meta.events.register(f"after-call.dynamodb.{operation}", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned.append(int(parsed.get("ScannedCount", 0)))

    def during(self, request: Any) -> tuple[Any, int, int]:
        """``request()``'s result, the calls it made and the items they read."""
        self.scanned.clear()
        result = request()
        return result, len(self.scanned), sum(self.scanned)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One in-process moto DynamoDB for the module, with every app table."""
    from moto import mock_aws

    from modelauth.store import dynamodb_client

    with mock_aws():
        dynamodb = dynamodb_client()
        create_tables(dynamodb, SCHEMA)
        yield dynamodb


@pytest.fixture(scope="module")
def reads(client: Any) -> DynamoReads:
    return DynamoReads(client)


def write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), BATCH):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def catalog_item(n: int) -> dict[str, Any]:
    """CatalogItem ``n`` as stored: price ``n % 100``."""
    stamp = {"S": "2026-12-01T00:00:00.000Z"}
    return {
        "id": {"S": f"item-{n:06d}"},
        "name": {"S": f"item {n}"},
        "price": {"N": str(n % 100)},
        "createdAt": stamp,
        "updatedAt": stamp,
        "_version": {"N": "1"},
    }


def catalog_table(client: Any, count: int) -> dict[str, str]:
    """A fresh CatalogItem table holding items 0 .. count-1 (the app's table map, for a Store)."""
    name = f"CatalogItem-{uuid.uuid4().hex[:8]}"
    client.create_table(**table_definition(CATALOG_ITEM, name))
    write(client, name, [catalog_item(n) for n in range(count)])
    return {"CatalogItem": name}


@pytest.fixture(scope="module")
def catalog_3000(client: Any) -> dict[str, str]:
    """The issue's table: 3,000 CatalogItems."""
    return catalog_table(client, 3000)


def graphql(client: Any, tables: dict[str, str], index: str = INDEX_TABLE, **bound: int) -> GraphQLApp:
    """The resolver on these tables, with the list bound ``bound`` (the defaults without)."""
    store = Store(
        client, {**create_tables(client, SCHEMA), **tables}, token_key=b"k", index_table=index, **bound
    )
    return GraphQLApp(SCHEMA, store)


def api_key(app: GraphQLApp) -> Client:
    return Client(app, None, "API Key Authorization", API_KEY)


def walk(
    caller: Client, field: str, reads: DynamoReads, **arguments: Any
) -> Iterator[tuple[list[dict[str, Any]], int, int]]:
    """Every page of a list as (items, calls, items read), following nextToken to the end."""
    token = None
    while True:
        page, calls, read = reads.during(lambda at=token: caller.query(field, nextToken=at, **arguments))
        yield page["items"], calls, read
        token = page["nextToken"]
        if token is None:
            return


# -- the attack --------------------------------------------------------------------------------


def test_a_list_matching_nothing_stops_at_the_bound_with_an_empty_page_and_a_token(
    client: Any, reads: DynamoReads, catalog_3000: dict[str, str]
) -> None:
    attacker = api_key(graphql(client, catalog_3000, list_max_read_items=200, list_max_calls=4))

    page, calls, read = reads.during(lambda: attacker.query("listCatalogItems", limit=1, filter=NOTHING))

    assert calls <= 4
    assert read <= 200
    assert page["items"] == []
    assert page["nextToken"] is not None  # 2,800 items are still unread: the client may go on


def test_at_the_default_bound_the_attack_makes_at_most_ten_calls(
    client: Any, reads: DynamoReads, catalog_3000: dict[str, str]
) -> None:
    attacker = api_key(graphql(client, catalog_3000))

    page, calls, read = reads.during(lambda: attacker.query("listCatalogItems", limit=1, filter=NOTHING))

    assert calls <= DEFAULT_LIST_MAX_CALLS == 10  # 120 Scans before
    assert read == 3000 <= DEFAULT_LIST_MAX_READ_ITEMS  # the whole table fits in the bound
    assert page == {"items": [], "nextToken": None, "__typename": "ModelCatalogItemConnection"}


def test_at_the_default_bound_a_table_larger_than_the_bound_is_read_over_several_requests(
    client: Any, reads: DynamoReads
) -> None:
    attacker = api_key(graphql(client, catalog_table(client, DEFAULT_LIST_MAX_READ_ITEMS + 500)))

    pages = list(walk(attacker, "listCatalogItems", reads, limit=1, filter=NOTHING))

    assert [items for items, _, _ in pages] == [[], []]
    assert all(calls <= DEFAULT_LIST_MAX_CALLS for _, calls, _ in pages)
    assert [read for _, _, read in pages] == [DEFAULT_LIST_MAX_READ_ITEMS, 500]


def test_following_next_tokens_lists_every_matching_item_exactly_once(
    client: Any, reads: DynamoReads, catalog_3000: dict[str, str]
) -> None:
    caller = api_key(graphql(client, catalog_3000, list_max_read_items=150, list_max_calls=3))
    expected = sorted(f"item-{n:06d}" for n in range(3000) if n % 100 == 7)

    pages = list(walk(caller, "listCatalogItems", reads, limit=4, filter={"price": {"eq": 7}}))

    listed = [item["id"] for items, _, _ in pages for item in items]
    assert sorted(listed) == expected  # none missing, none twice
    assert all(calls <= 3 and read <= 150 and len(items) <= 4 for items, calls, read in pages)
    assert sum(read for _, _, read in pages) == 3000  # every item read once over the walk


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(min_value=0, max_value=60),
    max_reads=st.integers(min_value=1, max_value=40),
    max_calls=st.integers(min_value=1, max_value=4),
    limit=st.integers(min_value=1, max_value=12),
    below=st.integers(min_value=0, max_value=100),
)
def test_any_bound_pages_through_exactly_the_matching_items(
    client: Any, reads: DynamoReads, size: int, max_reads: int, max_calls: int, limit: int, below: int
) -> None:
    """Random table sizes, bounds, page sizes and filter selectivity (``price < below``)."""
    tables = catalog_table(client, size)
    try:
        caller = api_key(graphql(client, tables, list_max_read_items=max_reads, list_max_calls=max_calls))
        pages = list(walk(caller, "listCatalogItems", reads, limit=limit, filter={"price": {"lt": below}}))
    finally:
        client.delete_table(TableName=tables["CatalogItem"])

    listed = [item["id"] for items, _, _ in pages for item in items]
    assert sorted(listed) == sorted(f"item-{n:06d}" for n in range(size) if n % 100 < below)
    for items, calls, read in pages:
        assert calls <= max_calls
        assert read <= max_reads
        assert len(items) <= limit
    assert len(pages) <= size + 1  # every request moves on: the walk ends


# -- what the bound leaves alone, and what it also covers ---------------------------------------


def owner_app(client: Any, **bound: int) -> GraphQLApp:
    """The resolver on fresh Todo and Post tables (owner index) and index table (index items)."""
    suffix = uuid.uuid4().hex[:8]
    names = {"Todo": f"Todo-{suffix}", "Post": f"Post-{suffix}"}
    client.create_table(**index_table_definition(f"ModelIndex-{suffix}"))
    return graphql(client, create_tables(client, SCHEMA, names), f"ModelIndex-{suffix}", **bound)


def test_owner_index_pages_stay_full_under_the_smallest_bound(client: Any, reads: DynamoReads) -> None:
    app = owner_app(client, list_max_read_items=1, list_max_calls=1)
    alice, bob = Client(app, ALICE), Client(app, BOB)
    for n in range(7):
        alice.mutate("createTodo", content=f"alice {n}")
        bob.mutate("createTodo", content=f"bob {n}")
        alice.mutate("createPost", title=f"post {n}", editors=["alice", "bob"])

    for field in ("listTodos", "listPosts"):  # byOwner Queries; index-item Queries (editors)
        pages = list(walk(alice, field, reads, limit=3))
        assert [len(items) for items, _, _ in pages] == [3, 3, 1], field


def test_a_filtered_owner_list_is_bounded_like_a_scan(client: Any, reads: DynamoReads) -> None:
    app = owner_app(client, list_max_read_items=5, list_max_calls=2)
    alice = Client(app, ALICE)
    for n in range(30):
        alice.mutate("createTodo", content=f"alice {n}", done=n % 10 == 0)

    pages = list(walk(alice, "listTodos", reads, limit=2, filter={"done": {"eq": True}}))

    assert sorted(item["content"] for items, _, _ in pages for item in items) == [
        "alice 0",
        "alice 10",
        "alice 20",
    ]
    assert all(calls <= 2 and read <= 5 for _, calls, read in pages)
    assert len(pages) >= 30 // 5  # no request read more than 5 of alice's 30


def test_the_rest_list_is_bounded_the_same_way(client: Any, reads: DynamoReads) -> None:
    tables = {"Ticket": f"Ticket-{uuid.uuid4().hex[:8]}"}
    store = Store(client, create_tables(client, SCHEMA, tables), token_key=b"k", list_max_read_items=10)
    app = RestApp(SCHEMA, store)
    owner = load_event("rest.getTicket.alice")["requestContext"]["authorizer"]
    for n in range(40):
        created = app.resolve(
            proxy_event("POST", "/tickets", owner, {"title": f"t{n}", "status": "open"}), None
        )
        assert created["statusCode"] == 201, created
    reader = load_event("rest.getTicket.bob")["requestContext"]["authorizer"]  # allow.custom(): a Scan

    def get(token: str | None) -> dict[str, Any]:
        event = proxy_event("GET", "/tickets", reader)
        query = {
            "limit": "1",
            "filter": json.dumps({"title": {"eq": "t39"}}),
            **({"nextToken": token} if token else {}),
        }
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
        response = app.resolve(event, None)
        assert response["statusCode"] == 200, response
        body: dict[str, Any] = json.loads(response["body"])
        return body

    first, calls, read = reads.during(lambda: get(None))
    assert calls <= DEFAULT_LIST_MAX_CALLS
    assert read <= 10
    pages = [first]
    while pages[-1]["nextToken"] is not None:
        pages.append(get(pages[-1]["nextToken"]))
    assert [item["title"] for page in pages for item in page["items"]] == ["t39"]
    assert len(pages) >= 40 // 10


# -- the local endpoint, over HTTP ---------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, str, Any]]:
    """``modelauth serve`` (embedded backend) started with MODELAUTH_LIST_MAX_READ_ITEMS=50 and
    MODELAUTH_LIST_MAX_CALLS=2 in its environment, 300 CatalogItems stored: (url, API key, backend)."""
    from modelauth.local.samtemplate import SamTemplate
    from modelauth.local.sandbox import Backend
    from modelauth.local.server import LocalServer

    template = SamTemplate.load(PROJECT / "template.yaml")
    backend = Backend.embedded(template, SCHEMA)
    backend.schema_ref = FIXTURE_SCHEMA
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MODELAUTH_LIST_MAX_READ_ITEMS", "50")
        env.setenv("MODELAUTH_LIST_MAX_CALLS", "2")
        server = LocalServer(template, backend, port=0, log=None)
    try:
        function = template.resolvers[("Query", "listCatalogItems")]
        table = backend.environment(template, function)["TABLE_CATALOGITEM"]
        write(backend.client("dynamodb"), table, [catalog_item(n) for n in range(300)])
        with server:
            yield server.url, next(iter(backend.api_keys)), (template, backend)
    finally:
        backend.stop()


LIST = """query($filter: ModelCatalogItemFilterInput, $token: String) {
  listCatalogItems(limit: 1, filter: $filter, nextToken: $token) { items { id } nextToken }
}"""


def http_pages(url: str, key: str, filter: dict[str, Any]) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    token = None
    while not pages or token is not None:
        body = {"query": LIST, "variables": {"filter": filter, "token": token}}
        response = requests.post(url, json=body, headers={"x-api-key": key}, timeout=30)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        pages.append(response.json()["data"]["listCatalogItems"])
        token = pages[-1]["nextToken"]
    return pages


def test_the_local_endpoint_bounds_a_list_and_its_tokens_finish_it(endpoint: tuple[str, str, Any]) -> None:
    url, key, _ = endpoint

    attack = http_pages(url, key, NOTHING)
    assert attack[0]["items"] == []
    assert attack[0]["nextToken"] is not None
    assert len(attack) >= 300 // 50  # at most 50 items read per request
    assert all(page["items"] == [] for page in attack)

    found = http_pages(url, key, {"price": {"eq": 42}})
    assert sorted(item["id"] for page in found for item in page["items"]) == [
        "item-000042",
        "item-000142",
        "item-000242",
    ]


# -- configuration --------------------------------------------------------------------------------

BAD_VALUES = [
    "0",
    "-1",
    "ten",
    "2.5",
    "1e4",
    "10,000",
    "\N{ARABIC-INDIC DIGIT ONE}",
    "1000000001",
    "9" * 5000,
]
VARIABLES = ["MODELAUTH_LIST_MAX_READ_ITEMS", "MODELAUTH_LIST_MAX_CALLS"]


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_bad_bound_in_the_environment_is_refused_naming_the_variable(
    client: Any, variable: str, value: str
) -> None:
    with pytest.raises(ValueError, match=f"^{variable} must be a whole number from 1 to 1,000,000,000, not "):
        Store.from_env(SCHEMA.models, client, environ={variable: value})


@pytest.mark.parametrize("app", [GraphQLApp, RestApp])
def test_a_bad_bound_fails_the_cold_start_of_both_functions(
    monkeypatch: pytest.MonkeyPatch, app: type[GraphQLApp] | type[RestApp]
) -> None:
    """functions/graphql and functions/rest build their app at import: the init fails, once."""
    monkeypatch.setenv("MODELAUTH_LIST_MAX_READ_ITEMS", "0")
    with pytest.raises(ValueError, match=r"^MODELAUTH_LIST_MAX_READ_ITEMS must be a whole number"):
        app.from_env(SCHEMA)


def test_a_bad_bound_stops_the_local_endpoint_at_startup(
    monkeypatch: pytest.MonkeyPatch, endpoint: tuple[str, str, Any]
) -> None:
    from modelauth.local.server import LocalServer

    template, backend = endpoint[2]
    monkeypatch.setenv("MODELAUTH_LIST_MAX_CALLS", "lots")
    with pytest.raises(ValueError, match=r"^MODELAUTH_LIST_MAX_CALLS must be a whole number"):
        LocalServer(template, backend, port=0, log=None)


@pytest.mark.parametrize("value", ["", "  ", "25", " 25 "])
def test_an_empty_or_whole_number_bound_is_accepted(client: Any, value: str) -> None:
    assert isinstance(Store.from_env(SCHEMA.models, client, environ=dict.fromkeys(VARIABLES, value)), Store)


@pytest.mark.parametrize(
    "bound",
    [{"list_max_read_items": 0}, {"list_max_calls": -3}, {"list_max_calls": True}, {"list_max_calls": 2**40}],
)
def test_a_bad_bound_given_to_the_store_is_refused_when_it_is_built(
    client: Any, bound: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="must be a whole number from 1 to 1,000,000,000"):
        Store(client, {}, token_key=b"k", **bound)
