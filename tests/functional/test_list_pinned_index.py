"""A list whose filter pins an index's partition key with ``eq`` (what Amplify JS's lazy loader
sends for ``post.comments()``: ``listComments(filter: {and: [{postId: {eq: ...}}]})``) is served
by a Query of that index, with the same answer as the filter read over every item: a property
test against a Python evaluation of the filter, for unconstrained and owner-constrained callers,
and items read bounded by the post's comments (not the table)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelauth.identity import AuthMode, Principal
from modelauth.policy import decide
from modelauth.rules import Operation
from modelauth.store import Store
from tests.fixtures.relations import SCHEMA

COMMENT = SCHEMA.model("Comment")
POSTS, BODIES, OWNERS = ("p1", "p2", "p3"), ("a", "b", "c"), ("alice", "bob")
ADMIN = Principal(AuthMode.USER_POOLS, sub="admin", username="admin", groups=("Admin",))
ALICE = Principal(AuthMode.USER_POOLS, sub="a1", username="alice")


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        store = Store(client, create_tables(client, SCHEMA), token_key=b"k")
        for n in range(36):
            post, body, owner = POSTS[n % 3], BODIES[n // 3 % 3], OWNERS[n // 9 % 2]
            sub = "a1" if owner == "alice" else "b2"
            store.create(
                COMMENT,
                {"id": f"c{n:02d}", "postId": post, "body": body, "owner": f"{sub}::{owner}"},
                decide(ADMIN, COMMENT, Operation.CREATE, input={}),
            )
        yield store


def body_condition() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda op, v: {"body": {op: v}}, st.sampled_from(["eq", "ne"]), st.sampled_from(BODIES))


FILTERS = st.one_of(
    st.builds(lambda p: {"postId": {"eq": p}}, st.sampled_from(POSTS)),
    st.builds(lambda p, b: {"postId": {"eq": p}, **b}, st.sampled_from(POSTS), body_condition()),
    st.builds(
        lambda p, bs: {"and": [{"postId": {"eq": p}}, *bs]},
        st.sampled_from(POSTS),
        st.lists(body_condition(), max_size=2),
    ),
    st.builds(
        lambda p, bs: {"postId": {"eq": p}, "or": bs},
        st.sampled_from(POSTS),
        st.lists(body_condition(), min_size=1, max_size=2),
    ),
)


def holds(item: dict[str, Any], node: dict[str, Any]) -> bool:
    """The filter's meaning, for the shapes above."""
    for key, value in node.items():
        if key == "and" and not all(holds(item, c) for c in value):
            return False
        if key == "or" and not any(holds(item, c) for c in value):
            return False
        if key not in ("and", "or"):
            [(op, operand)] = value.items()
            if (item.get(key) == operand) != (op == "eq"):
                return False
    return True


def listed(store: Store, principal: Principal, filter_input: dict[str, Any]) -> tuple[list[str], int]:
    """Every id the list returns, following nextToken, and the most items one request read."""
    decision = decide(principal, COMMENT, Operation.LIST)
    found, read, token = [], 0, None
    while True:
        page = store.list_items(COMMENT, decision, filter=filter_input, limit=4, next_token=token, caller="c")
        found += [item["id"] for item in page.items]
        read, token = max(read, page.scanned), page.next_token
        if token is None:
            return sorted(found), read


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filter_input=FILTERS, as_alice=st.booleans())
def test_a_pinned_list_answers_as_the_filter_over_every_item(
    store: Store, filter_input: dict[str, Any], as_alice: bool
) -> None:
    principal = ALICE if as_alice else ADMIN
    every = [store.get(COMMENT, f"c{n:02d}") for n in range(36)]
    expected = sorted(
        item["id"]
        for item in every
        if item is not None and holds(item, filter_input) and (not as_alice or item["owner"] == "a1::alice")
    )
    ids, read = listed(store, principal, filter_input)
    assert ids == expected
    # per request, Admin reads the post's comments (the index partition), never the 36 of the
    # table; alice her owner index (18 items), which the list reads rather than the partition
    assert read <= (18 if as_alice else 12)


def test_an_unpinned_or_malformed_filter_keeps_the_list_path(store: Store) -> None:
    from modelauth.errors import BadRequest

    decision = decide(ADMIN, COMMENT, Operation.LIST)
    _, read = listed(store, ADMIN, {"postId": {"ne": "p1"}})
    assert read > 12  # not pinned: a Scan of the table, past any one post's comments
    with pytest.raises(BadRequest):
        store.list_items(COMMENT, decision, filter={"and": "p1", "postId": {"eq": "p1"}})
