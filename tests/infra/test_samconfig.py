"""samconfig.toml of the example and of `modelauth init`'s scaffold: `sam deploy --config-env ci`
runs unattended, read as SAM CLI reads it (its own config loader and parameter parser)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from samcli.cli.types import CfnParameterOverridesType  # type: ignore[import-untyped]
from samcli.lib.config.samconfig import SamConfig  # type: ignore[import-untyped]

from modelauth.local.apikey import deploy_overrides
from tests.conftest import EXAMPLE, PROJECT, ROOT

SCAFFOLD = ROOT / "src" / "modelauth" / "local" / "scaffold" / "samconfig.toml"
CONFIGS = {"example": EXAMPLE, "scaffold": SCAFFOLD.parent, "init": PROJECT}


@pytest.fixture(params=sorted(CONFIGS))
def project(request: pytest.FixtureRequest) -> Path:
    return CONFIGS[request.param]


def sam(project: Path, command: str, env: str) -> dict[str, Any]:
    """What SAM CLI's loader hands the command: [env.command.parameters] over [env.global.parameters]."""
    return dict(SamConfig(str(project)).get_all([command], "parameters", env=env))


def test_ci_deploy_never_prompts_and_accepts_an_empty_change_set(project: Path) -> None:
    deploy = sam(project, "deploy", "ci")

    assert deploy["confirm_changeset"] is False
    assert deploy["fail_on_empty_changeset"] is False
    assert deploy["no_progressbar"] is True
    assert deploy["resolve_s3"] is True
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["region"] == "us-east-1"  # from [ci.global.parameters]: no AWS profile needed
    assert deploy["stack_name"].endswith("-prod")
    assert "Stage=prod" in deploy["parameter_overrides"].split()
    # production keeps the template's default: no ALLOW_USER_PASSWORD_AUTH (SRP only)
    assert not any(o.startswith("AllowPasswordAuth=") for o in deploy["parameter_overrides"].split())


def test_the_dev_stack_is_a_test_stack_with_the_password_flow(project: Path) -> None:
    assert "AllowPasswordAuth=true" in sam(project, "deploy", "default")["parameter_overrides"].split()


def test_ci_is_complete_on_its_own_since_sam_cli_does_not_fall_back_to_default(project: Path) -> None:
    build, default_build = sam(project, "build", "ci"), sam(project, "build", "default")

    assert build["build_in_source"] is True  # the layer's Makefile needs the project's paths
    assert build["region"] == "us-east-1"
    assert build["cached"] is False
    assert set(default_build) <= set(build)
    assert sam(project, "deploy", "ci")["stack_name"] != sam(project, "deploy", "default")["stack_name"]


def test_default_deploy_stays_interactive(project: Path) -> None:
    deploy = sam(project, "deploy", "default")

    assert deploy["confirm_changeset"] is True
    assert "region" not in deploy  # your AWS profile / AWS_DEFAULT_REGION


def test_the_files_are_plain_toml_with_a_version(project: Path) -> None:
    data = tomllib.loads((project / "samconfig.toml").read_text())

    assert data["version"] == 0.1
    assert set(data) == {"version", "default", "ci"}


@pytest.mark.parametrize("env", ["default", "ci"])
def test_the_deploy_overrides_parse_as_sam_cli_parses_them(project: Path, env: str) -> None:
    overrides = deploy_overrides(project, env, 365, now=1_700_000_000)

    parsed = CfnParameterOverridesType().convert([overrides], None, None)

    stage = "prod" if env == "ci" else "dev"
    assert parsed["Stage"] == stage
    assert parsed["ApiKeyExpiresOn"] == "1731535200"
    # every override names a parameter of the template (a typo would be ignored by SAM CLI)
    declared = yaml.load((project / "template.yaml").read_text(), Loader=_CfnLoader)["Parameters"]  # noqa: S506 - SafeLoader subclass
    assert set(parsed) <= set(declared)


def test_the_scaffold_names_its_stacks_after_the_project() -> None:
    assert sam(SCAFFOLD.parent, "deploy", "ci")["stack_name"] == "__NAME__-prod"
    assert sam(PROJECT, "deploy", "ci")["stack_name"] == f"{PROJECT.name}-prod"


class _CfnLoader(yaml.SafeLoader):
    """CloudFormation short tags read as plain values (only Parameters are looked at)."""


_CfnLoader.add_multi_constructor("!", lambda loader, _suffix, node: None)
