"""Relationships through the local endpoint (``modelauth serve``), over real HTTP, on a project
generated from tests/fixtures/relations.py: nested fields several levels deep (Blog → posts →
comments → post) answer as the Lambda handler does (tests/functional/test_relations.py), each
level with its own model's rules, and what a mutation result (a subscription's event) carries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVENTS, fixture_project
from tests.functional.test_relations import P1_COMMENTS
from tests.local.conftest import Client

SCHEMA_REF = "tests.fixtures.relations:SCHEMA"
TREE = """query { getBlog(id: "b1") { name posts { items { id comments { items { id post { id } } } } } } }"""


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Client]]:
    from modelauth.local.samtemplate import SamTemplate
    from modelauth.local.sandbox import Backend
    from modelauth.local.server import LocalServer
    from tests.fixtures.relations import SCHEMA

    template = SamTemplate.load(fixture_project(SCHEMA_REF) / "template.yaml")
    backend = Backend.embedded(template, SCHEMA)
    backend.schema_ref = SCHEMA_REF
    try:
        for name, groups in (("alice", []), ("bob", []), ("carol", ["Admin"])):
            backend.add_user(name, groups)
        with LocalServer(template, backend, port=0, log=None) as server:
            found = {
                name: Client(server.url, {"authorization": backend.token(name)})
                for name in ("alice", "bob", "carol")
            }
            found["api_key"] = Client(server.url, {"x-api-key": next(iter(backend.api_keys))})
            seed(found)
            yield found
    finally:
        backend.stop()


def seed(c: dict[str, Client]) -> None:
    """The data of tests/functional/test_relations.py's seed()."""
    c["alice"].data('mutation { createBlog(input: {id: "b1", name: "Notes"}) { id } }')
    for who, pid in (("alice", "p1"), ("bob", "p2")):
        c[who].data(f'mutation {{ createPost(input: {{id: "{pid}", title: "t", blogId: "b1"}}) {{ id }} }}')
    for who, cid, post, viewers in [
        ("alice", "c1", "p1", "[]"),
        ("bob", "c2", "p1", '["alice"]'),
        ("bob", "c3", "p1", "[]"),
        ("carol", "c4", "p1", "[]"),
        ("bob", "c5", "p2", "[]"),
    ]:
        c[who].data(
            f'mutation {{ createComment(input: {{id: "{cid}", postId: "{post}", viewers: {viewers}}}) '
            "{ id } }"
        )


def tree(client: Client) -> dict[str, list[str]]:
    """post id → its comments' ids, as the caller reads the blog's tree."""
    posts = client.data(TREE)["getBlog"]["posts"]["items"]
    return {p["id"]: sorted(c["id"] for c in p["comments"]["items"]) for p in posts}


@pytest.mark.parametrize("caller", sorted(P1_COMMENTS))
def test_three_levels_answer_as_the_lambda_handler_does(clients: dict[str, Client], caller: str) -> None:
    assert tree(clients[caller])["p1"] == P1_COMMENTS[caller]


def test_each_level_applies_its_own_models_rules(clients: dict[str, Client]) -> None:
    assert tree(clients["alice"]) == {"p1": ["c1", "c2"]}  # p2 is bob's post: Post rules
    assert tree(clients["bob"]) == {"p2": ["c5"]}
    assert tree(clients["carol"]) == {"p1": ["c1", "c2", "c3", "c4"], "p2": ["c5"]}


def test_a_parent_the_caller_may_not_read_is_null_with_its_error(clients: dict[str, Client]) -> None:
    response = clients["bob"].post('query { getComment(id: "c2") { id post { id } } }')
    body = response.json()
    assert body["data"] == {"getComment": {"id": "c2", "post": None}}
    [error] = body["errors"]
    assert error["message"] == "Not Authorized to access post on type Comment"
    assert error["errorType"] == "Unauthorized"
    assert error["path"] == ["getComment", "post"]


def test_nested_connection_arguments(clients: dict[str, Client]) -> None:
    query = (
        'query { getPost(id: "p1") { comments(limit: 2, sortDirection: DESC, filter: {id: {ne: "c4"}}) '
        "{ items { id } nextToken } } }"
    )
    first = clients["carol"].data(query)["getPost"]["comments"]
    assert len(first["items"]) == 2
    assert first["nextToken"]
    bad = clients["carol"].post('query { getPost(id: "p1") { comments(limit: "x") { items { id } } } }')
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["errorType"] == "ValidationError"


def test_a_mutation_result_carries_no_related_items(clients: dict[str, Client]) -> None:
    """What subscribers to onCreatePost receive: the relationship fields are null (redacted)."""
    created: Any = clients["alice"].data(
        'mutation { createPost(input: {id: "p9", title: "t", blogId: "b1"}) '
        "{ id blog { id } comments { items { id } } } }"
    )
    assert created["createPost"] == {"id": "p9", "blog": None, "comments": None}


def test_explain_a_request_through_a_relationship_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``modelauth explain --via Post.comments``: AppSync's check of the nested field's modes,
    then the related model's rules; a --via that is not a relationship is a usage error."""
    from modelauth.local.cli import main

    template = fixture_project(SCHEMA_REF) / "template.yaml"
    base = ["--schema", SCHEMA_REF, "--template", str(template), "--state", str(tmp_path / "none.json")]
    guest = EVENTS / "getTodo.iam-guest.json"
    alice = EVENTS / "getTodo.alice.json"

    def explain(event: Path, *args: str) -> tuple[int, str]:
        code = main([*base, "explain", "--as", str(event), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, out = explain(guest, "--model", "Comment", "--op", "list", "--via", "Post.comments")
    assert code == 3
    assert "Post.comments is reachable only with AMAZON_COGNITO_USER_POOLS, API_KEY" in out
    code, out = explain(alice, "--model", "Comment", "--op", "list", "--via", "Post.comments")
    assert code == 0
    assert "only:   items where" in out  # the Comment rules: her own or those she views
    code, out = explain(alice, "--model", "Post", "--op", "list", "--via", "Post.comments")
    assert code == 2
    assert "use --model Comment --op list" in out
    code, out = explain(alice, "--model", "Comment", "--op", "list", "--via", "Post.title")
    assert code == 2
    assert "not a relationship field" in out


def test_a_comment_subscriber_hears_only_readable_comments_and_no_related_items(
    clients: dict[str, Client],
) -> None:
    """onCreateComment: the Comment rules filter (alice views c9, bob neither owns nor views it),
    and the event's ``post`` is null: the mutation's result redacts relationship fields."""
    from urllib.parse import urlsplit

    from tests.local.test_subscriptions_ws import connect

    opened = []
    try:
        for who in ("alice", "bob"):
            headers = {"host": urlsplit(clients[who].url).netloc, **clients[who].headers}
            connection = connect(clients[who].url, headers)
            opened.append(connection)
            ack = connection.start("subscription { onCreateComment { id post { id } } }", headers)
            assert ack["type"] == "start_ack", ack
        alice, bob = opened
        clients["carol"].data(
            'mutation { createComment(input: {id: "c9", postId: "p1", viewers: ["alice"]}) '
            "{ id post { id } owner _storedOwner viewers _storedViewers } }"
        )
        assert alice.receive()["payload"]["data"] == {"onCreateComment": {"id": "c9", "post": None}}
        with pytest.raises(TimeoutError):
            bob.receive(timeout=0.5)
    finally:
        for connection in opened:
            connection.close()
