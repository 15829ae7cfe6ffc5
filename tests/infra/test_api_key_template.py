"""The API key's expiry in both templates (the example's and `modelauth init`'s), after the SAM
transform: ApiKeyExpiresOn feeds the key's Expires, and 0 leaves AppSync's 7-day default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]
from cfnlint.template import Template  # type: ignore[import-untyped]
from cfnlint.template.transforms.transform import Transform  # type: ignore[import-untyped]

from tests.conftest import EXAMPLE, PROJECT


@pytest.fixture(scope="module", params=[EXAMPLE, PROJECT], ids=["example", "init"])
def translated(request: pytest.FixtureRequest) -> dict[str, Any]:
    path = str(Path(request.param) / "template.yaml")
    raw, problems = decode(path)
    assert not problems, problems
    assert raw is not None
    template = Template(path, raw, ["us-east-1"])
    assert not Transform().transform(template)
    return dict(template.template)


def test_the_api_key_expires_at_the_parameter_or_at_appsyncs_default(translated: dict[str, Any]) -> None:
    (key,) = [
        r["Properties"] for r in translated["Resources"].values() if r["Type"] == "AWS::AppSync::ApiKey"
    ]

    assert key["Expires"] == {
        "Fn::If": ["HasApiKeyExpiry", {"Ref": "ApiKeyExpiresOn"}, {"Ref": "AWS::NoValue"}]
    }
    (equals,) = translated["Conditions"]["HasApiKeyExpiry"]["Fn::Not"]
    # the SAM transform may swap the operands
    assert sorted(equals["Fn::Equals"], key=str) == [0, {"Ref": "ApiKeyExpiresOn"}]


def test_the_expiry_parameter_is_epoch_seconds_defaulting_to_none(translated: dict[str, Any]) -> None:
    parameter = translated["Parameters"]["ApiKeyExpiresOn"]

    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    assert "7 days" in parameter["Description"]


def test_the_key_output_says_how_to_renew_it(translated: dict[str, Any]) -> None:
    output = translated["Outputs"]["GraphQLApiKeyId"]

    assert "modelauth rotate-api-key" in output["Description"]
    assert "ApiKeyExpiresOn" in output["Description"]
