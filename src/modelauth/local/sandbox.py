"""The backend a local endpoint serves from, and the state file that lets the CLI reach it.

:meth:`Backend.embedded` starts a moto server on 127.0.0.1 (a free port) and creates what
template.yaml declares: the model tables (named by their logical ids), the user pool with its
app client and groups. It adds what the template leaves to other stacks or to AWS itself: an
identity pool linked to the user pool (auth and unauth roles in moto IAM), the rules' backend
roles, an API key (``da2-…``, expiring as the template says or in AppSync's 7 days), a key for
the Lambda authorizer (``mak_…``), and two local token issuers with fresh RSA keys: ``oidc`` (the
API's OPENID_CONNECT provider) and ``partner`` (an IdP only the Lambda authorizer trusts, so its
tokens reach the AWS_LAMBDA mode).

:meth:`Backend.from_stack` (``modelauth serve --aws``) takes the tables and the user pool of a
deployed stack instead; identity pool, keys and issuers stay local.

The state (endpoints, ids, keys, local users' passwords, issuer private keys) is written to
``.modelauth/local.json`` (mode 0600, git-ignored) for ``modelauth users|token|creds``.

Example::

    backend = Backend.embedded(SamTemplate.load("template.yaml"), SCHEMA)
    backend.add_user("alice", groups=["editors"])
    token = backend.token("alice")           # a real Cognito access token from moto
    backend.stop()
"""

from __future__ import annotations

import json
import os
import secrets
import string
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from modelauth.local import LocalUserPool, moto_jwks, table_definition
from modelauth.local.identitypool import Role
from modelauth.local.samtemplate import SamTemplate, TemplateError
from modelauth.rules import Schema, Strategy
from modelauth.store import index_table_definition

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

__all__ = ["DEFAULT_STATE", "Backend", "BackendError", "LocalIssuer", "TokenKind"]

DEFAULT_STATE = Path(".modelauth") / "local.json"
ACCOUNT_ID = "123456789012"  # moto's default account
API_KEY_DAYS = 7  # AppSync's default lifetime
TokenKind = Literal["access", "id", "oidc", "lambda"]
_LOWER_DIGITS = string.ascii_lowercase + string.digits
_DUMMY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class BackendError(RuntimeError):
    """The local backend can't do what was asked (no server running, unknown user, ...)."""


# --------------------------------------------------------------------------- local token issuers


@dataclass(frozen=True)
class LocalIssuer:
    """A token issuer with its own RSA key: mints RS256 JWTs any verifier can check with
    :meth:`jwks`. Subjects are ``local|<name>``, stable per name.

    Example::

        >>> import jwt
        >>> issuer = LocalIssuer.generate("https://oidc.modelauth.local", "items-client")
        >>> token = issuer.mint("carol", groups=["Moderator"])
        >>> key = jwt.PyJWKSet.from_dict(issuer.jwks())[issuer.kid].key
        >>> jwt.decode(token, key, algorithms=["RS256"], audience="items-client")["sub"]
        'local|carol'
    """

    issuer: str
    audience: str
    kid: str
    private_pem: str = field(repr=False)

    @classmethod
    def generate(cls, issuer: str, audience: str) -> LocalIssuer:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return cls(issuer, audience, f"local-{secrets.token_hex(4)}", pem)

    def jwks(self) -> dict[str, Any]:
        """The public key set (``{"keys": [...]}``)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        private = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise BackendError(f"{self.issuer}: the issuer key is not an RSA key")
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def mint(self, name: str, *, groups: Iterable[str] = (), ttl: int = 3600) -> str:
        """A signed token for user ``name`` (``groups`` in the ``groups`` claim)."""
        import jwt

        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": f"local|{name}",
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl,
            "preferred_username": name,
        }
        if groups:
            claims["groups"] = list(groups)
        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid})


# --------------------------------------------------------------------------- the backend


@dataclass
class Backend:
    """The resources a local endpoint serves from; JSON-serialisable (the state file)."""

    template_path: str
    region: str
    account_id: str
    #: the embedded moto server's URL; None when the data and user pool are real AWS (--aws)
    aws_endpoint: str | None
    #: logical id (and parameter / pseudo parameter) → value, to resolve the template with
    refs: dict[str, str]
    user_pool_id: str
    user_pool_client_id: str
    identity_pool_id: str
    auth_role: Role
    unauth_role: Role
    backend_roles: dict[str, Role]
    #: AppSync API keys → expiry (epoch seconds)
    api_keys: dict[str, float] = field(repr=False)
    #: the Lambda authorizer's key and its stored (hashed) record
    lambda_api_key: str = field(repr=False)
    lambda_api_key_record: dict[str, str]
    oidc: LocalIssuer
    partner: LocalIssuer
    users: dict[str, str] = field(default_factory=dict, repr=False)  # username → password
    #: the GraphQL URL once a server listens
    endpoint: str | None = None
    #: ``package.module:ATTR`` the functions load (their MODELAUTH_SCHEMA); None: the template's
    schema_ref: str | None = None
    _moto: ThreadedMotoServer | None = field(default=None, repr=False, compare=False)

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def embedded(cls, template: SamTemplate, schema: Schema, *, region: str = "us-east-1") -> Backend:
        """Start moto on 127.0.0.1 and create the template's resources in it."""
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per AWS call
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        try:
            backend = cls._create(template, schema, region, f"http://{host}:{port}")
        except BaseException:
            moto.stop()
            raise
        backend._moto = moto
        return backend

    @classmethod
    def _create(cls, template: SamTemplate, schema: Schema, region: str, endpoint: str) -> Backend:
        refs = _base_refs(template, region, ACCOUNT_ID)
        clients = _Clients(region, endpoint)
        # physical names as CloudFormation makes them: logical id + a suffix (moto's state is
        # per process, so two embedded backends in one process must not share names)
        suffix = secrets.token_hex(3)
        refs.update({name: f"{name}-{suffix}" for name in template.of_type("AWS::DynamoDB::Table")})
        _user_pool_refs(template, refs, *_create_user_pool(clients.get("cognito-idp"), template, refs))
        iam = clients.get("iam")

        def role(name: str) -> Role:
            try:
                created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_TRUST_POLICY)["Role"]
            except iam.exceptions.EntityAlreadyExistsException:  # a resource role: named by the rules
                created = iam.get_role(RoleName=name)["Role"]
            return Role(name, created["RoleId"])

        roles = [role(f"{name}-{suffix}") for name in _pool_roles(template)]
        _role_refs(template, refs, roles)
        identity_pool = _create_identity_pool(clients.get("cognito-identity"), template, refs)
        _create_tables(clients.get("dynamodb"), template, schema, refs)  # last: names need every ref
        return cls._assemble(
            template,
            region=region,
            endpoint=endpoint,
            refs=refs,
            identity_pool=identity_pool,
            roles=roles,
            backend_roles={name: role(name) for name in _resource_roles(schema)},
        )

    @classmethod
    def from_stack(cls, template: SamTemplate, schema: Schema, stack: str, *, region: str) -> Backend:
        """Tables, user pool and identity-pool ids of a deployed stack (``modelauth serve --aws``);
        the credentials of IAM callers, the API key, the Lambda-authorizer key and the token
        issuers stay local."""
        import boto3

        cloudformation = boto3.client("cloudformation", region_name=region)
        account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
        refs = _base_refs(template, region, account)
        refs["AWS::StackName"] = stack
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack):
            refs.update(
                {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in page["StackResourceSummaries"]}
            )
        pool, client = (
            _logical(template, "AWS::Cognito::UserPool"),
            _logical(template, "AWS::Cognito::UserPoolClient"),
        )
        _user_pool_refs(template, refs, refs[pool], refs[client])

        def role(name: str) -> Role:  # the role id only shows in `username`: made up locally
            return Role(name, "AROA" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(17)))

        roles = [role(refs.get(name, name)) for name in _pool_roles(template)]
        _role_refs(template, refs, roles)
        identity_pools = list(template.of_type("AWS::Cognito::IdentityPool"))
        return cls._assemble(
            template,
            region=region,
            endpoint=None,
            refs=refs,
            identity_pool=refs[identity_pools[0]] if identity_pools else f"{region}:{uuid.uuid4()}",
            roles=roles,
            backend_roles={name: role(name) for name in _resource_roles(schema)},
        )

    @classmethod
    def _assemble(
        cls,
        template: SamTemplate,
        *,
        region: str,
        endpoint: str | None,
        refs: dict[str, str],
        identity_pool: str,
        roles: list[Role],
        backend_roles: dict[str, Role],
    ) -> Backend:
        from datetime import UTC, datetime, timedelta

        from modelauth.apikeys import new_api_key

        expires = template.api.api_key_expires or time.time() + API_KEY_DAYS * 86400
        lambda_key, record = new_api_key("local", datetime.now(UTC) + timedelta(days=API_KEY_DAYS))
        return cls(
            template_path=str(template.path),
            region=region,
            account_id=refs["AWS::AccountId"],
            aws_endpoint=endpoint,
            refs=refs,
            user_pool_id=refs[_logical(template, "AWS::Cognito::UserPool")],
            user_pool_client_id=refs[_logical(template, "AWS::Cognito::UserPoolClient")],
            identity_pool_id=identity_pool,
            auth_role=roles[0],
            unauth_role=roles[1],
            backend_roles=backend_roles,
            api_keys={"da2-" + "".join(secrets.choice(_LOWER_DIGITS) for _ in range(26)): float(expires)},
            lambda_api_key=lambda_key,
            lambda_api_key_record=record.as_json(),
            oidc=LocalIssuer.generate("https://oidc.modelauth.local", "modelauth-items"),
            partner=LocalIssuer.generate("https://partner.modelauth.local", "modelauth-tickets"),
        )

    def stop(self) -> None:
        """Stop the embedded moto server (its data is gone)."""
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    # -- the state file ----------------------------------------------------------------------------
    def save(self, path: Path = DEFAULT_STATE) -> None:
        """Write the state (0600: it holds keys and passwords), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        data = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        temporary = path.with_suffix(".tmp")
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            json.dump(data, out, indent=2, default=asdict)  # Role, LocalIssuer: plain dataclasses
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path = DEFAULT_STATE) -> Backend:
        """The state of the running local endpoint; :class:`BackendError` when there is none."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise BackendError(
                f"no local endpoint state in {path}: start one with `modelauth serve`"
            ) from None
        except ValueError as exc:
            raise BackendError(f"{path} is not valid JSON: {exc}") from None
        data["auth_role"] = Role(**data["auth_role"])
        data["unauth_role"] = Role(**data["unauth_role"])
        data["backend_roles"] = {k: Role(**v) for k, v in data["backend_roles"].items()}
        data["oidc"] = LocalIssuer(**data["oidc"])
        data["partner"] = LocalIssuer(**data["partner"])
        return cls(**data)

    # -- clients and identities --------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this backend (moto, or AWS with --aws)."""
        return _Clients(self.region, self.aws_endpoint).get(service)

    @property
    def user_pool_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def login_provider(self) -> str:
        """The identity pool's ``Logins`` key for this user pool."""
        return self.user_pool_issuer.removeprefix("https://")

    def user_pool_jwks(self) -> Mapping[str, Any] | str:
        """moto's signing keys (embedded), or the pool's JWKS URL (real AWS)."""
        return moto_jwks() if self.aws_endpoint else f"{self.user_pool_issuer}/.well-known/jwks.json"

    def _user_pool(self) -> LocalUserPool:
        return LocalUserPool(
            self.client("cognito-idp"), self.user_pool_id, self.user_pool_client_id, self.region
        )

    def add_user(self, username: str, groups: Iterable[str] = ()) -> str:
        """Create a confirmed user with a generated password (kept in the state); returns its sub."""
        if username in self.users:
            raise BackendError(f"user {username!r} exists already")
        password = "Aa1" + secrets.token_urlsafe(18)
        sub = self._user_pool().add_user(
            username, password, groups, attributes={"email": f"{username}@example.com"}
        )
        self.users[username] = password
        return sub

    def token(self, name: str, kind: TokenKind = "access", groups: Iterable[str] = ()) -> str:
        """A token for ``name``: Cognito ``access``/``id`` (the user must exist), or one from the
        local ``oidc`` / ``partner`` (Lambda authorizer) issuer (any name; ``groups`` claimed)."""
        if kind == "oidc":
            return self.oidc.mint(name, groups=groups)
        if kind == "lambda":
            return self.partner.mint(name, groups=groups)
        password = self.users.get(name)
        if password is None:
            raise BackendError(f"no local user {name!r}: add one with `modelauth users add {name}`")
        tokens = self._user_pool().sign_in(name, password)
        return tokens["IdToken" if kind == "id" else "AccessToken"]

    # -- what the template's functions see ----------------------------------------------------------
    def environment(self, template: SamTemplate, function: str) -> dict[str, str]:
        """The function's environment, resolved against this backend, plus what runs it locally:
        the moto endpoint, the identity pool, local JWKS, API keys and issuers."""
        env = template.environment(function, self.refs)
        env.update(AWS_REGION=self.region, AWS_DEFAULT_REGION=self.region)
        if self.schema_ref:  # the schema the command resolved (--schema, $MODELAUTH_SCHEMA, pyproject)
            env["MODELAUTH_SCHEMA"] = self.schema_ref
        # what a template without an identity pool leaves unset: the local pool and its roles
        env.setdefault("IDENTITY_POOL_ID", self.identity_pool_id)
        env.setdefault("AUTH_ROLE_ARNS", self.auth_role.arn(self.account_id))
        env.setdefault("UNAUTH_ROLE_ARNS", self.unauth_role.arn(self.account_id))
        if self.aws_endpoint:
            env.update(AWS_ENDPOINT_URL=self.aws_endpoint, AWS_ENDPOINT_URL_DYNAMODB=self.aws_endpoint)
            env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")  # noqa: S106 - moto
            env.pop("AWS_SESSION_TOKEN", None)
        if "MODELAUTH_JWKS" in env:  # the Lambda authorizer: trust keys without network
            env["MODELAUTH_JWKS"] = json.dumps(self.user_pool_jwks()) if self.aws_endpoint else ""
            env["MODELAUTH_API_KEYS"] = json.dumps({"keys": [self.lambda_api_key_record]})
            env["MODELAUTH_OIDC_ISSUERS"] = json.dumps(
                [
                    {
                        "issuer": self.partner.issuer,
                        "audiences": [self.partner.audience],
                        "jwks": json.dumps(self.partner.jwks()),
                        "subjectPrefix": "partner:",
                        "usernameClaims": ["preferred_username"],
                    }
                ]
            )
        return env


_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:*",
            }
        ],
    }
)


class _Clients:
    """boto3 clients for one region and endpoint (moto: dummy credentials, never real ones)."""

    def __init__(self, region: str, endpoint: str | None) -> None:
        self.region = region
        self.endpoint = endpoint

    def get(self, service: str) -> Any:
        import boto3

        options: dict[str, Any] = {"region_name": self.region}
        if self.endpoint:
            options.update(endpoint_url=self.endpoint, **_DUMMY_CREDENTIALS)
        return boto3.client(service, **options)  # type: ignore[call-overload]


def _base_refs(template: SamTemplate, region: str, account_id: str) -> dict[str, str]:
    return {
        **template.parameter_defaults(),
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": "modelauth-local",
        # secrets resolved at deploy time (e.g. the nextToken HMAC key): fresh per local run
        "{{resolve}}": secrets.token_hex(32),
    }


def _logical(template: SamTemplate, cfn_type: str) -> str:
    found = list(template.of_type(cfn_type))
    if len(found) != 1:
        raise TemplateError(f"the local endpoint needs exactly one {cfn_type}, found {len(found)}")
    return found[0]


def _resource_roles(schema: Schema) -> list[str]:
    rules = [
        r
        for m in schema.models
        for rule in (*m.rules, *(x for f in m.fields for x in f.rules or ()))
        for r in rule.rules or (rule,)
    ]
    return list(dict.fromkeys(role for r in rules if r.strategy is Strategy.RESOURCE for role in r.roles))


_POOL_PROPERTIES = ("Policies", "UsernameConfiguration", "AutoVerifiedAttributes", "Schema")
_CLIENT_PROPERTIES = (
    "ExplicitAuthFlows",
    "GenerateSecret",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
)


def _create_user_pool(cognito: Any, template: SamTemplate, refs: Mapping[str, str]) -> tuple[str, str]:

    pool_logical = _logical(template, "AWS::Cognito::UserPool")
    pool_props = template.resolve(dict(template.of_type("AWS::Cognito::UserPool")[pool_logical]), refs)
    pool_id: str = cognito.create_user_pool(
        PoolName=pool_props.get("UserPoolName", "modelauth-local"),
        **{k: pool_props[k] for k in _POOL_PROPERTIES if k in pool_props},
    )["UserPool"]["Id"]
    client_logical = _logical(template, "AWS::Cognito::UserPoolClient")
    client_props = template.resolve(
        dict(template.of_type("AWS::Cognito::UserPoolClient")[client_logical]),
        {**refs, pool_logical: pool_id},
    )
    client_id: str = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=client_props.get("ClientName", "modelauth-local"),
        **{k: client_props[k] for k in _CLIENT_PROPERTIES if k in client_props},
    )["UserPoolClient"]["ClientId"]
    for props in template.of_type("AWS::Cognito::UserPoolGroup").values():
        cognito.create_group(
            UserPoolId=pool_id,
            GroupName=str(props["GroupName"]),
            Description=str(props.get("Description", "")),
        )
    return pool_id, client_id


def _user_pool_refs(template: SamTemplate, refs: dict[str, str], pool_id: str, client_id: str) -> None:
    """``Ref`` and ``GetAtt`` values of the user pool and its client."""
    pool = _logical(template, "AWS::Cognito::UserPool")
    provider = f"cognito-idp.{refs['AWS::Region']}.amazonaws.com/{pool_id}"
    refs.update({pool: pool_id, f"{pool}.ProviderName": provider, f"{pool}.ProviderURL": provider})
    refs[f"{pool}.Arn"] = (
        f"arn:aws:cognito-idp:{refs['AWS::Region']}:{refs['AWS::AccountId']}:userpool/{pool_id}"
    )
    refs[_logical(template, "AWS::Cognito::UserPoolClient")] = client_id


def _pool_roles(template: SamTemplate) -> tuple[str, str]:
    """Logical ids of the identity pool's (authenticated, unauthenticated) roles; local names
    when the template attaches none."""
    attachments = list(template.of_type("AWS::Cognito::IdentityPoolRoleAttachment").values())
    if len(attachments) != 1:
        return "modelauth-local-authRole", "modelauth-local-unauthRole"
    roles = attachments[0].get("Roles") or {}

    def logical(kind: str) -> str:
        arn = roles.get(kind)
        if not (isinstance(arn, Mapping) and "Fn::GetAtt" in arn):
            raise TemplateError(f"the identity pool's {kind} role must be !GetAtt <Role>.Arn")
        return str(arn["Fn::GetAtt"][0])

    return logical("authenticated"), logical("unauthenticated")


def _role_refs(template: SamTemplate, refs: dict[str, str], roles: list[Role]) -> None:
    """``Ref`` (name) and ``GetAtt .Arn`` of the identity pool's roles, for the functions' env."""
    for logical, role in zip(_pool_roles(template), roles, strict=True):
        refs[logical] = role.name
        refs[f"{logical}.Arn"] = role.arn(refs["AWS::AccountId"])


def _create_identity_pool(cognito_identity: Any, template: SamTemplate, refs: dict[str, str]) -> str:
    """The template's identity pool (or a local one linked to the user pool) in moto."""

    pools = template.of_type("AWS::Cognito::IdentityPool")
    pool = _logical(template, "AWS::Cognito::UserPool")
    props: dict[str, Any] = {
        "IdentityPoolName": "modelauth local",
        "AllowUnauthenticatedIdentities": True,
        "CognitoIdentityProviders": [
            {
                "ProviderName": refs[f"{pool}.ProviderName"],
                "ClientId": refs[_logical(template, "AWS::Cognito::UserPoolClient")],
            }
        ],
    }
    if len(pools) == 1:
        props = {
            k: v for k, v in template.resolve(dict(next(iter(pools.values()))), refs).items() if k in props
        }
    pool_id: str = cognito_identity.create_identity_pool(**props)["IdentityPoolId"]
    if len(pools) == 1:
        refs[next(iter(pools))] = pool_id
    return pool_id


def _create_tables(dynamodb: Any, template: SamTemplate, schema: Schema, refs: Mapping[str, str]) -> None:
    """The models' tables under the names the resolver function's environment gives them."""
    function = next(iter(set(template.resolvers.values())), None)
    if function is None:
        raise TemplateError("no GraphQL field is resolved by a function")
    env = template.environment(function, refs)
    names = {m.name: env.get(f"TABLE_{m.name.upper()}", m.name) for m in schema.models}
    for model in schema.models:
        dynamodb.create_table(**table_definition(model, names[model.name]))
    if "INDEX_TABLE" in env:
        dynamodb.create_table(**index_table_definition(env["INDEX_TABLE"]))
