"""Relationship declarations (issue 18.1) checked when the schema is built: Amplify's rules for
references, with a clear SchemaError for each mistake, and what the SDL generates."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.rules import Field, Model, Schema, SchemaError, allow, belongs_to, has_many, has_one
from modelauth.sdl import render

RULES = [allow.owner()]


def post(*relations: Any, **kwargs: Any) -> Model:
    return Model("Post", fields=[Field("title"), *relations], rules=RULES, **kwargs)


def comment(*relations: Any, ref: Field | None = None) -> Model:
    return Model("Comment", fields=[ref or Field("postId", "ID"), *relations], rules=RULES)


COMMENTS = has_many("comments", "Comment", references="postId")
POST = belongs_to("post", "Post", references="postId")


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ([post(has_many("comments", "Note", references="postId")), comment(POST)], "'Note' is not a model"),
        ([post(COMMENTS), comment(POST, ref=Field("other", "ID"))], "'postId' must be defined on Comment"),
        ([post(COMMENTS), comment(POST, ref=Field("postId", "Int"))], "the types must match"),
        ([post(COMMENTS), comment(POST, ref=Field("postId", "ID", is_list=True))], "the types must match"),
        ([post(COMMENTS), comment()], "has_many requires a belongs_to relationship from Comment"),
        ([post(), comment(POST)], "belongs_to requires that a has_one or has_many relationship"),
        (
            [post(has_one("comments", "Comment", references="postId")), comment(POST)],
            None,  # has_one + belongs_to is a valid pair
        ),
        (
            [
                post(has_many("comments", "Comment", references=["postId", "x"])),
                comment(belongs_to("post", "Post", references=["postId", "x"])),
            ],
            r"must name one field per key field of Post \(id\)",
        ),
    ],
)
def test_bad_relationships_are_schema_errors(models: list[Model], message: str | None) -> None:
    if message is None:
        Schema(models)
        return
    with pytest.raises(SchemaError, match=message):
        Schema(models)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: has_many("1x", "Comment", references="postId"), "invalid relationship field name"),
        (lambda: has_many("comments", "Comment", references=[]), "references must name one or more fields"),
        (lambda: has_many("comments", "Comment", references=["a b"]), "references must name"),
        (
            lambda: has_many("comments", Model("Comment", rules=RULES), references="x"),
            "the related model's name",
        ),
        (lambda: comment(POST, belongs_to("post", "Post", references="postId")), "duplicate field names"),
        (lambda: post(has_many("title", "Comment", references="postId")), "duplicate field names"),
        (lambda: post(has_many("id", "Comment", references="postId")), "managed by modelauth"),
    ],
)
def test_bad_relationship_fields(build: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        build()


def test_the_sdl_has_amplifys_connection_fields_and_the_related_modes() -> None:
    blog = Model(
        "Post",
        fields=[Field("title"), COMMENTS],
        rules=[allow.owner(), allow.guest().to(["read"])],
    )
    schema = Schema([blog, Model("Comment", fields=[Field("postId", "ID"), POST], rules=RULES)])
    sdl = render(schema)
    assert (
        "  comments(filter: ModelCommentFilterInput, sortDirection: ModelSortDirection, limit: Int, "
        "nextToken: String): ModelCommentConnection @aws_cognito_user_pools\n"
    ) in sdl  # Comment has no guest rule: no @aws_iam on the field, though Post has it
    assert "  post: Post @aws_cognito_user_pools @aws_iam\n" in sdl
    assert "enum ModelSortDirection" in sdl
    assert "comments" not in sdl.split("input CreatePostInput")[1].split("}")[0]
    # the child's index is the relationship's, with no query field of its own
    [idx] = schema.model("Comment").secondary_indexes
    assert (idx.gsi_name(schema.model("Comment")), idx.partition_key) == ("gsi-Post.comments", "postId")
    assert "listCommentByPostId" not in sdl


def test_a_built_schemas_models_rebuild_to_the_same_indexes() -> None:
    schema = Schema([post(COMMENTS), comment(POST)])
    again = Schema(schema.models)
    assert again.model("Comment").secondary_indexes == schema.model("Comment").secondary_indexes
