"""Request-level refusals of the local endpoint, before any resolver, as AppSync answers them:
status, ``{"errors": [{"errorType", "message"}]}`` and the ``x-amzn-ErrorType`` header.

Every row is a credential that fails its mode's check: API keys (unknown, expired), JWTs
(tampered, expired, wrong client, foreign issuer without a matching mode), SigV4 (wrong secret,
stale date, unknown key, missing session token, tampered body; HTTP 403 with AWS's SigV4 error
types), the Lambda authorizer (isAuthorized false), and no credential at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import jwt
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.local.conftest import Client, identity_pool_credentials, reasons

NOT_AUTHORIZED = "You are not authorized to make this call."
QUERY = {"query": "{ listTodos { items { id } } }"}


def post(server: Any, headers: dict[str, str], body: bytes | None = None) -> requests.Response:
    data = body if body is not None else json.dumps(QUERY).encode()
    return requests.post(server.url, data=data, headers={"x-modelauth-explain": "1", **headers}, timeout=30)


def signed(server: Any, creds: Credentials, *, body: bytes) -> dict[str, str]:
    request = AWSRequest(
        method="POST", url=server.url, data=body, headers={"content-type": "application/json"}
    )
    SigV4Auth(creds, "appsync", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def forged_token(backend: Any, **changes: Any) -> str:
    """A user-pool-looking token: the claims of a real one, changed, re-signed with a foreign key."""
    claims = {**jwt.decode(backend.token("alice"), options={"verify_signature": False}), **changes}
    from modelauth.local.sandbox import LocalIssuer

    stranger = LocalIssuer.generate("https://stranger.example", "x")
    return jwt.encode(
        claims,
        stranger.private_pem,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(backend.token("alice"))["kid"]},
    )


HeaderFactory = Callable[[Any, Any], dict[str, str]]

#: case -> (its headers, the logged reason, the client's message)
CASES: dict[str, tuple[HeaderFactory, str, str]] = {
    "no credential": (
        lambda s, b: {},
        "no x-api-key and no Authorization header",
        "Valid authorization header not provided.",
    ),
    "unknown API key": (lambda s, b: {"x-api-key": "da2-" + "z" * 26}, "unknown API key", NOT_AUTHORIZED),
    "expired API key": (
        lambda s, b: {"x-api-key": "da2-expiredexpiredexpired00"},
        "API key expired at",
        NOT_AUTHORIZED,
    ),
    "token re-signed with another key": (
        lambda s, b: {"authorization": forged_token(b)},
        "AMAZON_COGNITO_USER_POOLS",
        NOT_AUTHORIZED,
    ),
    "expired user-pool token": (
        lambda s, b: {"authorization": _expired(b)},
        "AMAZON_COGNITO_USER_POOLS: token expired",
        "Token has expired.",
    ),
    "OIDC token for another client": (
        lambda s, b: {"authorization": _oidc(b, aud="someone-else")},
        "OPENID_CONNECT",
        NOT_AUTHORIZED,
    ),
    "expired OIDC token": (
        lambda s, b: {"authorization": _oidc(b, exp=int(time.time()) - 3600)},
        "OPENID_CONNECT: token expired",
        "Token has expired.",
    ),
    "not a JWT, authorizer says no": (
        lambda s, b: {"authorization": "let-me-in"},
        "isAuthorized false",
        NOT_AUTHORIZED,
    ),
    "authorizer key that was never issued": (
        lambda s, b: {"authorization": "mak_" + "A" * 43},
        "unknown API key",
        NOT_AUTHORIZED,
    ),
}


def _expired(backend: Any) -> str:
    """A user-pool token signed with moto's own key, expired an hour ago."""
    import gzip
    from importlib.resources import files

    claims = {**jwt.decode(backend.token("alice"), options={"verify_signature": False})}
    claims["exp"] = int(time.time()) - 3600
    data = files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    private = json.loads(gzip.decompress(data))
    private = private["keys"][0] if "keys" in private else private
    key = jwt.PyJWK.from_dict(private).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": private["kid"]})


def _oidc(backend: Any, **changes: Any) -> str:
    claims = {**jwt.decode(backend.token("erin", "oidc"), options={"verify_signature": False}), **changes}
    return jwt.encode(claims, backend.oidc.private_pem, algorithm="RS256", headers={"kid": backend.oidc.kid})


@pytest.fixture(scope="module")
def expired_key(backend: Any, server: Any) -> None:
    # the authenticator holds its own copy of the keys (as loaded at start-up)
    server.authenticator.api_keys["da2-expiredexpiredexpired00"] = time.time() - 60


@pytest.mark.parametrize("case", list(CASES))
def test_bad_credentials_are_refused_with_401(
    server: Any, backend: Any, expired_key: None, case: str
) -> None:
    make_headers, why, message = CASES[case]
    response = post(server, make_headers(server, backend))
    assert response.status_code == 401
    assert response.json() == {"errors": [{"errorType": "UnauthorizedException", "message": message}]}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    [decision] = reasons(response)
    assert decision["field"] == "request"
    assert why in decision["reason"]


MISMATCH = "The request signature we calculated does not match the signature you provided."


def refused(response: requests.Response, error_type: str, message: str) -> None:
    """A SigV4 refusal as AWS's front end answers it: 403, the type in body and header."""
    assert response.status_code == 403
    [error] = response.json()["errors"]
    assert error["errorType"] == response.headers["x-amzn-ErrorType"] == error_type
    assert error["message"].startswith(message), error


def test_sigv4_with_the_wrong_secret(server: Any, backend: Any) -> None:
    creds = identity_pool_credentials(server, backend)
    body = json.dumps(QUERY).encode()
    response = post(
        server, signed(server, Credentials(creds.access_key, "wrong", creds.token), body=body), body
    )
    refused(response, "InvalidSignatureException", MISMATCH)
    assert reasons(response)[0]["reason"] == "SigV4: signature does not match"


def test_sigv4_body_changed_after_signing(server: Any, backend: Any) -> None:
    creds = identity_pool_credentials(server, backend)
    headers = signed(server, creds, body=json.dumps(QUERY).encode())
    response = post(server, headers, json.dumps({"query": "{ listNotes { items { id } } }"}).encode())
    refused(response, "InvalidSignatureException", MISMATCH)


def test_sigv4_signed_too_long_ago(server: Any, backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = identity_pool_credentials(server, backend)
    body = json.dumps(QUERY).encode()
    ten_minutes_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: ten_minutes_ago)
    response = post(server, signed(server, creds, body=body), body)
    refused(response, "InvalidSignatureException", "Signature expired: ")
    assert "away from the server clock" in reasons(response)[0]["reason"]


def test_sigv4_with_credentials_the_pool_never_issued(server: Any) -> None:
    body = json.dumps(QUERY).encode()
    headers = signed(server, Credentials("ASIAAAAAAAAAAAAAAAAA", "secret", "token"), body=body)
    response = post(server, headers, body)
    refused(response, "UnrecognizedClientException", "The security token included in the request is invalid.")
    assert "unknown access key" in reasons(response)[0]["reason"]


def test_sigv4_without_the_session_token(server: Any, backend: Any) -> None:
    creds = identity_pool_credentials(server, backend)
    body = json.dumps(QUERY).encode()
    response = post(server, signed(server, Credentials(creds.access_key, creds.secret_key), body=body), body)
    refused(response, "UnrecognizedClientException", "The security token included in the request is invalid.")
    assert "x-amz-security-token" in reasons(response)[0]["reason"]


def test_malformed_body_with_valid_credentials_is_a_400(clients: dict[str, Client], server: Any) -> None:
    response = requests.post(
        server.url, data=b"{not json", headers=dict(clients["alice"].headers), timeout=30
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_invalid_graphql_is_a_validation_error(clients: dict[str, Client]) -> None:
    response = clients["alice"].post("{ listTodos { items { nope } } }")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["errorType"] == "ValidationError"
    assert "nope" in error["message"]


def test_unknown_route_is_a_404(server: Any) -> None:
    assert requests.get(server.url.replace("/graphql", "/nowhere"), timeout=30).status_code == 404
    assert requests.get(server.url.replace("/graphql", "/health"), timeout=30).json()["status"] == "ok"


def test_a_field_the_mode_may_not_read_is_a_200_with_its_error(
    server: Any, clients: dict[str, Client]
) -> None:
    """AppSync's answer for a field the caller's mode is not authorized for: HTTP 200, the field
    null, an ``Unauthorized`` error with its path; no x-amzn-ErrorType (the request succeeded)."""
    response = clients["api_key"].post("{ listNotes { items { id } } }")
    assert response.status_code == 200
    assert "x-amzn-ErrorType" not in response.headers
    body = response.json()
    assert body["data"] == {"listNotes": None}
    [error] = body["errors"]
    assert (error["errorType"], error["message"], error["path"]) == (
        "Unauthorized",
        "Not Authorized to access listNotes on type Query",
        ["listNotes"],
    )
