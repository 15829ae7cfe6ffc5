"""``Model(timestamps=...)`` (issue 19 item 3) in what modelauth generates besides the SDL:
amplify_outputs.json's model_introspection (the fields and the ``model`` attribute as Amplify's
codegen writes them for ``@model(timestamps: ...)``), the sample events' selections, and the
Gen 1 import of ``@model(timestamps: ...)``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import build_schema

from modelauth.local import amplify_import as ai
from modelauth.local.appsync import APPSYNC_PRELUDE
from modelauth.local.events import LocalConfig, sample_events
from modelauth.local.outputs import LOCAL_URL, Environment, amplify_outputs
from modelauth.sdl import render
from tests.fixtures.timestamps import SCHEMA

MODELS = amplify_outputs(SCHEMA, ("AMAZON_COGNITO_USER_POOLS",), Environment(LOCAL_URL, "us-east-1"))["data"][
    "model_introspection"
]["models"]
READ_ONLY = {"isReadOnly": True, "type": "AWSDateTime", "isRequired": False, "isArray": False}


def read_only_timestamps(model: str) -> list[str]:
    fields = MODELS[model]["fields"]
    return [n for n, f in fields.items() if READ_ONLY.items() <= f.items() and not n.startswith("_stored")]


@pytest.mark.parametrize(
    ("model", "fields", "properties"),
    [
        (
            "Stamp",
            ["createdOn", "updatedOn"],
            {"timestamps": {"createdAt": "createdOn", "updatedAt": "updatedOn"}},
        ),
        ("Plain", [], {"timestamps": None}),  # its own createdAt is a plain, writable AWSDate
        ("Half", ["createdAt"], {"timestamps": {"createdAt": "createdAt", "updatedAt": None}}),
    ],
)
def test_outputs_describe_the_models_timestamps(model: str, fields: list[str], properties: Any) -> None:
    """As appsync-modelgen-plugin writes ``@model(timestamps: ...)``: the timestamps as read-only
    fields, the directive's argument in the ``model`` attribute; but only the fields the API has
    (Amplify's codegen lists ``updatedAt: null`` as a field ``updatedAt`` all the same)."""
    assert read_only_timestamps(model) == fields
    assert MODELS[model]["attributes"][0] == {"type": "model", "properties": properties}


def test_outputs_of_a_model_with_amplifys_timestamps_are_unchanged() -> None:
    from tests.fixtures.keys import SCHEMA as KEYS

    doc = amplify_outputs(KEYS, ("AMAZON_COGNITO_USER_POOLS",), Environment(LOCAL_URL, "us-east-1"))
    task = doc["data"]["model_introspection"]["models"]["Task"]
    assert task["attributes"][0] == {"type": "model", "properties": {}}
    assert READ_ONLY.items() <= task["fields"]["createdAt"].items()


def test_sample_events_select_only_fields_the_schema_has() -> None:
    sdl = build_schema(APPSYNC_PRELUDE + render(SCHEMA))
    events = sample_events(SCHEMA, LocalConfig())
    selected: dict[str, set[str]] = {}
    for name, event in events.items():
        model = name.split(".")[0].removeprefix("get").removeprefix("create").removeprefix("update")
        if model in MODELS and "info" in event:
            selected.setdefault(model, set()).update(event["info"]["selectionSetList"])
    assert set(selected) == set(MODELS)
    for model, names in selected.items():
        assert names <= set(sdl.get_type(model).fields), model  # type: ignore[union-attr]
    assert {"createdOn", "updatedOn"} <= selected["Stamp"]
    assert not {"createdAt", "updatedAt"} & selected["Shared"]


def test_gen1_import_maps_timestamps() -> None:
    sdl = """
    type Stamp @model(timestamps: {createdAt: "createdOn", updatedAt: "updatedOn"})
      @auth(rules: [{allow: owner}]) {
      title: String
      createdOn: AWSDateTime
    }
    type Plain @model(timestamps: null) @auth(rules: [{allow: owner}]) {
      title: String
      createdAt: AWSDate
    }
    type Half @model(timestamps: {updatedAt: null}) @auth(rules: [{allow: owner}]) { title: String }
    type Todo @model @auth(rules: [{allow: owner}]) { title: String updatedAt: AWSDateTime }
    """
    imported = ai.import_gen1(sdl)
    assert not [u for u in imported.unsupported if "timestamps" in u]
    stamp, plain, half, todo = (imported.schema.model(n) for n in ("Stamp", "Plain", "Half", "Todo"))
    assert stamp.timestamp_fields == ("createdOn", "updatedOn")
    assert stamp.field("createdOn") is None  # the SDL may declare the timestamp; modelauth adds it
    assert plain.timestamp_fields == ()
    assert plain.field("createdAt") is not None  # no longer a timestamp: the model's own field
    assert half.timestamp_fields == ("createdAt",)
    assert todo.timestamp_fields == ("createdAt", "updatedAt")
    assert 'timestamps={"createdAt": "createdOn", "updatedAt": "updatedOn"}' in imported.source
    assert "timestamps=None" in imported.source


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ('{createdOn: "x"}', "T: @model timestamps takes createdAt and updatedAt"),
        ("{createdAt: 3}", "T: @model timestamps: a timestamp's name is a string or null"),
        ('{createdAt: "a b"}', "'a b' is not a field name"),
    ],
)
def test_gen1_import_refuses_bad_timestamps(argument: str, message: str) -> None:
    with pytest.raises(ai.AmplifyImportError, match=message):
        ai.import_gen1(f"type T @model(timestamps: {argument}) @auth(rules: [{{allow: owner}}]) {{ a: Int }}")


# -- through the local endpoint, on a project generated from the fixture schema ----------------------
@pytest.fixture(scope="module")
def endpoint() -> Iterator[dict[str, Any]]:
    """``modelauth serve`` of a project generated from tests/fixtures/timestamps.py: its tables
    (owner indexes included) made from the generated template.yaml."""
    from modelauth.local.samtemplate import SamTemplate
    from modelauth.local.sandbox import Backend
    from modelauth.local.server import LocalServer
    from tests.conftest import fixture_project
    from tests.local.conftest import Client

    ref = "tests.fixtures.timestamps:SCHEMA"
    template = SamTemplate.load(fixture_project(ref) / "template.yaml")
    backend = Backend.embedded(template, SCHEMA)
    backend.schema_ref = ref
    try:
        backend.add_user("alice")
        backend.add_user("bob")
        with LocalServer(template, backend, port=0, log=None) as server:
            yield {
                "template": template,
                **{
                    name: Client(server.url, {"authorization": backend.token(name)})
                    for name in ("alice", "bob")
                },
            }
    finally:
        backend.stop()


def test_the_template_declares_the_owner_indexes_keys(endpoint: dict[str, Any]) -> None:
    tables = endpoint["template"].of_type("AWS::DynamoDB::Table")

    def by_owner(table: str) -> list[dict[str, str]]:
        [found] = [i for i in tables[table]["GlobalSecondaryIndexes"] if i["IndexName"] == "byOwner"]
        return list(found["KeySchema"])

    assert by_owner("StampTable")[1] == {"AttributeName": "createdOn", "KeyType": "RANGE"}
    assert by_owner("PlainTable") == [{"AttributeName": "owner", "KeyType": "HASH"}]
    assert by_owner("HalfTable")[1] == {"AttributeName": "createdAt", "KeyType": "RANGE"}


def test_the_endpoint_serves_the_renamed_and_missing_timestamps(endpoint: dict[str, Any]) -> None:
    alice, bob = endpoint["alice"], endpoint["bob"]
    create = "mutation C($in: CreateStampInput!) { createStamp(input: $in) { id createdOn updatedOn } }"
    created = alice.data(create, {"in": {"id": "e1", "status": "open"}})["createStamp"]
    assert created["createdOn"] == created["updatedOn"]
    assert created["createdOn"].endswith("Z")
    # AppSync's validation: the Amplify name is not a field of this type
    response = alice.post('query { getStamp(id: "e1") { createdAt } }')
    assert "createdAt" in response.json()["errors"][0]["message"]
    plain = "mutation C($in: CreatePlainInput!) { createPlain(input: $in) { id createdAt _version } }"
    for who, n in ((alice, 2), (bob, 1)):
        for i in range(n):
            who.data(plain, {"in": {"status": "open", "createdAt": f"2025-01-0{i + 1}"}})
    listed = alice.data("query { listPlains { items { createdAt owner } nextToken } }")["listPlains"]
    assert sorted(i["createdAt"] for i in listed["items"]) == ["2025-01-01", "2025-01-02"]
    assert {i["owner"] for i in listed["items"]} == {"alice"}
