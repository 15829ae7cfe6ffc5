"""``amplify_outputs.json``: the file a frontend passes to ``Amplify.configure`` (Amplify Gen 2's
client configuration, version 1.x), with the ``model_introspection`` that ``generateClient()``
builds ``client.models.<Model>`` from.

Two parts, written by different commands:

- the *generated* part follows from the models and the template: ``version``,
  ``data.model_introspection``, ``data.default_authorization_type`` and
  ``data.authorization_types``. ``modelauth generate`` writes it (and ``--check`` compares it);
- the *environment* part says where the backend is: ``data.url``, ``data.aws_region``,
  ``data.api_key`` and the ``auth`` section (user pool, app client, identity pool). ``modelauth
  outputs --local`` fills it from the running ``modelauth serve`` (its state file),
  ``modelauth outputs --stack NAME`` from a deployed stack's CloudFormation outputs.
  ``generate`` keeps whatever environment values the file already has; a new file points at
  the local endpoint's default URL with no keys or pool ids yet.

Example::

    >>> from modelauth.rules import Field, Model, Schema, allow
    >>> schema = Schema([Model("Todo", fields=[Field("content")], rules=[allow.owner()])])
    >>> doc = amplify_outputs(schema, ("AMAZON_COGNITO_USER_POOLS",), Environment(LOCAL_URL, "us-east-1"))
    >>> doc["data"]["model_introspection"]["models"]["Todo"]["pluralName"]
    'Todos'
    >>> sorted(doc["data"]["model_introspection"]["models"]["Todo"]["fields"])
    ['_storedOwner', 'content', 'createdAt', 'id', 'owner', 'updatedAt']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelauth.custom import CustomOperation
from modelauth.fieldtypes import CustomType, Enum, FieldType
from modelauth.project import ProjectError
from modelauth.rules import (
    READ_OPERATIONS,
    TIMESTAMPS,
    Field,
    Model,
    Operation,
    Provider,
    Relation,
    Rule,
    Schema,
    Strategy,
)

__all__ = [
    "FILE_NAME",
    "LOCAL_URL",
    "VERSION",
    "Environment",
    "OutputsError",
    "amplify_outputs",
    "environment_of",
    "from_stack_outputs",
    "local_environment",
    "model_introspection",
    "render",
    "stack_environment",
    "write",
]

#: the client-config schema version @aws-amplify/backend writes (aws-amplify v6 reads any 1.x)
VERSION = "1.4"
FILE_NAME = "amplify_outputs.json"
LOCAL_URL = "http://127.0.0.1:20002/graphql"  # modelauth serve's default port

# Amplify's introspection names identity-pool rules "iam"
_PROVIDER = {
    Provider.API_KEY: "apiKey",
    Provider.IDENTITY_POOL: "iam",
    Provider.IAM: "iam",
    Provider.USER_POOLS: "userPools",
    Provider.OIDC: "oidc",
    Provider.FUNCTION: "function",
}
_WRITE_ORDER = (Operation.CREATE, Operation.UPDATE, Operation.DELETE)
_READ_ORDER = (Operation.GET, Operation.LIST, Operation.LISTEN, Operation.SYNC, Operation.SEARCH)
# the stack outputs `modelauth init`'s template declares
_STACK_OUTPUTS = {
    "url": "GraphQLUrl",
    "region": "Region",
    "api_key": "GraphQLApiKeyId",
    "user_pool_id": "UserPoolId",
    "user_pool_client_id": "UserPoolClientId",
    "identity_pool_id": "IdentityPoolId",
}


class OutputsError(ProjectError):
    """The outputs can't be written as asked (exit code 2)."""


@dataclass(frozen=True)
class Environment:
    """Where one backend is: the values of ``amplify_outputs.json`` that are not generated."""

    url: str
    region: str
    api_key: str | None = None
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    identity_pool_id: str | None = None


# -- model introspection -------------------------------------------------------------------------


def _operations(ops: Iterable[Operation]) -> list[str]:
    ops = frozenset(ops)
    names = [op.value for op in _WRITE_ORDER if op in ops]
    if ops >= READ_OPERATIONS:
        return [*names, "read"]
    return names + [op.value for op in _READ_ORDER if op in ops]


def _rule(rule: Rule) -> dict[str, Any]:
    """One rule as Amplify's introspection spells it (``allow``, ``provider``, fields...)."""
    out: dict[str, Any] = {"allow": rule.strategy.value, "provider": _PROVIDER[rule.provider]}
    if rule.strategy is Strategy.OWNER:
        out["ownerField"] = rule.owner_field
        out["identityClaim"] = rule.owner_claim
    elif rule.strategy is Strategy.GROUPS:
        out["groupClaim"] = rule.group_claim
        if rule.groups_field is not None:
            out["groupsField"] = rule.groups_field
        else:
            out["groups"] = list(rule.groups)
    elif rule.strategy is Strategy.RESOURCE:
        out["roles"] = list(rule.roles)  # beyond Amplify: the client ignores it
    out["operations"] = _operations(rule.operations)
    return out


def _rules(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    # an all_of rule has no Amplify spelling: its parts are listed (the client only reads owner
    # fields from these, to select them; the resolver decides every request)
    return [_rule(sub) for rule in rules for sub in (rule.rules or (rule,))]


def _type(kind: FieldType, models: frozenset[str] = frozenset()) -> str | dict[str, str]:
    """A field's ``type`` as the introspection spells it: a scalar's name, ``{"enum": ...}``,
    ``{"nonModel": ...}`` (a custom type) or ``{"model": ...}``."""
    if isinstance(kind, Enum):
        return {"enum": kind.name}
    if isinstance(kind, CustomType):
        return {"nonModel": kind.name}
    return {"model": kind} if kind in models else kind


def _field(
    name: str, type_: str | dict[str, str], *, required: bool, is_list: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "isArray": is_list, "type": type_, "isRequired": required}
    out["attributes"] = []
    if is_list:
        out["isArrayNullable"] = True
    return out


def _model_field(field: Field) -> dict[str, Any]:
    out = _field(field.name, _type(field.type), required=field.required, is_list=field.is_list)
    if field.rules is not None:
        out["attributes"] = [{"type": "auth", "properties": {"rules": _rules(field.rules)}}]
    return out


def _non_model(custom: CustomType) -> dict[str, Any]:
    fields = {f.name: _model_field(f) for f in custom.fields}
    return {"name": custom.name, "fields": fields}


def _custom_operation(op: CustomOperation, models: frozenset[str]) -> dict[str, Any]:
    """A custom query/mutation/subscription as Gen 2's ``client.queries.<name>`` reads it."""
    ret = op.return_type
    assert ret is not None  # the schema's check gave every bound operation its type
    out = _field(op.name, _type(ret.base, models), required=ret.required, is_list=ret.is_list)
    del out["attributes"]
    if op.args:
        out["arguments"] = {
            a.name: {"name": a.name, "isArray": a.is_list, "type": _type(a.type), "isRequired": a.required}
            for a in op.args
        }
    return out


def _model(model: Model) -> dict[str, Any]:
    fields = {"id": _field("id", "ID", required=True)}
    fields.update((f.name, _model_field(f)) for f in model.fields)
    for f in model.fields:
        # the stored value of a composite owner field: the client must select it, as the
        # subscription filter compares it in the mutation's result (modelauth.subscriptions)
        stored = model.stored_owner_fields.get(f.name)
        if stored is not None:
            fields[stored] = {
                **_field(stored, "String", required=False, is_list=f.is_list),
                "isReadOnly": True,
            }
    fields.update((rel.name, _relation_field(rel)) for rel in model.relations)
    for name in model.timestamp_fields:
        fields[name] = {**_field(name, "AWSDateTime", required=False), "isReadOnly": True}
    return {
        "name": model.name,
        "fields": fields,
        "syncable": True,
        "pluralName": model.list_name,
        "attributes": [
            {"type": "model", "properties": _model_properties(model)},
            *_key_attributes(model),
            {"type": "auth", "properties": {"rules": _rules(model.rules)}},
        ],
        "primaryKeyInfo": {
            "isCustomPrimaryKey": model.key_fields != ("id",),
            "primaryKeyFieldName": model.key_fields[0],
            "sortKeyFieldNames": list(model.key_fields[1:]),
        },
    }


def _relation_field(rel: Relation) -> dict[str, Any]:
    """A relationship field as Gen 2 describes one with ``references`` (the shape of
    dpilch/references-examples@8ccacb3 withSortKey/introspection/model-introspection.json):
    ``associatedWith`` the child's reference fields, ``targetNames`` this model's own."""
    out = _field(rel.name, {"model": rel.related}, required=False, is_list=rel.is_list)
    if rel.kind == "has_many":
        out["association"] = {"connectionType": "HAS_MANY", "associatedWith": list(rel.references)}
    elif rel.kind == "has_one":
        association = {"connectionType": "HAS_ONE", "associatedWith": list(rel.references), "targetNames": []}
        out["association"] = association
    else:
        out["association"] = {"connectionType": "BELONGS_TO", "targetNames": list(rel.references)}
    return out


def _model_properties(model: Model) -> dict[str, Any]:
    """The ``model`` attribute's properties: Amplify's ``@model`` arguments the clients read,
    here ``timestamps`` when the model renames or turns off its timestamps (the client then
    treats those fields, not ``createdAt``/``updatedAt``, as read-only)."""
    names = dict(zip(TIMESTAMPS, (model.created_field, model.updated_field), strict=True))
    if names == {name: name for name in TIMESTAMPS}:
        return {}
    return {"timestamps": None if not model.timestamp_fields else names}


def _key_attributes(model: Model) -> list[dict[str, Any]]:
    """Amplify's ``key`` attributes: the custom identifier's (no name), then one per secondary
    index (its GSI name, query field and key fields)."""
    out: list[dict[str, Any]] = []
    if model.key_fields != ("id",):
        out.append({"type": "key", "properties": {"fields": list(model.key_fields)}})
    for idx in model.secondary_indexes:
        if idx.relation is not None:  # a relationship's index: Gen 2 describes the association
            continue
        properties = {
            "name": idx.gsi_name(model),
            "queryField": idx.field_name(model),
            "fields": [idx.partition_key, *idx.sort_key_fields],
        }
        out.append({"type": "key", "properties": properties})
    return out


def model_introspection(schema: Schema) -> dict[str, Any]:
    """``data.model_introspection`` (version 1): every model with its fields and rules, the
    enums, the custom types (``nonModels``) and the custom operations (``queries``,
    ``mutations``, ``subscriptions``, which Gen 2's ``client.queries.<name>()`` calls), a custom
    identifier and secondary indexes as ``key`` attributes, relationship fields with their
    ``association``."""
    out: dict[str, Any] = {
        "version": 1,
        "models": {model.name: _model(model) for model in schema.models},
        "enums": {e.name: {"name": e.name, "values": list(e.values)} for e in schema.enums()},
        "nonModels": {t.name: _non_model(t) for t in schema.custom_types()},
    }
    models = frozenset(m.name for m in schema.models)
    for kind, key in (("Query", "queries"), ("Mutation", "mutations"), ("Subscription", "subscriptions")):
        ops = [b.op for b in schema.bound_operations if b.op.type_name == kind]
        if ops:
            out[key] = {op.name: _custom_operation(op, models) for op in ops}
    return out


# -- the whole file ------------------------------------------------------------------------------


def amplify_outputs(schema: Schema, modes: Sequence[str], env: Environment) -> dict[str, Any]:
    """The file's content: ``modes`` are the API's AppSync auth modes, default first."""
    if not modes:
        raise OutputsError("the GraphQL API has no auth modes")
    data: dict[str, Any] = {
        "url": env.url,
        "aws_region": env.region,
        "default_authorization_type": modes[0],
        "authorization_types": list(modes[1:]),
    }
    if env.api_key is not None:
        data["api_key"] = env.api_key
    data["model_introspection"] = model_introspection(schema)
    doc: dict[str, Any] = {"version": VERSION}
    if env.user_pool_id is not None and env.user_pool_client_id is not None:
        auth: dict[str, Any] = {
            "aws_region": env.region,
            "user_pool_id": env.user_pool_id,
            "user_pool_client_id": env.user_pool_client_id,
        }
        if env.identity_pool_id is not None:
            auth["identity_pool_id"] = env.identity_pool_id
            auth["unauthenticated_identities_enabled"] = True
        doc["auth"] = auth
    doc["data"] = data
    return doc


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def environment_of(text: str | None, path: Path) -> Environment:
    """The environment values an existing file carries (``generate`` keeps them); the local
    endpoint's default URL when there is no file. A file that is not Amplify outputs JSON is
    refused (:class:`OutputsError`), not overwritten."""
    if text is None:
        return Environment(LOCAL_URL, "us-east-1")
    try:
        doc = json.loads(text)
        data, auth = doc.get("data") or {}, doc.get("auth") or {}
        url, region = data["url"], data["aws_region"]
        values = [data.get("api_key"), auth.get("user_pool_id"), auth.get("user_pool_client_id")]
        values.append(auth.get("identity_pool_id"))
    except (ValueError, AttributeError, KeyError, TypeError):
        raise OutputsError(
            f"{path}: not an Amplify outputs file (JSON with data.url and data.aws_region): "
            "move it away or fix it"
        ) from None
    if not all(isinstance(v, str) for v in (url, region)) or not all(
        v is None or isinstance(v, str) for v in values
    ):
        raise OutputsError(f"{path}: data.url, data.aws_region and the ids must be strings")
    return Environment(url, region, *values)


def from_stack_outputs(outputs: Mapping[str, str], stack: str) -> Environment:
    """A deployed stack's values, from its CloudFormation outputs (``GraphQLUrl``, ``Region``,
    ``GraphQLApiKeyId``, ``UserPoolId``, ``UserPoolClientId``, ``IdentityPoolId``; those
    ``modelauth init``'s template declares). ``GraphQLUrl`` and ``Region`` are required."""
    missing = [_STACK_OUTPUTS[k] for k in ("url", "region") if not outputs.get(_STACK_OUTPUTS[k])]
    if missing:
        raise OutputsError(f"stack {stack} has no output {', '.join(missing)} (see template.yaml Outputs)")
    values = {key: outputs.get(name) for key, name in _STACK_OUTPUTS.items()}
    return Environment(**{k: v for k, v in values.items() if v is not None})


def local_environment(state: Path) -> Environment:
    """The running ``modelauth serve``'s values, from its state file: its URL, API key, and the
    ids of the user pool, app client and identity pool it serves (new ones each run)."""
    from modelauth.local.sandbox import Backend, BackendError

    try:
        backend = Backend.load(state)
    except (BackendError, KeyError, TypeError) as exc:
        raise OutputsError(
            str(exc) if isinstance(exc, BackendError) else f"{state}: not a state file"
        ) from None
    if backend.endpoint is None:
        raise OutputsError(f"{state}: the local endpoint has no URL yet: is `modelauth serve` running?")
    return Environment(
        url=backend.endpoint,
        region=backend.region,
        api_key=next(iter(backend.api_keys), None),
        user_pool_id=backend.user_pool_id,
        user_pool_client_id=backend.user_pool_client_id,
        identity_pool_id=backend.identity_pool_id,
    )


def stack_environment(stack: str, region: str) -> Environment:
    """A deployed stack's values, read with CloudFormation ``DescribeStacks``."""
    import boto3
    from botocore.exceptions import ClientError

    try:
        described = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise OutputsError(
            f"stack {stack} in {region}: {error.get('Code')}: {error.get('Message')}"
        ) from None
    outputs = described["Stacks"][0].get("Outputs") or []
    return from_stack_outputs({o["OutputKey"]: o["OutputValue"] for o in outputs}, stack)


def write(path: Path, schema: Schema, template: Path, env: Environment) -> None:
    """Write ``path`` for ``env`` with the models' introspection and the template's auth modes."""
    from modelauth.local.samtemplate import TemplateError, auth_modes

    try:
        modes = auth_modes(template.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OutputsError(f"{template}: can't read the SAM template ({exc.strerror})") from None
    except TemplateError as exc:
        raise OutputsError(f"{template}: {exc}") from None
    text = render(amplify_outputs(schema, modes, env))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputsError(f"{path}: can't write it ({exc.strerror})") from None
