"""template.yaml after the SAM transform, for the Lambda authorizer and the REST/HTTP APIs: one
authorizer on all three gateways, caching set deliberately, every route behind it."""

from __future__ import annotations

from typing import Any

from tests.infra.test_template import Resources, of_type, one
from tests.infra.test_template import resources as resources  # the shared fixture

AUTHORIZER_ARN = {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
TTL = 60  # the same on every gateway; the README explains the revocation trade-off


def authorizer_uri(function_arn: Any) -> dict[str, Any]:
    return {
        "Fn::Sub": [
            "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations",
            {"__FunctionArn__": function_arn},
        ]
    }


def test_authorizer_function_is_configured_for_the_pool_and_local_runs(resources: Resources) -> None:
    function = resources["AuthorizerFunction"]["Properties"]
    variables = function["Environment"]["Variables"]

    assert function["Handler"] == "app.lambda_handler"
    assert function["Timeout"] < 10  # AppSync gives a Lambda authorizer 10 s
    assert variables["USER_POOL_ID"] == {"Ref": "UserPool"}
    assert variables["USER_POOL_CLIENT_IDS"] == {"Ref": "UserPoolClient"}
    assert variables["MODELAUTH_TOKEN_USE"] == "access"
    assert variables["MODELAUTH_AUTHORIZER_TTL"] == str(TTL)
    # declared empty so `sam local --env-vars` can supply a JWKS and keys without network
    assert all(
        variables[name] == "" for name in ("MODELAUTH_JWKS", "MODELAUTH_API_KEYS", "MODELAUTH_OIDC_ISSUERS")
    )


def test_authorizer_may_read_only_its_api_key_parameter(resources: Resources) -> None:
    variables = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    role = resources["AuthorizerFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]

    assert [s["Action"] for s in statements] == ["ssm:GetParameter"]
    assert variables["MODELAUTH_API_KEYS_PARAMETER"] == {"Fn::Sub": "/modelauth/${Stage}/api-keys"}
    assert statements[0]["Resource"]["Fn::Sub"].endswith(":parameter/modelauth/${Stage}/api-keys")


def test_appsync_uses_it_as_its_lambda_mode(resources: Resources) -> None:
    api = one(resources, "AWS::AppSync::GraphQLApi")
    [lambda_mode] = [
        p for p in api["AdditionalAuthenticationProviders"] if p["AuthenticationType"] == "AWS_LAMBDA"
    ]

    assert lambda_mode["LambdaAuthorizerConfig"] == {
        "AuthorizerUri": AUTHORIZER_ARN,
        "AuthorizerResultTtlInSeconds": TTL,
    }
    permissions = of_type(resources, "AWS::Lambda::Permission").values()
    assert any(
        p["Principal"] == "appsync.amazonaws.com" and p["FunctionName"] == AUTHORIZER_ARN for p in permissions
    )


def test_rest_api_routes_are_behind_the_token_authorizer(resources: Resources) -> None:
    body = resources["RestApi"]["Properties"]["Body"]
    # OpenAPI 3 (Globals.Api.OpenApiVersion): components.securitySchemes, not securityDefinitions
    scheme = body["components"]["securitySchemes"]["ModelAuthToken"]

    assert scheme["name"] == "Authorization"
    assert scheme["x-amazon-apigateway-authorizer"] == {
        "type": "token",
        "authorizerResultTtlInSeconds": TTL,
        "authorizerUri": authorizer_uri(AUTHORIZER_ARN),
    }
    methods = [m for path in body["paths"].values() for m in path.values()]
    assert methods
    assert all(m["security"] == [{"ModelAuthToken": []}] for m in methods)


def test_rest_api_403_shows_the_authorizers_reason(resources: Resources) -> None:
    responses = resources["RestApi"]["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    template = responses["ACCESS_DENIED"]["responseTemplates"]["application/json"]
    assert "$context.authorizer.reason" in template


def test_http_api_routes_are_behind_the_request_authorizer_with_simple_responses(
    resources: Resources,
) -> None:
    body = resources["HttpApi"]["Properties"]["Body"]
    authorizer = body["components"]["securitySchemes"]["ModelAuthRequest"]["x-amazon-apigateway-authorizer"]

    assert authorizer == {
        "type": "request",
        "authorizerUri": authorizer_uri(AUTHORIZER_ARN),
        "authorizerResultTtlInSeconds": TTL,
        "identitySource": ["$request.header.Authorization"],
        "authorizerPayloadFormatVersion": "2.0",
        "enableSimpleResponses": True,
    }
    methods = [m for path in body["paths"].values() for m in path.values()]
    assert methods
    assert all(m["security"] == [{"ModelAuthRequest": []}] for m in methods)
    assert all(m["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0" for m in methods)


def test_rest_function_serves_both_apis_with_the_model_tables_policy(resources: Resources) -> None:
    role = resources["RestFunctionRole"]["Properties"]
    assert {"Ref": "ModelTablesPolicy"} in role["ManagedPolicyArns"]
    tables = {name for name, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    policy = resources["ModelTablesPolicy"]["Properties"]["PolicyDocument"]
    covered = {
        str(res).split("'")[3] for s in policy["Statement"] for res in s["Resource"] if "GetAtt" in str(res)
    }
    assert covered == tables
    for api in ("RestApi", "HttpApi"):
        integrations = [
            m["x-amazon-apigateway-integration"]["uri"]
            for path in resources[api]["Properties"]["Body"]["paths"].values()
            for m in path.values()
        ]
        assert integrations
        assert all("RestFunction.Arn" in str(uri) for uri in integrations)
