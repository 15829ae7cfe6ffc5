"""``modelauth generate``: everything that follows from the models, written into the project.

From the schema it writes the SDL (``graphql/schema.graphql``), the APPSYNC_JS steps next to it
(``invoke.js``, ``subscription.js``, package data of modelauth) and the *generated regions* of
the SAM template. A region is a block between two marker comments, at any indentation::

    Resources:
      # modelauth:generated begin resources sha256=0123456789abcdef
      TodoTable:
        ...
      # modelauth:generated end resources

The user owns every line outside the regions (parameters, auth, functions, their own resources
and comments); ``generate`` rewrites only what is between the markers, and the ``sha256`` on the
begin line is the hash of what it wrote last time, so a hand edit inside a region is refused
rather than overwritten. Regions:

===========  ===============================================================================
resources    one table per model (owner GSIs), ``ModelIndexTable`` when a model needs index
             items, ``ModelTablesPolicy``: item-level DynamoDB actions on those tables only,
             a Cognito group (of the template's ``UserPool``) per group a user-pool rule names,
             and ``appsync:GraphQL`` on ``GraphQLApi`` for the identity pool's roles
             (``IdentityPoolUnauthRole``, ``IdentityPoolAuthRole``): only the root fields
             (models' and custom operations', and the types they return) that guest resp.
             signed-in identity-pool rules reach
resolvers    inside ``GraphQLApi.Properties.Resolvers``: every root field and subscription,
             the custom operations' too
table-env    inside a function's ``Environment.Variables`` (once per function that reads the
             tables): ``TABLE_<MODEL>`` and ``INDEX_TABLE``
outputs      optional, inside ``Outputs``: each table's name
===========  ===============================================================================

It also writes ``amplify_outputs.json`` (Amplify Gen 2's client configuration, for
``Amplify.configure``): the models' introspection and the API's auth modes, keeping the
environment values that ``modelauth outputs`` wrote into it (:mod:`modelauth.local.outputs`).

Example:
    >>> from modelauth.rules import Model, Schema, allow
    >>> lines = region_lines(Schema([Model("Todo", rules=[allow.owner()])]))["table-env"]
    >>> lines
    ['TABLE_TODO: !Ref TodoTable']
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from modelauth.local import table_definition
from modelauth.project import Project, ProjectError
from modelauth.rules import Model, Provider, Schema, root_fields
from modelauth.sdl import identity_pool_fields
from modelauth.sdl import render as render_sdl
from modelauth.store import INDEX_TABLE, index_fields, index_table_definition

__all__ = [
    "JS_FILES",
    "REGIONS",
    "GenerateError",
    "Output",
    "apply_regions",
    "generate",
    "plan",
    "region_lines",
    "table_logical_id",
    "user_pool_groups",
]

REGIONS = ("resources", "resolvers", "table-env", "outputs")
_REQUIRED = ("resources", "resolvers", "table-env")
JS_FILES = ("invoke.js", "subscription.js")
_MARKER = "# modelauth:generated"
_BEGIN = re.compile(
    r"^(?P<indent>[ ]*)# modelauth:generated begin (?P<name>\S+)(?: sha256=(?P<hash>[0-9a-f]+))?\s*$"
)
_END = re.compile(r"^[ ]*# modelauth:generated end (?P<name>\S+)\s*$")
_TOP_LEVEL_KEY = re.compile(r"^(?P<key>[A-Za-z0-9]+):")
_RESOURCE_KEY = re.compile(r"^  (?P<key>[A-Za-z0-9]+):\s*(#.*)?$")
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:*${}-]*$")
_WIDTH = 110


class GenerateError(ProjectError):
    """The project can't be generated as asked; nothing was written (exit code 2)."""


class Tag(NamedTuple):
    """A CloudFormation short-form intrinsic, e.g. ``Tag("!Ref", "TodoTable")``."""

    name: str
    value: str


@dataclass(frozen=True)
class Output:
    """One generated file: where it goes and its whole text."""

    path: Path
    text: str


# -- the SAM resources of a schema ---------------------------------------------------------------


def table_logical_id(model: Model) -> str:
    """``TodoTable``: the template's resource for a model's table."""
    return f"{model.name}Table"


def _needs_index_table(schema: Schema) -> bool:
    return any(index_fields(m) for m in schema.models)


def _check_names(schema: Schema) -> None:
    # model names and their variables are checked by Schema itself (rules._check_names_unique)
    groups: dict[str, str] = {}
    for group in user_pool_groups(schema):
        logical = _group_logical_id(group)
        if logical == "UserPoolGroup" or logical in groups:
            other = f"{groups[logical]!r} and " if logical in groups else ""
            raise GenerateError(
                f"groups {other}{group!r} can't each name a CloudFormation resource ({logical}): "
                "use group names that differ in their letters and digits"
            )
        groups[logical] = group
    if _needs_index_table(schema) and any(table_logical_id(m) == "ModelIndexTable" for m in schema.models):
        raise GenerateError("model 'ModelIndex' collides with the generated ModelIndexTable: rename it")


def user_pool_groups(schema: Schema) -> tuple[str, ...]:
    """The static groups user-pool rules name (``allow.group("Admin")``), on models, fields and
    custom operations."""
    found: set[str] = set()

    def visit(rules: Sequence[Any]) -> None:
        for rule in rules:
            visit(rule.rules)
            if rule.provider is Provider.USER_POOLS:
                found.update(rule.groups)

    for model in schema.models:
        visit(model.rules)
        for field in model.fields:
            visit(field.rules or ())
    for op in schema.operations:
        visit(op.rules)
    return tuple(sorted(found))


def _group_logical_id(group: str) -> str:
    return "".join(c for c in group.title() if c.isalnum()) + "UserPoolGroup"


def _table_resource(definition: Mapping[str, Any], model_name: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
        if key in definition:
            properties[key] = definition[key]
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    properties["SSESpecification"] = {"SSEEnabled": True}
    if model_name is not None:
        properties["Tags"] = [{"Key": "modelauth:model", "Value": model_name}]
    return {
        "Type": "AWS::DynamoDB::Table",
        # keep the data if the stack (or a replacement of the table) goes away
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def _resources(schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    arns: list[Any] = []
    for model in schema.models:
        definition = table_definition(model, model.name)
        logical = table_logical_id(model)
        out[logical] = _table_resource(definition, model.name)
        arns.append(Tag("!GetAtt", f"{logical}.Arn"))
        if "GlobalSecondaryIndexes" in definition:
            arns.append(Tag("!Sub", f"${{{logical}.Arn}}/index/*"))
    if _needs_index_table(schema):
        out["ModelIndexTable"] = _table_resource(index_table_definition(INDEX_TABLE), None)
        arns.append(Tag("!GetAtt", "ModelIndexTable.Arn"))
    for group in user_pool_groups(schema):
        out[_group_logical_id(group)] = {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {
                "UserPoolId": Tag("!Ref", "UserPool"),
                "GroupName": group,
                "Description": f"Named by the models' group rules (allow.group({group!r})).",
            },
        }
    out["ModelTablesPolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": "Item-level access to the model tables and their indexes (modelauth generate).",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "dynamodb:GetItem",
                            "dynamodb:BatchGetItem",
                            "dynamodb:PutItem",
                            "dynamodb:UpdateItem",
                            "dynamodb:DeleteItem",
                            "dynamodb:ConditionCheckItem",
                            "dynamodb:Query",
                            "dynamodb:Scan",
                        ],
                        "Resource": arns,
                    }
                ],
            },
        },
    }
    out.update(_identity_pool_policies(schema))
    return out


#: the identity pool's roles, by whether guests (the unauthenticated role) assume them
_POOL_ROLES = {
    True: ("IdentityPoolGuestGraphQLPolicy", "IdentityPoolUnauthRole"),
    False: ("IdentityPoolAuthGraphQLPolicy", "IdentityPoolAuthRole"),
}


def _identity_pool_policies(schema: Schema) -> dict[str, Any]:
    """``appsync:GraphQL`` for each identity-pool role on the fields its rules reach, and none
    when they reach none. A separate policy, not inline in the role: the roles' ARNs are in the
    resolver function's environment and the function is the API's data source (a cycle)."""
    out: dict[str, Any] = {}
    for guest, (logical, role) in _POOL_ROLES.items():
        fields = identity_pool_fields(schema, guest=guest)
        if not fields:
            continue
        types = [f"{f.type_name}/fields/{f.field_name}" for f in fields]
        # the types they return too, should AppSync check the fields below the root
        types += [f"{name}/*" for name in dict.fromkeys(t for f in fields for t in f.types)]
        arns = [Tag("!Sub", f"${{GraphQLApi.Arn}}/types/{t}") for t in types]
        out[logical] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "appsync-graphql",
                "Roles": [Tag("!Ref", role)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "appsync:GraphQL", "Resource": arns}],
                },
            },
        }
    return out


def _resolvers(schema: Schema, subscription_js: str) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {"Query": {}, "Mutation": {}, "Subscription": {}}
    subscribe = {
        "Runtime": {"Name": "APPSYNC_JS", "Version": "1.0.0"},
        "CodeUri": subscription_js,
        "Pipeline": ["InvokeModelAuth"],
    }
    for model in schema.models:
        for root in root_fields(model):
            step = subscribe if root.type_name == "Subscription" else {"Pipeline": ["InvokeModelAuth"]}
            out[root.type_name][root.field_name] = step
        for rel in model.relations:  # nested fields: the related model's rules, in the same function
            out.setdefault(model.name, {})[rel.name] = {"Pipeline": ["InvokeModelAuth"]}
    for op in schema.operations:  # custom operations: the same function decides them first
        out[op.type_name][op.name] = (
            subscribe if op.type_name == "Subscription" else {"Pipeline": ["InvokeModelAuth"]}
        )
    return out


def _table_env(schema: Schema) -> dict[str, Any]:
    env: dict[str, Any] = {f"TABLE_{m.name.upper()}": Tag("!Ref", table_logical_id(m)) for m in schema.models}
    if _needs_index_table(schema):
        env["INDEX_TABLE"] = Tag("!Ref", "ModelIndexTable")
    return env


def _outputs(schema: Schema) -> dict[str, Any]:
    return {
        f"{table_logical_id(m)}Name": {
            "Description": f"DynamoDB table of the {m.name} model.",
            "Value": Tag("!Ref", table_logical_id(m)),
        }
        for m in schema.models
    }


def region_lines(schema: Schema, subscription_js: str = "graphql/subscription.js") -> dict[str, list[str]]:
    """Each region's YAML lines (unindented) for ``schema``; ``subscription_js`` as the template
    refers to it."""
    _check_names(schema)
    return {
        "resources": _yaml(_resources(schema), 0, blank_between=True),
        "resolvers": _yaml(_resolvers(schema, subscription_js), 0),
        "table-env": _yaml(_table_env(schema), 0),
        "outputs": _yaml(_outputs(schema), 0),
    }


# -- a small YAML writer (block style, flow style for what fits on one line) ---------------------


def _scalar(value: Any) -> str:
    if isinstance(value, Tag):
        return f"{value.name} {_scalar(value.value)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    reserved = text.lower() in {"true", "false", "yes", "no", "on", "off", "null", "~", ""}
    if _PLAIN.match(text) and not reserved and not text[0].isdigit():
        return text
    return json.dumps(text)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _yaml(value: Any, indent: int, *, blank_between: bool = False) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for number, (key, item) in enumerate(value.items()):
            if blank_between and number:
                lines.append("")
            head = f"{pad}{key}:"
            if isinstance(item, dict | list) and item:
                flow = _flow(item)
                if len(head) + 1 + len(flow) <= _WIDTH and (indent > 0 or not isinstance(item, dict)):
                    lines.append(f"{head} {flow}")
                else:
                    lines.append(head)
                    lines += _yaml(item, indent + 2)
            else:
                lines.append(f"{head} {_flow(item)}")
        return lines
    for item in value:
        flow = _flow(item)
        if not isinstance(item, dict | list) or len(pad) + 2 + len(flow) <= _WIDTH:
            lines.append(f"{pad}- {flow}")
            continue
        nested = _yaml(item, indent + 2)
        lines.append(f"{pad}- {nested[0].lstrip()}")
        lines += nested[1:]
    return lines


# -- regions in a template -----------------------------------------------------------------------


def _digest(lines: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


class _Region(NamedTuple):
    name: str
    indent: str
    begin: int  # line index of the begin marker
    end: int  # line index of the end marker
    recorded: str | None


def _regions(lines: Sequence[str], path: Path) -> list[_Region]:
    found: list[_Region] = []
    open_: tuple[str, str, int, str | None] | None = None
    for number, line in enumerate(lines):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin is None and end is None and _MARKER in line:
            raise GenerateError(f"{path}:{number + 1}: unreadable modelauth marker: {line.strip()!r}")
        if begin is not None:
            if open_ is not None:
                raise GenerateError(
                    f"{path}:{number + 1}: region {begin['name']!r} begins inside {open_[0]!r}"
                )
            if begin["name"] not in REGIONS:
                raise GenerateError(
                    f"{path}:{number + 1}: unknown region {begin['name']!r} (regions: {', '.join(REGIONS)})"
                )
            open_ = (begin["name"], begin["indent"], number, begin["hash"])
        elif end is not None:
            if open_ is None or open_[0] != end["name"]:
                raise GenerateError(f"{path}:{number + 1}: 'end {end['name']}' without its begin marker")
            found.append(_Region(open_[0], open_[1], open_[2], number, open_[3]))
            open_ = None
    if open_ is not None:
        raise GenerateError(f"{path}:{open_[2] + 1}: region {open_[0]!r} has no end marker")
    return found


def _hand_written_resources(lines: Sequence[str], regions: Sequence[_Region]) -> set[str]:
    inside = {n for r in regions for n in range(r.begin, r.end + 1)}
    section, keys = None, set()
    for number, line in enumerate(lines):
        top = _TOP_LEVEL_KEY.match(line)
        if top is not None:
            section = top["key"]
            continue
        resource = _RESOURCE_KEY.match(line)
        if section == "Resources" and resource is not None and number not in inside:
            keys.add(resource["key"])
    return keys


def apply_regions(text: str, regions: Mapping[str, list[str]], path: Path, *, force: bool = False) -> str:
    """``text`` with every region's body replaced by ``regions[name]`` (indented like its marker).

    Refused (:class:`GenerateError`, nothing changed): a required region missing, a marker out of
    place, a body edited by hand since the last run (unless ``force``), a generated resource whose
    name a hand-written one already uses.
    """
    lines = text.split("\n")
    found = _regions(lines, path)
    names = {r.name for r in found}
    for name in _REQUIRED:
        if name not in names:
            raise GenerateError(
                f"{path}: no '{name}' region: add the two lines '{_MARKER} begin {name}' and "
                f"'{_MARKER} end {name}' where it belongs (see `modelauth generate --help`)"
            )
    for region in found:
        body = lines[region.begin + 1 : region.end]
        if region.recorded is not None and region.recorded != _digest(body) and not force:
            raise GenerateError(
                f"{path}:{region.begin + 2}: the generated region {region.name!r} was edited by hand: "
                "move the change outside the markers (or rerun with --force to discard it)"
            )
    generated_resources = {
        line.split(":")[0] for line in regions["resources"] if _RESOURCE_KEY.match("  " + line)
    }
    taken = generated_resources & _hand_written_resources(lines, found)
    if taken:
        raise GenerateError(
            f"{path}: {', '.join(sorted(taken))} is both hand-written and generated from the models: "
            "rename or remove the hand-written resource"
        )
    out: list[str] = []
    cursor = 0
    for region in found:
        body = [f"{region.indent}{line}" if line else "" for line in regions[region.name]]
        out += lines[cursor : region.begin]
        out.append(f"{region.indent}{_MARKER} begin {region.name} sha256={_digest(body)}")
        out += body
        out.append(lines[region.end])
        cursor = region.end + 1
    out += lines[cursor:]
    return "\n".join(out)


# -- the command ---------------------------------------------------------------------------------


def plan(
    project: Project, schema: Schema, *, template: Path | None = None, force: bool = False
) -> list[Output]:
    """Every generated file of ``project`` for ``schema`` (nothing written); ``template``: the
    SAM template to fill (default: the project's ``[tool.modelauth] template``)."""
    template = template or project.path("template")
    sdl = project.path("sdl")
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise GenerateError(
            f"{template}: can't read the SAM template ({exc.strerror}); set [tool.modelauth] template"
        ) from exc
    try:
        subscription_js = sdl.parent.joinpath("subscription.js").relative_to(template.parent).as_posix()
    except ValueError as exc:
        raise GenerateError(
            f"{sdl}: the SDL must live under the template's directory {template.parent}"
        ) from exc
    filled = apply_regions(text, region_lines(schema, subscription_js), template, force=force)
    _check_model_functions(filled, template, schema)
    outputs = [Output(template, filled)]
    outputs.append(Output(sdl, render_sdl(schema)))
    js = resources.files("modelauth") / "js"
    outputs += [Output(sdl.parent / name, (js / name).read_text(encoding="utf-8")) for name in JS_FILES]
    outputs.append(_amplify_outputs(project, schema, template, text))
    return outputs


def _check_model_functions(text: str, template: Path, schema: Schema) -> None:
    """Every function that resolves models (a GraphQL data source, a REST/HTTP route) has each
    model's table variable: a function whose ``table-env`` region was deleted would read tables
    named like the models, which don't exist, and fail every request after the deploy."""
    from modelauth.local.samtemplate import SamTemplate, TemplateError

    try:
        parsed = SamTemplate.parse(text, template)
    except TemplateError:
        return  # a template the local endpoint can't read is reported where it is read
    serving = set(parsed.resolvers.values())
    for name, props in parsed.of_type("AWS::Serverless::Function").items():
        events = (props.get("Events") or {}).values()
        if any(isinstance(e, Mapping) and e.get("Type") in ("Api", "HttpApi") for e in events):
            serving.add(name)
    expected = [f"TABLE_{m.name.upper()}" for m in schema.models]
    for name in sorted(serving & set(parsed.functions)):
        missing = [v for v in expected if v not in parsed.functions[name].environment]
        if missing:
            raise GenerateError(
                f"{template}: {name} resolves the models but its Environment.Variables lack {missing[0]}: "
                f"put the lines '{_MARKER} begin table-env' and '{_MARKER} end table-env' back in "
                "its Environment.Variables (or in Globals.Function)"
            )


def _amplify_outputs(project: Project, schema: Schema, template: Path, text: str) -> Output:
    """amplify_outputs.json: the models' introspection and the template's auth modes, keeping
    the environment values (URL, keys, pool ids) the file already has (modelauth.local.outputs)."""
    from modelauth.local.outputs import FILE_NAME, amplify_outputs, environment_of, render
    from modelauth.local.samtemplate import TemplateError, auth_modes

    path = project.root / FILE_NAME
    try:
        modes = auth_modes(text)
    except TemplateError as exc:
        raise GenerateError(f"{template}: {exc}") from None
    return Output(path, render(amplify_outputs(schema, modes, environment_of(_current(path), path))))


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project when it lies inside it (a --template may not)."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def generate(
    project: Project,
    schema: Schema,
    *,
    template: Path | None = None,
    check: bool = False,
    force: bool = False,
    out: TextIO,
) -> int:
    """Write (or with ``check``, compare) every generated file; 0 when all are current."""
    stale = []
    for output in plan(project, schema, template=template, force=force):
        current = _current(output.path)
        if current == output.text:
            continue
        stale.append(output)
        name = _shown(output.path, project.root)
        if check:
            diff = difflib.unified_diff(
                (current or "").splitlines(keepends=True),
                output.text.splitlines(keepends=True),
                f"{name} (on disk)",
                f"{name} (generated)",
            )
            out.writelines(diff)
    if check:
        if stale:
            print(f"{len(stale)} generated file(s) out of date: run `modelauth generate`", file=out)
            return 1
        print("generated files are current", file=out)
        return 0
    for output in stale:
        output.path.parent.mkdir(parents=True, exist_ok=True)
        output.path.write_text(output.text, encoding="utf-8")
        print(f"wrote {_shown(output.path, project.root)}", file=out)
    if not stale:
        print("generated files are current", file=out)
    return 0
