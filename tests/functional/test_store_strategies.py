"""The data layer per strategy, through the resolver on moto: owners, co-owners, groups,
public reads, field masks, transfers, versions, pages, filters and nextTokens."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from tests.functional.helpers import ALICE, BOB, CAROL, DAVE, Client, list_all, user

NOT_AUTHORIZED = "Not Authorized to access {} on type {}"


@pytest.fixture
def alice(graphql_app: GraphQLApp) -> Client:
    return Client(graphql_app, ALICE)


@pytest.fixture
def bob(graphql_app: GraphQLApp) -> Client:
    return Client(graphql_app, BOB)


@pytest.fixture
def carol(graphql_app: GraphQLApp) -> Client:
    return Client(graphql_app, CAROL)


@pytest.fixture
def dave(graphql_app: GraphQLApp) -> Client:
    return Client(graphql_app, DAVE)


@pytest.fixture
def api_key(graphql_app: GraphQLApp) -> Client:
    return Client(graphql_app, None, "API Key Authorization", {"x-api-key": "da2-testtesttesttesttesttest"})


def unauthorized(field: str, parent: str) -> dict[str, Any]:
    return {"message": NOT_AUTHORIZED.format(field, parent), "errorType": "Unauthorized"}


# -- multi-owner (ownersDefinedIn) and dynamic groups: Post -------------------------------------


def test_co_owners_listed_in_editors_can_read_and_update_others_cannot(
    alice: Client, bob: Client, dave: Client
) -> None:
    post = alice.mutate("createPost", id="p1", title="hello", editors=["a1::alice", "bob"])
    assert post["editors"] == ["alice", "bob"]  # read back as username parts

    assert bob.mutate("updatePost", id="p1", body="edited by bob")["body"] == "edited by bob"
    assert dave.error("Query", "getPost", id="p1") == unauthorized("getPost", "Query")
    assert dave.error("Mutation", "updatePost", input={"id": "p1", "body": "x"}) == unauthorized(
        "updatePost", "Mutation"
    )


def test_creating_a_post_without_editors_makes_the_creator_its_owner(alice: Client) -> None:
    assert alice.mutate("createPost", title="mine")["editors"] == ["alice"]


def test_creating_a_post_for_other_editors_only_is_rejected(alice: Client) -> None:
    error = alice.error("Mutation", "createPost", input={"title": "spoof", "editors": ["bob"]})
    assert error == unauthorized("createPost", "Mutation")


def test_group_members_read_posts_shared_with_their_group_but_may_not_write(
    alice: Client, dave: Client
) -> None:
    alice.mutate("createPost", id="p1", title="for sales", groups=["Sales"])
    alice.mutate("createPost", id="p2", title="private")

    assert dave.query("getPost", id="p1")["title"] == "for sales"
    assert [p["id"] for p in list_all(dave, "listPosts")] == ["p1"]
    assert dave.error("Mutation", "deletePost", input={"id": "p1"}) == unauthorized("deletePost", "Mutation")


def test_admin_group_has_full_access_to_posts(alice: Client, carol: Client) -> None:
    alice.mutate("createPost", id="p1", title="hello")
    assert [p["id"] for p in list_all(carol, "listPosts")] == ["p1"]
    assert carol.mutate("deletePost", id="p1")["id"] == "p1"


def test_editor_lists_see_each_post_once_from_the_index_items(alice: Client, bob: Client) -> None:
    # alice appears as both her composite and her username: still listed once
    alice.mutate("createPost", id="p1", title="one", editors=["a1::alice", "alice"])
    alice.mutate("createPost", id="p2", title="two")
    bob.mutate("createPost", id="p3", title="bob's")

    assert sorted(p["id"] for p in list_all(alice, "listPosts", limit=1)) == ["p1", "p2"]
    assert [p["id"] for p in list_all(bob, "listPosts")] == ["p3"]


def test_removing_an_editor_updates_the_index_atomically(alice: Client, bob: Client, store: Any) -> None:
    alice.mutate("createPost", id="p1", title="shared", editors=["a1::alice", "bob"])
    assert [p["id"] for p in list_all(bob, "listPosts")] == ["p1"]

    carol = Client(bob.app, CAROL)  # Admin: a static grant may change owners
    carol.mutate("updatePost", id="p1", editors=["a1::alice"])

    assert list_all(bob, "listPosts") == []
    assert bob.error("Query", "getPost", id="p1") == unauthorized("getPost", "Query")


def test_co_owner_may_not_rewrite_the_editors_list_without_a_transfer_rule(
    alice: Client, bob: Client
) -> None:
    alice.mutate("createPost", id="p1", title="shared", editors=["a1::alice", "bob"])
    error = bob.error("Mutation", "updatePost", input={"id": "p1", "editors": ["bob"]})
    assert error == {"message": "Unauthorized on [editors]", "errorType": "Unauthorized"}
    assert alice.query("getPost", id="p1")["editors"] == ["alice", "bob"]


def test_deleting_a_post_removes_its_index_items(alice: Client, store: Any, dynamodb: Any) -> None:
    alice.mutate("createPost", id="p1", title="x", editors=["a1::alice"], groups=["Sales"])
    assert dynamodb.scan(TableName="ModelIndex")["Count"] == 2
    alice.mutate("deletePost", id="p1")
    assert dynamodb.scan(TableName="ModelIndex")["Count"] == 0


# -- public reads and static groups: CatalogItem --------------------------------------------------


def test_catalog_is_readable_by_api_key_and_signed_in_users_writable_by_admins(
    api_key: Client, alice: Client, carol: Client
) -> None:
    carol.mutate("createCatalogItem", id="c1", name="lamp", price=19.5)
    assert api_key.query("getCatalogItem", id="c1")["price"] == 19.5
    assert [i["name"] for i in list_all(alice, "listCatalogItems")] == ["lamp"]
    assert alice.error("Mutation", "createCatalogItem", input={"name": "x"}) == unauthorized(
        "createCatalogItem", "Mutation"
    )
    assert api_key.error("Mutation", "deleteCatalogItem", input={"id": "c1"}) == unauthorized(
        "deleteCatalogItem", "Mutation"
    )


def test_delete_of_a_missing_item_under_a_static_grant_is_a_condition_failure(carol: Client) -> None:
    error = carol.error("Mutation", "deleteCatalogItem", input={"id": "nope"})
    assert error == {
        "message": "The conditional request failed",
        "errorType": "DynamoDB:ConditionalCheckFailedException",
    }


# -- field-level rules: Profile.ssn ----------------------------------------------------------------


def test_field_rule_nulls_ssn_for_other_readers_with_an_error(alice: Client, bob: Client) -> None:
    alice.mutate("createProfile", id="pr1", name="Alice", ssn="123-45-6789")
    result = bob.call("Query", "getProfile", id="pr1")
    assert result["data"]["name"] == "Alice"
    assert result["data"]["ssn"] is None
    assert result["errors"] == [unauthorized("ssn", "Profile")]
    assert alice.query("getProfile", id="pr1")["ssn"] == "123-45-6789"


def test_field_rule_masks_each_item_of_a_list(alice: Client, bob: Client) -> None:
    alice.mutate("createProfile", name="Alice", ssn="1")
    bob.mutate("createProfile", name="Bob", ssn="2")
    result = bob.call("Query", "listProfiles")
    by_name = {p["name"]: p["ssn"] for p in result["data"]["items"]}
    assert by_name == {"Alice": None, "Bob": "2"}
    assert result["errors"] == [unauthorized("ssn", "Profile")]


def test_signed_in_reader_may_not_update_someone_elses_profile(alice: Client, bob: Client) -> None:
    alice.mutate("createProfile", id="pr1", name="Alice")
    assert bob.error("Mutation", "updateProfile", input={"id": "pr1", "name": "B"}) == unauthorized(
        "updateProfile", "Mutation"
    )


# -- versions and conflicts -----------------------------------------------------------------------


def test_updates_bump_the_version_and_a_stale_version_is_a_conflict(alice: Client) -> None:
    alice.mutate("createTodo", id="t1", content="v1")
    assert alice.mutate("updateTodo", id="t1", content="v2", _version=1)["_version"] == 2
    error = alice.error("Mutation", "updateTodo", input={"id": "t1", "content": "lost", "_version": 1})
    assert error["errorType"] == "ConflictUnhandled"
    assert error["errorInfo"] == {"_version": 2, "id": "t1"}
    assert alice.query("getTodo", id="t1")["content"] == "v2"


def test_stale_version_on_delete_is_a_conflict_and_keeps_the_item(alice: Client) -> None:
    alice.mutate("createTodo", id="t1", content="v1")
    alice.mutate("updateTodo", id="t1", content="v2")
    assert (
        alice.error("Mutation", "deleteTodo", input={"id": "t1", "_version": 1})["errorType"]
        == "ConflictUnhandled"
    )
    assert alice.query("getTodo", id="t1")["content"] == "v2"


def test_version_conflict_on_an_indexed_model(alice: Client) -> None:
    alice.mutate("createPost", id="p1", title="v1")
    alice.mutate("updatePost", id="p1", title="v2", _version=1)
    error = alice.error("Mutation", "updatePost", input={"id": "p1", "title": "lost", "_version": 1})
    assert error["errorType"] == "ConflictUnhandled"


def test_setting_a_field_to_null_removes_it(alice: Client) -> None:
    alice.mutate("createTodo", id="t1", content="x", done=True)
    assert alice.mutate("updateTodo", id="t1", done=None).get("done") is None
    assert "done" not in alice.query("getTodo", id="t1")


# -- pages, filters and nextTokens ----------------------------------------------------------------


def seed_todos(graphql_app: GraphQLApp, count: int, owners: int) -> None:
    callers = [Client(graphql_app, user(f"user{n}", f"s{n}")) for n in range(owners)]
    for n in range(count):
        callers[n % owners].mutate("createTodo", content=f"todo {n}", done=(n // owners) % 3 == 0)


def test_owner_pages_are_full_and_read_only_the_owners_items(graphql_app: GraphQLApp, store: Any) -> None:
    seed_todos(graphql_app, 60, owners=6)  # 10 each
    me = Client(graphql_app, user("user2", "s2"))
    items = list_all(me, "listTodos", limit=3)
    assert len(items) == 10
    assert {i["owner"] for i in items} == {"user2"}


def test_filters_work_with_the_owner_constraint_and_pages_stay_full(graphql_app: GraphQLApp) -> None:
    seed_todos(graphql_app, 90, owners=3)  # 30 each, 10 of them done
    me = Client(graphql_app, user("user0", "s0"))
    done = list_all(me, "listTodos", limit=4, filter={"done": {"eq": True}})
    assert len(done) == 10
    assert all(t["done"] for t in done)
    nested = {
        "and": [
            {"done": {"eq": True}},
            {"or": [{"content": {"beginsWith": "todo 1"}}, {"content": {"eq": "todo 3"}}]},
        ]
    }
    picked = list_all(me, "listTodos", limit=2, filter=nested)
    expected = [t["content"] for t in done if t["content"].startswith("todo 1") or t["content"] == "todo 3"]
    assert sorted(t["content"] for t in picked) == sorted(expected)


def test_public_list_pages_are_full_with_a_filter(graphql_app: GraphQLApp, api_key: Client) -> None:
    seed_todos(graphql_app, 40, owners=4)  # n // 4 in {0, 3, 6, 9} are done
    done = list_all(api_key, "listTodos", limit=5, filter={"done": {"eq": True}})
    assert len(done) == 16


def test_tampered_next_token_is_rejected(graphql_app: GraphQLApp) -> None:
    seed_todos(graphql_app, 10, owners=1)
    me = Client(graphql_app, user("user0", "s0"))
    token = me.query("listTodos", limit=2)["nextToken"]
    body, mac = token.split(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    for bad in (tampered, token + "x", "garbage", "a.b.c", body + "." + body):
        error = me.error("Query", "listTodos", limit=2, nextToken=bad)
        assert error == {"message": "Invalid nextToken", "errorType": "BadRequest"}, bad


def test_next_token_replayed_by_another_user_is_rejected(graphql_app: GraphQLApp) -> None:
    seed_todos(graphql_app, 10, owners=1)
    owner = Client(graphql_app, user("user0", "s0"))
    token = owner.query("listTodos", limit=2)["nextToken"]
    thief = Client(graphql_app, user("mallory", "m9"))
    assert thief.error("Query", "listTodos", limit=2, nextToken=token)["errorType"] == "BadRequest"


def test_next_token_is_bound_to_its_filter(graphql_app: GraphQLApp) -> None:
    seed_todos(graphql_app, 10, owners=1)
    me = Client(graphql_app, user("user0", "s0"))
    token = me.query("listTodos", limit=2, filter={"done": {"eq": False}})["nextToken"]
    assert me.error("Query", "listTodos", limit=2, nextToken=token)["errorType"] == "BadRequest"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"limit": 0}, "limit must be between 1 and 1000"),
        ({"limit": 5000}, "limit must be between 1 and 1000"),
        ({"filter": {"secret": {"eq": 1}}}, "filter: unknown field 'secret'"),
        ({"filter": {"content": {"like": "%"}}}, "filter: unknown operator 'like' on 'content'"),
    ],
)
def test_bad_list_arguments_are_bad_requests(alice: Client, arguments: dict[str, Any], message: str) -> None:
    assert alice.error("Query", "listTodos", **arguments) == {"message": message, "errorType": "BadRequest"}


def test_filter_nested_fifty_deep_is_answered_not_crashed(alice: Client) -> None:
    alice.mutate("createTodo", content="deep")
    nested: dict[str, Any] = {"content": {"eq": "deep"}}
    for _ in range(50):
        nested = {"and": [nested]}
    assert [t["content"] for t in alice.query("listTodos", filter=nested)["items"]] == ["deep"]
    for _ in range(20):
        nested = {"not": {"not": nested}}
    assert alice.error("Query", "listTodos", filter=nested)["errorType"] == "BadRequest"
