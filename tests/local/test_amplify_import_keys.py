"""`modelauth import`: keys (``@primaryKey``, Gen 2 ``.identifier``), secondary indexes
(``@index``, ``.secondaryIndexes``), relationships and custom subscriptions of real Amplify schemas
(tests/fixtures/amplify, each citing its source). Keys, indexes and subscriptions build and render
SDL and decide as Amplify's rules do; relationships are checked as the module text they become
(has_many/has_one/belongs_to); what cannot map is listed in the header and on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelauth.custom import mutation, subscription
from modelauth.identity import AuthMode, Principal
from modelauth.local import amplify_import as ai
from modelauth.local.cli import main
from modelauth.policy import AuthConfig, Operation, decide
from modelauth.rules import Field, Model, Schema, allow, index
from modelauth.sdl import render
from tests.local.test_amplify_import import GEN2_CUSTOM, _require_gen2_tool

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "amplify"
DATA_MODELING = FIXTURES / "docs_gen1_data_modeling.graphql"
MANY_TO_MANY = FIXTURES / "docs_gen1_many_to_many.graphql"
SUBSCRIPTION = FIXTURES / "docs_gen1_subscription.graphql"
GEN2 = FIXTURES / "docs_gen2_data_modeling.ts"
RUFF = Path(sys.executable).parent / "ruff"


def _import(path: Path) -> ai.Imported:
    return ai.import_gen1(path.read_text(), file=path.name)


def _text(path: Path) -> str:
    return ai.module_text(path.read_text(), file=path.name)


def _assert_ruff_formatted(source: str, tmp_path: Path) -> None:
    target = tmp_path / "models.py"
    target.write_text(source)
    done = subprocess.run(
        [str(RUFF), "format", "--check", "--line-length", "100", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [DATA_MODELING, MANY_TO_MANY, SUBSCRIPTION], ids=lambda p: p.stem)
def test_real_schemas_decide_as_amplify_and_their_text_is_ruff_formatted(path: Path, tmp_path: Path) -> None:
    imported = _import(path)
    cells = ai.check(imported)
    assert cells
    assert [c for c in cells if c.actual != c.expected] == [], ai.check_table(cells)
    assert {c.model for c in cells} == {m.name for m in imported.schema.models}
    _assert_ruff_formatted(_text(path), tmp_path)  # relationships included
    _assert_ruff_formatted(imported.source, tmp_path)


def test_gen1_keys_and_indexes_are_the_hand_written_models() -> None:
    schema = _import(DATA_MODELING).schema
    todo = Model(
        "Todo", fields=[Field("todoId", "ID", required=True), Field("content")], identifier=["todoId"]
    )
    inventory = Model(
        "Inventory",
        fields=[
            Field("productID", "ID", required=True),
            Field("warehouseID", "ID", required=True),
            Field("InventoryAmount", "Int", required=True),
        ],
        plural="Inventories",
        identifier=["productID", "warehouseID"],
    )
    customer = Model(
        "Customer",
        fields=[
            Field("name", required=True),
            Field("phoneNumber"),
            Field("accountRepresentativeID", "ID", required=True),
        ],
        rules=[allow.public_api_key()],
        secondary_indexes=[
            index("name")
            .sort_keys(["phoneNumber"])
            .name("byNameAndPhoneNumber")
            .query_field("customerByNameAndPhone"),
            # no queryField: Amplify's own name for it (enableAutoIndexQueryNames)
            index("accountRepresentativeID").query_field("customersByAccountRepresentativeID"),
        ],
    )
    for hand in (todo, inventory, customer):
        assert schema.model(hand.name) == Schema([hand], authorization=[allow.public_api_key()]).model(
            hand.name
        )
    sdl = render(schema)
    assert "  getInventory(productID: ID!, warehouseID: ID!): Inventory @aws_api_key\n" in sdl
    assert "  customerByNameAndPhone(name: String!, phoneNumber: ModelStringKeyConditionInput," in sdl
    assert "  customersByAccountRepresentativeID(accountRepresentativeID: ID!," in sdl
    assert "  commentsByPostIDAndContent(postID: ID!, content: ModelStringKeyConditionInput," in sdl


def test_gen1_relationships_become_has_many_and_belongs_to() -> None:
    text = _text(DATA_MODELING)
    # @hasMany(indexName: "byPost", fields: ["id"]): the field holding the reference is the index's
    assert (
        'POST = Model(\n    "Post",\n    fields=[\n        Field("title", required=True),\n'
        '        has_many("comments", "Comment", references="postID"),\n    ],\n)\n'
    ) in text
    assert '        belongs_to("post", "Post", references="postID"),\n' in text
    assert (
        "from modelauth.rules import Field, Model, Schema, allow, belongs_to, has_many, has_one, index\n"
        in text
    )
    # Gen 1's @hasOne keeps its reference on its own model (projectTeamId): that model belongs_to
    # the other, whose has_one is the counterpart; Team's own reference (teamProjectId) is kept
    assert (
        'PROJECT = Model(\n    "Project",\n    fields=[\n        Field("name"),\n'
        '        belongs_to("team", "Team", references="projectTeamId"),\n'
        '        Field("projectTeamId", "ID"),\n    ],\n)'
    ) in text
    assert (
        'TEAM = Model(\n    "Team",\n    fields=[\n        Field("name", required=True),\n'
        '        has_one("project", "Project", references="projectTeamId"),\n'
        '        Field("teamProjectId", "ID"),\n    ],\n)'
    ) in text
    header = text.split('"""')[0]
    assert (
        "# Project.team: Gen 1 @hasOne keeps its reference (projectTeamId) on Project: imported as" in header
    )
    assert (
        "docs_gen1_data_modeling.graphql:51: Team.project: Gen 1 reads it through Team.teamProjectId; "
        "modelauth through Project.projectTeamId (has_one)"
    ) in header


def test_a_lone_gen1_has_one_gets_its_counterpart() -> None:
    # the uni-directional "Has One relationship" examples of the Gen 1 data-modeling page (source of
    # docs_gen1_data_modeling.graphql), as published: implicit, then with fields:
    implicit = "type Project @model {\n  id: ID!\n  name: String\n  team: Team @hasOne\n}\n"
    explicit = (
        "type Project @model {\n  id: ID!\n  name: String\n  teamID: ID\n"
        '  team: Team @hasOne(fields: ["teamID"])\n}\n'
    )
    team = "type Team @model {\n  id: ID!\n  name: String!\n}\n"
    for project, ref in ((implicit, "projectTeamId"), (explicit, "teamID")):
        text = ai.module_text(project + team)
        assert f'belongs_to("team", "Team", references="{ref}")' in text
        assert f'has_one("project", "Project", references="{ref}")' in text
        assert "# Team.project: has_one added, the counterpart of Project.team" in text
        assert text.count(f'Field("{ref}", "ID")') == 1


def test_implicit_has_many_gets_amplifys_reference_field() -> None:
    # the bi-directional "has many" example of the Gen 1 data-modeling page (source of
    # tests/fixtures/amplify/docs_gen1_data_modeling.graphql), as published
    sdl = """
    type Post @model {
      id: ID!
      title: String!
      comments: [Comment] @hasMany
    }

    type Comment @model {
      id: ID!
      content: String!
      post: Post @belongsTo
    }
    """
    text = ai.module_text(sdl)
    assert (
        'COMMENT = Model(\n    "Comment",\n    fields=[\n        Field("content", required=True),\n'
        '        belongs_to("post", "Post", references="postCommentsId"),\n'
        '        Field("postCommentsId", "ID"),\n    ],\n)'
    ) in text
    assert 'has_many("comments", "Comment", references="postCommentsId")' in text
    # declared by the schema (the subscription page's example): not added twice
    declared = _text(SUBSCRIPTION)
    assert 'Field("postCommentsId", "ID", required=True)' in declared
    assert declared.count('Field("postCommentsId"') == 1
    # Gen 1's @hasMany stands alone; modelauth wants the other side: added, and said so
    assert '        belongs_to("post", "Post", references="postCommentsId"),\n' in declared
    assert "# Comment.post: belongs_to added, the counterpart of Post.comments" in declared


def test_rules_on_a_relationship_field_are_listed_not_dropped() -> None:
    sdl = (
        "type Post @model @auth(rules: [{allow: owner}]) {\n"
        "  comments: [Comment] @hasMany @auth(rules: [{allow: owner}])\n"
        "}\n"
        "type Comment @model @auth(rules: [{allow: private}]) { post: Post @belongsTo }\n"
    )
    header = ai.module_text(sdl, file="s.graphql").split('"""')[0]
    assert (
        "s.graphql:2: Post.comments: @auth on a relationship field: modelauth answers it with Comment's "
        "own rules (field rules not imported)"
    ) in header


def test_many_to_many_becomes_a_join_model_with_both_sides_rules() -> None:
    text = _text(MANY_TO_MANY)
    assert (
        'POST_TAGS = Model(\n    "PostTags",\n    fields=[\n'
        '        Field("postId", "ID", required=True),\n'
        '        Field("tagId", "ID", required=True),\n'
        '        belongs_to("post", "Post", references="postId"),\n'
        '        belongs_to("tag", "Tag", references="tagId"),\n    ],\n)'
    ) in text
    assert 'has_many("tags", "PostTags", references="postId")' in text
    assert 'has_many("posts", "PostTags", references="tagId")' in text
    # with rules on each side, the join model's are both sides' (Amplify's createJoinTableAuthDirective)
    ruled = (
        MANY_TO_MANY.read_text()
        .replace("type Post @model {", "type Post @model @auth(rules: [{ allow: owner }]) {")
        .replace(
            "type Tag @model {", 'type Tag @model @auth(rules: [{ allow: groups, groups: ["Admin"] }]) {'
        )
    )
    assert (
        '    rules=[allow.owner(), allow.group("Admin")],\n' in ai.module_text(ruled).split("POST_TAGS = ")[1]
    )


def _may_subscribe(schema: Schema, field: str, principal: Principal) -> bool:
    bound = next(b for b in schema.bound_operations if b.op.field == field)
    return decide(principal, bound.gate, Operation.GET, config=AuthConfig()).allowed


def test_gen1_custom_subscription_follows_its_mutations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    imported = _import(SUBSCRIPTION)
    (op,) = imported.schema.operations
    by_hand = subscription("onCommentByPostId").for_("createComment").authorization([allow.public_api_key()])
    assert op == by_hand
    sdl = render(imported.schema)
    assert '  onCommentByPostId: Comment @aws_subscribe(mutations: ["createComment"]) @aws_api_key\n' in sdl
    assert _may_subscribe(imported.schema, op.field, Principal(AuthMode.API_KEY, api_key="da2-x"))
    user = Principal(AuthMode.USER_POOLS, sub="u", username="u", claims={})
    assert not _may_subscribe(imported.schema, op.field, user)
    assert imported.handlers == []  # a subscription has no handler
    out = tmp_path / "models.py"
    assert main(["import", "amplify-gen1", str(SUBSCRIPTION), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    # its filter argument has no modelauth equivalent: imported without it, said so
    assert (
        "Subscription.onCommentByPostId: arguments (postCommentsId): modelauth subscriptions take none" in err
    )
    assert "arguments (postCommentsId)" in out.read_text().split('"""')[0]


def test_subscription_of_a_mutation_not_imported_is_listed() -> None:
    sdl = """
    type Todo @model(mutations: {delete: null}) @auth(rules: [{allow: private}]) { content: String }
    type Subscription {
      onChange: Todo @aws_subscribe(mutations: ["createTodo", "updateTodo"]) @aws_cognito_user_pools
      onGone: Todo @aws_subscribe(mutations: ["deleteTodo"]) @aws_cognito_user_pools
      onAny: Todo
    }
    """
    imported = ai.import_gen1(sdl, file="s.graphql")
    assert [o.name for o in imported.schema.operations] == ["onChange"]
    assert imported.schema.operations[0].mutations == ("createTodo", "updateTodo")
    assert "s.graphql:5: Subscription.onGone: follows deleteTodo, which is not imported" in " ".join(
        imported.unsupported
    )
    assert "s.graphql:6: Subscription.onAny: follows no mutation (subscription not imported)" in " ".join(
        imported.unsupported
    )


def test_composite_sort_keys_are_listed_never_dropped_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "schema.graphql"
    source.write_text(
        "type Reading @model {\n"
        '  deviceId: ID! @primaryKey(sortKeyFields: ["day", "ts"])\n'
        "  day: String!\n"
        "  ts: AWSTimestamp!\n"
        '  v: Float @index(name: "byV", sortKeyFields: ["day", "ts"])\n'
        "}\n"
        "type Todo6 @model {\n"
        '  id: ID! @primaryKey(sortKeyFields: ["name"])\n'
        "  name: String!\n"
        "}\n"
    )
    out = tmp_path / "models.py"
    assert main(["import", "amplify-gen1", str(source), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    header = out.read_text().split('"""')[0]
    expected = [
        "schema.graphql:2: Reading: @primaryKey sort key ['day', 'ts']: modelauth takes one sort key field",
        "schema.graphql:5: Reading.v: @index sort key ['day', 'ts']: modelauth takes one sort key field",
        "schema.graphql:8: Todo6: @primaryKey on ['id', 'name']: modelauth's identifier takes declared",
    ]
    for line in expected:
        assert line in err
        assert line.split(": ", 1)[1] in header
    namespace: dict[str, object] = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)  # noqa: S102 - the module under test
    reading = namespace["READING"]
    assert isinstance(reading, Model)
    assert (reading.key_fields, reading.secondary_indexes) == (("id",), ())


def test_an_index_named_as_modelauths_owner_index_keeps_its_query() -> None:
    # tests/fixtures/amplify/category_api_relations.graphql: owner: ID! @index(name: "byOwner", ...)
    imported = _import(FIXTURES / "category_api_relations.graphql")
    post = imported.schema.model("Post")
    # (first: a modelauth with relationships adds the index User.posts reads after it)
    assert post.secondary_indexes[0] == index("owner").sort_keys(["id"]).query_field("postsByOwnerAndId")
    assert any(
        "@index name byOwner is modelauth's index of that owner field" in u for u in imported.unsupported
    )


# the custom operations of tests/local/test_amplify_import.py and a subscription following one
GEN2_SUBSCRIPTION = GEN2_CUSTOM.replace(
    "});\nexport const data",
    '  onComplete: a.subscription().for(a.ref("complete")).handler(a.handler.custom({ entry: "./on.js" }))\n'
    "    .authorization((allow) => [allow.authenticated()]),\n});\nexport const data",
)


def test_gen2_identifiers_indexes_relationships_and_subscriptions_through_amplifys_transform(
    tmp_path: Path,
) -> None:
    _require_gen2_tool()
    imported = ai.import_gen2(GEN2)
    schema = imported.schema
    assert schema.model("Todo").identifier == ("todoId",)
    assert schema.model("StoreBranch").identifier == ("tenantId", "name")
    # the query field Gen 2 names (listCustomerByAccountRepresentativeIdAndName) is modelauth's default
    assert schema.model("Customer").secondary_indexes == (
        index("accountRepresentativeId").sort_keys(["name"]),
    )
    assert "  listCustomerByAccountRepresentativeIdAndName(accountRepresentativeId: ID!," in render(schema)
    cells = ai.check(imported)
    assert all(c.actual == c.expected for c in cells), ai.check_table(cells)
    # the docs' subscription follows a mutation returning a custom type: neither maps, both listed
    assert any("Mutation.publish: returns Message" in u for u in imported.unsupported)
    assert any(
        "Subscription.receive: follows publish, which is not imported" in u for u in imported.unsupported
    )
    sdl, mode = ai.gen2_sdl(GEN2)
    text = ai.module_text(sdl, default_auth_mode=mode)
    assert (
        '        Field("teamId", "ID"),\n        belongs_to("team", "Team", references="teamId"),\n' in text
    )
    assert '        has_many("members", "Member", references="teamId"),\n' in text
    _assert_ruff_formatted(text, tmp_path)
    # the one-to-one example of the relationships page (source of docs_gen2_data_modeling.ts), with
    # a schema-level rule added (data-schema refuses models without rules)
    one_to_one = tmp_path / "one_to_one.ts"
    one_to_one.write_text(
        'import { a, defineData } from "@aws-amplify/backend";\n'
        "const schema = a.schema({\n"
        "  Cart: a.model({\n"
        "    items: a.string().required().array(),\n"
        "    customerId: a.id(),\n"
        "    customer: a.belongsTo('Customer', 'customerId'),\n"
        "  }),\n"
        "  Customer: a.model({\n"
        "    name: a.string(),\n"
        "    activeCart: a.hasOne('Cart', 'customerId')\n"
        "  }),\n"
        "}).authorization((allow) => [allow.publicApiKey()]);\n"
        "export const data = defineData({ schema });\n"
    )
    text = ai.module_text(ai.gen2_sdl(one_to_one)[0])
    assert 'has_one("activeCart", "Cart", references="customerId")' in text
    assert 'belongs_to("customer", "Customer", references="customerId")' in text
    resource = tmp_path / "resource.ts"
    resource.write_text(GEN2_SUBSCRIPTION)
    with_subscription = ai.import_gen2(resource)
    complete, _, on_complete = with_subscription.schema.operations
    assert on_complete == subscription("onComplete").for_("complete").authorization([allow.authenticated()])
    assert complete == (
        mutation("complete").arguments({"id": "ID!"}).returns("Todo").authorization([allow.authenticated()])
    )
    assert [h.split(":")[0] for h in with_subscription.handlers] == ["Mutation.complete", "Query.echo"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            '    .secondaryIndexes((index) => [index("status").sortKeys(["nope"])])\n',
            " (as SDL):3: Can't find field 'nope' in Todo, but it was specified in index "
            "'todosByStatusAndNope'.",
        ),
        # data-schema writes no @primaryKey for it: without the check the model would be keyed by id
        (
            '    .identifier(["nope"])\n',
            ":4: Can't find field 'nope' in Todo, but it was specified in identifier.",
        ),
    ],
    ids=["index-sort-key", "identifier"],
)
def test_gen2_key_on_an_unknown_field_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, message: str
) -> None:
    _require_gen2_tool()
    resource = tmp_path / "resource.ts"
    resource.write_text(
        'import { a } from "@aws-amplify/backend";\n'
        "export const schema = a.schema({\n"
        "  Todo: a.model({ status: a.string() })\n"
        f"{model}"
        "    .authorization((allow) => [allow.owner()]),\n"
        "});\n"
    )
    out = tmp_path / "models.py"
    assert main(["import", "amplify-gen2", str(resource), "--output", str(out)]) == 2
    assert capsys.readouterr().err == f"modelauth import: {resource}{message}\n"
    assert not out.exists()


@pytest.mark.parametrize("path", [DATA_MODELING, MANY_TO_MANY, SUBSCRIPTION], ids=lambda p: p.stem)
def test_relationships_round_trip_import_schema_sdl(path: Path) -> None:
    # import -> the module builds its Schema -> the SDL `modelauth generate` writes (modelauth.sdl)
    imported = _import(path)
    assert imported.source == _text(path)  # the text the tests above read is the module imported
    assert not [u for u in imported.unsupported if "relationships need" in u]
    sdl = render(imported.schema)
    nested = {
        DATA_MODELING: [
            "  comments(filter: ModelCommentFilterInput, sortDirection: ModelSortDirection, limit: Int, "
            "nextToken: String): ModelCommentConnection",
            "type Comment ",
            "  post: Post",
        ],
        MANY_TO_MANY: [
            "type PostTags ",
            "  tags(filter: ModelPostTagsFilterInput, sortDirection: ModelSortDirection, limit: Int, "
            "nextToken: String): ModelPostTagsConnection",
            "  posts(filter: ModelPostTagsFilterInput,",
            "  tag: Tag",
        ],
        SUBSCRIPTION: ["  post: Post", "  postCommentsId: ID!"],
    }[path]
    for line in nested:
        assert line in sdl
    cells = ai.check(imported)
    assert {c.model for c in cells} == {m.name for m in imported.schema.models}
    assert all(c.actual == c.expected for c in cells), ai.check_table(cells)
