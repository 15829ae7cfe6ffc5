"""Relationships (issue 18.1) through the Lambda handler on moto: each nested field answered
with the related model's rules (tests/fixtures/relations.py), as AppSync invokes it with the
parent's result as ``source``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelauth.policy import AuthConfig
from modelauth.resolvers import GraphQLApp
from modelauth.store import Store
from tests.fixtures.relations import SCHEMA
from tests.functional.helpers import ALICE, BOB, CAROL, DAVE, Client

API_KEY = {"x-api-key": "da2-fixture"}
GUEST = {
    "accountId": "123456789012",
    "cognitoIdentityPoolId": "us-east-1:pool",
    "cognitoIdentityId": "us-east-1:guest-1",
    "cognitoIdentityAuthType": "unauthenticated",
    "cognitoIdentityAuthProvider": None,
    "sourceIp": ["203.0.113.9"],
    "username": "AROAGUEST:CognitoIdentityCredentials",
    "userArn": "arn:aws:sts::123456789012:assumed-role/unauth/CognitoIdentityCredentials",
}


@pytest.fixture
def app() -> Iterator[GraphQLApp]:
    from moto import mock_aws

    from modelauth.local import create_tables
    from modelauth.store import dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        store = Store(client, create_tables(client, SCHEMA), token_key=b"k")
        config = AuthConfig(unauth_role_arns=frozenset({"arn:aws:iam::123456789012:role/unauth"}))
        yield GraphQLApp(SCHEMA, store, auth_config=config)


def callers(app: GraphQLApp) -> dict[str, Client]:
    return {
        "alice": Client(app, ALICE),
        "bob": Client(app, BOB),
        "carol": Client(app, CAROL),  # Admin
        "dave": Client(app, DAVE),
        "api_key": Client(app, None, "API Key Authorization", API_KEY),
        "guest": Client(app, GUEST, "IAM Authorization"),
    }


def seed(app: GraphQLApp) -> dict[str, Client]:
    """Blog b1 (alice) with posts p1 (alice) and p2 (bob); comments on p1: c1 alice's, c2 bob's
    for alice to view, c3 bob's, c4 carol's; on p2: c5 bob's."""
    c = callers(app)
    c["alice"].mutate("createBlog", id="b1", name="Notes")
    c["alice"].mutate("createPost", id="p1", title="Hello", blogId="b1")
    c["bob"].mutate("createPost", id="p2", title="Bob's", blogId="b1")
    for who, cid, post, viewers in [
        ("alice", "c1", "p1", None),
        ("bob", "c2", "p1", ["alice"]),
        ("bob", "c3", "p1", None),
        ("carol", "c4", "p1", None),
        ("bob", "c5", "p2", None),
    ]:
        fields: dict[str, Any] = {"id": cid, "body": cid, "postId": post}
        if viewers:
            fields["viewers"] = viewers
        c[who].mutate("createComment", **fields)
    return c


def data(result: dict[str, Any]) -> Any:
    assert result["errors"] == [], result
    return result["data"]


def ids(page: dict[str, Any]) -> list[str]:
    return sorted(item["id"] for item in page["items"])


def post_as(client: Client, post_id: str) -> dict[str, Any]:
    found = client.query("getPost", id=post_id)
    assert found is not None
    return dict(found)


# caller → the comments of p1 they see through Post.comments: the Comment rules, not the Post's
P1_COMMENTS = {
    "alice": ["c1", "c2"],  # her own and the one she views; not c3 (bob's) nor c4 (carol's)
    "carol": ["c1", "c2", "c3", "c4"],  # Admin
    "api_key": ["c1", "c2", "c3", "c4"],  # the API key reads comments
}


@pytest.mark.parametrize("caller", sorted(P1_COMMENTS))
def test_has_many_lists_what_the_related_rules_allow(app: GraphQLApp, caller: str) -> None:
    c = seed(app)
    post = post_as(c[caller], "p1")
    assert ids(data(c[caller].nested("Post", "comments", post))) == P1_COMMENTS[caller]


def test_has_many_of_another_parent_and_its_arguments(app: GraphQLApp) -> None:
    c = seed(app)
    bob = c["bob"]
    assert ids(data(bob.nested("Post", "comments", post_as(bob, "p2")))) == ["c5"]
    carol, post = c["carol"], post_as(c["carol"], "p1")
    filtered = data(carol.nested("Post", "comments", post, filter={"body": {"eq": "c3"}}))
    assert ids(filtered) == ["c3"]
    first = data(carol.nested("Post", "comments", post, limit=3))
    rest = data(carol.nested("Post", "comments", post, limit=3, nextToken=first["nextToken"]))
    assert len(first["items"]) == 3
    assert first["nextToken"]
    assert sorted(ids(first) + ids(rest)) == P1_COMMENTS["carol"]
    assert rest["nextToken"] is None


def test_belongs_to_parent_the_caller_may_not_read_is_null_with_amplifys_error(app: GraphQLApp) -> None:
    c = seed(app)
    bob = c["bob"]
    comment = bob.query("getComment", id="c2")  # bob's comment on alice's post
    result = bob.nested("Comment", "post", comment)
    assert result["data"] is None
    assert result["errors"] == [
        {"message": "Not Authorized to access post on type Comment", "errorType": "Unauthorized"}
    ]
    alice = c["alice"]
    parent = data(alice.nested("Comment", "post", alice.query("getComment", id="c2")))
    assert parent["id"] == "p1"
    assert parent["title"] == "Hello"


def test_a_reader_of_the_comment_reads_the_blog_through_two_levels(app: GraphQLApp) -> None:
    c = seed(app)
    alice = c["alice"]
    post = data(alice.nested("Comment", "post", alice.query("getComment", id="c1")))
    blog = data(alice.nested("Post", "blog", post))
    assert blog["name"] == "Notes"
    posts = data(alice.nested("Blog", "posts", blog))
    assert ids(posts) == ["p1"]  # Post rules: p2 is bob's
    assert ids(data(c["carol"].nested("Blog", "posts", blog))) == ["p1", "p2"]


def test_guests_read_the_blog_but_not_its_posts(app: GraphQLApp) -> None:
    c = seed(app)
    guest = c["guest"]
    blog = guest.query("getBlog", id="b1")
    assert blog["name"] == "Notes"
    result = guest.nested("Blog", "posts", blog)
    assert result["data"] is None
    assert result["errors"][0]["message"] == "Not Authorized to access posts on type Blog"
    assert result["errors"][0]["errorType"] == "Unauthorized"


def test_many_to_many_through_the_join_model(app: GraphQLApp) -> None:
    c = seed(app)
    c["carol"].mutate("createTag", id="t1", label="python")
    c["carol"].mutate("createTag", id="t2", label="rust")
    alice = c["alice"]
    alice.mutate("createPostTag", id="pt1", postId="p1", tagId="t1")
    c["bob"].mutate("createPostTag", id="pt2", postId="p2", tagId="t1")
    joins = data(alice.nested("Post", "tags", post_as(alice, "p1")))
    assert ids(joins) == ["pt1"]
    tag = data(alice.nested("PostTag", "tag", joins["items"][0]))
    assert tag["label"] == "python"
    # from the tag's side: both joins are readable, their posts only where Post rules allow
    tagged = data(alice.nested("Tag", "posts", alice.query("getTag", id="t1")))
    assert ids(tagged) == ["pt1", "pt2"]
    by_id = {item["id"]: item for item in tagged["items"]}
    assert data(alice.nested("PostTag", "post", by_id["pt1"]))["id"] == "p1"
    denied = alice.nested("PostTag", "post", by_id["pt2"])
    assert denied["data"] is None
    assert denied["errors"][0]["message"] == ("Not Authorized to access post on type PostTag")
    dave = c["dave"]
    assert ids(data(dave.nested("Tag", "posts", dave.query("getTag", id="t1")))) == ["pt1", "pt2"]


def test_has_one_is_judged_as_get_judges_it(app: GraphQLApp) -> None:
    c = seed(app)
    alice, bob = c["alice"], c["bob"]
    alice.mutate("createAccount", id="a1", name="alice")
    alice.mutate("createProfile", id="pr1", bio="hi", accountId="a1")
    bob.mutate("createAccount", id="a2", name="bob")
    assert data(alice.nested("Account", "profile", alice.query("getAccount", id="a1")))["bio"] == "hi"
    refused = bob.nested("Account", "profile", bob.query("getAccount", id="a1"))
    assert refused["data"] is None
    assert refused["errors"][0]["message"] == "Not Authorized to access profile on type Account"
    assert data(bob.nested("Account", "profile", bob.query("getAccount", id="a2"))) is None  # none yet


def test_relationship_fields_below_a_mutation_result_are_null(app: GraphQLApp) -> None:
    """Subscribers receive a mutation's result: its relationship fields are redacted (Amplify)."""
    c = seed(app)
    created = c["alice"].mutate("createPost", id="p3", title="New", blogId="b1")
    assert data(c["alice"].nested("Post", "comments", created)) is None
    assert data(c["alice"].nested("Post", "blog", created)) is None


@pytest.mark.parametrize(
    ("source", "arguments", "message"),
    [
        (None, {}, "Post.comments: a nested field needs its parent item (source)"),
        ("p1", {}, "Post.comments: source must be an object"),
        ({"id": "p1"}, {"owner": "x"}, "comments: unknown argument(s) ['owner']"),
        ({"id": "p1"}, {"limit": "ten"}, "limit must be an integer"),
        ({"id": "p1"}, {"sortDirection": "UP"}, "sortDirection must be ASC or DESC"),
        ({"id": "p1"}, {"nextToken": "forged"}, "Invalid nextToken"),
    ],
)
def test_bad_nested_requests_are_typed_errors(
    app: GraphQLApp, source: Any, arguments: dict[str, Any], message: str
) -> None:
    carol = seed(app)["carol"]
    event_source = source if not isinstance(source, str) else None
    if isinstance(source, str):  # a non-object source, as a forged direct invocation could send
        from modelauth.local import appsync_event

        event = appsync_event("Post", "comments", arguments, CAROL, auth_type="User Pool Authorization")
        event["source"] = source
        result = app.resolve(event, None)
    else:
        result = carol.nested("Post", "comments", event_source, **arguments)
    assert result["data"] is None
    assert result["errors"][0]["errorType"] == "BadRequest", result
    assert result["errors"][0]["message"] == message


def test_an_unreadable_parent_key_lists_nothing(app: GraphQLApp) -> None:
    carol = seed(app)["carol"]
    assert data(carol.nested("Post", "comments", {"id": None}))["items"] == []
    assert data(carol.nested("Comment", "post", {"id": "c1", "postId": None})) is None


def test_a_parent_with_a_composite_key(app: GraphQLApp) -> None:
    c = callers(app)
    alice, bob = c["alice"], c["bob"]
    for email, number in (("a@example.com", "o1"), ("a@example.com", "o2")):
        alice.mutate("createOrder", customerEmail=email, orderId=number)
    for sku, number in (("pen", "o1"), ("ink", "o1"), ("cap", "o2")):
        alice.mutate("createLineItem", id=sku, sku=sku, orderEmail="a@example.com", orderNumber=number)
    bob.mutate("createLineItem", id="bob-line", sku="x", orderEmail="a@example.com", orderNumber="o1")
    order = alice.query("getOrder", customerEmail="a@example.com", orderId="o1")
    assert ids(data(alice.nested("Order", "lines", order))) == ["ink", "pen"]  # not o2's, not bob's
    assert ids(data(c["carol"].nested("Order", "lines", order))) == ["bob-line", "ink", "pen"]
    line = alice.query("getLineItem", id="pen")
    assert data(alice.nested("LineItem", "order", line))["orderId"] == "o1"
