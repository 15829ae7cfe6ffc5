"""`modelauth demo` in any project: a tour derived from its models, through the local endpoint."""

from __future__ import annotations

import io
import re

from modelauth.local.demo import run, tour
from modelauth.rules import Field, Model, Schema, allow
from tests.conftest import FIXTURE_SCHEMA, PROJECT
from tests.fixtures.schema import SCHEMA


def test_the_tour_of_the_fixture_schema_answers_every_call_with_a_decision() -> None:
    out = io.StringIO()
    assert run(SCHEMA, PROJECT / "template.yaml", out=out, schema_ref=FIXTURE_SCHEMA) == 0, out.getvalue()
    text = out.getvalue()
    assert "all decided as expected" in text
    for mode in ("API_KEY", "AMAZON_COGNITO_USER_POOLS", "AWS_IAM", "OPENID_CONNECT", "AWS_LAMBDA"):
        assert f"[{mode}]" in text
    for model in SCHEMA.models:
        assert f"== {model.name} - rules: " in text
    # the owner's create is allowed and another signed-in user may not read a Todo
    todo = text.split("== Todo - ")[1].split("\n== ")[0]
    calls = re.split(r"\n\s*\d+\. ", todo)[1:]
    assert "createTodo" in calls[0]
    assert "\n     ALLOW" in calls[0]
    bob_get = next(c for c in calls if c.startswith("bob [AMAZON_COGNITO_USER_POOLS]") and "getTodo" in c)
    assert "\n     DENY" in bob_get
    assert "why " in bob_get


def test_the_tour_sends_a_create_every_model_accepts_as_input() -> None:
    schema = Schema(
        [
            Model(
                "Note",
                fields=[Field("body", required=True), Field("at", "AWSDateTime")],
                rules=[allow.owner()],
            )
        ]
    )
    (section,) = tour(schema)
    create = section.calls[0]
    assert create.caller == "alice"
    assert create.variables == {
        "input": {"id": "note-demo-1", "body": "sample", "at": "2026-01-01T12:00:00.000Z"}
    }
