"""Property (issue 19.1): a random value that is not of its field's type, for every AppSync
scalar, an enum and a custom type, is refused with a typed error (``BadRequest``, HTTP 400) by the
AppSync resolver and the REST API alike, with the same message, and never stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelauth.local import create_tables
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.scalars import SCALAR_TYPES, conforms
from modelauth.store import INDEX_TABLE, Store
from tests.authz import proxy_event
from tests.fixtures.types import STATUS, TYPES_SCHEMA, scalar_field
from tests.functional.helpers import ALICE, Client
from tests.security.test_input_checks import REST_ALICE
from tests.security.test_scalar_formats import ANY_JSON

PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NOT_NULL = ANY_JSON.filter(lambda v: v is not None)


def invalid_scalars(type_name: str) -> st.SearchStrategy[Any]:
    near = st.sampled_from(["", "2026-13-01", "12:61", "not a date", "a@", "{", "x:y//z", "1.2.3", "+0"])
    return (NOT_NULL | near).filter(lambda v: not conforms(type_name, v))


INVALID_ENUMS = (NOT_NULL | st.sampled_from(["open", "Done", "OPEN ", "CLOSED"])).filter(
    lambda v: v not in STATUS.values
)
ADDRESS_OK = {"city": "Springfield", "zip": 1}
INVALID_ADDRESSES = st.one_of(
    NOT_NULL.filter(lambda v: not isinstance(v, dict)),
    st.dictionaries(st.sampled_from(["street", "zip", "geo"]), st.just(None)),  # no city
    st.text(min_size=1, max_size=10)
    .filter(lambda k: k not in ("street", "city", "zip", "geo"))
    .map(lambda key: {**ADDRESS_OK, key: "x"}),  # an unknown key
    invalid_scalars("Int").map(lambda zip_code: {**ADDRESS_OK, "zip": zip_code}),
    invalid_scalars("String").map(lambda city: {"city": city}),
    st.dictionaries(st.sampled_from(["lat", "lng"]), invalid_scalars("Float"), min_size=1).map(
        lambda geo: {**ADDRESS_OK, "geo": geo}
    ),
)
CASES: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    **{t: (scalar_field(t), invalid_scalars(t)) for t in sorted(SCALAR_TYPES)},
    "Status": ("status", INVALID_ENUMS),
    "Address": ("address", INVALID_ADDRESSES),
}


@pytest.fixture
def apps(dynamodb: Any) -> tuple[Client, RestApp]:
    store = Store(dynamodb, create_tables(dynamodb, TYPES_SCHEMA), token_key=b"k", index_table=INDEX_TABLE)
    return Client(GraphQLApp(TYPES_SCHEMA, store), ALICE), RestApp(TYPES_SCHEMA, store)


@pytest.mark.parametrize("type_name", sorted(CASES))
@PROPERTY
@given(data=st.data())
def test_a_value_not_of_its_type_is_always_refused_the_same_way_and_never_stored(
    apps: tuple[Client, RestApp], dynamodb: Any, type_name: str, data: st.DataObject
) -> None:
    field, strategy = CASES[type_name]
    value = data.draw(strategy, label=type_name)
    alice, rest = apps
    result = alice.call("Mutation", "createSample", input={"id": "s1", field: value})
    assert result["data"] is None, (value, result)
    [error] = result["errors"]
    assert error["errorType"] == "BadRequest", error
    assert error["message"].startswith(f"CreateSampleInput: '{field}"), error
    response = rest.resolve(proxy_event("POST", "/samples", REST_ALICE, {"id": "s2", field: value}), None)
    body = json.loads(response["body"])
    assert (response["statusCode"], body["errorType"], body["message"]) == (
        400,
        "BadRequest",
        error["message"],
    )
    assert dynamodb.scan(TableName="Sample")["Items"] == []
