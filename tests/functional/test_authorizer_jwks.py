"""Signing keys fetched over HTTP (a JWKS endpoint on 127.0.0.1): cached keys keep verifying
while the endpoint is down, an unknown kid triggers one rate-limited refetch, and with no usable
key set the authorizer fails closed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelauth.authorizer import CallerKind, Issuer, LambdaAuthorizer, TokenVerifier
from modelauth.errors import Unauthenticated
from modelauth.jwks import JwksUnavailable, KeySet
from tests.authz import JwksEndpoint, TestIssuer, authorizer_event, jwks_endpoint, public_jwk

IDP = TestIssuer("https://idp.example.com/", "api", kid="key-1", key_name="idp")
ROTATED = TestIssuer("https://idp.example.com/", "api", kid="key-2", key_name="idp-next")


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    with jwks_endpoint() as state:
        yield state


def verifier_for(keys: KeySet) -> TokenVerifier:
    return TokenVerifier([Issuer(IDP.issuer, keys, frozenset({"api"}))])


def test_keys_are_fetched_once_and_cached(endpoint: JwksEndpoint) -> None:
    endpoint.serve(IDP.jwks())
    verifier = verifier_for(KeySet(endpoint.url))
    for _ in range(5):
        assert verifier.verify(IDP.token()).principal_id == "user-42"
    assert endpoint.hits == 1


@pytest.mark.parametrize("outage", ["HTTP 503", "not JSON", "no keys"])
def test_endpoint_down_after_the_cache_expires_cached_keys_still_verify(
    endpoint: JwksEndpoint, outage: str
) -> None:
    endpoint.serve(IDP.jwks())
    verifier = verifier_for(KeySet(endpoint.url, lifespan=0.05, refresh_cooldown=0))
    assert verifier.verify(IDP.token()).principal_id == "user-42"

    if outage == "HTTP 503":
        endpoint.fail()
    elif outage == "not JSON":
        endpoint.body = b"<html>maintenance</html>"
    else:
        endpoint.serve({"keys": []})
    time.sleep(0.1)  # the cached set has expired: the next verification refetches, and fails

    assert verifier.verify(IDP.token()).principal_id == "user-42"
    assert endpoint.hits == 2


def warmed_up(endpoint: JwksEndpoint, clock: list[float]) -> TokenVerifier:
    """A verifier on the endpoint (30 s refresh cooldown, the test's clock) after its first fetch."""
    endpoint.serve(IDP.jwks())
    verifier = verifier_for(KeySet(endpoint.url, refresh_cooldown=30, clock=lambda: clock[0]))
    verifier.verify(IDP.token())
    return verifier


def test_unknown_kid_refetches_once_and_finds_a_rotated_key(endpoint: JwksEndpoint) -> None:
    clock = [0.0]
    verifier = warmed_up(endpoint, clock)

    endpoint.serve({"keys": [public_jwk("idp", "key-1"), public_jwk("idp-next", "key-2")]})
    clock[0] = 31.0  # past the cooldown of the first fetch
    assert verifier.verify(ROTATED.token()).principal_id == "user-42"
    assert endpoint.hits == 2


def test_unknown_kids_cannot_hammer_the_endpoint(endpoint: JwksEndpoint) -> None:
    clock = [0.0]
    verifier = warmed_up(endpoint, clock)

    for n in range(20):
        clock[0] = float(n)  # all within the cooldown
        with pytest.raises(Unauthenticated) as refused:
            verifier.verify(IDP.token(headers={"kid": f"random-{n}"}))
        assert f"no signing key with kid 'random-{n}'" in refused.value.reason
    assert endpoint.hits == 1


def test_unknown_kid_while_the_endpoint_is_down_is_denied(endpoint: JwksEndpoint) -> None:
    endpoint.serve(IDP.jwks())
    verifier = verifier_for(KeySet(endpoint.url, refresh_cooldown=0))
    verifier.verify(IDP.token())
    endpoint.fail()

    with pytest.raises(Unauthenticated):
        verifier.verify(ROTATED.token())
    assert verifier.verify(IDP.token()).principal_id == "user-42"  # known keys unaffected


def test_no_key_set_ever_fetched_fails_closed(endpoint: JwksEndpoint) -> None:
    endpoint.fail()
    authorizer = LambdaAuthorizer(verifier_for(KeySet(endpoint.url)))
    token = f"Bearer {IDP.token()}"

    with pytest.raises(JwksUnavailable):
        authorizer.verifier.verify(token)
    assert authorizer.handle(authorizer_event(CallerKind.APPSYNC, token)) == {
        "isAuthorized": False,
        "ttlOverride": 0,
    }
    assert authorizer.handle(authorizer_event(CallerKind.HTTP_V2, token)) == {"isAuthorized": False}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.handle(authorizer_event(CallerKind.REST_TOKEN, token))


def test_a_redirecting_jwks_endpoint_is_not_followed(endpoint: JwksEndpoint) -> None:
    endpoint.status, endpoint.body = 302, b""
    endpoint.headers = {"Location": "https://attacker.example/jwks.json"}
    with pytest.raises(JwksUnavailable):
        verifier_for(KeySet(endpoint.url)).verify(IDP.token())


def test_file_and_inline_sources(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(IDP.jwks()))
    for source in (str(path), f"file://{path}", json.dumps(IDP.jwks()), IDP.jwks(), IDP.jwks):
        assert verifier_for(KeySet(source)).verify(IDP.token()).principal_id == "user-42"


def test_a_missing_jwks_file_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(JwksUnavailable):
        verifier_for(KeySet(str(tmp_path / "absent.json"))).verify(IDP.token())
