"""A client filter whose top level is an ``or`` can't widen what a constrained caller reads.

The caller's constraint and the filter share one FilterExpression; DynamoDB binds ``AND`` before
``OR``, so ``owner = :me AND a OR b`` would return every item matching ``b``. Each path that joins
them (a Scan list, a secondary index query, the relationship list, a pinned list) must
parenthesise the filter. Found while building relationships: the index query and the Scan list
returned other owners' items for ``filter: {or: [...]}``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from tests.functional.helpers import ALICE, BOB, CAROL, Client


@pytest.fixture
def apps() -> Iterator[dict[str, GraphQLApp]]:
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client
    from tests.fixtures.keys import SCHEMA as KEYS
    from tests.fixtures.relations import SCHEMA as RELATIONS

    with mock_aws():
        client = dynamodb_client()
        yield {
            name: GraphQLApp(schema, Store(client, create_tables(client, schema), token_key=b"k"))
            for name, schema in (("keys", KEYS), ("relations", RELATIONS))
        }


ANY_TITLE = {"or": [{"title": {"eq": "mine"}}, {"title": {"eq": "theirs"}}]}
ANY_BODY = {"or": [{"body": {"eq": "mine"}}, {"body": {"eq": "theirs"}}]}


def test_an_index_query_with_an_or_filter_stays_within_the_callers_items(apps: dict[str, GraphQLApp]) -> None:
    alice, bob = Client(apps["keys"], ALICE), Client(apps["keys"], BOB)
    alice.mutate("createTask", title="mine", status="open", priority=1)
    bob.mutate("createTask", title="theirs", status="open", priority=2)
    for field in ("tasksByStatusAndPriority", "tasksByStatus"):
        page = alice.query(field, status="open", filter=ANY_TITLE)
        assert [item["title"] for item in page["items"]] == ["mine"], field


def test_lists_and_relationships_with_an_or_filter_stay_within_the_callers_items(
    apps: dict[str, GraphQLApp],
) -> None:
    app = apps["relations"]
    alice, bob, carol = Client(app, ALICE), Client(app, BOB), Client(app, CAROL)
    alice.mutate("createPost", id="p1", title="t")
    alice.mutate("createComment", id="c1", postId="p1", body="mine")
    bob.mutate("createComment", id="c2", postId="p1", body="theirs")
    assert [c["id"] for c in alice.query("listComments", filter=ANY_BODY)["items"]] == ["c1"]  # a Scan
    pinned = {"and": [{"postId": {"eq": "p1"}}, ANY_BODY]}  # Amplify's lazy loader, with a filter
    assert [c["id"] for c in alice.query("listComments", filter=pinned)["items"]] == ["c1"]
    post = alice.query("getPost", id="p1")
    nested = alice.nested("Post", "comments", post, filter=ANY_BODY)
    assert [c["id"] for c in nested["data"]["items"]] == ["c1"]
    assert sorted(c["id"] for c in carol.query("listComments", filter=ANY_BODY)["items"]) == ["c1", "c2"]
