"""graphql/schema.graphql is valid AppSync SDL and exposes the Todo API the resolvers implement.

AppSync predefines its scalars and auth directives; graphql-core needs them declared, so the
schema is parsed after a prelude that declares them.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, build_schema, get_named_type

from modelauth.local.appsync import APPSYNC_PRELUDE
from tests.conftest import PROJECT

SCHEMA_FILE = PROJECT / "graphql" / "schema.graphql"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(APPSYNC_PRELUDE + SCHEMA_FILE.read_text())


def directive_names(node: object) -> set[str]:
    ast = getattr(node, "ast_node", None)
    return {d.name.value for d in getattr(ast, "directives", None) or ()}


@pytest.mark.parametrize(
    ("root", "field", "args", "returns", "modes"),
    [
        ("Query", "getTodo", {"id": "ID!"}, "Todo", {"aws_cognito_user_pools", "aws_api_key"}),
        (
            "Query",
            "listTodos",
            {"filter": "ModelTodoFilterInput", "limit": "Int", "nextToken": "String"},
            "ModelTodoConnection",
            {"aws_cognito_user_pools", "aws_api_key"},
        ),
        (
            "Mutation",
            "createTodo",
            {"input": "CreateTodoInput!", "condition": "ModelTodoConditionInput"},
            "Todo",
            {"aws_cognito_user_pools"},
        ),
        (
            "Mutation",
            "updateTodo",
            {"input": "UpdateTodoInput!", "condition": "ModelTodoConditionInput"},
            "Todo",
            {"aws_cognito_user_pools"},
        ),
        (
            "Mutation",
            "deleteTodo",
            {"input": "DeleteTodoInput!", "condition": "ModelTodoConditionInput"},
            "Todo",
            {"aws_cognito_user_pools"},
        ),
        # Amplify's generateClient sends onCreate/onUpdate/onDelete with $filter declared
        (
            "Subscription",
            "onCreateTodo",
            {"filter": "ModelSubscriptionTodoFilterInput"},
            "Todo",
            {"aws_subscribe", "aws_cognito_user_pools", "aws_api_key"},
        ),
    ],
)
def test_root_field_signature_and_auth_modes(
    schema: GraphQLSchema, root: str, field: str, args: dict[str, str], returns: str, modes: set[str]
) -> None:
    root_type = schema.get_type(root)
    assert isinstance(root_type, GraphQLObjectType)
    definition = root_type.fields[field]

    assert {name: str(arg.type) for name, arg in definition.args.items()} == args
    assert str(definition.type) == returns
    assert directive_names(definition) == modes


@pytest.mark.parametrize("type_name", ["Todo", "ModelTodoConnection"])
def test_result_types_are_reachable_in_every_query_mode(schema: GraphQLSchema, type_name: str) -> None:
    # A field's type must allow the caller's mode too, or AppSync nulls it with Unauthorized.
    assert directive_names(schema.get_type(type_name)) == {"aws_cognito_user_pools", "aws_api_key"}


def test_todo_fields(schema: GraphQLSchema) -> None:
    todo = schema.get_type("Todo")
    assert isinstance(todo, GraphQLObjectType)

    assert {name: str(f.type) for name, f in todo.fields.items()} == {
        "id": "ID!",
        "content": "String",
        "done": "Boolean",
        "owner": "String",
        "_storedOwner": "String",
        "createdAt": "AWSDateTime!",
        "updatedAt": "AWSDateTime!",
        "_version": "Int!",
    }


def test_filter_input_has_amplify_operators_and_combinators(schema: GraphQLSchema) -> None:
    filter_input = schema.get_type("ModelTodoFilterInput")
    string_input = schema.get_type("ModelStringInput")
    assert isinstance(filter_input, GraphQLInputObjectType)
    assert isinstance(string_input, GraphQLInputObjectType)

    assert {"and", "or", "not", "id", "content", "done", "owner"} <= set(filter_input.fields)
    assert str(get_named_type(filter_input.fields["and"].type)) == "ModelTodoFilterInput"
    assert {"eq", "ne", "contains", "notContains", "beginsWith", "between"} <= set(string_input.fields)
