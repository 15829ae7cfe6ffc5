"""``Model(timestamps=...)`` (issue 19 item 3) in the schema: build-time errors, the SDL (the
type, filter/condition and subscription filter inputs, index sort-key arguments) and the owner
index's key schema in the table definition (template and local)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema

from modelauth.local import table_definition
from modelauth.local.appsync import APPSYNC_PRELUDE
from modelauth.rules import Field, Model, SchemaError, allow, index
from modelauth.sdl import render
from tests.fixtures.timestamps import HALF, PLAIN, SCHEMA, SHARED, STAMP

SDL = build_schema(APPSYNC_PRELUDE + render(SCHEMA))


def fields_of(type_name: str) -> dict[str, str]:
    return {name: str(f.type) for name, f in SDL.get_type(type_name).fields.items()}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"fields": [Field("createdAt")]},
            "the createdAt timestamp is named 'createdAt', which is also a field",
        ),
        (
            {"fields": [Field("createdOn")], "timestamps": {"createdAt": "createdOn"}},
            "the createdAt timestamp is named 'createdOn', which is also a field",
        ),
        (
            {"rules": [allow.owner_defined_in("updatedOn")], "timestamps": {"updatedAt": "updatedOn"}},
            "updatedOn",
        ),
        ({"timestamps": {"createdAt": "id"}}, "named 'id', which is also a field"),
        ({"timestamps": {"createdAt": "created on"}}, "'created on' is not a field name"),
        ({"timestamps": {"updatedAt": "_updated"}}, "'_updated' is not a field name"),
        ({"timestamps": {"updatedAt": 3}}, "3 is not a field name"),
        ({"timestamps": {"createdAt": "stamp", "updatedAt": "stamp"}}, "need two different names"),
        ({"timestamps": {"created": "createdOn"}}, "timestamps takes None or a mapping of createdAt"),
        ({"timestamps": "off"}, "timestamps takes None or a mapping"),
        (
            {"timestamps": None, "secondary_indexes": [index("status").sort_keys(["createdAt"])]},
            "names 'createdAt', a timestamp this model turns off or renames (timestamps=None)",
        ),
        (
            {
                "timestamps": {"updatedAt": "updatedOn"},
                "secondary_indexes": [index("status").sort_keys(["updatedAt"])],
            },
            "names 'updatedAt', a timestamp this model turns off or renames",
        ),
    ],
    ids=[
        "declared",
        "declared-renamed",
        "owner-field",
        "id",
        "space",
        "underscore",
        "not-a-string",
        "same-name",
        "unknown-key",
        "not-a-mapping",
        "index-on-an-off-timestamp",
        "index-on-the-old-name",
    ],
)
def test_bad_timestamps_are_schema_errors(options: dict[str, Any], message: str) -> None:
    fields = options.pop("fields", [Field("status")])
    with pytest.raises(SchemaError, match="Note.*" + message.replace("(", r"\(").replace(")", r"\)")):
        Model("Note", fields=fields, rules=options.pop("rules", [allow.owner()]), **options)


def test_the_timestamp_fields_each_model_has() -> None:
    assert Model("Todo").timestamp_fields == ("createdAt", "updatedAt")
    assert Model("Todo", timestamps={}).timestamp_fields == ("createdAt", "updatedAt")
    assert STAMP.implicit_fields == ("id", "createdOn", "updatedOn", "_version")
    assert (PLAIN.timestamp_fields, SHARED.timestamp_fields, HALF.timestamp_fields) == (
        (),
        (),
        ("createdAt",),
    )
    assert (PLAIN.created_field, HALF.updated_field) == (None, None)
    assert "createdAt" in PLAIN.writable_fields  # its own field, not a timestamp
    assert (
        Model(**{**_arguments(STAMP), "timestamps": {"createdAt": "createdOn", "updatedAt": "updatedOn"}})
        == STAMP
    )
    assert Model(**{**_arguments(STAMP), "timestamps": {"createdAt": "createdOn"}}) != STAMP


def _arguments(model: Model) -> dict[str, Any]:
    names = ("name", "fields", "rules", "secondary_indexes")
    return {name: getattr(model, name) for name in names}


def test_the_sdl_names_the_renamed_timestamps() -> None:
    assert fields_of("Stamp") == {
        "id": "ID!",
        "status": "String!",
        "title": "String",
        "owner": "String",
        "_storedOwner": "String",
        "createdOn": "AWSDateTime!",
        "updatedOn": "AWSDateTime!",
        "_version": "Int!",
    }
    for kind in ("ModelStampFilterInput", "ModelStampConditionInput"):
        assert fields_of(kind)["createdOn"] == fields_of(kind)["updatedOn"] == "ModelStringInput"
        assert not {"createdAt", "updatedAt"} & set(fields_of(kind))
    subscription = fields_of("ModelSubscriptionStampFilterInput")
    assert subscription["createdOn"] == "ModelSubscriptionStringInput"
    assert "createdAt" not in subscription
    index_args = {n: str(a.type) for n, a in SDL.query_type.fields["stampsByStatus"].args.items()}  # type: ignore[union-attr]
    assert index_args["createdOn"] == "ModelStringKeyConditionInput"


def test_the_sdl_of_models_without_timestamps() -> None:
    plain = fields_of("Plain")
    assert plain["createdAt"] == "AWSDate"  # the model's own field, optional, written by the client
    assert "updatedAt" not in plain
    assert fields_of("ModelPlainFilterInput")["createdAt"] == "ModelStringInput"
    assert "createdAt" in fields_of("CreatePlainInput")
    assert not {"createdAt", "updatedAt"} & set(fields_of("Shared"))
    assert not {"createdAt", "updatedAt"} & set(fields_of("ModelSharedConditionInput"))
    assert not {"createdAt", "updatedAt"} & set(fields_of("ModelSubscriptionSharedFilterInput"))
    assert {"createdAt"} == {"createdAt", "updatedAt"} & set(fields_of("Half"))
    assert "createdAt" not in fields_of("CreateHalfInput")  # a timestamp: never the client's
    index_args = SDL.query_type.fields["plainsByStatus"].args  # type: ignore[union-attr]
    assert set(index_args) == {"status", "sortDirection", "filter", "limit", "nextToken"}


def owner_index(model: Model) -> tuple[list[dict[str, str]], dict[str, str]]:
    definition = table_definition(model, model.name)
    indexes = {i["IndexName"]: i["KeySchema"] for i in definition["GlobalSecondaryIndexes"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    return indexes["byOwner"], types


def test_the_owner_index_sorts_on_the_creation_timestamp_or_not_at_all() -> None:
    schema, types = owner_index(STAMP)
    assert schema == [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "createdOn", "KeyType": "RANGE"},
    ]
    assert types == {"id": "S", "createdOn": "S", "owner": "S", "status": "S"}
    # no creation timestamp: HASH only, and no attribute definition for it
    schema, types = owner_index(PLAIN)
    assert schema == [{"AttributeName": "owner", "KeyType": "HASH"}]
    assert types == {"id": "S", "owner": "S", "status": "S"}
    assert owner_index(HALF)[0][1] == {"AttributeName": "createdAt", "KeyType": "RANGE"}
