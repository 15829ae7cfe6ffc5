"""amplify_outputs.json: `modelauth generate` writes the models' introspection and auth modes,
`modelauth outputs --local|--stack` the environment values; Amplify's shape (client config 1.x,
model introspection version 1) as aws-amplify v6's generateClient reads it; bad input is one line
and exit code 2. tests/node/ drives the file through Amplify JS itself."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from modelauth.local.cli import main
from modelauth.local.outputs import LOCAL_URL, VERSION
from modelauth.rules import root_fields
from tests.conftest import PROJECT
from tests.fixtures.schema import SCHEMA

# what Amplify's client config schema (v1.x) requires of the sections modelauth writes
_REQUIRED = {"auth": {"aws_region", "user_pool_id", "user_pool_client_id"}}
_REQUIRED["data"] = {"aws_region", "url", "default_authorization_type", "authorization_types"}
_AUTH_TYPES = {"AMAZON_COGNITO_USER_POOLS", "API_KEY", "AWS_IAM", "AWS_LAMBDA", "OPENID_CONNECT"}
_ALLOWED = {
    "auth": _REQUIRED["auth"] | {"identity_pool_id", "unauthenticated_identities_enabled"},
    "data": _REQUIRED["data"] | {"api_key", "model_introspection"},
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fixture"
    shutil.copytree(PROJECT, root)
    monkeypatch.chdir(root)
    return root


def outputs_of(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    assert doc["version"] == VERSION
    assert doc["version"].startswith("1.")
    for section, keys in _REQUIRED.items():
        if section in doc:
            assert keys <= set(doc[section]) <= _ALLOWED[section], section
    assert set(doc) <= {"version", "auth", "data"}
    assert {doc["data"]["default_authorization_type"], *doc["data"]["authorization_types"]} <= _AUTH_TYPES
    return doc


def test_generate_writes_every_model_as_generateclient_reads_it(project: Path) -> None:
    doc = outputs_of(project / "amplify_outputs.json")
    assert doc["data"]["url"] == LOCAL_URL
    assert "auth" not in doc
    assert doc["data"]["default_authorization_type"] == "AMAZON_COGNITO_USER_POOLS"
    assert doc["data"]["authorization_types"] == ["API_KEY", "AWS_IAM", "AWS_LAMBDA", "OPENID_CONNECT"]
    introspection = doc["data"]["model_introspection"]
    assert (introspection["version"], introspection["enums"], introspection["nonModels"]) == (1, {}, {})
    assert list(introspection["models"]) == [m.name for m in SCHEMA.models]
    for model in SCHEMA.models:
        spec = introspection["models"][model.name]
        # generateClient names the root fields from name/pluralName: they must be the SDL's
        names = {f.field_name for f in root_fields(model)}
        assert {f"list{spec['pluralName']}", f"get{spec['name']}", f"onCreate{spec['name']}"} <= names
        assert spec["primaryKeyInfo"] == {
            "isCustomPrimaryKey": False,
            "primaryKeyFieldName": "id",
            "sortKeyFieldNames": [],
        }
        assert {f.name for f in model.fields} | {"id", "createdAt", "updatedAt"} <= set(spec["fields"])
        for name, field in spec["fields"].items():
            assert field["name"] == name
            assert {"isArray", "type", "isRequired", "attributes"} <= set(field)
        assert [a["type"] for a in spec["attributes"]] == ["model", "auth"]


def test_rules_and_fields_are_spelled_as_amplify_spells_them(project: Path) -> None:
    models = outputs_of(project / "amplify_outputs.json")["data"]["model_introspection"]["models"]
    todo, post, profile = models["Todo"], models["Post"], models["Profile"]
    assert todo["attributes"][1]["properties"]["rules"] == [
        {
            "allow": "owner",
            "provider": "userPools",
            "ownerField": "owner",
            "identityClaim": "sub::username",
            "operations": ["create", "update", "delete", "read"],
        },
        {"allow": "public", "provider": "apiKey", "operations": ["read"]},
    ]
    assert post["fields"]["title"]["isRequired"] is True
    assert post["fields"]["editors"]["isArray"] is True
    # the stored owner is selected (the subscription filter compares it), never written
    assert todo["fields"]["_storedOwner"]["isReadOnly"] is True
    assert todo["fields"]["createdAt"] == {
        "name": "createdAt",
        "isArray": False,
        "type": "AWSDateTime",
        "isRequired": False,
        "attributes": [],
        "isReadOnly": True,
    }
    [ssn_rule] = profile["fields"]["ssn"]["attributes"][0]["properties"]["rules"]
    assert (ssn_rule["allow"], ssn_rule["ownerField"]) == ("owner", "owner")
    assert models["Note"]["attributes"][1]["properties"]["rules"][0]["provider"] == "iam"  # identityPool


def test_generate_keeps_the_environment_values_and_check_is_clean(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "amplify_outputs.json"
    doc = json.loads(path.read_text())
    doc["data"].update(url="https://x.appsync-api.eu-west-1.amazonaws.com/graphql", aws_region="eu-west-1")
    doc["data"]["api_key"] = "da2-key"
    doc["data"]["model_introspection"]["models"].pop("Todo")  # stale
    doc["auth"] = {"aws_region": "eu-west-1", "user_pool_id": "p", "user_pool_client_id": "c"}
    path.write_text(json.dumps(doc))
    assert main(["generate", "--check"]) == 1
    assert main(["generate"]) == 0
    assert "wrote amplify_outputs.json" in capsys.readouterr().out
    written = outputs_of(path)
    assert written["data"]["api_key"] == "da2-key"
    assert written["auth"]["user_pool_id"] == "p"
    assert "Todo" in written["data"]["model_introspection"]["models"]
    assert main(["generate", "--check"]) == 0


def test_generate_refuses_a_file_that_is_not_amplify_outputs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "amplify_outputs.json").write_text('{"data": {}}')
    assert main(["generate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "not an Amplify outputs file" in err[0]
    assert (project / "amplify_outputs.json").read_text() == '{"data": {}}'


def test_outputs_local_writes_the_running_endpoints_values(
    project: Path, server: Any, backend: Any, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    backend.save(state)  # what `modelauth serve` writes (with its URL)
    out = tmp_path / "web" / "amplify_outputs.json"
    assert main(["--state", str(state), "outputs", "--local", "--out", str(out)]) == 0
    doc = outputs_of(out)
    assert doc["data"]["url"] == server.url
    assert doc["data"]["api_key"] in backend.api_keys
    assert doc["auth"] == {
        "aws_region": "us-east-1",
        "user_pool_id": backend.user_pool_id,
        "user_pool_client_id": backend.user_pool_client_id,
        "identity_pool_id": backend.identity_pool_id,
        "unauthenticated_identities_enabled": True,
    }


STACK_TEMPLATE = {
    "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    "Outputs": {
        "Region": {"Value": "eu-west-1"},
        "GraphQLUrl": {"Value": "https://abc.appsync-api.eu-west-1.amazonaws.com/graphql"},
        "GraphQLApiKeyId": {"Value": "da2-deployed"},
        "UserPoolId": {"Value": "eu-west-1_pool"},
        "UserPoolClientId": {"Value": "client"},
        "IdentityPoolId": {"Value": "eu-west-1:identity"},
    },
}


@pytest.fixture
def cloudformation(backend: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """CloudFormation of the embedded moto server (not mock_aws: leaving it would reset the
    moto state the session's endpoint serves from); `modelauth outputs --stack` reaches it
    through boto3's service endpoint variable."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", backend.aws_endpoint)
    return boto3.client("cloudformation", region_name="eu-west-1", endpoint_url=backend.aws_endpoint)


def test_outputs_stack_reads_the_stacks_outputs(
    project: Path, capsys: pytest.CaptureFixture[str], cloudformation: Any
) -> None:
    stack = f"shop-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(STACK_TEMPLATE))
    assert main(["outputs", "--stack", stack, "--region", "eu-west-1"]) == 0
    doc = outputs_of(project / "amplify_outputs.json")
    assert doc["data"]["url"] == "https://abc.appsync-api.eu-west-1.amazonaws.com/graphql"
    assert (doc["data"]["aws_region"], doc["data"]["api_key"]) == ("eu-west-1", "da2-deployed")
    assert doc["auth"]["identity_pool_id"] == "eu-west-1:identity"
    # the models' part is the one generate writes, whatever the environment
    assert main(["generate", "--check"]) == 0
    assert "generated files are current" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["outputs", "--stack", "missing", "--region", "eu-west-1"],
            "stack missing in eu-west-1: ValidationError",
        ),
        (
            ["outputs", "--stack", "bare", "--region", "eu-west-1"],
            "stack bare has no output GraphQLUrl, Region",
        ),
        (["outputs", "--local", "--region", "eu-west-1"], "--region goes with --stack"),
        (["--state", "/nonexistent/state.json", "outputs", "--local"], "start one with `modelauth serve`"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], cloudformation: Any, argv: list[str], message: str
) -> None:
    before = (project / "amplify_outputs.json").read_text()
    if "bare" in argv and "bare" not in {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}:
        body = json.dumps({"Resources": STACK_TEMPLATE["Resources"]})
        cloudformation.create_stack(StackName="bare", TemplateBody=body)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert message in err[0]
    assert (project / "amplify_outputs.json").read_text() == before


def test_enums_custom_types_and_custom_operations_are_introspected() -> None:
    """Gen 2's client reads an enum field's type as ``{"enum": ...}``, a custom type's as
    ``{"nonModel": ...}``, and custom operations (``client.queries.<name>``) from ``queries``
    and ``mutations``, a model result as ``{"model": ...}``."""
    from modelauth.custom import mutation, query
    from modelauth.local.outputs import model_introspection
    from modelauth.rules import CustomType, Enum, Field, Model, Schema, allow

    level = Enum("Level", ["LOW", "HIGH"])
    place = CustomType("Place", fields=[Field("city", required=True)])
    task = Model(
        "Task", fields=[Field("level", level), Field("stops", place, is_list=True)], rules=[allow.owner()]
    )
    echo = (
        query("echo").arguments({"text": "String!"}).returns("String").authorization([allow.authenticated()])
    )
    finish = (
        mutation("finish")
        .arguments({"id": "ID!"})
        .returns("Task")
        .item("Task", "id")
        .authorization([allow.owner()])
    )
    found = model_introspection(Schema([task], operations=[echo, finish]))
    fields = found["models"]["Task"]["fields"]
    assert fields["level"]["type"] == {"enum": "Level"}
    assert fields["stops"]["type"] == {"nonModel": "Place"}
    assert fields["stops"]["isArray"] is True
    assert found["enums"] == {"Level": {"name": "Level", "values": ["LOW", "HIGH"]}}
    assert found["nonModels"]["Place"]["fields"]["city"]["isRequired"] is True
    assert found["queries"]["echo"]["type"] == "String"
    assert found["queries"]["echo"]["arguments"]["text"] == {
        "name": "text",
        "isArray": False,
        "type": "String",
        "isRequired": True,
    }
    assert found["mutations"]["finish"]["type"] == {"model": "Task"}
    assert "subscriptions" not in found
    json.dumps(found)  # the file is JSON: no schema objects left in it
