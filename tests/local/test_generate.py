"""`modelauth generate`: the template's generated regions, the SDL and the JS steps follow the
schema; hand-written lines survive; bad input is one line and exit code 2 with nothing written."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from modelauth.custom import query
from modelauth.local.cli import main
from modelauth.local.generate import region_lines
from modelauth.rules import Field, Model, Schema, allow

TEMPLATE = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Stage: {Type: String, Default: dev}   # mine
    Resources:
      MyBucket:
        Type: AWS::S3::Bucket
      # modelauth:generated begin resources
      # modelauth:generated end resources
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Runtime: python3.12
          Handler: app.lambda_handler
          CodeUri: functions/graphql
          Environment:
            Variables:
              MINE: "1"
              # modelauth:generated begin table-env
              # modelauth:generated end table-env
          Policies: [!Ref ModelTablesPolicy]
      Api:
        Type: AWS::Serverless::GraphQLApi
        Properties:
          SchemaUri: graphql/schema.graphql
          Auth: {Type: API_KEY}
          Functions:
            InvokeModelAuth: {CodeUri: graphql/invoke.js, Runtime: {Name: APPSYNC_JS, Version: "1.0.0"}}
          Resolvers:
            # modelauth:generated begin resolvers
            # modelauth:generated end resolvers
    Outputs:
      # modelauth:generated begin outputs
      # modelauth:generated end outputs
      Mine: {Value: !Ref MyBucket}
    """
)

SCHEMA_MODULE = textwrap.dedent(
    """\
    from modelauth.rules import Field, Model, Schema, allow

    READ = ["read"]
    SCHEMA = Schema([
        Model("Blog", fields=[Field("name", required=True)],
              rules=[allow.owner(), allow.authenticated().to(READ)]),
        Model("Post", fields=[Field("title"), Field("editors", "String", is_list=True)],
              rules=[allow.owners_defined_in("editors"), allow.guest().to(READ), allow.group("Admin")]),
    ])
    """
)


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: f"{suffix} {getattr(node, 'value', '')}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "pyproject.toml").write_text('[tool.modelauth]\nschema = "blogschema:SCHEMA"\n')
    (tmp_path / "blogschema.py").write_text(SCHEMA_MODULE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELAUTH_SCHEMA", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # each test rewrites the module
    _forget_schema_module()
    yield tmp_path
    _forget_schema_module()


def _forget_schema_module() -> None:
    sys.modules.pop("blogschema", None)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_refused(project: Path, capsys: pytest.CaptureFixture[str], message: str) -> None:
    """`modelauth generate` exits 2 with one line saying ``message`` and writes nothing."""
    before = _tree(project)
    assert main(["generate"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert _tree(project) == before


def test_generate_fills_every_region_and_keeps_hand_written_lines(project: Path) -> None:
    assert main(["generate"]) == 0
    text = (project / "template.yaml").read_text()
    template = yaml.load(text, Loader=_Loader)  # noqa: S506 - the SafeLoader subclass above
    resources = template["Resources"]
    assert {"MyBucket", "Fn", "Api", "BlogTable", "PostTable", "ModelIndexTable", "ModelTablesPolicy"} <= set(
        resources
    )
    assert resources["BlogTable"]["Properties"]["GlobalSecondaryIndexes"][0]["IndexName"] == "byOwner"
    assert "GlobalSecondaryIndexes" not in resources["PostTable"]["Properties"]  # editors: index items
    variables = resources["Fn"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "MINE": "1",
        "TABLE_BLOG": "Ref BlogTable",
        "TABLE_POST": "Ref PostTable",
        "INDEX_TABLE": "Ref ModelIndexTable",
    }
    resolvers = resources["Api"]["Properties"]["Resolvers"]
    assert set(resolvers["Query"]) == {"getBlog", "listBlogs", "getPost", "listPosts"}
    assert resolvers["Subscription"]["onCreatePost"]["CodeUri"] == "graphql/subscription.js"
    assert set(template["Outputs"]) == {"BlogTableName", "PostTableName", "Mine"}
    assert "Stage: {Type: String, Default: dev}   # mine" in text
    for name in ("schema.graphql", "invoke.js", "subscription.js"):
        assert (project / "graphql" / name).is_file()
    assert "type Blog" in (project / "graphql" / "schema.graphql").read_text()


def test_generate_is_idempotent_and_check_is_clean_after_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate"]) == 0
    before = _tree(project)
    assert main(["generate"]) == 0
    assert main(["generate", "--check"]) == 0
    assert _tree(project) == before
    assert "current" in capsys.readouterr().out


def test_check_reports_a_stale_region_with_a_diff_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate"]) == 0
    schema = project / "blogschema.py"
    schema.write_text(schema.read_text().replace('Model("Post"', 'Model("Article"'))
    _forget_schema_module()
    before = _tree(project)
    capsys.readouterr()
    assert main(["generate", "--check"]) == 1
    out = capsys.readouterr().out
    assert "+  ArticleTable:" in out
    assert "-  PostTable:" in out
    assert _tree(project) == before


def test_a_hand_edit_inside_a_region_is_refused_with_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate"]) == 0
    template = project / "template.yaml"
    template.write_text(
        template.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: PROVISIONED", 1)
    )
    before = _tree(project)
    assert main(["generate"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "template.yaml:" in err
    assert "edited by hand" in err
    assert "--force" in err
    assert _tree(project) == before
    assert main(["generate", "--force"]) == 0
    assert "PROVISIONED" not in template.read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("  # modelauth:generated begin resources\n", ""),
            "without its begin marker",
        ),
        (lambda t: t.replace("  # modelauth:generated end outputs\n", ""), "has no end marker"),
        (
            lambda t: t.replace(
                "  # modelauth:generated begin resources\n  # modelauth:generated end resources\n", ""
            ),
            "no 'resources' region",
        ),
        (
            lambda t: t.replace("begin outputs", "begin extras").replace("end outputs", "end extras"),
            "unknown region",
        ),
        (lambda t: t.replace("  MyBucket:", "  BlogTable:"), "BlogTable is both hand-written and generated"),
    ],
)
def test_a_template_the_regions_cannot_be_placed_in_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], edit: object, message: str
) -> None:
    (project / "template.yaml").write_text(edit(TEMPLATE))  # type: ignore[operator]
    _assert_refused(project, capsys, message)


@pytest.mark.parametrize(
    ("schema_text", "message"),
    [
        ("SCHEMA = 42\n", "is int, not a modelauth.rules.Schema"),
        ("import not_a_module_anywhere\n", "does not import"),
        (
            "from modelauth.rules import Model, Schema, allow\n"
            "SCHEMA = Schema([Model('A', rules=[allow.owner()]), Model('A', rules=[allow.owner()])])\n",
            "duplicate model names",
        ),
        (
            "from modelauth.rules import Model, Schema, allow\n"
            "SCHEMA = Schema([Model('Todo', rules=[allow.owner()]), Model('TODO', rules=[allow.owner()])])\n",
            "models Todo and TODO both define the table variable TABLE_TODO",
        ),
        (
            "from modelauth.rules import Model, Schema, allow\n"
            "SCHEMA = Schema([Model('my_todo', rules=[allow.owner()])])\n",
            "model name 'my_todo': use letters and digits",
        ),
    ],
)
def test_a_schema_that_cannot_be_generated_is_refused_with_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], schema_text: str, message: str
) -> None:
    (project / "blogschema.py").write_text(schema_text)
    _assert_refused(project, capsys, message)


def test_a_schema_reference_that_is_not_module_colon_attr_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--schema", "blogschema.SCHEMA", "generate"]) == 2
    assert "is not 'package.module:ATTR'" in capsys.readouterr().err


def test_no_configured_schema_says_how_to_configure_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELAUTH_SCHEMA", raising=False)
    assert main(["generate"]) == 2
    assert "[tool.modelauth] schema" in capsys.readouterr().err


def test_the_table_env_lists_one_variable_per_model() -> None:
    schema = Schema([Model("Note", fields=[Field("body")], rules=[allow.owner()])])
    assert region_lines(schema)["table-env"] == ["TABLE_NOTE: !Ref NoteTable"]


def test_generate_fills_the_template_given_with_template(project: Path) -> None:
    other = project / "infra" / "stack.yaml"
    other.parent.mkdir()
    other.write_text(TEMPLATE.replace("graphql/schema.graphql", "../graphql/schema.graphql"))
    (project / "pyproject.toml").write_text(
        '[tool.modelauth]\nschema = "blogschema:SCHEMA"\nsdl = "infra/graphql/schema.graphql"\n'
    )
    assert main(["--template", str(other), "generate"]) == 0
    assert "BlogTable:" in other.read_text()
    assert (project / "template.yaml").read_text() == TEMPLATE  # the project's own is untouched
    assert main(["--template", str(other), "generate", "--check"]) == 0


def test_a_template_given_with_template_that_does_not_exist_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(project)
    assert main(["--template", str(project / "missing.yaml"), "generate"]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml: can't read the SAM template" in err
    assert _tree(project) == before


@pytest.mark.parametrize("function", ["GraphQLFunction", "RestFunction"])
def test_a_model_function_without_its_table_env_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], function: str
) -> None:
    import re
    import shutil

    from tests.conftest import PROJECT

    project = tmp_path / "fixture"
    shutil.copytree(PROJECT, project)
    monkeypatch.chdir(project)
    template = project / "template.yaml"
    text = template.read_text()
    start = text.index(f"  {function}:\n")
    body = re.sub(
        r"\n *# modelauth:generated begin table-env.*?# modelauth:generated end table-env",
        "",
        text[start:],
        count=1,
        flags=re.S,
    )
    template.write_text(text[:start] + body)
    _assert_refused(
        project, capsys, f"{function} resolves the models but its Environment.Variables lack TABLE_"
    )
    template.write_text(text)
    assert main(["generate", "--check"]) == 0


def test_identity_pool_roles_get_appsync_only_on_the_fields_their_rules_reach() -> None:
    """Guests get the fields of allow.guest() rules, signed-in identities those of
    identityPool rules; a role whose rules reach nothing gets no appsync:GraphQL at all."""
    schema = Schema(
        [
            Model("Post", fields=[Field("title")], rules=[allow.guest().to(["read"]), allow.owner()]),
            Model("Note", fields=[Field("body")], rules=[allow.owner()]),
        ]
    )
    resources = yaml.load("\n".join(region_lines(schema)["resources"]), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    [statement] = resources["IdentityPoolGuestGraphQLPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == [
        f"Sub ${{GraphQLApi.Arn}}/types/{t}"
        for t in (
            "Query/fields/getPost",
            "Query/fields/listPosts",
            "Subscription/fields/onCreatePost",
            "Subscription/fields/onUpdatePost",
            "Subscription/fields/onDeletePost",
            "Post/*",
            "ModelPostConnection/*",
        )
    ]
    assert "IdentityPoolAuthGraphQLPolicy" not in resources


def test_identity_pool_roles_get_the_custom_operations_their_rules_reach() -> None:
    """A custom query for guests is on the guest role with the model it returns; one for
    signed-in identities only is on the authenticated role and not on the guest's."""
    post = Model("Post", fields=[Field("title")], rules=[allow.guest().to(["read"]), allow.owner()])
    featured = query("featuredPost").returns("Post").authorization([allow.guest()])
    count = query("postCount").returns("Int").authorization([allow.authenticated("identityPool")])
    lines = region_lines(Schema([post], operations=[featured, count]))["resources"]
    resources = yaml.load("\n".join(lines), Loader=_Loader)  # noqa: S506 - SafeLoader subclass

    def granted(policy: str) -> list[str]:
        [statement] = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
        return [r.removeprefix("Sub ${GraphQLApi.Arn}/types/") for r in statement["Resource"]]

    assert "Query/fields/featuredPost" in granted("IdentityPoolGuestGraphQLPolicy")
    assert "Query/fields/postCount" not in granted("IdentityPoolGuestGraphQLPolicy")
    assert granted("IdentityPoolAuthGraphQLPolicy") == ["Query/fields/postCount"]
