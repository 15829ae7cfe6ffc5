"""The local identity pool and STS: who gets which credentials, and what AppSync then reports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from modelauth.local.identitypool import IdentityPoolError, LocalIdentityPool, Role

PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12"
TOKENS = {"token-alice": "A1", "token-bob": "B2"}


def verify_login(token: str) -> Mapping[str, Any]:
    if token not in TOKENS:
        raise ValueError("bad token")
    return {"sub": TOKENS[token]}


@pytest.fixture
def pool() -> LocalIdentityPool:
    return LocalIdentityPool(
        "us-east-1:pool",
        account_id="123456789012",
        region="us-east-1",
        auth_role=Role("AuthRole", "AROAAUTH"),
        unauth_role=Role("UnauthRole", "AROAUNAUTH"),
        login_provider=PROVIDER,
        verify_login=verify_login,
        assumable_roles={"modelauth-backend": Role("modelauth-backend", "AROABACKEND")},
    )


def identity_of(pool: LocalIdentityPool, answer: Mapping[str, Any]) -> dict[str, Any]:
    issued = pool.identity_of(answer["Credentials"]["AccessKeyId"])
    assert issued is not None
    return issued.appsync_identity("203.0.113.9")


def test_guest_credentials_carry_the_unauth_role(pool: LocalIdentityPool) -> None:
    guest = pool.get_id("us-east-1:pool")
    identity = identity_of(pool, pool.get_credentials(guest))
    assert identity == {
        "accountId": "123456789012",
        "cognitoIdentityPoolId": "us-east-1:pool",
        "cognitoIdentityId": guest,
        "cognitoIdentityAuthType": "unauthenticated",
        "cognitoIdentityAuthProvider": None,
        "sourceIp": ["203.0.113.9"],
        "username": "AROAUNAUTH:CognitoIdentityCredentials",
        "userArn": "arn:aws:sts::123456789012:assumed-role/UnauthRole/CognitoIdentityCredentials",
    }


def test_a_user_keeps_one_identity_with_the_auth_role(pool: LocalIdentityPool) -> None:
    logins = {PROVIDER: "token-alice"}
    first, again = pool.get_id("us-east-1:pool", logins), pool.get_id("us-east-1:pool", logins)
    assert first == again != pool.get_id("us-east-1:pool", {PROVIDER: "token-bob"})
    identity = identity_of(pool, pool.get_credentials(first, logins))
    assert identity["cognitoIdentityAuthType"] == "authenticated"
    assert identity["userArn"].endswith(":assumed-role/AuthRole/CognitoIdentityCredentials")
    assert identity["cognitoIdentityAuthProvider"] == f'"{PROVIDER}","{PROVIDER}:CognitoSignIn:A1"'


def test_each_call_issues_fresh_credentials(pool: LocalIdentityPool) -> None:
    guest = pool.get_id()
    one, two = pool.get_credentials(guest)["Credentials"], pool.get_credentials(guest)["Credentials"]
    assert one["AccessKeyId"] != two["AccessKeyId"]
    assert pool.lookup(one["AccessKeyId"]).secret_key == one["SecretKey"]  # type: ignore[union-attr]
    assert pool.lookup("ASIANEVERISSUED00000") is None


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda p: p.get_id("us-east-1:other"), "ResourceNotFoundException"),
        (lambda p: p.get_id(None, {PROVIDER: "forged"}), "NotAuthorizedException"),
        (lambda p: p.get_id(None, {"accounts.google.com": "token-alice"}), "NotAuthorizedException"),
        (lambda p: p.get_credentials("us-east-1:unknown"), "ResourceNotFoundException"),
        # a user's identity needs the user's login; a guest's takes none
        (lambda p: p.get_credentials(p.get_id(None, {PROVIDER: "token-alice"})), "NotAuthorizedException"),
        (
            lambda p: p.get_credentials(p.get_id(None, {PROVIDER: "token-alice"}), {PROVIDER: "token-bob"}),
            "NotAuthorizedException",
        ),
        (lambda p: p.get_credentials(p.get_id(), {PROVIDER: "token-alice"}), "NotAuthorizedException"),
        (lambda p: p.assume_role("arn:aws:iam::123456789012:role/Admin", "s1"), "AccessDenied"),
        (lambda p: p.assume_role("arn:aws:iam::999999999999:role/modelauth-backend", "s1"), "AccessDenied"),
        (lambda p: p.assume_role("modelauth-backend", "bad session!"), "ValidationError"),
    ],
)
def test_refusals(pool: LocalIdentityPool, call: Any, code: str) -> None:
    with pytest.raises(IdentityPoolError) as refused:
        call(pool)
    assert refused.value.code == code


def test_assumed_backend_role_is_no_identity_pool_identity(pool: LocalIdentityPool) -> None:
    key, issued = pool.assume_role("arn:aws:iam::123456789012:role/modelauth-backend", "worker")
    identity = issued.appsync_identity("127.0.0.1")
    assert identity["userArn"] == "arn:aws:sts::123456789012:assumed-role/modelauth-backend/worker"
    assert identity["username"] == "AROABACKEND:worker"
    assert identity["cognitoIdentityId"] is None
    assert pool.identity_of(key.access_key_id) == issued


def test_wire_protocols_through_boto3(server: Any, backend: Any) -> None:
    options = {"endpoint_url": server.root_url, "region_name": backend.region}
    options |= {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
    identity = boto3.client("cognito-identity", **options)
    with pytest.raises(ClientError) as refused:
        identity.get_id(IdentityPoolId=backend.identity_pool_id, Logins={backend.login_provider: "forged"})
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    # an access token is not a login: the identity pool takes ID tokens
    with pytest.raises(ClientError):
        identity.get_id(
            IdentityPoolId=backend.identity_pool_id, Logins={backend.login_provider: backend.token("bob")}
        )
    sts = boto3.client("sts", **options)
    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=f"arn:aws:iam::{backend.account_id}:role/Admin", RoleSessionName="x1")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_handle_rejects_what_it_does_not_speak(pool: LocalIdentityPool) -> None:
    status, headers, body = pool.handle(
        {"x-amz-target": "AWSCognitoIdentityService.DeleteIdentityPool"}, b"{}"
    )
    assert (status, json.loads(body)["__type"]) == (400, "UnknownOperationException")
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    status, _, body = pool.handle({}, b"Action=GetCallerIdentity")
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body
    status, _, body = pool.handle({"x-amz-target": "AWSCognitoIdentityService.GetId"}, b"[1]")
    assert json.loads(body)["__type"] == "InvalidParameterException"
