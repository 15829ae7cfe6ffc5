"""Sample events for ``sam local invoke``: every model, operation and auth mode its
rules mention.

:func:`sample_events` is pure: from a schema and a :class:`LocalConfig` (the ids, issuer, keys
and users of a local setup) to ``{file name: event}``. ``modelauth events`` writes them to the
project's ``events`` directory; ``modelauth local-env`` writes the functions' environment with
the same configuration, so the function reads each caller as the mode the file names:

- AppSync direct-resolver events in the shape ``invoke.js`` sends (``authType`` included):
  ``<field>.<provider>[.<caller>].json``, e.g. ``createTodo.userPools.alice.json``,
  ``getTodo.userPools.bob.json``, ``listTodos.apiKey.json``, ``getPost.identityPool.guest.json``,
  ``getNote.iam.modelauth-backend.json``, ``getTicket.function.alice.json``. Fields: get, list,
  create, update, delete, onCreate and the secondary indexes' queries of each model. A create makes the item
  ``<model>-<provider>-<caller>``; get/update/delete of a provider's callers all target the item
  its first user (alice) creates, so ``alice`` shows the owner and ``bob`` the other user. A
  model with a custom identifier is addressed by its whole key (``getOrder(customerEmail:,
  orderId:)``, ``DELETE /orders/{customerEmail}/{orderId}``), each part made from that item name.
  Custom operations likewise, for every caller their rules mention (``publishPost.userPools.bob.json``).
- API Gateway proxy events of the REST function's routes, as they arrive after the Lambda
  authorizer (for the models whose rules mention ``function``): ``rest.<field>.<user>.json``
  (REST, payload 1.0) and ``http.<field>.<user>.json`` (HTTP API, payload 2.0), for the five
  operations and each secondary index's query (``GET /tasks/tasksByStatus/<value>``).
- Lambda authorizer events (``authorizer.<caller>.<credential>.json`` for ``appsync``,
  ``rest-token``, ``rest-request``, ``http-v2``): the users' access tokens are signed with moto's
  Cognito key (the JWKS ``local-env`` gives the authorizer) and expire in 2100; ``apiKey`` is the
  config's authorizer key, whose record ``local-env`` gives the authorizer.

Users: ``alice`` is in every group the rules name (unless configured otherwise), ``bob`` in none.

Example::

    >>> from modelauth.rules import Field, Model, Schema, allow
    >>> todo = Model("Todo", fields=[Field("content")], rules=[allow.owner(), allow.public_api_key()])
    >>> events = sample_events(Schema(models=(todo,)), LocalConfig())
    >>> sorted(events)[:3]
    ['createTodo.apiKey.json', 'createTodo.userPools.alice.json', 'createTodo.userPools.bob.json']
    >>> events["getTodo.userPools.bob.json"]["arguments"]
    {'id': 'todo-userpools-alice'}
"""

from __future__ import annotations

import base64
import json
import re
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from modelauth.identity import AuthMode, IdentityConfig
from modelauth.local import SAMPLE_VALUES, appsync_event, sample_value, user_pool_identity
from modelauth.policy import AuthConfig
from modelauth.project import ProjectError
from modelauth.rest import index_path, item_path, resource_path
from modelauth.rules import DEFAULT_GROUP_CLAIM, Field, Model, Provider, Rule, Schema, Strategy, root_fields

__all__ = ["LocalConfig", "LocalUser", "sample_events"]

#: util.authType() of each mode, as invoke.js forwards it
_AUTH_TYPE = {
    AuthMode.API_KEY: "API Key Authorization",
    AuthMode.IAM: "IAM Authorization",
    AuthMode.USER_POOLS: "User Pool Authorization",
    AuthMode.OIDC: "Open ID Connect Authorization",
    AuthMode.LAMBDA: "Lambda Authorization",
}
_IAT = 1767225600  # 2026-01-01T00:00:00Z
_EXP = 4102444800  # 2100-01-01T00:00:00Z: committed sample tokens must not expire
_SOURCE_IP = "203.0.113.10"
_API_ID = "local0api0id0modelauth000"
_REST_API_ID = "local0rest"
_NAMESPACE = uuid.UUID("6d6f6465-6c61-7574-6800-6c6f63616c00")  # "modelauth" "local"


@dataclass(frozen=True)
class LocalUser:
    """A user-pool user of the sample events. ``groups=None``: every group the rules name."""

    name: str
    sub: str
    groups: tuple[str, ...] | None = None


_DEFAULT_USERS = (
    LocalUser("alice", "a11ce000-0000-4000-8000-00000000a11c"),
    LocalUser("bob", "b0b00000-0000-4000-8000-000000000b0b", ()),
)


@dataclass(frozen=True)
class LocalConfig:
    """The ids and keys of a local setup, shared by the sample events and ``local-env``.

    Every field can be set in ``[tool.modelauth.local]`` of pyproject.toml (users as
    ``users = [{name = "alice", sub = "...", groups = ["Admin"]}, ...]``).
    """

    region: str = "us-east-1"
    account_id: str = "123456789012"
    user_pool_id: str = "us-east-1_M0de1Auth"
    client_id: str = "5m0de1auth0l0ca1c1ient0abc"
    identity_pool_id: str = "us-east-1:0c9c5d0e-0000-4000-8000-0000000100ca"
    auth_role: str = "modelauth-local-authRole"
    unauth_role: str = "modelauth-local-unauthRole"
    oidc_issuer: str = "https://oidc.modelauth.local"
    oidc_audience: str = "modelauth-local"
    #: AppSync's API key (API_KEY mode)
    api_key: str = "da2-m0de1auth0l0ca10ap1key00"
    #: the Lambda authorizer's API key (``local-env`` gives the authorizer its record)
    authorizer_api_key: str = "mak_m0de1auth-l0ca1-auth0r1zer-key-000000000000"
    next_token_secret: str = "modelauth-local-next-token-secret-not-for-production"  # noqa: S105 - local
    users: tuple[LocalUser, ...] = _DEFAULT_USERS

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def role_arn(self, role: str) -> str:
        return role if role.startswith("arn:") else f"arn:aws:iam::{self.account_id}:role/{role}"

    @property
    def identity_config(self) -> IdentityConfig:
        """What the functions read from ``USER_POOL_ID`` in ``local-env``'s environment."""
        return IdentityConfig(user_pool_issuers=frozenset({self.issuer}))

    @property
    def auth_config(self) -> AuthConfig:
        """What the functions read from ``IDENTITY_POOL_ID`` and the role variables."""
        return AuthConfig(
            identity_pool_id=self.identity_pool_id,
            auth_role_arns=frozenset({self.role_arn(self.auth_role)}),
            unauth_role_arns=frozenset({self.role_arn(self.unauth_role)}),
        )

    @classmethod
    def from_settings(cls, settings: Any, origin: str = "[tool.modelauth.local]") -> LocalConfig:
        """A config from pyproject's ``[tool.modelauth.local]`` table (defaults for the rest)."""
        if settings is None:
            return cls()
        if not isinstance(settings, Mapping):
            raise ProjectError(f"{origin} must be a table")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise ProjectError(f"{origin}: unknown setting(s) {unknown}; known: {sorted(names)}")
        values: dict[str, Any] = {}
        for name, value in settings.items():
            if name == "users":
                values[name] = _users(value, origin)
            elif not isinstance(value, str) or not value:
                raise ProjectError(f"{origin}: {name} must be a non-empty string")
            else:
                values[name] = value
        return cls(**values)


def _users(value: Any, origin: str) -> tuple[LocalUser, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise ProjectError(f"{origin}: users must be a list of at least two {{name, sub, groups}} tables")
    users = []
    for item in value:
        name, sub, groups = (
            (item.get(k) for k in ("name", "sub", "groups")) if isinstance(item, Mapping) else (None,) * 3
        )
        if (
            not isinstance(name, str)
            or not re.fullmatch(r"[a-z][a-z0-9_-]*", name)
            or not isinstance(sub, str)
        ):
            raise ProjectError(f"{origin}: each user needs a lower-case name and a sub (strings)")
        if groups is not None and not (isinstance(groups, list) and all(isinstance(g, str) for g in groups)):
            raise ProjectError(f"{origin}: {name}'s groups must be a list of strings")
        users.append(LocalUser(name, sub, None if groups is None else tuple(groups)))
    return tuple(users)


# -- callers ------------------------------------------------------------------------------------


class _Caller(NamedTuple):
    provider: Provider
    #: the file-name part after the field: "userPools.alice", "apiKey", "iam.modelauth-backend"
    label: str
    #: a user (owner-capable caller) or None (API key, guest, backend role)
    user: LocalUser | None
    identity: dict[str, Any] | None
    headers: dict[str, str]

    @property
    def mode(self) -> AuthMode:
        return _MODE[self.provider]


_MODE = {
    Provider.USER_POOLS: AuthMode.USER_POOLS,
    Provider.API_KEY: AuthMode.API_KEY,
    Provider.IDENTITY_POOL: AuthMode.IAM,
    Provider.IAM: AuthMode.IAM,
    Provider.OIDC: AuthMode.OIDC,
    Provider.FUNCTION: AuthMode.LAMBDA,
}


def _flat(model: Model) -> list[Rule]:
    rules = [*model.rules, *(r for f in model.fields for r in f.rules or ())]
    return [sub for rule in rules for sub in rule.rules or (rule,)]


def _schema_groups(schema: Schema) -> dict[str, list[str]]:
    """Every static group the rules name, by the claim that carries it."""
    groups: dict[str, list[str]] = {}
    operations = [sub for op in schema.operations for rule in op.rules for sub in rule.rules or (rule,)]
    for rule in [*(r for model in schema.models for r in _flat(model)), *operations]:
        for group in rule.groups:
            names = groups.setdefault(rule.group_claim, [])
            if group not in names:
                names.append(group)
    return groups


def _user_groups(user: LocalUser, claim_groups: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The user's groups by claim: configured ones under every claim, else every group named."""
    if user.groups is not None:
        return {claim: list(user.groups) for claim in {DEFAULT_GROUP_CLAIM, *claim_groups}}
    return {claim: list(names) for claim, names in claim_groups.items()}


def _b64(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _placeholder_jwt(claims: Mapping[str, Any]) -> str:
    """A JWT-shaped header value whose signature nobody checks (the resolver never verifies)."""
    return f"{_b64({'alg': 'RS256', 'kid': 'local'})}.{_b64({'sub': claims.get('sub')})}.c2lnbmF0dXJl"


@cache
def _moto_signing_key() -> Any:
    """moto's Cognito private key: the public half is ``modelauth.local.moto_jwks()``."""
    import gzip
    from importlib.resources import files

    from jwt.algorithms import RSAAlgorithm

    data = files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    return RSAAlgorithm.from_jwk(gzip.decompress(data).decode())


def _access_claims(config: LocalConfig, user: LocalUser, groups: Mapping[str, list[str]]) -> dict[str, Any]:
    """A Cognito access token's claims (spec §7.1), as moto's pool would issue them."""
    jti = str(uuid.uuid5(_NAMESPACE, f"{config.user_pool_id}/{user.name}/jti"))
    claims: dict[str, Any] = {"sub": user.sub}
    if groups.get(DEFAULT_GROUP_CLAIM):
        claims["cognito:groups"] = groups[DEFAULT_GROUP_CLAIM]
    claims.update(
        iss=config.issuer,
        version=2,
        client_id=config.client_id,
        origin_jti=jti,
        event_id=str(uuid.uuid5(_NAMESPACE, f"{jti}/event")),
        token_use="access",  # noqa: S106 - a claim, not a password
        scope="aws.cognito.signin.user.admin",
        auth_time=_IAT,
        iat=_IAT,
        exp=_EXP,
        jti=str(uuid.uuid5(_NAMESPACE, f"{jti}/access")),
        username=user.name,
    )
    for claim, names in groups.items():  # groups under custom claims the rules read
        if claim != DEFAULT_GROUP_CLAIM and names:
            claims[claim] = names
    return claims


def _signed(claims: Mapping[str, Any]) -> str:
    import jwt

    return jwt.encode(dict(claims), _moto_signing_key(), algorithm="RS256", headers={"kid": "dummy"})


class _Callers:
    """The callers of one configuration: identities, headers and tokens, built once."""

    def __init__(self, schema: Schema, config: LocalConfig) -> None:
        self.config = config
        self.groups = _schema_groups(schema)
        self._host = {"host": f"{_API_ID}.appsync-api.{config.region}.amazonaws.com"}

    def _headers(self, **extra: str) -> dict[str, str]:
        return {
            "content-type": "application/json",
            **self._host,
            "x-forwarded-for": f"{_SOURCE_IP}, 10.0.0.1",
            "user-agent": "aws-amplify/6.0 js",
            "accept": "application/json, text/plain, */*",
            **extra,
        }

    def access_token(self, user: LocalUser) -> str:
        return _signed(_access_claims(self.config, user, _user_groups(user, self.groups)))

    def lambda_context(self, user: LocalUser) -> dict[str, str]:
        """What the Lambda authorizer answers for the user's access token (its context)."""
        groups = _user_groups(user, self.groups).get(DEFAULT_GROUP_CLAIM, [])
        return {
            "authMethod": "jwt",
            "sub": user.sub,
            "username": user.name,
            "issuer": self.config.issuer,
            "groups": json.dumps(groups),
            "clientId": self.config.client_id,
            "tokenUse": "access",
            "scope": "aws.cognito.signin.user.admin",
        }

    def of(self, model: Model) -> list[_Caller]:
        """The callers of every provider the model's rules mention, in the rules' order."""
        callers: dict[str, _Caller] = {}
        for rule in _flat(model):
            for caller in self._for_rule(rule):
                callers.setdefault(caller.label, caller)
        return list(callers.values())

    def _for_rule(self, rule: Rule) -> list[_Caller]:
        users = self.config.users
        provider = rule.provider
        if provider is Provider.API_KEY:
            return [
                _Caller(provider, "apiKey", None, None, self._headers(**{"x-api-key": self.config.api_key}))
            ]
        if provider is Provider.IAM:
            return [
                self._iam(provider, f"iam.{_role_name(r)}", None, self._role_session(r)) for r in rule.roles
            ]
        if provider is Provider.IDENTITY_POOL:
            if rule.strategy is Strategy.PUBLIC:
                return [self._iam(provider, "identityPool.guest", None, self._pool_session(None))]
            return [self._iam(provider, f"identityPool.{u.name}", u, self._pool_session(u)) for u in users]
        make = {
            Provider.USER_POOLS: self._user_pools,
            Provider.OIDC: self._oidc,
            Provider.FUNCTION: self._lambda,
        }
        return [make[provider](u) for u in users]

    def _user_pools(self, user: LocalUser) -> _Caller:
        claims = _access_claims(self.config, user, _user_groups(user, self.groups))
        identity = user_pool_identity(claims, _SOURCE_IP)
        headers = self._headers(authorization=self.access_token(user))
        return _Caller(Provider.USER_POOLS, f"userPools.{user.name}", user, identity, headers)

    def _oidc(self, user: LocalUser) -> _Caller:
        claims: dict[str, Any] = {
            "sub": f"oidc-{user.sub}",
            "iss": self.config.oidc_issuer,
            "aud": self.config.oidc_audience,
            "iat": _IAT,
            "exp": _EXP,
            "username": user.name,
        }
        for claim, names in _user_groups(user, self.groups).items():
            if names:
                claims[claim] = names
        identity = {"sub": claims["sub"], "issuer": self.config.oidc_issuer, "claims": claims}
        headers = self._headers(authorization=_placeholder_jwt(claims))
        return _Caller(Provider.OIDC, f"oidc.{user.name}", user, identity, headers)

    def _lambda(self, user: LocalUser) -> _Caller:
        identity = {"resolverContext": self.lambda_context(user)}
        headers = self._headers(authorization=f"Bearer {self.access_token(user)}")
        return _Caller(Provider.FUNCTION, f"function.{user.name}", user, identity, headers)

    def _pool_session(self, user: LocalUser | None) -> dict[str, Any]:
        config = self.config
        name = user.name if user else "guest"
        identity_id = f"{config.region}:{uuid.uuid5(_NAMESPACE, f'{config.identity_pool_id}/{name}')}"
        role = config.auth_role if user else config.unauth_role
        provider = None
        if user is not None:
            pool = f"cognito-idp.{config.region}.amazonaws.com/{config.user_pool_id}"
            provider = f'"{pool}","{pool}:CognitoSignIn:{user.sub}"'
        return {
            "accountId": config.account_id,
            "cognitoIdentityPoolId": config.identity_pool_id,
            "cognitoIdentityId": identity_id,
            "cognitoIdentityAuthType": "authenticated" if user else "unauthenticated",
            "cognitoIdentityAuthProvider": provider,
            "sourceIp": [_SOURCE_IP],
            "username": f"{_role_id(role)}:CognitoIdentityCredentials",
            "userArn": f"arn:aws:sts::{config.account_id}:assumed-role/{_role_name(role)}"
            "/CognitoIdentityCredentials",
        }

    def _role_session(self, role: str) -> dict[str, Any]:
        account = role.split(":")[4] if role.startswith("arn:") else self.config.account_id
        session = "modelauth-local"
        return {
            "accountId": account,
            "cognitoIdentityPoolId": None,
            "cognitoIdentityId": None,
            "cognitoIdentityAuthType": None,
            "cognitoIdentityAuthProvider": None,
            "sourceIp": [_SOURCE_IP],
            "username": f"{_role_id(role)}:{session}",
            "userArn": f"arn:aws:sts::{account}:assumed-role/{_role_name(role)}/{session}",
        }

    def _iam(
        self, provider: Provider, label: str, user: LocalUser | None, identity: dict[str, Any]
    ) -> _Caller:
        key = "ASIA" + _role_id(label)[4:]
        scope = f"20260101/{self.config.region}/appsync/aws4_request"
        signed = "content-type;host;x-amz-date;x-amz-security-token"
        headers = self._headers(
            authorization=f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, "
            f"Signature={'0' * 64}",
            **{"x-amz-date": "20260101T000000Z", "x-amz-security-token": "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"},
        )
        return _Caller(provider, label, user, identity, headers)


def _role_name(role: str) -> str:
    """``modelauth-backend`` for a role name or ``arn:aws:iam::1:role/path/modelauth-backend``."""
    return role.rsplit("/", 1)[-1]


def _role_id(name: str) -> str:
    """A stable made-up role id (``AROA`` + 17 upper-case letters/digits), as IAM shows them."""
    digits = uuid.uuid5(_NAMESPACE, name).hex.upper()
    return "AROA" + digits[:17]


# -- arguments ----------------------------------------------------------------------------------


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _rule_fields(model: Model) -> set[str]:
    return {name for r in _flat(model) for name in (r.owner_field, r.groups_field) if name}


def _sample(model: Model, f: Field, who: str) -> Any:
    if f.type == "String" and f.default is None:
        return f"{f.name} of {model.name.lower()} by {who}"
    if f.type == "AWSEmail":
        return f"{who}@example.com"
    return sample_value(f)


def _item_key(model: Model, item_id: str) -> dict[str, Any]:
    """The key of the item ``item_id`` names: ``{"id": item_id}``, or for a custom identifier
    each key field's value made from it (a string key is ``item_id`` itself, an email
    ``<item_id>@example.com``, a number one derived from it; other types their sample value)."""
    if model.key_fields == ("id",):
        return {"id": item_id}
    key: dict[str, Any] = {}
    for name in model.key_fields:
        f = model.field(name)
        assert f is not None  # an identifier names declared fields (Model checks it)
        number = zlib.crc32(item_id.encode()) % 1_000_000 + 1
        if f.type in ("String", "ID"):
            key[name] = item_id
        elif f.type == "AWSEmail":
            key[name] = f"{item_id}@example.com"
        elif f.type in ("Int", "AWSTimestamp"):
            key[name] = number
        elif f.type == "Float":
            key[name] = number + 0.5
        else:
            key[name] = sample_value(f)
    return key


def _create_input(model: Model, item_id: str, who: str) -> dict[str, Any]:
    """The key and every field a client fills: not owner or group fields (create stamps the
    owner) and not fields with rules of their own unless required (a caller may be denied them)."""
    data: dict[str, Any] = _item_key(model, item_id)
    skipped = _rule_fields(model) | set(data)
    for f in model.fields:
        if f.name in skipped or (f.rules is not None and not f.required):
            continue
        value = _sample(model, f, who)
        data[f.name] = [value] if f.is_list else value
    return data


def _update_input(model: Model, item_id: str, who: str) -> dict[str, Any]:
    """The key and the first plain field (not a key field: a key never changes), changed."""
    key = _item_key(model, item_id)
    skipped = _rule_fields(model) | set(key)
    for f in model.fields:
        if f.name not in skipped and f.rules is None:
            value = _sample(model, f, f"{who} (updated)")
            if f.type == "Boolean":
                value = not SAMPLE_VALUES["Boolean"]
            return {**key, f.name: [value] if f.is_list else value}
    return key


def _selection(model: Model) -> list[str]:
    names = [f.name for f in model.fields]
    return ["id", *names, *model.timestamp_fields, "_version"]


# -- events -------------------------------------------------------------------------------------


def _item_id(model: Model, caller: _Caller) -> str:
    """``todo-userpools-alice``, ``note-identitypool-guest``, ``todo-apikey``."""
    _provider, _, who = caller.label.partition(".")
    return "-".join(filter(None, (_kebab(model.name), caller.provider.value.lower(), who)))


def _appsync_events(model: Model, callers: list[_Caller]) -> dict[str, dict[str, Any]]:
    """get, list, create, update, delete and onCreate of the model for each caller."""
    events: dict[str, dict[str, Any]] = {}
    first_user = {c.provider: c for c in reversed(callers) if c.user is not None}
    any_user = next((c for c in callers if c.user is not None), None)
    selection = _selection(model)
    for caller in callers:
        owner_side = first_user.get(caller.provider) or any_user or caller
        target = _item_id(model, owner_side)
        who = caller.user.name if caller.user else caller.label
        arguments: dict[str, dict[str, Any]] = {
            "get": _item_key(model, target),
            "list": {"limit": 20},
            "create": {"input": _create_input(model, _item_id(model, caller), who)},
            "update": {"input": _update_input(model, target, who)},
            "delete": {"input": _item_key(model, target)},
            "listen": {},
        }
        for root in root_fields(model):
            if root.type_name == "Subscription" and not root.field_name.startswith("onCreate"):
                continue
            fields_ = selection
            if root.operation.value == "list":
                fields_ = ["items", *(f"items/{f}" for f in selection), "nextToken"]
            args = arguments[root.operation.value]
            if root.secondary is not None:  # a secondary index's query: its partition key value
                pk = root.secondary.partition_key
                args = {**args, pk: _partition_sample(model, pk)}
            event = appsync_event(
                root.type_name,
                root.field_name,
                args,
                caller.identity,
                headers=caller.headers,
                selection=fields_,
                auth_type=_AUTH_TYPE[caller.mode],
            )
            events[f"{root.field_name}.{caller.label}.json"] = event
    return events


def _relation_events(schema: Schema, model: Model, callers: list[_Caller]) -> dict[str, dict[str, Any]]:
    """Each relationship field of the model (``Post.comments``, ``Comment.post``) for each of the
    model's callers, as AppSync invokes it below the parent: ``source`` is the parent item the
    first user of the caller's provider creates (alice's), its references naming the related
    item that user creates, so the related model's rules decide what each caller gets."""
    events: dict[str, dict[str, Any]] = {}
    first_user = {c.provider: c for c in reversed(callers) if c.user is not None}
    for rel in model.relations:
        related = schema.model(rel.related)
        selection = _selection(related)
        if rel.is_list:
            selection = ["items", *(f"items/{f}" for f in selection), "nextToken"]
        for caller in callers:
            owner_side = first_user.get(caller.provider) or caller
            source: dict[str, Any] = {"id": _item_id(model, owner_side), "__typename": model.name}
            if rel.holds_reference:
                source.update(dict.fromkeys(rel.references, _item_id(related, owner_side)))
            event = appsync_event(
                model.name,
                rel.name,
                {"limit": 20} if rel.is_list else {},
                caller.identity,
                headers=caller.headers,
                selection=selection,
                auth_type=_AUTH_TYPE[caller.mode],
            )
            event["source"] = source
            events[f"{model.name}.{rel.name}.{caller.label}.json"] = event
    return events


def _partition_sample(model: Model, name: str) -> Any:
    f = model.field(name)
    return sample_value(f) if f is not None else SAMPLE_VALUES["AWSDateTime"]


def _operation_events(schema: Schema, callers: _Callers) -> dict[str, dict[str, Any]]:
    """Each custom operation (:mod:`modelauth.custom`) for every caller its rules mention, its
    required arguments filled; an item argument names the item of its model that the first
    user of the caller's provider creates (alice's), so ``alice`` shows the owner, ``bob`` not."""
    events: dict[str, dict[str, Any]] = {}
    for bound in schema.bound_operations:
        op = bound.op
        found: dict[str, _Caller] = {}
        for rule in op.rules:
            for sub in rule.rules or (rule,):
                for caller in callers._for_rule(sub):
                    found.setdefault(caller.label, caller)
        listed = list(found.values())
        first_user = {c.provider: c for c in reversed(listed) if c.user is not None}
        selection = _selection(bound.returns) if bound.returns is not None else []
        for caller in listed:
            who = caller.user.name if caller.user else caller.label
            arguments: dict[str, Any] = {}
            for a in op.args:
                if bound.item_model is not None and a.name == op.item_argument:
                    arguments[a.name] = _item_id(bound.item_model, first_user.get(caller.provider) or caller)
                elif a.required:
                    value = (
                        f"{a.name} by {who}" if a.type == "String" else SAMPLE_VALUES.get(a.type, "sample")
                    )
                    arguments[a.name] = [value] if a.is_list else value
            events[f"{op.name}.{caller.label}.json"] = appsync_event(
                op.type_name,
                op.name,
                arguments,
                caller.identity,
                headers=caller.headers,
                selection=selection,
                auth_type=_AUTH_TYPE[caller.mode],
            )
    return events


def _rest_events(model: Model, callers: _Callers, config: LocalConfig) -> dict[str, dict[str, Any]]:
    """REST (1.0) and HTTP API (2.0) proxy events of the model's routes, per user, as they reach
    the REST function after the Lambda authorizer (its context)."""
    events: dict[str, dict[str, Any]] = {}
    base = resource_path(model)
    for kind in ("rest", "http"):
        owner = config.users[0]
        target = f"{_kebab(model.name)}-{kind}-{owner.name}"
        one = item_path(model, _item_key(model, target))  # the whole key, one segment a part
        for user in config.users:
            created = f"{_kebab(model.name)}-{kind}-{user.name}"
            changes = _update_input(model, target, user.name)
            routes = {
                f"list{model.list_name}": ("GET", base, None, {"limit": "20"}),
                f"create{model.name}": ("POST", base, _create_input(model, created, user.name), None),
                f"get{model.name}": ("GET", one, None, None),
                f"update{model.name}": (
                    "PATCH",
                    one,
                    {k: v for k, v in changes.items() if k not in model.key_fields},
                    None,
                ),
                f"delete{model.name}": ("DELETE", one, None, None),
            }
            for secondary in model.secondary_indexes:  # GET /tasks/tasksByStatus/<a status>
                value = quote(str(_partition_sample(model, secondary.partition_key)), safe="")
                path = f"{index_path(model, secondary)}/{value}"
                routes[secondary.field_name(model)] = ("GET", path, None, {"limit": "20"})
            context = callers.lambda_context(user)
            token = f"Bearer {callers.access_token(user)}"
            for name, (method, path, body, query) in routes.items():
                build = _rest_event if kind == "rest" else _http_event
                path = path if kind == "rest" else unquote(path)  # an HTTP API decodes the path
                call = _Call(method, path, body, query, context, token, f"req-{name}-{user.name}")
                events[f"{kind}.{name}.{user.name}.json"] = build(config, call)
    return events


class _Call(NamedTuple):
    """One API Gateway request: route, body, query, the authorizer's context and the credential."""

    method: str
    path: str
    body: Any
    query: Mapping[str, str] | None
    context: Mapping[str, str]
    token: str
    request_id: str


def _rest_event(config: LocalConfig, call: _Call) -> dict[str, Any]:
    method, path, body, query, context, token, request_id = call
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {
            "Accept": "application/json",
            "Authorization": token,
            "Content-Type": "application/json",
            "Host": f"{_REST_API_ID}.execute-api.{config.region}.amazonaws.com",
        },
        "multiValueHeaders": {},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": config.account_id,
            "apiId": _REST_API_ID,
            "stage": "dev",
            "requestId": request_id,
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{path}",
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "curl/8.5.0"},
            "authorizer": {**context, "principalId": context["sub"], "integrationLatency": 31},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def _http_event(config: LocalConfig, call: _Call) -> dict[str, Any]:
    method, path, body, query, context, token, request_id = call
    host = f"{_REST_API_ID}.execute-api.{config.region}.amazonaws.com"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"accept": "application/json", "authorization": token, "host": host},
        "requestContext": {
            "accountId": config.account_id,
            "apiId": _REST_API_ID,
            "authorizer": {"lambda": dict(context)},
            "domainName": host,
            "domainPrefix": _REST_API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": request_id,
            "routeKey": "ANY /{proxy+}",
            "stage": "$default",
            "time": "01/Jan/2026:12:00:00 +0000",
            "timeEpoch": 1767268800000,
        },
        "pathParameters": {"proxy": path.lstrip("/")},
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if body is not None:
        event["headers"]["content-type"] = "application/json"
        event["body"] = json.dumps(body)
    return event


def _authorizer_events(schema: Schema, callers: _Callers, config: LocalConfig) -> dict[str, dict[str, Any]]:
    """The authorizer's four callers, each with every user's access token and the API key."""
    model = schema.models[0]
    path = f"{resource_path(model)}/{_kebab(model.name)}-rest-{config.users[0].name}"
    credentials = {u.name: f"Bearer {callers.access_token(u)}" for u in config.users}
    credentials["apiKey"] = config.authorizer_api_key
    rest_host = f"{_REST_API_ID}.execute-api.{config.region}.amazonaws.com"
    method_arn = f"arn:aws:execute-api:{config.region}:{config.account_id}:{_REST_API_ID}/dev/GET{path}"
    events: dict[str, dict[str, Any]] = {}
    for who, credential in credentials.items():
        events[f"authorizer.appsync.{who}.json"] = {
            "authorizationToken": credential,
            "requestContext": {
                "apiId": _API_ID,
                "accountId": config.account_id,
                "requestId": str(uuid.uuid5(_NAMESPACE, f"appsync/{who}")),
                "queryString": f"query {{ list{model.list_name} {{ items {{ id }} }} }}",
                "operationName": None,
                "variables": {},
            },
            "requestHeaders": {
                "authorization": credential,
                "content-type": "application/json",
                "host": f"{_API_ID}.appsync-api.{config.region}.amazonaws.com",
            },
        }
        events[f"authorizer.rest-token.{who}.json"] = {
            "type": "TOKEN",
            "authorizationToken": credential,
            "methodArn": method_arn,
        }
        rest = _rest_event(
            config, _Call("GET", path, None, None, {"sub": "-"}, credential, f"authorize-{who}")
        )
        del rest["requestContext"]["authorizer"]
        rest.update(type="REQUEST", methodArn=method_arn)
        rest["multiValueHeaders"] = {k: [v] for k, v in rest["headers"].items()}
        events[f"authorizer.rest-request.{who}.json"] = rest
        http = _http_event(config, _Call("GET", path, None, None, {}, credential, f"authorize-{who}"))
        del http["requestContext"]["authorizer"]
        route = f"arn:aws:execute-api:{config.region}:{config.account_id}:{_REST_API_ID}/$default/GET{path}"
        http.update(type="REQUEST", routeArn=route, identitySource=[credential], cookies=[])
        http["headers"]["host"] = rest_host
        events[f"authorizer.http-v2.{who}.json"] = http
    return events


def sample_events(
    schema: Schema,
    config: LocalConfig,
    *,
    rest: bool = False,
    authorizer: bool = False,
) -> dict[str, dict[str, Any]]:
    """``{file name: event}`` for every model, operation and caller of the schema.

    With ``rest``, the REST function's events of the models whose rules mention ``function``
    (its callers come through the Lambda authorizer: AWS_LAMBDA principals, which no other rule
    admits); with ``authorizer``, the Lambda authorizer's. The CLI sets both from the template.
    """
    if len({u.name for u in config.users}) != len(config.users) or len(config.users) < 2:
        raise ProjectError("the local config needs at least two users with distinct names")
    config = replace(config, users=tuple(config.users))
    callers = _Callers(schema, config)
    events: dict[str, dict[str, Any]] = {}
    for model in schema.models:
        events.update(_appsync_events(model, callers.of(model)))
        events.update(_relation_events(schema, model, callers.of(model)))
        if rest and any(r.provider is Provider.FUNCTION for r in _flat(model)):
            events.update(_rest_events(model, callers, config))
    events.update(_operation_events(schema, callers))
    if authorizer and schema.models:
        events.update(_authorizer_events(schema, callers, config))
    return dict(sorted(events.items()))
