"""graphql/schema.graphql is generated from appschema: the committed file must be current."""

from __future__ import annotations

from appschema import SCHEMA
from modelauth.sdl import render

from tests.conftest import ROOT


def test_committed_schema_matches_the_models() -> None:
    committed = (ROOT / "graphql" / "schema.graphql").read_text()
    assert committed == render(SCHEMA), "graphql/schema.graphql is out of date: run `make schema`"


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
