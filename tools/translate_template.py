"""Write a SAM template as CloudFormation receives it: after `sam package` and the SAM transform.

`make lint` runs cfn-lint and checkov on this output: both see the roles, permissions, stages and
log groups SAM generates, which neither sees in template.yaml itself (checkov skips
AWS::Serverless::GraphQLApi, and cfn-lint leaves rules such as I3011 to the translated resources).

What it does, offline and without AWS credentials:
- the local paths `sam package` would upload (function CodeUri, layer ContentUri, the GraphQL
  API's SchemaUri and its resolvers' and functions' CodeUri) become ``s3://`` URIs, as packaging
  leaves them;
- SAM CLI's own translation (``samcli.lib.translate.sam_template_validator``, what
  `sam validate` runs) with the managed-policy names bundled with samtranslator instead of a
  call to IAM.

Usage::

    python tools/translate_template.py example/template.yaml build/lint/template.json

Exit 2 with one line on stderr when the template cannot be read or translated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML: SAM CLI's dependency
from samcli.commands.validate.lib.exceptions import InvalidSamDocumentException
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.lib.utils import graphql_api
from samcli.yamlhelper import yaml_parse
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map

__all__ = ["main", "package_paths", "translate"]

PACKAGED = "s3://modelauth-lint-artifacts/"  # a stand-in bucket: nothing is uploaded
REGION = "us-east-1"


class BundledPolicies:
    """samtranslator's bundled managed-policy map, in place of SAM CLI's IAM look-up."""

    def load(self) -> dict[str, str]:
        return get_bundled_managed_policy_map("aws") or {}


def _packaged(value: Any) -> Any:
    return f"{PACKAGED}{value}" if isinstance(value, str) and "://" not in value else value


def package_paths(template: dict[str, Any]) -> dict[str, Any]:
    """Turn the local paths `sam package` uploads into S3 URIs, in place; returns ``template``.

    Example::

        >>> api = {"Type": "AWS::Serverless::GraphQLApi", "Properties": {"SchemaUri": "schema.graphql",
        ...     "Functions": {"Invoke": {"CodeUri": "invoke.js"}}}}
        >>> package_paths({"Resources": {"Api": api}})["Resources"]["Api"]["Properties"]["Functions"]
        {'Invoke': {'CodeUri': 's3://modelauth-lint-artifacts/invoke.js'}}
    """
    properties_of = {
        "AWS::Serverless::Function": ("CodeUri",),
        "AWS::Serverless::LayerVersion": ("ContentUri",),
        "AWS::Serverless::GraphQLApi": ("SchemaUri",),
    }
    for resource in template.get("Resources", {}).values():
        kind = resource.get("Type")
        properties = resource.get("Properties") or {}
        for name in properties_of.get(kind, ()):
            if name in properties:
                properties[name] = _packaged(properties[name])
        if kind == "AWS::Serverless::GraphQLApi":
            for path, value in graphql_api.find_all_paths_and_values("CodeUri", properties):
                *parents, last = path.split(".")
                node = properties
                for key in parents:
                    node = node[key]
                node[last] = _packaged(value)
    return template


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def translate(template_path: Path) -> dict[str, Any]:
    """The CloudFormation template SAM makes of ``template_path`` (raises ValueError)."""
    try:
        template = yaml_parse(template_path.read_text())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{template_path}: {_one_line(exc)}") from exc
    if not isinstance(template, dict):
        raise ValueError(f"{template_path}: not a template")
    validator = SamTemplateValidator(package_paths(template), BundledPolicies(), region=REGION)
    try:
        translated: dict[str, Any] = yaml_parse(validator.get_translated_template_if_valid())
    except InvalidSamDocumentException as exc:
        raise ValueError(f"{template_path}: {_one_line(exc)}") from exc
    return translated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    try:
        translated = translate(args.template)
    except ValueError as exc:
        print(f"translate_template: {exc}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(translated, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
