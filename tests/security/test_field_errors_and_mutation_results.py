"""Answers that must match Amplify's (issue 16.5, 16.6), through the GraphQL handler with the
events AppSync sends (``info.selectionSetList`` included) and through the local AppSync engine.

16.5: a denied field is reported (``Not Authorized to access <field> on type <Type>``) only when
the client selected it: Amplify's clients throw on any error, so an error for a field nobody
asked for fails a correct query. 16.6: a mutation result nulls a field only when some reader of
the model may not read it; what every reader may read is returned, to the caller and to every
subscriber, and nothing else is.

Employee is the model of Amplify's own per-field e2e test (PerFieldAuthV2Transformer), where
``getEmployee { id e_mail bio }`` by a signed-in non-owner gets exactly one error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelauth.local import appsync_event, create_tables
from modelauth.local.appsync import Invocation, LocalAppSync, RequestAuth
from modelauth.resolvers import GraphQLApp
from modelauth.rules import Field, Model, Schema, allow
from modelauth.sdl import render
from modelauth.store import INDEX_TABLE, Store
from tests.functional.helpers import ALICE, BOB, CAROL, DAVE, user

ADMIN_WRITES = allow.group("Admin").to(["create", "update", "read"])
EMPLOYEE_OWNER = allow.owner_defined_in("e_mail").to(["read"])
EMPLOYEE = Model(
    "Employee",
    fields=[
        Field("bio"),
        Field("e_mail", rules=[ADMIN_WRITES, EMPLOYEE_OWNER]),
        Field("salary", "Int", rules=[ADMIN_WRITES, EMPLOYEE_OWNER]),
        Field(
            "notes",
            rules=[
                allow.group("Admin").to(["create", "read"]),
                allow.owner_defined_in("e_mail").to(["read", "update", "delete"]),
            ],
        ),
    ],
    rules=[
        ADMIN_WRITES,
        allow.authenticated().to(["read"]),
        allow.owner_defined_in("e_mail").to(["read", "update"]),
    ],
)
EDITOR = allow.all_of(allow.owner(), allow.group("Editors"))
NOTEBOOK = Model("Notebook", fields=[Field("title"), Field("secret", rules=[EDITOR])], rules=[EDITOR])
# the owner reads the content; only API-key callers read the summary (and may subscribe for it)
DOC = Model(
    "Doc", fields=[Field("content"), Field("summary", rules=[allow.public_api_key()])], rules=[allow.owner()]
)
SCHEMA = Schema(models=(EMPLOYEE, NOTEBOOK, DOC))

EDITOR_ALICE = user("alice", "a1", ("Editors",))
USER_POOLS = "User Pool Authorization"
UNAUTHORIZED = "Unauthorized"


def denied(field: str, type_name: str = "Employee") -> dict[str, str]:
    return {"message": f"Not Authorized to access {field} on type {type_name}", "errorType": UNAUTHORIZED}


@pytest.fixture
def app(dynamodb: Any) -> GraphQLApp:
    store = Store(dynamodb, create_tables(dynamodb, SCHEMA), token_key=b"test-key", index_table=INDEX_TABLE)
    return GraphQLApp(SCHEMA, store)


def call(
    app: GraphQLApp,
    identity: dict[str, Any] | None,
    parent: str,
    field: str,
    arguments: dict[str, Any],
    selection: Iterable[str],
    auth_type: str = USER_POOLS,
) -> dict[str, Any]:
    """One invocation with the event AppSync builds for this selection."""
    event = appsync_event(parent, field, arguments, identity, selection=selection, auth_type=auth_type)
    return app.resolve(event, None)


def create_employee(app: GraphQLApp, employee_id: str, owner: dict[str, Any]) -> None:
    created = call(
        app,
        CAROL,
        "Mutation",
        "createEmployee",
        {
            "input": {
                "id": employee_id,
                "e_mail": f"{owner['sub']}::{owner['username']}",
                "salary": 100,
                "notes": "n",
                "bio": "Likes long walks",
            }
        },
        ["id"],
    )
    assert created["errors"] == [], created


# -- 16.5: errors only for the denied fields the client selected ----------------------------------


def test_a_get_selecting_one_denied_field_gets_exactly_one_error(app: GraphQLApp) -> None:
    create_employee(app, "e1", BOB)
    result = call(app, DAVE, "Query", "getEmployee", {"id": "e1"}, ["id", "e_mail", "bio"])
    assert result["errors"] == [denied("e_mail")]  # not salary, not notes: never asked for
    assert result["data"]["e_mail"] is None
    assert result["data"]["bio"] == "Likes long walks"


def test_a_query_selecting_only_readable_fields_gets_no_error(app: GraphQLApp) -> None:
    create_employee(app, "e1", BOB)
    result = call(app, DAVE, "Query", "getEmployee", {"id": "e1"}, ["id", "bio"])
    assert result["errors"] == []
    assert result["data"]["bio"] == "Likes long walks"


def test_a_list_reports_only_denied_fields_selected_under_items(app: GraphQLApp) -> None:
    create_employee(app, "e1", BOB)
    create_employee(app, "e2", ALICE)
    plain = ["items", "items/id", "items/bio", "nextToken"]
    result = call(app, DAVE, "Query", "listEmployees", {}, plain)
    assert result["errors"] == []
    assert {item["bio"] for item in result["data"]["items"]} == {"Likes long walks"}
    # two items, one denied field selected: one error for the field
    result = call(app, DAVE, "Query", "listEmployees", {}, [*plain, "items/salary"])
    assert result["errors"] == [denied("salary")]
    assert [item["salary"] for item in result["data"]["items"]] == [None, None]


def test_a_top_level_name_of_a_list_is_not_an_item_field(app: GraphQLApp) -> None:
    create_employee(app, "e1", BOB)
    result = call(app, DAVE, "Query", "listEmployees", {}, ["nextToken", "items", "items/id"])
    assert result["errors"] == []


def test_without_a_selection_list_every_denied_field_is_still_reported(app: GraphQLApp) -> None:
    """Hand-built events without ``selectionSetList`` (or with an empty one, which AppSync never
    sends for an object result) keep the conservative answer: an error per denied field."""
    create_employee(app, "e1", BOB)
    event = appsync_event("Query", "getEmployee", {"id": "e1"}, DAVE, auth_type=USER_POOLS)
    # e_mail is an owner field: its stored value (_storedE_mail, issue 16.3) is denied with it
    every = [denied("e_mail"), denied("_storedE_mail"), denied("notes"), denied("salary")]
    assert app.resolve(event, None)["errors"] == every
    del event["info"]["selectionSetList"]
    assert app.resolve(event, None)["errors"] == every


@pytest.mark.parametrize("selection", ["id", ["id", 3], {"id": True}, [None]])
def test_a_malformed_selection_list_is_a_bad_request(app: GraphQLApp, selection: Any) -> None:
    event = appsync_event("Query", "getEmployee", {"id": "e1"}, DAVE, selection=["id"], auth_type=USER_POOLS)
    event["info"]["selectionSetList"] = selection
    result = app.resolve(event, None)
    assert result["data"] is None
    assert [e["errorType"] for e in result["errors"]] == ["BadRequest"]


FIELDS = ("id", "bio", "e_mail", "salary", "notes", "createdAt")


def test_the_selection_decides_the_errors_never_the_data(app: GraphQLApp) -> None:
    """For any selection: the same item comes back (denied fields null) and the errors are
    exactly the denied fields selected."""
    create_employee(app, "e1", BOB)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sets(st.sampled_from(FIELDS), min_size=1))
    def check(selection: set[str]) -> None:
        result = call(app, DAVE, "Query", "getEmployee", {"id": "e1"}, sorted(selection))
        assert {k: v for k, v in result["data"].items() if k not in ("createdAt", "updatedAt")} == {
            "id": "e1",
            "bio": "Likes long walks",
            "e_mail": None,
            "_storedE_mail": None,  # the owner field's stored value (issue 16.3), denied with it
            "salary": None,
            "notes": None,
            "_version": 1,
            "__typename": "Employee",
        }
        assert result["errors"] == [denied(f) for f in sorted(selection & {"e_mail", "notes", "salary"})]

    check()


def test_a_mutation_reports_a_selected_field_the_caller_may_not_read(app: GraphQLApp) -> None:
    """Alice owns the Doc but only API-key callers read its summary: selecting it is an error
    for her; ``content`` is masked (an API-key subscriber may not read it), silently."""
    created = call(
        app, ALICE, "Mutation", "createDoc", {"input": {"id": "d1", "content": "c"}}, ["id", "summary"]
    )
    assert created["errors"] == [denied("summary", "Doc")]
    created = call(
        app, ALICE, "Mutation", "createDoc", {"input": {"id": "d2", "content": "c"}}, ["id", "content"]
    )
    assert created["errors"] == []
    assert created["data"]["content"] is None


# -- 16.6: mutation results null only what some reader may not read -------------------------------


def test_mutation_results_return_a_field_every_reader_may_read(app: GraphQLApp) -> None:
    """The field rule is the model rule (an all_of of owner and the Editors group): whoever may
    read a Notebook may read its secret, so create and update return it."""
    selection = ["id", "title", "secret"]
    created = call(
        app,
        EDITOR_ALICE,
        "Mutation",
        "createNotebook",
        {"input": {"id": "n1", "title": "t", "secret": "s"}},
        selection,
    )
    assert created["errors"] == []
    assert created["data"]["secret"] == "s"
    updated = call(
        app, EDITOR_ALICE, "Mutation", "updateNotebook", {"input": {"id": "n1", "title": "u"}}, selection
    )
    assert (updated["errors"], updated["data"]["secret"]) == ([], "s")


def test_mutation_results_null_a_field_some_reader_may_not_read(app: GraphQLApp) -> None:
    """Every signed-in user reads an Employee but only its owner and Admins its e_mail and
    salary: the Admin writing them gets them back null (what every subscriber receives), with
    no error, since the Admin may read them (a get returns them)."""
    selection = ["id", "bio", "e_mail", "salary"]
    created = call(
        app,
        CAROL,
        "Mutation",
        "createEmployee",
        {"input": {"id": "e9", "e_mail": "b2::bob", "salary": 7, "bio": "b"}},
        selection,
    )
    assert created["errors"] == []
    assert (created["data"]["bio"], created["data"]["e_mail"], created["data"]["salary"]) == ("b", None, None)
    got = call(app, CAROL, "Query", "getEmployee", {"id": "e9"}, selection)
    assert (got["data"]["e_mail"], got["data"]["salary"]) == ("bob", 7)


# -- subscribers, through the local AppSync engine --------------------------------------------------


@pytest.fixture
def engine(app: GraphQLApp) -> LocalAppSync:
    """The local AppSync on this schema's SDL, its resolver functions answered by ``app``."""
    resolvers = {
        (root, field): "GraphQLFunction"
        for model in SCHEMA.models
        for root, field in (
            ("Mutation", f"create{model.name}"),
            ("Mutation", f"update{model.name}"),
            ("Query", f"get{model.name}"),
            ("Subscription", f"onCreate{model.name}"),
        )
    }
    return LocalAppSync(
        render(SCHEMA),
        default_mode="AMAZON_COGNITO_USER_POOLS",
        resolvers=resolvers,
        invoke=lambda function, event: Invocation(app.resolve(event, None)),
    )


def user_pools(identity: dict[str, Any]) -> RequestAuth:
    return RequestAuth("AMAZON_COGNITO_USER_POOLS", identity, identity["username"])


API_KEY = RequestAuth("API_KEY", None, "api key")


def published(engine: LocalAppSync, query: str, auth: RequestAuth) -> list[tuple[str, dict[str, Any]]]:
    """Run a mutation; what it publishes to subscribers."""
    sent: list[tuple[str, dict[str, Any]]] = []
    engine.publish = lambda field, result: sent.append((field, result))
    response = engine.execute({"query": query}, auth, headers={}, source_ip="127.0.0.1")
    assert "errors" not in response.body, response.body
    return sent


def subscribe(engine: LocalAppSync, query: str, auth: RequestAuth) -> Any:
    subscription = engine.subscribe({"query": query}, auth, headers={}, source_ip="127.0.0.1")
    assert not hasattr(subscription, "status"), subscription.body
    return subscription


def test_a_field_only_subscriber_never_receives_the_fields_it_may_not_read(engine: LocalAppSync) -> None:
    """An API-key caller may read only Doc.summary, so it may subscribe to onCreateDoc; before
    16.6 the fields without rules (content, owner) reached it in every mutation result."""
    subscription = subscribe(engine, "subscription { onCreateDoc { id content owner } }", API_KEY)
    [(field, result)] = published(
        engine,
        'mutation { createDoc(input: {id: "d1", content: "private"}) { id content owner } }',
        user_pools(ALICE),
    )
    assert field == "createDoc"
    assert engine.deliver(subscription, result) == {
        "data": {"onCreateDoc": {"id": "d1", "content": None, "owner": None}}
    }


def test_a_subscriber_receives_a_field_every_reader_may_read(engine: LocalAppSync) -> None:
    subscription = subscribe(
        engine, "subscription { onCreateNotebook { id secret } }", user_pools(EDITOR_ALICE)
    )
    [(_, result)] = published(
        engine,
        # the filter (stored owner = alice's) is applied to what the mutation selected, as AppSync
        # does: so the mutation selects _storedOwner, as Amplify's codegen selects every field
        'mutation { createNotebook(input: {id: "n1", title: "t", secret: "s"}) '
        "{ id title secret owner _storedOwner } }",
        user_pools(EDITOR_ALICE),
    )
    assert engine.deliver(subscription, result) == {"data": {"onCreateNotebook": {"id": "n1", "secret": "s"}}}


def test_the_subscription_selection_decides_what_a_subscriber_sees_without_errors(
    engine: LocalAppSync,
) -> None:
    """Subscribers get the masked mutation result cut to their own selection: the masked
    fields they select are null, with no error (Amplify reports none), the rest absent."""
    everything = subscribe(
        engine, "subscription { onCreateEmployee { id bio e_mail salary } }", user_pools(DAVE)
    )
    only_bio = subscribe(engine, "subscription { onCreateEmployee { bio } }", user_pools(DAVE))
    [(_, result)] = published(
        engine,
        'mutation { createEmployee(input: {id: "e1", e_mail: "b2::bob", salary: 7, bio: "b"}) '
        "{ id bio e_mail salary notes } }",
        user_pools(CAROL),
    )
    assert engine.deliver(everything, result) == {
        "data": {"onCreateEmployee": {"id": "e1", "bio": "b", "e_mail": None, "salary": None}}
    }
    assert engine.deliver(only_bio, result) == {"data": {"onCreateEmployee": {"bio": "b"}}}


def test_the_engine_sends_the_selection_appsync_sends(engine: LocalAppSync, app: GraphQLApp) -> None:
    """``info.selectionSetList`` as AppSync builds it (field names, ``items/`` for lists,
    fragments flattened, aliases resolved), so the handler reports what the client selected."""
    events: list[dict[str, Any]] = []

    def spy(function: str, event: dict[str, Any]) -> Invocation:
        events.append(event)
        return Invocation(app.resolve(event, None))

    engine.invoke = spy
    create_employee(app, "e1", BOB)
    query = '{ getEmployee(id: "e1") { id ...F mail: e_mail } } fragment F on Employee { bio }'
    response = engine.execute({"query": query}, user_pools(DAVE), headers={}, source_ip="127.0.0.1")
    assert events[0]["info"]["selectionSetList"] == ["id", "bio", "e_mail"]
    assert [e["message"] for e in response.body["errors"]] == [
        "Not Authorized to access e_mail on type Employee"
    ]
    assert response.body["data"] == {"getEmployee": {"id": "e1", "bio": "Likes long walks", "mail": None}}
