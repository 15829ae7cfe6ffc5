"""What the local endpoint reads from template.yaml, and how it resolves intrinsic functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelauth.local.samtemplate import SamTemplate, TemplateError, resolve

REFS = {"Stage": "dev", "Table": "todo-dev", "Role.Arn": "arn:aws:iam::1:role/r", "{{resolve}}": "s3cr3t"}


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ({"Ref": "Table"}, "todo-dev"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:aws:iam::1:role/r"),
        ({"Fn::Sub": "modelauth-${Stage}"}, "modelauth-dev"),
        ({"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "Table"}}]}, "todo-dev-dev"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Stage"}]]}, "a/dev"),
        ({"Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString}}"}, "s3cr3t"),
        ({"A": [{"Ref": "Stage"}, 1]}, {"A": ["dev", 1]}),
        ("", ""),
    ],
)
def test_resolve(value: Any, resolved: Any) -> None:
    assert resolve(value, REFS) == resolved


@pytest.mark.parametrize("value", [{"Ref": "Missing"}, {"Fn::If": ["C", "a", "b"]}, {"Fn::Sub": "${Nope}"}])
def test_what_cannot_be_resolved_fails_instead_of_passing_on(value: Any) -> None:
    with pytest.raises(TemplateError):
        resolve(value, REFS)


CONDITIONS = {
    "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
    "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
    "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
    "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
    "Loop": {"Fn::Not": [{"Condition": "Loop"}]},
    "Odd": {"Fn::Split": [",", "a"]},
}


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ({"Fn::If": ["IsDev", "a", "b"]}, "a"),
        ({"Fn::If": ["IsProd", "a", {"Ref": "Table"}]}, "todo-dev"),
        ({"Fn::If": ["Both", "a", "b"]}, "b"),
        ({"Fn::If": ["Either", "a", "b"]}, "a"),
        # AWS::NoValue drops the property, or the list item, it stands for
        ({"A": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "B": 1}, {"B": 1}),
        (["x", {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, "y"]}, "z"], ["x", "z"]),
        ({"Ref": "AWS::NoValue"}, None),
    ],
)
def test_conditions(value: Any, resolved: Any) -> None:
    assert resolve(value, REFS, CONDITIONS) == resolved


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::If": ["Nope", "a", "b"]}, "not declared"),
        ({"Fn::If": ["Loop", "a", "b"]}, "circular"),
        ({"Fn::If": ["Odd", "a", "b"]}, "cannot evaluate"),
        ({"Fn::If": ["IsDev", "a"]}, "takes"),
    ],
)
def test_conditions_that_cannot_be_evaluated_fail(value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        resolve(value, REFS, CONDITIONS)


def test_parameter_overrides_and_the_local_parameter_set(tmp_path: Path) -> None:
    """Defaults resolve Fn::If like a deploy without overrides would, except the local set:
    a local user pool allows the password flow even though the template's default is off."""
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters:\n"
        "  AllowPasswordAuth: {Type: String, Default: 'false'}\n"
        "  Mfa: {Type: String, Default: 'OFF'}\n"
        "Conditions:\n"
        "  PasswordAuth: !Equals [!Ref AllowPasswordAuth, 'true']\n"
        "  HasMfa: !Not [!Equals [!Ref Mfa, 'OFF']]\n"
        "Resources:\n"
        "  Client:\n"
        "    Type: AWS::Cognito::UserPoolClient\n"
        "    Properties:\n"
        "      ExplicitAuthFlows:\n"
        "        - !If [PasswordAuth, ALLOW_USER_PASSWORD_AUTH, !Ref AWS::NoValue]\n"
        "        - ALLOW_REFRESH_TOKEN_AUTH\n"
        "      EnabledMfas: !If [HasMfa, [SOFTWARE_TOKEN_MFA], !Ref AWS::NoValue]\n"
        "  Api:\n"
        "    Type: AWS::Serverless::GraphQLApi\n"
        "    Properties: {SchemaUri: schema.graphql, Auth: {Type: API_KEY}}\n"
    )
    template = SamTemplate.load(path)
    props = template.of_type("AWS::Cognito::UserPoolClient")["Client"]
    refs = template.parameter_defaults()
    assert refs == {"AllowPasswordAuth": "true", "Mfa": "OFF"}
    assert template.resolve(props, refs) == {
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    }
    overridden = {**refs, "AllowPasswordAuth": "false", "Mfa": "OPTIONAL"}
    assert template.resolve(props, overridden) == {
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
    }


def test_the_apps_template(template: SamTemplate) -> None:
    api = template.api
    assert api.default_mode == "AMAZON_COGNITO_USER_POOLS"
    assert {"API_KEY", "AWS_IAM", "AWS_LAMBDA"} <= set(api.modes)
    assert api.lambda_authorizer == "AuthorizerFunction"
    assert api.lambda_authorizer_ttl == 60
    assert api.schema_path.name == "schema.graphql"
    assert template.resolvers[("Query", "getTodo")] == "GraphQLFunction"
    assert template.resolvers[("Mutation", "deleteItem")] == "GraphQLFunction"
    graphql = template.functions["GraphQLFunction"]
    assert graphql.module_path.name == "app.py"
    assert graphql.function_name == "lambda_handler"
    assert "TABLE_TODO" in graphql.environment  # its own variables merged over Globals


def test_a_template_without_a_graphql_api_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n")
    with pytest.raises(TemplateError, match="GraphQLApi"):
        SamTemplate.load(path)
    path.write_text("not: [valid")
    with pytest.raises(TemplateError, match="cannot read"):
        SamTemplate.load(path)
