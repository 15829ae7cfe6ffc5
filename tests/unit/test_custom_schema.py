"""Custom operations in the schema (modelauth.custom): what a Schema refuses when it is built,
and what the SDL and the template's resolvers region get."""

from __future__ import annotations

import pytest

from modelauth.custom import mutation, query, subscription
from modelauth.local.generate import region_lines
from modelauth.rules import Field, Model, Schema, SchemaError, allow
from modelauth.sdl import render
from tests.fixtures.custom_schema import SCHEMA

POST = Model("Post", fields=[Field("title"), Field("editors", is_list=True)], rules=[allow.owner()])


def build(*operations: object) -> Schema:
    return Schema([POST], operations=operations)  # type: ignore[arg-type]


PUBLISH = mutation("publishPost").arguments({"id": "ID!"}).returns("Post").item("Post", "id")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: build(query("a").returns("String")), "does not have any auth rules"),
        (lambda: build(query("a").authorization([allow.authenticated()])), "say what it returns"),
        (
            lambda: build(query("a").returns("Blog").authorization([allow.authenticated()])),
            "unknown type 'Blog'",
        ),
        (lambda: query("a").arguments({"x": "Blog"}), "unknown type 'Blog'"),
        (lambda: query("a").arguments({"x": "[String"}), "is not a GraphQL type"),
        (lambda: query("a").returns("Post!!"), "is not a GraphQL type"),
        (lambda: query("a").arguments({"x": Field("y")}), "given a Field named 'y'"),
        (lambda: query("my-query"), "letters and digits"),
        (
            lambda: build(query("a").returns("String").authorization([allow.owner()])),
            "needs an item, but the operation has no item",
        ),
        (
            lambda: build(query("a").returns("String").authorization([allow.authenticated().to(["read"])])),
            "take no .to",
        ),
        (lambda: build(PUBLISH.item("Blog", "id").authorization([allow.owner()])), "names no model"),
        (lambda: build(PUBLISH.item("Post", "postId").authorization([allow.owner()])), "needs a required ID"),
        (
            lambda: build(
                mutation("p")
                .arguments({"id": "ID"})
                .returns("Post")
                .item("Post")
                .authorization([allow.owner()])
            ),
            "needs a required ID",
        ),
        (
            lambda: build(PUBLISH.authorization([allow.owner_defined_in("author")])),
            "Post has no field 'author'",
        ),
        (lambda: build(PUBLISH.authorization([allow.owner_defined_in("editors")])), "must be String"),
        (
            lambda: build(PUBLISH.authorization([allow.public_api_key()])),
            "API_KEY callers could not read the Post",
        ),
        (
            lambda: build(query("getPost").returns("String").authorization([allow.authenticated()])),
            "defined twice",
        ),
        (
            lambda: build(
                query("a").returns("String").authorization([allow.authenticated()]),
                query("a").returns("Int").authorization([allow.authenticated()]),
            ),
            "defined twice",
        ),
        (lambda: build(subscription("onP").authorization([allow.authenticated()])), "needs .for_"),
        (
            lambda: build(subscription("onP").for_("publishPost").authorization([allow.authenticated()])),
            "names no mutation",
        ),
        (
            lambda: build(
                PUBLISH.authorization([allow.owner()]),
                subscription("onP").for_("publishPost").authorization([allow.owner()]),
            ),
            "a subscription has no item",
        ),
        (lambda: subscription("onP").arguments({"x": "ID"}), "subscription arguments are not supported"),
        (lambda: subscription("onP").item("Post"), "a subscription has no item"),
        (lambda: query("a").for_("publishPost"), "for_() is for subscriptions"),
        (lambda: Schema([POST], operations=["echo"]), "operations takes"),  # type: ignore[list-item]
    ],
)
def test_schema_errors_at_build_time(make: object, message: str) -> None:
    with pytest.raises(SchemaError) as raised:
        make()  # type: ignore[operator]
    assert message in str(raised.value)


def test_a_subscription_may_follow_a_models_mutation_and_returns_its_type() -> None:
    schema = build(subscription("onNewPost").for_("createPost").authorization([allow.authenticated()]))
    assert '  onNewPost: Post @aws_subscribe(mutations: ["createPost"]) @aws_cognito_user_pools' in render(
        schema
    )


def test_sdl_has_the_custom_fields_with_the_directives_of_their_rules_modes() -> None:
    sdl = render(SCHEMA)
    assert (
        "  echo(text: String!, times: Int, replyTo: AWSEmail): String @aws_cognito_user_pools @aws_api_key\n"
        in sdl
    )
    assert "  articleStats: Int! @aws_cognito_user_pools\n" in sdl
    assert "  publishArticle(id: ID!, note: String): Article @aws_cognito_user_pools\n" in sdl
    assert (
        '  onPublishArticle: Article @aws_subscribe(mutations: ["publishArticle"]) @aws_cognito_user_pools\n'
        in sdl
    )
    query_block = sdl[sdl.index("type Query {") : sdl.index("type Mutation {")]
    assert "echo(" in query_block
    assert "publishArticle" not in query_block


def test_the_sdl_parses_with_graphql_core() -> None:
    from graphql import build_schema

    from modelauth.local.appsync import APPSYNC_PRELUDE, field_modes

    modes = field_modes(build_schema(APPSYNC_PRELUDE + render(SCHEMA)), "AMAZON_COGNITO_USER_POOLS")
    assert modes[("Query", "echo")] == {"AMAZON_COGNITO_USER_POOLS", "API_KEY"}


def test_the_resolvers_region_routes_custom_fields_to_the_function() -> None:
    lines = region_lines(SCHEMA)["resolvers"]
    text = "\n".join(lines)
    mutation_block = text[text.index("Mutation:") : text.index("Subscription:")]
    assert "  publishArticle: {Pipeline: [InvokeModelAuth]}" in mutation_block
    assert "  archiveMemo: {Pipeline: [InvokeModelAuth]}" in mutation_block
    subscription_block = text[text.index("Subscription:") :]
    assert "onPublishArticle" in subscription_block
    on_publish = next(line for line in lines if "onPublishArticle" in line)
    on_update = next(line for line in lines if "onUpdateArticle" in line)
    assert on_publish.replace("onPublishArticle", "X") == on_update.replace("onUpdateArticle", "X")


def test_explain_shows_who_may_call_each_custom_operation() -> None:
    from modelauth.explain import access_matrix

    matrix = access_matrix(SCHEMA)

    def calls(field: str) -> dict[str, str]:
        return {kind: cells["call"] for kind, cells in matrix[field].items() if cells["call"] != "denied"}

    assert calls("Query.echo") == {"api_key": "allowed", "user_pools": "allowed"}
    assert calls("Mutation.publishArticle") == {"user_pools": "only own", "user_pools:Admin": "allowed"}
    assert calls("Query.articleStats") == {"user_pools:Admin": "allowed"}
    # a subscription of an owner-only model: its filter lets an owner hear of their own only
    assert calls("Subscription.onArchiveMemo") == {"user_pools": "only own"}
    assert calls("Subscription.onPublishArticle") == {"user_pools": "allowed"}


def test_arguments_as_fields_and_list_types() -> None:
    op = query("search").arguments({"tags": Field("tags", is_list=True), "ids": "[ID!]!"}).returns("[Post]")
    assert op.signature() == "(tags: [String], ids: [ID]!): [Post]"
    assert build(op.authorization([allow.authenticated()])).operations == (
        op.authorization([allow.authenticated()]),
    )
