"""`modelauth api-key-expiry` and `modelauth rotate-api-key` against moto's AppSync and
CloudFormation: the key is renewed in place, --check fails a key that is about to expire, and bad
input is one line with exit code 2."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.local.apikey import DAY, expires_on
from modelauth.local.cli import main
from tests.conftest import EXAMPLE

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A moto AppSync API with one API key (AppSync's 7-day default), and a stack naming it."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        appsync = boto3.client("appsync", region_name=REGION)
        api_id = appsync.create_graphql_api(name="modelauth-prod", authenticationType="API_KEY")[
            "graphqlApi"
        ]["apiId"]
        key = appsync.create_api_key(apiId=api_id, description="public")["apiKey"]
        # moto's CloudFormation has no AppSync resources: a stack whose output names the API
        # as the templates' GraphQLApiId output does
        template = {
            "Parameters": {"ApiId": {"Type": "String"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"GraphQLApiId": {"Value": {"Ref": "ApiId"}}},
        }
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        for name, body in [("modelauth-prod", template), ("no-api", {**template, "Outputs": {}})]:
            cloudformation.create_stack(
                StackName=name,
                TemplateBody=json.dumps(body),
                Parameters=[{"ParameterKey": "ApiId", "ParameterValue": api_id}],
            )
        yield {"appsync": appsync, "api_id": api_id, "key": key}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expiry(aws: dict[str, Any]) -> int:
    (key,) = aws["appsync"].list_api_keys(apiId=aws["api_id"])["apiKeys"]
    assert key["id"] == aws["key"]["id"]  # the same key string: clients keep working
    return int(key["expires"])


def test_rotate_renews_the_key_in_place_for_the_stack(aws: dict[str, Any], capsys: Any) -> None:
    before = expiry(aws)
    assert before - time.time() < 8 * DAY  # AppSync's default

    code, out, err = cli(capsys, "rotate-api-key", "--stack", "modelauth-prod", "--days", "200")

    assert (code, err) == (0, "")
    after = expiry(aws)
    assert 200 * DAY <= after - time.time() <= 200 * DAY + 3600
    assert out.startswith(f"renewed {aws['key']['id'][:8]}...: 200.0 days left")


def test_rotate_by_api_id_defaults_to_appsyncs_maximum(aws: dict[str, Any], capsys: Any) -> None:
    code, _, _ = cli(capsys, "rotate-api-key", "--api-id", aws["api_id"], "--region", REGION)

    assert code == 0
    assert 364 * DAY < expiry(aws) - time.time() <= 365 * DAY


def test_check_fails_when_a_key_expires_within_min_days(aws: dict[str, Any], capsys: Any) -> None:
    before = expiry(aws)

    code, out, err = cli(capsys, "rotate-api-key", "--stack", "modelauth-prod", "--check", "--min-days", "30")

    assert code == 1
    assert "days left" in out
    assert "below --min-days 30" in out
    assert f"modelauth rotate-api-key --api-id {aws['api_id']}" in err
    assert expiry(aws) == before  # --check changes nothing


def test_check_passes_after_a_renewal(aws: dict[str, Any], capsys: Any) -> None:
    assert cli(capsys, "rotate-api-key", "--stack", "modelauth-prod", "--days", "90")[0] == 0

    code, out, err = cli(capsys, "rotate-api-key", "--stack", "modelauth-prod", "--check", "--min-days", "30")

    assert (code, err) == (0, "")
    assert "90.0 days left" in out
    assert "below" not in out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--stack", "nope"], "cannot read stack 'nope' (ValidationError"),
        (["--stack", "no-api"], "stack 'no-api' has no GraphQLApiId output: pass --api-id"),
        (["--api-id", "nope"], "cannot list the API keys of AppSync API 'nope' (NotFoundException"),
        (["--api-id", "nope", "--check"], "cannot list the API keys of AppSync API 'nope' (NotFound"),
        (["--stack", "modelauth-prod", "--days", "0"], "--days must be 1..365"),
        (["--stack", "modelauth-prod", "--days", "366"], "--days must be 1..365"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    aws: dict[str, Any], capsys: Any, args: list[str], reason: str
) -> None:
    before = expiry(aws)

    code, out, err = cli(capsys, "rotate-api-key", *args)

    assert (code, out) == (2, "")
    assert err.startswith(f"modelauth rotate-api-key: {reason}")
    assert err.count("\n") == 1  # one line, no traceback
    assert expiry(aws) == before


def test_an_api_without_keys_is_a_clear_error(aws: dict[str, Any], capsys: Any) -> None:
    aws["appsync"].delete_api_key(apiId=aws["api_id"], id=aws["key"]["id"])

    code, _, err = cli(capsys, "rotate-api-key", "--api-id", aws["api_id"], "--check")

    assert code == 2
    assert err.endswith(f"AppSync API {aws['api_id']!r} has no API key (does it allow API_KEY?)\n")
    assert err.count("\n") == 1


def test_api_key_expiry_prints_the_epoch_or_the_deploy_overrides(
    capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLE)
    code, out, _ = cli(capsys, "api-key-expiry", "--days", "30")
    assert code == 0
    assert abs(int(out) - expires_on(30)) <= 3600  # an hour boundary may pass between the two

    code, out, _ = cli(capsys, "api-key-expiry", "--config-env", "ci")
    assert code == 0
    assert out.split()[:2] == ["Stage=prod", "LogLevel=WARNING"]
    assert out.split()[2].startswith("ApiKeyExpiresOn=")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--days", "0"], "--days must be 1..365 (AppSync's limits for an API key), got 0"),
        (["--days", "400"], "--days must be 1..365 (AppSync's limits for an API key), got 400"),
        (["--config-env", "staging"], "has no [staging.*] environment"),
    ],
)
def test_api_key_expiry_bad_input(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, args: list[str], reason: str
) -> None:
    monkeypatch.chdir(EXAMPLE)

    code, out, err = cli(capsys, "api-key-expiry", *args)

    assert (code, out) == (2, "")
    assert err.startswith("modelauth api-key-expiry: ")
    assert reason in err
    assert err.count("\n") == 1


def test_no_region_is_a_clear_error(capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    code, out, err = cli(capsys, "rotate-api-key", "--api-id", "x", "--check")

    assert (code, out) == (2, "")
    assert err == "modelauth rotate-api-key: no AWS region: pass --region or set AWS_DEFAULT_REGION\n"
