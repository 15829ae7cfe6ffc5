"""The example project's graphql/schema.graphql is generated from its models: it must be current."""

from __future__ import annotations

from modelauth.project import SchemaRef
from modelauth.sdl import render
from tests.conftest import EXAMPLE
from tests.fixtures.schema import SCHEMA


def test_committed_example_schema_matches_its_models() -> None:
    example = SchemaRef.parse("appschema:SCHEMA").load(search=EXAMPLE)
    committed = (EXAMPLE / "graphql" / "schema.graphql").read_text()
    assert committed == render(example), "example/graphql/schema.graphql is out of date: run `make schema`"


def test_every_model_has_crud_and_subscription_fields() -> None:
    sdl = render(SCHEMA)
    for model in SCHEMA.models:
        for field in (
            f"get{model.name}(",
            f"list{model.list_name}(",
            f"create{model.name}(",
            f"update{model.name}(",
            f"delete{model.name}(",
            f"onCreate{model.name}:",
            f"onUpdate{model.name}:",
            f"onDelete{model.name}:",
        ):
            assert field in sdl, field
