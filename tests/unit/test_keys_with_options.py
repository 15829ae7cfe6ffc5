"""Secondary indexes and custom identifiers next to main's model options, identity-pool field
policies and amplify_outputs.json (the seams of merging issue 18.2/18.3 into main)."""

from __future__ import annotations

import pytest

from modelauth.errors import OperationDisabled
from modelauth.local.outputs import model_introspection
from modelauth.operations import Operations
from modelauth.rules import Model, Schema, allow, root_fields
from modelauth.sdl import identity_pool_fields, render
from tests.fixtures.keys import ORDER, SCHEMA, TASK


def test_index_query_fields_follow_a_disabled_list() -> None:
    task = TASK.disable_operations(["list"])
    names = [f.field_name for f in root_fields(task)]
    assert "tasksByStatus" not in names
    assert "listTasks" not in names
    assert "tasksByStatus" not in render(Schema([task])).split("type Query {")[1]
    with pytest.raises(OperationDisabled):
        Operations.check_enabled(task, "list")
    assert "tasksByStatus" in [f.field_name for f in root_fields(TASK)]


def test_identity_pool_policies_name_the_index_query_fields() -> None:
    rules = [*TASK.rules, allow.guest().to(["read"])]
    task = Model(TASK.name, fields=TASK.fields, rules=rules, secondary_indexes=TASK.secondary_indexes)
    guest = [f.field_name for f in identity_pool_fields(Schema([task]), guest=True)]
    assert {"tasksByStatus", "tasksByStatusAndPriority", "listTasks"} <= set(guest)
    assert identity_pool_fields(SCHEMA, guest=True) == []


def test_outputs_describe_the_identifier_and_indexes_as_amplify_key_attributes() -> None:
    models = model_introspection(SCHEMA)["models"]
    order, task = models[ORDER.name], models[TASK.name]
    assert order["primaryKeyInfo"] == {
        "isCustomPrimaryKey": True,
        "primaryKeyFieldName": "customerEmail",
        "sortKeyFieldNames": ["orderId"],
    }
    assert {"type": "key", "properties": {"fields": ["customerEmail", "orderId"]}} in order["attributes"]
    keys = [a["properties"] for a in task["attributes"] if a["type"] == "key"]
    assert keys[0] == {
        "name": "tasksByStatusAndCreatedAt",
        "queryField": "tasksByStatus",
        "fields": ["status", "createdAt"],
    }
    assert task["primaryKeyInfo"]["isCustomPrimaryKey"] is False
