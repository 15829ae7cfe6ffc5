"""Test helpers for the Lambda authorizer: issuers with their own RSA keys, tokens signed with
moto's Cognito key, and authorizer/proxy events for every caller built from events/."""

from __future__ import annotations

import base64
import copy
import functools
import gzip
import json
import time
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from modelauth.authorizer import CallerKind

from tests.conftest import load_event

EVENT_NAMES = {
    CallerKind.APPSYNC: "authorizer.appsync",
    CallerKind.REST_TOKEN: "authorizer.rest-token",
    CallerKind.REST_REQUEST: "authorizer.rest-request",
    CallerKind.HTTP_V2: "authorizer.http-v2",
}


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One 2048-bit key per name for the whole test session (generation takes ~0.1 s)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(name: str, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(rsa_key(name).public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class TestIssuer:
    """A token issuer with its own RSA key (an OIDC provider, or a stand-in Cognito pool)."""

    __test__ = False  # not a pytest test class

    issuer: str
    audience: str = "client-1"
    kid: str = "key-1"
    key_name: str = "oidc"
    extra_keys: list[dict[str, Any]] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key_name, self.kid), *self.extra_keys]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "user-42",
            "aud": self.audience,
            "iat": now,
            "exp": now + 3600,
            "preferred_username": "carol",
            "groups": ["Moderator"],
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self, *, headers: dict[str, Any] | None = None, key_name: str | None = None, **claims: Any
    ) -> str:
        return jwt.encode(
            self.claims(**claims),
            rsa_key(key_name or self.key_name),
            algorithm="RS256",
            headers={"kid": self.kid, **(headers or {})},
        )


@functools.cache
def _moto_private_jwk() -> dict[str, Any]:
    data = files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    jwk: dict[str, Any] = json.loads(gzip.decompress(data))
    return jwk


def moto_sign(claims: dict[str, Any], **headers: Any) -> str:
    """A token signed with moto's Cognito key (what moto's own tokens are signed with)."""
    jwk = _moto_private_jwk()
    key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": jwk["kid"], **headers})  # type: ignore[arg-type]


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forge(token: str, **changes: Any) -> str:
    """The token with its payload changed and the original signature kept (tampering)."""
    header, _, signature = token.split(".")
    payload = {**unverified_claims(token), **changes}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def authorizer_event(kind: CallerKind, credential: str | None) -> dict[str, Any]:
    """events/authorizer.<caller>.json with this Authorization value (None: header absent)."""
    event = copy.deepcopy(load_event(EVENT_NAMES[kind]))
    if kind in (CallerKind.APPSYNC, CallerKind.REST_TOKEN):
        event["authorizationToken"] = credential
        if kind is CallerKind.APPSYNC:
            event["requestHeaders"]["authorization"] = credential
        return event
    headers = event["headers"]
    for name in [k for k in headers if k.lower() == "authorization"]:
        del headers[name]
    event.pop("multiValueHeaders", None)
    if credential is not None:
        headers["authorization" if kind is CallerKind.HTTP_V2 else "Authorization"] = credential
    if kind is CallerKind.HTTP_V2:
        event["identitySource"] = [credential] if credential is not None else []
    return event


def proxy_event(
    method: str, path: str, authorizer: dict[str, Any] | None, body: Any = None
) -> dict[str, Any]:
    """A REST (payload 1.0) proxy event as API Gateway sends it after the TOKEN authorizer."""
    event = copy.deepcopy(load_event("rest.getTicket.alice"))
    event.update(httpMethod=method, path=path, body=None if body is None else json.dumps(body))
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    context = event["requestContext"]
    context.update(httpMethod=method, path=f"/{context['stage']}{path}")
    if authorizer is None:
        del context["authorizer"]
    else:
        context["authorizer"] = authorizer
    return event


def rest_authorizer_context(response: dict[str, Any]) -> dict[str, Any]:
    """What a REST proxy integration sees of an authorizer's Allow answer (values as strings)."""
    context = {key: str(value) for key, value in response.get("context", {}).items()}
    return {**context, "principalId": response["principalId"], "integrationLatency": 12}
