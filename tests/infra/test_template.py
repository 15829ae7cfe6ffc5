"""template.yaml after the SAM transform: what the deployed stack will contain.

cfn-lint and `sam validate --lint` check the syntax (Makefile `lint`); these tests check the
decisions: every GraphQL root field has a resolver, the function gets exactly the environment and
DynamoDB access the contract names, and the table keeps its data.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]
from cfnlint.template import Template  # type: ignore[import-untyped]
from cfnlint.template.transforms.transform import Transform  # type: ignore[import-untyped]
from graphql import ObjectTypeDefinitionNode, ObjectTypeExtensionNode, parse

from modelauth.local import table_definition
from modelauth.project import SchemaRef
from tests.conftest import EXAMPLE

APP_SCHEMA = SchemaRef.parse("appschema:SCHEMA").load(search=EXAMPLE)  # the example's models

TEMPLATE = EXAMPLE / "template.yaml"
SCHEMA = EXAMPLE / "graphql" / "schema.graphql"

Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def resources() -> Resources:
    """Resources of the template after the SAM transform (done offline by cfn-lint)."""
    raw, problems = decode(str(TEMPLATE))
    assert not problems, problems
    assert raw is not None
    template = Template(str(TEMPLATE), raw, ["us-east-1"])
    problems = Transform().transform(template)
    assert not problems, problems
    return dict(template.template["Resources"])


def of_type(resources: Resources, cfn_type: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == cfn_type}


def one(resources: Resources, cfn_type: str) -> dict[str, Any]:
    (props,) = of_type(resources, cfn_type).values()
    return props


def schema_root_fields() -> set[tuple[str, str]]:
    fields = set()
    for node in parse(SCHEMA.read_text()).definitions:
        if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode) and node.name.value in {
            "Query",
            "Mutation",
            "Subscription",
        }:
            fields |= {(node.name.value, f.name.value) for f in node.fields or ()}
    return fields


def schema_relation_fields() -> set[tuple[str, str]]:
    """Fields of model types that return another model or its connection (a relationship): AppSync
    resolves them with their own resolver, or they would be null."""
    from graphql import GraphQLObjectType, build_schema, get_named_type

    from modelauth.local.appsync import APPSYNC_PRELUDE

    built = build_schema(APPSYNC_PRELUDE + SCHEMA.read_text())
    objects = {name: t for name, t in built.type_map.items() if isinstance(t, GraphQLObjectType)}
    models = {name for name, t in objects.items() if "_version" in t.fields}
    found = set()
    for name in models:
        for field_name, definition in objects[name].fields.items():
            target = get_named_type(definition.type).name
            if target in models or target.removeprefix("Model").removesuffix("Connection") in models:
                found.add((name, field_name))
    return found


def test_every_schema_root_field_has_a_resolver_and_no_resolver_is_orphaned(resources: Resources) -> None:
    resolvers = of_type(resources, "AWS::AppSync::Resolver").values()

    assert schema_relation_fields()  # the example has relationships (Post.comments, Comment.post)
    expected = schema_root_fields() | schema_relation_fields()
    assert {(r["TypeName"], r["FieldName"]) for r in resolvers} == expected


def test_resolvers_are_pipelines_running_the_invoke_function(resources: Resources) -> None:
    (function_id,) = of_type(resources, "AWS::AppSync::FunctionConfiguration")
    function = resources[function_id]["Properties"]

    assert function["CodeS3Location"] == "graphql/invoke.js"
    assert function["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
    for resolver in of_type(resources, "AWS::AppSync::Resolver").values():
        assert resolver["Kind"] == "PIPELINE"
        assert resolver["PipelineConfig"]["Functions"] == [{"Fn::GetAtt": [function_id, "FunctionId"]}]


def test_lambda_data_source_may_invoke_only_the_resolver_function(resources: Resources) -> None:
    data_source = one(resources, "AWS::AppSync::DataSource")
    assert data_source["Type"] == "AWS_LAMBDA"
    assert data_source["LambdaConfig"]["LambdaFunctionArn"] == {"Fn::GetAtt": ["GraphQLFunction", "Arn"]}
    (role_name,) = data_source["ServiceRoleArn"]["Fn::GetAtt"][:1]
    # the template's own role (SAM makes no connector when ServiceRoleArn is set), plus any
    # managed policy naming it
    policies = [p["PolicyDocument"] for p in resources[role_name]["Properties"].get("Policies", ())]
    policies += [
        p["PolicyDocument"]
        for p in of_type(resources, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_name} in p.get("Roles", ())
    ]

    statements = [s for doc in policies for s in doc["Statement"]]
    assert {a for s in statements for a in s["Action"]} <= {"lambda:InvokeFunction", "lambda:InvokeAsync"}
    targets = [resource for s in statements for resource in s["Resource"]]
    assert targets, statements
    assert all("GraphQLFunction" in str(target) for target in targets), targets


def test_api_has_every_mode_the_rules_use(resources: Resources) -> None:
    api = one(resources, "AWS::AppSync::GraphQLApi")

    assert api["AuthenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert api["UserPoolConfig"]["UserPoolId"] == {"Ref": "UserPool"}
    additional = api["AdditionalAuthenticationProviders"]
    assert [p["AuthenticationType"] for p in additional] == [
        "API_KEY",
        "AWS_IAM",
        "AWS_LAMBDA",
        "OPENID_CONNECT",
    ]
    assert api["LogConfig"]["ExcludeVerboseContent"] is True
    assert len(of_type(resources, "AWS::AppSync::ApiKey")) == 1


def test_function_environment_names_every_model_table(resources: Resources) -> None:
    variables = resources["GraphQLFunction"]["Properties"]["Environment"]["Variables"]
    tables = {f"TABLE_{m.name.upper()}": {"Ref": f"{m.name}Table"} for m in APP_SCHEMA.models}

    assert set(variables) == {
        *tables,
        "INDEX_TABLE",
        "MODELAUTH_SCHEMA",
        "USER_POOL_ID",
        "IDENTITY_POOL_ID",
        "AUTH_ROLE_ARNS",
        "UNAUTH_ROLE_ARNS",
        "NEXT_TOKEN_SECRET",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "POWERTOOLS_SERVICE_NAME",
        "LOG_LEVEL",
    }
    assert {k: v for k, v in variables.items() if k in tables} == tables
    assert variables["INDEX_TABLE"] == {"Ref": "ModelIndexTable"}
    assert variables["MODELAUTH_SCHEMA"] == "appschema:SCHEMA"  # example/pyproject.toml's schema
    assert variables["USER_POOL_ID"] == {"Ref": "UserPool"}
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == ""  # declared so `sam local --env-vars` can set it
    assert variables["POWERTOOLS_SERVICE_NAME"] == "modelauth"
    assert "{{resolve:secretsmanager:${NextTokenSecret}" in variables["NEXT_TOKEN_SECRET"]["Fn::Sub"]


def test_function_runtime_handler_and_layer(resources: Resources) -> None:
    function = resources["GraphQLFunction"]["Properties"]
    (layer_id,) = of_type(resources, "AWS::Lambda::LayerVersion")

    assert (function["Runtime"], function["Handler"], function["Architectures"]) == (
        "python3.12",
        "app.lambda_handler",
        ["x86_64"],
    )
    assert (function["MemorySize"], function["Timeout"]) == (512, 10)
    assert function["Layers"] == [{"Ref": layer_id}]


def test_function_dynamodb_access_is_item_level_on_the_app_tables_only(resources: Resources) -> None:
    role = resources["GraphQLFunctionRole"]["Properties"]
    assert {"Ref": "ModelTablesPolicy"} in role["ManagedPolicyArns"]
    assert not role.get("Policies")  # no other inline access
    statements = resources["ModelTablesPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert {a for s in statements for a in s["Action"]} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
        "dynamodb:Scan",
    }
    expected = [{"Fn::GetAtt": ["ModelIndexTable", "Arn"]}]
    for model in APP_SCHEMA.models:
        expected.append({"Fn::GetAtt": [f"{model.name}Table", "Arn"]})
        if table_definition(model, model.name).get("GlobalSecondaryIndexes"):
            expected.append({"Fn::Sub": f"${{{model.name}Table.Arn}}/index/*"})
    [resources_granted] = [s["Resource"] for s in statements]
    assert sorted(map(str, resources_granted)) == sorted(map(str, expected))


def test_identity_pool_roles_only_open_the_graphql_api_and_reach_the_resolver(resources: Resources) -> None:
    variables = resources["GraphQLFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["IDENTITY_POOL_ID"] == {"Ref": "IdentityPool"}
    assert variables["AUTH_ROLE_ARNS"] == {"Fn::GetAtt": ["IdentityPoolAuthRole", "Arn"]}
    assert variables["UNAUTH_ROLE_ARNS"] == {"Fn::GetAtt": ["IdentityPoolUnauthRole", "Arn"]}
    attachment = resources["IdentityPoolRoles"]["Properties"]["Roles"]
    assert attachment == {
        "authenticated": {"Fn::GetAtt": ["IdentityPoolAuthRole", "Arn"]},
        "unauthenticated": {"Fn::GetAtt": ["IdentityPoolUnauthRole", "Arn"]},
    }
    for role, amr in (
        ("IdentityPoolAuthRole", "authenticated"),
        ("IdentityPoolUnauthRole", "unauthenticated"),
    ):
        [trust] = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"]["ForAnyValue:StringLike"] == {"cognito-identity.amazonaws.com:amr": amr}
        assert trust["Condition"]["StringEquals"] == {
            "cognito-identity.amazonaws.com:aud": {"Ref": "IdentityPool"}
        }
    for policy, role in (
        ("IdentityPoolGuestGraphQLPolicy", "IdentityPoolUnauthRole"),
        ("IdentityPoolAuthGraphQLPolicy", "IdentityPoolAuthRole"),
    ):
        props = resources[policy]["Properties"]
        assert props["Roles"] == [{"Ref": role}]
        [statement] = props["PolicyDocument"]["Statement"]
        assert statement["Action"] == "appsync:GraphQL"  # which fields: tests/infra/test_production.py


@pytest.mark.parametrize("model", APP_SCHEMA.models, ids=lambda m: m.name)
def test_model_table_matches_what_the_store_queries(resources: Resources, model: Any) -> None:
    table = resources[f"{model.name}Table"]
    props = table["Properties"]
    wanted = table_definition(model, model.name)

    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert props["KeySchema"] == wanted["KeySchema"]
    assert sorted(props.get("GlobalSecondaryIndexes", []), key=str) == sorted(
        wanted.get("GlobalSecondaryIndexes", []), key=str
    )
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(wanted["AttributeDefinitions"], key=str)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


def test_cognito_public_client_and_groups(resources: Resources) -> None:
    client = one(resources, "AWS::Cognito::UserPoolClient")
    groups = of_type(resources, "AWS::Cognito::UserPoolGroup").values()

    assert client["GenerateSecret"] is False
    # the password flow only with AllowPasswordAuth=true (tests/infra/test_production.py)
    assert client["ExplicitAuthFlows"] == [
        {"Fn::If": ["PasswordAuth", "ALLOW_USER_PASSWORD_AUTH", {"Ref": "AWS::NoValue"}]},
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    assert {g["GroupName"] for g in groups} == {"Admin", "editors"}


def test_only_the_data_functions_see_the_tables_and_the_next_token_key(resources: Resources) -> None:
    def variables(function: str) -> dict[str, Any]:
        env: dict[str, Any] = resources[function]["Properties"].get("Environment", {}).get("Variables", {})
        return env

    for function in ("GraphQLFunction", "RestFunction"):
        assert "NEXT_TOKEN_SECRET" in variables(function)
    authorizer = variables("AuthorizerFunction")
    leaked = {k for k in authorizer if k.startswith("TABLE_") or k == "NEXT_TOKEN_SECRET"}
    assert not leaked
