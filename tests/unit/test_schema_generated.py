"""The example project's generated files (SDL, JS steps, template regions) follow its models."""

from __future__ import annotations

import pytest

from modelauth.local.cli import main
from modelauth.sdl import render
from tests.conftest import EXAMPLE
from tests.fixtures.schema import SCHEMA


def test_the_example_projects_generated_files_are_current(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MODELAUTH_SCHEMA")  # the example's own: example/pyproject.toml
    monkeypatch.chdir(EXAMPLE)
    code = main(["generate", "--check"])
    assert code == 0, "example/ is out of date: run `make schema`\n" + capsys.readouterr().out


def test_every_model_has_crud_and_subscription_fields() -> None:
    sdl = render(SCHEMA)
    for model in SCHEMA.models:
        for field in (
            f"get{model.name}(",
            f"list{model.list_name}(",
            f"create{model.name}(",
            f"update{model.name}(",
            f"delete{model.name}(",
            f"onCreate{model.name}(filter: ",
            f"onUpdate{model.name}(filter: ",
            f"onDelete{model.name}(filter: ",
        ):
            assert field in sdl, field
