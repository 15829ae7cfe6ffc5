"""Filters and conditions are no oracle on fields the caller may not read (issue 16.1).

The attack: bob (signed in, not the owner) lists Profiles with
``{and: [{id: {eq: "pa"}}, {ssn: {beginsWith: "<prefix>"}}]}``; before the fix alice's Profile
came back (``ssn: null``) exactly when the prefix was right, so a few dozen calls spelled out her
SSN. A filter or a write's condition naming a field the caller may not read on every item the
request could match is now refused as ``Unauthorized on [ssn]`` before anything is read: through
the GraphQL handler, the REST/HTTP handler and the local endpoint over HTTP, on every list path
(scan, owner index, index items). Fields readable on every item still filter as before.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, reject, settings
from hypothesis import strategies as st

from modelauth.local import create_tables
from modelauth.policy import decide, denied_read_fields, unreadable_fields
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.rules import Field, Model, Operation, Schema, SchemaError, allow
from modelauth.store import INDEX_TABLE, Store
from tests.authz import proxy_event
from tests.fixtures.schema import SCHEMA
from tests.functional.helpers import ALICE, BOB, Client, user
from tests.local.conftest import Client as HttpClient
from tests.local.conftest import backend, clients, server, template  # noqa: F401  (fixtures)
from tests.security.test_hostile_apigw_events import BOB_HTTP_JWT, BOB_SUB, http_event, user_pool_claims
from tests.unit.test_authorizer_tokens import ALICE_SUB
from tests.unit.test_policy_properties import Caller, Spec, callers, items, rule_lists, specs

SSN = "123-45-6789"
REFUSED_SSN = {"message": "Unauthorized on [ssn]", "errorType": "Unauthorized"}
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
HANA = user("hana", "h8", ("HR",))  # HR: updates and deletes every Employee, may not read ssn


def prefix_filter(prefix: str) -> dict[str, Any]:
    """The filter of the attack as the issue writes it."""
    return {"and": [{"id": {"eq": "pa"}}, {"ssn": {"beginsWith": prefix}}]}


@pytest.fixture
def reads(dynamodb: Any) -> Iterator[list[str]]:
    """The DynamoDB reads made through the test client (clear it after the setup)."""
    calls: list[str] = []

    def record(**kwargs: Any) -> None:
        if kwargs["model"].name in READS:
            calls.append(kwargs["model"].name)

    dynamodb.meta.events.register("before-call.dynamodb", record)
    yield calls
    dynamodb.meta.events.unregister("before-call.dynamodb", record)


@pytest.fixture
def alices_profile(graphql_app: GraphQLApp, reads: list[str]) -> dict[str, Any]:
    """alice's Profile ``pa`` with her SSN, and bob's own."""
    Client(graphql_app, BOB).mutate("createProfile", id="pb", name="Bob", ssn="987-65-4321")
    profile = Client(graphql_app, ALICE).mutate("createProfile", id="pa", name="Alice", ssn=SSN)
    reads.clear()
    return dict(profile)


# -- the attack, through the GraphQL handler -------------------------------------------------------


def test_bob_cannot_recover_alices_ssn_with_begins_with_filters(
    graphql_app: GraphQLApp, alices_profile: dict[str, Any], reads: list[str]
) -> None:
    bob = Client(graphql_app, BOB)
    answers = {
        prefix: bob.call("Query", "listProfiles", filter=prefix_filter(prefix)) for prefix in "0123456789"
    }
    answers["right prefix"] = bob.call("Query", "listProfiles", filter=prefix_filter(SSN[:5]))
    for answer in answers.values():
        assert answer == {"data": None, "errors": [REFUSED_SSN]}  # the right prefix answers the same
    assert reads == []


SSN_FILTERS = {
    "attributeExists true": {"ssn": {"attributeExists": True}},
    "attributeExists false": {"ssn": {"attributeExists": False}},
    "eq": {"ssn": {"eq": SSN}},
    "ne": {"ssn": {"ne": SSN}},
    "between": {"ssn": {"between": ["1", "2"]}},
    "contains": {"ssn": {"contains": "45"}},
    "beside a readable field": {"name": {"eq": "Alice"}, "ssn": {"gt": "1"}},
    "in an or": {"or": [{"name": {"eq": "nobody"}}, {"ssn": {"eq": SSN}}]},
    "under a not": {"not": {"ssn": {"beginsWith": "1"}}},
    "deep in and/or/not": {
        "and": [
            {"id": {"eq": "pa"}},
            {"or": [{"not": {"and": [{"ssn": {"lt": "2"}}]}}, {"name": {"eq": "x"}}]},
        ]
    },
}


@pytest.mark.parametrize("filter_input", SSN_FILTERS.values(), ids=SSN_FILTERS.keys())
def test_every_filter_naming_ssn_is_refused_for_bob(
    graphql_app: GraphQLApp, alices_profile: dict[str, Any], reads: list[str], filter_input: Any
) -> None:
    assert Client(graphql_app, BOB).error("Query", "listProfiles", filter=filter_input) == REFUSED_SSN
    assert reads == []


def test_even_alice_may_not_filter_on_ssn_since_other_profiles_hide_it(
    graphql_app: GraphQLApp, alices_profile: dict[str, Any], reads: list[str]
) -> None:
    """ssn is readable on her own Profile only; listProfiles also matches bob's."""
    assert (
        Client(graphql_app, ALICE).error("Query", "listProfiles", filter={"ssn": {"eq": SSN}}) == REFUSED_SSN
    )
    assert reads == []


def test_filters_on_fields_readable_everywhere_still_work(
    graphql_app: GraphQLApp, alices_profile: dict[str, Any]
) -> None:
    bob, alice = Client(graphql_app, BOB), Client(graphql_app, ALICE)
    found = bob.call(
        "Query", "listProfiles", filter={"and": [{"id": {"eq": "pa"}}, {"name": {"beginsWith": "Al"}}]}
    )
    assert [item["id"] for item in found["data"]["items"]] == ["pa"]
    assert found["data"]["items"][0]["ssn"] is None  # still nulled, with its usual field error
    own = alice.query(
        "listProfiles", filter={"and": [{"name": {"beginsWith": "A"}}, {"not": {"id": {"ne": "pa"}}}]}
    )
    assert [(item["id"], item["ssn"]) for item in own["items"]] == [("pa", SSN)]


@pytest.mark.parametrize(
    "argument",
    [{"ssn": {"beginsWith": "1"}}, {"sortDirection": "ASC", "ssn": {"eq": SSN}}],
    ids=["key condition", "sort key condition"],
)
def test_lists_take_no_key_or_sort_conditions_to_slip_a_field_past_the_check(
    graphql_app: GraphQLApp, alices_profile: dict[str, Any], reads: list[str], argument: dict[str, Any]
) -> None:
    error = Client(graphql_app, BOB).error("Query", "listProfiles", **argument)
    assert error["errorType"] == "BadRequest"
    assert "unknown argument" in error["message"]
    assert reads == []


# -- every list path: scan, owner index, index items -------------------------------------------------

DIARY = Model(  # owner-only: a signed-in caller's list is a Query on the owner index
    "Diary",
    fields=[
        Field("title"),
        Field("grade", rules=[allow.group("Teachers"), allow.owner().to(["create", "update"])]),
        Field("secret", rules=[allow.owner()]),
    ],
    rules=[allow.owner()],
)
CASE = Model(  # co-owners in a list field: an editor's list reads index items
    "Case",
    fields=[
        Field("title"),
        Field("verdict", rules=[allow.group("Judges"), allow.owners_defined_in("editors").to(["create"])]),
    ],
    rules=[allow.owners_defined_in("editors"), allow.group("Judges")],
)
EMPLOYEE = Model(  # HR updates and deletes every record but may not read ssn
    "Employee",
    fields=[Field("name"), Field("ssn", rules=[allow.owner(), allow.group("HR").to(["update", "delete"])])],
    rules=[allow.owner(), allow.group("HR").to(["read", "update", "delete"])],
)
FIXTURES = Schema(models=(DIARY, CASE, EMPLOYEE))


@pytest.fixture
def fixture_app(dynamodb: Any, reads: list[str]) -> GraphQLApp:
    """The resolver over the fixture models, bob's Diary and Case (alice co-edits the Case) and
    alice's Employee record."""
    app = GraphQLApp(
        FIXTURES, Store(dynamodb, create_tables(dynamodb, FIXTURES), token_key=b"k", index_table=INDEX_TABLE)
    )
    bob, alice = Client(app, BOB), Client(app, ALICE)
    writes = [
        bob.call(
            "Mutation", "createDiary", input={"id": "d1", "title": "monday", "grade": "A", "secret": "s"}
        ),
        bob.call(
            "Mutation",
            "createCase",
            input={"id": "c1", "title": "theft", "verdict": "guilty", "editors": ["b2::bob", "a1::alice"]},
        ),
        alice.call("Mutation", "createEmployee", input={"id": "e1", "name": "Alice", "ssn": SSN}),
    ]
    assert all(write["data"] is not None for write in writes), writes  # stored (write-only fields: errors)
    reads.clear()
    return app


LIST_PATHS = {
    "owner index: a group-only field": ("listDiarys", {"grade": {"eq": "A"}}, "grade"),
    "index items: a group-only field": ("listCases", {"or": [{"verdict": {"beginsWith": "g"}}]}, "verdict"),
}


@pytest.mark.parametrize(("field", "filter_input", "denied"), LIST_PATHS.values(), ids=LIST_PATHS.keys())
def test_filters_on_unreadable_fields_are_refused_on_every_list_path(
    fixture_app: GraphQLApp, reads: list[str], field: str, filter_input: Any, denied: str
) -> None:
    error = Client(fixture_app, BOB).error("Query", field, filter=filter_input)
    assert error == {"message": f"Unauthorized on [{denied}]", "errorType": "Unauthorized"}
    assert reads == []


READABLE_PATHS = {
    "owner index: a field readable on every own item": ("listDiarys", {"secret": {"eq": "s"}}, ["d1"]),
    "owner index: a plain field": ("listDiarys", {"not": {"title": {"ne": "monday"}}}, ["d1"]),
    "index items: a plain field": ("listCases", {"title": {"beginsWith": "th"}}, ["c1"]),
}


@pytest.mark.parametrize(("field", "filter_input", "ids"), READABLE_PATHS.values(), ids=READABLE_PATHS.keys())
def test_filters_on_fields_readable_on_every_listed_item_work_on_every_list_path(
    fixture_app: GraphQLApp, field: str, filter_input: Any, ids: list[str]
) -> None:
    page = Client(fixture_app, BOB).call("Query", field, filter=filter_input)["data"]
    assert [item["id"] for item in page["items"]] == ids


# -- conditions on update and delete ----------------------------------------------------------------


@pytest.mark.parametrize("field", ["updateEmployee", "deleteEmployee"])
@pytest.mark.parametrize(
    "condition",
    [{"ssn": {"beginsWith": "1"}}, {"not": {"ssn": {"attributeExists": False}}}],
    ids=["plain", "not"],
)
def test_a_write_condition_on_a_field_the_writer_may_not_read_is_refused(
    fixture_app: GraphQLApp, reads: list[str], field: str, condition: Any
) -> None:
    error = Client(fixture_app, HANA).error("Mutation", field, input={"id": "e1"}, condition=condition)
    assert error == REFUSED_SSN
    assert reads == []


def test_a_write_condition_on_readable_fields_is_judged_with_the_write(fixture_app: GraphQLApp) -> None:
    """Once no field is unreadable, the condition is part of the write's ConditionExpression."""
    hana = Client(fixture_app, HANA)
    error = hana.error(
        "Mutation", "updateEmployee", input={"id": "e1", "name": "A"}, condition={"name": {"eq": "Bob"}}
    )
    assert error == {
        "message": "The conditional request failed",
        "errorType": "DynamoDB:ConditionalCheckFailedException",
    }
    updated = hana.call(
        "Mutation", "updateEmployee", input={"id": "e1", "name": "A"}, condition={"name": {"eq": "Alice"}}
    )["data"]
    assert (updated["name"], updated["_version"]) == ("A", 2)


# -- the REST / HTTP API ------------------------------------------------------------------------------


@pytest.fixture
def rest_app(store: Store, reads: list[str]) -> RestApp:
    """The REST function's app on moto with alice's Profile ``pa``, created over REST."""
    app = RestApp(SCHEMA, store)
    alice = {"claims": user_pool_claims(ALICE_SUB, "alice")}
    created = app.resolve(
        proxy_event("POST", "/profiles", alice, {"id": "pa", "name": "Alice", "ssn": SSN}), None
    )
    assert created["statusCode"] == 201, created
    reads.clear()
    return app


def with_query(event: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """A proxy event carrying ``params`` as API Gateway passes a query string."""
    event["queryStringParameters"] = params
    if event.get("version") == "2.0":
        event["rawQueryString"] = urllib.parse.urlencode(params)
    else:
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()}
    return event


def rest_list(app: RestApp, event: dict[str, Any], filter_input: Any) -> tuple[int, Any]:
    response = app.resolve(with_query(event, {"filter": json.dumps(filter_input)}), None)
    return response["statusCode"], json.loads(response["body"])


CALLERS = {
    "HTTP API, JWT authorizer": lambda: http_event("GET", "/profiles", BOB_HTTP_JWT),
    "REST API, Cognito authorizer": lambda: proxy_event(
        "GET", "/profiles", {"claims": user_pool_claims(BOB_SUB, "bob")}
    ),
}


@pytest.mark.parametrize("event", CALLERS.values(), ids=CALLERS.keys())
def test_get_profiles_with_an_ssn_prefix_filter_is_refused(
    rest_app: RestApp, reads: list[str], event: Any
) -> None:
    for prefix in ("1", "9", SSN[:5]):
        assert rest_list(rest_app, event(), prefix_filter(prefix)) == (403, REFUSED_SSN)
    assert reads == []
    status, body = rest_list(rest_app, event(), {"and": [{"id": {"eq": "pa"}}, {"name": {"eq": "Alice"}}]})
    assert (status, [item["id"] for item in body["items"]]) == (200, ["pa"])


# -- the local endpoint, over HTTP --------------------------------------------------------------------

LIST_QUERY = "query ($f: ModelProfileFilterInput) { listProfiles(filter: $f) { items { id name ssn } } }"


def test_the_local_endpoint_refuses_the_ssn_prefix_filter(clients: dict[str, HttpClient]) -> None:  # noqa: F811
    profile = f"pa-{uuid.uuid4().hex[:8]}"
    clients["alice"].data(
        f'mutation {{ createProfile(input: {{id: "{profile}", name: "Alice", ssn: "{SSN}"}}) {{ id }} }}'
    )
    for prefix in ("1", "9"):
        attack = {"and": [{"id": {"eq": profile}}, {"ssn": {"beginsWith": prefix}}]}
        error = clients["bob"].error(LIST_QUERY, {"f": attack})
        assert (error["message"], error["errorType"]) == ("Unauthorized on [ssn]", "Unauthorized")
    readable = {"and": [{"id": {"eq": profile}}, {"name": {"eq": "Alice"}}]}
    found = clients["bob"].post(LIST_QUERY, {"f": readable}).json()  # ssn nulled with its field error
    assert found["data"] == {"listProfiles": {"items": [{"id": profile, "name": "Alice", "ssn": None}]}}


# -- the property: results never depend on what the caller can't read ----------------------------------

DOSSIER = Model(  # every signed-in user lists all (a Scan); three kinds of field rule
    "Dossier",
    fields=[
        Field("name"),
        Field("rank", "Int"),
        Field("ssn", rules=[allow.owner()]),
        Field("note", rules=[allow.owner(), allow.group("HR").to(["read"])]),
        Field("badge", rules=[allow.authenticated().to(["read"]), allow.owner()]),
    ],
    rules=[allow.authenticated().to(["read"]), allow.owner()],
)
PROPERTY_MODELS = {"Dossier": DOSSIER, "Diary": DIARY}
PROPERTY_CALLERS = {"alice": ALICE, "bob": BOB, "hana": HANA}
TEXT = st.sampled_from(["1", "12", "123-45", "a", "alice", "zz", "B"])
STRING_FIELDS = {
    "Dossier": ["id", "name", "ssn", "note", "badge", "owner"],
    "Diary": ["id", "title", "grade", "secret"],
}
# what the tables' items hold (id, owner, then fields); only unreadable values differ between tables
ROWS = {
    "Dossier": [
        (f"x{i}", owner, {"name": n, "rank": i, "ssn": f"{i}23-45", "note": n, "badge": "B"})
        for i, (owner, n) in enumerate(
            [
                ("a1::alice", "a"),
                ("b2::bob", "alice"),
                ("h8::hana", "zz"),
                ("c3::carol", "a"),
                ("a1::alice", "B"),
            ]
        )
    ],
    "Diary": [
        (f"y{i}", owner, {"title": t, "grade": "A", "secret": "12"})
        for i, (owner, t) in enumerate([("a1::alice", "a"), ("b2::bob", "alice"), ("b2::bob", "zz")])
    ],
}


def may_read(caller: str, model: str, field: str, owner: str) -> bool:
    """The fixture rules, spelt out by hand: may ``caller`` read ``field`` of an item of ``owner``?"""
    own = owner.endswith("::" + caller)
    if model == "Diary":
        return own and field != "grade"  # the owner writes grade, only Teachers read it
    if field == "ssn":
        return own
    if field == "note":
        return own or caller == "hana"
    return True


def leaf(model: str) -> st.SearchStrategy[dict[str, Any]]:
    strings = st.sampled_from(STRING_FIELDS[model])
    string_op = st.one_of(
        st.tuples(st.sampled_from(["eq", "ne", "beginsWith", "contains", "notContains", "lt", "gt"]), TEXT),
        st.tuples(st.just("attributeExists"), st.booleans()),
        st.tuples(st.just("between"), st.lists(TEXT, min_size=2, max_size=2).map(sorted)),
    )
    int_op = st.one_of(
        st.tuples(st.sampled_from(["eq", "ne", "le", "ge"]), st.integers(0, 5)),
        st.tuples(st.just("attributeExists"), st.booleans()),
    )
    text_leaf = st.tuples(strings, string_op).map(lambda t: {t[0]: {t[1][0]: t[1][1]}})
    if model == "Diary":
        return text_leaf
    return st.one_of(text_leaf, int_op.map(lambda op: {"rank": {op[0]: op[1]}}))


def filters(model: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaf(model),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: {"and": fs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: {"or": fs}),
            inner.map(lambda f: {"not": f}),
        ),
        max_leaves=6,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], dict[tuple[str, str], str | None]]:
    """A model, a caller, a filter, and other values (None: absent) for what the caller can't read."""
    model = draw(st.sampled_from(sorted(PROPERTY_MODELS)))
    caller = draw(st.sampled_from(["alice", "bob"] if model == "Diary" else sorted(PROPERTY_CALLERS)))
    hidden: dict[tuple[str, str], str | None] = {}
    for item_id, owner, values in ROWS[model]:
        for name in values:
            if name != "rank" and not may_read(caller, model, name, owner):
                hidden[(item_id, name)] = draw(st.none() | TEXT)
    return model, caller, draw(filters(model)), hidden


def put_rows(dynamodb: Any, model: str, table: str, hidden: dict[tuple[str, str], str | None]) -> None:
    for item_id, owner, values in ROWS[model]:
        item = {
            "id": item_id,
            "owner": owner,
            "createdAt": f"2026-12-0{item_id[1]}T00:00:00.000Z",
            "_version": 1,
        }
        for name, value in values.items():
            value = hidden.get((item_id, name), value)
            if value is not None:
                item[name] = value
        wire = {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in item.items()}
        dynamodb.put_item(TableName=table, Item=wire)


def listed(app: GraphQLApp, model: str, caller: str, filter_input: dict[str, Any]) -> Any:
    result = Client(app, PROPERTY_CALLERS[caller]).call(
        "Query", f"list{model}s", filter=filter_input, limit=100
    )
    if result["data"] is None:
        return ("refused", result["errors"])
    assert result["data"]["nextToken"] is None
    return sorted(item["id"] for item in result["data"]["items"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_listed_ids_never_depend_on_values_the_caller_cannot_read(
    dynamodb: Any, case: tuple[str, str, dict[str, Any], dict[tuple[str, str], str | None]]
) -> None:
    model, caller, filter_input, hidden = case
    schema = Schema(models=tuple(PROPERTY_MODELS.values()))
    apps = []
    for side, values in (("A", {}), ("B", hidden)):
        tables = create_tables(dynamodb, schema, {name: f"{name}{side}" for name in PROPERTY_MODELS})
        put_rows(dynamodb, model, tables[model], values)
        apps.append(GraphQLApp(schema, Store(dynamodb, tables, token_key=b"k")))
    original, changed = (listed(app, model, caller, filter_input) for app in apps)
    assert original == changed, (filter_input, hidden)
    event(f"{model}: " + ("refused" if isinstance(original, tuple) else f"listed {min(len(original), 2)}+"))


FIELD_OPERATIONS = st.sets(st.sampled_from(["read", "create", "update", "delete"]), min_size=1).map(sorted)
WRITES = {Operation.UPDATE, Operation.DELETE}


@settings(max_examples=150, deadline=None)
@given(
    callers(),
    rule_lists,
    st.lists(st.tuples(specs(), FIELD_OPERATIONS), min_size=1, max_size=3),
    st.sampled_from([Operation.LIST, Operation.GET, Operation.UPDATE, Operation.DELETE]),
    st.lists(items, min_size=1, max_size=4),
)
def test_a_field_a_filter_may_name_is_readable_on_every_item_the_request_can_touch(
    caller: Caller,
    rules: list[Spec],
    field_rules: list[tuple[Spec, list[str]]],
    op: Operation,
    stored: list[dict[str, Any]],
) -> None:
    """The check against the per-item read check it stands in for, over generated rules:
    what ``unreadable_fields`` lets through is never nulled on an item the decision permits."""
    try:
        secret = Field("secret", rules=[spec.build().to(ops) for spec, ops in field_rules])
        model = Model("Thing", fields=[Field("title"), secret], rules=[spec.build() for spec in rules])
    except SchemaError:
        reject()
    principal = caller.principal()
    decision = decide(principal, model, op)
    assume(decision.allowed)
    read_op = Operation.GET if op in WRITES else op
    allowed = {"title", "secret", "owner"} - unreadable_fields(
        principal, model, read_op, ["title", "secret", "owner"], scope=decision.constraint
    )
    event(f"allowed: {sorted(allowed)}")
    for item in stored:
        if decision.permits(item):
            assert not allowed & denied_read_fields(principal, model, read_op, item), (item, allowed)
