"""What the local endpoint needs from template.yaml: the GraphQL API's auth modes, which function
resolves each root field, the functions' handlers and environment, tables, user-pool settings.

The template is read as data (CloudFormation's short tags become their long ``Ref`` /
``Fn::*`` forms); intrinsic functions are resolved against a map of *references* (logical id →
value) that the caller builds: the local backend's names, or a deployed stack's physical ids.

Example::

    >>> t = SamTemplate.load("template.yaml")                      # doctest: +SKIP
    >>> t.api.default_mode, t.resolvers[("Query", "getTodo")]      # doctest: +SKIP
    ('AMAZON_COGNITO_USER_POOLS', 'GraphQLFunction')
    >>> resolve({"Fn::Sub": "${Stage}-x"}, {"Stage": "dev"})
    'dev-x'
    >>> on = {"On": {"Fn::Equals": [{"Ref": "Flag"}, "true"]}}
    >>> resolve({"Flows": ["A", {"Fn::If": ["On", "B", {"Ref": "AWS::NoValue"}]}]}, {"Flag": "false"}, on)
    {'Flows': ['A']}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LOCAL_PARAMETERS", "ApiSpec", "FunctionSpec", "SamTemplate", "TemplateError", "resolve"]

_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_:.]+)\}")
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:.+?\}\}")

#: parameters the local endpoint sets whatever their template default: a local user pool is a
#: test pool, so its client allows the password flow (``USER_PASSWORD_AUTH``) that scripts and
#: ``modelauth token`` use; a deployed stack keeps the default ("false") unless asked
LOCAL_PARAMETERS = {"AllowPasswordAuth": "true"}


class _NoValue:
    """``Ref: AWS::NoValue``: the property (or list item) it stands for is left out."""


_NO_VALUE = _NoValue()


class TemplateError(ValueError):
    """template.yaml lacks something the local endpoint needs, or uses what it can't resolve."""


def _loader() -> Any:
    import yaml  # type: ignore[import-untyped]  # PyYAML: with moto[server], a dev dependency

    class CfnLoader(yaml.SafeLoader):  # type: ignore[misc]  # untyped base (no stubs installed)
        """Reads ``!Ref X`` as ``{"Ref": "X"}`` and ``!Sub s`` as ``{"Fn::Sub": s}``."""

    def construct(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", construct)
    return CfnLoader


def resolve(value: Any, refs: Mapping[str, str], conditions: Mapping[str, Any] | None = None) -> Any:
    """``value`` with ``Ref``, ``Fn::GetAtt`` (``refs["X.Attr"]``), ``Fn::Sub`` and ``Fn::Join``
    replaced from ``refs``; a dynamic reference (``{{resolve:...}}``) becomes ``refs["{{resolve}}"]``.
    ``Fn::If`` picks a branch by evaluating the template's ``conditions`` (``Fn::Equals``,
    ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``) with the parameters in ``refs``, and a
    ``Ref`` to ``AWS::NoValue`` drops the property or list item it stands for.

    Fails (:class:`TemplateError`) on anything it cannot resolve: a half-resolved value is
    never passed on.
    """
    resolved = _resolve(value, refs, conditions or {})
    return None if resolved is _NO_VALUE else resolved


def _resolve(value: Any, refs: Mapping[str, str], conditions: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if _DYNAMIC_REFERENCE.search(value):
            return _DYNAMIC_REFERENCE.sub(lambda _: _ref(refs, "{{resolve}}"), value)
        return value
    if isinstance(value, list):
        items = (_resolve(item, refs, conditions) for item in value)
        return [item for item in items if item is not _NO_VALUE]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        (key, argument), *_ = value.items()
        if key == "Ref":
            return _NO_VALUE if argument == "AWS::NoValue" else _ref(refs, str(argument))
        if key == "Fn::GetAtt":
            return _ref(refs, ".".join(map(str, argument)))
        if key == "Fn::Sub":
            text, extra = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
            local = {**refs, **{k: str(_resolve(v, refs, conditions)) for k, v in extra.items()}}
            text = _resolve(str(text), refs, conditions)  # dynamic references first: they hold ${...} too
            return _SUB_VARIABLE.sub(lambda m: _ref(local, m.group(1)), text)
        if key == "Fn::Join":
            separator, items = argument
            return str(separator).join(str(_resolve(item, refs, conditions)) for item in items)
        if key == "Fn::If":
            if not (isinstance(argument, list) and len(argument) == 3):
                raise TemplateError(f"Fn::If takes [condition, then, else], not {argument!r}")
            name, then, otherwise = argument
            chosen = then if _condition(str(name), refs, conditions, ()) else otherwise
            return _resolve(chosen, refs, conditions)
        if key.startswith("Fn::"):
            raise TemplateError(f"{key} is not supported by the local endpoint")
    resolved = {k: _resolve(v, refs, conditions) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not _NO_VALUE}


def _condition(
    name: str, refs: Mapping[str, str], conditions: Mapping[str, Any], seen: tuple[str, ...]
) -> bool:
    """The value of the template's condition ``name`` (a cycle or an unknown name fails)."""
    if name in seen or name not in conditions:
        raise TemplateError(f"condition {name!r} is {'circular' if name in seen else 'not declared'}")
    return _truth(conditions[name], refs, conditions, (*seen, name))


def _truth(
    expression: Any, refs: Mapping[str, str], conditions: Mapping[str, Any], seen: tuple[str, ...]
) -> bool:
    if isinstance(expression, Mapping) and len(expression) == 1:
        (key, argument), *_ = expression.items()
        if key == "Condition":
            return _condition(str(argument), refs, conditions, seen)
        if key == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            left, right = (str(_resolve(side, refs, conditions)) for side in argument)
            return left == right
        if isinstance(argument, list):
            values = [_truth(item, refs, conditions, seen) for item in argument]
            if key == "Fn::Not" and len(values) == 1:
                return not values[0]
            if key == "Fn::And":
                return all(values)
            if key == "Fn::Or":
                return any(values)
    raise TemplateError(f"cannot evaluate the condition {expression!r} locally")


def _ref(refs: Mapping[str, str], name: str) -> str:
    try:
        return refs[name]
    except KeyError:
        raise TemplateError(f"cannot resolve {name!r} locally") from None


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """An ``AWS::Serverless::Function``: where its handler lives and its (unresolved) environment."""

    logical_id: str
    code_uri: Path
    handler: str
    environment: Mapping[str, Any]

    @property
    def module_path(self) -> Path:
        """The handler's source file, e.g. ``functions/graphql/app.py``."""
        module, _, _function = self.handler.rpartition(".")
        return self.code_uri / (module.replace(".", "/") + ".py")

    @property
    def function_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """The GraphQL API: schema file, auth modes, API key lifetime, Lambda authorizer."""

    schema_path: Path
    default_mode: str
    #: every mode the API accepts (default first), as AppSync's ``authenticationType`` names
    modes: tuple[str, ...]
    lambda_authorizer: str | None = None
    lambda_authorizer_ttl: int = 300
    #: API key expiry as epoch seconds; None: AppSync's 7-day default
    api_key_expires: int | None = None
    #: user-pool mode: the app client id regex (usually one ``!Ref`` to the client)
    app_client: Any = None


@dataclass(frozen=True)
class SamTemplate:
    """The parts of template.yaml the local endpoint uses."""

    path: Path
    raw: Mapping[str, Any] = field(repr=False)
    api: ApiSpec
    functions: Mapping[str, FunctionSpec]
    #: (type, field) → logical id of the Lambda function that resolves it
    resolvers: Mapping[tuple[str, str], str]

    @classmethod
    def load(cls, path: str | Path) -> SamTemplate:
        """Parse the template; :class:`TemplateError` when it has no GraphQL API we can serve."""
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise TemplateError(f"cannot read {path}: {exc}") from None
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, path: Path) -> SamTemplate:
        """:meth:`load` of a template's text (``path``: where it lives; code paths are relative)."""
        import yaml

        try:
            raw = yaml.load(text, Loader=_loader())  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            raise TemplateError(f"cannot read {path}: {exc}") from None
        if not isinstance(raw, Mapping) or not isinstance(raw.get("Resources"), Mapping):
            raise TemplateError(f"{path} has no Resources")
        resources: Mapping[str, Any] = raw["Resources"]
        functions = _functions(path.parent, raw)
        api_id, api = _one(resources, "AWS::Serverless::GraphQLApi")
        props = api.get("Properties", {})
        return cls(
            path=path,
            raw=raw,
            api=_api_spec(path.parent, props, functions),
            functions=functions,
            resolvers=_resolvers(api_id, props, functions),
        )

    @property
    def resources(self) -> Mapping[str, Any]:
        resources: Mapping[str, Any] = self.raw["Resources"]
        return resources

    def of_type(self, cfn_type: str) -> dict[str, Mapping[str, Any]]:
        """Properties of every resource of ``cfn_type``, by logical id."""
        return {
            name: resource.get("Properties") or {}
            for name, resource in self.resources.items()
            if isinstance(resource, Mapping) and resource.get("Type") == cfn_type
        }

    @property
    def conditions(self) -> Mapping[str, Any]:
        """The template's ``Conditions`` (unevaluated), for :func:`resolve`."""
        conditions: Mapping[str, Any] = self.raw.get("Conditions") or {}
        return conditions

    def parameter_defaults(self) -> dict[str, str]:
        """``Parameters`` with their defaults (what ``Ref`` to a parameter means locally), and
        :data:`LOCAL_PARAMETERS` for the parameters the template declares."""
        parameters = self.raw.get("Parameters") or {}
        defaults = {name: str(p["Default"]) for name, p in parameters.items() if "Default" in p}
        return {**defaults, **{k: v for k, v in LOCAL_PARAMETERS.items() if k in parameters}}

    def resolve(self, value: Any, refs: Mapping[str, str]) -> Any:
        """:func:`resolve` with this template's conditions."""
        return resolve(value, refs, self.conditions)

    def environment(self, function: str, refs: Mapping[str, str]) -> dict[str, str]:
        """The function's environment (Globals merged with its own), resolved with ``refs``."""
        resolved = self.resolve(dict(self.functions[function].environment), refs)
        return {name: str(value) for name, value in resolved.items()}


def _one(resources: Mapping[str, Any], cfn_type: str) -> tuple[str, Mapping[str, Any]]:
    found = [(k, v) for k, v in resources.items() if isinstance(v, Mapping) and v.get("Type") == cfn_type]
    if len(found) != 1:
        raise TemplateError(f"expected exactly one {cfn_type}, found {len(found)}")
    return found[0]


def _functions(root: Path, raw: Mapping[str, Any]) -> dict[str, FunctionSpec]:
    globals_ = (raw.get("Globals") or {}).get("Function") or {}
    global_env = (globals_.get("Environment") or {}).get("Variables") or {}
    specs = {}
    for name, resource in raw["Resources"].items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        if not isinstance(props.get("CodeUri"), str) or not isinstance(props.get("Handler"), str):
            continue  # inline or image functions: nothing to load in-process
        own_env = (props.get("Environment") or {}).get("Variables") or {}
        specs[name] = FunctionSpec(name, root / props["CodeUri"], props["Handler"], {**global_env, **own_env})
    return specs


_AUTH_TYPES = ("AMAZON_COGNITO_USER_POOLS", "OPENID_CONNECT", "AWS_IAM", "API_KEY", "AWS_LAMBDA")


def _modes(props: Mapping[str, Any]) -> tuple[str, ...]:
    auth = props.get("Auth") or {}
    entries = [auth, *(auth.get("Additional") or [])]
    modes = tuple(str(entry.get("Type")) for entry in entries)
    unknown = [mode for mode in modes if mode not in _AUTH_TYPES]
    if unknown:
        raise TemplateError(f"unknown GraphQL auth type(s) {unknown}")
    return modes


def auth_modes(text: str) -> tuple[str, ...]:
    r"""The GraphQL API's auth modes (default first) in a template's text, without the rest of
    :meth:`SamTemplate.load`'s checks (``generate`` reads them before the template is complete).

    >>> auth_modes("Resources:\n  Api:\n    Type: AWS::Serverless::GraphQLApi\n"
    ...            "    Properties: {Auth: {Type: API_KEY, Additional: [{Type: AWS_IAM}]}}\n")
    ('API_KEY', 'AWS_IAM')
    """
    import yaml

    try:
        raw = yaml.load(text, Loader=_loader())  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"not YAML: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("Resources"), Mapping):
        raise TemplateError("no Resources")
    _id, api = _one(raw["Resources"], "AWS::Serverless::GraphQLApi")
    return _modes(api.get("Properties") or {})


def _api_spec(root: Path, props: Mapping[str, Any], functions: Mapping[str, FunctionSpec]) -> ApiSpec:
    auth = props.get("Auth") or {}
    entries = [auth, *(auth.get("Additional") or [])]
    modes = _modes(props)
    authorizer, ttl = None, 300
    for entry in entries:
        lambda_config = entry.get("LambdaAuthorizer")
        if entry.get("Type") == "AWS_LAMBDA" and isinstance(lambda_config, Mapping):
            authorizer = _function_of(lambda_config.get("AuthorizerUri"), functions)
            ttl = int(lambda_config.get("AuthorizerResultTtlInSeconds", 300))
    keys = props.get("ApiKeys") or {}
    expires = next((k.get("ExpiresOn") for k in keys.values() if isinstance(k, Mapping)), None)
    schema_uri = props.get("SchemaUri")
    if not isinstance(schema_uri, str):
        raise TemplateError("the GraphQL API needs a SchemaUri file")
    return ApiSpec(
        schema_path=root / schema_uri,
        default_mode=modes[0],
        modes=modes,
        lambda_authorizer=authorizer,
        lambda_authorizer_ttl=ttl,
        api_key_expires=int(expires) if isinstance(expires, int | str) and str(expires).isdigit() else None,
        app_client=(auth.get("UserPool") or {}).get("AppIdClientRegex"),
    )


def _function_of(arn: Any, functions: Mapping[str, FunctionSpec]) -> str:
    """The logical id in ``!GetAtt Fn.Arn`` (or ``!Ref Fn``) when it is a function of the template."""
    name = None
    if isinstance(arn, Mapping) and "Fn::GetAtt" in arn:
        name = arn["Fn::GetAtt"][0]
    elif isinstance(arn, Mapping) and "Ref" in arn:
        name = arn["Ref"]
    if name not in functions:
        raise TemplateError(f"{arn!r} is not a function of this template")
    return str(name)


def _resolvers(
    api_id: str, props: Mapping[str, Any], functions: Mapping[str, FunctionSpec]
) -> dict[tuple[str, str], str]:
    lambdas = (props.get("DataSources") or {}).get("Lambda") or {}
    sources = {name: _function_of(ds.get("FunctionArn"), functions) for name, ds in lambdas.items()}
    steps = {name: fn.get("DataSource") for name, fn in (props.get("Functions") or {}).items()}
    resolvers = {}
    for type_name, fields in (props.get("Resolvers") or {}).items():
        for field_name, resolver in (fields or {}).items():
            pipeline = resolver.get("Pipeline") or []
            targets = {sources.get(str(steps.get(step))) for step in pipeline}
            if len(pipeline) != 1 or None in targets:
                raise TemplateError(
                    f"{api_id} {type_name}.{field_name}: only one-step pipelines on a Lambda data "
                    "source (graphql/invoke.js) run locally"
                )
            resolvers[(type_name, field_name)] = str(targets.pop())
    return resolvers
