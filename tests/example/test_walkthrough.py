"""`make demo`: the example's walkthrough decides every call as its rules say, in every auth mode."""

from __future__ import annotations

import io
import sys

import pytest

from modelauth.local.demo import run
from modelauth.project import Project
from tests.conftest import EXAMPLE


@pytest.fixture
def walkthrough(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.delenv("MODELAUTH_SCHEMA")  # the example's own schema (example/pyproject.toml)
    monkeypatch.chdir(EXAMPLE)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    sys.modules.pop("walkthrough", None)
    import walkthrough as module  # example/walkthrough.py

    return module


def test_the_walkthrough_decides_every_call_as_expected(walkthrough: object) -> None:
    project = Project.find(EXAMPLE)
    out = io.StringIO()
    code = run(
        project.load_schema(),
        project.path("template"),
        out=out,
        schema_ref="appschema:SCHEMA",
        sections=walkthrough.sections(),  # type: ignore[attr-defined]
        users={"alice": ["editors"], "bob": [], "carol": ["Admin"]},
    )
    text = out.getvalue()
    assert code == 0, text
    assert "all decided as expected" in text
    for mode in ("API_KEY", "AMAZON_COGNITO_USER_POOLS", "AWS_IAM", "OPENID_CONNECT", "AWS_LAMBDA"):
        assert f"[{mode}]" in text
    for model in ("Todo", "Post", "CatalogItem", "Profile", "Note", "Ticket", "Item"):
        assert f"== {model} - " in text
    # every denial comes with its reason
    blocks = text.split("\n  ")
    assert all("why " in block for block in blocks if "\n     DENY" in block or "\n     401" in block)
