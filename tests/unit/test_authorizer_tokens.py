"""Real RS256 tokens against the authorizer, for every caller: what is accepted, what is refused,
and the answer each gateway gets. Issuers here have their own RSA keys (a stand-in Cognito pool
and an OIDC provider); tests/functional/test_authorizer_cognito.py does the same with moto."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from modelauth.authorizer import CallerKind, Issuer, LambdaAuthorizer, TokenVerifier
from modelauth.errors import Unauthenticated
from tests.authz import TestIssuer, authorizer_event, forge, rsa_key
from tests.fixtures.schema import SCHEMA

POOL_ID = "us-east-1_TestPool1"
CLIENT = "app-client-1"
ALICE_SUB = "a1b2c3d4-0000-4000-8000-00000000a11c"
POOL = TestIssuer(f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}", CLIENT, "pool-key", "pool")
OIDC = TestIssuer("https://login.example.com/", "my-api", "oidc-key", "oidc")
UNTRUSTED = TestIssuer(
    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other", CLIENT, "pool-key", "pool"
)


def now() -> int:
    """Seconds now, read when a token is made (a module-level constant would age during a long run)."""
    return int(time.time())


ALL_CALLERS = list(CallerKind)


def access_token(**claims: Any) -> str:
    """A Cognito access token for alice (no aud; client_id names the app client)."""
    base: dict[str, Any] = {
        "sub": ALICE_SUB,
        "token_use": "access",
        "client_id": CLIENT,
        "aud": None,
        "username": "alice",
        "scope": "aws.cognito.signin.user.admin",
        "cognito:groups": ["Admin"],
        "preferred_username": None,
        "groups": None,
        "auth_time": now(),
    }
    return POOL.token(**{**base, **claims})


def id_token(**claims: Any) -> str:
    base: dict[str, Any] = {
        "sub": ALICE_SUB,
        "token_use": "id",
        "aud": CLIENT,
        "cognito:username": "alice",
        "preferred_username": None,
        "groups": None,
    }
    return POOL.token(**{**base, **claims})


def build(token_use: tuple[str, ...] = ("access",)) -> LambdaAuthorizer:
    verifier = TokenVerifier(
        [
            Issuer.cognito(POOL_ID, [CLIENT], token_use=token_use, jwks=POOL.jwks()),
            Issuer.oidc(OIDC.issuer, ["my-api"], jwks=OIDC.jwks(), subject_prefix="oidc:"),
        ]
    )
    return LambdaAuthorizer(verifier, schema=SCHEMA)


@pytest.fixture(scope="module")
def authorizer() -> LambdaAuthorizer:
    return build()


def hs256_with_public_key() -> str:
    """The classic key-confusion attack: HS256 'signed' with the issuer's public key as secret."""
    pem = (
        rsa_key("pool")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "pool-key"}).encode())
    payload = b64(json.dumps(POOL.claims(sub=ALICE_SUB, token_use="access", client_id=CLIENT)).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def alg_none() -> str:
    claims = POOL.claims(sub=ALICE_SUB, token_use="access", client_id=CLIENT)
    return jwt.encode(claims, None, algorithm="none", headers={"kid": "pool-key"})


REFUSED: dict[str, Callable[[], str | None]] = {
    "expired": lambda: f"Bearer {access_token(iat=now() - 7200, exp=now() - 3600)}",
    "expired beyond the leeway": lambda: f"Bearer {access_token(iat=now() - 3600, exp=now() - 61)}",
    "not valid yet (nbf)": lambda: f"Bearer {access_token(nbf=now() + 600)}",
    "issued in the future": lambda: f"Bearer {access_token(iat=now() + 600)}",
    "auth_time in the future": lambda: f"Bearer {access_token(auth_time=now() + 600)}",
    "wrong issuer (another pool)": lambda: f"Bearer {UNTRUSTED.token(sub=ALICE_SUB, token_use='access')}",
    "issuer of another trusted IdP": lambda: f"Bearer {access_token(iss=OIDC.issuer)}",
    "wrong client_id (access token)": lambda: f"Bearer {access_token(client_id='other-client')}",
    # Cognito's client_id is one string; only an OIDC aud may be a list
    "client_id as a list holding the client": lambda: f"Bearer {access_token(client_id=[CLIENT])}",
    "wrong token_use (ID token)": lambda: f"Bearer {id_token()}",
    "no token_use": lambda: f"Bearer {access_token(token_use=None)}",
    "alg none": lambda: f"Bearer {alg_none()}",
    "HS256 with the public key as secret": lambda: f"Bearer {hs256_with_public_key()}",
    "RS512": lambda: (
        "Bearer "
        + jwt.encode(
            POOL.claims(sub=ALICE_SUB, token_use="access", client_id=CLIENT),
            rsa_key("pool"),
            "RS512",
            headers={"kid": "pool-key"},
        )
    ),
    "unknown kid": lambda: (
        "Bearer "
        + POOL.token(sub=ALICE_SUB, token_use="access", client_id=CLIENT, headers={"kid": "rotated-away"})
    ),
    "no kid": lambda: (
        "Bearer "
        + jwt.encode(
            POOL.claims(sub=ALICE_SUB, token_use="access", client_id=CLIENT), rsa_key("pool"), "RS256"
        )
    ),
    "signed by another key with the right kid": lambda: (
        "Bearer " + POOL.token(sub=ALICE_SUB, token_use="access", client_id=CLIENT, key_name="attacker")
    ),
    "tampered payload": lambda: f"Bearer {forge(access_token(), sub='b0b0b0b0-0000-4000-8000-000000000b0b')}",
    "no sub": lambda: f"Bearer {access_token(sub=None)}",
    "no exp": lambda: f"Bearer {access_token(exp=None)}",
    "OIDC token for another audience": lambda: f"Bearer {OIDC.token(aud='someone-else')}",
    "garbage": lambda: "Bearer garbage",
    "three garbage segments": lambda: "Bearer a.b.c",
    "Basic credentials": lambda: "Basic YWxpY2U6c2VjcmV0",
    "empty bearer": lambda: "Bearer ",
    "oversize": lambda: "Bearer " + "a" * 9000,
    "no Authorization header": lambda: None,
}


def assert_refused(authorizer: LambdaAuthorizer, kind: CallerKind, credential: str | None) -> None:
    event = authorizer_event(kind, credential)
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        # API Gateway's 401 contract: the function fails with exactly "Unauthorized"
        with pytest.raises(Exception, match=r"^Unauthorized$") as raised:
            authorizer.handle(event)
        assert type(raised.value) is Exception
    else:
        assert authorizer.handle(event) == {"isAuthorized": False}


@pytest.mark.parametrize("kind", ALL_CALLERS, ids=str)
@pytest.mark.parametrize("case", list(REFUSED))
def test_invalid_credentials_are_refused_in_each_callers_format(
    authorizer: LambdaAuthorizer, case: str, kind: CallerKind
) -> None:
    assert_refused(authorizer, kind, REFUSED[case]())


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "token expired"),
        ("wrong issuer (another pool)", "untrusted issuer"),
        ("issuer of another trusted IdP", "no signing key with kid 'pool-key'"),
        ("wrong client_id (access token)", "token client_id 'other-client' is not an allowed client"),
        ("wrong token_use (ID token)", "token_use 'id' is not one of ['access']"),
        ("alg none", "token algorithm 'none' is not allowed (RS256 only)"),
        ("HS256 with the public key as secret", "token algorithm 'HS256' is not allowed"),
        ("unknown kid", "no signing key with kid 'rotated-away'"),
        ("signed by another key with the right kid", "InvalidSignatureError"),
        ("tampered payload", "InvalidSignatureError"),
        ("oversize", "credential longer than 8192 characters"),
        ("OIDC token for another audience", "token aud 'someone-else' is not an allowed client"),
    ],
)
def test_each_refusal_says_why(authorizer: LambdaAuthorizer, case: str, reason: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        authorizer.verifier.verify(REFUSED[case]())
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    "credential", [access_token(), f"Bearer {access_token()}", f"bearer  {access_token()}"]
)
def test_access_token_accepted_bare_or_as_bearer(authorizer: LambdaAuthorizer, credential: str) -> None:
    caller = authorizer.verifier.verify(credential)
    assert caller.principal_id == ALICE_SUB
    assert caller.context["username"] == "alice"


def test_expiry_within_the_leeway_is_still_accepted(authorizer: LambdaAuthorizer) -> None:
    caller = authorizer.verifier.verify(access_token(iat=now() - 3600, exp=now() - 30))
    assert caller.principal_id == ALICE_SUB


def test_id_tokens_only_where_configured() -> None:
    both = build(token_use=("id", "access"))
    assert both.verifier.verify(id_token()).context["tokenUse"] == "id"
    assert both.verifier.verify(access_token()).context["tokenUse"] == "access"
    with pytest.raises(Unauthenticated, match="Unauthorized") as refused:
        both.verifier.verify(id_token(aud="other-client"))
    assert "token aud 'other-client'" in refused.value.reason


def test_appsync_answer_carries_the_caller_denied_fields_and_a_bounded_ttl(
    authorizer: LambdaAuthorizer,
) -> None:
    token = access_token(exp=now() + 45)
    answer = authorizer.handle(authorizer_event(CallerKind.APPSYNC, f"Bearer {token}"))

    assert answer["isAuthorized"] is True
    assert 0 < answer["ttlOverride"] <= 45  # never cached past the token's exp
    assert answer["resolverContext"] == {
        "authMethod": "jwt",
        "sub": ALICE_SUB,
        "username": "alice",
        "issuer": POOL.issuer,
        "groups": '["Admin"]',
        "clientId": CLIENT,
        "tokenUse": "access",
        "scope": "aws.cognito.signin.user.admin",
    }
    # Ticket has allow.custom().to(read) + allow.owner("function"): reachable; the user-pool /
    # OIDC / IAM models have no rule for Lambda-authorized callers at all.
    assert not [f for f in answer["deniedFields"] if "Ticket" in f]
    assert {"Query.getTodo", "Mutation.deleteTodo", "Query.listPosts", "Profile.ssn"} <= set(
        answer["deniedFields"]
    )


def test_rest_answer_allows_the_whole_stage_with_flat_string_context(authorizer: LambdaAuthorizer) -> None:
    for kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        answer = authorizer.handle(authorizer_event(kind, f"Bearer {access_token()}"))

        assert answer["principalId"] == ALICE_SUB
        assert answer["policyDocument"] == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/*/*"],
                }
            ],
        }
        assert all(isinstance(v, str) for v in answer["context"].values())
        assert answer["context"]["sub"] == ALICE_SUB


def test_http_api_simple_answer(authorizer: LambdaAuthorizer) -> None:
    answer = authorizer.handle(authorizer_event(CallerKind.HTTP_V2, f"Bearer {access_token()}"))
    assert answer["isAuthorized"] is True
    assert answer["context"]["username"] == "alice"


def test_oidc_subjects_are_namespaced_so_they_never_match_pool_owners(authorizer: LambdaAuthorizer) -> None:
    caller = authorizer.verifier.verify(OIDC.token(sub=ALICE_SUB, preferred_username="alice"))
    assert caller.context["sub"] == f"oidc:{ALICE_SUB}"
    assert caller.context["username"] == f"oidc:{ALICE_SUB}"  # no username claim configured
    assert caller.context["groups"] == '["Moderator"]'
    assert caller.principal().claim("sub") == f"oidc:{ALICE_SUB}"


def test_issuers_sharing_a_subject_prefix_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="distinct subject_prefix"):
        TokenVerifier(
            [
                Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks()),
                Issuer.oidc(OIDC.issuer, ["my-api"], jwks=OIDC.jwks()),
            ]
        )


def test_required_scope_missing_is_a_403_deny_not_a_401() -> None:
    verifier = TokenVerifier(
        [Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks(), required_scopes=frozenset({"tickets/read"}))]
    )
    authorizer = LambdaAuthorizer(verifier)
    answer = authorizer.handle(authorizer_event(CallerKind.REST_TOKEN, f"Bearer {access_token()}"))

    assert answer["principalId"] == "denied"
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert answer["context"] == {"reason": "token lacks scope tickets/read"}
    ok = authorizer.verifier.verify(access_token(scope="tickets/read openid"))
    assert ok.context["scope"] == "openid tickets/read"
