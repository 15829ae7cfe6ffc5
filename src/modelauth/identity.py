"""Who is calling: one :class:`Principal` for every AppSync and API Gateway auth mode.

Nothing downstream reads raw identity JSON. :meth:`Principal.from_appsync` and
:meth:`Principal.from_apigw` validate the event's identity (types included), decide the auth mode
from its *shape*, or from AppSync's ``util.authType()`` when the APPSYNC_JS step passes it (spec
§7.2), and fail closed with :class:`~modelauth.errors.IdentityError` on anything missing, malformed
or inconsistent. Request headers never choose the mode.

Example::

    >>> p = Principal.from_appsync({"identity": {"resolverContext": {"sub": "u-42", "groups": '["a","b"]'}}})
    >>> p.mode, p.sub, p.groups
    (<AuthMode.LAMBDA: 'AWS_LAMBDA'>, 'u-42', ('a', 'b'))
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from modelauth.errors import IdentityError

__all__ = [
    "AuthMode",
    "ClaimShape",
    "GroupClaim",
    "IamIdentity",
    "IdentityConfig",
    "Principal",
    "PrincipalCache",
    "read_group_claim",
]


class AuthMode(StrEnum):
    """AppSync authorization modes; the values are AppSync's ``authenticationType`` names."""

    API_KEY = "API_KEY"
    USER_POOLS = "AMAZON_COGNITO_USER_POOLS"
    IAM = "AWS_IAM"
    OIDC = "OPENID_CONNECT"
    LAMBDA = "AWS_LAMBDA"


#: ``util.authType()`` strings, which the APPSYNC_JS step forwards as ``authType``
_AUTH_TYPES: Mapping[str, AuthMode] = MappingProxyType(
    {
        "API Key Authorization": AuthMode.API_KEY,
        "IAM Authorization": AuthMode.IAM,
        "User Pool Authorization": AuthMode.USER_POOLS,
        "Open ID Connect Authorization": AuthMode.OIDC,
        "Lambda Authorization": AuthMode.LAMBDA,
    }
)

_IDENTITY_POOL_AUTH_TYPES = frozenset({"authenticated", "unauthenticated"})
_COGNITO_SIGN_IN = ":CognitoSignIn:"
_COGNITO_GROUPS = "cognito:groups"
# Role and session names are [\w+=,.@-]; anything else (IAM users, root, federated users) is no role.
_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sts::(?P<account>[0-9]{12}):assumed-role/(?P<role>[\w+=,.@-]+)/[\w+=,.@-]+",
    re.ASCII,
)
_USER_POOL_SUB = re.compile(r'[^\s",]+')
# Only used when no issuers are configured, to tell a Cognito JWT from a third-party one (HTTP API).
_COGNITO_ISSUER = re.compile(r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/[0-9a-z-]+_[0-9A-Za-z]+")
_SCALARS = (str, int, float, bool)


# --------------------------------------------------------------------------- value helpers


# exact types of JSON scalars: immutable, copied as they are (a per-request fast path; any
# other type, subclasses included, takes the isinstance route below)
_IMMUTABLE_TYPES = frozenset({str, int, float, bool, type(None)})


def _freeze(value: Any) -> Any:
    """A read-only deep copy, so nothing downstream can edit the caller's claims."""
    if type(value) in _IMMUTABLE_TYPES:
        return value
    if type(value) is dict or isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _typed(value: Any) -> Any:
    """A hashable key of a :func:`_freeze` result that is equal only for values the rule engine
    reads alike: ``1``, ``1.0`` and ``True`` differ (they read as "1", "1.0", "true"), so do
    ``0.0`` and ``-0.0``; mappings compare without regard to order. Values of other types are
    keyed by identity, so they never make two different objects equal."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return kind, value
    if kind is float:
        return kind, repr(value)
    if isinstance(value, Mapping):  # a string item keyed without a call, as at the top
        return Mapping, frozenset(
            (type(key), key, (str, item) if type(item) is str else _typed(item))
            for key, item in value.items()
        )
    if kind is tuple:
        return kind, tuple(_typed(item) for item in value)
    return kind, id(value)


def _thaw(value: Any) -> Any:
    """The plain-JSON form of a :func:`_freeze` result (what pickle and deepcopy can handle)."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty_mapping() -> Mapping[str, Any]:
    return _EMPTY


def _scalar_text(value: Any) -> str | None:
    """A claim value as text: strings as is, numbers and booleans in JSON form, else None.

    Empty strings are None: an empty claim must never match an empty stored owner.
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        try:
            return json.dumps(value)
        except ValueError:  # an int past Python's 4300-digit conversion limit
            return None
    return None


def _claim_text(source: Mapping[str, Any], name: str) -> str | None:
    """Spec §3.1 ``getOwnerClaim``: ``username`` falls back to ``cognito:username`` (ID tokens)."""
    value = _scalar_text(source.get(name))
    if value is None and name == "username":
        value = _scalar_text(source.get("cognito:username"))
    return value


def _string_items(values: list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(item for item in values if isinstance(item, str) and item)


class ClaimShape(StrEnum):
    """How an event carries a token's claims, which decides how a *string* claim reads as a list
    of group names (a real JSON list always reads as itself)."""

    #: AppSync ``identity.claims`` and Lambda authorizer contexts: claims keep their JSON types;
    #: a list is a list, or a JSON array in a string (Lambda authorizers, pre-token triggers)
    JSON = "json"
    #: HTTP API JWT authorizer (``requestContext.authorizer.jwt.claims``): every value a string,
    #: a list rendered ``[a b c]`` (its names joined by spaces, inside brackets)
    HTTP_JWT = "http-jwt"
    #: REST Cognito authorizer (``requestContext.authorizer.claims``): every value a string,
    #: ``cognito:groups`` joined by commas, which Cognito group names may contain
    REST_COGNITO = "rest-cognito"
    #: as REST_COGNITO, for a deployment that declares its group names hold no commas
    #: (``MODELAUTH_COGNITO_GROUPS_WITHOUT_COMMAS``): a comma then separates names exactly
    REST_COGNITO_NO_COMMAS = "rest-cognito-no-commas"


class GroupClaim(NamedTuple):
    """A group-like claim read as exact names, or no names and why it could not be read."""

    names: tuple[str, ...]
    #: why the claim gave no names although it was present (None: read exactly)
    ambiguity: str | None = None


_NO_GROUPS = GroupClaim(())
_SEPARATOR = re.compile(r"[\s,]")
_WHITESPACE = re.compile(r"\s")


def read_group_claim(
    value: Any, shape: ClaimShape = ClaimShape.JSON, *, spaceless: bool = False
) -> GroupClaim:
    """A group-like claim as exact names (spec §4 project choice): never guessed from a string.

    A list reads as its strings. A string reads as a list only in the form its ``shape`` uses
    for lists (a JSON array, the HTTP API's ``[a b]``, REST's ``a,b`` when declared exact) and
    otherwise as one name when it holds nothing a list could be joined with (no whitespace, no
    comma, no surrounding brackets). Anything else could be read two ways and gives no names,
    with the reason. ``spaceless``: the claim's names hold no whitespace (Cognito group names),
    so the HTTP API's ``[a b]`` splits exactly.

    >>> read_group_claim(["Junior Moderator"]).names
    ('Junior Moderator',)
    >>> read_group_claim("Junior Moderator")
    GroupClaim(names=(), ambiguity="the string 'Junior Moderator' could be one group name or several")
    >>> read_group_claim("[Admin Sales]", ClaimShape.HTTP_JWT, spaceless=True).names
    ('Admin', 'Sales')
    """
    if value is None:
        return _NO_GROUPS
    if isinstance(value, list | tuple):
        return GroupClaim(_string_items(value))
    if not isinstance(value, str):
        return GroupClaim((), f"a {type(value).__name__} is not a list of group names")
    if not value:
        return _NO_GROUPS
    bracketed = len(value) >= 2 and value[0] == "[" and value[-1] == "]"
    if shape is ClaimShape.JSON and value[0] == "[":
        return _json_names(value)
    if shape is ClaimShape.HTTP_JWT and bracketed:
        return _bracketed_names(value, spaceless)
    if shape is ClaimShape.REST_COGNITO_NO_COMMAS and "," in value and not _WHITESPACE.search(value):
        names = tuple(value.split(","))
        if "" in names:
            return GroupClaim((), f"the list {_short(value)} has an empty name")
        return GroupClaim(names)
    if shape is ClaimShape.REST_COGNITO and "," in value:
        return GroupClaim(
            (),
            f"the REST API joined {_short(value)} with commas, which Cognito group names may contain "
            "(set MODELAUTH_COGNITO_GROUPS_WITHOUT_COMMAS if yours never do)",
        )
    if _SEPARATOR.search(value) or bracketed:
        return GroupClaim((), f"the string {_short(value)} could be one group name or several")
    return GroupClaim((value,))


def _json_names(text: str) -> GroupClaim:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        parsed = None
    if isinstance(parsed, list) and all(isinstance(item, str) and item for item in parsed):
        return GroupClaim(tuple(parsed))
    return GroupClaim((), f"the string {_short(text)} starts like a list but is not a JSON array of names")


def _bracketed_names(text: str, spaceless: bool) -> GroupClaim:
    """The HTTP API's ``[a b c]``: exact when names hold no whitespace, or when there is one."""
    inner = text[1:-1]
    if not inner:
        return _NO_GROUPS
    if spaceless:
        names = tuple(inner.split(" "))
        if "" in names or any(_WHITESPACE.search(name) for name in names):
            return GroupClaim((), f"the list {_short(text)} has empty or blank names")
        return GroupClaim(names)
    if _WHITESPACE.search(inner):
        return GroupClaim((), f"the list {_short(text)} joins names that may themselves hold spaces")
    # a string claim holding a JSON array of names ('["a"]') reads like the list of one name '"a"'
    if _json_names(text).names:
        return GroupClaim((), f"the string {_short(text)} could be a JSON array or a list of one name")
    return GroupClaim((inner,))


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --------------------------------------------------------------------------- typed readers


def _mapping(container: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    value = container.get(key)
    if value is None or type(value) is dict or isinstance(value, Mapping):
        return value
    raise IdentityError(f"{where}.{key} must be an object, got {type(value).__name__}")


def _text(container: Mapping[str, Any], key: str, where: str) -> str | None:
    """An optional string field; an empty string counts as absent."""
    value = container.get(key)
    if value is None or isinstance(value, str):
        return value or None
    raise IdentityError(f"{where}.{key} must be a string, got {type(value).__name__}")


def _text_list(container: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = container.get(key)
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise IdentityError(f"{where}.{key} must be a list of strings")


def _group_names(identity: Mapping[str, Any]) -> tuple[str, ...]:
    """``identity.groups``: Cognito has no group without a name, so an empty one is a broken or
    forged identity, refused rather than carried into the rules."""
    groups = _text_list(identity, "groups", "identity")
    if "" in groups:
        raise IdentityError("identity.groups holds an empty group name")
    return groups


# --------------------------------------------------------------------------- IAM


def _cognito_sign_in(auth_provider: str | None) -> tuple[str | None, str | None]:
    """(user-pool issuer, sub) of a signed-in identity-pool user, from the auth provider text.

    AppSync sends ``"cognito-idp.<r>.amazonaws.com/<pool>","cognito-idp...:CognitoSignIn:<sub>"``
    (REST the same without quotes); the sub is the text after the last ``:CognitoSignIn:``.
    """
    if not auth_provider or _COGNITO_SIGN_IN not in auth_provider:
        return None, None
    provider, _, sub = auth_provider.rpartition(_COGNITO_SIGN_IN)
    sub = sub.strip().strip('"')
    if not _USER_POOL_SUB.fullmatch(sub):
        raise IdentityError("the Cognito auth provider has a malformed CognitoSignIn sub")
    provider = provider.rpartition(",")[2].strip().strip('"')
    return (f"https://{provider}" if provider else None), sub


@dataclass(frozen=True, slots=True)
class IamIdentity:
    """An IAM (SigV4) caller: identity-pool guest or user, Lambda execution role, IAM user.

    Example::

        >>> iam = IamIdentity.parse("arn:aws:sts::123456789012:assumed-role/todo-fn-role/todo-fn")
        >>> iam.role_name, iam.role_arn
        ('todo-fn-role', 'arn:aws:iam::123456789012:role/todo-fn-role')
    """

    user_arn: str
    account_id: str | None = None
    #: exact role name from ``arn:<p>:sts::<acct>:assumed-role/<RoleName>/<session>``
    role_name: str | None = None
    #: ``arn:<p>:iam::<acct>:role/<RoleName>`` (an STS ARN drops the role path, so this has none)
    role_arn: str | None = None
    identity_pool_id: str | None = None
    identity_id: str | None = None
    auth_type: str | None = None  # "authenticated" | "unauthenticated" | None
    auth_provider: str | None = None
    user_pool_sub: str | None = None

    @classmethod
    def parse(
        cls,
        user_arn: str,
        *,
        account_id: str | None = None,
        identity_pool_id: str | None = None,
        identity_id: str | None = None,
        auth_type: str | None = None,
        auth_provider: str | None = None,
    ) -> IamIdentity:
        """Build from raw fields: the role comes from the ARN, the user-pool sub from the provider."""
        parts = user_arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[5]:
            raise IdentityError(f"userArn is not an ARN: {user_arn!r}")
        if auth_type is not None and auth_type not in _IDENTITY_POOL_AUTH_TYPES:
            raise IdentityError(f"unknown identity-pool auth type {auth_type!r}")
        role = _ASSUMED_ROLE.fullmatch(user_arn)
        return cls(
            user_arn=user_arn,
            account_id=account_id or parts[4] or None,
            role_name=role["role"] if role else None,
            role_arn=f"arn:{role['partition']}:iam::{role['account']}:role/{role['role']}" if role else None,
            identity_pool_id=identity_pool_id,
            identity_id=identity_id,
            auth_type=auth_type,
            auth_provider=auth_provider,
            user_pool_sub=_cognito_sign_in(auth_provider)[1],
        )

    @property
    def user_pool_issuer(self) -> str | None:
        """``https://cognito-idp.<region>.amazonaws.com/<pool>`` a signed-in user came from."""
        return _cognito_sign_in(self.auth_provider)[0]


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    """What identity parsing must know about the deployment.

    Example::

        >>> IdentityConfig.from_env({"USER_POOL_ID": "eu-west-1_Ab12Cd34E"}).user_pool_issuers
        frozenset({'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E'})
    """

    #: issuers of the API's Cognito user pools: tells UP from OIDC and rejects foreign UP tokens
    user_pool_issuers: frozenset[str] = frozenset()
    #: the deployment's Cognito group names hold no commas, so the REST Cognito authorizer's
    #: comma-joined ``cognito:groups`` splits exactly (else a comma there reads as no groups)
    cognito_groups_without_commas: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IdentityConfig:
        """``USER_POOL_ID`` (+ region), ``MODELAUTH_USER_POOL_ISSUERS`` (a comma list) and
        ``MODELAUTH_COGNITO_GROUPS_WITHOUT_COMMAS`` (``true``)."""
        env = os.environ if environ is None else environ
        issuers = {item.strip() for item in env.get("MODELAUTH_USER_POOL_ISSUERS", "").split(",")}
        pool_id = env.get("USER_POOL_ID", "").strip()
        if pool_id:
            # A pool id starts with its own region ("eu-west-1_Ab12"), which beats the function's.
            region, _, suffix = pool_id.partition("_")
            if not suffix:
                region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
            issuers.add(f"https://cognito-idp.{region}.amazonaws.com/{pool_id}")
        issuers.discard("")
        no_commas = env.get("MODELAUTH_COGNITO_GROUPS_WITHOUT_COMMAS", "").strip().lower()
        if no_commas not in ("", "true", "false"):
            raise ValueError("MODELAUTH_COGNITO_GROUPS_WITHOUT_COMMAS must be 'true' or 'false'")
        return cls(user_pool_issuers=frozenset(issuers), cognito_groups_without_commas=no_commas == "true")

    def is_user_pool(self, issuer: str | None) -> bool:
        """Whether tokens from ``issuer`` come from one of the API's user pools.

        With no issuers configured, any Cognito user-pool issuer counts.
        """
        if self.user_pool_issuers:
            return issuer in self.user_pool_issuers
        return issuer is not None and _COGNITO_ISSUER.fullmatch(issuer) is not None


_DEFAULT_CONFIG = IdentityConfig()


# --------------------------------------------------------------------------- principal


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, in the same shape for every auth mode.

    Example::

        >>> alice = Principal(AuthMode.USER_POOLS, sub="A1", claims={"cognito:username": "alice"})
        >>> alice.claim("username"), alice.claim_list("cognito:groups")
        ('alice', ())
    """

    mode: AuthMode
    sub: str | None = None
    username: str | None = None
    issuer: str | None = None
    claims: Mapping[str, Any] = field(default_factory=_empty_mapping, hash=False)
    #: the default group claim: ``identity.groups`` / ``cognito:groups`` / resolverContext ``groups``
    groups: tuple[str, ...] = ()
    iam: IamIdentity | None = None
    resolver_context: Mapping[str, Any] = field(default_factory=_empty_mapping, hash=False)
    api_key: str | None = field(default=None, repr=False)  # a credential: never logged
    source_ip: tuple[str, ...] = ()
    #: how the event carried the claims: decides how a string claim reads as a list of groups
    claim_shape: ClaimShape = ClaimShape.JSON
    # what __eq__ and __hash__ compare, once computed: a Principal is a cache key on every
    # request (DecisionCache), and one user's tokens differ in their claims only
    _key: tuple[Any, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def _compared(self) -> tuple[Any, ...]:
        key = self._key
        if key is None:  # every field, the claims by type as the rules read them (see _typed)
            fields_ = (self.mode, self.sub, self.username, self.issuer, self.groups, self.iam)
            claims = (_typed(self.claims), _typed(self.resolver_context))
            key = (*fields_, self.api_key, self.source_ip, self.claim_shape, *claims)
            object.__setattr__(self, "_key", key)
        return key

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not Principal:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        cached = self._hash
        if cached is None:
            cached = hash(self._compared())
            object.__setattr__(self, "_hash", cached)
        return cached

    def __post_init__(self) -> None:
        # Own read-only copies: neither the event nor whoever built us can change them later.
        # (Built once per request: the checks skip copies that would change nothing.)
        object.__setattr__(self, "claims", _freeze(self.claims) if self.claims else _EMPTY)
        if self.resolver_context:
            object.__setattr__(self, "resolver_context", _freeze(self.resolver_context))
        elif self.resolver_context is not _EMPTY:
            object.__setattr__(self, "resolver_context", _EMPTY)
        if type(self.groups) is not tuple:
            object.__setattr__(self, "groups", tuple(self.groups))
        if type(self.source_ip) is not tuple:
            object.__setattr__(self, "source_ip", tuple(self.source_ip))

    def __reduce__(self) -> tuple[type[Principal], tuple[Any, ...]]:
        # mappingproxy cannot be pickled or deep-copied: rebuild through __init__ from plain values.
        return type(self), tuple(_thaw(getattr(self, item.name)) for item in fields(self) if item.init)

    @property
    def _claim_source(self) -> Mapping[str, Any]:
        # A Lambda authorizer's resolverContext plays the part of the token claims.
        return self.resolver_context if self.mode is AuthMode.LAMBDA else self.claims

    def claim(self, name: str) -> str | None:
        """A scalar claim as text; ``username`` falls back to ``cognito:username``; else None.

        Example::

            >>> Principal(AuthMode.OIDC, claims={"user_id": 42}).claim("user_id")
            '42'
        """
        return _claim_text(self._claim_source, name)

    def group_claim(self, name: str) -> GroupClaim:
        """A group-like claim as exact names, read in the shape the event carried it
        (:func:`read_group_claim`), or no names and the reason it could not be read.

        Example::

            >>> Principal(AuthMode.OIDC, claims={"groups": "Not Moderator"}).group_claim("groups").names
            ()
        """
        spaceless = self.mode is AuthMode.USER_POOLS and name == _COGNITO_GROUPS
        return read_group_claim(self._claim_source.get(name), self.claim_shape, spaceless=spaceless)

    def claim_list(self, name: str) -> tuple[str, ...]:
        """:meth:`group_claim`'s names: a list, a list in its event's string form, or one name.

        Example::

            >>> Principal(AuthMode.OIDC, claims={"user_groups": '["Moderator"]'}).claim_list("user_groups")
            ('Moderator',)
        """
        return self.group_claim(name).names

    @classmethod
    def from_appsync(
        cls,
        event: Mapping[str, Any],
        *,
        auth_type: str | None = None,
        config: IdentityConfig | None = None,
    ) -> Principal:
        """The caller of an AppSync direct-resolver event (or the APPSYNC_JS payload).

        ``auth_type`` is AppSync's ``util.authType()`` (read from ``event["authType"]`` when not
        given); it decides the mode and the identity must have that mode's shape. Without it the
        mode follows spec §7.2, with ``config.user_pool_issuers`` telling user pools from OIDC.

        Example::

            >>> Principal.from_appsync({"identity": None}, auth_type="API Key Authorization").mode
            <AuthMode.API_KEY: 'API_KEY'>
        """
        if not (type(event) is dict or isinstance(event, Mapping)) or "identity" not in event:
            raise IdentityError("the AppSync event must be an object with an 'identity' key")
        expected = _appsync_auth_mode(auth_type, event.get("authType"))
        identity = _mapping(event, "identity", "event")
        if identity is None:
            if expected not in (None, AuthMode.API_KEY):
                raise IdentityError(f"the identity is null but the auth mode is {expected}")
            return cls(AuthMode.API_KEY, api_key=_appsync_api_key(event))
        if expected is AuthMode.API_KEY:
            raise IdentityError("the auth mode is API_KEY but the event carries an identity")
        try:
            return _from_appsync_identity(identity, expected, config or _DEFAULT_CONFIG)
        except RecursionError:  # claims nested deeper than the stack allows (copying them recurses)
            raise IdentityError("the identity is nested too deeply") from None

    @classmethod
    def from_apigw(cls, event: Mapping[str, Any], *, config: IdentityConfig | None = None) -> Principal:
        """The caller of an API Gateway proxy event: REST (payload 1.0) or HTTP API (payload 2.0).

        Example::

            >>> ctx = {"authorizer": {"principalId": "u-42", "sub": "u-42", "integrationLatency": 3}}
            >>> Principal.from_apigw({"requestContext": ctx}).sub
            'u-42'
        """
        if not isinstance(event, Mapping):
            raise IdentityError("the API Gateway event must be an object")
        context = _mapping(event, "requestContext", "event")
        if context is None:
            raise IdentityError("the API Gateway event has no requestContext")
        try:
            return _from_apigw_context(context, config or _DEFAULT_CONFIG)
        except RecursionError:  # as in from_appsync
            raise IdentityError("the authorizer data is nested too deeply") from None


class _Remembered(NamedTuple):
    identity: dict[str, Any]  # a private copy, of JSON's types only
    numbers: tuple[tuple[tuple[Any, ...], Any], ...]  # where it holds numbers or booleans: _number_mark
    principal: Principal


class PrincipalCache:
    """:meth:`Principal.from_appsync` that hands back the same Principal for an identity it has
    read before, so a warm function doesn't validate and copy one caller's claims per request.

    An entry is found by a few of the identity's fields (and both ``authType`` values) and used
    only when the whole identity equals the remembered one *with the same types*: Python's
    ``==`` holds ``1``, ``1.0`` and ``true`` equal, yet they read as different claim texts, so
    where the remembered identity holds a number or a boolean the new one must hold the same
    type (and a float the same repr: ``0.0 == -0.0``). Identities nested deeper than comparing
    them allows are read uncached. (Elsewhere equality already implies it: a string, null, list
    or object only equals its own kind.) Identities that aren't JSON's types, refused identities
    and events without an identity object (API keys) are not cached. Bounded, least recently
    used first out.

    >>> cache = PrincipalCache()
    >>> event = {"identity": {"resolverContext": {"sub": "u-42"}}, "authType": "Lambda Authorization"}
    >>> cache.from_appsync(event) is cache.from_appsync({**event})
    True
    """

    def __init__(self, config: IdentityConfig | None = None, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.config = config or _DEFAULT_CONFIG
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], _Remembered] = OrderedDict()

    def from_appsync(self, event: Mapping[str, Any], *, auth_type: str | None = None) -> Principal:
        identity = event.get("identity") if type(event) is dict else None
        if type(identity) is not dict:  # API key (null identity) or refused: nothing to remember
            return Principal.from_appsync(event, auth_type=auth_type, config=self.config)
        try:
            key = (auth_type, event.get("authType"), *_bucket(identity))
            entry = self._entries.get(key)
            if entry is not None and entry.identity == identity and _same_numbers(entry, identity):
                self._entries.move_to_end(key)
                return entry.principal
        # an unhashable field (from_appsync refuses it or reads it uncached), or nesting deeper
        # than comparing allows: read it uncached, as if nothing were remembered
        except (TypeError, RecursionError):
            return Principal.from_appsync(event, auth_type=auth_type, config=self.config)
        principal = Principal.from_appsync(event, auth_type=auth_type, config=self.config)
        numbers: list[tuple[tuple[Any, ...], Any]] = []
        try:
            remembered = _json_copy(identity, (), numbers)
        except (TypeError, RecursionError):  # not JSON's types, or too deep to copy: not remembered
            return principal
        self._entries[key] = _Remembered(remembered, tuple(numbers), principal)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return principal

    def __len__(self) -> int:
        return len(self._entries)


def _bucket(identity: Mapping[str, Any]) -> tuple[Any, ...]:
    """Fields that tell callers (and one caller's tokens) apart, to find a remembered identity."""
    claims = identity.get("claims")
    context = identity.get("resolverContext")
    return (
        identity.get("sub"),
        identity.get("username"),
        identity.get("userArn"),
        claims.get("jti") if type(claims) is dict else None,
        context.get("sub") if type(context) is dict else None,
    )


def _json_copy(value: Any, path: tuple[Any, ...], numbers: list[tuple[tuple[Any, ...], Any]]) -> Any:
    """A deep copy of JSON data, noting where it holds numbers and booleans (and their types);
    TypeError for anything else (a tuple, a set, an object)."""
    kind = type(value)
    # a string is copied as it is without a call (most claims are): this runs once per new caller
    if kind is dict:
        return {
            key: item if type(item) is str else _json_copy(item, (*path, key), numbers)
            for key, item in value.items()
        }
    if kind is list:
        return [
            item if type(item) is str else _json_copy(item, (*path, index), numbers)
            for index, item in enumerate(value)
        ]
    if kind is int or kind is float or kind is bool:
        numbers.append((path, _number_mark(value)))
    elif kind is not str and value is not None:
        raise TypeError(f"not a JSON value: {kind.__name__}")
    return value


def _number_mark(value: int | float) -> Any:
    """What must match besides ``==`` for a number to read as the same text: its type, and for
    a float its repr (``0.0 == -0.0``, yet they read as "0.0" and "-0.0")."""
    return repr(value) if type(value) is float else type(value)


def _same_numbers(entry: _Remembered, identity: Mapping[str, Any]) -> bool:
    """Given ``entry.identity == identity``: do its numbers and booleans read the same?"""
    for path, mark in entry.numbers:
        value: Any = identity
        for step in path:
            value = value[step]
        kind = type(value)  # _number_mark, inlined: this runs for every number on every request
        if kind is not mark and (kind is not float or repr(value) != mark):
            return False
    return True


# --------------------------------------------------------------------------- AppSync


def _appsync_auth_mode(auth_type: Any, event_auth_type: Any) -> AuthMode | None:
    if auth_type is not None and event_auth_type is not None and auth_type != event_auth_type:
        raise IdentityError("auth_type does not match the event's authType")
    given = event_auth_type if auth_type is None else auth_type
    if given is None:
        return None
    if not isinstance(given, str) or given not in _AUTH_TYPES:
        raise IdentityError(f"unknown authType {given!r}")
    return _AUTH_TYPES[given]


def _appsync_api_key(event: Mapping[str, Any]) -> str | None:
    request = _mapping(event, "request", "event") or {}
    headers = _mapping(request, "headers", "request") or {}
    return _text(headers, "x-api-key", "request.headers")


def _appsync_shape(identity: Mapping[str, Any]) -> AuthMode | None:
    """The mode the identity's keys point to; USER_POOLS stands for 'has claims' (UP or OIDC)."""
    markers = {
        AuthMode.LAMBDA: identity.get("resolverContext") is not None,
        AuthMode.IAM: identity.get("userArn") is not None or identity.get("accountId") is not None,
        AuthMode.USER_POOLS: identity.get("claims") is not None,
    }
    found = [mode for mode, present in markers.items() if present]
    if len(found) > 1:
        # Real identities carry exactly one of these; a mix is forged or broken: do not guess.
        raise IdentityError(f"ambiguous identity: it looks like {' and '.join(found)}")
    return found[0] if found else None


def _from_appsync_identity(
    identity: Mapping[str, Any], expected: AuthMode | None, config: IdentityConfig
) -> Principal:
    shape = _appsync_shape(identity)
    if shape is None and expected is AuthMode.LAMBDA:
        shape = AuthMode.LAMBDA  # the authorizer returned no resolverContext
    if expected is not None and shape is not (AuthMode.USER_POOLS if expected is AuthMode.OIDC else expected):
        raise IdentityError(f"the auth mode is {expected} but the identity does not have its shape")
    source_ip = _text_list(identity, "sourceIp", "identity")
    if shape is AuthMode.LAMBDA:
        return _lambda_principal(_mapping(identity, "resolverContext", "identity") or {}, source_ip)
    if shape is AuthMode.IAM:
        return _iam_principal(_iam_fields(identity, "identity", _APPSYNC_IAM_KEYS), config, source_ip)
    if shape is AuthMode.USER_POOLS:
        return _claims_principal(expected or _claims_mode(identity, config), identity, config, source_ip)
    raise IdentityError("unrecognised identity: no claims, userArn or resolverContext")


def _claims_mode(identity: Mapping[str, Any], config: IdentityConfig) -> AuthMode:
    """UP or OIDC for a claims identity without authType: spec §7.2 plus the configured issuers."""
    if config.user_pool_issuers:
        claims = _mapping(identity, "claims", "identity") or {}
        return AuthMode.USER_POOLS if config.is_user_pool(_issuer(identity, claims)) else AuthMode.OIDC
    if identity.get("username") is not None or identity.get("defaultAuthStrategy") is not None:
        return AuthMode.USER_POOLS
    return AuthMode.OIDC


# IamIdentity.parse argument -> key, per event format
_APPSYNC_IAM_KEYS = {
    "user_arn": "userArn",
    "account_id": "accountId",
    "identity_pool_id": "cognitoIdentityPoolId",
    "identity_id": "cognitoIdentityId",
    "auth_type": "cognitoIdentityAuthType",
    "auth_provider": "cognitoIdentityAuthProvider",
}
_REST_IAM_KEYS = {
    **_APPSYNC_IAM_KEYS,
    "auth_type": "cognitoAuthenticationType",
    "auth_provider": "cognitoAuthenticationProvider",
}


def _iam_fields(source: Mapping[str, Any], where: str, keys: Mapping[str, str]) -> dict[str, str | None]:
    return {argument: _text(source, key, where) for argument, key in keys.items()}


# --------------------------------------------------------------------------- API Gateway


def _from_apigw_context(context: Mapping[str, Any], config: IdentityConfig) -> Principal:
    where = "requestContext.authorizer"
    authorizer = _mapping(context, "authorizer", "requestContext") or {}
    source_ip = _apigw_source_ip(context)
    kinds = [key for key in ("jwt", "iam", "claims") if authorizer.get(key) is not None]
    if len(kinds) + ("lambda" in authorizer) > 1:  # API Gateway sets one; refuse to guess
        raise IdentityError(f"ambiguous authorizer data: {sorted(authorizer)}")
    jwt = _mapping(authorizer, "jwt", where)
    if jwt is not None:  # HTTP API JWT authorizer (Cognito or any OIDC issuer)
        claims = _mapping(jwt, "claims", f"{where}.jwt")
        if claims is None:
            raise IdentityError("the JWT authorizer passed no claims")
        mode = AuthMode.USER_POOLS if config.is_user_pool(_issuer({}, claims)) else AuthMode.OIDC
        return _claims_principal(mode, {"claims": claims}, config, source_ip, ClaimShape.HTTP_JWT)
    if "lambda" in authorizer:  # HTTP API Lambda authorizer; null when it returned no context
        return _lambda_principal(_mapping(authorizer, "lambda", where) or {}, source_ip)
    iam = _mapping(authorizer, "iam", where)
    if iam is not None:  # HTTP API IAM authorization
        return _iam_principal(_http_api_iam_fields(iam), config, source_ip)
    claims = _mapping(authorizer, "claims", where)
    if claims is not None:  # REST Cognito user-pool authorizer
        no_commas = config.cognito_groups_without_commas
        shape = ClaimShape.REST_COGNITO_NO_COMMAS if no_commas else ClaimShape.REST_COGNITO
        return _claims_principal(AuthMode.USER_POOLS, {"claims": claims}, config, source_ip, shape)
    # REST Lambda authorizer: its context sits next to principalId (values as strings); the
    # null claims/scopes pair is what payload 1.0 carries when there is no authorizer at all.
    lambda_context = {
        key: value
        for key, value in authorizer.items()
        if key != "integrationLatency" and not (key in ("claims", "scopes") and value is None)
    }
    if lambda_context:
        return _lambda_principal(lambda_context, source_ip)
    return _from_apigw_request_identity(context, config, source_ip)


def _apigw_source_ip(context: Mapping[str, Any]) -> tuple[str, ...]:
    # REST: requestContext.identity.sourceIp; HTTP API: requestContext.http.sourceIp.
    for key in ("identity", "http"):
        section = _mapping(context, key, "requestContext") or {}
        source_ip = _text(section, "sourceIp", f"requestContext.{key}")
        if source_ip:
            return (source_ip,)
    return ()


def _http_api_iam_fields(iam: Mapping[str, Any]) -> dict[str, str | None]:
    where = "requestContext.authorizer.iam"
    cognito = _mapping(iam, "cognitoIdentity", where) or {}
    # amr is ["authenticated", "<provider>", "<provider>:CognitoSignIn:<sub>"] for a signed-in user.
    amr = _text_list(cognito, "amr", f"{where}.cognitoIdentity")
    providers = [item for item in amr if item not in _IDENTITY_POOL_AUTH_TYPES]
    return {
        "user_arn": _text(iam, "userArn", where),
        "account_id": _text(iam, "accountId", where),
        "identity_pool_id": _text(cognito, "identityPoolId", f"{where}.cognitoIdentity"),
        "identity_id": _text(cognito, "identityId", f"{where}.cognitoIdentity"),
        "auth_type": next((item for item in amr if item in _IDENTITY_POOL_AUTH_TYPES), None),
        "auth_provider": ",".join(providers) or None,
    }


def _from_apigw_request_identity(
    context: Mapping[str, Any], config: IdentityConfig, source_ip: tuple[str, ...]
) -> Principal:
    """REST without an authorizer: IAM auth fills requestContext.identity, else an API key may."""
    identity = _mapping(context, "identity", "requestContext") or {}
    iam_fields = _iam_fields(identity, "requestContext.identity", _REST_IAM_KEYS)
    if iam_fields["user_arn"] or iam_fields["identity_id"]:
        return _iam_principal(iam_fields, config, source_ip)
    api_key = _text(identity, "apiKey", "requestContext.identity")
    if api_key:
        return Principal(AuthMode.API_KEY, api_key=api_key, source_ip=source_ip)
    raise IdentityError("no caller identity in the API Gateway event")


# --------------------------------------------------------------------------- per-mode builders


def _issuer(identity: Mapping[str, Any], claims: Mapping[str, Any]) -> str | None:
    issuer = _text(identity, "issuer", "identity")
    claimed = _text(claims, "iss", "claims")
    if issuer and claimed and issuer != claimed:
        raise IdentityError("identity.issuer and claims.iss disagree")
    return issuer or claimed


def _claims_principal(
    mode: AuthMode,
    identity: Mapping[str, Any],
    config: IdentityConfig,
    source_ip: tuple[str, ...],
    shape: ClaimShape = ClaimShape.JSON,
) -> Principal:
    """A JWT caller (UP or OIDC), from an AppSync identity or ``{"claims": ...}`` (API Gateway)."""
    claims = _mapping(identity, "claims", "identity") or {}
    issuer = _issuer(identity, claims)
    if mode is AuthMode.USER_POOLS and config.user_pool_issuers and issuer not in config.user_pool_issuers:
        raise IdentityError(f"a user-pool token from an issuer that is not configured: {issuer!r}")
    sub = _text(identity, "sub", "identity")
    claimed_sub = _scalar_text(claims.get("sub"))
    if sub and claimed_sub and sub != claimed_sub:
        raise IdentityError("identity.sub and claims.sub disagree")
    if mode is AuthMode.USER_POOLS and not (sub or claimed_sub):
        raise IdentityError("a user-pool identity without a sub")
    return Principal(
        mode,
        sub=sub or claimed_sub,
        username=_text(identity, "username", "identity") or _claim_text(claims, "username"),
        issuer=issuer,
        claims=claims,
        # identity.groups is null for a user without groups; the claim then says the same
        groups=_group_names(identity)
        or read_group_claim(claims.get(_COGNITO_GROUPS), shape, spaceless=mode is AuthMode.USER_POOLS).names,
        source_ip=source_ip,
        claim_shape=shape,
    )


def _iam_principal(
    iam_fields: Mapping[str, str | None], config: IdentityConfig, source_ip: tuple[str, ...]
) -> Principal:
    user_arn = iam_fields["user_arn"]
    if user_arn is None:
        raise IdentityError("an IAM identity without a userArn")
    iam = IamIdentity.parse(
        user_arn,
        account_id=iam_fields["account_id"],
        identity_pool_id=iam_fields["identity_pool_id"],
        identity_id=iam_fields["identity_id"],
        auth_type=iam_fields["auth_type"],
        auth_provider=iam_fields["auth_provider"],
    )
    # A signed-in identity-pool user is known by their user-pool sub (spec §3.7 project choice),
    # but only when the identity pool says so and, if pools are configured, the pool is ours.
    own_pool = not config.user_pool_issuers or iam.user_pool_issuer in config.user_pool_issuers
    sub = iam.user_pool_sub if iam.auth_type == "authenticated" and own_pool else None
    return Principal(AuthMode.IAM, sub=sub, iam=iam, source_ip=source_ip)


def _lambda_principal(resolver_context: Mapping[str, Any], source_ip: tuple[str, ...]) -> Principal:
    """A Lambda-authorized caller; sub/username/groups come from the authorizer's context keys."""
    for key, value in resolver_context.items():
        flat = value is None or isinstance(value, _SCALARS)
        string_list = isinstance(value, list) and all(isinstance(item, str) for item in value)
        if not isinstance(key, str) or not (flat or string_list):
            raise IdentityError(f"resolverContext.{key} must be a scalar or a list of strings")
    return Principal(
        AuthMode.LAMBDA,
        sub=_claim_text(resolver_context, "sub"),
        username=_claim_text(resolver_context, "username"),
        groups=read_group_claim(resolver_context.get("groups")).names,
        resolver_context=resolver_context,
        source_ip=source_ip,
    )
