"""amplify_outputs.json's ``model_introspection`` satisfies Amplify's own JSON schema for it:
``schemas/introspection/1/ModelIntrospectionSchema.json`` of ``@aws-amplify/appsync-modelgen-plugin``
(the codegen that writes the section for Amplify Gen 2; pinned in tests/node/package.json), for the
file ``modelauth generate`` writes, the one ``modelauth outputs --local`` writes, and schemas with
custom operations, enums and custom types.

The rest of the file (``version``, ``auth``, ``data``) has no JSON schema in any npm package:
@aws-amplify/client-config ships only the TypeScript types generated from its schema_v1.x.json,
so tests/local/test_outputs.py checks those keys against the v1.4 type by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from modelauth.local.cli import main
from modelauth.local.outputs import LOCAL_URL, Environment, amplify_outputs
from modelauth.rules import Schema
from tests.conftest import PROJECT
from tests.fixtures.custom_schema import SCHEMA as CUSTOM_SCHEMA
from tests.fixtures.types import TYPES_SCHEMA
from tests.node.packages import installed

SCHEMA_FILE = "schemas/introspection/1/ModelIntrospectionSchema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((installed("@aws-amplify/appsync-modelgen-plugin") / SCHEMA_FILE).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def problems(validator: jsonschema.protocols.Validator, doc: dict[str, Any]) -> list[str]:
    """Every way the file's model_introspection departs from Amplify's schema."""
    introspection = doc["data"]["model_introspection"]
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(introspection)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture project, the working directory, with no amplify_outputs.json yet."""
    root = tmp_path / "fixture"
    shutil.copytree(PROJECT, root)
    (root / "amplify_outputs.json").unlink()
    monkeypatch.chdir(root)
    return root


def test_the_file_generate_writes(validator: jsonschema.protocols.Validator, project: Path) -> None:
    assert main(["generate"]) == 0
    doc = json.loads((project / "amplify_outputs.json").read_text())
    assert doc["data"]["model_introspection"]["models"], doc
    assert problems(validator, doc) == []


def test_the_file_outputs_local_writes(
    validator: jsonschema.protocols.Validator, project: Path, server: Any, backend: Any, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    backend.save(state)  # what `modelauth serve` writes
    out = tmp_path / "amplify_outputs.json"
    assert main(["--state", str(state), "outputs", "--local", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["data"]["url"] == server.url
    assert problems(validator, doc) == []


@pytest.mark.parametrize(
    ("schema", "sections"),
    [(CUSTOM_SCHEMA, ("queries", "mutations", "subscriptions")), (TYPES_SCHEMA, ("enums", "nonModels"))],
    ids=["custom-operations", "enums-and-custom-types"],
)
def test_custom_operations_enums_and_custom_types(
    validator: jsonschema.protocols.Validator, schema: Schema, sections: tuple[str, ...]
) -> None:
    doc = amplify_outputs(schema, ("AMAZON_COGNITO_USER_POOLS",), Environment(LOCAL_URL, "us-east-1"))
    introspection = doc["data"]["model_introspection"]
    assert all(introspection[section] for section in sections), introspection
    assert problems(validator, doc) == []


def test_the_schema_catches_a_departure(validator: jsonschema.protocols.Validator) -> None:
    """The check can fail: a field spelled as Amplify does not spell it is reported."""
    doc = amplify_outputs(CUSTOM_SCHEMA, ("API_KEY",), Environment(LOCAL_URL, "us-east-1"))
    model = next(iter(doc["data"]["model_introspection"]["models"].values()))
    field = next(iter(model["fields"].values()))
    field["required"] = field.pop("isRequired")
    assert len(problems(validator, doc)) >= 1
