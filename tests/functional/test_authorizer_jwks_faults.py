"""A JWKS endpoint that is slow, trickles its answer, fails or refuses connections: the wait for
it is bounded by the configured timeout, cached keys keep verifying, and without a usable key
every caller gets a transient deny (never a hang, never an allow).

Wall-clock limits here are hang guards only (far above the timeouts), not performance checks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from modelauth.authorizer import CallerKind, Issuer, LambdaAuthorizer, TokenVerifier
from modelauth.jwks import DEFAULT_TIMEOUT, KeySet
from tests.authz import (
    JwksEndpoint,
    TestIssuer,
    assert_invalid_credential_answer,
    authorizer_event,
    jwks_endpoint,
    rejected_with,
)
from tests.unit.test_authorizer_tokens import CLIENT, POOL, POOL_ID

IDP = TestIssuer("https://idp.example.com/", "api", kid="key-1", key_name="idp")
ROTATED = TestIssuer("https://idp.example.com/", "api", kid="key-2", key_name="idp-next")
TIMEOUT = 0.3
HANG_GUARD = 10.0  # seconds; a fetch that isn't bounded takes minutes against these endpoints


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    with jwks_endpoint() as state:
        yield state


def authorizer_on(url: str, **options: Any) -> LambdaAuthorizer:
    keys = KeySet(url, timeout=TIMEOUT, **options)
    return LambdaAuthorizer(TokenVerifier([Issuer(IDP.issuer, keys, frozenset({"api"}))]))


def answer(authorizer: LambdaAuthorizer, kind: CallerKind, token: str) -> Any:
    """The caller's answer, asserting it came back (deny or allow) rather than hung."""
    started = time.monotonic()
    outcome = rejected_with(lambda: authorizer.handle(authorizer_event(kind, f"Bearer {token}")))
    assert time.monotonic() - started < HANG_GUARD
    return outcome


def allowed(kind: CallerKind, outcome: Any) -> bool:
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        return isinstance(outcome, dict) and outcome["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    return isinstance(outcome, dict) and outcome["isAuthorized"] is True


# ----------------------------------------------------------------------------- configuration


def test_the_jwks_timeout_is_small_by_default_and_configurable() -> None:
    assert DEFAULT_TIMEOUT == 3.0  # AppSync gives the authorizer 10 s in all
    base = {"USER_POOL_ID": POOL_ID, "USER_POOL_CLIENT_IDS": CLIENT}
    oidc = [
        {
            "issuer": IDP.issuer,
            "audiences": ["api"],
            "jwks": "https://idp.example.com/jwks",
            "subjectPrefix": "o:",
        }
    ]
    default = LambdaAuthorizer.from_env(None, base)
    assert default.verifier.issuers[POOL.issuer].keys.timeout == DEFAULT_TIMEOUT

    configured = LambdaAuthorizer.from_env(
        None, {**base, "MODELAUTH_JWKS_TIMEOUT": "1.5", "MODELAUTH_OIDC_ISSUERS": json.dumps(oidc)}
    )
    assert {issuer.keys.timeout for issuer in configured.verifier.issuers.values()} == {1.5}


@pytest.mark.parametrize("value", ["0", "-1", "nan", "600", "soon"])
def test_an_unusable_jwks_timeout_fails_the_cold_start(value: str) -> None:
    with pytest.raises(ValueError, match=r"timeout|could not convert"):
        LambdaAuthorizer.from_env(
            None, {"USER_POOL_ID": POOL_ID, "USER_POOL_CLIENT_IDS": CLIENT, "MODELAUTH_JWKS_TIMEOUT": value}
        )


# ----------------------------------------------------------------------------- no key set yet


def slow(endpoint: JwksEndpoint) -> None:
    endpoint.delay = 60.0


def trickling(endpoint: JwksEndpoint) -> None:
    endpoint.trickle = 0.2  # a JWKS of ~800 bytes would take minutes


OUTAGES: dict[str, Callable[[JwksEndpoint], None]] = {
    "slow": slow,
    "trickling": trickling,
    "HTTP 500": lambda e: e.fail(500),
}


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_no_key_set_and_a_broken_endpoint_deny_every_caller_within_the_timeout(
    endpoint: JwksEndpoint, outage: str
) -> None:
    endpoint.serve(IDP.jwks())
    OUTAGES[outage](endpoint)
    authorizer = authorizer_on(endpoint.url)

    for kind in CallerKind:
        assert_invalid_credential_answer(kind, answer(authorizer, kind, IDP.token()), transient=True)
    if outage == "trickling":
        assert endpoint.hits == 1  # the running fetch is waited for again, never a second one


def test_connection_refused_without_a_key_set_denies_every_caller() -> None:
    with jwks_endpoint() as endpoint:
        url = endpoint.url
    authorizer = authorizer_on(url)  # nothing listens there any more
    for kind in CallerKind:
        assert_invalid_credential_answer(kind, answer(authorizer, kind, IDP.token()), transient=True)


def test_the_endpoint_recovering_ends_the_denials(endpoint: JwksEndpoint) -> None:
    endpoint.serve(IDP.jwks())
    endpoint.delay = 60.0
    authorizer = authorizer_on(endpoint.url)
    assert not allowed(CallerKind.APPSYNC, answer(authorizer, CallerKind.APPSYNC, IDP.token()))

    endpoint.delay = 0.0
    deadline = time.monotonic() + HANG_GUARD  # the abandoned fetch ends at its own socket timeout
    while not allowed(CallerKind.APPSYNC, answer(authorizer, CallerKind.APPSYNC, IDP.token())):
        assert time.monotonic() < deadline
        time.sleep(TIMEOUT)


# ----------------------------------------------------------------------------- keys cached before


BREAKS: dict[str, Callable[[JwksEndpoint], None]] = {**OUTAGES, "HTTP 503": lambda e: e.fail(503)}


@pytest.mark.parametrize("outage", list(BREAKS))
def test_cached_keys_keep_verifying_while_the_endpoint_is_broken(endpoint: JwksEndpoint, outage: str) -> None:
    endpoint.serve(IDP.jwks())
    authorizer = authorizer_on(endpoint.url, lifespan=0.05, refresh_cooldown=0)
    assert allowed(CallerKind.APPSYNC, answer(authorizer, CallerKind.APPSYNC, IDP.token()))
    BREAKS[outage](endpoint)
    time.sleep(0.1)  # the cached set has expired: the next verification refetches, in vain

    for kind in CallerKind:
        assert allowed(kind, answer(authorizer, kind, IDP.token())), kind
        # a kid the cached set lacks may be a new key we couldn't fetch: deny, but transiently
        assert_invalid_credential_answer(kind, answer(authorizer, kind, ROTATED.token()), transient=True)


def test_cached_keys_keep_verifying_when_connections_are_refused() -> None:
    with jwks_endpoint() as endpoint:
        endpoint.serve(IDP.jwks())
        authorizer = authorizer_on(endpoint.url, lifespan=0.05, refresh_cooldown=0)
        assert allowed(CallerKind.APPSYNC, answer(authorizer, CallerKind.APPSYNC, IDP.token()))
    time.sleep(0.1)

    for kind in CallerKind:
        assert allowed(kind, answer(authorizer, kind, IDP.token())), kind
        assert_invalid_credential_answer(kind, answer(authorizer, kind, ROTATED.token()), transient=True)


def test_an_unknown_kid_while_the_endpoint_is_healthy_is_an_ordinary_deny(endpoint: JwksEndpoint) -> None:
    endpoint.serve(IDP.jwks())
    authorizer = authorizer_on(endpoint.url, refresh_cooldown=0)
    for kind in CallerKind:
        assert_invalid_credential_answer(kind, answer(authorizer, kind, ROTATED.token()))
    assert allowed(CallerKind.HTTP_V2, answer(authorizer, CallerKind.HTTP_V2, IDP.token()))
