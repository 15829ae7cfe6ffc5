"""tools/translate_template.py: the template `make lint` gives cfn-lint and checkov is the one
CloudFormation receives - fully translated, with the packaged artifacts' S3 locations."""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE
from tools import translate_template
from tools.translate_template import PACKAGED, main, translate


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translate(EXAMPLE / "template.yaml")


def _values(node: Any, key: str) -> list[Any]:
    if isinstance(node, dict):
        found = [node[key]] if key in node else []
        return found + [v for child in node.values() for v in _values(child, key)]
    if isinstance(node, list):
        return [v for child in node for v in _values(child, key)]
    return []


def test_no_serverless_resource_is_left(translated: dict[str, Any]) -> None:
    kinds = {resource["Type"] for resource in translated["Resources"].values()}
    assert not [kind for kind in kinds if kind.startswith("AWS::Serverless::")]
    assert "Transform" not in translated
    # what SAM generates and only the translated template shows
    assert {"AWS::IAM::Role", "AWS::AppSync::DataSource", "AWS::ApiGateway::Stage"} <= kinds


def test_every_artifact_is_an_s3_location_as_sam_package_leaves_it(translated: dict[str, Any]) -> None:
    resources = translated["Resources"].values()
    code = [r["Properties"]["Code"] for r in resources if r["Type"] == "AWS::Lambda::Function"]
    layers = [r["Properties"]["Content"] for r in resources if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert code
    assert layers
    assert {item["S3Bucket"] for item in code + layers} == {PACKAGED.removeprefix("s3://").rstrip("/")}
    appsync = _values(translated["Resources"], "CodeS3Location") + _values(
        translated["Resources"], "DefinitionS3Location"
    )
    assert appsync
    assert all(location.startswith(PACKAGED) for location in appsync), appsync


def test_main_writes_json_and_refuses_a_bad_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "template.json"
    assert main([str(EXAMPLE / "template.yaml"), str(output)]) == 0
    assert json.loads(output.read_text())["Resources"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F: {Type: AWS::Serverless::Function}\n"
    )
    assert main([str(bad), str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("translate_template: "), err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "bad.json").exists()


def test_docstring_examples() -> None:
    result = doctest.testmod(translate_template)
    assert result.attempted > 0
    assert result.failed == 0
