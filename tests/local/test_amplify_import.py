"""`modelauth import amplify-gen1|amplify-gen2`: real Amplify schemas (tests/fixtures/amplify, their
sources cited in each file) import into modelauth models that build, render SDL, pass ruff and
decide as Amplify's rules do; bad input is one line and exit 2 with nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelauth.local import amplify_import as ai
from modelauth.local.cli import main
from modelauth.rules import Field, Model, Schema, allow
from modelauth.sdl import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "amplify"
DOCS = FIXTURES / "docs_gen1_auth.graphql"
RELATIONS = FIXTURES / "category_api_relations.graphql"
GEN2 = FIXTURES / "gen2_resource.ts"
RUFF = Path(sys.executable).parent / "ruff"


def _require_gen2_tool() -> None:
    """Skip without node or tools/amplify_gen2's packages, unless MODELAUTH_REQUIRE_NODE=1
    (as make test-fast sets it)."""
    missing = None if shutil.which("node") else "node is not on PATH"
    if not missing and not (ai.GEN2_TOOL / "node_modules" / "@aws-amplify" / "data-schema").is_dir():
        missing = "tools/amplify_gen2/node_modules is missing: run `make amplify-gen2`"
    if missing:
        if os.environ.get("MODELAUTH_REQUIRE_NODE") == "1":
            pytest.fail(missing)
        pytest.skip(missing)


def _import(path: Path) -> ai.Imported:
    return ai.import_gen1(path.read_text(), file=path.name)


@pytest.mark.parametrize("path", [DOCS, RELATIONS], ids=lambda p: p.stem)
def test_real_schemas_import_and_decide_as_amplify(path: Path) -> None:
    imported = _import(path)
    cells = ai.check(imported)
    differ = [c for c in cells if c.actual != c.expected]
    assert cells
    assert not differ, ai.check_table(cells)
    sdl = render(imported.schema)  # the round trip: import -> models -> SDL
    for model in imported.schema.models:
        assert f"type {model.name} " in sdl


def test_output_is_ruff_formatted_and_importable(tmp_path: Path) -> None:
    imported = _import(DOCS)
    source = ai.format_source(imported.source, tmp_path / "models.py")
    target = tmp_path / "models.py"
    target.write_text(source)
    if RUFF.exists():
        done = subprocess.run(
            [str(RUFF), "format", "--check", "--line-length", "100", str(target)], check=False
        )
        assert done.returncode == 0
    namespace: dict[str, object] = {}
    exec(compile(source, str(target), "exec"), namespace)  # noqa: S102 - the module under test
    assert namespace["SCHEMA"] == imported.schema


def test_imported_models_equal_the_hand_written_ones() -> None:
    schema = _import(DOCS).schema
    employee = Model(
        "Employee",
        fields=[Field("name"), Field("email"), Field("ssn", rules=[allow.owner()])],
        rules=[allow.authenticated().to(["read"]), allow.owner()],
    )
    groups_post = Model(
        "GroupsPost",
        fields=[Field("title"), Field("groups", is_list=True)],
        rules=[allow.groups_defined_in("groups")],
    )
    claim_post = Model(
        "ClaimPost",
        fields=[Field("owner"), Field("postname"), Field("content")],
        rules=[
            allow.owner().identity_claim("user_id"),
            allow.group("Moderator").with_claim_in("user_groups"),
        ],
    )
    public_post = Model("PublicPost", fields=[Field("title", required=True)], rules=[allow.guest()])
    for hand in (employee, groups_post, claim_post, public_post):
        assert schema.model(hand.name) == Schema([hand]).model(hand.name)


def test_model_options_defaults_enums_and_custom_types() -> None:
    sdl = """
    enum Status { OPEN DONE }
    type Address { street: String city: String! }
    type Category @model(queries: {get: null}, subscriptions: {level: off}) @auth(rules: [{allow: private}]) {
      status: Status @default(value: "OPEN")
      home: Address
      count: Int @default(value: "3")
    }
    type Log @model(mutations: null) { line: String }
    """
    imported = ai.import_gen1(sdl, default_auth_mode="userPools")
    category = imported.schema.model("Category")
    assert category.plural == "Categories"
    assert category.subscriptions == "off"
    assert not category.is_enabled("get")
    assert category.is_enabled("list")
    assert category.field("status").default == "OPEN"
    assert category.field("count").default == 3
    assert category.field("home").type.name == "Address"
    log = imported.schema.model("Log")
    assert not log.is_enabled("create")
    assert log.rules == (allow.authenticated(),)
    assert "default mode (userPools)" in imported.source


def test_what_has_no_equivalent_is_listed_in_the_header_and_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "models.py"
    assert main(["import", "amplify-gen1", str(RELATIONS), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    text = out.read_text()
    # an index named as modelauth's own index of the owner field keeps modelauth's name: said so
    assert "Post.owner: @index name byOwner is modelauth's index of that owner field" in err
    assert "Post.owner: @index name byOwner" in text.split('"""')[0]
    if ai._LIBRARY_RELATIONS:  # relationships imported once modelauth has them
        assert 'belongs_to("author", "User", references="owner")' in text
        assert 'has_many("posts", "Post", references="owner")' in text
    else:
        for what in ("Post.author: @belongsTo", "User.posts: @hasMany"):
            assert what in err
            assert what in text.split('"""')[0]


@pytest.mark.parametrize(
    ("sdl", "message"),
    [
        (
            "type T @model {\n  a: Int\n",
            ":3: Syntax Error: Expected Name, found <EOF>.",
        ),
        (
            "type T @model\n  @auth(rules: [{allow: owner, provider: apiKey}]) { a: Int }",
            ":2: @auth directive with 'owner' strategy only supports 'userPools' (default) and 'oidc' "
            "providers, but found 'apiKey' assigned.",
        ),
        (
            'type T @model @auth(rules: [{allow: groups, groups: ["A"], groupsField: "g"}]) { a: Int }',
            ":1: This rule has groupsField and groups, please use one or the other",
        ),
        ("type T @model {\n  a: Int @foo\n}", ":2: unknown directive @foo"),
        (
            "type T @model {\n  a: Int @auth(rules: [{allow: owner, operations: [list]}])\n}",
            ":2: 'list' operation is not allowed at the field level.",
        ),
        (
            'type T @model {\n  a: ID! @primaryKey(sortKeyFields: ["nope"])\n}',
            ":2: Can't find field 'nope' in T, but it was specified in the primary key.",
        ),
        (
            'type T @model {\n  id: ID!\n  a: String @index(name: "byA", sortKeyFields: ["b"])\n}',
            ":3: Can't find field 'b' in T, but it was specified in index 'byA'.",
        ),
        (
            "type T @model {\n  a: ID! @primaryKey\n  b: ID! @primaryKey\n}",
            ":3: You may only supply one primary key on type 'T'.",
        ),
        (
            'type P @model {\n  cs: [C] @hasMany(indexName: "byP", fields: ["id"])\n}\n'
            "type C @model { p: ID }",
            ":2: Index byP does not exist for model C",
        ),
        (
            'type T @model {\n  id: ID!\n  a: String @index(sortKeyFields: ["b"])\n}',
            ":3: Can't find field 'b' in T, but it was specified in index 'tsByAAndB'.",
        ),
        (
            'type P @model { name: String }\ntype C @model {\n  p: P @belongsTo(fields: ["pId"])\n}',
            ":3: C.p: reference field 'pId' is not a field of C",
        ),
    ],
    ids=[
        "syntax",
        "owner-api-key",
        "groups-and-field",
        "unknown-directive",
        "field-operation",
        "primary-key-unknown-sort-key",
        "index-unknown-sort-key",
        "two-primary-keys",
        "has-many-unknown-index",
        "unnamed-index-unknown-sort-key",
        "belongs-to-unknown-field",
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sdl: str, message: str
) -> None:
    source = tmp_path / "schema.graphql"
    source.write_text(sdl)
    out = tmp_path / "models.py"
    assert main(["import", "amplify-gen1", str(source), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"modelauth import: {source}{message}\n"
    assert not out.exists()


def test_check_flags_a_decision_that_differs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    imported = _import(DOCS)
    model = imported.models[0]
    model.rules = [ai.RawRule("public", "apiKey", None)]  # Amplify's table now says API keys write
    cells = ai.check(imported)
    assert any(c.actual != c.expected and c.caller == "api key" for c in cells)
    assert "differ (!)" in ai.check_table(cells)
    assert "-!" in ai.check_table(cells)


def test_gen2_resource_through_amplifys_own_data_schema(capsys: pytest.CaptureFixture[str]) -> None:
    _require_gen2_tool()
    assert main(["import", "amplify-gen2", str(GEN2), "--check"]) == 0
    captured = capsys.readouterr()
    assert "0 differ" in captured.err
    namespace: dict[str, object] = {}
    exec(compile(captured.out, "gen2.py", "exec"), namespace)  # noqa: S102 - the module under test
    todo = namespace["TODO"]
    assert isinstance(todo, Model)
    assert todo.rules[1] == allow.owners_defined_in("editors").to(["read", "update"])
    note = namespace["NOTE"]
    assert isinstance(note, Model)
    assert not note.is_enabled("delete")


def test_gen2_errors_are_one_line_with_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _require_gen2_tool()
    broken = tmp_path / "resource.ts"
    broken.write_text(
        'import { a } from "@aws-amplify/backend";\n'
        "const schema = a.schema({ Todo: a.model({ x: a.strin() }) });\n"
        "export { schema };\n"
    )
    assert main(["import", "amplify-gen2", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err == f"modelauth import: {broken}:2: a.strin is not a function\n"


def test_gen2_load_error_leaves_no_file_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _require_gen2_tool()
    broken = tmp_path / "resource.ts"
    broken.write_text('import { a } from "@aws-amplify/backend";\nthrow new Error("boom");\n')
    tool_before = sorted(p.name for p in ai.GEN2_TOOL.iterdir())
    assert main(["import", "amplify-gen2", str(broken)]) == 2
    assert "boom" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resource.ts"]
    assert sorted(p.name for p in ai.GEN2_TOOL.iterdir()) == tool_before


CUSTOM_SDL = """
type Todo @model @auth(rules: [{allow: public}, {allow: private}]) {
  content: String
}
enum Status { OPEN DONE }
type Summary { total: Int }
type Query {
  echo(msg: String!, tags: [String!], status: Status): String @function(name: "echoFn-${env}")
    @aws_api_key @aws_cognito_user_pools
  adminReport(day: AWSDate!): [String] @aws_cognito_user_pools(cognito_groups: ["Admin"]) @aws_iam
  summary: Summary @aws_api_key
  byInput(filter: TodoFilter): String @aws_api_key
  mine: String @auth(rules: [{allow: owner}, {allow: private}])
}
input TodoFilter { content: String }
type Mutation {
  complete(id: ID!): Todo @function(name: "completeFn") @aws_cognito_user_pools
  leak(id: ID!): Todo @aws_iam
}
"""


def _custom_by_hand() -> Schema:
    from modelauth.custom import mutation, query
    from modelauth.rules import Enum

    status = Enum("Status", ["OPEN", "DONE"])
    todo = Model("Todo", fields=[Field("content")], rules=[allow.public_api_key(), allow.authenticated()])
    return Schema(
        [todo],
        operations=[
            query("echo")
            .arguments(
                {
                    "msg": "String!",
                    "tags": Field("tags", is_list=True, items_required=True),
                    "status": Field("status", status),
                }
            )
            .returns("String")
            .authorization([allow.public_api_key(), allow.authenticated()]),
            query("adminReport")
            .arguments({"day": "AWSDate!"})
            .returns("[String]")
            .authorization([allow.groups(["Admin"]), allow.authenticated("identityPool"), allow.guest()]),
            query("mine").returns("String").authorization([allow.authenticated()]),
            mutation("complete")
            .arguments({"id": "ID!"})
            .returns("Todo")
            .authorization([allow.authenticated()]),
        ],
    )


def _gate_decisions(schema: Schema) -> dict[tuple[str, str], bool]:
    from modelauth.identity import AuthMode, Principal
    from modelauth.policy import AuthConfig, Operation, decide

    config = AuthConfig(
        auth_role_arns=frozenset({ai._AUTH_ROLE}), unauth_role_arns=frozenset({ai._UNAUTH_ROLE})
    )
    callers = ai._principals(())
    callers["admin"] = Principal(AuthMode.USER_POOLS, sub="a-sub", username="a", claims={}, groups=("Admin",))
    return {
        (bound.op.field, caller): decide(principal, bound.gate, Operation.GET, config=config).allowed
        for bound in schema.bound_operations
        for caller, principal in callers.items()
    }


def test_custom_operations_import_with_their_rules_and_need_a_handler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = ai.import_gen1(CUSTOM_SDL, file="custom.graphql")
    # the SDL `modelauth generate` writes: the same as the hand-written operations'
    sdl = render(imported.schema)
    assert sdl == render(_custom_by_hand())
    assert (
        "echo(msg: String!, tags: [String!], status: Status): String @aws_cognito_user_pools @aws_api_key"
        in sdl
    )
    assert "adminReport(day: AWSDate!): [String] @aws_cognito_user_pools @aws_iam" in sdl
    assert "complete(id: ID!): Todo @aws_cognito_user_pools\n" in sdl
    decisions = _gate_decisions(imported.schema)
    assert decisions == _gate_decisions(_custom_by_hand())
    expect = {  # (operation, caller) → allowed, as AppSync's directives say
        ("Query.echo", "api key"): True,
        ("Query.echo", "other user"): True,
        ("Query.echo", "iam user"): False,
        ("Query.adminReport", "api key"): False,
        ("Query.adminReport", "other user"): False,
        ("Query.adminReport", "admin"): True,
        ("Query.adminReport", "iam user"): True,
        ("Query.adminReport", "guest"): True,
        ("Mutation.complete", "api key"): False,
        ("Mutation.complete", "owner"): True,
    }
    assert {k: decisions[k] for k in expect} == expect
    assert '# needs a handler: @app.operation("echo")' in imported.source
    out = tmp_path / "models.py"
    source = tmp_path / "custom.graphql"
    source.write_text(CUSTOM_SDL)
    assert main(["import", "amplify-gen1", str(source), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    for name in ("Query.echo", "Query.adminReport", "Mutation.complete"):
        assert f"needs a handler: {name}: register @app.operation" in err
    # never silently dropped: the resolver, a custom-type result, an input-type argument
    assert "Query.echo: its @function resolver has no modelauth equivalent" in err
    assert "Mutation.complete: its @function resolver" in err
    assert "Query.summary: returns Summary" in err
    assert "Query.byInput: argument filter of type TodoFilter" in err
    assert "Query.mine: @auth rule owner needs an item (rule not imported" in err
    # modelauth refuses it (IAM callers could not read the Todo it returns): listed, no handler asked
    assert "Mutation.leak: its AWS_IAM callers could not read the Todo it returns" in err
    assert "needs a handler: Mutation.leak" not in err
    assert "not imported" in out.read_text()


GEN2_CUSTOM = """import { a, defineData, defineFunction } from "@aws-amplify/backend";
const fn = defineFunction({ entry: "./handler.ts" });
const schema = a.schema({
  Todo: a
    .model({ content: a.string() })
    .authorization((allow) => [allow.publicApiKey(), allow.authenticated()]),
  echo: a
    .query()
    .arguments({ msg: a.string().required() })
    .returns(a.string())
    .authorization((allow) => [allow.publicApiKey(), allow.authenticated(), allow.group("Admin")])
    .handler(a.handler.function(fn)),
  complete: a
    .mutation()
    .arguments({ id: a.id().required() })
    .returns(a.ref("Todo"))
    .authorization((allow) => [allow.authenticated()])
    .handler(a.handler.function(fn)),
});
export const data = defineData({ schema, authorizationModes: { defaultAuthorizationMode: "apiKey" } });
"""


def test_gen2_custom_operations_through_amplifys_transform(tmp_path: Path) -> None:
    _require_gen2_tool()
    resource = tmp_path / "resource.ts"
    resource.write_text(GEN2_CUSTOM)
    imported = ai.import_gen2(resource)
    complete, echo = imported.schema.operations  # the transform writes Mutation first
    assert (echo.field, echo.signature()) == ("Query.echo", "(msg: String!): String")
    assert [r.describe() for r in echo.rules] == [
        r.describe() for r in (allow.public_api_key(), allow.authenticated(), allow.group("Admin"))
    ]
    assert (complete.field, complete.signature()) == ("Mutation.complete", "(id: ID!): Todo")
    assert [r.describe() for r in complete.rules] == [allow.authenticated().describe()]
    assert len(imported.handlers) == 2
    assert any("Query.echo: its @function resolver" in line for line in imported.unsupported)
