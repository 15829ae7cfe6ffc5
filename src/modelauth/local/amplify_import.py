"""``modelauth import amplify-gen1|amplify-gen2``: an Amplify schema as a modelauth schema module.

Gen 1: the ``schema.graphql`` of an Amplify CLI project (GraphQL transformer v2), parsed with
graphql-core. Every ``@model`` becomes a :class:`~modelauth.rules.Model` with its ``@auth`` rules
written in the ``allow`` DSL, field ``@auth`` becomes field rules, ``@default`` a default, enums
:class:`~modelauth.fieldtypes.Enum` and other object types
:class:`~modelauth.fieldtypes.CustomType`; ``@model(queries: null, subscriptions: {level: off})``
and the like become ``disable_operations`` and ``subscriptions=``. ``input AMPLIFY
{ globalAuthRule: ... }`` becomes ``Schema(authorization=...)``.

Gen 2: ``amplify/data/resource.ts`` is run by node with Amplify's own ``@aws-amplify/data-schema``
(tools/amplify_gen2), whose ``schema.transform()`` gives the same SDL Amplify deploys; that SDL
is then imported as Gen 1.

Custom ``Query``/``Mutation`` fields become :mod:`modelauth.custom` operations (arguments, result,
rules from ``@aws_api_key``/``@aws_cognito_user_pools``/``@aws_iam``/``@aws_oidc``/``@aws_lambda``
or static ``@auth`` rules); their resolver is not imported, so each is marked as needing a handler
(:attr:`Imported.handlers`, on stderr). Custom ``Subscription`` fields
(``@aws_subscribe(mutations: [...])``) become ``subscription(name).for_(...)``.

``@primaryKey`` becomes ``Model(identifier=[...])`` and ``@index`` ``secondary_indexes=[index(...)]``
with Amplify's default index names and query fields; a composite sort key (more than one field)
has no modelauth equivalent. ``@hasMany``/``@hasOne``/``@belongsTo`` become ``has_many``/``has_one``/
``belongs_to`` fields whose ``references`` are the fields holding the reference (Gen 1's implicit
ones, ``postCommentsId``, added as Amplify names them), ``@manyToMany`` a join model as Amplify
makes it; with a modelauth that has no relationships yet they are listed instead
(:func:`module_text` writes them regardless).

What has no equivalent (``@searchable``, ``@function`` and ``@http`` resolvers, ``@predictions``,
composite sort keys, Gen 1's ``@hasOne`` keeping its reference on the parent, subscription
arguments) is listed in the module's header comment and on stderr, never dropped silently. Rules Amplify
rejects are refused with Amplify's message, and any problem is one :class:`AmplifyImportError`
naming the file and line.

Laptop side only (graphql-core): the Lambda runtime never imports this module.

Example::

    >>> result = import_gen1('type Todo @model @auth(rules: [{allow: owner}]) { content: String }')
    >>> print(result.source.split("TODO = ")[1].split("SCHEMA")[0].strip())
    Model(
        "Todo",
        fields=[Field("content")],
        rules=[allow.owner()],
    )
    >>> result.schema.model("Todo").rules[0].owner_field
    'owner'
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from graphql import GraphQLError, parse
from graphql.language import (
    ArgumentNode,
    BooleanValueNode,
    DefinitionNode,
    DirectiveNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    FieldDefinitionNode,
    FloatValueNode,
    InputObjectTypeDefinitionNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    Node,
    NonNullTypeNode,
    NullValueNode,
    ObjectTypeDefinitionNode,
    ObjectValueNode,
    StringValueNode,
    TypeNode,
    ValueNode,
)

from modelauth import rules as rules_module
from modelauth.rules import DEFAULT_OWNER_CLAIM, Rule, Schema, SchemaError, allow
from modelauth.scalars import SCALAR_TYPES

__all__ = ["AmplifyImportError", "Imported", "import_gen1", "import_gen2", "GEN2_TOOL"]

#: this modelauth has relationship fields (has_many/has_one/belongs_to): import them; else list them
_LIBRARY_RELATIONS = all(hasattr(rules_module, n) for n in ("has_many", "has_one", "belongs_to"))

#: the node package that runs Amplify's @aws-amplify/data-schema (``make amplify-gen2``)
GEN2_TOOL = Path(__file__).resolve().parents[3] / "tools" / "amplify_gen2"


class AmplifyImportError(ValueError):
    """The schema cannot be imported: ``<file>:<line>: <why>`` (the CLI prints it, exit 2)."""


# directives with no modelauth equivalent: imported without them, listed (header and stderr)
_UNSUPPORTED = {
    "searchable": "@searchable (OpenSearch) has no modelauth equivalent",
    "function": "@function (Lambda resolver) has no modelauth equivalent: use a custom operation",
    "http": "@http has no modelauth equivalent",
    "predictions": "@predictions has no modelauth equivalent",
    "connection": "@connection (transformer v1): use @hasMany/@belongsTo (field left out)",
    "key": "@key (transformer v1): use @primaryKey/@index (dropped)",
    "mapsTo": "@mapsTo: table renames are not in modelauth (dropped)",
    "refersTo": "@refersTo: table renames are not in modelauth (dropped)",
    "versioned": "@versioned (transformer v1) is not in modelauth (dropped)",
    "sql": "@sql has no modelauth equivalent",
    "generation": "@generation (AI) has no modelauth equivalent",
    "conversation": "@conversation (AI) has no modelauth equivalent",
}
# AppSync's own auth-mode directives: modelauth derives them from the rules
_APPSYNC = {"aws_api_key", "aws_iam", "aws_cognito_user_pools", "aws_oidc", "aws_lambda"}
#: relationship directives (transformer v2) imported as has_many/has_one/belongs_to
_RELATIONS = {"hasMany", "hasOne", "belongsTo", "manyToMany"}
_KNOWN = {
    "model",
    "auth",
    "default",
    "primaryKey",
    "index",
    "aws_subscribe",
    *_RELATIONS,
    *_UNSUPPORTED,
    *_APPSYNC,
}
_RELATIONAL = {*_RELATIONS, "connection"}
_IMPLICIT = {"id", "createdAt", "updatedAt", "_version", "_deleted", "_lastChangedAt"}
_TIMESTAMPS = {"createdAt": "createdAt", "updatedAt": "updatedAt"}  # @model(timestamps:)'s default
_ROOT_TYPES = {"Query", "Mutation", "Subscription"}
_RULE_ARGUMENTS = {
    "allow",
    "provider",
    "operations",
    "ownerField",
    "identityClaim",
    "groupClaim",
    "groups",
    "groupsField",
}
_OPERATIONS = {"create", "update", "delete", "read", "get", "list", "sync", "listen", "search"}
_DEFAULT_PROVIDER = {
    "public": "apiKey",
    "private": "userPools",
    "owner": "userPools",
    "owners": "userPools",
    "groups": "userPools",
    "custom": "function",
}
#: ``--default-auth-mode``: the rule a model without ``@auth`` gets (Amplify: the API's default mode)
DEFAULT_MODE_RULES = {
    "apiKey": "allow.public_api_key()",
    "userPools": "allow.authenticated()",
    "oidc": 'allow.authenticated("oidc")',
    "iam": 'allow.authenticated("identityPool")',
    "identityPool": 'allow.authenticated("identityPool")',
    "lambda": "allow.custom()",
}
# Gen 2's authorizationModes.defaultAuthorizationMode names
_GEN2_MODES = {
    "apiKey": "apiKey",
    "userPool": "userPools",
    "oidc": "oidc",
    "iam": "iam",
    "identityPool": "identityPool",
    "lambda": "lambda",
}


@dataclass(frozen=True)
class RawRule:
    """An ``@auth`` rule as the SDL spells it (Amplify's defaults filled in), for ``--check``."""

    allow: str
    provider: str
    operations: tuple[str, ...] | None
    owner_field: str | None = None
    multi: bool = False
    identity_claim: str | None = None
    groups: tuple[str, ...] = ()
    groups_field: str | None = None
    group_claim: str | None = None


@dataclass
class ImportedModel:
    """One ``@model`` as imported: its Python name and the SDL rules it came from."""

    name: str
    variable: str
    rules: list[RawRule]
    field_rules: dict[str, list[RawRule]]
    disabled: set[str] = field(default_factory=set)
    subscriptions: str = "on"


@dataclass
class Imported:
    """The result of an import: the module's text, what was left out, and the schema it builds;
    ``handlers``: the custom operations imported whose handler the user must write."""

    source: str
    unsupported: list[str]
    schema: Schema
    models: list[ImportedModel]
    handlers: list[str] = field(default_factory=list)


@dataclass
class _Context:
    file: str
    enums: dict[str, list[str]]
    objects: dict[str, ObjectTypeDefinitionNode]
    models: set[str]
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    #: import relationships (this modelauth has has_many/has_one/belongs_to)
    relations: bool = True

    def line(self, node: Node | None) -> int:
        loc = node.loc if node is not None else None
        return loc.source.get_location(loc.start).line if loc is not None and loc.source else 0

    def error(self, node: Node | None, message: str) -> AmplifyImportError:
        return AmplifyImportError(f"{self.file}:{self.line(node)}: {message}")

    def note(self, node: Node | None, what: str) -> None:
        self.unsupported.append(f"{self.file}:{self.line(node)}: {what}")


def import_gen1(text: str, *, file: str = "schema.graphql", default_auth_mode: str = "apiKey") -> Imported:
    """Import an Amplify Gen 1 ``schema.graphql``: the module text and the schema it builds.

    ``default_auth_mode`` is the API's default authorization mode, which Amplify applies to a
    model without ``@auth`` (one of :data:`DEFAULT_MODE_RULES`).

    >>> import_gen1("type T @model { a: Int }", file="s.graphql").schema.model("T").rules[0].describe()
    'public via apiKey'
    >>> import_gen1("type T @model @auth(rules: [{allow: owner, provider: apiKey}]) { a: Int }")
    Traceback (most recent call last):
    ...
    modelauth.local.amplify_import.AmplifyImportError: schema.graphql:1: @auth directive with 'owner' \
strategy only supports 'userPools' (default) and 'oidc' providers, but found 'apiKey' assigned.
    """
    ctx, order, global_rules = _parse(text, file, default_auth_mode, relations=_LIBRARY_RELATIONS)
    return _finish(ctx, _build(ctx, order, global_rules, default_auth_mode))


def module_text(text: str, *, file: str = "schema.graphql", default_auth_mode: str = "apiKey") -> str:
    """The module :func:`import_gen1` writes, relationships included, without building it (for a
    modelauth whose relationships are not there yet; no refused operation is left out).

    >>> 'has_many("comments", "Comment", references="postCommentsId")' in module_text(
    ...     "type Post @model { comments: [Comment] @hasMany }  type Comment @model { body: String }")
    True
    """
    ctx, order, global_rules = _parse(text, file, default_auth_mode, relations=True)
    parts = _build(ctx, order, global_rules, default_auth_mode)
    return _module(ctx, parts.writer, parts.model_vars, parts.authorization, parts.operations)


def _parse(
    text: str, file: str, default_auth_mode: str, *, relations: bool
) -> tuple[_Context, list[DefinitionNode], list[str] | None]:
    if default_auth_mode not in DEFAULT_MODE_RULES:
        raise AmplifyImportError(
            f"unknown default auth mode {default_auth_mode!r} (use {', '.join(DEFAULT_MODE_RULES)})"
        )
    try:
        document = parse(text)
    except GraphQLError as exc:
        line = exc.locations[0].line if exc.locations else 0
        raise AmplifyImportError(f"{file}:{line}: {exc.message}") from None
    objects: dict[str, ObjectTypeDefinitionNode] = {}
    enums: dict[str, list[str]] = {}
    order: list[DefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            objects[definition.name.value] = definition
        elif isinstance(definition, EnumTypeDefinitionNode):
            enums[definition.name.value] = [v.name.value for v in definition.values or ()]
        order.append(definition)
    models = {name for name, node in objects.items() if _directive(node, "model") is not None}
    ctx = _Context(file, enums, objects, models, relations=relations)
    global_rules: list[str] | None = None
    for definition in order:
        if isinstance(definition, InputObjectTypeDefinitionNode) and definition.name.value == "AMPLIFY":
            global_rules = _global_rules(ctx, definition)
        elif not isinstance(definition, (ObjectTypeDefinitionNode, EnumTypeDefinitionNode)):
            kind = type(definition).__name__.removesuffix("Node")
            ctx.note(
                definition, f"{kind} {getattr(getattr(definition, 'name', None), 'value', '')}: not imported"
            )
        for directive in _directives_of(definition):
            if directive.name.value not in _KNOWN:
                raise ctx.error(directive, f"unknown directive @{directive.name.value}")
    return ctx, order, global_rules


def _directives_of(node: Node) -> Iterable[DirectiveNode]:
    yield from getattr(node, "directives", None) or ()
    for f in getattr(node, "fields", None) or ():
        yield from f.directives or ()


def _directive(node: Node, name: str) -> DirectiveNode | None:
    return next((d for d in getattr(node, "directives", None) or () if d.name.value == name), None)


def _value(node: ValueNode) -> Any:
    """A GraphQL literal as Python (enum values as their names)."""
    if isinstance(node, (StringValueNode, EnumValueNode)):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, ListValueNode):
        return [_value(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _value(f.value) for f in node.fields}
    raise ValueError(f"unsupported value {type(node).__name__}")


def _arguments(directive: DirectiveNode) -> dict[str, tuple[Any, ArgumentNode]]:
    return {a.name.value: (_value(a.value), a) for a in directive.arguments or ()}


def _global_rules(ctx: _Context, node: InputObjectTypeDefinitionNode) -> list[str]:
    for f in node.fields or ():
        if f.name.value == "globalAuthRule" and f.default_value is not None:
            rule = _value(f.default_value)
            _, code = _rule(ctx, f, rule, fields={}, field_level=False)
            return [code]
    raise ctx.error(node, "input AMPLIFY needs globalAuthRule: AuthRule = { allow: ... }")


def _check_amplify(ctx: _Context, node: Node, rule: Mapping[str, Any]) -> None:
    """Amplify's own rule checks, with its messages (amplify-graphql-auth-transformer validations.ts)."""
    strategy, provider = rule.get("allow"), rule.get("provider")
    allowed = {
        "groups": ("userPools", "oidc"),
        "owner": ("userPools", "oidc"),
        "owners": ("userPools", "oidc"),
        "public": ("apiKey", "iam", "identityPool"),
        "private": ("userPools", "iam", "oidc", "identityPool"),
        "custom": ("function",),
    }
    if strategy not in allowed:
        raise ctx.error(node, f"@auth rule: unknown strategy allow: {strategy}")
    if provider not in allowed[strategy]:
        texts = {
            "groups": "@auth directive with 'groups' strategy only supports 'userPools' and 'oidc' providers",
            "owner": "@auth directive with 'owner' strategy only supports 'userPools' (default) and 'oidc' "
            "providers",
            "public": "@auth directive with 'public' strategy only supports 'apiKey' (default) and 'iam' "
            "providers",
            "private": "@auth directive with 'private' strategy only supports 'userPools' (default) and "
            "'iam' providers",
            "custom": "@auth directive with 'custom' strategy only supports 'function' (default) provider",
        }
        text = texts["owner" if strategy == "owners" else str(strategy)]
        raise ctx.error(node, f"{text}, but found '{provider}' assigned.")
    if strategy == "groups" and not rule.get("groups") and not rule.get("groupsField"):
        raise ctx.error(
            node, "@auth directive with 'groups' should have a defined groups list or a groupsField."
        )
    if strategy == "groups" and rule.get("identityClaim"):
        raise ctx.error(node, "@auth identityClaim can only be used for 'allow: owner'")
    if strategy in ("owner", "owners") and rule.get("groupClaim"):
        raise ctx.error(node, "@auth groupClaim can only be used 'allow: groups'")
    if rule.get("groupsField") and rule.get("groups"):
        raise ctx.error(node, "This rule has groupsField and groups, please use one or the other")
    if strategy == "groups" and rule.get("groups") is not None and len(rule["groups"]) < 1:
        raise ctx.error(node, "@auth rules using groups cannot have an empty list")


def _rule(
    ctx: _Context, node: Node, rule: Any, *, fields: Mapping[str, bool], field_level: bool
) -> tuple[RawRule, str]:
    """One ``@auth`` rule: the SDL's rule with defaults, and its ``allow`` DSL code (checked by
    building it). ``fields``: the model's declared fields, name → is a list."""
    if not isinstance(rule, dict):
        raise ctx.error(node, "@auth rules must be objects like {allow: owner}")
    unknown = sorted(set(rule) - _RULE_ARGUMENTS)
    if unknown:
        raise ctx.error(
            node,
            f"@auth rule: unknown argument {unknown[0]} (queries/mutations are transformer v1: "
            "use operations)",
        )
    strategy = rule.get("allow")
    provider = rule.get("provider") or _DEFAULT_PROVIDER.get(str(strategy), "")
    rule = {**rule, "provider": provider}
    _check_amplify(ctx, node, rule)
    operations = rule.get("operations")
    if operations is not None:
        bad = [op for op in operations if op not in _OPERATIONS]
        if bad:
            raise ctx.error(node, f"@auth rule: unknown operation {bad[0]}")
    args = "" if provider in ("userPools", "apiKey", "function") else f'"{_provider_name(provider)}"'
    raw: RawRule
    if strategy == "public":
        code = "allow.public_api_key()" if provider == "apiKey" else "allow.guest()"
        raw = RawRule("public", provider, _ops(operations))
    elif strategy == "private":
        code = f"allow.authenticated({args})"
        raw = RawRule("private", provider, _ops(operations))
    elif strategy in ("owner", "owners"):
        name = rule.get("ownerField") or "owner"
        multi = fields.get(name, strategy == "owners")
        claim = rule.get("identityClaim")
        if name == "owner" and not multi:
            code = f"allow.owner({args})"
        else:
            builder = "owners_defined_in" if multi else "owner_defined_in"
            code = f"allow.{builder}({_join(json.dumps(name), args)})"
        if claim and claim != DEFAULT_OWNER_CLAIM:
            code += f".identity_claim({json.dumps(claim)})"
        raw = RawRule(
            "owner", provider, _ops(operations), owner_field=name, multi=multi, identity_claim=claim
        )
    elif strategy == "groups":
        claim = rule.get("groupClaim")
        if rule.get("groups"):
            groups = tuple(rule["groups"])
            listed = json.dumps(groups[0]) if len(groups) == 1 else json.dumps(list(groups))
            code = f"allow.{'group' if len(groups) == 1 else 'groups'}({_join(listed, args)})"
            raw = RawRule("groups", provider, _ops(operations), groups=groups, group_claim=claim)
        else:
            name = rule["groupsField"]
            multi = fields.get(name, True)
            builder = "groups_defined_in" if multi else "group_defined_in"
            code = f"allow.{builder}({_join(json.dumps(name), args)})"
            raw = RawRule(
                "groups", provider, _ops(operations), groups_field=name, multi=multi, group_claim=claim
            )
        if claim and claim != "cognito:groups":
            code += f".with_claim_in({json.dumps(claim)})"
    else:
        code = "allow.custom()"
        raw = RawRule("custom", provider, _ops(operations))
    if operations is not None:
        code += f".to({json.dumps(list(operations))})"
    try:
        built = eval(code, {"allow": allow})  # noqa: S307 - our own generated code, names json-quoted
    except SchemaError as exc:
        raise ctx.error(node, str(exc).split("\n")[0]) from None
    assert isinstance(built, Rule)
    if field_level and operations is not None:
        bad = [op for op in operations if op not in ("create", "update", "delete", "read")]
        if bad:
            raise ctx.error(node, f"'{bad[0]}' operation is not allowed at the field level.")
    return raw, code


def _provider_name(provider: str) -> str:
    return "identityPool" if provider == "iam" else provider


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _ops(operations: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if operations is None else tuple(operations)


def _auth_rules(
    ctx: _Context, node: Node, fields: Mapping[str, bool], *, field_level: bool
) -> tuple[list[RawRule], list[str]] | None:
    directive = _directive(node, "auth")
    if directive is None:
        return None
    args = _arguments(directive)
    if "rules" not in args:
        raise ctx.error(directive, "@auth needs rules: [...]")
    rules = args["rules"][0]
    if not isinstance(rules, list) or not rules:
        raise ctx.error(directive, "@auth does not have any auth rules.")
    raws, codes = [], []
    for rule in rules:
        raw, code = _rule(ctx, directive, rule, fields=fields, field_level=field_level)
        raws.append(raw)
        codes.append(code)
    return raws, codes


@dataclass
class _FieldType:
    name: str
    required: bool
    is_list: bool
    items_required: bool


def _field_type(ctx: _Context, node: TypeNode) -> _FieldType | None:
    required = isinstance(node, NonNullTypeNode)
    inner = node.type if isinstance(node, NonNullTypeNode) else node
    if isinstance(inner, ListTypeNode):
        item = inner.type
        items_required = isinstance(item, NonNullTypeNode)
        item = item.type if isinstance(item, NonNullTypeNode) else item
        if not isinstance(item, NamedTypeNode):
            return None
        return _FieldType(item.name.value, required, True, items_required)
    assert isinstance(inner, NamedTypeNode)
    return _FieldType(inner.name.value, required, False, False)


def _constant(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _plural(name: str) -> str:
    """Amplify's list name (the ``plural`` npm package, regular English forms only)."""
    if re.search(r"[^aeiou]y$", name):
        return name[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", name):
        return name + "es"
    return name + "s"


def _default(ctx: _Context, node: FieldDefinitionNode, ftype: _FieldType) -> str | None:
    directive = _directive(node, "default")
    if directive is None:
        return None
    value = _arguments(directive).get("value", (None, None))[0]
    if not isinstance(value, str):
        raise ctx.error(directive, '@default needs value: "..."')
    if ftype.name in ("Int", "AWSTimestamp"):
        try:
            return str(int(value))
        except ValueError:
            raise ctx.error(directive, f'Default value "{value}" is not a valid {ftype.name}.') from None
    if ftype.name == "Float":
        try:
            return repr(float(value))
        except ValueError:
            raise ctx.error(directive, f'Default value "{value}" is not a valid Float.') from None
    if ftype.name == "Boolean":
        if value not in ("true", "false"):
            raise ctx.error(directive, f'Default value "{value}" is not a valid Boolean.')
        return "True" if value == "true" else "False"
    return json.dumps(value)


class _Writer:
    """The module's Python text, one definition at a time."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.blocks: list[str] = []
        self.names: list[str] = []
        self.defined: set[str] = set()
        self.relations: _Relations | None = None

    def type_ref(self, name: str) -> str:
        if name in SCALAR_TYPES:
            return json.dumps(name)
        return _constant(name)

    def field(self, ftype: _FieldType, name: str, extra: Sequence[str] = ()) -> str:
        args = [json.dumps(name)]
        if ftype.name != "String":
            args.append(self.type_ref(ftype.name))
        if ftype.required:
            args.append("required=True")
        if ftype.is_list:
            args.append("is_list=True")
        if ftype.items_required:
            args.append("items_required=True")
        return f"Field({', '.join([*args, *extra])})"

    def fields_of(
        self, node: ObjectTypeDefinitionNode, *, model: bool, implicit: Collection[str] = _IMPLICIT
    ) -> tuple[list[str], dict[str, list[RawRule]]]:
        ctx, out, field_rules = self.ctx, [], {}
        declared = {f.name.value: isinstance(_strip(f.type), ListTypeNode) for f in node.fields or ()}
        for f in node.fields or ():
            name = f"{node.name.value}.{f.name.value}"
            for d in f.directives or ():
                if d.name.value in _UNSUPPORTED:
                    ctx.note(d, f"{name}: {_UNSUPPORTED[d.name.value]}")
                elif not model and d.name.value in ("index", "primaryKey", *_RELATIONS):
                    ctx.note(d, f"{name}: @{d.name.value} on a non-model type (dropped)")
            if model and f.name.value in implicit:  # the fields modelauth adds (timestamps too)
                continue
            ftype = _field_type(ctx, f.type)
            if ftype is None:
                ctx.note(f, f"{name}: nested lists are not supported (field left out)")
                continue
            if ftype.name in ctx.models or any(_directive(f, r) for r in _RELATIONAL):
                code = self.relations.fields.get((node.name.value, f.name.value)) if self.relations else None
                if code is not None and model:
                    out.append(code)
                    if _directive(f, "auth") is not None:
                        ctx.note(
                            _directive(f, "auth"),
                            f"{name}: @auth on a relationship field: modelauth answers it with "
                            f"{ftype.name}'s own rules (field rules not imported)",
                        )
                elif not any(_directive(f, r) for r in _RELATIONAL):
                    ctx.note(
                        f, f"{name}: a field of model type {ftype.name} is a relationship (field left out)"
                    )
                elif self.relations is None and (
                    kind := next((r for r in _RELATIONS if _directive(f, r)), None)
                ):
                    ctx.note(
                        f,
                        f"{name}: @{kind}: relationships need a modelauth with has_many/has_one/belongs_to "
                        "(field left out)",
                    )
                continue
            if (
                ftype.name not in SCALAR_TYPES
                and ftype.name not in ctx.enums
                and ftype.name not in ctx.objects
            ):
                raise ctx.error(f.type, f"{name}: unknown type {ftype.name}")
            if f.arguments:
                ctx.note(f, f"{name}: field arguments are not supported (field kept without them)")
            self.define(ftype.name)
            extra = []
            default = _default(ctx, f, ftype)
            if default is not None:
                extra.append(f"default={default}")
            auth = _auth_rules(ctx, f, declared, field_level=True)
            if auth is not None:
                if not model:
                    ctx.note(f, f"{name}: @auth on a non-model field (fields of a custom type take no rules)")
                else:
                    field_rules[f.name.value] = auth[0]
                    extra.append(f"rules=[{', '.join(auth[1])}]")
            out.append(self.field(ftype, f.name.value, extra))
        implicit = self.relations.implicit.get(node.name.value, {}) if self.relations and model else {}
        for ref, scalar in implicit.items():
            if ref not in declared:
                out.append(self.field(_FieldType(scalar, False, False, False), ref))
        out += self.relations.added.get(node.name.value, []) if self.relations and model else []
        return out, field_rules

    def define(self, name: str) -> None:
        """Emit the enum or custom type ``name`` (and what it uses) once, before its first use."""
        if name in self.defined or name in SCALAR_TYPES:
            return
        self.defined.add(name)
        const = _constant(name)
        if name in self.ctx.enums:
            values = json.dumps(self.ctx.enums[name])
            self.blocks.append(f"{const} = Enum({json.dumps(name)}, {values})")
        else:
            node = self.ctx.objects[name]
            if _directive(node, "auth"):
                self.ctx.note(node, f"{name}: @auth on a non-model type (its rules are its model fields')")
            fields, _ = self.fields_of(node, model=False)
            self.blocks.append(
                f"{const} = CustomType(\n    {json.dumps(name)},\n    fields=[{_items(fields, 8)}],\n)"
            )
        self.names.append(const)


def _strip(node: TypeNode) -> TypeNode:
    return node.type if isinstance(node, NonNullTypeNode) else node


def _items(items: Sequence[str], indent: int) -> str:
    """A list's items, on one line when short, else one per line (as ruff formats them)."""
    one = ", ".join(items)
    if len(one) + indent + 12 <= 100 and not any("\n" in i for i in items):
        return one
    pad = " " * indent
    return "\n" + "".join(f"{pad}{i},\n" for i in items) + " " * (indent - 4)


def _model_options(
    ctx: _Context, node: ObjectTypeDefinitionNode
) -> tuple[set[str], str, dict[str, str | None]]:
    """``@model(queries:, mutations:, subscriptions:, timestamps:)`` → disabled operations, the
    level and the timestamps' names (None: turned off)."""
    directive = _directive(node, "model")
    assert directive is not None
    disabled: set[str] = set()
    level = "on"
    stamps: dict[str, str | None] = dict(_TIMESTAMPS)
    name = node.name.value
    for key, (value, arg) in _arguments(directive).items():
        if key in ("queries", "mutations"):
            if value is None:
                disabled.add(key)
                continue
            defaults = {
                "get": f"get{name}",
                "list": f"list{_plural(name)}",
                "create": f"create{name}",
                "update": f"update{name}",
                "delete": f"delete{name}",
            }
            for op, root in value.items():
                if root is None:
                    disabled.add(op)
                elif op == "sync":
                    ctx.note(arg, f"{name}: @model({key}: {{sync: ...}}): DataStore sync is not in modelauth")
                elif root != defaults.get(op):
                    ctx.note(
                        arg, f"{name}: @model {op} renamed to {root}: modelauth keeps Amplify's default name"
                    )
        elif key == "subscriptions":
            if value is None:
                level = "off"
                continue
            for sub, setting in value.items():
                if sub == "level":
                    level = str(setting)
                    if level not in ("on", "off", "public"):
                        raise ctx.error(
                            arg, f"{name}: subscriptions level must be on, off or public, not {level}"
                        )
                elif setting is None or setting == []:
                    disabled.add(sub)
                else:
                    ctx.note(
                        arg, f"{name}: @model subscriptions {sub} renamed: modelauth keeps Amplify's default"
                    )
        elif key == "timestamps":
            stamps = _timestamps_argument(ctx, arg, name, value)
        else:
            raise ctx.error(arg, f"{name}: unknown @model argument {key}")
    return disabled, level, stamps


def _timestamps_argument(ctx: _Context, arg: Node, name: str, value: Any) -> dict[str, str | None]:
    """``timestamps: null`` → both None; ``{createdAt: "createdOn"}`` → ``createdOn`` and
    Amplify's ``updatedAt`` (Model checks the names)."""
    if value is None:
        return dict.fromkeys(_TIMESTAMPS)
    if not isinstance(value, dict) or not set(value) <= set(_TIMESTAMPS):
        raise ctx.error(arg, f"{name}: @model timestamps takes createdAt and updatedAt (a name or null)")
    if any(v is not None and not isinstance(v, str) for v in value.values()):
        raise ctx.error(arg, f"{name}: @model timestamps: a timestamp's name is a string or null")
    return {**_TIMESTAMPS, **value}


def _timestamps_code(stamps: Mapping[str, str | None]) -> str | None:
    """The ``timestamps=`` argument of a model's timestamps, None for Amplify's own."""
    if stamps == _TIMESTAMPS:
        return None
    if not any(stamps.values()):
        return "timestamps=None"
    pairs = (f"{json.dumps(k)}: {'None' if v is None else json.dumps(v)}" for k, v in stamps.items())
    return "timestamps={" + ", ".join(pairs) + "}"


#: AppSync's auth-mode directives on a custom field → the ``allow`` rule of that mode
_APPSYNC_RULES = {
    "aws_api_key": ["allow.public_api_key()"],
    "aws_cognito_user_pools": ["allow.authenticated()"],
    # AWS_IAM: any signed identity-pool caller, signed in or guest
    "aws_iam": ['allow.authenticated("identityPool")', "allow.guest()"],
    "aws_oidc": ['allow.authenticated("oidc")'],
    "aws_lambda": ["allow.custom()"],
}


def _operation_rules(ctx: _Context, f: FieldDefinitionNode, where: str, default_mode: str) -> list[str]:
    """A custom field's rules: its ``@auth`` (Gen 2's transform, Gen 1 v2) and AppSync's
    ``@aws_*`` directives; none: the API's default mode, as AppSync applies it."""
    codes: list[str] = []
    directive = _directive(f, "auth")
    for rule in (_arguments(directive).get("rules", ([], None))[0] or []) if directive else []:
        if isinstance(rule, dict) and rule.get("operations"):
            ctx.note(
                directive, f"{where}: @auth rule {rule.get('allow')} with operations (rule not imported)"
            )
            continue
        if isinstance(rule, dict) and (
            rule.get("ownerField") or rule.get("groupsField") or rule.get("allow") in ("owner", "owners")
        ):
            ctx.note(
                directive,
                f"{where}: @auth rule {rule.get('allow')} needs an item (rule not imported: add it "
                "with .item('Model', 'id') by hand)",
            )
            continue
        codes.append(_rule(ctx, directive or f, rule, fields={}, field_level=False)[1])
    for d in f.directives or ():
        name = d.name.value
        if name == "aws_cognito_user_pools" and "cognito_groups" in _arguments(d):
            groups = _arguments(d)["cognito_groups"][0] or []
            codes.append(f"allow.groups({json.dumps(list(groups))})")
        elif name in _APPSYNC_RULES:
            codes += _APPSYNC_RULES[name]
    if directive is None and not any(d.name.value in _APPSYNC for d in f.directives or ()):
        codes.append(DEFAULT_MODE_RULES[default_mode])
        ctx.notes.append(f"{where} has no auth directive: it gets the API's default mode ({default_mode})")
    return list(dict.fromkeys(codes))


def _operation(
    ctx: _Context, writer: _Writer, type_name: str, f: FieldDefinitionNode, default_mode: str
) -> tuple[str, str, str] | None:
    """A custom ``Query``/``Mutation`` field as ``query(...)``/``mutation(...)`` code (kind,
    ``Query.name``, code),
    or None with the reason noted. The resolver (``@function``, ``@http``) is not imported: the
    operation is listed in :attr:`Imported.handlers`."""
    where = f"{type_name}.{f.name.value}"
    for d in f.directives or ():
        if d.name.value in ("function", "http"):
            ctx.note(
                d, f"{where}: its @{d.name.value} resolver has no modelauth equivalent (write the handler)"
            )
        elif d.name.value in _UNSUPPORTED:
            ctx.note(d, f"{where}: {_UNSUPPORTED[d.name.value]}")
    args: list[str] = []
    for arg in f.arguments or ():
        ftype = _field_type(ctx, arg.type)
        if ftype is None or not (ftype.name in SCALAR_TYPES or ftype.name in ctx.enums):
            shown = ftype.name if ftype else "a nested list"
            ctx.note(
                arg,
                f"{where}: argument {arg.name.value} of type {shown}: modelauth operations take "
                "scalar and enum arguments (operation not imported)",
            )
            return None
        writer.define(ftype.name)
        args.append(f"{json.dumps(arg.name.value)}: {writer.field(ftype, arg.name.value)}")
    ret = _field_type(ctx, f.type)
    if ret is None or not (ret.name in SCALAR_TYPES or ret.name in ctx.models):
        shown = ret.name if ret else "a nested list"
        ctx.note(
            f,
            f"{where}: returns {shown}: modelauth operations return a scalar or a model "
            "(operation not imported)",
        )
        return None
    rendered = ret.name + ("!" if ret.items_required else "")
    rendered = (f"[{rendered}]" if ret.is_list else rendered) + ("!" if ret.required else "")
    rules = _operation_rules(ctx, f, where, default_mode)
    if not rules:
        ctx.note(f, f"{where}: no rule could be imported (operation not imported)")
        return None
    kind = type_name.lower()
    code = f"{kind}({json.dumps(f.name.value)})"
    if args:
        code += f".arguments({{{', '.join(args)}}})"
    code += f".returns({json.dumps(rendered)}).authorization([{', '.join(rules)}])"
    ctx.handlers.append(f'{where}: register @app.operation("{f.name.value}") in functions/graphql/app.py')
    return kind, where, f"# needs a handler: @app.operation({json.dumps(f.name.value)})\n    {code}"


# -- keys, indexes and relationships --------------------------------------------------------------


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _camel(*parts: str) -> str:
    """Amplify's ``toCamelCase([...])`` of a type, a field and a key name: ``postCommentsId``."""
    return parts[0][:1].lower() + parts[0][1:] + "".join(_upper_first(p) for p in parts[1:])


def _key_arguments(
    ctx: _Context, directive: DirectiveNode, allowed: set[str], where: str, model: ObjectTypeDefinitionNode
) -> tuple[dict[str, Any], list[str]]:
    """A key directive's arguments and its ``sortKeyFields``, each checked to be a field of the model."""
    args = {k: v for k, (v, _) in _arguments(directive).items()}
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ctx.error(directive, f"@{directive.name.value}: unknown argument {unknown[0]}")
    sort = args.get("sortKeyFields") or []
    if isinstance(sort, str):
        sort = [sort]
    declared = {f.name.value for f in model.fields or ()}  # as Amplify checks: the declared fields
    for name in sort:
        if name not in declared:
            raise ctx.error(
                directive,
                f"Can't find field '{name}' in {model.name.value}, but it was specified in {where}.",
            )
    return args, list(sort)


def _flat(rules: Mapping[str, list[RawRule]]) -> list[RawRule]:
    return [r for listed in rules.values() for r in listed]


def _keys(ctx: _Context, node: ObjectTypeDefinitionNode, owner_fields: Iterable[str]) -> list[str]:
    """A model's ``@primaryKey`` and ``@index`` fields as ``identifier=`` and ``secondary_indexes=``;
    a composite sort key (more than one field) has no modelauth equivalent: listed, not imported.
    An index named as modelauth names the index of an owner field (``byOwner``) keeps modelauth's
    default name instead, listed."""
    owner_indexes = {"by" + _upper_first(n) for n in owner_fields}
    model = node.name.value
    out: list[str] = []
    indexes: list[str] = []
    primary = [(f, d) for f in node.fields or () for d in f.directives or () if d.name.value == "primaryKey"]
    if len(primary) > 1:
        raise ctx.error(primary[1][1], f"You may only supply one primary key on type '{model}'.")
    for f, d in primary:
        _, sort = _key_arguments(ctx, d, {"sortKeyFields"}, "the primary key", node)
        keys = [f.name.value, *sort]
        implicit = [k for k in keys if k in _IMPLICIT]
        if len(sort) > 1:
            ctx.note(
                d,
                f"{model}: @primaryKey sort key {sort}: modelauth takes one sort key field (composite sort "
                "keys are not supported; key not imported, the model is keyed by id)",
            )
        elif implicit and keys != ["id"]:
            ctx.note(
                d,
                f"{model}: @primaryKey on {keys}: modelauth's identifier takes declared fields, not the "
                f"implicit {implicit[0]} (key not imported, the model is keyed by id)",
            )
        elif keys != ["id"]:
            out.append(f"identifier={json.dumps(keys)}")
    for f in node.fields or ():
        for d in f.directives or ():
            if d.name.value != "index":
                continue
            given = _arguments(d).get("name", (None, None))[0]
            sort_given: str | list[str] = _arguments(d).get("sortKeyFields", ([], None))[0] or []
            keys = [f.name.value, *([sort_given] if isinstance(sort_given, str) else sort_given)]
            # Amplify's default index name and query field (generateKeyAndQueryNameForConfig)
            amplify_name = _camel(_plural(model)) + "By" + "And".join(_upper_first(k) for k in keys)
            args, sort = _key_arguments(
                ctx, d, {"name", "sortKeyFields", "queryField"}, f"index '{given or amplify_name}'", node
            )
            field_name = f"{model}.{f.name.value}"
            if len(sort) > 1:
                ctx.note(
                    d,
                    f"{field_name}: @index sort key {sort}: modelauth takes one sort key field (composite "
                    "sort keys are not supported; index not imported)",
                )
                continue
            code = f"index({json.dumps(f.name.value)})"
            if sort:
                code += f".sort_keys({json.dumps(sort)})"
            name = args.get("name") or amplify_name
            if name in owner_indexes:
                ctx.note(
                    d,
                    f"{field_name}: @index name {name} is modelauth's index of that owner field: "
                    "the index keeps modelauth's default name (a new GSI for an existing table)",
                )
            elif name != _camel(model) + "sBy" + "And".join(_upper_first(k) for k in keys):
                code += f".name({json.dumps(name)})"
            query = args.get("queryField")
            if query is None and "queryField" in args:
                ctx.note(
                    d,
                    f"{field_name}: @index(queryField: null): Amplify adds no query field, modelauth adds "
                    f"{amplify_name} (reads of {model}, under its rules)",
                )
            if query != f"list{model}By" + "And".join(_upper_first(k) for k in keys):
                code += f".query_field({json.dumps(query or amplify_name)})"
            if len(code) + 9 > 100:  # as ruff splits a long call chain: one call a line
                code = re.sub(r"\.(?=(sort_keys|name|query_field)\()", "\n" + " " * 8 + ".", code)
            indexes.append(code)
    if indexes:
        out.append(f"secondary_indexes=[{_items(indexes, 8)}]")
    return out


@dataclass
class _Relations:
    """The relationships of a schema, planned before the models are written: each relationship
    field's code, the implicit reference fields Amplify adds to a model, the join models of
    ``@manyToMany``."""

    fields: dict[tuple[str, str], str] = field(default_factory=dict)
    implicit: dict[str, dict[str, str]] = field(default_factory=dict)
    joins: dict[str, list[tuple[str, FieldDefinitionNode, str]]] = field(default_factory=dict)
    #: (model, field, kind, related model, references) of every relationship planned
    planned: list[tuple[str, str, str, str, tuple[str, ...]]] = field(default_factory=list)
    #: belongs_to fields added to a child whose parent's has_many/has_one has no counterpart
    added: dict[str, list[str]] = field(default_factory=dict)

    def add(self, model: str, name: str, kind: str, related: str, refs: Sequence[str]) -> None:
        self.fields[(model, name)] = _relation_code(kind, name, related, refs)
        self.planned.append((model, name, kind, related, tuple(refs)))


def _key_of(node: ObjectTypeDefinitionNode) -> list[tuple[str, str]]:
    """A model's key fields and their scalar: ``id`` or its ``@primaryKey`` field and sort keys."""
    types = {f.name.value: (_field_type_name(f.type)) for f in node.fields or ()}
    for f in node.fields or ():
        d = _directive(f, "primaryKey")
        if d is not None:
            sort: list[str] = _arguments(d).get("sortKeyFields", ([], None))[0] or []
            return [(n, types.get(n, "ID")) for n in [f.name.value, *sort]]
    return [("id", "ID")]


def _field_type_name(node: TypeNode) -> str:
    while not isinstance(node, NamedTypeNode):
        node = node.type  # type: ignore[attr-defined]
    return node.name.value


def _relation_code(kind: str, name: str, related: str, refs: Sequence[str]) -> str:
    listed = json.dumps(refs[0]) if len(refs) == 1 else json.dumps(list(refs))
    return f"{kind}({json.dumps(name)}, {json.dumps(related)}, references={listed})"


def _plan_relations(ctx: _Context) -> _Relations:
    """Every relationship field of the models: ``references`` as written (Gen 2, Gen 1 with
    references), Gen 1's implicit reference fields as Amplify names them (``postCommentsId``),
    ``fields:``/``indexName:`` resolved to the fields holding the reference; what cannot map is
    listed."""
    plan = _Relations()
    nodes = {n: node for n, node in ctx.objects.items() if n in ctx.models}  # in the file's order
    for model, node in nodes.items():
        for f in node.fields or ():
            for d in f.directives or ():
                kind = d.name.value
                if kind not in _RELATIONS:
                    continue
                related = _field_type_name(f.type)
                where = f"{model}.{f.name.value}"
                if related not in nodes:
                    raise ctx.error(d, f"{where}: @{kind} needs a @model type, not {related}")
                args = {k: v for k, (v, _) in _arguments(d).items()}
                refs = args.get("references")
                if kind == "manyToMany":
                    name = _upper_first(str(args.get("relationName") or ""))
                    if not name:
                        raise ctx.error(d, f"{where}: @manyToMany needs relationName")
                    plan.joins.setdefault(name, []).append((model, f, related))
                    continue
                if refs is not None:
                    refs = [refs] if isinstance(refs, str) else list(refs)
                    code = {"hasMany": "has_many", "hasOne": "has_one", "belongsTo": "belongs_to"}[kind]
                    _check_references(ctx, d, where, node if kind == "belongsTo" else nodes[related], refs)
                    plan.add(model, f.name.value, code, related, refs)
                elif kind == "hasMany":
                    _plan_has_many(ctx, plan, _Site(d, node, f, nodes[related], args))
                elif kind == "belongsTo":
                    _plan_belongs_to(ctx, plan, _Site(d, node, f, nodes[related], args))
                else:
                    _plan_has_one(ctx, plan, _Site(d, node, f, nodes[related], args))
    for name, sides in list(plan.joins.items()):
        if len(sides) != 2:
            raise ctx.error(
                _directive(sides[0][1], "manyToMany"),
                f"relationNames should have 2 occurrences. '{name}' has '{len(sides)}' occurrences",
            )
        if name in ctx.objects:
            raise ctx.error(
                _directive(sides[0][1], "manyToMany"),
                f"@manyToMany relation name '{name}' already exists as a type in the schema.",
            )
        composite = next((m for m, _, _ in sides if len(_key_of(ctx.objects[m])) > 1), None)
        if composite is not None:
            ctx.note(
                _directive(sides[0][1], "manyToMany"),
                f"@manyToMany {name}: {composite} has a sort key; modelauth's join model references one key "
                "field per side (relationship not imported)",
            )
            plan.joins[name] = []
            continue
        for model, f, _ in sides:
            ref = _camel(model) + "Id"
            plan.add(model, f.name.value, "has_many", name, [ref])
            plan.planned.append((name, _camel(model), "belongs_to", model, (ref,)))  # the join model's
    _add_counterparts(ctx, plan, nodes)
    return plan


def _add_counterparts(ctx: _Context, plan: _Relations, nodes: Mapping[str, ObjectTypeDefinitionNode]) -> None:
    """Gen 1 lets a ``@hasMany`` (or a ``@hasOne``, imported as ``belongs_to``) stand alone;
    modelauth (as Gen 2) wants the other side on the same references: a ``belongs_to`` (or a
    ``has_one``) is added, named after the model it points to, and said so."""
    for model, name, kind, related, refs in list(plan.planned):
        wanted = ("has_many", "has_one") if kind == "belongs_to" else ("belongs_to",)
        if any((m, r, rf) == (related, model, refs) and k in wanted for m, _, k, r, rf in plan.planned):
            continue
        other = "has_one" if kind == "belongs_to" else "belongs_to"
        taken = {f.name.value for f in nodes[related].fields or ()} | {
            n for m, n, *_ in plan.planned if m == related
        }
        field_name = _camel(model) if _camel(model) not in taken else _camel(model, name)
        plan.planned.append((related, field_name, other, model, refs))
        plan.added.setdefault(related, []).append(_relation_code(other, field_name, model, refs))
        ctx.notes.append(
            f"{related}.{field_name}: {other} added, the counterpart of {model}.{name} (Gen 1 needs "
            "none; modelauth, as Gen 2, has both sides)"
        )


class _Site(NamedTuple):
    """A relationship directive where it stands: on field ``f`` of ``node``, to model ``other``."""

    d: DirectiveNode
    node: ObjectTypeDefinitionNode
    f: FieldDefinitionNode
    other: ObjectTypeDefinitionNode
    args: Mapping[str, Any]


def _check_references(
    ctx: _Context, d: DirectiveNode, where: str, holder: ObjectTypeDefinitionNode, refs: Sequence[str]
) -> None:
    """The fields holding a relationship's reference are fields of the model holding it."""
    declared = {f.name.value for f in holder.fields or ()}
    missing = [r for r in refs if r not in declared]
    if missing:
        raise ctx.error(d, f"{where}: reference field '{missing[0]}' is not a field of {holder.name.value}")


def _plan_has_many(ctx: _Context, plan: _Relations, site: _Site) -> None:
    d, node, f, child, args = site
    model, related, where = node.name.value, child.name.value, f"{node.name.value}.{f.name.value}"
    if args.get("indexName"):
        holder = next(
            (
                (c, i)
                for c in child.fields or ()
                for i in c.directives or ()
                if i.name.value == "index" and _arguments(i).get("name", (None, None))[0] == args["indexName"]
            ),
            None,
        )
        if holder is None:
            raise ctx.error(d, f"Index {args['indexName']} does not exist for model {related}")
        sort: list[str] = _arguments(holder[1]).get("sortKeyFields", ([], None))[0] or []
        count = len(args.get("fields") or [None])
        refs = [holder[0].name.value, *sort][:count]
    elif args.get("fields"):
        ctx.note(
            d, f"{where}: @hasMany(fields:) without indexName has no modelauth equivalent (field left out)"
        )
        return
    else:  # Amplify's implicit reference fields on the child: postCommentsId (+ sort keys)
        refs = _add_implicit(plan, related, model, f.name.value, _key_of(node))
    plan.add(model, f.name.value, "has_many", related, refs)


def _implicit_refs(holder_type: str, field_name: str, keys: Sequence[tuple[str, str]]) -> list[str]:
    """Amplify's implicit reference fields (``getConnectionAttributeName``): ``postCommentsId`` and
    one per sort key of the key referenced, ``postCommentsTitle``."""
    return [_camel(holder_type, field_name, "id"), *(_camel(holder_type, field_name, k) for k, _ in keys[1:])]


def _add_implicit(
    plan: _Relations, model: str, holder_type: str, field_name: str, keys: Sequence[tuple[str, str]]
) -> list[str]:
    """Add Amplify's implicit reference fields to ``model`` (typed as the keys they hold)."""
    refs = _implicit_refs(holder_type, field_name, keys)
    added = plan.implicit.setdefault(model, {})
    for ref, (_, scalar) in zip(refs, keys, strict=True):
        added[ref] = scalar
    return refs


def _plan_has_one(ctx: _Context, plan: _Relations, site: _Site) -> None:
    """Gen 1's ``@hasOne`` keeps the reference on its own model (``fields:``, or Amplify's implicit
    ``projectTeamId``): as modelauth (and Gen 2) put it, this model ``belongs_to`` the other."""
    d, node, f, other, args = site
    model, related, where = node.name.value, other.name.value, f"{node.name.value}.{f.name.value}"
    refs = args.get("fields")
    if refs:
        refs = [refs] if isinstance(refs, str) else list(refs)
        _check_references(ctx, d, where, node, refs)
    else:
        refs = _add_implicit(plan, model, model, f.name.value, _key_of(other))
    plan.add(model, f.name.value, "belongs_to", related, refs)
    ctx.notes.append(
        f"{where}: Gen 1 @hasOne keeps its reference ({', '.join(refs)}) on {model}: imported as belongs_to"
    )


def _keep_own_reference(ctx: _Context, plan: _Relations, site: _Site, back: FieldDefinitionNode) -> None:
    """An implicit ``@belongsTo`` answering an implicit ``@hasOne``: Gen 1 gives this side a
    reference of its own (``teamProjectId``); modelauth reads the field through the parent's
    (its ``has_one``, the counterpart of the parent's ``belongs_to``), keeping this one as a field."""
    d, node, f, parent, _ = site
    model, related, where = node.name.value, parent.name.value, f"{node.name.value}.{f.name.value}"
    own = _add_implicit(plan, model, model, f.name.value, _key_of(parent))
    refs = _implicit_refs(related, back.name.value, _key_of(node))
    plan.add(model, f.name.value, "has_one", related, refs)
    ctx.note(
        d,
        f"{where}: Gen 1 reads it through {model}.{own[0]}; modelauth through {related}.{refs[0]} "
        f"(has_one): {own[0]} is kept as a plain field",
    )


def _plan_belongs_to(ctx: _Context, plan: _Relations, site: _Site) -> None:
    d, node, f, parent, args = site
    model, related, where = node.name.value, parent.name.value, f"{node.name.value}.{f.name.value}"
    refs = args.get("fields")
    if not refs:  # implicit: the reference fields of the parent's implicit @hasMany or @hasOne
        back = next(
            (
                (p, h.name.value)
                for p in parent.fields or ()
                for h in p.directives or ()
                if _field_type_name(p.type) == model
                and h.name.value in ("hasMany", "hasOne")
                and not {"references", "indexName"} & set(_arguments(h))
            ),
            None,
        )
        if back is None:
            ctx.note(
                d,
                f"{where}: implicit @belongsTo without an implicit @hasMany or @hasOne on {related}: give "
                "it references: [...] (field left out)",
            )
            return
        if back[1] == "hasOne":  # Gen 1 keeps a reference of its own here: kept, the link is the parent's
            _keep_own_reference(ctx, plan, site, back[0])
            return
        refs = _implicit_refs(related, back[0].name.value, _key_of(parent))
    refs = [refs] if isinstance(refs, str) else list(refs)
    if args.get("fields"):
        _check_references(ctx, d, where, node, refs)
    plan.add(model, f.name.value, "belongs_to", related, refs)


def _join_model(
    ctx: _Context, name: str, sides: Sequence[tuple[str, FieldDefinitionNode, str]]
) -> tuple[str, list[RawRule] | None]:
    """``@manyToMany(relationName: name)``'s join model, as Amplify makes it: a reference field and a
    ``belongs_to`` per side, the rules of both sides' ``@auth``."""
    fields, links, raws, codes = [], [], [], []
    seen = False
    for model, _, _ in sides:
        ref = _camel(model) + "Id"
        scalar = _key_of(ctx.objects[model])[0][1]
        typed = "" if scalar == "String" else f", {json.dumps(scalar)}"
        fields.append(f"Field({json.dumps(ref)}{typed}, required=True)")
        links.append(_relation_code("belongs_to", _camel(model), model, [ref]))
        auth = _auth_rules(ctx, ctx.objects[model], {}, field_level=False)
        if auth is not None:
            seen = True
            raws += auth[0]
            codes += auth[1]
    args = [json.dumps(name), f"fields=[{_items([*fields, *links], 8)}]"]
    if seen:
        args.append(f"rules=[{_items(list(dict.fromkeys(codes)), 8)}]")
    ctx.notes.append(
        f"{name}: the join model of @manyToMany(relationName: {json.dumps(name)}), as Amplify makes it"
    )
    return "Model(\n" + "".join(f"    {a},\n" for a in args) + ")", raws if seen else None


def _mutation_names(models: Sequence[ImportedModel], operations: Sequence[tuple[str, str, str]]) -> set[str]:
    """The mutations a subscription may follow: the models' (not disabled) and the custom ones imported."""
    names = {where.split(".", 1)[1] for kind, where, _ in operations if kind == "mutation"}
    for m in models:
        for op in ("create", "update", "delete"):
            if op not in m.disabled and "mutations" not in m.disabled:
                names.add(f"{op}{m.name}")
    return names


def _subscription(
    ctx: _Context, f: FieldDefinitionNode, mutations: set[str], default_mode: str
) -> tuple[str, str, str] | None:
    """A custom ``Subscription`` field (``@aws_subscribe(mutations: [...])``; Gen 2
    ``a.subscription().for(...)``) as ``subscription(name).for_(...)`` code, or None, noted."""
    where = f"Subscription.{f.name.value}"
    directive = _directive(f, "aws_subscribe")
    follows: list[str] = (_arguments(directive).get("mutations", ([], None))[0] or []) if directive else []
    missing = [m for m in follows if m not in mutations]
    if not follows or missing:
        what = f"follows {missing[0]}, which is not imported" if missing else "follows no mutation"
        ctx.note(directive or f, f"{where}: {what} (subscription not imported)")
        return None
    for d in f.directives or ():
        if d.name.value in _UNSUPPORTED:
            ctx.note(d, f"{where}: {_UNSUPPORTED[d.name.value]}")
    if f.arguments:
        names = ", ".join(a.name.value for a in f.arguments)
        ctx.note(
            f,
            f"{where}: arguments ({names}): modelauth subscriptions take none (imported without them: a "
            "subscriber receives every event its rules allow)",
        )
    rules = _operation_rules(ctx, f, where, default_mode)
    if not rules:
        ctx.note(f, f"{where}: no rule could be imported (subscription not imported)")
        return None
    code = (
        f"subscription({json.dumps(f.name.value)}).for_({', '.join(json.dumps(m) for m in follows)})"
        f".authorization([{', '.join(rules)}])"
    )
    return "subscription", where, code


@dataclass
class _Parts:
    """What the module is written from (before it is built)."""

    writer: _Writer
    models: list[ImportedModel]
    model_vars: list[str]
    authorization: list[str] | None
    operations: list[tuple[str, str, str]]


def _build(ctx: _Context, order: Sequence[Node], global_rules: list[str] | None, default_mode: str) -> _Parts:
    writer = _Writer(ctx)
    listed = list(ctx.unsupported)
    plan = _plan_relations(ctx)  # bad relationships are refused either way
    if not ctx.relations:  # each relationship field is listed as left out instead
        ctx.unsupported = listed
    writer.relations = plan if ctx.relations else None
    models: list[ImportedModel] = []
    model_vars: list[str] = []
    operations: list[tuple[str, str, str]] = []
    subscriptions: list[FieldDefinitionNode] = []
    needs_default = False
    for definition in order:
        if not isinstance(definition, (ObjectTypeDefinitionNode, EnumTypeDefinitionNode)):
            continue
        name = definition.name.value
        if name == "Subscription" and isinstance(definition, ObjectTypeDefinitionNode):
            subscriptions += definition.fields or ()
            continue
        if name in ("Query", "Mutation") and isinstance(definition, ObjectTypeDefinitionNode):
            for f in definition.fields or ():
                op = _operation(ctx, writer, name, f, default_mode)
                if op is not None:
                    operations.append(op)
            continue
        if isinstance(definition, EnumTypeDefinitionNode) or name not in ctx.models:
            if name not in _ROOT_TYPES:
                writer.define(name)
            continue
        for d in definition.directives or ():
            if d.name.value in _UNSUPPORTED:
                ctx.note(d, f"{name}: {_UNSUPPORTED[d.name.value]}")
        declared = {f.name.value: isinstance(_strip(f.type), ListTypeNode) for f in definition.fields or ()}
        auth = _auth_rules(ctx, definition, declared, field_level=False)
        disabled, level, stamps = _model_options(ctx, definition)
        implicit = (_IMPLICIT - set(_TIMESTAMPS)) | {v for v in stamps.values() if v}
        fields, field_rules = writer.fields_of(definition, model=True, implicit=implicit)
        args = [json.dumps(name)]
        if fields:
            args.append(f"fields=[{_items(fields, 8)}]")
        if auth is not None:
            args.append(f"rules=[{_items(auth[1], 8)}]")
        elif global_rules is None:
            needs_default = True
        if _plural(name) != name + "s":
            args.append(f"plural={json.dumps(_plural(name))}")
        if level != "on":
            args.append(f"subscriptions={json.dumps(level)}")
        raw_rules = auth[0] if auth is not None else []
        owners = {r.owner_field for r in [*raw_rules, *_flat(field_rules)] if r.owner_field}
        args += _keys(ctx, definition, owners)
        if (timestamps := _timestamps_code(stamps)) is not None:
            args.append(timestamps)
        text = "Model(\n" + "".join(f"    {a},\n" for a in args) + ")"
        if disabled:
            ordered = [
                k
                for k in (
                    "queries",
                    "mutations",
                    "get",
                    "list",
                    "create",
                    "update",
                    "delete",
                    "onCreate",
                    "onUpdate",
                    "onDelete",
                )
                if k in disabled
            ]
            text += f".disable_operations({json.dumps(ordered)})"
        const = _constant(name)
        writer.blocks.append(f"{const} = {text}")
        writer.names.append(const)
        model_vars.append(const)
        raw_rules = auth[0] if auth is not None else []
        models.append(ImportedModel(name, const, raw_rules, field_rules, disabled, level))
    for join, sides in (writer.relations.joins if writer.relations else {}).items():
        if not sides:
            continue
        text, join_rules = _join_model(ctx, join, sides)
        const = _constant(join)
        writer.blocks.append(f"{const} = {text}")
        writer.names.append(const)
        model_vars.append(const)
        needs_default = needs_default or (join_rules is None and global_rules is None)
        models.append(ImportedModel(join, const, join_rules or [], {}))
    mutations = _mutation_names(models, operations)
    for f in subscriptions:
        op = _subscription(ctx, f, mutations, default_mode)
        if op is not None:
            operations.append(op)
    authorization = global_rules
    if needs_default:
        authorization = [DEFAULT_MODE_RULES[default_mode]]
        ctx.notes.append(
            f"models without @auth get the API's default mode ({default_mode}), as in Amplify: "
            f"Schema(authorization=[{authorization[0]}])"
        )
    for m in models:
        if not m.rules:
            source_rule = (authorization or [DEFAULT_MODE_RULES[default_mode]])[0]
            m.rules = [_raw_of(source_rule)]
    return _Parts(writer, models, model_vars, authorization, operations)


def _finish(ctx: _Context, parts: _Parts) -> Imported:
    """Build the module: an operation modelauth refuses is listed and left out, any other
    refusal is the import's error."""
    operations = parts.operations
    while True:
        source = _module(ctx, parts.writer, parts.model_vars, parts.authorization, operations)
        namespace: dict[str, Any] = {}
        try:
            exec(compile(source, ctx.file + ".py", "exec"), namespace)  # noqa: S102 - the module we wrote
            break
        except SchemaError as exc:
            message = str(exc).splitlines()[0]
            # an operation modelauth refuses (e.g. callers that could not read the model it
            # returns): listed and left out, the rest imported
            bad = next((op for op in operations if message.startswith(f"{op[1]}:")), None)
            if bad is None:
                raise AmplifyImportError(f"{ctx.file}:0: {message}") from None
            operations.remove(bad)
            ctx.unsupported.append(f"{ctx.file}:0: {message} (operation not imported)")
            ctx.handlers = [h for h in ctx.handlers if not h.startswith(f"{bad[1]}:")]
    return Imported(source, ctx.unsupported, namespace["SCHEMA"], parts.models, ctx.handlers)


def _raw_of(code: str) -> RawRule:
    """The :class:`RawRule` of a default-mode rule (for ``--check``)."""
    table = {
        "allow.public_api_key()": RawRule("public", "apiKey", None),
        "allow.authenticated()": RawRule("private", "userPools", None),
        'allow.authenticated("oidc")': RawRule("private", "oidc", None),
        'allow.authenticated("identityPool")': RawRule("private", "iam", None),
        "allow.custom()": RawRule("custom", "function", None),
        "allow.guest()": RawRule("public", "iam", None),
    }
    return table.get(code, RawRule("custom", "function", None))


def _module(
    ctx: _Context,
    writer: _Writer,
    model_vars: Sequence[str],
    authorization: list[str] | None,
    operations: Sequence[tuple[str, str, str]] = (),
) -> str:
    header = [f"# Imported from {ctx.file} by `modelauth import` (Amplify schema -> modelauth models)."]
    header.append("# Owner rules: Amplify lets an owner hand a record to another owner by updating its")
    header.append("# owner field; modelauth refuses that unless the rule says .allow_transfer().")
    header += [f"# {line}" for line in ctx.notes]
    if ctx.unsupported:
        header.append("#")
        header.append("# Not imported (no modelauth equivalent yet):")
        header += [f"# - {line}" for line in ctx.unsupported]
    uses = {"Field", "Model", "Schema", "allow"}
    if any(b.split(" = ")[1].startswith("Enum(") for b in writer.blocks):
        uses.add("Enum")
    if any(b.split(" = ")[1].startswith("CustomType(") for b in writer.blocks):
        uses.add("CustomType")
    for b in writer.blocks:
        uses.update(re.findall(r"(?<![\w.])(index|has_many|has_one|belongs_to)\(", b))
    names = sorted(uses, key=lambda n: (n[0].islower(), n))
    exports = sorted([*writer.names, "SCHEMA", *(["OPERATIONS"] if operations else [])])
    lines = [
        *header,
        '"""The models imported from Amplify: edit them here from now on."""',
        "",
        "from __future__ import annotations",
        "",
        *(
            [f"from modelauth.custom import {', '.join(sorted({k for k, _, _ in operations}))}"]
            if operations
            else []
        ),
        f"from modelauth.rules import {', '.join(names)}",
        "",
        f"__all__ = [{_items([json.dumps(n) for n in exports], 4)}]",
        "",
    ]
    for block in writer.blocks:
        lines += ["", block]
    schema_args = [f"[{_items(model_vars, 8)}]"]
    if authorization:
        schema_args.append(f"authorization=[{', '.join(authorization)}]")
    if operations:
        lines += [
            "",
            "# Custom operations: the resolver is not imported; each query and mutation needs a handler,",
        ]
        lines += ["# registered with @app.operation(name) in functions/graphql/app.py (modelauth.custom)."]
        lines += ["OPERATIONS = [", *(f"    {code}," for _, _, code in operations), "]"]
        schema_args.append("operations=OPERATIONS")
    lines += ["", "SCHEMA = Schema(\n" + "".join(f"    {a},\n" for a in schema_args) + ")", ""]
    return "\n".join(lines)


def format_source(source: str, target: Path | None = None) -> str:
    """``source`` as ``ruff format`` writes it (with the target project's settings), when ruff is
    installed; else as written (already in ruff's style for the usual line length)."""
    ruff = shutil.which("ruff") or _sibling("ruff")
    if ruff is None:
        return source
    name = str(target) if target is not None else "models.py"
    done = subprocess.run(  # noqa: S603 - ruff found on PATH or beside this Python, fixed arguments
        [ruff, "format", "--stdin-filename", name, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 and done.stdout else source


def _sibling(name: str) -> str | None:
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def import_gen2(path: Path, *, default_auth_mode: str | None = None, node: str | None = None) -> Imported:
    """Import a Gen 2 ``amplify/data/resource.ts``: Amplify's ``@aws-amplify/data-schema`` (run by
    node from :data:`GEN2_TOOL`) turns its ``a.schema(...)`` into SDL, imported as Gen 1."""
    sdl, mode = gen2_sdl(path, node=node)
    return import_gen1(sdl, file=f"{path} (as SDL)", default_auth_mode=default_auth_mode or mode)


def gen2_sdl(path: Path, *, node: str | None = None) -> tuple[str, str]:
    """The SDL Amplify's ``@aws-amplify/data-schema`` derives from a Gen 2 ``resource.ts``, and the
    file's default authorization mode (as a Gen 1 mode name, ``apiKey`` when it names none)."""
    node = node or shutil.which("node")
    if node is None:
        raise AmplifyImportError(f"{path}: amplify-gen2 needs node (20 or later) on PATH")
    if not (GEN2_TOOL / "node_modules" / "@aws-amplify" / "data-schema").is_dir():
        raise AmplifyImportError(
            f"{path}: @aws-amplify/data-schema is not installed: run `make amplify-gen2` "
            f"(npm ci in {GEN2_TOOL})"
        )
    done = subprocess.run(  # noqa: S603 - node with our own script and the user's file as data
        [node, "--enable-source-maps", str(GEN2_TOOL / "transform.mjs"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["node failed"])[0]
        line = re.match(r"^(\d+): (.*)$", message)
        where = f"{path}:{line.group(1)}" if line else f"{path}:0"
        raise AmplifyImportError(f"{where}: {line.group(2) if line else message}")
    result = json.loads(done.stdout)
    sdl = str(result["sdl"])
    _check_identifiers(path, sdl, result.get("identifiers") or {})
    return sdl, _GEN2_MODES.get(result.get("defaultAuthorizationMode") or "", "apiKey")


def _check_identifiers(path: Path, sdl: str, identifiers: Mapping[str, Sequence[str]]) -> None:
    """data-schema writes ``@primaryKey`` only on a field that exists: an ``.identifier([...])``
    naming an unknown field would silently key the model by ``id``, so it is refused here."""
    fields = {
        d.name.value: {f.name.value for f in d.fields or ()}
        for d in parse(sdl).definitions
        if isinstance(d, ObjectTypeDefinitionNode)
    }
    source = path.read_text().splitlines()
    for model, names in identifiers.items():
        for name in names:
            if name != "id" and name not in fields.get(model, {name}):  # id: the implicit key
                pattern = re.compile(r"identifier\(\s*\[[^\]]*[\"'`]" + re.escape(name) + r"[\"'`]")
                line = next((i for i, text in enumerate(source, 1) if pattern.search(text)), 0)
                where = f"{path}:{line}: Can't find field '{name}' in {model}"
                raise AmplifyImportError(f"{where}, but it was specified in identifier.")


# -- the semantics check: modelauth's decisions against Amplify's rule table --------------------

_CHECK_OPERATIONS = ("create", "get", "list", "update", "delete", "listen")
_READS = {"get", "list", "listen", "sync", "search"}
#: the caller kinds of the check; the item is owned by "owner" and shared with group "Editors"
CALLERS = ("owner", "other user", "group member", "guest", "iam user", "iam role", "api key", "lambda")
_MEMBER_GROUP = "Editors"
_AUTH_ROLE = "arn:aws:iam::111122223333:role/amplify-authRole"
_UNAUTH_ROLE = "arn:aws:iam::111122223333:role/amplify-unauthRole"


def _amplify_grants(rule: RawRule, caller: str, op: str, groups_in_item: bool) -> bool:
    """Amplify's semantics of one rule, written from its docs, independently of modelauth's
    policy: may ``caller`` perform ``op`` on the check's item?"""
    ops = set(rule.operations) if rule.operations is not None else {"create", "update", "delete", "read"}
    if "read" in ops:
        ops |= _READS
    if op not in ops:
        return False
    user = caller in ("owner", "other user", "group member")
    if rule.allow == "public":
        return caller == ("api key" if rule.provider == "apiKey" else "guest")
    if rule.allow == "private":
        if rule.provider in ("iam", "identityPool"):
            return caller == "iam user"
        return user and rule.provider == "userPools"
    if rule.allow == "owner":  # any user creates their own record; otherwise only the owner
        return rule.provider == "userPools" and (caller == "owner" or (op == "create" and user))
    if rule.allow == "groups":
        if rule.provider != "userPools" or caller != "group member":
            return False
        return bool(rule.groups) or groups_in_item
    return caller == "lambda"


def _principals(identity_claims: Iterable[str]) -> dict[str, Any]:
    """The check's callers; user-pool users carry every claim an owner rule names."""
    from modelauth.identity import AuthMode, IamIdentity, Principal

    def user(name: str, groups: tuple[str, ...] = ()) -> Principal:
        claims = {
            "sub": f"{name}-sub",
            "cognito:username": name,
            "username": name,
            "email": f"{name}@example.com",
        }
        claims.update({c: f"{name}-{c}" for c in identity_claims if c not in claims})
        return Principal(AuthMode.USER_POOLS, sub=f"{name}-sub", username=name, claims=claims, groups=groups)

    def iam(role: str, auth_type: str | None) -> Principal:
        arn = f"arn:aws:sts::111122223333:assumed-role/{role}/CognitoIdentityCredentials"
        identity = IamIdentity.parse(arn)
        if auth_type is not None:
            from dataclasses import replace

            identity = replace(identity, auth_type=auth_type, identity_pool_id="us-east-1:pool")
        return Principal(AuthMode.IAM, iam=identity)

    return {
        "owner": user("owner"),
        "other user": user("other"),
        "group member": user("member"),
        "guest": iam("amplify-unauthRole", "unauthenticated"),
        "iam user": iam("amplify-authRole", "authenticated"),
        "iam role": iam("backend-fn-role", None),
        "api key": Principal(AuthMode.API_KEY, api_key="da2-check"),
        "lambda": Principal(AuthMode.LAMBDA, resolver_context={"sub": "lambda-user"}),
    }


@dataclass(frozen=True)
class CheckCell:
    model: str
    caller: str
    operation: str
    expected: bool
    actual: bool


def check(imported: Imported) -> list[CheckCell]:
    """Every model x operation x caller: the imported schema's decision next to Amplify's.

    >>> cells = check(import_gen1("type T @model @auth(rules: [{allow: owner}]) { a: Int }"))
    >>> [c.caller for c in cells if c.operation == "get" and c.actual]
    ['owner']
    >>> all(c.expected == c.actual for c in cells)
    True
    """
    from modelauth.policy import AuthConfig, caller_owner_values, decide

    config = AuthConfig(auth_role_arns=frozenset({_AUTH_ROLE}), unauth_role_arns=frozenset({_UNAUTH_ROLE}))
    claims_named = {
        part
        for m in imported.models
        for r in _all_rules(m)
        for part in (r.identity_claim or "").split("::")
        if part
    }
    principals = _principals(claims_named)
    static = {g for m in imported.models for r in _all_rules(m) for g in r.groups}
    member = principals["group member"]
    from dataclasses import replace

    groups = tuple(sorted({*static, _MEMBER_GROUP}))
    claims = {**member.claims, "cognito:groups": list(groups)}
    for rule in (r for m in imported.models for r in _all_rules(m)):
        if rule.group_claim:
            claims[rule.group_claim] = list(groups)
    principals["group member"] = replace(member, claims=claims, groups=groups)
    cells: list[CheckCell] = []
    for m in imported.models:
        model = imported.schema.model(m.name)
        item: dict[str, Any] = {"id": "item-1"}
        for rule in _all_rules(m):
            if rule.owner_field:
                claim = rule.identity_claim or DEFAULT_OWNER_CLAIM
                value = (caller_owner_values(principals["owner"], claim) or ("",))[0]
                item[rule.owner_field] = [value] if rule.multi else value
            if rule.groups_field:
                item[rule.groups_field] = [_MEMBER_GROUP] if rule.multi else _MEMBER_GROUP
        group_fields = {r.groups_field for r in _all_rules(m) if r.groups_field}
        create_input = {k: v for k, v in item.items() if k in group_fields}
        for op in _CHECK_OPERATIONS:
            kinds = ("onCreate", "onUpdate", "onDelete") if op == "listen" else (op,)
            if (op == "listen" and m.subscriptions != "on") or not any(model.is_enabled(k) for k in kinds):
                continue
            for caller in CALLERS:
                expected = _amplify_expects(m, caller, op)
                if op == "create":
                    decision = decide(principals[caller], model, op, input=create_input, config=config)
                    actual = decision.allowed and decision.constraint is None
                else:
                    decision = decide(principals[caller], model, op, item=item, config=config)
                    actual = decision.permits(item)
                cells.append(CheckCell(m.name, caller, op, expected, actual))
    return cells


def _all_rules(m: ImportedModel) -> list[RawRule]:
    return [*m.rules, *(r for rules in m.field_rules.values() for r in rules)]


def _amplify_expects(m: ImportedModel, caller: str, op: str) -> bool:
    """Amplify's answer: a model rule grants; a read is also granted by a field rule (the
    caller then sees only those fields); a delete also needs every field rule set to allow it."""

    def grants(rules: Iterable[RawRule]) -> bool:
        return any(_amplify_grants(r, caller, op, True) for r in rules)

    field_sets = list(m.field_rules.values())
    if op == "delete":
        return grants(m.rules) and all(grants(rules) for rules in field_sets)
    if op in _READS:
        return grants(m.rules) or any(grants(rules) for rules in field_sets)
    return grants(m.rules)


def check_table(cells: Sequence[CheckCell]) -> str:
    """The check as text: per model, one row per caller, ``Y``/``-`` per operation, ``!`` where
    modelauth's decision differs from Amplify's (the cell then shows modelauth's)."""
    lines: list[str] = []
    for model in dict.fromkeys(c.model for c in cells):
        mine = [c for c in cells if c.model == model]
        ops = list(dict.fromkeys(c.operation for c in mine))
        lines.append(f"{model:<14}" + "".join(f"{op:>8}" for op in ops))
        for caller in CALLERS:
            row = {c.operation: c for c in mine if c.caller == caller}
            text = "".join(
                f"{('Y' if row[op].actual else '-') + ('!' if row[op].actual != row[op].expected else ''):>8}"
                for op in ops
            )
            lines.append(f"  {caller:<12}{text}")
    differ = sum(c.actual != c.expected for c in cells)
    lines.append(f"{len(cells)} decisions, {len(cells) - differ} as Amplify decides, {differ} differ (!)")
    return "\n".join(lines)
