"""Hostile AppSync events into the resolver: mutated real events never produce a traceback,
never an allow without a matching rule, and always a typed error.

The events start from events/*.json; hypothesis drops, retypes and inflates fields and mixes
auth modes (an IAM identity with an x-api-key header, OIDC claims with cognito:groups, a lying
authType)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelauth.resolvers import GraphQLApp
from modelauth.store import INDEX_TABLE, Store
from tests.conftest import EVENTS, load_event
from tests.fixtures.schema import SCHEMA

KNOWN_ERROR_TYPES = {
    "Unauthorized",
    "BadRequest",
    "DynamoDB:ConditionalCheckFailedException",
    "ConflictUnhandled",
    "ServiceUnavailable",
}
ALICE_MARKERS = ("a1b2c3d4-0000-4000-8000-00000000a11c", "alice")
EVENT_NAMES = sorted(p.stem for p in EVENTS.glob("*.json") if not p.stem.startswith(("authorizer", "rest")))

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.just("x" * 100_000),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def seeded_app() -> Any:
    """One app for the module, with alice's Todo stored (moto, in-process)."""
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        tables = create_tables(client, SCHEMA)
        app = GraphQLApp(SCHEMA, Store(client, tables, token_key=b"k", index_table=INDEX_TABLE))
        created = app.resolve(
            load_event("createTodo.alice") | {"arguments": {"input": {"id": "todo-alice-1"}}}, None
        )
        assert created["errors"] == [], created
        yield app


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def apply(event: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> None:
    parent: Any = event
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "drop":
        del parent[last]
    elif action == "retype":
        parent[last] = value
    elif action == "inflate" and isinstance(parent[last], dict):
        parent[last].update({f"extra{n}": value for n in range(50)})
    elif action == "inflate" and isinstance(parent[last], list):
        parent[last] = parent[last] * 50 + [value]
    else:
        parent[last] = value


#: mutation stops at an event this big: inflating a value that earlier inflations share grows
#: it 50 times per step (four steps: 6.25 million paths, which once took a full run to 24 GB and the
#: OOM killer), far past what reaches a handler (Lambda takes 6 MB, AppSync far less)
MAX_EVENT_BYTES = 1_000_000


def mutate(
    event: dict[str, Any], mutations: list[tuple[int, str, Any]], roots: tuple[str, ...] | None
) -> None:
    """Apply each (position, action, value) to a path of the event (under ``roots`` if given),
    while it stays under MAX_EVENT_BYTES (the mutation that would pass it is undone)."""
    for index, action, value in mutations:
        candidates = [p for p in paths(event) if roots is None or p[0] in roots]
        if not candidates:
            return
        before = json.dumps(event)
        try:
            apply(event, candidates[index % len(candidates)], action, value)
        except (KeyError, IndexError, TypeError):
            continue
        if len(json.dumps(event)) > MAX_EVENT_BYTES:
            event.clear()
            event.update(json.loads(before))
            return


MUTATION = st.tuples(st.integers(min_value=0), st.sampled_from(["drop", "retype", "inflate"]), JSON_VALUE)


def assert_typed(result: Any) -> None:
    assert isinstance(result, dict)
    assert set(result) <= {"data", "errors", "subscriptionFilter"}
    json.dumps(result)  # serialisable, as Lambda must return it
    for error in result["errors"]:
        assert error["errorType"] in KNOWN_ERROR_TYPES, error
        assert "Traceback" not in error["message"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(EVENT_NAMES), mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_events_always_get_an_envelope_with_typed_errors(
    seeded_app: GraphQLApp, name: str, mutations: list[tuple[int, str, Any]]
) -> None:
    event = copy.deepcopy(load_event(name))
    mutate(event, mutations, roots=None)
    assert_typed(seeded_app.resolve(event, None))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_bob_never_reads_alices_todo_whatever_his_event_looks_like(
    seeded_app: GraphQLApp, mutations: list[tuple[int, str, Any]]
) -> None:
    # as deployed: the JS step states the mode; only the event's identity/headers are attacked
    event = copy.deepcopy(load_event("getTodo.bob")) | {"authType": "User Pool Authorization"}
    mutate(event, mutations, roots=("identity", "request"))
    if any(marker in json.dumps(event.get("identity"), default=str) for marker in ALICE_MARKERS):
        return  # the attacker can't forge alice's verified identity; AppSync builds it
    result = seeded_app.resolve(event, None)
    assert_typed(result)
    assert result["data"] is None


MIXED_MODES = [
    (
        "IAM identity plus an x-api-key header",
        "getTodo.iam-role",
        lambda e: e["request"]["headers"].update({"x-api-key": "da2-x"}),
    ),
    (
        "OIDC claims with cognito:groups Admin",
        "getTodo.oidc",
        lambda e: e["identity"]["claims"].update({"cognito:groups": ["Admin"]}),
    ),
    (
        "user pool identity with authType API key",
        "getTodo.bob",
        lambda e: e.update(authType="API Key Authorization"),
    ),
    (
        "API key event claiming user pools",
        "getTodo.apikey",
        lambda e: e.update(authType="User Pool Authorization"),
    ),
    (
        "Lambda context smuggling a userArn",
        "getTodo.lambda",
        lambda e: e["identity"].update(userArn="arn:aws:sts::1:assumed-role/modelauth-backend/x"),
    ),
    (
        "IAM guest with user-pool claims",
        "getTodo.iam-guest",
        lambda e: e["identity"].update(
            claims={"sub": "a1b2c3d4-0000-4000-8000-00000000a11c", "username": "alice"}
        ),
    ),
]


@pytest.mark.parametrize(("case", "name", "mutate"), MIXED_MODES, ids=[c[0] for c in MIXED_MODES])
def test_mixed_modes_never_read_alices_todo(
    seeded_app: GraphQLApp, case: str, name: str, mutate: Any
) -> None:
    event = copy.deepcopy(load_event(name))
    mutate(event)
    result = seeded_app.resolve(event, None)
    assert_typed(result)
    assert result["data"] is None
    assert result["errors"][0]["errorType"] == "Unauthorized"


@pytest.mark.parametrize(
    ("arguments", "error_type"),
    [
        ({"id": ["todo-alice-1"]}, "BadRequest"),
        ({"id": {"S": "todo-alice-1"}}, "BadRequest"),
        ({"id": "x" * 5000}, "BadRequest"),
        ({"id": ""}, "BadRequest"),
        ({"id": None}, "BadRequest"),
    ],
)
def test_wrongly_typed_or_huge_arguments_are_bad_requests(
    seeded_app: GraphQLApp, arguments: dict[str, Any], error_type: str
) -> None:
    event = load_event("getTodo.alice") | {"arguments": arguments}
    result = seeded_app.resolve(event, None)
    assert result["data"] is None
    assert result["errors"][0]["errorType"] == error_type
