"""Field types (issue 19.1) through the AppSync resolver and the REST API, on moto: enums,
custom types (nested, in lists), ``[T!]``/``[T]`` lists and defaults. Every value is judged in
one place (modelauth.validation), so both handlers give the same verdict, the same message and
the same errorType; a refused value is never stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import build_schema

from modelauth.local import create_tables
from modelauth.local.appsync import APPSYNC_PRELUDE, Invocation, LocalAppSync, RequestAuth
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.rules import CustomType, Enum, Field, Model, Schema, SchemaError, allow, root_fields
from modelauth.sdl import render
from modelauth.store import INDEX_TABLE, Store
from tests.authz import proxy_event
from tests.fixtures.types import ADDRESS, STATUS, TYPES_SCHEMA
from tests.functional.helpers import ALICE, Client
from tests.security.test_input_checks import REST_ALICE

W = "CreateTaskInput"
HOME = {"street": "1 Main St", "city": "Springfield", "zip": 12345, "geo": {"lat": 1.5, "lng": -2.25}}


@pytest.fixture
def store(dynamodb: Any) -> Store:
    tables = create_tables(dynamodb, TYPES_SCHEMA)
    return Store(dynamodb, tables, token_key=b"test-key", index_table=INDEX_TABLE)


@pytest.fixture
def graphql(store: Store) -> GraphQLApp:
    return GraphQLApp(TYPES_SCHEMA, store)


@pytest.fixture
def rest(store: Store) -> RestApp:
    return RestApp(TYPES_SCHEMA, store)


@pytest.fixture
def alice(graphql: GraphQLApp) -> Client:
    return Client(graphql, ALICE)


def send(app: RestApp, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
    event = proxy_event(method, path, REST_ALICE, body)
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    response = app.resolve(event, None)
    return response["statusCode"], json.loads(response["body"])


def raw_items(dynamodb: Any, table: str = "Task") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return items


def verdicts(alice: Client, rest: RestApp, data: dict[str, Any]) -> tuple[Any, Any]:
    """(GraphQL error or None, REST error or None) of one create of ``data``; the REST create
    uses another id, so both can succeed."""
    result = alice.call("Mutation", "createTask", input={"id": "g1", **data})
    graphql_error = result["errors"][0] if result["errors"] else None
    status, body = send(rest, "POST", "/tasks", {"id": "r1", **data})
    rest_error = None if status == 201 else (status, body["errorType"], body["message"])
    return graphql_error, rest_error


# -- the SDL ------------------------------------------------------------------------------------


def test_the_sdl_defines_enums_custom_types_and_their_inputs_as_amplify_does() -> None:
    sdl = render(TYPES_SCHEMA)
    build_schema(APPSYNC_PRELUDE + sdl)  # what `modelauth serve` does with it
    for block in (
        "enum Status {\n  OPEN\n  IN_PROGRESS\n  DONE\n}",
        "input ModelStatusInput {\n  eq: Status\n  ne: Status\n}",
        "input ModelTagListInput {\n  eq: [Tag]\n  ne: [Tag]\n  contains: Tag\n  notContains: Tag\n}",
        "type Address @aws_cognito_user_pools @aws_api_key {\n  street: String\n  city: String!\n"
        "  zip: Int\n  geo: Geo\n}",
        "input AddressInput {\n  street: String\n  city: String!\n  zip: Int\n  geo: GeoInput\n}",
        "type Geo @aws_cognito_user_pools @aws_api_key {\n  lat: Float!\n  lng: Float!\n}",
        "input ContactInput {\n  email: AWSEmail!\n  phones: [AWSPhone!]\n}",
    ):
        assert block in sdl, block
    create = sdl.split("input CreateTaskInput {")[1].split("}")[0]
    # a default makes a required field optional on create (Amplify's @default); the type keeps `!`
    assert "  title: String!\n  status: Status\n  priority: Int\n" in create
    assert "  tags: [Tag!]\n  labels: [String]\n  address: AddressInput\n  stops: [AddressInput]\n" in create
    assert "  status: Status!\n" in sdl.split("type Task ")[1].split("}")[0]
    task_filter = sdl.split("input ModelTaskFilterInput {")[1].split("}")[0]
    assert "  status: ModelStatusInput\n" in task_filter
    assert "  tags: ModelTagListInput\n" in task_filter
    assert "address" not in task_filter
    assert "contact" not in task_filter
    assert sdl.count("enum Status {") == 1
    assert sdl.count("type Address ") == 1


# -- values: the same verdict through GraphQL and REST ------------------------------------------

VALID = [
    {"title": "t", "status": "DONE"},
    {"title": "t", "tags": ["HOME", "URGENT"], "labels": ["a", None]},
    {"title": "t", "address": HOME},
    {"title": "t", "address": {"city": "Only a city"}},
    {"title": "t", "stops": [HOME, {"city": "B"}, None], "contact": {"email": "a@b.co", "phones": []}},
    {"title": "t", "contact": {"email": "a@b.co", "phones": ["+1 206-555-0100"]}, "due": "2026-12-03T07:20Z"},
]
INVALID = [
    ({"title": "t", "status": "CLOSED"}, f"{W}: 'status' must be Status (one of OPEN, IN_PROGRESS, DONE)"),
    ({"title": "t", "status": "open"}, f"{W}: 'status' must be Status (one of OPEN, IN_PROGRESS, DONE)"),
    ({"title": "t", "status": 1}, f"{W}: 'status' must be Status (one of OPEN, IN_PROGRESS, DONE)"),
    ({"title": "t", "tags": ["HOME", "NOPE"]}, f"{W}: 'tags[1]' must be Tag (one of HOME, WORK, URGENT)"),
    ({"title": "t", "tags": ["HOME", None]}, f"{W}: 'tags[1]' may not be null"),
    ({"title": "t", "tags": "HOME"}, f"{W}: 'tags' must be a list of at most 1000 Tag values"),
    ({"title": "t", "labels": [1]}, f"{W}: 'labels[0]' must be String (at most 64 KiB)"),
    ({"title": "t", "address": "1 Main St"}, f"{W}: 'address' must be an object of type AddressInput"),
    ({"title": "t", "address": {"street": "x"}}, f"{W}: 'address.city' is required"),
    ({"title": "t", "address": {"city": None}}, f"{W}: 'address.city' may not be null"),
    ({"title": "t", "address": {"city": "c", "zip": "12345"}}, f"{W}: 'address.zip' must be Int (a whole"),
    (
        {"title": "t", "address": {"city": "c", "country": "US"}},
        f"{W}: 'address': The variables input contains a field name 'country' that is not defined for "
        "input object type 'AddressInput'",
    ),
    ({"title": "t", "address": {"city": "c", "geo": {"lat": 1}}}, f"{W}: 'address.geo.lng' is required"),
    ({"title": "t", "stops": [HOME, {"zip": 1}]}, f"{W}: 'stops[1].city' is required"),
    (
        {"title": "t", "contact": {"email": "a@b.co", "phones": ["call me"]}},
        f"{W}: 'contact.phones[0]' must be AWSPhone",
    ),
    ({"title": "t", "contact": {"phones": []}}, f"{W}: 'contact.email' is required"),
    ({"title": "t", "priority": "high"}, f"{W}: 'priority' must be Int"),
    ({"status": "OPEN"}, f"{W}: 'title' is required"),
]


@pytest.mark.parametrize("data", VALID, ids=[",".join(d) for d in VALID])
def test_valid_values_are_stored_and_read_back_the_same_through_graphql_and_rest(
    alice: Client, rest: RestApp, data: dict[str, Any]
) -> None:
    assert verdicts(alice, rest, data) == (None, None)
    got = alice.query("getTask", id="g1")
    status, body = send(rest, "GET", "/tasks/r1")
    assert status == 200
    for name, value in data.items():
        assert got[name] == value == body[name], name


@pytest.mark.parametrize(("data", "message"), INVALID, ids=[m.split(": ", 1)[1][:40] for _, m in INVALID])
def test_an_invalid_value_gets_the_same_bad_request_from_graphql_and_rest_and_nothing_is_stored(
    alice: Client, rest: RestApp, dynamodb: Any, data: dict[str, Any], message: str
) -> None:
    graphql_error, rest_error = verdicts(alice, rest, data)
    assert graphql_error is not None
    assert rest_error is not None
    assert graphql_error["errorType"] == "BadRequest"
    assert graphql_error["message"].startswith(message), graphql_error
    assert rest_error == (400, "BadRequest", graphql_error["message"])
    assert raw_items(dynamodb) == []


def test_an_update_is_judged_the_same_way_and_replaces_a_custom_type_whole(
    alice: Client, rest: RestApp, dynamodb: Any
) -> None:
    alice.mutate("createTask", id="g1", title="t", address=HOME)
    before = raw_items(dynamodb)
    result = alice.call("Mutation", "updateTask", input={"id": "g1", "address": {"street": "no city"}})
    status, body = send(rest, "PATCH", "/tasks/g1", {"address": {"street": "no city"}})
    assert result["errors"][0]["message"] == body["message"] == "UpdateTaskInput: 'address.city' is required"
    assert status == 400
    assert raw_items(dynamodb) == before
    # a required field with a default may be left out of an update, but not nulled
    result = alice.call("Mutation", "updateTask", input={"id": "g1", "status": None})
    assert result["errors"][0]["message"] == "UpdateTaskInput: 'status' may not be null"
    updated = alice.mutate("updateTask", id="g1", address={"city": "Shelbyville"})
    assert updated["address"] == {"city": "Shelbyville"}


def test_custom_types_are_stored_as_dynamodb_maps_and_lists(alice: Client, dynamodb: Any) -> None:
    alice.mutate("createTask", id="g1", title="t", address=HOME, stops=[HOME], tags=["WORK"])
    [item] = raw_items(dynamodb)
    assert item["address"]["M"]["geo"]["M"]["lat"] == {"N": "1.5"}
    assert item["stops"]["L"][0]["M"]["city"] == {"S": "Springfield"}
    assert item["tags"] == {"L": [{"S": "WORK"}]}
    assert item["status"] == {"S": "OPEN"}


# -- defaults -----------------------------------------------------------------------------------


def test_defaults_fill_a_create_that_leaves_the_field_out_or_sends_null(alice: Client, rest: RestApp) -> None:
    created = alice.mutate("createTask", id="g1", title="t")
    assert (created["status"], created["priority"]) == ("OPEN", 3)
    created = alice.mutate("createTask", id="g2", title="t", status=None, priority=None)
    assert (created["status"], created["priority"]) == ("OPEN", 3)
    created = alice.mutate("createTask", id="g3", title="t", status="DONE", priority=1)
    assert (created["status"], created["priority"]) == ("DONE", 1)
    status, body = send(rest, "POST", "/tasks", {"id": "r1", "title": "t"})
    assert (status, body["status"], body["priority"]) == (201, "OPEN", 3)
    # an update never applies a default: the stored value stays
    assert alice.mutate("updateTask", id="g3", title="u")["status"] == "DONE"


# -- enums in filters ---------------------------------------------------------------------------


def test_enum_filters_compare_members_and_refuse_other_values(alice: Client, rest: RestApp) -> None:
    alice.mutate("createTask", id="t1", title="a", status="OPEN", tags=["HOME"])
    alice.mutate("createTask", id="t2", title="b", status="DONE", tags=["WORK", "URGENT"])
    alice.mutate("createTask", id="t3", title="c", status="DONE", tags=[])

    def ids(filter_input: dict[str, Any]) -> list[str]:
        got = sorted(i["id"] for i in alice.query("listTasks", filter=filter_input)["items"])
        status, body = send(rest, "GET", "/tasks", query={"filter": json.dumps(filter_input)})
        assert status == 200
        assert sorted(i["id"] for i in body["items"]) == got
        return got

    assert ids({"status": {"eq": "DONE"}}) == ["t2", "t3"]
    assert ids({"status": {"ne": "DONE"}}) == ["t1"]
    assert ids({"tags": {"contains": "URGENT"}}) == ["t2"]
    assert ids({"tags": {"eq": ["WORK", "URGENT"]}}) == ["t2"]
    assert ids({"or": [{"status": {"eq": "OPEN"}}, {"tags": {"notContains": "HOME"}}]}) == ["t1", "t2", "t3"]

    for filter_input, message in [
        ({"status": {"eq": "CLOSED"}}, "filter: 'status.eq' must be Status (one of OPEN, IN_PROGRESS, DONE)"),
        ({"status": {"beginsWith": "O"}}, "filter: unknown operator 'beginsWith' on 'status' (an Status"),
        ({"tags": {"contains": "NOPE"}}, "filter: 'tags.contains' must be Tag (one of HOME, WORK, URGENT)"),
        ({"tags": {"eq": "HOME"}}, "filter: 'tags.eq' must be a list of Tag"),
        ({"not": {"status": {"eq": 3}}}, "filter: 'status.eq' must be Status"),
        ({"address": {"eq": "x"}}, "filter: unknown field 'address'"),
    ]:
        error = alice.error("Query", "listTasks", filter=filter_input)
        status, body = send(rest, "GET", "/tasks", query={"filter": json.dumps(filter_input)})
        assert error["errorType"] == body["errorType"] == "BadRequest", (error, body)
        assert error["message"] == body["message"], (error, body)
        assert error["message"].startswith(message), error
        assert status == 400


# -- the local endpoint (the engine of `modelauth serve`) -----------------------------------------


def test_the_local_endpoint_accepts_the_sdl_and_passes_enums_and_input_objects_on(
    graphql: GraphQLApp,
) -> None:
    resolvers = {(r.type_name, r.field_name): "Fn" for m in TYPES_SCHEMA.models for r in root_fields(m)}
    local = LocalAppSync(
        render(TYPES_SCHEMA),
        default_mode="AMAZON_COGNITO_USER_POOLS",
        resolvers=resolvers,
        invoke=lambda function, event: Invocation(graphql.resolve(event, None), "in-process"),
    )
    auth = RequestAuth("AMAZON_COGNITO_USER_POOLS", ALICE, "alice")
    mutation = (
        'mutation { createTask(input: {id: "l1", title: "t", tags: [URGENT], '
        'address: {city: "C", geo: {lat: 1, lng: 2}}}) { id status tags address { city geo { lat lng } } } }'
    )
    response = local.execute({"query": mutation}, auth, headers={}, source_ip="127.0.0.1")
    assert response.body == {
        "data": {
            "createTask": {
                "id": "l1",
                "status": "OPEN",
                "tags": ["URGENT"],
                "address": {"city": "C", "geo": {"lat": 1.0, "lng": 2.0}},
            }
        }
    }
    listed = local.execute(
        {"query": "{ listTasks(filter: {status: {eq: OPEN}}) { items { id } } }"},
        auth,
        headers={},
        source_ip="127.0.0.1",
    )
    assert listed.body == {"data": {"listTasks": {"items": [{"id": "l1"}]}}}


# -- bad definitions: SchemaError at build time ---------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Field("due", "AWSDateTime", default="tomorrow"),
            'Default value "tomorrow" is not a valid AWSDateTime.',
        ),
        (lambda: Field("n", "Int", default="3"), 'Default value "3" is not a valid Int.'),
        (
            lambda: Field("s", STATUS, default="CLOSED"),
            'Default value "CLOSED" is not a member of Status enum.',
        ),
        (lambda: Field("t", is_list=True, default="x"), "may only be added to scalar or enum field types"),
        (lambda: Field("a", ADDRESS, default="x"), "may only be added to scalar or enum field types"),
        (lambda: Field("s", "Status"), "unsupported type 'Status' (give the Enum or CustomType itself"),
        (lambda: Field("s", "Strin"), "unsupported type 'Strin'"),
        (lambda: Field("s", items_required=True), "items_required is for list fields"),
        (lambda: Enum("Empty", []), "enum Empty: give a non-empty list of values"),
        (lambda: Enum("E", ["A", "A"]), "enum E: duplicate values"),
        (lambda: Enum("E", ["a-b"]), "enum E: value 'a-b' is not a GraphQL enum value"),
        (lambda: Enum("E", ["null"]), "enum E: value 'null' is not a GraphQL enum value"),
        (lambda: Enum("Query", ["A"]), "is a GraphQL root type or scalar"),
        (lambda: CustomType("Bare", []), "custom type Bare: give at least one field"),
        (lambda: CustomType("C", [Field("a"), Field("a")]), "custom type C: duplicate field names"),
        (
            lambda: CustomType("C", [Field("a", rules=[allow.owner()])]),
            "fields of a custom type take no rules",
        ),
        (lambda: CustomType("C", [Field("a", default="x")]), "annotated with @model"),
        (
            lambda: Schema(
                [
                    Model(
                        "M",
                        fields=[Field("a", Enum("S", ["A"])), Field("b", Enum("S", ["B"]))],
                        rules=[allow.owner()],
                    )
                ]
            ),
            "two different types are named S",
        ),
        (
            lambda: Schema([Model("Address", fields=[Field("a", ADDRESS)], rules=[allow.owner()])]),
            "custom type Address: the type Address is already defined by model Address",
        ),
        (
            lambda: Schema(
                [
                    Model(
                        "M",
                        fields=[Field("a", CustomType("ModelString", [Field("x")]))],
                        rules=[allow.owner()],
                    )
                ]
            ),
            "the type ModelStringInput is already defined by the filter inputs",
        ),
        (
            lambda: Model("M", fields=[Field("owner", default="alice")], rules=[allow.owner()]),
            "take no default",
        ),
    ],
)
def test_bad_definitions_are_schema_errors_with_a_clear_message(build: Any, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        build()
    assert message in str(caught.value)


def test_one_enum_used_by_two_models_is_defined_once() -> None:
    models = [Model(n, fields=[Field("s", STATUS)], rules=[allow.owner()]) for n in ("A", "B")]
    assert Schema(models).types == (STATUS,)
