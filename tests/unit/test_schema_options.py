"""Schema-level options as decision tables: ``Schema(authorization=...)`` (Gen 2's
``a.schema(...).authorization``), models without rules, and
``populate_owner_field_for_static_group_auth``."""

from __future__ import annotations

import pytest
from graphql import build_schema

from modelauth.identity import Principal
from modelauth.local.appsync import APPSYNC_PRELUDE
from modelauth.policy import decide
from modelauth.rules import Field, Model, Operation, Schema, SchemaError, allow
from modelauth.sdl import render
from tests.unit.test_policy_worked_examples import ALICE, API_KEY, BACKEND, CAROL, CONFIG, GENERIC_IAM, GUEST

NOTE = Model("Note", fields=[Field("body")])  # no rules of its own
TODO = Model("Todo", fields=[Field("body")], rules=[allow.owner()])
SCHEMA = Schema([NOTE, TODO], authorization=[allow.public_api_key(), allow.authenticated().to(["read"])])


@pytest.mark.parametrize(
    ("model", "caller", "op", "allowed"),
    [
        ("Note", API_KEY, Operation.CREATE, True),  # the schema's rules
        ("Note", API_KEY, Operation.DELETE, True),
        ("Note", ALICE, Operation.GET, True),
        ("Note", ALICE, Operation.UPDATE, False),
        ("Note", GUEST, Operation.GET, False),
        ("Todo", API_KEY, Operation.GET, False),  # its own rules replace the schema's
        ("Todo", ALICE, Operation.CREATE, True),
    ],
)
def test_schema_rules_apply_to_models_without_their_own(
    model: str, caller: Principal, op: Operation, allowed: bool
) -> None:
    assert decide(caller, SCHEMA.model(model), op, config=CONFIG).allowed is allowed


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [(API_KEY, False), (ALICE, False), (CAROL, False), (GUEST, False), (BACKEND, True)],
)
@pytest.mark.parametrize("op", list(Operation))
def test_a_model_without_any_rule_is_reached_by_generic_iam_access_only(
    caller: Principal, allowed: bool, op: Operation
) -> None:
    """Only a backend IAM caller (no Cognito identity) with generic IAM access on; without it,
    nobody."""
    model = Schema([NOTE]).model("Note")
    assert model.rules == ()
    assert decide(caller, model, op, config=GENERIC_IAM).allowed is allowed
    assert decide(caller, model, op, config=CONFIG).allowed is False


def test_a_model_without_any_rule_is_iam_only_in_the_sdl() -> None:
    sdl = render(Schema([NOTE, TODO]))
    schema = build_schema(APPSYNC_PRELUDE + sdl)
    note = schema.get_type("Note")
    assert note is not None
    assert note.ast_node is not None
    assert [d.name.value for d in note.ast_node.directives] == ["aws_iam"]
    query = schema.query_type
    assert query is not None
    field = query.fields["getNote"].ast_node
    assert field is not None
    assert [d.name.value for d in field.directives] == ["aws_iam"]


def test_schema_authorization_takes_rules() -> None:
    with pytest.raises(SchemaError, match=r"authorization takes allow\.\* rules, not str"):
        Schema([NOTE], authorization=["public"])  # type: ignore[list-item]
    with pytest.raises(SchemaError, match="models takes Model"):
        Schema([allow.owner()])  # type: ignore[list-item]


SHARED = [Field("body")]


@pytest.mark.parametrize(
    ("schema_flag", "model_flag", "caller", "stamped"),
    [
        (True, None, CAROL, True),  # Admin creates: owner filled from carol's claims (the default)
        (False, None, CAROL, False),  # off: a static grant leaves the owner field empty
        (False, True, CAROL, True),  # the model's own setting wins
        (True, False, CAROL, False),
        (False, None, ALICE, True),  # the owner rule itself grants: always stamped
    ],
)
def test_populate_owner_field_for_static_group_auth(
    schema_flag: bool, model_flag: bool | None, caller: Principal, stamped: bool
) -> None:
    post = Model(
        "Post",
        fields=SHARED,
        rules=[allow.owner(), allow.group("Admin")],
        populate_owner_field_for_static_group_auth=model_flag,
    )
    model = Schema([post], populate_owner_field_for_static_group_auth=schema_flag).model("Post")
    decision = decide(caller, model, Operation.CREATE, input={"body": "x"}, config=CONFIG)
    assert decision.allowed
    assert ("owner" in decision.owner_stamp) is stamped
