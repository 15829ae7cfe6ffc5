"""Test helpers for the Lambda authorizer: issuers with their own RSA keys, tokens signed with
moto's Cognito key or crafted byte for byte, authorizer/proxy events for every caller built from
events/, the deployed functions loaded under a test environment, and a JWKS endpoint on
127.0.0.1 that can be made slow or broken."""

from __future__ import annotations

import base64
import copy
import functools
import gzip
import hashlib
import hmac
import importlib.util
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm, get_default_algorithms

from modelauth.authorizer import CallerKind
from tests.conftest import PROJECT, load_event

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


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_pem(name: str) -> bytes:
    """The public half of rsa_key(name) as PEM: the "secret" of HS* key-confusion attacks."""
    return (
        rsa_key(name)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def sign_raw(
    header: bytes | Mapping[str, Any],
    payload: bytes | Mapping[str, Any],
    *,
    key_name: str = "pool",
    alg: str = "RS256",
    secret: bytes | None = None,
) -> str:
    """A compact JWS over exactly these header and payload bytes (duplicate members, bytes that
    are not UTF-8, ...): RS*/PS* with rsa_key(key_name), HS* with ``secret``, ``none`` unsigned."""
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw_payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64url(raw_header)}.{b64url(raw_payload)}"
    if alg in _HMAC:
        assert secret is not None
        signature = hmac.new(secret, signing_input.encode(), _HMAC[alg]).digest()
    elif alg.lower() == "none":
        signature = b""
    else:
        signature = get_default_algorithms()[alg].sign(signing_input.encode(), rsa_key(key_name))
    return f"{signing_input}.{b64url(signature)}"


def forge(token: str, **changes: Any) -> str:
    """The token with its payload changed and the original signature kept (tampering)."""
    header, _, signature = token.split(".")
    payload = {**unverified_claims(token), **changes}
    return f"{header}.{b64url(json.dumps(payload).encode())}.{signature}"


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


def rejected_with(call: Callable[[], Any]) -> Any:
    """What a gateway gets from an authorizer call: its answer, or the exception it raised."""
    try:
        return call()
    except Exception as exc:  # the REST 401 contract is an exception; tests look at which
        return exc


def assert_invalid_credential_answer(kind: CallerKind, outcome: Any, *, transient: bool = False) -> None:
    """The caller's answer to a missing or invalid credential (authorizer module docstring):
    REST fails with exactly ``Exception("Unauthorized")`` (API Gateway's 401), AppSync and HTTP
    APIs get ``isAuthorized: false`` - AppSync with ``ttlOverride: 0`` when the failure is
    transient (JWKS down, internal error), so the denial is not replayed from its cache."""
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        assert type(outcome) is Exception, outcome
        assert outcome.args == ("Unauthorized",)
    elif kind is CallerKind.APPSYNC and transient:
        assert outcome == {"isAuthorized": False, "ttlOverride": 0}
    else:
        assert outcome == {"isAuthorized": False}


# ----------------------------------------------------------------------------- deployed functions

_loaded = itertools.count()


def load_function(name: str, environ: Mapping[str, str]) -> ModuleType:
    """functions/<name>/app.py imported afresh (a cold start) under these environment variables;
    its ``lambda_handler`` is then the deployed entry point."""
    path = PROJECT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"_function_{name}_{next(_loaded)}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environ.items():
            patch.setenv(key, value)
        spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- a JWKS endpoint


@dataclass
class JwksEndpoint:
    """A JWKS endpoint on 127.0.0.1 whose answer the test controls; counts the requests it gets.

    ``delay``: seconds before it answers (a slow IdP); ``trickle``: seconds between the bytes of
    its body (a response that never quite stops coming)."""

    url: str
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0
    delay: float = 0.0
    trickle: float = 0.0
    stopping: threading.Event = field(default_factory=threading.Event)

    def serve(self, jwks: dict[str, Any]) -> None:
        self.body, self.status, self.headers = json.dumps(jwks).encode(), 200, {}

    def fail(self, status: int = 503) -> None:
        self.body, self.status = b"unavailable", status


@contextmanager
def jwks_endpoint() -> Iterator[JwksEndpoint]:
    state = JwksEndpoint("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            if state.delay and state.stopping.wait(state.delay):
                return
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            if not state.trickle:
                self.wfile.write(state.body)
                return
            for byte in state.body:
                if state.stopping.wait(state.trickle):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()  # wakes handlers that are sleeping or trickling
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
