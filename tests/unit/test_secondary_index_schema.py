"""Secondary indexes in the schema (issue 18.2): build-time errors, the SDL query field as
Amplify's @index generates it, and the GSI in the table definition (template and local)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema

from modelauth.local import table_definition
from modelauth.local.appsync import APPSYNC_PRELUDE
from modelauth.rules import CustomType, Field, Model, Schema, SchemaError, allow, index
from modelauth.sdl import render
from tests.fixtures.keys import SCHEMA, TASK


def test_query_fields_have_amplify_arguments() -> None:
    schema = build_schema(APPSYNC_PRELUDE + render(SCHEMA))
    field = schema.query_type.fields["tasksByStatus"]  # type: ignore[union-attr]
    assert {name: str(arg.type) for name, arg in field.args.items()} == {
        "status": "String!",
        "createdAt": "ModelStringKeyConditionInput",
        "sortDirection": "ModelSortDirection",
        "filter": "ModelTaskFilterInput",
        "limit": "Int",
        "nextToken": "String",
    }
    assert str(field.type) == "ModelTaskConnection"
    by_priority = schema.query_type.fields["tasksByStatusAndPriority"]  # type: ignore[union-attr]
    assert str(by_priority.args["priority"].type) == "ModelIntKeyConditionInput"
    strings = schema.get_type("ModelStringKeyConditionInput")
    assert set(strings.fields) == {"eq", "le", "lt", "ge", "gt", "between", "beginsWith"}  # type: ignore[union-attr]
    ints = schema.get_type("ModelIntKeyConditionInput")
    assert "beginsWith" not in ints.fields  # type: ignore[union-attr]


def test_a_schema_without_indexes_gets_no_key_inputs() -> None:
    sdl = render(Schema([Model("Todo", rules=[allow.owner()])]))
    assert "ModelSortDirection" not in sdl
    assert "KeyConditionInput" not in sdl


def test_each_index_is_a_gsi_of_the_table() -> None:
    definition = table_definition(TASK, "Task")
    indexes = {i["IndexName"]: i["KeySchema"] for i in definition["GlobalSecondaryIndexes"]}
    assert indexes["tasksByStatusAndCreatedAt"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert indexes["tasksByStatusAndPriority"][1] == {"AttributeName": "priority", "KeyType": "RANGE"}
    assert "byOwner" in indexes  # the owner index stays
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    assert types == {"id": "S", "createdAt": "S", "owner": "S", "status": "S", "priority": "N"}


def test_default_names_follow_gen_2() -> None:
    model = Model(
        "Todo", fields=[Field("status")], rules=[allow.owner()], secondary_indexes=[index("status")]
    )
    [secondary] = model.secondary_indexes
    assert secondary.field_name(model) == "listTodoByStatus"
    assert secondary.gsi_name(model) == "todosByStatus"
    assert secondary.sort_key is None
    assert table_definition(model, "T")["GlobalSecondaryIndexes"][1]["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"}
    ]


ADDRESS = CustomType("Address", [Field("city")])


@pytest.mark.parametrize(
    ("fields", "indexes", "message"),
    [
        (
            [],
            [index("status")],
            "Can't find field 'status' in Todo, but it was specified in index 'todosByStatus'.",
        ),
        (
            [Field("status")],
            [index("status").sort_keys(["when"])],
            "Can't find field 'when' in Todo, but it was specified in index 'todosByStatusAndWhen'.",
        ),
        ([Field("tags", is_list=True)], [index("tags")], "field 'tags' cannot be a key"),
        ([Field("home", ADDRESS)], [index("home")], "field 'home' cannot be a key"),
        ([Field("done", "Boolean")], [index("done")], "field 'done' cannot be a key"),
        ([Field("status")], [index("status"), index("status")], "is invalid or defined twice"),
        (
            [Field("status")],
            [index("status").sort_keys(["status"])],
            "the sort key repeats the partition key",
        ),
        ([Field("status")], [index("status").name("byOwner")], "is the owner index of that field"),
        ([Field("status")], ["status"], "secondary_indexes takes index(...) values"),
    ],
)
def test_bad_indexes_are_schema_errors(fields: list[Field], indexes: list[Any], message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        Model("Todo", fields=fields, rules=[allow.owner()], secondary_indexes=indexes)
    assert message in str(caught.value)


def test_bad_index_builders_are_schema_errors() -> None:
    with pytest.raises(SchemaError, match="one sort key field"):
        index("status").sort_keys(["a", "b"])
    with pytest.raises(SchemaError, match="invalid field name"):
        index("not a field")


def test_an_index_query_field_clashing_with_another_models_field_is_refused() -> None:
    todo = Model(
        "Todo",
        fields=[Field("status")],
        rules=[allow.owner()],
        secondary_indexes=[index("status").query_field("listNotes")],
    )
    with pytest.raises(SchemaError, match=r"both define the field Query\.listNotes"):
        Schema([todo, Model("Note", rules=[allow.owner()])])
