"""PrincipalCache: a remembered Principal is exactly what Principal.from_appsync would build.

Mutated sample events (as in test_identity_properties) go through one small cache, interleaved:
each answer (or IdentityError) must equal a fresh parse, and identities that are equal in
Python but not as JSON (1 / 1.0 / true) must never share an entry.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelauth.errors import IdentityError
from modelauth.identity import IdentityConfig, Principal, PrincipalCache
from tests.unit.test_identity_properties import APPSYNC_EVENTS, _mutated


def _parse(parse: Any) -> Principal | str:
    try:
        principal: Principal = parse()
    except IdentityError as error:
        return f"IdentityError: {error.message}"
    return principal


@settings(max_examples=150, deadline=None)
@given(data=st.data(), count=st.integers(1, 12))
def test_every_answer_equals_a_fresh_parse(data: st.DataObject, count: int) -> None:
    cache = PrincipalCache(max_entries=3)
    events = [_mutated(data, APPSYNC_EVENTS) for _ in range(count)]
    for event in events + events[::-1]:  # the second half hits entries of the first
        given = event.get("authType")  # any JSON value: the resolver passes the event's own
        cached = _parse(lambda e=event, a=given: cache.from_appsync(e, auth_type=a))
        fresh = _parse(lambda e=event, a=given: Principal.from_appsync(e, auth_type=a))
        assert cached == fresh
        if isinstance(cached, Principal) and isinstance(fresh, Principal):
            assert _claim_types(cached) == _claim_types(fresh)
    assert len(cache) <= 3


def _claim_types(principal: Principal) -> str:
    return repr((principal.claims, principal.resolver_context))  # repr shows 1 / 1.0 / True apart


LAMBDA_EVENT = {
    "identity": {"resolverContext": {"sub": "u-1", "tenant": "1"}},
    "authType": "Lambda Authorization",
}


def test_a_repeated_identity_gets_the_same_principal() -> None:
    cache = PrincipalCache()
    first = cache.from_appsync(copy.deepcopy(LAMBDA_EVENT))
    assert cache.from_appsync(copy.deepcopy(LAMBDA_EVENT)) is first
    assert len(cache) == 1


EQUAL_IN_PYTHON = [1, 1.0, True, [1], [1.0], [True], {"n": 1}, {"n": True}, 0, 0.0, False, -0.0]


def claims_event(value: Any) -> dict[str, Any]:
    return {"identity": {"sub": "u-1", "claims": {"sub": "u-1", "iss": "https://idp.example/", "x": value}}}


@pytest.mark.parametrize("remembered", EQUAL_IN_PYTHON)
@pytest.mark.parametrize("asked", EQUAL_IN_PYTHON)
def test_values_equal_in_python_but_not_in_json_are_never_answered_from_the_cache(
    remembered: Any, asked: Any
) -> None:
    cache = PrincipalCache()
    cache.from_appsync(claims_event(remembered))
    principal = cache.from_appsync(claims_event(asked))
    fresh = Principal.from_appsync(claims_event(asked))
    assert repr(principal.claims) == repr(fresh.claims)  # the types too: 1 / 1.0 / True
    assert principal.claim("x") == fresh.claim("x")


def test_the_auth_type_is_part_of_the_key() -> None:
    cache = PrincipalCache()
    identity = {"identity": {"resolverContext": {"sub": "u-1"}}}
    cache.from_appsync(identity, auth_type="Lambda Authorization")
    with pytest.raises(IdentityError, match="does not have its shape"):
        cache.from_appsync(identity, auth_type="User Pool Authorization")


def test_a_refused_identity_is_refused_every_time_and_never_stored() -> None:
    cache = PrincipalCache()
    forged = {"identity": {"resolverContext": {"sub": "u-1"}, "claims": {"sub": "u-1"}}}
    for _ in range(2):
        with pytest.raises(IdentityError, match="ambiguous identity"):
            cache.from_appsync(forged)
    assert len(cache) == 0


def test_values_of_other_types_than_jsons_are_parsed_uncached() -> None:
    cache = PrincipalCache()
    event = {"identity": {"sub": "u-1", "claims": {"sub": "u-1", "x": ("a", 1)}}}
    assert cache.from_appsync(event) == Principal.from_appsync(event)
    assert len(cache) == 0


def test_deeply_nested_claims_are_refused_uncached() -> None:
    cache = PrincipalCache(IdentityConfig())
    nested: dict[str, Any] = {}
    deepest = nested
    for _ in range(5000):
        deepest["a"] = {}
        deepest = deepest["a"]
    with pytest.raises(IdentityError, match="nested too deeply"):
        cache.from_appsync({"identity": {"claims": {"sub": "u-1", "x": nested}}})
    assert len(cache) == 0
