"""amplify_outputs.json's ``model_introspection`` satisfies Amplify's own JSON schema for it:
``schemas/introspection/1/ModelIntrospectionSchema.json`` of ``@aws-amplify/appsync-modelgen-plugin``
(the codegen that writes the section for Amplify Gen 2; pinned in tests/node/package.json), for the
file ``modelauth generate`` writes, the one ``modelauth outputs --local`` writes, and schemas with
custom operations, enums and custom types.

The whole file (``version``, ``auth``, ``data``) is also checked against the client-config schema
of the version it declares, ``schema_v1.4.json`` of aws-amplify/amplify-backend: no npm package
ships it, so tests/fixtures/amplify/ keeps a copy (source and commit in its README).
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
from tests.fixtures.relations import SCHEMA as RELATIONS_SCHEMA
from tests.fixtures.timestamps import SCHEMA as TIMESTAMPS_SCHEMA
from tests.fixtures.types import TYPES_SCHEMA
from tests.node.packages import installed

SCHEMA_FILE = "schemas/introspection/1/ModelIntrospectionSchema.json"
OUTPUTS_SCHEMA = Path(__file__).parents[1] / "fixtures" / "amplify" / "outputs-schema-v1.4.json"


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    plugin = installed("@aws-amplify/appsync-modelgen-plugin")
    return _validator(json.loads((plugin / SCHEMA_FILE).read_text()))


FILE_VALIDATOR = _validator(json.loads(OUTPUTS_SCHEMA.read_text()))


def problems(validator: jsonschema.protocols.Validator, doc: dict[str, Any]) -> list[str]:
    """Every way the file departs from Amplify's schemas: the client-config schema of its
    version for the whole file, and the model introspection schema for model_introspection."""
    assert doc["version"] == FILE_VALIDATOR.schema["properties"]["version"]["const"]
    errors = [*FILE_VALIDATOR.iter_errors(doc), *validator.iter_errors(doc["data"]["model_introspection"])]
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


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
    [
        (CUSTOM_SCHEMA, ("queries", "mutations", "subscriptions")),
        (TYPES_SCHEMA, ("enums", "nonModels")),
        (TIMESTAMPS_SCHEMA, ("models",)),
    ],
    ids=["custom-operations", "enums-and-custom-types", "timestamps"],
)
def test_custom_operations_enums_and_custom_types(
    validator: jsonschema.protocols.Validator, schema: Schema, sections: tuple[str, ...]
) -> None:
    doc = amplify_outputs(schema, ("AMAZON_COGNITO_USER_POOLS",), Environment(LOCAL_URL, "us-east-1"))
    introspection = doc["data"]["model_introspection"]
    assert all(introspection[section] for section in sections), introspection
    assert problems(validator, doc) == []


def test_relationships(validator: jsonschema.protocols.Validator) -> None:
    """has_many / has_one / belongs_to as Gen 2 describes fields with references."""
    doc = amplify_outputs(
        RELATIONS_SCHEMA, ("AMAZON_COGNITO_USER_POOLS",), Environment(LOCAL_URL, "us-east-1")
    )
    models = doc["data"]["model_introspection"]["models"]
    assert models["Post"]["fields"]["comments"]["association"] == {
        "connectionType": "HAS_MANY",
        "associatedWith": ["postId"],
    }
    assert models["Post"]["fields"]["comments"]["type"] == {"model": "Comment"}
    assert models["Comment"]["fields"]["post"]["association"] == {
        "connectionType": "BELONGS_TO",
        "targetNames": ["postId"],
    }
    assert models["Account"]["fields"]["profile"]["association"]["connectionType"] == "HAS_ONE"
    assert models["Order"]["fields"]["lines"]["association"]["associatedWith"] == [
        "orderEmail",
        "orderNumber",
    ]
    assert problems(validator, doc) == []


def test_the_schema_catches_a_departure(validator: jsonschema.protocols.Validator) -> None:
    """The check can fail: a field spelled as Amplify does not spell it is reported."""
    doc = amplify_outputs(CUSTOM_SCHEMA, ("API_KEY",), Environment(LOCAL_URL, "us-east-1"))
    model = next(iter(doc["data"]["model_introspection"]["models"].values()))
    field = next(iter(model["fields"].values()))
    field["required"] = field.pop("isRequired")
    assert len(problems(validator, doc)) >= 1


def test_the_file_schema_catches_a_departure(validator: jsonschema.protocols.Validator) -> None:
    """The whole-file check can fail too: a data key Amplify's client config does not have."""
    doc = amplify_outputs(CUSTOM_SCHEMA, ("API_KEY",), Environment(LOCAL_URL, "us-east-1"))
    assert problems(validator, doc) == []
    doc["data"]["default_auth_mode"] = doc["data"].pop("default_authorization_type")
    assert any("default_auth_mode" in p for p in problems(validator, doc))
