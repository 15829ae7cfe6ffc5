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
