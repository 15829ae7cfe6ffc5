"""`make demo`: the walkthrough decides every call as expected, in every auth mode."""

from __future__ import annotations

import io

from modelauth.local.demo import run
from tests.conftest import FIXTURE_SCHEMA, PROJECT
from tests.fixtures.schema import SCHEMA


def test_the_walkthrough_decides_every_call_as_expected() -> None:
    out = io.StringIO()
    assert run(SCHEMA, PROJECT / "template.yaml", out=out, schema_ref=FIXTURE_SCHEMA) == 0, out.getvalue()
    text = out.getvalue()
    assert "all decided as expected" in text
    for mode in ("API_KEY", "AMAZON_COGNITO_USER_POOLS", "AWS_IAM", "OPENID_CONNECT", "AWS_LAMBDA"):
        assert f"[{mode}]" in text
    for model in ("Todo", "Post", "CatalogItem", "Profile", "Note", "Ticket", "Item"):
        assert f"== {model} - " in text
    # every denial comes with its reason
    blocks = text.split("\n  ")
    assert all("why " in block for block in blocks if "\n     DENY" in block or "\n     401" in block)
