"""A Post's Comments (issue 18.1): items read (DynamoDB's ScannedCount) per item returned when
``Post.comments`` lists one post's comments among ``items`` comments of ``owners`` posts, through
``Operations.related`` (what the GraphQL field and the REST sub-resource call), as a reader the
Comment rules let read every comment (the ``Admin`` group) and as a comment author whom they
limit to the comments they own or view (the owner and ``viewers`` rules). Items are written
straight into the Comment table with ``batch_write_item`` (in-process moto); the schema is
tests/fixtures/relations.py.
"""

from __future__ import annotations

from typing import Any

from bench.common import Config, Row, Section, configure_env, put_items

GOAL = 1.1
AUTHORS = 997  # comment authors: a prime, so each writes on many posts


def _author(number: int) -> tuple[str, str]:
    return f"sub-{number:05d}", f"author{number:05d}"


def comment(n: int, posts: int) -> dict[str, Any]:
    """Comment ``n``: on post ``n % posts``, by author ``n % AUTHORS``, createdAt by ``n``."""
    sub, user = _author(n % AUTHORS)
    stamp = {"S": f"2026-01-01T00:00:00.000Z#{n:07d}"}
    return {
        "id": {"S": f"comment-{n:07d}"},
        "postId": {"S": f"post-{n % posts:05d}"},
        "owner": {"S": f"{sub}::{user}"},
        "body": {"S": f"comment {n}"},
        "createdAt": stamp,
        "updatedAt": stamp,
        "_version": {"N": "1"},
    }


def run(config: Config) -> Section:
    configure_env()
    from moto import mock_aws

    from modelauth.identity import AuthMode, Principal
    from modelauth.local import create_tables
    from modelauth.operations import ListOutput, Operations
    from modelauth.store import Store, dynamodb_client
    from tests.fixtures.relations import SCHEMA

    post, child = SCHEMA.model("Post"), SCHEMA.model("Comment")
    [rel] = [r for r in post.relations if r.name == "comments"]
    posts = config.owners
    target = posts // 2
    section = Section("Relationship list")
    with mock_aws():
        client = dynamodb_client()
        tables = create_tables(client, SCHEMA)
        put_items(client, tables["Comment"], (comment(n, posts) for n in range(config.items)))
        store = Store(client, tables, token_key=b"bench")
        reads: list[int] = []

        def count(parsed: dict[str, Any], **_: Any) -> None:  # every Query's ScannedCount
            reads.append(int(parsed.get("ScannedCount", 0)))

        client.meta.events.register("after-call.dynamodb.Query", count)
        operations = Operations(store)

        def walk(principal: Principal) -> tuple[int, int, int]:
            """(items returned, items read, requests) of the post's comments, to the end."""
            reads.clear()
            returned = requests = 0
            token = None
            source = {"id": f"post-{target:05d}"}
            while True:
                page = operations.related(
                    principal, post, rel, child, source, limit=config.page_limit, next_token=token
                )
                assert isinstance(page, ListOutput)
                returned, requests, token = returned + len(page.items), requests + 1, page.next_token
                if token is None:
                    return returned, sum(reads), requests

        admin = Principal(AuthMode.USER_POOLS, sub="admin", username="admin", groups=("Admin",))
        author = next(
            a for a in range(AUTHORS) if any(n % AUTHORS == a for n in range(target, config.items, posts))
        )
        sub, user = _author(author)
        writer = Principal(AuthMode.USER_POOLS, sub=sub, username=user)
        everyone, own = walk(admin), walk(writer)

    on_post = list(range(target, config.items, posts))
    assert everyone[0] == len(on_post), (everyone, len(on_post))
    assert own[0] == sum(1 for n in on_post if n % AUTHORS == author), own
    written = sum(1 for n in range(config.items) if n % AUTHORS == author)
    section.rows += [
        Row(
            "Post.comments (every comment readable): read / returned",
            f"{everyone[1]:,} / {everyone[0]:,}",
            f"{config.items:,} comments, {posts:,} posts",
            everyone[1] / everyone[0],
            f"≤ {GOAL:.1f} read per item",
            everyone[1] / everyone[0] <= GOAL,
            note=f"{everyone[2]} requests of limit {config.page_limit}",
        ),
        Row(
            "Post.comments (owner-constrained author): read / returned",
            f"{own[1]:,} / {own[0]:,}",
            f"{written:,} written by the author",
            own[1] / max(own[0], 1),
            f"≤ {GOAL:.1f} read per item (goal)",
            own[1] / max(own[0], 1) <= GOAL,
            note="reads the post's comments: owner or viewers is a filter of the partition",
        ),
    ]
    section.details += [
        f"Relationship list: {config.items:,} Comments of {posts:,} Posts by {AUTHORS} authors in in-process "
        f"moto. Post.comments of one post is a Query of Comment's gsi-Post.comments index (postId): a reader "
        f"every comment is open to (Admin) reads {everyone[1]:,} to list {everyone[0]:,} in {everyone[2]} "
        f"requests. An author the Comment rules limit to the comments they own or view (owner, "
        f"viewers) reads the same partition with that constraint as a FilterExpression, bounded per "
        f"request as every list is: {own[1]:,} read for {own[0]:,} returned ({written:,} comments by the "
        f"author in all). Reads ≈ returned for that caller needs keys holding the owner and the reference "
        "together (owner#postId, viewer#postId index items, kept on every write); not built.",
    ]
    return section
