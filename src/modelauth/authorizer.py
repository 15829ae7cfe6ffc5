"""A reusable Lambda authorizer for AppSync (AWS_LAMBDA), API Gateway REST (TOKEN/REQUEST) and
HTTP APIs (payload 2.0, simple responses), on the same identity and rules as the resolvers.

Verification (:class:`TokenVerifier`) is token-only, so every gateway may cache its answer by
token (spec §8.4):

- JWTs: ``RS256`` only (no ``none``, no HS*), ``kid`` required and looked up in the issuer's
  :class:`~modelauth.jwks.KeySet`; ``iss`` compared exactly and chosen among several configured
  issuers (Cognito user pools and OIDC providers); ``exp``/``nbf``/``iat``/``auth_time`` with a
  small leeway (``exp`` a JSON number); Cognito ``token_use`` as configured; ``aud`` (ID tokens,
  OIDC) or ``client_id`` (access tokens) among the allowed clients; required claims and scopes.
  A header or claim set naming a member twice is refused (no parser gets to pick the ``kid`` or
  ``sub``), and so is a ``sub`` or username containing ``::``, the separator of stored owners.
  The token is decoded once, as strictly as pyjwt decodes it; pyjwt's RS256, header checks and
  claim checks then run on that decoding (``jwt.decode`` would decode it again).
- The ``Authorization`` header must be unambiguous: several different values (two spellings,
  ``multiValueHeaders``) are no credential, since the gateway's cache key may be either.
- API keys (``mak_…``): :mod:`modelauth.apikeys`, hashed, with expiry and overlapping rotation.

What passes on is a flat context: ``sub``, ``username``, ``groups`` (a JSON array string),
``issuer`` … It becomes ``identity.resolverContext`` (AppSync) or ``requestContext.authorizer``
(API Gateway), and :class:`~modelauth.identity.Principal` reads it back as an ``AWS_LAMBDA``
caller, so ``allow.owner("function")`` and ``allow.custom()`` rules apply downstream.

Answers, per caller:

============  ======================================  ===========================================
caller        credential missing/invalid (401)        valid but refused (403)
============  ======================================  ===========================================
AppSync       ``isAuthorized: false``                 ``isAuthorized: false``
REST          ``raise Exception("Unauthorized")``     explicit ``Deny`` with ``context.reason``
HTTP API      ``isAuthorized: false`` (403)           ``isAuthorized: false`` (403)
============  ======================================  ===========================================

"Valid but refused" is a known credential that may not be used: an expired API key, a token
without a required scope. Allowed AppSync callers get ``deniedFields`` (the operations and
fields their rules can never reach) and a ``ttlOverride`` no longer than the token's remaining
life; REST callers get an ``Allow`` on the whole API stage (a policy cached per token must not be
scoped to the first route called) and every route is checked again downstream by the rules.

Example (functions/authorizer/app.py)::

    from modelauth.authorizer import LambdaAuthorizer

    authorizer = LambdaAuthorizer.from_env()  # the schema named by $MODELAUTH_SCHEMA

    def lambda_handler(event, context):
        return authorizer.handle(event)
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import os
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol

import jwt
from aws_lambda_powertools import Logger
from jwt.types import FullOptions

from modelauth.apikeys import ApiKeyStore, SsmApiKeys, StaticApiKeys, looks_like_api_key
from modelauth.errors import ModelAuthError, Unauthenticated, Unauthorized
from modelauth.identity import Principal, read_group_claim
from modelauth.jwks import DEFAULT_TIMEOUT as DEFAULT_JWKS_TIMEOUT
from modelauth.jwks import JwksSource, KeySet
from modelauth.policy import AuthConfig, decide
from modelauth.project import ENV_SCHEMA, SchemaRef
from modelauth.rules import Model, Operation, Schema, root_fields
from modelauth.startup import freeze_startup_heap

__all__ = [
    "Caller",
    "CallerKind",
    "Issuer",
    "LambdaAuthorizer",
    "LruTokenCache",
    "TokenCache",
    "TokenVerifier",
    "credential_of",
    "detect_caller",
    "unreachable_fields",
]

logger = Logger(service="modelauth")

_OWNER_SEPARATOR = "::"  # between the sub and the username of a stored owner (spec §3.2)
UNAUTHORIZED = "Unauthorized"  # API Gateway's 401 contract: the function fails with exactly this
DEFAULT_LEEWAY = 60
DEFAULT_MAX_TOKEN_LENGTH = 8192
DEFAULT_TTL = 60
DEFAULT_TOKEN_CACHE_ENTRIES = 1024
_TOKEN_USES = frozenset({"id", "access"})
_RESERVED_CONTEXT = frozenset(
    {"sub", "username", "groups", "issuer", "authMethod", "tokenUse", "clientId", "scope", "apiKeyId"}
    # identity.Principal.from_apigw reads these authorizer keys as other authorizer kinds
    | {"principalId", "integrationLatency", "claims", "scopes", "jwt", "iam", "lambda", "reason"}
)
_CREDENTIAL = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
_METHOD_ARN = re.compile(
    r"arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9]+/[^/\s]+/[A-Z*]+(/[^\s]*)?", re.ASCII
)


class AuthorizerFailure(Unauthenticated):
    """Something unexpected failed while authorizing: deny, and don't let a gateway cache it."""

    transient = True


def _is_transient(denial: ModelAuthError) -> bool:
    return bool(getattr(denial, "transient", False))


# --------------------------------------------------------------------------- issuers


@dataclass(frozen=True, slots=True)
class Issuer:
    """One trusted token issuer. Build with :meth:`cognito` or :meth:`oidc`.

    Example::

        >>> pool = Issuer.cognito("eu-west-1_Ab12Cd34E", ["client-1"], jwks={"keys": []})
        >>> pool.issuer, sorted(pool.token_uses)
        ('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E', ['access'])
    """

    issuer: str
    keys: KeySet = field(compare=False)
    #: app client ids (Cognito: ``aud`` of ID tokens, ``client_id`` of access tokens) or OIDC ``aud``
    audiences: frozenset[str]
    #: Cognito ``token_use`` values accepted; empty for OIDC issuers (no such claim)
    token_uses: frozenset[str] = frozenset()
    required_claims: tuple[str, ...] = ()
    #: access tokens: every one of these must be in ``scope``
    required_scopes: frozenset[str] = frozenset()
    #: first claim present names the user; without one the ``sub`` does
    username_claims: tuple[str, ...] = ()
    groups_claim: str | None = None
    #: prepended to ``sub`` and ``username`` so two issuers' subjects can never match each other's
    #: stored owners; must differ between the issuers of one authorizer
    subject_prefix: str = ""
    #: extra scalar claims passed on in the context under their own names (e.g. ``email``)
    context_claims: tuple[str, ...] = ()
    #: pyjwt's claim checks for this issuer's tokens (derived from ``required_claims``)
    claim_options: FullOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.issuer.startswith(("https://", "http://")):
            raise ValueError(f"issuer must be an http(s) URL, got {self.issuer!r}")
        if not self.audiences:
            raise ValueError(f"{self.issuer}: at least one allowed audience / client id is required")
        if not self.token_uses <= _TOKEN_USES:
            raise ValueError(f"{self.issuer}: token_use must be 'id' and/or 'access'")
        reserved = _RESERVED_CONTEXT & set(self.context_claims)
        if reserved:
            raise ValueError(f"{self.issuer}: context claims {sorted(reserved)} are reserved names")
        # aud or client_id is checked by TokenVerifier, as token_use says
        require = ["exp", "iat", "iss", "sub", *self.required_claims]
        options = jwt.PyJWT(options={"require": require, "verify_aud": False}).options
        object.__setattr__(self, "claim_options", options)

    @classmethod
    def cognito(
        cls,
        user_pool_id: str,
        client_ids: Iterable[str],
        *,
        token_use: Iterable[str] = ("access",),
        jwks: JwksSource | None = None,
        region: str | None = None,
        jwks_timeout: float = DEFAULT_JWKS_TIMEOUT,
        **options: Any,
    ) -> Issuer:
        """A Cognito user pool; keys from its public JWKS URL unless ``jwks`` says otherwise.

        ``token_use``: Amplify's clients send the access token; accept ``id`` too only on purpose.
        ``jwks_timeout``: seconds to wait for the JWKS URL (:class:`~modelauth.jwks.KeySet`).
        """
        pool_region, _, suffix = user_pool_id.partition("_")
        if not suffix:
            raise ValueError(f"not a Cognito user pool id: {user_pool_id!r}")
        issuer = f"https://cognito-idp.{region or pool_region}.amazonaws.com/{user_pool_id}"
        return cls(
            issuer,
            KeySet(jwks if jwks is not None else f"{issuer}/.well-known/jwks.json", timeout=jwks_timeout),
            frozenset(client_ids),
            token_uses=frozenset(token_use),
            required_claims=("token_use",),
            username_claims=("username", "cognito:username"),
            groups_claim="cognito:groups",
            **options,
        )

    @classmethod
    def oidc(
        cls,
        issuer: str,
        audiences: Iterable[str],
        *,
        jwks: JwksSource,
        groups_claim: str | None = "groups",
        username_claims: Sequence[str] = (),
        jwks_timeout: float = DEFAULT_JWKS_TIMEOUT,
        **options: Any,
    ) -> Issuer:
        """Any OIDC provider. ``username_claims`` is empty by default: ``preferred_username`` and
        ``email`` are not unique or stable for every IdP, so the ``sub`` names the user."""
        return cls(
            issuer,
            KeySet(jwks, timeout=jwks_timeout),
            frozenset(audiences),
            groups_claim=groups_claim,
            username_claims=tuple(username_claims),
            **options,
        )


# --------------------------------------------------------------------------- verified callers


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller: what the authorizer passes on to the API.

    ``context`` is flat text only (it survives every gateway's context rules unchanged).

    Example::

        >>> c = Caller("A1", {"sub": "A1", "username": "alice", "groups": '["Admin"]'}, expires_at=None)
        >>> p = c.principal()
        >>> p.mode.value, p.sub, p.groups
        ('AWS_LAMBDA', 'A1', ('Admin',))
    """

    principal_id: str
    context: Mapping[str, str]
    #: epoch seconds after which the credential is no longer valid (token exp, key expiry)
    expires_at: float | None
    _principal: Principal | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))

    def principal(self) -> Principal:
        """The :class:`Principal` the resolvers will build from this caller's context."""
        principal = self._principal
        if principal is None:  # the context is immutable: read back once per caller
            principal = _read_back(tuple(self.context.items()))
            object.__setattr__(self, "_principal", principal)
        return principal


@functools.lru_cache(maxsize=1024)
def _read_back(context: tuple[tuple[str, str], ...]) -> Principal:
    """``Principal.from_appsync`` of a resolver context: a pure function of the context, so a
    user whose new token carries the same context (same sub, groups, client …) reuses it."""
    return Principal.from_appsync({"identity": {"resolverContext": dict(context)}})


class TokenCache(Protocol):
    """Verified callers by SHA-256 of the credential; only successes are ever cached."""

    def get(self, key: bytes, now: float) -> Caller | None: ...

    def put(self, key: bytes, caller: Caller, now: float) -> None: ...


class LruTokenCache:
    """A bounded LRU :class:`TokenCache`: an entry lives until the credential expires or
    ``max_age`` passes, whichever is first (``max_age`` bounds how long a removed API key or
    JWKS key keeps working in one warm Lambda).

    Example::

        >>> cache = LruTokenCache(max_entries=2, max_age=60)
        >>> cache.put(b"k", Caller("A1", {}, expires_at=100.0), now=0.0)
        >>> cache.get(b"k", now=10.0).principal_id, cache.get(b"k", now=100.0)
        ('A1', None)
    """

    def __init__(self, max_entries: int = 1024, max_age: float = 300.0) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[bytes, tuple[Caller, float]] = OrderedDict()

    def get(self, key: bytes, now: float) -> Caller | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        caller, stored_at = entry
        if now - stored_at >= self.max_age or (caller.expires_at is not None and now >= caller.expires_at):
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return caller

    def put(self, key: bytes, caller: Caller, now: float) -> None:
        self._entries[key] = (caller, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def _denied(reason: str) -> Unauthenticated:
    return Unauthenticated(UNAUTHORIZED, reason=reason)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bearer(credential: Any, max_length: int) -> str:
    """The credential of an ``Authorization`` value: ``Bearer <x>`` or a bare ``<x>``."""
    if not isinstance(credential, str) or not credential.strip():
        raise _denied("no credential")
    if len(credential) > max_length:
        raise _denied(f"credential longer than {max_length} characters")
    scheme, _, rest = credential.strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else credential.strip()
    if not _CREDENTIAL.fullmatch(token):
        raise _denied("malformed credential")
    return token


class TokenVerifier:
    """Verifies a credential (JWT from any configured issuer, or API key) into a :class:`Caller`.

    Example::

        >>> verifier = TokenVerifier([Issuer.cognito("us-east-1_Ab12", ["c1"], jwks={"keys": []})])
        >>> verifier.verify("Bearer not-a-token")
        Traceback (most recent call last):
        ...
        modelauth.errors.Unauthenticated: Unauthorized
    """

    def __init__(
        self,
        issuers: Iterable[Issuer],
        *,
        api_keys: ApiKeyStore | None = None,
        leeway: int = DEFAULT_LEEWAY,
        max_token_length: int = DEFAULT_MAX_TOKEN_LENGTH,
        cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = {item.issuer: item for item in issuers}
        prefixes = [item.subject_prefix for item in self.issuers.values()]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("issuers of one authorizer need distinct subject_prefix values")
        self.api_keys = api_keys
        self.leeway = leeway
        self.max_token_length = max_token_length
        self.cache = cache
        self._clock = clock

    def verify(self, credential: Any) -> Caller:
        """The caller, or a typed denial: :class:`Unauthenticated` (invalid, 401) or
        :class:`Unauthorized` (valid but refused, 403). Never reads an unverified claim except
        ``iss``, to pick the issuer whose keys must then verify it."""
        token = _bearer(credential, self.max_token_length)
        key = hashlib.sha256(token.encode()).digest()
        now = self._clock()
        cached = self.cache.get(key, now) if self.cache is not None else None
        if cached is not None:
            return cached
        caller = self._api_key(token) if looks_like_api_key(token) else self._jwt(token, now)
        if self.cache is not None:
            self.cache.put(key, caller, now)
        return caller

    def _api_key(self, key: str) -> Caller:
        if self.api_keys is None:
            raise _denied("API keys are not enabled")
        record = self.api_keys.check(key)
        context = {"authMethod": "apiKey", "apiKeyId": record.key_id}
        return Caller(f"apikey:{record.key_id}", context, record.expires.timestamp())

    def _jwt(self, token: str, now: float) -> Caller:
        """One parse of the token (:func:`_parse_jws`), then pyjwt's checks on what it parsed:
        header (``kid`` a string, ``crit``), the RS256 signature with the issuer's cached key
        object, and the registered claims (required, ``iat``/``nbf``/``exp`` with leeway, ``iss``)."""
        try:
            jws = _parse_jws(token)
            _JWS_CHECKS._validate_headers(jws.header)  # pyjwt's own header checks (kid, crit)
        except jwt.PyJWTError as exc:
            raise _denied(f"malformed token: {exc}") from None
        header, claims = jws.header, jws.claims
        alg, kid = header.get("alg"), header.get("kid")
        if alg != "RS256":
            raise _denied(f"token algorithm {_short(alg)} is not allowed (RS256 only)")
        if header.get("b64", True) is False:  # RFC 7797 unencoded payload: never what we verify
            raise _denied("malformed token: unencoded payloads (b64 false) are not accepted")
        if not isinstance(kid, str) or not kid:
            raise _denied("token has no kid")
        iss = claims.get("iss")  # unverified: only picks the issuer whose key must verify it
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise _denied(f"untrusted issuer {_short(iss)}")
        try:
            signing_key = issuer.keys.get_signing_key(kid)
            if signing_key.key_type != "RSA" or signing_key.algorithm_name != "RS256":
                raise _denied(f"key {kid!r} is not an RS256 key")
            public_key = _RS256.prepare_key(signing_key.key)  # refuses anything but an RSA key
            weak = _RS256.check_key_length(public_key)
            if weak:
                warnings.warn(weak, jwt.InsecureKeyLengthWarning, stacklevel=2)
            if not _RS256.verify(jws.signing_input, public_key, jws.signature):
                raise jwt.InvalidSignatureError("Signature verification failed")
            _JWT_CHECKS._validate_claims(
                claims, issuer.claim_options, issuer=issuer.issuer, leeway=self.leeway
            )
        except ModelAuthError:
            raise
        except jwt.ExpiredSignatureError:
            raise _denied("token expired") from None
        except jwt.PyJWTError as exc:
            raise _denied(f"{type(exc).__name__}: {exc}") from None
        return self._caller(issuer, claims, now)

    def _caller(self, issuer: Issuer, claims: Mapping[str, Any], now: float) -> Caller:
        token_use = claims.get("token_use")
        if issuer.token_uses and (not isinstance(token_use, str) or token_use not in issuer.token_uses):
            raise _denied(f"token_use {_short(token_use)} is not one of {sorted(issuer.token_uses)}")
        # Cognito access tokens name their client in client_id and carry no aud (spec §9)
        what = "client_id" if issuer.token_uses and token_use == "access" else "aud"  # noqa: S105
        client = claims.get(what)
        clients = client if isinstance(client, list) and what == "aud" else [client]  # aud may be a list
        if not any(isinstance(c, str) and c in issuer.audiences for c in clients):
            raise _denied(f"token {what} {_short(client)} is not an allowed client")
        auth_time = claims.get("auth_time")
        if isinstance(auth_time, int | float) and auth_time > now + self.leeway:
            raise _denied("token auth_time is in the future")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise _denied("token sub must be a non-empty string")
        expires_at = _numeric_date(claims, "exp")
        scope = claims.get("scope")
        scopes = set(scope.split()) if isinstance(scope, str) else set()
        missing = issuer.required_scopes - scopes
        if missing:
            raise Unauthorized(
                f"token lacks scope {' '.join(sorted(missing))}",
                reason=f"token lacks required scopes {sorted(missing)}",
            )
        username = next((v for c in issuer.username_claims if isinstance(v := claims.get(c), str) and v), sub)
        sub, username = issuer.subject_prefix + sub, issuer.subject_prefix + username
        if _OWNER_SEPARATOR in sub or _OWNER_SEPARATOR in username:
            # owners are stored as "<sub>::<username>": a user named "<bob's sub>::bob" would be bob
            raise _denied(f"token sub or username contains {_OWNER_SEPARATOR!r}")
        context = {
            "authMethod": "jwt",
            "sub": sub,
            "username": username,
            "issuer": issuer.issuer,
            "groups": json.dumps(list(_groups(claims, issuer.groups_claim))),
            "clientId": next(c for c in clients if isinstance(c, str) and c in issuer.audiences),
        }
        if isinstance(token_use, str):
            context["tokenUse"] = token_use
        if scopes:
            context["scope"] = " ".join(sorted(scopes))
        for name in issuer.context_claims:
            value = claims.get(name)
            if isinstance(value, str | int | float | bool):
                context[name] = value if isinstance(value, str) else json.dumps(value)
        return Caller(context["sub"], context, expires_at)


_MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    """A NumericDate claim (RFC 7519 §2: a JSON number of seconds) within the calendar."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= _MAX_NUMERIC_DATE:
        raise _denied(f"token {name} {_short(value)} is not a NumericDate")
    return float(value)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise jwt.DecodeError(f"member {_short(duplicate)} appears twice")
    return members


# pyjwt's RS256 (RSASSA-PKCS1-v1_5 with SHA-256) and its header and claim checks, run on the one
# parse of _parse_jws. jwt.decode would parse and base64-check the token again (its per-character
# alphabet scan is most of its cost); _parse_jws refuses everything that parse refuses.
_RS256 = jwt.get_algorithm_by_name("RS256")
_JWS_CHECKS = jwt.PyJWS()
_JWT_CHECKS = jwt.PyJWT()
_JSON = json.JSONDecoder(object_pairs_hook=_unique_members)
_BASE64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class _Jws(NamedTuple):
    """A compact JWS, decoded but not verified."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _segment(segment: str, name: str) -> bytes:
    """One base64url segment, as strictly as pyjwt reads it: the URL-safe alphabet only, up to two
    ``=`` of padding only where the length is a multiple of 4, and the canonical encoding (no
    stray bits in the last character), so one token has exactly one spelling."""
    stripped = segment.rstrip("=").encode("ascii", "replace")  # "?" for anything else: refused
    padding = len(segment) - len(stripped)
    if (
        padding > 2
        or (padding and len(segment) % 4)
        or len(stripped) % 4 == 1
        or stripped.translate(None, _BASE64URL_ALPHABET)  # any character outside the alphabet
    ):
        raise jwt.DecodeError(f"Invalid {name} padding")
    standard = stripped.translate(_URLSAFE_TO_STANDARD) + b"=" * (-len(stripped) % 4)
    decoded = binascii.a2b_base64(standard)
    if binascii.b2a_base64(decoded, newline=False) != standard:
        raise jwt.DecodeError(f"Invalid {name} padding")
    return decoded


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    """A JSON object naming each member once (RFC 7515 §4 and RFC 7519 §4 allow duplicates):
    which of two ``kid`` or ``sub`` values counts must never depend on a JSON parser."""
    try:
        value = _JSON.decode(data.decode())  # UTF-8 (RFC 7515 §5.2); UnicodeDecodeError is a ValueError
    except (jwt.DecodeError, ValueError, RecursionError) as exc:
        raise jwt.DecodeError(f"Invalid {name} string: {exc}") from None
    if not isinstance(value, dict):
        raise jwt.DecodeError(f"Invalid {name} string: must be a json object")
    return value


def _parse_jws(token: str) -> _Jws:
    """The token's three segments decoded once; raises :class:`jwt.DecodeError` for anything
    pyjwt's own parse would refuse, and for a header or claim set naming a member twice."""
    segments = token.split(".")
    if len(segments) != 3:
        raise jwt.DecodeError("Not enough segments" if len(segments) < 3 else "Too many segments")
    header_segment, payload_segment, signature_segment = segments
    header = _json_object(_segment(header_segment, "header"), "header")
    claims = _json_object(_segment(payload_segment, "payload"), "payload")
    signature = _segment(signature_segment, "crypto")
    signing_input = f"{header_segment}.{payload_segment}".encode()
    return _Jws(header, claims, signing_input, signature)


def _groups(claims: Mapping[str, Any], claim: str | None) -> tuple[str, ...]:
    if claim is None:
        return ()
    # the verified token's JSON claim, read as Principal reads claims: exact names, never split
    return read_group_claim(claims.get(claim)).names


# --------------------------------------------------------------------------- callers (event shapes)


class CallerKind(StrEnum):
    """Which gateway invoked the authorizer, told apart by the event's shape."""

    APPSYNC = "appsync"
    REST_TOKEN = "rest-token"  # noqa: S105 - a caller kind, not a secret
    REST_REQUEST = "rest-request"
    HTTP_V2 = "http-v2"


def detect_caller(event: Any) -> CallerKind | None:
    """The caller of an authorizer event; None for anything else (deny).

    Example::

        >>> detect_caller({"type": "TOKEN", "authorizationToken": "x", "methodArn": "arn:..."})
        <CallerKind.REST_TOKEN: 'rest-token'>
    """
    if not isinstance(event, Mapping):
        return None
    if event.get("version") == "2.0" and isinstance(event.get("routeArn"), str):
        return CallerKind.HTTP_V2
    if isinstance(event.get("methodArn"), str):
        # payload 1.0 of an HTTP API is a REQUEST event with a methodArn, answered the REST way
        kinds = {"TOKEN": CallerKind.REST_TOKEN, "REQUEST": CallerKind.REST_REQUEST}
        return kinds.get(str(event.get("type")))
    context = event.get("requestContext")
    if "authorizationToken" in event and isinstance(context, Mapping) and "apiId" in context:
        return CallerKind.APPSYNC
    return None


def _header(event: Mapping[str, Any], name: str) -> Any:
    """Header ``name`` in any spelling, from ``headers`` and (REST) ``multiValueHeaders``; None
    when absent or when the event holds different values for it: which one the gateway's
    identity source (and cache key) took can't be told, so none is used."""
    values: list[Any] = []
    for section, multi in (("headers", False), ("multiValueHeaders", True)):
        headers = event.get(section)
        if isinstance(headers, Mapping):
            for key, value in headers.items():
                if str(key).lower() == name:
                    values += value if multi and isinstance(value, list) else [value]
    distinct = [value for n, value in enumerate(values) if value not in values[:n]]
    return distinct[0] if len(distinct) == 1 else None


def credential_of(kind: CallerKind, event: Mapping[str, Any]) -> Any:
    """The raw ``Authorization`` value the gateway passed (validated by the verifier); None when
    it is missing or ambiguous."""
    if kind in (CallerKind.APPSYNC, CallerKind.REST_TOKEN):
        return event.get("authorizationToken")
    value = _header(event, "authorization")
    if value is None and kind is CallerKind.HTTP_V2:
        sources = event.get("identitySource")
        value = sources[0] if isinstance(sources, list) and len(sources) == 1 else None
    return value


# --------------------------------------------------------------------------- deniedFields


# The root fields per model, named as modelauth.sdl and modelauth.resolvers name them.
@dataclass(frozen=True, slots=True)
class _FieldGate:
    """A field with its own rules, as a one-rule-set model so ``decide`` can judge it alone."""

    name: str
    model: Model


def _field_gates(schema: Schema) -> tuple[_FieldGate, ...]:
    return tuple(
        _FieldGate(f"{model.name}.{name}", Model(model.name, rules=f.rules))
        for model in schema.models
        for f in model.fields
        if f.rules is not None
        for name in model.with_stored([f.name])  # an owner field's stored value is gated alike
    )


def unreachable_fields(schema: Schema, principal: Principal, config: AuthConfig | None = None) -> list[str]:
    """``Type.field`` entries this caller can never reach, whatever the item: the operations
    and fields whose rules deny it without looking at data (``decide`` without an item: deny ⇒
    unreachable). Depends on the principal only, so caching it per token is safe.

    Example::

        >>> from modelauth.rules import Field, allow
        >>> todo = Model("Todo", fields=[Field("content")], rules=[allow.owner("function").to(["read"])])
        >>> from modelauth.identity import AuthMode
        >>> unreachable_fields(Schema([todo]), Principal(AuthMode.LAMBDA, sub="A1", username="alice"))
        ['Mutation.createTodo', 'Mutation.updateTodo', 'Mutation.deleteTodo']
        >>> len(unreachable_fields(Schema([todo]), Principal(AuthMode.API_KEY)))  # everything
        8
    """
    return _unreachable(schema, _field_gates(schema), principal, config or AuthConfig())


def _unreachable(
    schema: Schema, gates: Sequence[_FieldGate], principal: Principal, config: AuthConfig
) -> list[str]:
    denied = [
        f"{root.type_name}.{root.field_name}"
        for model in schema.models
        for root in root_fields(model)
        if not decide(principal, model, root.operation, config=config).allowed
    ]
    denied += [g.name for g in gates if not decide(principal, g.model, Operation.GET, config=config).allowed]
    return denied


# --------------------------------------------------------------------------- the authorizer


Outcome = Caller | ModelAuthError


class LambdaAuthorizer:
    """Authorizes one event from any of the four callers and answers in its format."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        schema: Schema | None = None,
        auth_config: AuthConfig | None = None,
        ttl: int = DEFAULT_TTL,
        policy_scope: Literal["api", "method"] = "api",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= ttl <= 3600:
            raise ValueError("ttl must be 0..3600 seconds")
        if policy_scope not in ("api", "method"):
            raise ValueError("policy_scope must be 'api' or 'method'")
        self.verifier = verifier
        self.schema = schema
        self.auth_config = auth_config or AuthConfig()
        self.ttl = ttl
        #: "method" scopes REST policies to the called method: only with authorizer caching off
        self.policy_scope = policy_scope
        self._clock = clock
        self._gates = _field_gates(schema) if schema is not None else ()
        # deniedFields depend on the caller's principal only: computed once per distinct caller
        self._denied_fields = functools.lru_cache(maxsize=1024)(self._compute_denied_fields)
        self._responders: Mapping[CallerKind, Callable[[Mapping[str, Any], Outcome], dict[str, Any]]] = {
            CallerKind.APPSYNC: self._appsync,
            CallerKind.REST_TOKEN: self._rest,
            CallerKind.REST_REQUEST: self._rest,
            CallerKind.HTTP_V2: self._http,
        }

    @classmethod
    def from_env(
        cls, schema: Schema | None = None, environ: Mapping[str, str] | None = None
    ) -> LambdaAuthorizer:
        """Configuration from the environment (a bad value fails the cold start: fail closed).

        - ``MODELAUTH_SCHEMA`` (``package.module:ATTR``) when ``schema`` is not given: the
          models whose rules compute AppSync ``deniedFields``.
        - ``USER_POOL_ID`` + ``USER_POOL_CLIENT_IDS`` (comma list): the Cognito issuer;
          ``MODELAUTH_TOKEN_USE`` (``access`` | ``id`` | ``id,access``, default ``access``);
          ``MODELAUTH_JWKS``: the pool's JWKS source instead of its URL (file path, ``file://``,
          inline JSON, or URL) - how local runs trust moto's keys without network.
        - ``MODELAUTH_OIDC_ISSUERS``: JSON list of ``{"issuer", "audiences", "jwks",
          "subjectPrefix", "groupsClaim", "usernameClaims", "requiredScopes"}``.
        - ``MODELAUTH_API_KEYS_PARAMETER`` (SSM parameter name) or ``MODELAUTH_API_KEYS``
          (inline JSON, local runs): API key records, see :mod:`modelauth.apikeys`.
        - ``MODELAUTH_AUTHORIZER_TTL`` (seconds, default 60), ``MODELAUTH_POLICY_SCOPE``
          (``api`` | ``method``), ``MODELAUTH_JWT_LEEWAY`` (seconds, default 60),
          ``MODELAUTH_JWKS_TIMEOUT`` (seconds to wait for a JWKS URL, default 3).
        """
        env = os.environ if environ is None else environ
        if schema is None and env.get(ENV_SCHEMA, "").strip():
            schema = SchemaRef.parse(env[ENV_SCHEMA], origin=ENV_SCHEMA).load(origin=ENV_SCHEMA)
        jwks_timeout = float(env.get("MODELAUTH_JWKS_TIMEOUT") or DEFAULT_JWKS_TIMEOUT)
        issuers = []
        pool_id = env.get("USER_POOL_ID", "").strip()
        if pool_id:
            issuers.append(
                Issuer.cognito(
                    pool_id,
                    _csv(env.get("USER_POOL_CLIENT_IDS")),
                    token_use=_csv(env.get("MODELAUTH_TOKEN_USE")) or ("access",),
                    jwks=env.get("MODELAUTH_JWKS", "").strip() or None,
                    jwks_timeout=jwks_timeout,
                )
            )
        for item in json.loads(env.get("MODELAUTH_OIDC_ISSUERS") or "[]"):
            issuers.append(
                Issuer.oidc(
                    item["issuer"],
                    item["audiences"],
                    jwks=item["jwks"],
                    subject_prefix=item["subjectPrefix"],
                    groups_claim=item.get("groupsClaim", "groups"),
                    username_claims=item.get("usernameClaims", ()),
                    required_scopes=frozenset(item.get("requiredScopes", ())),
                    jwks_timeout=jwks_timeout,
                )
            )
        api_keys: ApiKeyStore | None = None
        if env.get("MODELAUTH_API_KEYS", "").strip():
            api_keys = StaticApiKeys.from_json(env["MODELAUTH_API_KEYS"])
        elif env.get("MODELAUTH_API_KEYS_PARAMETER", "").strip():
            api_keys = SsmApiKeys(env["MODELAUTH_API_KEYS_PARAMETER"].strip())
        ttl = int(env.get("MODELAUTH_AUTHORIZER_TTL") or DEFAULT_TTL)
        # A warm authorizer verifies a repeated credential once: entries live until the
        # credential expires, and no longer than the gateways' own cache TTL (so revoking an API
        # key or JWKS key takes no longer here than there). MODELAUTH_TOKEN_CACHE=0 turns it off.
        entries = int(env.get("MODELAUTH_TOKEN_CACHE") or DEFAULT_TOKEN_CACHE_ENTRIES)
        cache = LruTokenCache(max_entries=entries, max_age=max(ttl, 1)) if entries > 0 else None
        verifier = TokenVerifier(
            issuers,
            api_keys=api_keys,
            leeway=int(env.get("MODELAUTH_JWT_LEEWAY") or DEFAULT_LEEWAY),
            cache=cache,
        )
        scope = env.get("MODELAUTH_POLICY_SCOPE") or "api"
        if scope not in ("api", "method"):
            raise ValueError("MODELAUTH_POLICY_SCOPE must be 'api' or 'method'")
        policy_scope: Literal["api", "method"] = "method" if scope == "method" else "api"
        authorizer = cls(verifier, schema=schema, ttl=ttl, policy_scope=policy_scope)
        freeze_startup_heap()  # what the cold start built lives as long as the process
        return authorizer

    def handle(self, event: Any) -> dict[str, Any]:
        """The gateway's answer for one authorizer event.

        Raises exactly ``Exception("Unauthorized")`` where API Gateway's 401 contract needs it
        (REST, credential missing or invalid) and for events of no known caller.
        """
        kind = detect_caller(event)
        if kind is None:
            logger.error("authorizer event of unknown shape: denied", extra={"keys": _event_keys(event)})
            raise Exception(UNAUTHORIZED)
        outcome = self._authenticate(kind, event)
        if isinstance(outcome, Caller):
            # DEBUG, like the resolvers' successes: an INFO line per allowed request costs more
            # than verifying a cached token; refusals stay at INFO
            logger.debug("authorized", extra={"caller": kind.value, "principal": outcome.principal_id})
        else:
            logger.info("denied", extra={"caller": kind.value, "reason": outcome.reason})
        return self._responders[kind](event, outcome)

    def _authenticate(self, kind: CallerKind, event: Mapping[str, Any]) -> Outcome:
        try:
            caller = self.verifier.verify(credential_of(kind, event))
            caller.principal()  # what we pass on must read back as a Principal downstream
            return caller
        except ModelAuthError as denial:
            return denial
        except Exception as exc:  # fail closed: anything unexpected denies, uncached
            logger.exception("authorizer failure: denied")
            return AuthorizerFailure(UNAUTHORIZED, reason=f"internal error: {type(exc).__name__}")

    # -- answers -------------------------------------------------------------------------------
    def _appsync(self, event: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
        if not isinstance(outcome, Caller):
            # 0 keeps a transient failure (JWKS down) from being replayed for the token
            return _appsync_answer(False, max_age=0 if _is_transient(outcome) else None)
        try:
            denied = list(self._denied_fields(outcome.principal()))
        except Exception:  # fail closed: no answer without the field masks
            logger.exception("deniedFields failed: denied")
            return _appsync_answer(False, max_age=0)
        return _appsync_answer(
            True, max_age=self._ttl_for(outcome), resolver_context=dict(outcome.context), deny_fields=denied
        )

    def _compute_denied_fields(self, principal: Principal) -> tuple[str, ...]:
        if self.schema is None:
            return ()
        return tuple(_unreachable(self.schema, self._gates, principal, self.auth_config))

    def _ttl_for(self, caller: Caller) -> int:
        """Never cache a caller past the expiry of its credential."""
        if caller.expires_at is None:
            return self.ttl
        return max(0, min(self.ttl, int(caller.expires_at - self._clock())))

    def _rest(self, event: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
        # imported here: Powertools' data_classes package imports every event class it has
        # (~14 ms of the authorizer's cold start), which AppSync callers never need
        from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
            APIGatewayAuthorizerResponse,
            parse_api_gateway_arn,
        )

        if isinstance(outcome, Unauthenticated):
            raise Exception(UNAUTHORIZED)
        method_arn = event.get("methodArn")
        if not isinstance(method_arn, str) or not _METHOD_ARN.fullmatch(method_arn):
            logger.error("malformed methodArn: denied")
            raise Exception(UNAUTHORIZED)
        arn = parse_api_gateway_arn(method_arn)
        if isinstance(outcome, Caller):
            principal_id, context = outcome.principal_id, dict(outcome.context)
        else:  # valid but refused: 403, with the reason for the ACCESS_DENIED gateway response
            principal_id, context = "denied", {"reason": outcome.message}
        response = APIGatewayAuthorizerResponse(
            principal_id,
            arn.region,
            arn.aws_account_id,
            arn.api_id,
            arn.stage,
            context,
            partition=arn.partition,
        )
        if not isinstance(outcome, Caller):
            response.deny_all_routes()
        elif self.policy_scope == "api":
            response.allow_all_routes()
        else:
            try:
                response.allow_route(arn.http_method or "*", "/" + arn.resource)
            except ValueError:  # a path the policy grammar can't express: fail closed
                raise Exception(UNAUTHORIZED) from None
        return response.asdict()

    def _http(self, event: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
            APIGatewayAuthorizerResponseV2,
        )

        if isinstance(outcome, Caller):
            return APIGatewayAuthorizerResponseV2(True, context=dict(outcome.context)).asdict()
        return APIGatewayAuthorizerResponseV2(False).asdict()


def _appsync_answer(
    authorize: bool,
    max_age: int | None = None,
    resolver_context: dict[str, Any] | None = None,
    deny_fields: list[str] | None = None,
) -> dict[str, Any]:
    """AppSync's authorizer response, as Powertools' ``AppSyncAuthorizerResponse.asdict()``
    writes it (empty optional parts left out), without importing its data_classes package.

    >>> _appsync_answer(True, max_age=60, resolver_context={"sub": "A1"}, deny_fields=[])
    {'isAuthorized': True, 'ttlOverride': 60, 'resolverContext': {'sub': 'A1'}}
    """
    response: dict[str, Any] = {"isAuthorized": authorize}
    if max_age is not None:
        response["ttlOverride"] = max_age
    if deny_fields:
        response["deniedFields"] = deny_fields
    if resolver_context:
        response["resolverContext"] = resolver_context
    return response


def _csv(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _event_keys(event: Any) -> list[str]:
    return sorted(str(key) for key in event)[:20] if isinstance(event, Mapping) else [type(event).__name__]
