"""Input checks (issue 16.7, 16.8): a record that could never be read back or changed again is
never written.

- 16.7: a create without a required field, an update nulling one, or a value not of its AppSync
  scalar format (``AWSDateTime: "not a date"``) is a ``BadRequest`` naming the field, with
  nothing written, through the AppSync resolver and the REST API alike;
- 16.8: list-valued owner/group fields (``Post.editors``, ``Post.groups``) hold at most
  ``max_index_values(POST)`` values in all, so every later update (an ``Admin`` fixing a title, or
  one replacing every editor) fits one DynamoDB transaction; one value more is refused.

Every attack goes through the handlers with the events AppSync and API Gateway send, on moto.
(The format validators' own properties: tests/security/test_scalar_formats.py.)
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from modelauth import store as store_module
from modelauth.local import create_tables
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.rules import Field, Model, Schema, allow
from modelauth.store import INDEX_TABLE, Store, max_index_values
from tests.authz import proxy_event
from tests.fixtures.schema import POST, SCHEMA
from tests.functional.helpers import ALICE, CAROL, POOL, Client

ALICE_SUB = "a1"


def rest_user(sub: str, username: str, **claims: str) -> dict[str, Any]:
    """What a REST Cognito user-pool authorizer passes on (the same users as GraphQL's)."""
    base = {"sub": sub, "username": username, "iss": POOL, "token_use": "access", "client_id": "c"}
    return {"claims": {**base, **claims}}


REST_ALICE = rest_user(ALICE_SUB, "alice")
REST_CAROL = rest_user("c3", "carol", **{"cognito:groups": "Admin"})

#: a model with a field of every AppSync scalar (and a required one), owned by its creator
READING = Model(
    "Reading",
    fields=[
        Field("label", required=True),
        Field("day", "AWSDate"),
        Field("clock", "AWSTime"),
        Field("taken", "AWSDateTime"),
        Field("epoch", "AWSTimestamp"),
        Field("contact", "AWSEmail"),
        Field("payload", "AWSJSON"),
        Field("link", "AWSURL"),
        Field("phone", "AWSPhone"),
        Field("source", "AWSIPAddress"),
        Field("count", "Int"),
    ],
    rules=[allow.owner(), allow.group("Admin")],
)
#: a required owner field: filled from a user-pool creator, required from an API key caller
DOC = Model(
    "Doc",
    fields=[Field("title", required=True), Field("owner", required=True)],
    rules=[allow.owner(), allow.public_api_key()],
)
FIXTURES = Schema([READING, DOC])

VALID = {
    "day": "2026-12-03",
    "clock": "07:20:36.123Z",
    "taken": "2026-12-03T07:20:36.123Z",
    "epoch": 1_796_282_436,
    "contact": "alice@example.com",
    "payload": '{"upvotes": 10}',
    "link": "https://example.com/a/b?c=d",
    "phone": "+1 206-555-0100",
    "source": "203.0.113.10/24",
    "count": 7,
}
INVALID = [
    ("day", "2026-02-30"),
    ("day", "12/03/2026"),
    ("clock", "25:00"),
    ("taken", "not a date"),
    ("taken", "2026-12-03T07:20:36"),  # the offset is compulsory
    ("taken", "2026-12-03 07:20:36Z"),
    ("epoch", "1796282436"),
    ("epoch", 1.5),
    ("contact", "alice"),
    ("contact", "alice@@example.com"),
    ("payload", "{a: 1}"),
    ("payload", "Unquoted string"),
    ("payload", "NaN"),
    ("link", "example.com/no-scheme"),
    ("link", "https://example.com//double"),
    ("phone", "call me"),
    ("phone", "555-0100"),
    ("source", "256.1.1.1"),
    ("source", "10.0.0.1/33"),
    ("count", 2**31),
    ("count", True),
]


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def tables(dynamodb: Any) -> dict[str, str]:
    """The app's tables and the fixture models' tables, on one moto (the index table too)."""
    return {**create_tables(dynamodb, SCHEMA), **create_tables(dynamodb, FIXTURES)}


@pytest.fixture
def app_store(dynamodb: Any, tables: dict[str, str]) -> Store:
    return Store(dynamodb, tables, token_key=b"test-key", index_table=INDEX_TABLE)


@pytest.fixture
def graphql(app_store: Store) -> GraphQLApp:
    return GraphQLApp(Schema([*SCHEMA.models, *FIXTURES.models]), app_store)


@pytest.fixture
def rest(app_store: Store) -> RestApp:
    return RestApp(Schema([*SCHEMA.models, *FIXTURES.models]), app_store)


class Callers(NamedTuple):
    alice: Client  # user pools, sub a1
    carol: Client  # user pools, group Admin
    api_key: Client


@pytest.fixture
def callers(graphql: GraphQLApp) -> Callers:
    api_key = Client(graphql, None, "API Key Authorization", {"x-api-key": "da2-testtesttesttesttesttest"})
    return Callers(Client(graphql, ALICE), Client(graphql, CAROL), api_key)


def stored(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every raw item of a table, to show that a refused request wrote nothing."""
    items: list[dict[str, Any]] = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return items


def assert_nothing_written(dynamodb: Any, *tables: str) -> None:
    written = {table: len(stored(dynamodb, table)) for table in tables}
    assert written == dict.fromkeys(tables, 0)


def bad_request(result: dict[str, Any]) -> str:
    """The message of the single BadRequest a refused field answers (its data null)."""
    assert result["data"] is None, result
    [error] = result["errors"]
    assert error["errorType"] == "BadRequest", error
    message: str = error["message"]
    return message


def send(app: RestApp, method: str, path: str, caller: dict[str, Any], body: Any = None) -> tuple[int, Any]:
    response = app.resolve(proxy_event(method, path, caller, body), None)
    return response["statusCode"], json.loads(response["body"])


# -- 16.7 required fields -----------------------------------------------------------------------


def test_create_post_without_its_required_title_is_refused_and_nothing_is_written(
    callers: Callers, dynamodb: Any
) -> None:
    message = bad_request(
        callers.alice.call("Mutation", "createPost", input={"id": "p1", "body": "no title"})
    )
    assert message == "CreatePostInput: 'title' is required"
    assert_nothing_written(dynamodb, "Post", INDEX_TABLE)


def test_create_with_an_explicit_null_for_a_required_field_is_refused(
    callers: Callers, dynamodb: Any
) -> None:
    message = bad_request(
        callers.carol.call("Mutation", "createCatalogItem", input={"id": "c1", "name": None})
    )
    assert message == "CreateCatalogItemInput: 'name' may not be null"
    assert stored(dynamodb, "CatalogItem") == []


def test_update_cannot_null_a_required_field_but_may_leave_it_out(callers: Callers, dynamodb: Any) -> None:
    callers.alice.mutate("createPost", id="p1", title="kept", editors=[f"{ALICE_SUB}::alice"])
    before = stored(dynamodb, "Post")

    message = bad_request(callers.alice.call("Mutation", "updatePost", input={"id": "p1", "title": None}))
    assert message == "UpdatePostInput: 'title' may not be null"
    assert stored(dynamodb, "Post") == before

    assert callers.alice.mutate("updatePost", id="p1", body="only the body")["title"] == "kept"


def test_a_required_owner_field_is_filled_from_the_creator_or_else_required(
    callers: Callers, dynamodb: Any
) -> None:
    assert callers.alice.mutate("createDoc", id="d1", title="mine")["owner"] == "alice"
    # an API key caller has no owner to fill: a Doc without one is refused, not stored ownerless
    message = bad_request(
        callers.api_key.call("Mutation", "createDoc", input={"id": "d2", "title": "whose?"})
    )
    assert message == "CreateDocInput: 'owner' is required"
    assert [item["id"]["S"] for item in stored(dynamodb, "Doc")] == ["d1"]
    assert callers.api_key.mutate("createDoc", id="d3", title="bob's", owner="bob")["owner"] == "bob"


def test_several_missing_required_fields_are_named_together(callers: Callers) -> None:
    message = bad_request(callers.api_key.call("Mutation", "createDoc", input={"id": "d1"}))
    assert message == "CreateDocInput: 'title', 'owner' are required"


def test_rest_create_without_a_required_field_or_update_nulling_it_is_400_with_the_reason(
    rest: RestApp, dynamodb: Any
) -> None:
    status, body = send(rest, "POST", "/posts", REST_ALICE, {"id": "p1", "body": "no title"})
    assert (status, body["errorType"], body["message"]) == (
        400,
        "BadRequest",
        "CreatePostInput: 'title' is required",
    )
    assert stored(dynamodb, "Post") == []

    status, body = send(rest, "POST", "/posts", REST_ALICE, {"id": "p1", "title": "t"})
    assert status == 201, body
    status, body = send(rest, "PATCH", "/posts/p1", REST_ALICE, {"title": None})
    assert (status, body["message"]) == (400, "UpdatePostInput: 'title' may not be null")
    assert send(rest, "GET", "/posts/p1", REST_ALICE)[1]["title"] == "t"


# -- 16.7 scalar formats ------------------------------------------------------------------------


def test_values_of_every_appsync_scalar_format_are_accepted(callers: Callers, rest: RestApp) -> None:
    created = callers.alice.mutate("createReading", id="r1", label="all formats", **VALID)
    assert {name: created[name] for name in VALID} == VALID
    status, body = send(rest, "POST", "/readings", REST_ALICE, {"id": "r2", "label": "rest", **VALID})
    assert status == 201, body


@pytest.mark.parametrize(("field", "value"), INVALID, ids=[f"{f}={v!r}" for f, v in INVALID])
def test_a_value_not_of_its_scalar_format_is_refused_on_create_and_update_and_nothing_is_written(
    callers: Callers, rest: RestApp, dynamodb: Any, field: str, value: Any
) -> None:
    expected_type = READING.field(field).type  # type: ignore[union-attr]
    message = bad_request(
        callers.alice.call("Mutation", "createReading", input={"id": "r1", "label": "x", field: value})
    )
    assert message.startswith(f"CreateReadingInput: '{field}' must be {expected_type}"), message
    assert stored(dynamodb, "Reading") == []

    callers.alice.mutate("createReading", id="r1", label="valid", **VALID)
    before = stored(dynamodb, "Reading")
    message = bad_request(callers.alice.call("Mutation", "updateReading", input={"id": "r1", field: value}))
    assert message.startswith(f"UpdateReadingInput: '{field}' must be {expected_type}"), message

    status, body = send(rest, "PATCH", "/readings/r1", REST_ALICE, {field: value})
    assert (status, body["errorType"]) == (400, "BadRequest"), body
    assert f"'{field}' must be {expected_type}" in body["message"]
    assert stored(dynamodb, "Reading") == before


def test_aws_datetime_not_a_date_is_refused_as_the_issue_reports(callers: Callers, dynamodb: Any) -> None:
    message = bad_request(
        callers.alice.call("Mutation", "createReading", input={"label": "x", "taken": "not a date"})
    )
    assert message == (
        "CreateReadingInput: 'taken' must be AWSDateTime "
        "(YYYY-MM-DDThh:mm:ss.sssZ; the offset Z or ±hh:mm is required)"
    )
    assert stored(dynamodb, "Reading") == []


# -- 16.8 values of index-served fields ---------------------------------------------------------

LIMIT = max_index_values(POST)


def editors(count: int, prefix: str = "u") -> list[str]:
    """alice and ``count - 1`` other co-owners."""
    return [f"{ALICE_SUB}::alice", *(f"{prefix}{i}" for i in range(count - 1))]


def test_the_limit_follows_from_the_transaction_size_and_covers_the_post_fields() -> None:
    assert store_module.index_fields(POST) == ("editors", "groups")
    # an update: the item + a Delete per old value + a Put per new one, at most 100 actions
    assert LIMIT is not None
    assert 1 + 2 * LIMIT <= 100 < 1 + 2 * (LIMIT + 1)


def test_a_post_with_the_most_editors_allowed_stays_updatable_by_an_admin(
    callers: Callers, dynamodb: Any
) -> None:
    assert LIMIT is not None
    callers.alice.mutate("createPost", id="p1", title="typo", editors=editors(LIMIT))
    assert len(stored(dynamodb, INDEX_TABLE)) == LIMIT

    assert callers.carol.mutate("updatePost", id="p1", title="fixed")["title"] == "fixed"
    # the largest transaction any update makes: every value replaced (1 + LIMIT + LIMIT items)
    replaced = [f"v{i}" for i in range(LIMIT)]
    assert callers.carol.mutate("updatePost", id="p1", editors=replaced)["editors"] == replaced
    assert len(stored(dynamodb, INDEX_TABLE)) == LIMIT
    assert callers.alice.error("Query", "getPost", id="p1")["errorType"] == "Unauthorized"


def test_a_post_with_one_editor_too_many_is_refused_and_nothing_is_written(
    callers: Callers, dynamodb: Any
) -> None:
    assert LIMIT is not None
    message = bad_request(
        callers.alice.call(
            "Mutation", "createPost", input={"id": "p1", "title": "t", "editors": editors(LIMIT + 1)}
        )
    )
    assert message.startswith(f"editors: at most {LIMIT} values in all across editors, groups"), message
    assert_nothing_written(dynamodb, "Post", INDEX_TABLE)


def test_editors_and_groups_share_the_limit(callers: Callers, dynamodb: Any) -> None:
    assert LIMIT is not None
    too_many = {"id": "p1", "title": "t", "editors": editors(LIMIT), "groups": ["Sales"]}
    message = bad_request(callers.alice.call("Mutation", "createPost", input=too_many))
    assert message.startswith(f"editors, groups: at most {LIMIT} values"), message
    assert stored(dynamodb, "Post") == []
    callers.alice.mutate("createPost", id="p1", title="t", editors=editors(LIMIT - 1), groups=["Sales"])


def test_an_update_past_the_limit_is_refused_and_changes_nothing(callers: Callers, dynamodb: Any) -> None:
    assert LIMIT is not None
    callers.alice.mutate("createPost", id="p1", title="t", editors=editors(LIMIT - 1))
    before = (stored(dynamodb, "Post"), stored(dynamodb, INDEX_TABLE))
    message = bad_request(
        callers.carol.call("Mutation", "updatePost", input={"id": "p1", "groups": ["A", "B"]})
    )
    assert message.startswith(f"editors, groups: at most {LIMIT} values"), message
    assert (stored(dynamodb, "Post"), stored(dynamodb, INDEX_TABLE)) == before


def test_the_issue_case_a_post_stored_with_60_editors_can_be_fixed_and_only_shrink(
    callers: Callers, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record stored before the limit existed (here: written while it is lifted) is not
    stranded: its title can be fixed (61 transaction items), its editors can only shrink."""
    with monkeypatch.context() as lifted:
        lifted.setattr(store_module, "max_index_values", lambda model: None)
        callers.alice.mutate("createPost", id="p1", title="typo", editors=editors(60))

    assert callers.carol.mutate("updatePost", id="p1", title="fixed")["title"] == "fixed"
    message = bad_request(
        callers.carol.call("Mutation", "updatePost", input={"id": "p1", "editors": editors(61)})
    )
    assert message.startswith(f"editors: at most {LIMIT} values"), message
    assert len(callers.carol.mutate("updatePost", id="p1", editors=editors(10))["editors"]) == 10
    assert len(stored(dynamodb, INDEX_TABLE)) == 10


def test_rest_applies_the_same_limit_with_400_and_keeps_the_largest_post_updatable(
    rest: RestApp, dynamodb: Any
) -> None:
    assert LIMIT is not None
    status, body = send(
        rest, "POST", "/posts", REST_ALICE, {"id": "p1", "title": "t", "editors": editors(LIMIT + 1)}
    )
    assert (status, body["errorType"]) == (400, "BadRequest"), body
    assert body["message"].startswith(f"editors: at most {LIMIT} values")
    assert_nothing_written(dynamodb, "Post", INDEX_TABLE)

    status, body = send(
        rest, "POST", "/posts", REST_ALICE, {"id": "p1", "title": "typo", "editors": editors(LIMIT)}
    )
    assert status == 201, body
    status, body = send(rest, "PATCH", "/posts/p1", REST_CAROL, {"title": "fixed"})
    assert (status, body["title"]) == (200, "fixed"), body
