"""Verify AWS Signature Version 4 on a received request, as AppSync does for ``AWS_IAM`` callers.

The signature is recomputed with botocore's own :class:`~botocore.auth.SigV4Auth` over the
request as received (method, path, query, the headers the client listed in ``SignedHeaders``,
the body), with the secret of the access key the caller names, and compared in constant time.
Also checked: the credential scope (region, service, date), the clock skew of ``x-amz-date``
(5 minutes, as AWS), the session token issued with the key, the key's expiry, and that the
``x-amz-content-sha256`` header (when sent) is the body's hash. Anything else fails closed with
:class:`SignatureError` (HTTP 403, AWS's error type) and a reason.

Only the local endpoint uses this (it knows the secrets because it issued them); botocore is
imported when a request is verified.

Example::

    >>> keys = {"ASIAEXAMPLE": SigningKey("ASIAEXAMPLE", "secret", None)}
    >>> verifier = SigV4Verifier(keys.get, region="us-east-1")
    >>> verifier.verify("POST", "/graphql", {"authorization": "Bearer x"}, b"{}")
    Traceback (most recent call last):
    ...
    modelauth.local.sigv4.SignatureError: Incomplete signature: malformed Authorization header
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from modelauth.errors import Unauthenticated

__all__ = [
    "ALGORITHM",
    "ExpiredToken",
    "InvalidSignature",
    "SignatureError",
    "UnrecognizedClient",
    "SignedRequest",
    "SigningKey",
    "SigV4Verifier",
    "is_sigv4",
    "parse_authorization",
]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 300  # seconds, as AWS ("Signature expired" beyond 5 minutes)

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<key>[A-Z0-9]{16,128})/(?P<date>[0-9]{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z0-9-]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[a-z0-9-]+(?:;[a-z0-9-]+)*),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})",
    re.ASCII,
)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class SignatureError(Unauthenticated):
    """The request's SigV4 signature is missing or malformed: HTTP 403
    ``IncompleteSignatureException``, as AWS's SigV4 front end answers (the subclasses: stale or
    wrong signatures, unknown or expired credentials). ``message`` is the client's text, ``reason``
    the log's."""

    error_type = "IncompleteSignatureException"
    http_status = 403

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"Incomplete signature: {reason}", reason=f"SigV4: {reason}")


class InvalidSignature(SignatureError):
    """Wrong or stale signature: 403 ``InvalidSignatureException``."""

    error_type = "InvalidSignatureException"


class UnrecognizedClient(SignatureError):
    """Credentials (access key, session token) nobody issued: 403 ``UnrecognizedClientException``."""

    error_type = "UnrecognizedClientException"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "The security token included in the request is invalid.")


class ExpiredToken(SignatureError):
    """Issued credentials past their expiry: 403 ``ExpiredTokenException``."""

    error_type = "ExpiredTokenException"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "The security token included in the request is expired")


SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The credentials a signer used, as the issuer knows them (``expires``: epoch seconds)."""

    access_key_id: str
    secret_key: str = ""
    session_token: str | None = None
    expires: float | None = None


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def is_sigv4(authorization: str | None) -> bool:
    """Whether an ``Authorization`` value claims to be a SigV4 signature (the IAM mode)."""
    return bool(authorization) and str(authorization).startswith(ALGORITHM + " ")


def parse_authorization(value: str) -> SignedRequest:
    """Split a SigV4 ``Authorization`` header; :class:`SignatureError` when it is malformed.

    >>> parse_authorization("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE12345/20250101/us-east-1/"
    ...     "appsync/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64).service
    'appsync'
    """
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match is None:
        raise SignatureError("malformed Authorization header")
    return SignedRequest(
        access_key_id=match["key"],
        date=match["date"],
        region=match["region"],
        service=match["service"],
        signed_headers=tuple(match["headers"].split(";")),
        signature=match["signature"],
    )


class SigV4Verifier:
    """Verifies SigV4-signed requests against the secrets ``lookup`` knows (by access key id)."""

    def __init__(
        self,
        lookup: Callable[[str], SigningKey | None],
        *,
        region: str,
        service: str = "appsync",
        max_skew: float = MAX_SKEW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lookup = lookup
        self.region = region
        self.service = service
        self.max_skew = max_skew
        self._clock = clock

    def verify(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
    ) -> SigningKey:
        """The key that signed the request, or :class:`SignatureError`.

        ``path`` is the request target as received (path and query string); ``headers`` the
        received headers (pairs, so a header sent twice is seen and refused when signed).
        """
        received = _header_lists(headers)
        parsed = parse_authorization(_single(received, "authorization"))
        if (parsed.region, parsed.service) != (self.region, self.service):
            raise SignatureError(
                f"credential scope {parsed.region}/{parsed.service} is not {self.region}/{self.service}"
            )
        if not {"host", "x-amz-date"} <= set(parsed.signed_headers):
            raise SignatureError("host and x-amz-date must be signed")
        amz_date = _single(received, "x-amz-date")
        self._check_date(amz_date, parsed.date)
        key = self.lookup(parsed.access_key_id)
        if key is None:
            raise UnrecognizedClient(f"unknown access key {parsed.access_key_id}")
        self._check_key(key, received)
        signed: dict[str, str] = {}
        for name in parsed.signed_headers:
            signed[name] = _single(received, name)  # duplicates are ambiguous: refuse them
        content_hash = signed.get("x-amz-content-sha256")
        if content_hash is not None and not hmac.compare_digest(
            content_hash, hashlib.sha256(body).hexdigest()
        ):
            raise InvalidSignature("x-amz-content-sha256 is not the hash of the body", SIGNATURE_MISMATCH)
        expected = _signature(method, path, signed, body, amz_date, key, parsed)
        if not hmac.compare_digest(expected, parsed.signature):
            raise InvalidSignature("signature does not match", SIGNATURE_MISMATCH)
        return key

    def _check_date(self, amz_date: str, scope_date: str) -> None:
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise SignatureError("x-amz-date is not YYYYMMDDTHHMMSSZ") from None
        if amz_date[:8] != scope_date:
            raise SignatureError("x-amz-date and the credential scope name different days")
        now = self._clock()
        skew = abs(now - signed_at)
        if skew > self.max_skew:
            limit = now - self.max_skew if signed_at < now else now + self.max_skew
            stamp = [datetime.fromtimestamp(t, UTC).strftime(_AMZ_DATE) for t in (limit, now)]
            minutes = f"{self.max_skew / 60:g} min."
            message = (  # AWS's own wording
                f"Signature expired: {amz_date} is now earlier than {stamp[0]} ({stamp[1]} - {minutes})"
                if signed_at < now
                else f"Signature not yet current: {amz_date} is still later than {stamp[0]} "
                f"({stamp[1]} + {minutes})"
            )
            raise InvalidSignature(
                f"signed {skew:.0f} s away from the server clock (max {self.max_skew:.0f} s)", message
            )

    def _check_key(self, key: SigningKey, received: Mapping[str, list[str]]) -> None:
        if key.expires is not None and self._clock() >= key.expires:
            raise ExpiredToken(f"credentials of {key.access_key_id} expired")
        if key.session_token is not None:
            token = received.get("x-amz-security-token") or [""]
            if len(token) != 1 or not hmac.compare_digest(token[0].encode(), key.session_token.encode()):
                raise UnrecognizedClient("missing or wrong x-amz-security-token")


def _header_lists(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        lists.setdefault(name.lower(), []).append(value)
    return lists


def _single(received: Mapping[str, list[str]], name: str) -> str:
    values = received.get(name)
    if not values:
        raise SignatureError(f"missing {name} header")
    if len(values) > 1:
        raise SignatureError(f"{name} header sent more than once")
    return values[0]


def _signature(
    method: str,
    path: str,
    signed: Mapping[str, str],
    body: bytes,
    amz_date: str,
    key: SigningKey,
    parsed: SignedRequest,
) -> str:
    """botocore's SigV4 signature over exactly the signed headers of the received request."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    # http:// so botocore hashes the body (it may skip that for https), as a client on a
    # local plain-HTTP endpoint did when signing; the canonical request has no scheme anyway.
    request = AWSRequest(
        method=method.upper(), url=f"http://{signed['host']}{path}", data=body, headers=dict(signed)
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(
        Credentials(key.access_key_id, key.secret_key, key.session_token), parsed.service, parsed.region
    )
    if auth.signed_headers(auth.headers_to_sign(request)) != ";".join(parsed.signed_headers):
        raise SignatureError("SignedHeaders lists headers SigV4 never signs")
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))
