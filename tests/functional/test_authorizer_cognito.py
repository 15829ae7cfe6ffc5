"""The authorizer with local Cognito (moto): users sign in for real RS256 tokens, the authorizer
trusts moto's JWKS (modelauth.local.moto_jwks) and answers every caller; API keys live in SSM."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from moto import mock_aws

from modelauth.apikeys import SsmApiKeys, new_api_key
from modelauth.authorizer import CallerKind, Issuer, LambdaAuthorizer, TokenVerifier
from modelauth.errors import Unauthenticated
from modelauth.local import LocalUserPool, moto_jwks
from tests.authz import authorizer_event, forge, moto_sign, unverified_claims

PASSWORD = "Correct-Horse-9"


@dataclass
class Cognito:
    pool: LocalUserPool
    other_client_id: str
    tokens: dict[str, dict[str, str]]
    subs: dict[str, str]
    ssm: Any


@pytest.fixture(scope="module")
def cognito() -> Iterator[Cognito]:
    """One moto pool for the module (signing in is the slow part); tests only read it."""
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        pool = LocalUserPool.create(client, groups=["Admin"])
        other = client.create_user_pool_client(UserPoolId=pool.pool_id, ClientName="other")
        subs = {
            "alice": pool.add_user("alice", PASSWORD, groups=["Admin"]),
            "bob": pool.add_user("bob", PASSWORD),
        }
        tokens = {name: pool.sign_in(name, PASSWORD) for name in subs}
        yield Cognito(
            pool,
            other["UserPoolClient"]["ClientId"],
            tokens,
            subs,
            boto3.client("ssm", region_name="us-east-1"),
        )


def build(cognito: Cognito, **options: Any) -> LambdaAuthorizer:
    issuer = Issuer.cognito(cognito.pool.pool_id, [cognito.pool.client_id], jwks=moto_jwks(), **options)
    return LambdaAuthorizer(TokenVerifier([issuer]))


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
def test_a_signed_in_users_access_token_is_accepted_by_every_caller(
    cognito: Cognito, kind: CallerKind
) -> None:
    token = cognito.tokens["alice"]["AccessToken"]
    answer = build(cognito).handle(authorizer_event(kind, f"Bearer {token}"))

    context = answer.get("resolverContext") or answer.get("context")
    assert context is not None, answer
    assert (context["sub"], context["username"]) == (cognito.subs["alice"], "alice")
    assert json.loads(context["groups"]) == ["Admin"]
    assert context["issuer"] == cognito.pool.issuer
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        assert answer["principalId"] == cognito.subs["alice"]
    else:
        assert answer["isAuthorized"] is True


def moto_claims(cognito: Cognito, **changes: Any) -> dict[str, Any]:
    """Alice's access-token claims, changed, to be re-signed with moto's own key."""
    return {**unverified_claims(cognito.tokens["alice"]["AccessToken"]), **changes}


REFUSED = {
    "ID token where access tokens are expected": lambda c: c.tokens["alice"]["IdToken"],
    "expired (signed by moto's key)": lambda c: moto_sign(moto_claims(c, exp=int(time.time()) - 3600)),
    "another app client of the pool": lambda c: moto_sign(moto_claims(c, client_id=c.other_client_id)),
    "another pool (signed by moto's key)": lambda c: moto_sign(
        moto_claims(c, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_another")
    ),
    "tampered: bob's token claiming alice's sub": lambda c: forge(
        c.tokens["bob"]["AccessToken"], sub=c.subs["alice"]
    ),
    "refresh token": lambda c: c.tokens["alice"]["RefreshToken"],
}


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
@pytest.mark.parametrize("case", list(REFUSED))
def test_moto_tokens_that_must_be_refused(cognito: Cognito, case: str, kind: CallerKind) -> None:
    event = authorizer_event(kind, f"Bearer {REFUSED[case](cognito)}")
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            build(cognito).handle(event)
    else:
        assert build(cognito).handle(event) == {"isAuthorized": False}


def test_id_tokens_when_configured(cognito: Cognito) -> None:
    authorizer = build(cognito, token_use=("id",))
    caller = authorizer.verifier.verify(cognito.tokens["bob"]["IdToken"])
    assert (caller.context["username"], caller.context["tokenUse"]) == ("bob", "id")
    with pytest.raises(Unauthenticated):
        authorizer.verifier.verify(cognito.tokens["bob"]["AccessToken"])


# ----------------------------------------------------------------------------- API keys in SSM


def put_keys(cognito: Cognito, name: str, *records: Any) -> None:
    document = {"keys": [r.as_json() for r in records]}
    cognito.ssm.put_parameter(Name=name, Value=json.dumps(document), Type="SecureString", Overwrite=True)


def ssm_keys(cognito: Cognito, name: str, max_age: int = 60) -> SsmApiKeys:
    return SsmApiKeys(name, provider=SSMProvider(boto3_client=cognito.ssm), max_age=max_age)


def test_api_keys_from_ssm_rotate_without_a_deploy(cognito: Cognito) -> None:
    now = datetime.now(UTC)
    old_key, old = new_api_key("ci-old", now + timedelta(days=1))
    new_key, new = new_api_key("ci-new", now + timedelta(days=30))
    put_keys(cognito, "/modelauth/test/api-keys", old, new)
    verifier = TokenVerifier([], api_keys=ssm_keys(cognito, "/modelauth/test/api-keys", max_age=0))

    assert verifier.verify(old_key).principal_id == "apikey:ci-old"
    assert verifier.verify(new_key).principal_id == "apikey:ci-new"

    put_keys(
        cognito, "/modelauth/test/api-keys", new
    )  # rotation done: the old key is gone from the parameter
    with pytest.raises(Unauthenticated):
        verifier.verify(old_key)
    assert verifier.verify(new_key).principal_id == "apikey:ci-new"


def test_a_missing_key_parameter_denies_every_key_without_a_500(cognito: Cognito) -> None:
    key, _ = new_api_key("ci", datetime.now(UTC) + timedelta(days=1))
    authorizer = LambdaAuthorizer(TokenVerifier([], api_keys=ssm_keys(cognito, "/modelauth/test/missing")))

    assert authorizer.handle(authorizer_event(CallerKind.APPSYNC, key)) == {
        "isAuthorized": False,
        "ttlOverride": 0,
    }
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.handle(authorizer_event(CallerKind.REST_TOKEN, key))


def test_the_default_ssm_provider_reads_the_parameter_on_the_first_api_key(
    cognito: Cognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No client is built at the cold start (JWT requests never need one): the first API key
    builds Powertools' SSMProvider in the function's region and reads the parameter."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    key, record = new_api_key("ci-default", datetime.now(UTC) + timedelta(days=1))
    put_keys(cognito, "/modelauth/test/default-provider", record)
    verifier = TokenVerifier([], api_keys=SsmApiKeys("/modelauth/test/default-provider"))

    assert verifier.verify(key).principal_id == "apikey:ci-default"


def test_no_region_for_the_default_ssm_provider_denies_every_key_without_a_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building the client on the first API key fails closed, as an unreadable parameter does."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    key, _ = new_api_key("ci", datetime.now(UTC) + timedelta(days=1))
    authorizer = LambdaAuthorizer(TokenVerifier([], api_keys=SsmApiKeys("/modelauth/test/no-region")))

    assert authorizer.handle(authorizer_event(CallerKind.APPSYNC, key)) == {
        "isAuthorized": False,
        "ttlOverride": 0,
    }
