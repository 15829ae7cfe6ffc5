"""SigV4Verifier: a request signed by botocore verifies; any change to what was signed does not."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from modelauth.local.sigv4 import SignatureError, SigningKey, SigV4Verifier, is_sigv4, parse_authorization

KEY = SigningKey("ASIAEXAMPLE123456789", "secret-key", "session-token", expires=2e9)
URL = "http://127.0.0.1:20002/graphql"
BODY = b'{"query": "{ listNotes { items { id } } }"}'
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def sign(
    body: bytes = BODY,
    key: SigningKey = KEY,
    region: str = "us-east-1",
    service: str = "appsync",
    **extra: str,
) -> dict[str, str]:
    headers = {"content-type": "application/json", **{k.replace("_", "-"): v for k, v in extra.items()}}
    request = AWSRequest(method="POST", url=URL, data=body, headers=headers)
    signer = SigV4Auth(Credentials(key.access_key_id, key.secret_key, key.session_token), service, region)
    with patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(request)  # signed at a fixed time
    return {**dict(request.headers.items()), "host": "127.0.0.1:20002"}


def verifier(clock: Callable[[], float] = NOW.timestamp) -> SigV4Verifier:
    return SigV4Verifier({KEY.access_key_id: KEY}.get, region="us-east-1", clock=clock)


def test_a_botocore_signature_verifies() -> None:
    assert verifier().verify("POST", "/graphql", sign(), BODY) == KEY


def with_header(name: str, value: str | None) -> dict[str, str]:
    headers = {k: v for k, v in sign().items() if k.lower() != name}
    if value is not None:
        headers[name] = value
    return headers


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "reason"),
    [
        ("POST", "/graphql", sign(), BODY + b" ", "signature does not match"),
        ("POST", "/graphql?x=1", sign(), BODY, "signature does not match"),
        ("PUT", "/graphql", sign(), BODY, "signature does not match"),
        ("POST", "/graphql", with_header("content-type", "text/plain"), BODY, "signature does not match"),
        ("POST", "/graphql", with_header("host", "evil.example"), BODY, "signature does not match"),
        ("POST", "/graphql", with_header("x-amz-security-token", "other"), BODY, "x-amz-security-token"),
        ("POST", "/graphql", with_header("x-amz-security-token", None), BODY, "x-amz-security-token"),
        ("POST", "/graphql", with_header("x-amz-date", None), BODY, "missing x-amz-date"),
        ("POST", "/graphql", with_header("authorization", "Bearer x"), BODY, "malformed Authorization"),
        ("POST", "/graphql", sign(region="eu-west-1"), BODY, "credential scope eu-west-1/appsync"),
        ("POST", "/graphql", sign(service="execute-api"), BODY, "credential scope us-east-1/execute-api"),
        ("POST", "/graphql", sign(key=SigningKey("ASIAUNKNOWN123456789", "s")), BODY, "unknown access key"),
        (
            "POST",
            "/graphql",
            sign(x_amz_content_sha256=hashlib.sha256(b"other").hexdigest()),
            BODY,
            "x-amz-content-sha256 is not the hash of the body",
        ),
    ],
)
def test_anything_changed_after_signing_fails(
    method: str, path: str, headers: dict[str, str], body: bytes, reason: str
) -> None:
    with pytest.raises(SignatureError) as refused:
        verifier().verify(method, path, headers, body)
    assert reason in refused.value.reason
    assert refused.value.http_status == 403  # AWS's SigV4 refusals are 403s


@pytest.mark.parametrize("offset", [-301, 301])
def test_clock_skew_beyond_five_minutes_fails(offset: int) -> None:
    # AWS's wording: "Signature expired: <signed> is now earlier than <limit> (<now> - 5 min.)"
    expected = "Signature expired: .* - 5 min" if offset > 0 else "Signature not yet current: .* \\+ 5 min"
    with pytest.raises(SignatureError, match=expected) as refused:
        verifier(lambda: NOW.timestamp() + offset).verify("POST", "/graphql", sign(), BODY)
    assert "away from the server clock" in refused.value.reason


def test_expired_credentials_fail() -> None:
    expired = SigningKey(KEY.access_key_id, KEY.secret_key, KEY.session_token, expires=NOW.timestamp() - 1)
    checker = SigV4Verifier({KEY.access_key_id: expired}.get, region="us-east-1", clock=NOW.timestamp)
    with pytest.raises(SignatureError) as refused:
        checker.verify("POST", "/graphql", sign(), BODY)
    assert "expired" in refused.value.reason


def test_a_header_sent_twice_is_refused() -> None:
    pairs = [*sign().items(), ("content-type", "application/json")]
    with pytest.raises(SignatureError) as refused:
        verifier().verify("POST", "/graphql", pairs, BODY)
    assert "more than once" in refused.value.reason


def test_parse_and_detect() -> None:
    header = sign()["Authorization"]
    assert is_sigv4(header)
    assert not is_sigv4("eyJhbGciOi.x.y")
    parsed = parse_authorization(header)
    assert (parsed.access_key_id, parsed.region, parsed.service) == (
        KEY.access_key_id,
        "us-east-1",
        "appsync",
    )
    assert parsed.signed_headers == ("content-type", "host", "x-amz-date", "x-amz-security-token")
