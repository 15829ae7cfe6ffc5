"""DecisionCache: the same answers as decide(), whatever order callers and models come in.

The cache is keyed by the caller (every Principal field, claims included), the model object and
the operation; these tests run interleaved sequences against a cache small enough to evict and
compare every answer with a fresh, uncached decide().
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelauth.identity import AuthMode, Principal
from modelauth.policy import DecisionCache, decide
from modelauth.rules import Model, Operation, allow
from tests.unit.test_policy_properties import Caller, callers, model_of, rule_lists

ITEMLESS = [Operation.GET, Operation.LIST, Operation.DELETE, Operation.LISTEN]


@settings(max_examples=150)
@given(
    st.lists(rule_lists, min_size=1, max_size=3),
    st.lists(st.tuples(callers(), st.integers(0, 2), st.sampled_from(ITEMLESS)), min_size=1, max_size=30),
)
def test_every_answer_equals_an_uncached_decide(
    rule_sets: list[list[object]], calls: list[tuple[Caller, int, Operation]]
) -> None:
    models = [model_of(rules) for rules in rule_sets]  # type: ignore[arg-type]
    cache = DecisionCache(max_entries=3)
    for caller, index, op in calls:
        model = models[index % len(models)]
        principal = caller.principal()
        assert cache.decide(principal, model, op) == decide(principal, model, op)
    assert len(cache) <= 3


ALICE = Principal(AuthMode.USER_POOLS, sub="A1", username="alice", claims={"sub": "A1", "username": "alice"})
TODO = Model("Todo", rules=[allow.owner(), allow.groups(["Admin"])])


def test_an_equal_caller_gets_the_remembered_decision() -> None:
    cache = DecisionCache()
    first = cache.decide(ALICE, TODO, Operation.LIST)
    same_caller_again = replace(ALICE)  # a new object, as a new request builds
    assert cache.decide(same_caller_again, TODO, Operation.LIST) is first
    assert len(cache) == 1


@pytest.mark.parametrize(
    "other",
    [
        replace(ALICE, groups=("Admin",)),  # the groups rule now grants everything
        replace(ALICE, claims={"sub": "A1", "username": "alice", "cognito:groups": ["Admin"]}),
        replace(ALICE, sub="B2"),
        replace(ALICE, mode=AuthMode.OIDC),
    ],
    ids=["groups", "claims", "sub", "mode"],
)
def test_a_caller_differing_in_any_field_is_decided_afresh(other: Principal) -> None:
    cache = DecisionCache()
    cache.decide(ALICE, TODO, Operation.LIST)
    assert cache.decide(other, TODO, Operation.LIST) == decide(other, TODO, Operation.LIST)
    assert len(cache) == 2


def test_an_equal_model_object_is_not_the_same_model() -> None:
    cache = DecisionCache()
    other = Model("Todo", rules=[allow.public_api_key()])
    cache.decide(ALICE, TODO, Operation.GET)
    assert not cache.decide(ALICE, other, Operation.GET).allowed  # no rule for user pools


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = DecisionCache(max_entries=2)
    bob = replace(ALICE, sub="B2", username="bob")
    carol = replace(ALICE, sub="C3", username="carol")
    kept = cache.decide(ALICE, TODO, Operation.GET)
    cache.decide(bob, TODO, Operation.GET)
    cache.decide(ALICE, TODO, Operation.GET)  # alice is now the most recent
    cache.decide(carol, TODO, Operation.GET)  # evicts bob
    assert len(cache) == 2
    assert cache.decide(ALICE, TODO, Operation.GET) is kept


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DecisionCache(max_entries=0)


def test_one_users_tokens_do_not_share_a_hash() -> None:
    """A user's new tokens differ only in their claims; if those were left out of the hash, every
    token would land in one bucket and each lookup would compare against all of them."""
    tokens = [replace(ALICE, claims={**ALICE.claims, "jti": f"token-{n}", "iat": n}) for n in range(200)]
    assert len({hash(token) for token in tokens}) == len(tokens)


def test_equal_principals_hash_alike_whatever_the_claim_order() -> None:
    forward = replace(ALICE, claims={"a": 1, "b": {"c": [1, 2]}, "d": "x"})
    backward = replace(ALICE, claims={"d": "x", "b": {"c": [1, 2]}, "a": 1})
    assert forward == backward
    assert hash(forward) == hash(backward)


# Python holds these equal; the rules read them as "1", "1.0", "true", "0.0", "-0.0", ...
EQUAL_IN_PYTHON = [1, 1.0, True, 0, 0.0, -0.0, False, [1], [True]]
TENANT_DOC = Model("Doc", rules=[allow.owner("oidc").identity_claim("tenant")])


def tenant(value: Any) -> Principal:
    return Principal(AuthMode.OIDC, issuer="https://idp.example/", claims={"tenant": value})


@pytest.mark.parametrize("first", EQUAL_IN_PYTHON)
@pytest.mark.parametrize("then", EQUAL_IN_PYTHON)
def test_claims_equal_in_python_but_read_differently_get_their_own_decision(first: Any, then: Any) -> None:
    cache = DecisionCache()
    cache.decide(tenant(first), TENANT_DOC, Operation.LIST)
    uncached = decide(tenant(then), TENANT_DOC, Operation.LIST)
    assert cache.decide(tenant(then), TENANT_DOC, Operation.LIST) == uncached
    assert (tenant(first) == tenant(then)) == (repr(first) == repr(then))


def test_claims_too_deep_to_hash_here_are_decided_uncached() -> None:
    deep: Any = "x"
    for _ in range(150):
        deep = {"a": deep}
    caller = replace(ALICE, claims={**ALICE.claims, "deep": deep})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(_frames()) + 120)  # enough to decide, too little to hash the claims
    try:
        with pytest.raises(RecursionError):
            hash(caller)
        got = DecisionCache().decide(caller, TODO, Operation.LIST)
    finally:
        sys.setrecursionlimit(limit)
    assert got == decide(caller, TODO, Operation.LIST)


def _frames() -> list[object]:
    frame, frames = sys._getframe(), []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back  # type: ignore[assignment]
    return frames
