"""Issue 23 items 3-5 on the SAM-translated template (tools/translate_template.py), in both the
example's template and the one `modelauth init` writes: pools that survive a stack update,
AppSync service roles that trust only this account's AppSync, identity-pool roles limited to the
fields their rules reach, and the logs, throttling and parameters a production stack needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelauth.local.samtemplate import resolve
from modelauth.project import SchemaRef
from modelauth.rules import Schema
from modelauth.sdl import identity_pool_fields
from tests.conftest import EXAMPLE, FIXTURE_SCHEMA, PROJECT
from tools.translate_template import translate

Template = dict[str, Any]

SCHEMAS = {
    "example": lambda: SchemaRef.parse("appschema:SCHEMA").load(search=EXAMPLE),
    "init": lambda: SchemaRef.parse(FIXTURE_SCHEMA).load(),
}


@pytest.fixture(scope="module", params=[EXAMPLE, PROJECT], ids=["example", "init"])
def project(request: pytest.FixtureRequest) -> tuple[Template, Schema]:
    path = Path(request.param)
    kind = "example" if path == EXAMPLE else "init"
    return translate(path / "template.yaml"), SCHEMAS[kind]()


@pytest.fixture(scope="module")
def translated(project: tuple[Template, Schema]) -> Template:
    return project[0]


def of_type(template: Template, cfn_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == cfn_type}


def evaluate(template: Template, value: Any, **overrides: str) -> Any:
    """``value`` as CloudFormation would deploy it with the parameters' defaults and ``overrides``."""
    refs = {name: str(p["Default"]) for name, p in template["Parameters"].items() if "Default" in p}
    refs.update(overrides)
    return resolve(value, refs, template.get("Conditions", {}))


# ---------------------------------------------------------------- 3: pools that outlive the stack


@pytest.mark.parametrize("pool", ["UserPool", "IdentityPool"])
def test_the_pools_are_retained_on_deletion_and_replacement(translated: Template, pool: str) -> None:
    resource = translated["Resources"][pool]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_user_pool_cannot_be_deleted_by_accident(translated: Template) -> None:
    assert translated["Resources"]["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"


# ---------------------------------------------------------------- 4: confused deputy


def _appsync_roles(template: Template) -> dict[str, dict[str, Any]]:
    roles = {}
    for name, role in of_type(template, "AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            if statement.get("Principal", {}).get("Service") in (
                "appsync.amazonaws.com",
                ["appsync.amazonaws.com"],
            ):
                roles[name] = statement
    return roles


def test_every_role_appsync_assumes_is_the_templates_own_with_source_conditions(translated: Template) -> None:
    roles = _appsync_roles(translated)
    assert set(roles) == {"GraphQLDataSourceRole", "GraphQLLoggingRole"}  # none made by SAM
    for trust in roles.values():
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert roles["GraphQLDataSourceRole"]["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::GetAtt": ["GraphQLApi", "Arn"]}
    }
    assert roles["GraphQLLoggingRole"]["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:appsync:${AWS::Region}:${AWS::AccountId}:apis/*"}
    }


def test_the_api_uses_those_roles(translated: Template) -> None:
    (api,) = of_type(translated, "AWS::AppSync::GraphQLApi").values()
    assert api["Properties"]["LogConfig"]["CloudWatchLogsRoleArn"] == {
        "Fn::GetAtt": ["GraphQLLoggingRole", "Arn"]
    }
    for source in of_type(translated, "AWS::AppSync::DataSource").values():
        assert source["Properties"]["ServiceRoleArn"] == {"Fn::GetAtt": ["GraphQLDataSourceRole", "Arn"]}


def test_the_data_source_role_invokes_the_resolver_function_only(translated: Template) -> None:
    """SAM makes no connector for a data source with ServiceRoleArn: the role's own policy is the
    only invoke permission, and it names the resolver function (and its versions) alone."""
    [policy] = translated["Resources"]["GraphQLDataSourceRole"]["Properties"]["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["lambda:InvokeFunction"]
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["GraphQLFunction", "Arn"]},
        {"Fn::Sub": "${GraphQLFunction.Arn}:*"},
    ]
    connectors = [name for name in translated["Resources"] if "LambdaDataSourceToLambda" in name]
    assert not connectors


def test_the_logging_role_writes_appsync_log_groups_but_creates_none(translated: Template) -> None:
    [policy] = translated["Resources"]["GraphQLLoggingRole"]["Properties"]["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert "/aws/appsync/apis/*" in statement["Resource"]["Fn::Sub"]


@pytest.mark.parametrize(
    ("policy", "role", "guest"),
    [
        ("IdentityPoolGuestGraphQLPolicy", "IdentityPoolUnauthRole", True),
        ("IdentityPoolAuthGraphQLPolicy", "IdentityPoolAuthRole", False),
    ],
)
def test_identity_pool_roles_reach_only_the_fields_their_rules_reach(
    project: tuple[Template, Schema], policy: str, role: str, guest: bool
) -> None:
    template, schema = project
    reached = identity_pool_fields(schema, guest=guest)
    assert reached  # both schemas have guest and identity-pool rules: the test can fail
    props = template["Resources"][policy]["Properties"]
    assert props["Roles"] == [{"Ref": role}]
    [statement] = props["PolicyDocument"]["Statement"]
    assert statement["Action"] == "appsync:GraphQL"
    arns = [r["Fn::Sub"] for r in statement["Resource"]]
    root = {arn.split("/types/", 1)[1] for arn in arns if "/fields/" in arn}
    assert root == {f"{f.type_name}/fields/{f.field_name}" for f in reached}
    below = {arn.split("/types/", 1)[1] for arn in arns if "/fields/" not in arn}
    assert below == {f"{t}/*" for f in reached for t in f.types}
    assert all(arn.startswith("${GraphQLApi.Arn}/types/") for arn in arns)
    # no other policy opens AppSync to the identity-pool roles
    others = [
        name
        for name, p in of_type(template, "AWS::IAM::Policy").items()
        if name != policy and {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert not others


def test_a_guest_cannot_reach_a_field_only_signed_in_rules_allow(project: tuple[Template, Schema]) -> None:
    template, schema = project
    guest = {f.field_name for f in identity_pool_fields(schema, guest=True)}
    signed_in = {f.field_name for f in identity_pool_fields(schema, guest=False)}
    assert signed_in - guest  # e.g. createNote: allow.authenticated("identityPool") only
    [statement] = template["Resources"]["IdentityPoolGuestGraphQLPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    granted = {r["Fn::Sub"].rsplit("/", 1)[1] for r in statement["Resource"]}
    assert not (signed_in - guest) & granted


# ---------------------------------------------------------------- 5: logs, stages, throttling, parameters


def test_every_log_group_has_a_retention(translated: Template) -> None:
    groups = of_type(translated, "AWS::Logs::LogGroup")
    assert {"GraphQLApiLogGroup", "RestApiAccessLogGroup", "HttpApiAccessLogGroup"} <= set(groups)
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    appsync = groups["GraphQLApiLogGroup"]["Properties"]
    assert appsync["LogGroupName"] == {"Fn::Sub": "/aws/appsync/apis/${GraphQLApi.ApiId}"}
    assert evaluate(translated, appsync["RetentionInDays"]) == "30"


def test_no_extra_stage_named_stage(translated: Template) -> None:
    stages = of_type(translated, "AWS::ApiGateway::Stage")
    assert [s["Properties"]["StageName"] for s in stages.values()] == [{"Ref": "Stage"}]
    assert translated["Resources"]["RestApi"]["Properties"]["Body"]["openapi"] == "3.0.1"


def test_rest_and_http_api_stages_log_access_and_throttle(translated: Template) -> None:
    (rest,) = of_type(translated, "AWS::ApiGateway::Stage").values()
    (http,) = of_type(translated, "AWS::ApiGatewayV2::Stage").values()
    rest_props, http_props = rest["Properties"], http["Properties"]
    assert rest_props["AccessLogSetting"]["DestinationArn"] == {
        "Fn::GetAtt": ["RestApiAccessLogGroup", "Arn"]
    }
    assert http_props["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]
    }
    for log in (rest_props["AccessLogSetting"], http_props["AccessLogSettings"]):
        assert "$context.requestId" in log["Format"]
        assert "$context.status" in log["Format"]
    [method] = rest_props["MethodSettings"]
    assert (method["ResourcePath"], method["HttpMethod"]) == ("/*", "*")
    for settings in (method, http_props["DefaultRouteSettings"]):
        assert evaluate(translated, settings["ThrottlingRateLimit"]) == "100"
        assert evaluate(translated, settings["ThrottlingBurstLimit"]) == "200"


def test_reserved_concurrency_is_a_parameter_and_0_leaves_functions_unreserved(translated: Template) -> None:
    functions = of_type(translated, "AWS::Lambda::Function")
    assert functions
    for function in functions.values():
        reserved = {"R": function["Properties"]["ReservedConcurrentExecutions"]}
        assert evaluate(translated, reserved) == {}
        assert evaluate(translated, reserved, ReservedConcurrency="5") == {"R": "5"}


def test_password_auth_only_when_allowed(translated: Template) -> None:
    assert translated["Parameters"]["AllowPasswordAuth"]["Default"] == "false"
    (client,) = of_type(translated, "AWS::Cognito::UserPoolClient").values()
    flows = client["Properties"]["ExplicitAuthFlows"]
    assert evaluate(translated, flows) == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert "ALLOW_USER_PASSWORD_AUTH" in evaluate(translated, flows, AllowPasswordAuth="true")


@pytest.mark.parametrize(
    ("mfa", "enabled"), [("OFF", None), ("OPTIONAL", ["SOFTWARE_TOKEN_MFA"]), ("ON", ["SOFTWARE_TOKEN_MFA"])]
)
def test_mfa_is_a_parameter(translated: Template, mfa: str, enabled: list[str] | None) -> None:
    assert translated["Parameters"]["Mfa"]["AllowedValues"] == ["OFF", "OPTIONAL", "ON"]
    assert translated["Parameters"]["Mfa"]["Default"] == "OFF"
    props = translated["Resources"]["UserPool"]["Properties"]
    deployed = evaluate(translated, {k: props[k] for k in ("MfaConfiguration", "EnabledMfas")}, Mfa=mfa)
    assert deployed.get("MfaConfiguration") == mfa
    assert deployed.get("EnabledMfas") == enabled
