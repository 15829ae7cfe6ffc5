"""Models and their authorization rules, as frozen data built with an ``allow`` DSL.

The DSL mirrors Amplify Gen 2 (``allow.owner().to(["read", "update"])``) with Python names.
Rules are validated when built, with Amplify's own error texts (spec §1.3), so a bad rule fails
at import of the schema, not at request time.

Example::

    >>> from modelauth.rules import Field, Model, allow
    >>> todo = Model("Todo", fields=[Field("content")],
    ...              rules=[allow.owner(), allow.public_api_key().to(["read"])])
    >>> sorted(op.value for op in todo.rules[1].operations)
    ['get', 'list', 'listen', 'search', 'sync']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from modelauth.fieldtypes import CustomType, Enum, FieldType
from modelauth.filters import FilterField
from modelauth.scalars import SCALAR_TYPES, conforms

if TYPE_CHECKING:
    from modelauth.custom import CustomOperation

__all__ = [
    "DEFAULT_GROUP_CLAIM",
    "DEFAULT_OWNER_CLAIM",
    "FIELD_LEVEL_OPERATIONS",
    "READ_OPERATIONS",
    "WRITE_OPERATIONS",
    "CustomType",
    "Enum",
    "generated_type_names",
    "Field",
    "Model",
    "Operation",
    "Provider",
    "Relation",
    "Rule",
    "Schema",
    "SchemaError",
    "SecondaryIndex",
    "Strategy",
    "allow",
    "belongs_to",
    "check_type_name",
    "has_many",
    "has_one",
    "relation_index_of",
    "index",
    "key_attribute_type",
    "key_scalar",
    "mode_of",
    "mutation_masked_fields",
    "parse_operations",
    "RootField",
    "SUBSCRIPTION_LEVELS",
    "SUBSCRIPTION_PREFIXES",
    "DISABLE_OPERATION_NAMES",
    "operation_kind",
    "root_fields",
    "stored_owner_field",
    "types_of",
]

DEFAULT_OWNER_CLAIM = "sub::username"
DEFAULT_GROUP_CLAIM = "cognito:groups"


class SchemaError(ValueError):
    """A model or rule is invalid; raised when the schema is built (Amplify's messages)."""


class Operation(StrEnum):
    """Model operations (spec §2.1). ``read`` is shorthand, see :func:`parse_operations`."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    GET = "get"
    LIST = "list"
    LISTEN = "listen"
    SYNC = "sync"
    SEARCH = "search"


READ_OPERATIONS = frozenset(
    {Operation.GET, Operation.LIST, Operation.LISTEN, Operation.SYNC, Operation.SEARCH}
)
WRITE_OPERATIONS = frozenset({Operation.CREATE, Operation.UPDATE, Operation.DELETE})
ALL_OPERATIONS = frozenset(Operation)
FIELD_LEVEL_OPERATIONS = frozenset({"create", "update", "delete", "read"})


class Provider(StrEnum):
    """Rule providers (spec §1.2). ``iam`` is for non-Cognito IAM principals (backend roles)."""

    API_KEY = "apiKey"
    IDENTITY_POOL = "identityPool"
    USER_POOLS = "userPools"
    OIDC = "oidc"
    FUNCTION = "function"
    IAM = "iam"


class Strategy(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    OWNER = "owner"
    GROUPS = "groups"
    CUSTOM = "custom"
    RESOURCE = "resource"
    ALL_OF = "allOf"


_PROVIDER_ALIASES = {
    "user_pools": Provider.USER_POOLS,
    "userpools": Provider.USER_POOLS,
    "userpool": Provider.USER_POOLS,
    "identity_pool": Provider.IDENTITY_POOL,
    "identitypool": Provider.IDENTITY_POOL,
    "api_key": Provider.API_KEY,
    "apikey": Provider.API_KEY,
    "oidc": Provider.OIDC,
    "function": Provider.FUNCTION,
    "lambda": Provider.FUNCTION,
}

# Which providers each strategy accepts. Owner rules also accept identityPool (owner =
# cognitoIdentityId) and function (claims from the Lambda authorizer's resolverContext): both
# are project extensions beyond Amplify (spec §3.7, issue "rule engine").
_ALLOWED_PROVIDERS: dict[Strategy, tuple[Provider, ...]] = {
    Strategy.PUBLIC: (Provider.API_KEY, Provider.IDENTITY_POOL),
    Strategy.PRIVATE: (Provider.USER_POOLS, Provider.IDENTITY_POOL, Provider.OIDC),
    Strategy.OWNER: (Provider.USER_POOLS, Provider.OIDC, Provider.IDENTITY_POOL, Provider.FUNCTION),
    Strategy.GROUPS: (Provider.USER_POOLS, Provider.OIDC),
    Strategy.CUSTOM: (Provider.FUNCTION,),
    Strategy.RESOURCE: (Provider.IAM,),
}
_PROVIDER_ERRORS = {
    Strategy.PUBLIC: "@auth directive with 'public' strategy only supports 'apiKey' (default) and "
    "'identityPool' providers, but found '{p}' assigned.",
    Strategy.PRIVATE: "@auth directive with 'private' strategy only supports 'userPools' (default) and "
    "'identityPool' providers, but found '{p}' assigned.",
    Strategy.OWNER: "@auth directive with 'owner' strategy only supports 'userPools' (default) and "
    "'oidc' providers, but found '{p}' assigned.",
    Strategy.GROUPS: "@auth directive with 'groups' strategy only supports 'userPools' and 'oidc' "
    "providers, but found '{p}' assigned.",
    Strategy.CUSTOM: "@auth directive with 'custom' strategy only supports 'function' (default) provider, "
    "but found '{p}' assigned.",
    Strategy.RESOURCE: "resource rules only support the 'iam' provider, but found '{p}' assigned.",
}


def _provider(value: str | Provider) -> Provider:
    if isinstance(value, Provider):
        return value
    if value == "iam":
        # Gen 1 spelling of identityPool (spec §1.2); Provider.IAM is only for allow.resource()
        return Provider.IDENTITY_POOL
    try:
        return Provider(value)
    except ValueError:
        pass
    alias = _PROVIDER_ALIASES.get(value.lower()) if isinstance(value, str) else None
    if alias is None:
        raise SchemaError(f"unknown auth provider {value!r}")
    return alias


def parse_operations(ops: Iterable[str | Operation]) -> frozenset[Operation]:
    """Expand ``read`` and validate names (spec §2.1).

    >>> sorted(o.value for o in parse_operations(["read", "create"]))
    ['create', 'get', 'list', 'listen', 'search', 'sync']
    """
    names = [op.value if isinstance(op, Operation) else op for op in ops]
    if not names:
        raise SchemaError("operations must not be empty")
    result: set[Operation] = set()
    if "read" in names:
        mixed = [n for n in names if n in {o.value for o in READ_OPERATIONS}]
        if mixed:
            listed = ", ".join(mixed)
            raise SchemaError(
                f"'{listed}' operations are specified in addition to 'read'. Either remove 'read' to "
                f"limit access only to '{listed}' or only keep 'read' to grant all "
                "get,list,search,listen,sync access."
            )
        result |= READ_OPERATIONS
    for name in names:
        if name == "read":
            continue
        try:
            result.add(Operation(name))
        except ValueError:
            raise SchemaError(f"unknown operation {name!r}") from None
    return frozenset(result)


@dataclass(frozen=True, slots=True)
class Rule:
    """One authorization rule. Build it with :class:`allow`, not directly."""

    strategy: Strategy
    provider: Provider
    operations: frozenset[Operation] = ALL_OPERATIONS
    #: owner strategies: the item field holding the owner(s)
    owner_field: str | None = None
    #: the owner or groups field is a list (``ownersDefinedIn`` / ``groupsDefinedIn``)
    multi: bool = False
    #: static groups strategy: the groups granted
    groups: tuple[str, ...] = ()
    #: dynamic groups strategy: the item field holding the group(s)
    groups_field: str | None = None
    owner_claim: str = DEFAULT_OWNER_CLAIM
    group_claim: str = DEFAULT_GROUP_CLAIM
    #: owner rules: may an owner reassign the owner field? (Amplify: yes; modelauth default: no)
    transfer: bool = False
    #: resource strategy: exact IAM role names or role ARNs
    roles: tuple[str, ...] = ()
    #: allOf strategy: every one of these must grant
    rules: tuple[Rule, ...] = ()
    #: set for rules given on a field (field-level operations were validated)
    field_operations: frozenset[str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        allowed = _ALLOWED_PROVIDERS.get(self.strategy)
        if allowed is not None and self.provider not in allowed:
            raise SchemaError(_PROVIDER_ERRORS[self.strategy].format(p=self.provider.value))
        if self.strategy is Strategy.GROUPS:
            if self.groups and self.groups_field:
                raise SchemaError("This rule has groupsField and groups, please use one or the other")
            if not self.groups and not self.groups_field:
                raise SchemaError(
                    "@auth directive with 'groups' should have a defined groups list or a groupsField."
                )
        if self.strategy is Strategy.RESOURCE and not self.roles:
            raise SchemaError("resource rules need at least one IAM role name or role ARN")
        if self.strategy is Strategy.ALL_OF:
            if len(self.rules) < 2:
                raise SchemaError("all_of needs at least two rules")
            modes = {_MODE_OF_PROVIDER[r.provider] for r in self.rules}
            if len(modes) != 1:
                raise SchemaError("all_of rules must share one auth mode, or they could never all match")

    def to(self, operations: Iterable[str | Operation]) -> Rule:
        """Limit the rule to these operations (``read`` = get, list, listen, sync, search)."""
        ops = list(operations)
        return replace(
            self, operations=parse_operations(ops), field_operations=frozenset(str(o) for o in ops)
        )

    def identity_claim(self, claim: str) -> Rule:
        """Owner rules: which token claim identifies the owner (Gen 2 ``.identityClaim``)."""
        if self.strategy is not Strategy.OWNER:
            raise SchemaError("@auth identityClaim can only be used for 'allow: owner'")
        return replace(self, owner_claim=claim)

    def with_claim_in(self, claim: str) -> Rule:
        """Group rules: which token claim lists the caller's groups (Gen 2 ``.withClaimIn``)."""
        if self.strategy is not Strategy.GROUPS:
            raise SchemaError("@auth groupClaim can only be used 'allow: groups'")
        return replace(self, group_claim=claim)

    def allow_transfer(self) -> Rule:
        """Owner rules: let an owner reassign the record (Amplify's default behaviour)."""
        if self.strategy is not Strategy.OWNER:
            raise SchemaError("allow_transfer can only be used on owner rules")
        return replace(self, transfer=True)

    @property
    def is_dynamic(self) -> bool:
        """Does the rule depend on the stored item (owner or dynamic-group, or an all_of of them)?"""
        return any(sub.owner_field is not None or sub.groups_field is not None for sub in _flatten([self]))

    def describe(self) -> str:
        """Short text naming the rule, for decision reasons: ``owner(owner) via userPools``."""
        if self.strategy is Strategy.ALL_OF:
            return "all_of(" + ", ".join(r.describe() for r in self.rules) + ")"
        detail = self.owner_field or self.groups_field or ",".join(self.groups or self.roles)
        name = self.strategy.value + (f"({detail})" if detail else "")
        return f"{name} via {self.provider.value}"


# the AppSync auth mode a provider's rules apply to (spec §1.2)
_MODE_OF_PROVIDER = {
    Provider.API_KEY: "API_KEY",
    Provider.IDENTITY_POOL: "AWS_IAM",
    Provider.IAM: "AWS_IAM",
    Provider.USER_POOLS: "AMAZON_COGNITO_USER_POOLS",
    Provider.OIDC: "OPENID_CONNECT",
    Provider.FUNCTION: "AWS_LAMBDA",
}


def mode_of(provider: Provider) -> str:
    """The AppSync auth mode (``AuthMode`` value) a provider's rules are judged in."""
    return _MODE_OF_PROVIDER[provider]


class allow:
    """Rule builders mirroring Amplify Gen 2's ``allow.*``.

    >>> allow.owner().describe()
    'owner(owner) via userPools'
    """

    @staticmethod
    def public_api_key() -> Rule:
        return Rule(Strategy.PUBLIC, Provider.API_KEY)

    @staticmethod
    def guest() -> Rule:
        """Identity-pool unauthenticated role (AWS_IAM mode)."""
        return Rule(Strategy.PUBLIC, Provider.IDENTITY_POOL)

    @staticmethod
    def authenticated(provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return Rule(Strategy.PRIVATE, _provider(provider))

    @staticmethod
    def owner(provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return allow.owner_defined_in("owner", provider)

    @staticmethod
    def owner_defined_in(field_name: str, provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return _owner_rule(field_name, provider, multi=False)

    @staticmethod
    def owners_defined_in(field_name: str, provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return _owner_rule(field_name, provider, multi=True)

    @staticmethod
    def group(group: str, provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return allow.groups([group], provider)

    @staticmethod
    def groups(groups: Sequence[str], provider: str | Provider = Provider.USER_POOLS) -> Rule:
        if isinstance(groups, str):
            raise SchemaError("groups() takes a list of group names")
        if not groups:
            raise SchemaError("@auth rules using groups cannot have an empty list")
        resolved = _provider(provider)
        for name in groups:
            _check_group_name(name, cognito=resolved is Provider.USER_POOLS)
        return Rule(Strategy.GROUPS, resolved, groups=tuple(groups))

    @staticmethod
    def group_defined_in(field_name: str, provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return Rule(Strategy.GROUPS, _provider(provider), groups_field=field_name)

    @staticmethod
    def groups_defined_in(field_name: str, provider: str | Provider = Provider.USER_POOLS) -> Rule:
        return Rule(Strategy.GROUPS, _provider(provider), groups_field=field_name, multi=True)

    @staticmethod
    def custom(provider: str | Provider = Provider.FUNCTION) -> Rule:
        """AWS_LAMBDA mode: the Lambda authorizer's answer is the whole decision."""
        return Rule(Strategy.CUSTOM, _provider(provider))

    @staticmethod
    def resource(*roles: str) -> Rule:
        """Backend IAM principals by exact role name or role ARN (never substring matching).

        An assumed-role caller ``arn:aws:sts::1:assumed-role/todo-fn-role/session`` matches
        ``"todo-fn-role"`` and ``"arn:aws:iam::1:role/todo-fn-role"``, not ``"todo-fn"``.
        """
        return Rule(Strategy.RESOURCE, Provider.IAM, roles=tuple(roles))

    @staticmethod
    def all_of(*rules: Rule) -> Rule:
        """Beyond Amplify: every rule must grant (e.g. tenant owner AND editors group)."""
        provider = rules[0].provider if rules else Provider.USER_POOLS
        return Rule(Strategy.ALL_OF, provider, rules=tuple(rules))


def _owner_rule(field_name: str, provider: str | Provider, *, multi: bool) -> Rule:
    prov = _provider(provider)
    claim = "cognitoIdentityId" if prov is Provider.IDENTITY_POOL else DEFAULT_OWNER_CLAIM
    return Rule(Strategy.OWNER, prov, owner_field=field_name, multi=multi, owner_claim=claim)


_SCALARS = SCALAR_TYPES  # GraphQL's and AppSync's (modelauth.scalars checks their formats)


@dataclass(frozen=True, slots=True)
class Field:
    """A model field. ``rules`` (when given) replace the model's rules for this field.

    ``type`` is a scalar's name (``"String"``, ``"AWSDateTime"``, ...), an
    :class:`~modelauth.fieldtypes.Enum` or a :class:`~modelauth.fieldtypes.CustomType`.
    ``is_list`` makes it a list (``[T]``; ``items_required=True``: ``[T!]``), ``required`` adds
    ``!``; ``default`` (a scalar or enum value, Gen 2 ``.default()``) is stored by a create that
    leaves the field out or sends ``null``, so ``Create<Model>Input`` does not require it.

    >>> Field("ssn", rules=[allow.owner()]).rules[0].strategy.value
    'owner'
    >>> Field("tags", is_list=True, items_required=True, required=True).graphql_type
    '[String!]!'
    """

    name: str
    type: FieldType = "String"
    required: bool = False
    is_list: bool = False
    rules: Sequence[Rule] | None = None
    #: list fields: the values may not be null (``[T!]``)
    items_required: bool = False
    #: stored by a create that does not set the field (None: no default)
    default: str | int | float | bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SchemaError(f"invalid field name {self.name!r}")
        if not isinstance(self.type, (Enum, CustomType)) and self.type not in _SCALARS:
            hint = " (give the Enum or CustomType itself, not its name)" if isinstance(self.type, str) else ""
            raise SchemaError(f"field {self.name}: unsupported type {self.type!r}{hint}")
        if self.items_required and not self.is_list:
            raise SchemaError(f"field {self.name}: items_required is for list fields (is_list=True)")
        if self.default is not None:
            _check_default(self)
        if self.rules is not None:
            rules = tuple(self.rules)
            object.__setattr__(self, "rules", rules)
            for rule in (*rules, *_flatten(rules)):
                for op in rule.field_operations or ():
                    if op not in FIELD_LEVEL_OPERATIONS:
                        raise SchemaError(f"'{op}' operation is not allowed at the field level.")

    @property
    def type_name(self) -> str:
        """The GraphQL name of the field's type (without list or ``!``)."""
        return self.type if isinstance(self.type, str) else self.type.name

    @property
    def graphql_type(self) -> str:
        return self.wrap(self.type_name, self.required)

    def wrap(self, name: str, required: bool) -> str:
        """``name`` as this field's list and non-null wrapping spells it: ``[Tag!]!``."""
        inner = f"[{name}{'!' if self.items_required else ''}]" if self.is_list else name
        return inner + ("!" if required else "")


def _check_default(f: Field) -> None:
    """Amplify's @default checks, at build time: a scalar or enum field, not a list, and a value
    of its type (the enum's member, the scalar's format)."""
    if f.is_list or isinstance(f.type, CustomType):
        raise SchemaError(
            f"field {f.name}: The @default directive may only be added to scalar or enum field types."
        )
    if isinstance(f.type, Enum):
        if f.default not in f.type.values:
            raise SchemaError(
                f'field {f.name}: Default value "{f.default}" is not a member of {f.type.name} enum.'
            )
    elif not conforms(f.type, f.default):
        raise SchemaError(f'field {f.name}: Default value "{f.default}" is not a valid {f.type}.')


def types_of(fields: Iterable[Field]) -> Iterable[Enum | CustomType]:
    """Every enum and custom type ``fields`` reach, nested ones first, each once per reach."""
    for f in fields:
        if isinstance(f.type, CustomType):
            yield from types_of(f.type.fields)
        if isinstance(f.type, (Enum, CustomType)):
            yield f.type


#: Gen 2's relationship kinds and their GraphQL shape: a connection (list) or one item
RELATION_KINDS = ("has_many", "has_one", "belongs_to")


@dataclass(frozen=True, slots=True)
class Relation:
    """A relationship field (Gen 2 ``a.hasMany`` / ``a.hasOne`` / ``a.belongsTo``), placed in a
    model's ``fields``. ``references`` are fields of the model holding the reference (the
    child: ``Comment.postId`` for both ``Post.comments`` and ``Comment.post``), one per key field
    of the parent (its ``id``, or its identifier's fields).

    Each nested field is resolved with the *related* model's rules: ``Post.comments`` lists the
    Comments the caller may list (a Query on the index of ``postId`` that modelauth adds to
    Comment), ``Comment.post`` gets the Post as ``getPost`` would (null and ``Not Authorized to
    access post on type Comment`` if the caller may not read it). Build it with
    :func:`has_many`, :func:`has_one`, :func:`belongs_to`.

    >>> has_many("comments", "Comment", references="postId").references
    ('postId',)
    """

    name: str
    kind: str
    related: str
    references: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SchemaError(f"invalid relationship field name {self.name!r}")
        if self.kind not in RELATION_KINDS:
            raise SchemaError(f"relationship {self.name}: kind must be one of {', '.join(RELATION_KINDS)}")
        if not isinstance(self.related, str):
            raise SchemaError(f"relationship {self.name}: give the related model's name (a string)")
        refs = tuple(self.references)
        if not refs or not all(isinstance(r, str) and r.isidentifier() for r in refs):
            raise SchemaError(f"relationship {self.name}: references must name one or more fields")
        object.__setattr__(self, "references", refs)

    @property
    def is_list(self) -> bool:
        return self.kind == "has_many"

    @property
    def holds_reference(self) -> bool:
        """Whether the references are this model's fields (``belongs_to``) or the related one's."""
        return self.kind == "belongs_to"


def has_many(name: str, related: str, *, references: str | Sequence[str]) -> Relation:
    """Gen 2 ``a.hasMany("Comment", "postId")``: ``Post.comments`` lists the related items whose
    ``references`` hold this item's key; the related model needs the matching :func:`belongs_to`.

    >>> has_many("comments", "Comment", references="postId").kind
    'has_many'
    """
    return Relation(name, "has_many", related, _names(references))


def has_one(name: str, related: str, *, references: str | Sequence[str]) -> Relation:
    """Gen 2 ``a.hasOne("Profile", "userId")``: the one related item whose ``references`` hold
    this item's key; the related model needs the matching :func:`belongs_to`.

    >>> has_one("profile", "Profile", references="userId").is_list
    False
    """
    return Relation(name, "has_one", related, _names(references))


def belongs_to(name: str, related: str, *, references: str | Sequence[str]) -> Relation:
    """Gen 2 ``a.belongsTo("Post", "postId")``: the parent whose key this item's ``references``
    hold; the parent needs the matching :func:`has_many` or :func:`has_one`.

    >>> belongs_to("post", "Post", references=["postId"]).holds_reference
    True
    """
    return Relation(name, "belongs_to", related, _names(references))


def _names(references: str | Sequence[str]) -> tuple[str, ...]:
    return (references,) if isinstance(references, str) else tuple(references)


# fields every model gets, as Amplify adds them (and its timestamps, see Model.timestamps)
_IMPLICIT = ("id", "_version")
#: Amplify's timestamp fields: ``Model.timestamps`` renames them or turns them off
TIMESTAMPS = ("createdAt", "updatedAt")
_DEFAULT_TIMESTAMPS: Mapping[str, str | None] = MappingProxyType({name: name for name in TIMESTAMPS})


@dataclass(frozen=True, slots=True)
class Model:
    """A DynamoDB-backed model: fields, key ``id`` and its rules.

    Owner and groups fields named by rules are added (``String`` or ``[String]``) when not
    declared, as Amplify does.

    ``timestamps`` renames Amplify's ``createdAt``/``updatedAt`` or turns them off. The owner
    indexes (``by<Field>``) sort on the creation timestamp; without one they have no sort key, and
    a list by owner still Queries them (only the owner's items are read), in no defined order.

    >>> Model("Log", timestamps={"createdAt": "loggedAt", "updatedAt": None}).timestamp_fields
    ('loggedAt',)
    """

    name: str
    #: the fields (relationship fields given here, as Gen 2 places them, move to
    #: :attr:`relations`; typed code passes them as ``relations=``)
    fields: Sequence[Field] = ()
    #: none: the schema's ``authorization`` rules; with none there either, only IAM backend
    #: access (``AuthConfig.generic_iam_access``) reaches the model
    rules: Sequence[Rule] = ()
    plural: str | None = None
    #: Amplify's ``populateOwnerFieldForStaticGroupAuth``: fill owner fields on create when a
    #: static rule (a group, ``authenticated()``) already allows it; None: the schema's (True)
    populate_owner_field_for_static_group_auth: bool | None = None
    #: Gen 2's ``a.model(...).secondaryIndexes(...)``: a GSI and a query field each (:func:`index`)
    secondary_indexes: Sequence[SecondaryIndex] = ()
    #: Gen 2's ``.identifier([...])``: the table's key, a partition key field and optionally a
    #: sort key field (required scalars); empty: ``id``
    identifier: Sequence[str] = ()
    # derived once here, read on every request (plain attributes: no call on the warm path)
    #: owner rules on the model and its fields (their fields are filled on create)
    owner_rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    #: whether any field has rules of its own (else every field follows the model's)
    has_field_rules: bool = field(init=False, repr=False, compare=False)
    #: owner fields holding ``<sub>::<username>`` values, shown to clients as the username part
    composite_owner_fields: tuple[str, ...] = field(init=False, repr=False, compare=False)
    #: fields nulled in mutation results, which every subscriber receives: those some reader of
    #: the model may not read (Amplify's rule, spec §2.4); see :func:`mutation_masked_fields`
    mutation_masked_fields: frozenset[str] = field(init=False, repr=False, compare=False)
    #: composite owner field → the read-only field carrying its stored value (``_storedOwner``),
    #: which subscription filters compare (issue 16.3)
    stored_owner_fields: Mapping[str, str] = field(init=False, repr=False, compare=False)
    #: what a list's filter may name: every field but custom-type ones, enums with their members
    filter_fields: Mapping[str, FilterField] = field(init=False, repr=False, compare=False)
    #: fields named by owner or group rules (their values are names: never null in a list)
    rule_fields: frozenset[str] = field(init=False, repr=False, compare=False)
    #: the table's key fields: ``("id",)`` or the identifier
    key_fields: tuple[str, ...] = field(init=False, repr=False, compare=False)
    #: a custom identifier as an index of the table itself (partition key, sort key), for
    #: ``listX``'s key condition arguments; None for ``id``-keyed models
    primary_index: SecondaryIndex | None = field(init=False, repr=False, compare=False)
    #: root fields turned off (Gen 2 ``.disableOperations``), normalized to ``get`` … ``onDelete``
    disabled_operations: frozenset[str] = frozenset()
    #: Gen 1 ``@model(subscriptions: {level: ...})``: ``on`` (the rules decide and filter),
    #: ``public`` (any caller of a mode the rules name, no filter), ``off`` (no subscriptions)
    subscriptions: str = "on"
    #: Gen 1 ``@model(timestamps: {createdAt: "createdOn", updatedAt: null})``: the names the
    #: creation and update timestamps are stored, returned and filtered under; a name left out
    #: keeps Amplify's, a None name drops that timestamp, ``timestamps=None`` drops both. A model
    #: without a creation timestamp has owner indexes without a sort key (see README)
    timestamps: Mapping[str, str | None] | None = field(
        default_factory=lambda: _DEFAULT_TIMESTAMPS, compare=False
    )
    #: the creation timestamp field (the owner indexes' sort key), None when turned off
    created_field: str | None = field(init=False, repr=False)
    #: the update timestamp field, None when turned off
    updated_field: str | None = field(init=False, repr=False)
    #: relationship fields (:func:`has_many`, :func:`has_one`, :func:`belongs_to`), checked
    #: against the related models by :class:`Schema`
    relations: Sequence[Relation] = ()

    def __post_init__(self) -> None:
        given: tuple[object, ...] = tuple(self.fields)
        relations = (*self.relations, *(f for f in given if isinstance(f, Relation)))
        object.__setattr__(self, "relations", relations)
        object.__setattr__(self, "fields", tuple(f for f in given if not isinstance(f, Relation)))
        object.__setattr__(self, "rules", tuple(self.rules))
        check_type_name(self.name, "model name")
        if self.plural is not None:
            check_type_name(self.plural, f"{self.name}: plural")
        declared = {f.name for f in self.fields}
        if len(declared) != len(self.fields):
            raise SchemaError(f"{self.name}: duplicate field names")
        for rel in relations:
            if not isinstance(rel, Relation):
                raise SchemaError(f"{self.name}: relations takes has_many/has_one/belongs_to values")
        rel_names = [r.name for r in relations]
        if len(set(rel_names)) != len(rel_names) or set(rel_names) & declared:
            raise SchemaError(f"{self.name}: duplicate field names")
        reserved = (declared | set(rel_names)) & set(_IMPLICIT)
        if reserved:
            raise SchemaError(f"{self.name}: fields {sorted(reserved)} are managed by modelauth")
        added: list[Field] = []
        for rule in (*self.rules, *(r for f in self.fields for r in f.rules or ())):
            for sub in rule.rules or (rule,):
                name = sub.owner_field or sub.groups_field
                if name and name not in declared:
                    added.append(Field(name, is_list=sub.multi))
                    declared.add(name)
        object.__setattr__(self, "fields", (*self.fields, *added))
        _set_timestamps(self, declared | set(rel_names))
        flat = tuple(_flatten((*self.rules, *(r for f in self.fields for r in f.rules or ()))))
        owners = tuple(r for r in flat if r.strategy is Strategy.OWNER)
        object.__setattr__(self, "owner_rules", owners)
        object.__setattr__(self, "has_field_rules", any(f.rules is not None for f in self.fields))
        composite = (r.owner_field for r in owners if r.owner_field is not None and "::" in r.owner_claim)
        object.__setattr__(self, "composite_owner_fields", tuple(dict.fromkeys(composite)))
        stored = {name: stored_owner_field(name) for name in self.composite_owner_fields}
        clash = (set(stored.values()) & declared) | ({*stored.values()} & set(self.implicit_fields))
        if clash or len(set(stored.values())) != len(stored):
            raise SchemaError(
                f"{self.name}: fields {sorted(clash or stored.values())} are managed by modelauth"
            )
        object.__setattr__(self, "stored_owner_fields", MappingProxyType(stored))
        object.__setattr__(self, "filter_fields", MappingProxyType(_filter_fields(self)))
        names = {n for r in flat for n in (r.owner_field, r.groups_field) if n}
        object.__setattr__(self, "rule_fields", frozenset(names))
        defaulted = sorted(f.name for f in self.fields if f.name in names and f.default is not None)
        if defaulted:
            raise SchemaError(
                f"{self.name}: fields {defaulted} are named by owner or group rules and take no default "
                "(an owner or group comes from the caller or the input, never from the schema)"
            )
        for rule in flat:
            _check_field_kind(self, rule)
        object.__setattr__(self, "mutation_masked_fields", mutation_masked_fields(self))
        _check_required_fields_readable(self)
        object.__setattr__(self, "secondary_indexes", tuple(self.secondary_indexes))
        _check_indexes(self)
        _set_identifier(self)
        _normalize_options(self)

    def disable_operations(self, operations: Iterable[str]) -> Model:
        """This model without the named root fields (Gen 2 ``.disableOperations``): ``queries``,
        ``mutations``, ``subscriptions`` or any of ``get``, ``list``, ``create``, ``update``,
        ``delete``, ``onCreate``, ``onUpdate``, ``onDelete``.

        A disabled mutation takes its subscription with it (``onCreate`` follows ``create``).

        >>> todo = Model("Todo", rules=[allow.owner()]).disable_operations(["delete", "list"])
        >>> [f.field_name for f in root_fields(todo)]
        ['getTodo', 'createTodo', 'updateTodo', 'onCreateTodo', 'onUpdateTodo']
        """
        return replace(self, disabled_operations=self.disabled_operations | _expand_disabled(operations))

    def is_enabled(self, kind: str) -> bool:
        """Is the root field of this kind (``get`` … ``onDelete``, see :func:`operation_kind`) on?"""
        return kind not in self.disabled_operations

    @property
    def list_name(self) -> str:
        return self.plural or self.name + "s"

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields) | frozenset(self.implicit_fields)

    @property
    def implicit_fields(self) -> tuple[str, ...]:
        """The fields modelauth manages: ``id``, the timestamps this model has, ``_version``.

        >>> Model("Log", timestamps={"createdAt": "loggedAt", "updatedAt": None}).implicit_fields
        ('id', 'loggedAt', '_version')
        """
        return ("id", *self.timestamp_fields, "_version")

    @property
    def timestamp_fields(self) -> tuple[str, ...]:
        """The timestamp fields this model has (creation first), as :attr:`timestamps` names them."""
        return tuple(n for n in (self.created_field, self.updated_field) if n is not None)

    @property
    def writable_fields(self) -> frozenset[str]:
        """Fields a client may send in create/update input (``id`` on create, not timestamps)."""
        return frozenset(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def with_stored(self, names: Iterable[str]) -> tuple[str, ...]:
        """``names`` and, after each composite owner field, the field carrying its stored value:
        whatever hides an owner field from a reader hides both."""
        return tuple(n for name in names for n in (name, self.stored_owner_fields.get(name)) if n is not None)


def _filter_fields(model: Model) -> dict[str, FilterField]:
    """Amplify's ``Model<X>FilterInput``: scalar and enum fields (custom types are not in it)."""
    found = dict.fromkeys(model.implicit_fields, FilterField())
    for f in model.fields:
        if isinstance(f.type, Enum):
            found[f.name] = FilterField((f.type.name, tuple(f.type.values)), f.is_list)
        elif not isinstance(f.type, CustomType):
            found[f.name] = FilterField()
    return found


#: scalar types a key (partition or sort) may have, and DynamoDB's attribute type for each
_NUMBER_KEYS = frozenset({"Int", "Float", "AWSTimestamp"})
_KEY_TYPES = frozenset(SCALAR_TYPES) - {"Boolean", "AWSJSON"}


@dataclass(frozen=True, slots=True)
class SecondaryIndex:
    """A secondary index of a model (Gen 2's ``a.index("status").sortKeys([...])``): a GSI keyed
    on ``partition_key`` (and the first sort key), queried by its own query field. Build it with
    :func:`index`.

    >>> index("status").sort_keys(["createdAt"]).query_field("todosByStatus").sort_key
    'createdAt'
    """

    partition_key: str
    sort_key_fields: tuple[str, ...] = ()
    index_name: str | None = None
    query_field_name: str | None = None
    #: ``"Post.comments"``: the index a relationship field reads (no query field of its own)
    relation: str | None = None

    def sort_keys(self, fields: Sequence[str]) -> SecondaryIndex:
        """The sort key (Gen 2 ``.sortKeys``); DynamoDB keys a GSI on one sort attribute, so
        modelauth takes one field."""
        names = tuple(fields) if not isinstance(fields, str) else (fields,)
        if len(names) > 1:
            raise SchemaError(
                f"index {self.partition_key!r}: one sort key field (composite sort keys are not supported)"
            )
        return replace(self, sort_key_fields=names)

    def name(self, name: str) -> SecondaryIndex:
        """The GSI's name (Gen 2 ``.name``); the default is :meth:`gsi_name`'s."""
        return replace(self, index_name=name)

    def query_field(self, name: str) -> SecondaryIndex:
        """The Query field that reads the index (Gen 2 ``.queryField``)."""
        return replace(self, query_field_name=name)

    @property
    def sort_key(self) -> str | None:
        return self.sort_key_fields[0] if self.sort_key_fields else None

    def gsi_name(self, model: Model) -> str:
        """``<model>sBy<Field>[And<SortKey>]`` unless named: never an owner index's ``by<Field>``."""
        if self.index_name:
            return self.index_name
        return _lower_first(model.name) + "sBy" + _key_words(self)

    def field_name(self, model: Model) -> str:
        """The query field: Gen 2's default ``list<Model>By<Field>[And<SortKey>]``."""
        return self.query_field_name or f"list{model.name}By{_key_words(self)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _key_words(idx: SecondaryIndex) -> str:
    return "And".join(_upper_first(n) for n in (idx.partition_key, *idx.sort_key_fields))


def index(partition_key: str) -> SecondaryIndex:
    """A secondary index on ``partition_key`` (Gen 2 ``a.index``), for ``Model(secondary_indexes=)``.

    >>> index("status").field_name(Model("Todo", fields=[Field("status")], rules=[allow.owner()],
    ...                                   secondary_indexes=[index("status")]))
    'listTodoByStatus'
    """
    if not isinstance(partition_key, str) or not partition_key.isidentifier():
        raise SchemaError(f"index: invalid field name {partition_key!r}")
    return SecondaryIndex(partition_key)


def key_attribute_type(model: Model, name: str) -> str:
    """DynamoDB's attribute type of a key field: ``N`` for numbers, else ``S``."""
    f = model.field(name)
    return "N" if f is not None and f.type in _NUMBER_KEYS else "S"


def key_scalar(model: Model, name: str) -> str:
    """The GraphQL scalar of a key field (the implicit ``id`` and timestamps included)."""
    f = model.field(name)
    if f is not None:
        return f.type_name
    return "ID" if name == "id" else "AWSDateTime"


def _check_indexes(model: Model) -> None:
    """Amplify's @index checks: the fields exist and are scalars (not lists), names are unique."""
    names: set[str] = set()
    owner_indexes = {"by" + _upper_first(r.owner_field) for r in model.owner_rules if r.owner_field}
    for idx in model.secondary_indexes:
        if not isinstance(idx, SecondaryIndex):
            raise SchemaError(f"{model.name}: secondary_indexes takes index(...) values")
        for name in (idx.partition_key, *idx.sort_key_fields):
            f = model.field(name)
            if f is None and name in TIMESTAMPS and name not in model.implicit_fields:
                raise SchemaError(
                    f"Index '{idx.gsi_name(model)}' on type '{model.name}' names '{name}', a timestamp "
                    f"this model turns off or renames (timestamps={_describe_timestamps(model)})"
                )
            if f is None and name not in model.implicit_fields:
                raise SchemaError(
                    f"Can't find field '{name}' in {model.name}, but it was specified in index "
                    f"'{idx.gsi_name(model)}'."
                )
            if name == "_version" or (f is not None and (f.is_list or f.type_name not in _KEY_TYPES)):
                raise SchemaError(
                    f"Index '{idx.gsi_name(model)}' on type '{model.name}': field '{name}' cannot be a "
                    "key: a key is a scalar (not a list, Boolean or AWSJSON)"
                )
        if idx.sort_key == idx.partition_key:
            raise SchemaError(f"Index '{idx.gsi_name(model)}': the sort key repeats the partition key")
        labels = (("index", idx.gsi_name(model)), ("query field", idx.field_name(model)))
        for label, value in labels[:1] if idx.relation else labels:
            pattern = r"[A-Za-z_][A-Za-z0-9_.-]{2,254}" if idx.relation else r"[A-Za-z_][A-Za-z0-9_]{2,254}"
            if not re.fullmatch(pattern, value) or f"{label} {value}" in names:
                raise SchemaError(f"{model.name}: {label} {value!r} is invalid or defined twice")
            if label == "index" and value in owner_indexes:
                raise SchemaError(f"{model.name}: index {value!r} is the owner index of that field")
            names.add(f"{label} {value}")


def _set_identifier(model: Model) -> None:
    """Check ``identifier`` (Amplify's primary key rules) and derive the key fields."""
    names = (model.identifier,) if isinstance(model.identifier, str) else tuple(model.identifier)
    object.__setattr__(model, "identifier", names)
    if not names or names == ("id",):
        object.__setattr__(model, "key_fields", ("id",))
        object.__setattr__(model, "primary_index", None)
        return
    if len(names) > 2 or len(set(names)) != len(names):
        raise SchemaError(
            f"{model.name}: identifier takes a partition key field and at most one sort key field "
            "(composite sort keys are not supported)"
        )
    for name in names:
        f = model.field(name)
        if f is None:
            raise SchemaError(
                f"Can't find field '{name}' in {model.name}, but it was specified in identifier."
            )
        if f.is_list or f.type_name not in _KEY_TYPES:
            raise SchemaError(
                f"The primary key on type '{model.name}': field '{name}' cannot be a key: a key is a "
                "scalar (not a list, Boolean or AWSJSON)"
            )
        if not f.required:
            raise SchemaError(f"The primary key on type '{model.name}' must reference non-null fields.")
        if name in model.rule_fields:
            raise SchemaError(
                f"{model.name}: '{name}' is named by an owner or group rule and cannot be a key "
                "(a key is never changed; an owner may be)"
            )
    object.__setattr__(model, "key_fields", names)
    object.__setattr__(model, "primary_index", SecondaryIndex(names[0], names[1:]))


#: what ``disable_operations`` accepts (Gen 2's names): categories, then single root fields
DISABLE_OPERATION_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "queries": ("get", "list"),
        "mutations": ("create", "update", "delete"),
        "subscriptions": ("onCreate", "onUpdate", "onDelete"),
        **{name: (name,) for name in ("get", "list", "create", "update", "delete")},
        **{name: (name,) for name in ("onCreate", "onUpdate", "onDelete")},
    }
)
SUBSCRIPTION_LEVELS = ("on", "public", "off")


def _expand_disabled(operations: Iterable[str]) -> frozenset[str]:
    if isinstance(operations, str):
        raise SchemaError("disable_operations takes a list of operation names")
    found: set[str] = set()
    for name in operations:
        kinds = DISABLE_OPERATION_NAMES.get(name) if isinstance(name, str) else None
        if kinds is None:
            raise SchemaError(
                f"disable_operations: unknown operation {name!r} (use {', '.join(DISABLE_OPERATION_NAMES)})"
            )
        found.update(kinds)
    return frozenset(found)


def _normalize_options(model: Model) -> None:
    """Validate the model options; ``subscriptions="off"`` disables the three subscriptions, and
    a disabled mutation its subscription."""
    if model.subscriptions not in SUBSCRIPTION_LEVELS:
        raise SchemaError(
            f"{model.name}: subscriptions must be one of {', '.join(SUBSCRIPTION_LEVELS)}, "
            f"not {model.subscriptions!r}"
        )
    disabled = _expand_disabled(model.disabled_operations)
    if model.subscriptions == "off":
        disabled |= set(DISABLE_OPERATION_NAMES["subscriptions"])
    # a subscription follows its mutation (@aws_subscribe may only name a field the SDL has)
    disabled |= {f"on{verb.title()}" for verb in ("create", "update", "delete") if verb in disabled}
    object.__setattr__(model, "disabled_operations", disabled)


def _set_timestamps(model: Model, declared: set[str]) -> None:
    """Check ``timestamps`` and derive :attr:`Model.created_field` and :attr:`Model.updated_field`:
    each name a field name no declared field (nor ``id``, ``_version``) has, the two different."""
    given = model.timestamps
    if given is not None and (not isinstance(given, Mapping) or not set(given) <= set(TIMESTAMPS)):
        raise SchemaError(
            f"{model.name}: timestamps takes None or a mapping of createdAt and/or updatedAt to a field "
            f"name or None, e.g. {{'createdAt': 'createdOn', 'updatedAt': None}}, not {given!r}"
        )
    names = (None, None) if given is None else tuple({**_DEFAULT_TIMESTAMPS, **given}[n] for n in TIMESTAMPS)
    for stamp, name in zip(TIMESTAMPS, names, strict=True):
        if name is None:
            continue
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise SchemaError(
                f"{model.name}: timestamps {stamp}: {name!r} is not a field name (letters, digits and _, "
                "starting with a letter)"
            )
        if name in declared or name in _IMPLICIT:
            raise SchemaError(
                f"{model.name}: the {stamp} timestamp is named {name!r}, which is also a field of the "
                "model (timestamps are managed by modelauth): rename the field or the timestamp "
                "(timestamps=...), or turn it off (None)"
            )
    if names[0] is not None and names[0] == names[1]:
        raise SchemaError(f"{model.name}: timestamps createdAt and updatedAt need two different names")
    object.__setattr__(model, "created_field", names[0])
    object.__setattr__(model, "updated_field", names[1])


def _describe_timestamps(model: Model) -> str:
    """``None`` or ``{'createdAt': 'createdOn', 'updatedAt': None}``: what the model's are."""
    if model.created_field is None and model.updated_field is None:
        return "None"
    return repr(dict(zip(TIMESTAMPS, (model.created_field, model.updated_field), strict=True)))


def stored_owner_field(name: str) -> str:
    """The field that carries a composite owner field's stored value: ``owner`` → ``_storedOwner``.

    Clients see the owner field as the username part (spec §3.2); subscription filters must
    compare what the store compares, so results carry the stored value here as well.

    >>> stored_owner_field("editors")
    '_storedEditors'
    """
    return f"_stored{name[:1].upper()}{name[1:]}"


def _flatten(rules: Iterable[Rule]) -> Iterable[Rule]:
    """The rules with every all_of replaced by its members."""
    for rule in rules:
        yield from rule.rules or (rule,)


def _check_field_kind(model: Model, rule: Rule) -> None:
    """Owner and groups fields hold names: ``String`` or, for the multi variants, ``[String]``."""
    name = rule.owner_field or rule.groups_field
    f = model.field(name) if name else None
    if f is not None and (f.is_list != rule.multi or f.type not in ("String", "ID")):
        kind = "[String]" if rule.multi else "String"
        raise SchemaError(f"{model.name}.{f.name} must be {kind} for rule {rule.describe()}")


def _role(rule: Rule) -> Rule:
    """A rule without its operations: who it admits, to compare readers (spec §1.3)."""
    return replace(rule, operations=ALL_OPERATIONS, transfer=False)


def _read_operations(rule: Rule) -> frozenset[Operation]:
    """The read operations a rule grants: an all_of grants only those all its members grant."""
    ops = rule.operations & READ_OPERATIONS
    for member in rule.rules:
        ops &= member.operations
    return ops


def _readers(rules: Iterable[Rule]) -> list[Rule]:
    """The rules that grant some read, one per static group (so group("A") and groups(["A",
    "B"]) share the reader "A")."""
    found: list[Rule] = []
    for rule in rules:
        if _read_operations(rule):
            found += [replace(rule, groups=(g,)) for g in rule.groups] if rule.groups else [rule]
    return found


def _mode_wide(rule: Rule) -> bool:
    """Does the rule admit every caller of its auth mode (public API key, signed-in user pool or
    OIDC user, Lambda-authorized caller)? Identity-pool rules depend on the caller's role."""
    return (
        (rule.strategy is Strategy.PUBLIC and rule.provider is Provider.API_KEY)
        or (rule.strategy is Strategy.PRIVATE and rule.provider in (Provider.USER_POOLS, Provider.OIDC))
        or rule.strategy is Strategy.CUSTOM
    )


def _within(reader: Rule, rule: Rule) -> bool:
    """Does ``rule`` admit every caller ``reader`` admits, whatever the item? Conservative: an
    answer of True is always right; False may only cost a field shown as null."""
    if _mode_wide(rule):
        return _MODE_OF_PROVIDER[rule.provider] == _MODE_OF_PROVIDER[reader.provider]
    if rule.strategy is Strategy.ALL_OF:  # admits the callers all its members admit
        return all(_within(reader, member) for member in rule.rules)
    if reader.strategy is Strategy.ALL_OF:  # admits only callers one member already admits
        return any(_within(member, rule) for member in reader.rules)
    if reader.groups and rule.groups:
        same = replace(reader, groups=rule.groups)
        return set(reader.groups) <= set(rule.groups) and _role(same) == _role(rule)
    return _role(reader) == _role(rule)


def mutation_masked_fields(model: Model) -> frozenset[str]:
    """The fields of ``model`` a mutation result returns as null (Amplify's rule, spec §2.4).

    A mutation's result is what every subscriber of the model receives, whoever they are, so a
    field is returned only when every rule that grants some read on the model (its own rules
    and the field rules) admits callers its field's rules (or the model's, for a field without
    rules) admit too, for each read operation it grants. Decided from the schema alone, once
    per model (:attr:`Model.mutation_masked_fields`); the implicit fields (``id``, timestamps,
    ``_version``) follow the record gate and are never masked.

    >>> mutation_masked_fields(Model("Profile", fields=[Field("ssn", rules=[allow.owner()])],
    ...                              rules=[allow.authenticated().to(["read"]), allow.owner()]))
    frozenset({'ssn'})
    >>> mutation_masked_fields(Model("Note", fields=[Field("secret", rules=[allow.owner()])],
    ...                              rules=[allow.owner()]))
    frozenset()
    """
    readers = _readers((*model.rules, *(r for f in model.fields for r in f.rules or ())))
    masked: set[str] = set()
    for f in model.fields:
        governing = f.rules if f.rules is not None else model.rules
        for reader in readers:
            granted: set[Operation] = set()
            for rule in governing:
                if _within(reader, rule):
                    granted |= _read_operations(rule)
            if not _read_operations(reader) <= granted:
                masked.add(f.name)
                break
    return frozenset(masked)


def _check_group_name(name: object, *, cognito: bool) -> None:
    """A group a rule names: a string; for user pools, one Cognito can hold (1-128 characters,
    no white space or control characters; ``modelauth generate`` creates it in the pool)."""
    if not isinstance(name, str) or not name:
        raise SchemaError(f"group names must be non-empty strings, not {name!r}")
    if cognito and (len(name) > 128 or any(c.isspace() or not c.isprintable() for c in name)):
        raise SchemaError(
            f"group {name!r}: a Cognito group name is 1-128 characters without spaces or control "
            "characters (it becomes a group of the user pool)"
        )


# A model's name becomes a GraphQL type, CloudFormation logical ids (``<Name>Table``) and an
# environment variable (``TABLE_<NAME>``): letters and digits only, starting with a letter.
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_RESERVED_TYPES = frozenset({"Query", "Mutation", "Subscription", *SCALAR_TYPES})


def check_type_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _TYPE_NAME.match(name):
        raise SchemaError(
            f"{what} {name!r}: use letters and digits, starting with a letter (up to 64; it names "
            "a GraphQL type, CloudFormation resources and an environment variable)"
        )
    if name in _RESERVED_TYPES:
        raise SchemaError(f"{what} {name!r} is a GraphQL root type or scalar: choose another name")


def generated_type_names(model: Model) -> tuple[str, ...]:
    """The GraphQL types and inputs the SDL defines for a model.

    >>> generated_type_names(Model("Todo", rules=[allow.owner()]))[:3]
    ('Todo', 'ModelTodoConnection', 'CreateTodoInput')
    """
    name = model.name
    return (
        name,
        f"Model{name}Connection",
        f"Create{name}Input",
        f"Update{name}Input",
        f"Delete{name}Input",
        f"Model{name}FilterInput",
        f"Model{name}ConditionInput",
    )


def _check_names_unique(models: Sequence[Model]) -> None:
    """Two models must not define one GraphQL type, root field, table or environment variable."""
    seen: dict[str, str] = {}
    for model in models:
        names = (
            *(("type", n) for n in generated_type_names(model)),
            *(("field", f"{r.type_name}.{r.field_name}") for r in root_fields(model, include_disabled=True)),
            ("table variable", f"TABLE_{model.name.upper()}"),
        )
        for kind, name in names:
            other = seen.setdefault(f"{kind} {name}", model.name)
            if other != model.name:
                raise SchemaError(
                    f"models {other} and {model.name} both define the {kind} {name}: "
                    "rename one of them (or set plural=)"
                )


def _type_names(t: Enum | CustomType) -> tuple[str, ...]:
    """The GraphQL types the SDL defines for an enum or custom type."""
    if isinstance(t, Enum):
        return (t.name, f"Model{t.name}Input", f"Model{t.name}ListInput")
    return (t.name, t.input_name)


_SHARED_TYPES = frozenset(
    (
        *(f"Model{s}Input" for s in ("ID", "String", "Int", "Float", "Boolean")),
        *(f"Model{s}KeyConditionInput" for s in ("ID", "String", "Int", "Float")),
        "ModelSortDirection",
    )
)


def _collect_types(models: Sequence[Model]) -> tuple[Enum | CustomType, ...]:
    """The schema's enums and custom types, each once; two different ones of one name, or one
    whose GraphQL types a model (or the shared inputs) defines, are a :class:`SchemaError`."""
    taken = {n: f"model {m.name}" for m in models for n in generated_type_names(m)}
    taken.update(dict.fromkeys(_SHARED_TYPES, "the filter inputs"))
    found: dict[str, Enum | CustomType] = {}
    for t in types_of(f for m in models for f in m.fields):
        seen = found.get(t.name)
        if seen is not None:
            if seen != t:
                raise SchemaError(f"two different types are named {t.name}: give each its own name")
            continue
        kind = "enum" if isinstance(t, Enum) else "custom type"
        for name in _type_names(t):
            if name in taken:
                raise SchemaError(f"{kind} {t.name}: the type {name} is already defined by {taken[name]}")
            taken[name] = f"{kind} {t.name}"
        found[t.name] = t
    return tuple(found.values())


def _check_required_fields_readable(model: Model) -> None:
    """Amplify's build error when field rules hide a required field from some reader: the
    field would be nulled, which GraphQL cannot do for a non-null field (spec §1.3, §2.4)."""
    unreadable = [f.name for f in model.fields if f.required and f.name in model.mutation_masked_fields]
    if unreadable:
        listed = ",".join(f'"{name}"' for name in unreadable)
        raise SchemaError(
            "When using field-level authorization rules you need to add rules to all of the model's "
            f'required fields with at least read permissions. Found model "{model.name}" with required '
            f"fields [{listed}] missing field-level authorization rules.\n\n"
            "For more information visit "
            "https://docs.amplify.aws/cli/graphql/authorization-rules/#field-level-authorization-rules"
        )


@dataclass(frozen=True, slots=True)
class Schema:
    """All models of an API (API-level settings live in :class:`modelauth.policy.AuthConfig`)."""

    models: Sequence[Model]
    #: rules of every model that has none of its own (Gen 2's ``a.schema(...).authorization``:
    #: a model's own rules replace them, they don't add to them)
    authorization: Sequence[Rule] = ()
    #: the default of :attr:`Model.populate_owner_field_for_static_group_auth`
    populate_owner_field_for_static_group_auth: bool = True
    #: every enum and custom type the models' fields reach, nested ones before their users
    types: tuple[Enum | CustomType, ...] = field(init=False, repr=False, compare=False)
    #: custom queries, mutations and subscriptions (:mod:`modelauth.custom`)
    operations: Sequence[CustomOperation] = ()
    #: the operations, checked against the models (derived; for the resolver)
    bound_operations: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from modelauth.custom import check_operations

        object.__setattr__(self, "authorization", tuple(self.authorization))
        for rule in self.authorization:
            if not isinstance(rule, Rule):
                raise SchemaError(f"authorization takes allow.* rules, not {type(rule).__name__}")
        object.__setattr__(self, "models", bind_relations([self._with_defaults(m) for m in self.models]))
        object.__setattr__(self, "operations", tuple(self.operations))
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise SchemaError("duplicate model names")
        _check_names_unique(self.models)
        object.__setattr__(self, "types", _collect_types(self.models))
        object.__setattr__(self, "bound_operations", check_operations(self.models, self.operations))

    def enums(self) -> tuple[Enum, ...]:
        return tuple(t for t in self.types if isinstance(t, Enum))

    def custom_types(self) -> tuple[CustomType, ...]:
        return tuple(t for t in self.types if isinstance(t, CustomType))

    def _with_defaults(self, model: Model) -> Model:
        if not isinstance(model, Model):
            raise SchemaError(f"models takes Model(...) values, not {type(model).__name__}")
        changes: dict[str, Any] = {}
        if not model.rules and self.authorization:
            changes["rules"] = self.authorization
        if model.populate_owner_field_for_static_group_auth is None:
            changes["populate_owner_field_for_static_group_auth"] = (
                self.populate_owner_field_for_static_group_auth
            )
        return replace(model, **changes) if changes else model

    def model(self, name: str) -> Model:
        """The model named ``name`` as the schema holds it (with the schema's defaults applied:
        use this, not the ``Model(...)`` you passed in, when you call the library yourself).

        >>> schema = Schema([Model("Todo")], authorization=[allow.public_api_key()])
        >>> schema.model("Todo").rules[0].strategy.value
        'public'
        """
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)


def related_model(models: Sequence[Model], model: Model, rel: Relation) -> Model:
    found = next((m for m in models if m.name == rel.related), None)
    if found is None:
        raise SchemaError(
            f"{model.name}.{rel.name}: the related model {rel.related!r} is not a model of the schema"
        )
    return found


def relation_index(parent: Model, rel: Relation) -> SecondaryIndex:
    """The child's index a ``has_many``/``has_one`` reads (Gen 2's ``gsi-Post.comments``):
    partition key the first reference, sort key the second (a parent with a composite key)."""
    where = f"{parent.name}.{rel.name}"
    return SecondaryIndex(rel.references[0], rel.references[1:], f"gsi-{where}", relation=where)


def relation_index_of(child: Model, parent: Model, rel: Relation) -> SecondaryIndex:
    """The index of ``child`` (as the schema holds it) that ``parent.rel`` reads."""
    where = f"{parent.name}.{rel.name}"
    found = next((i for i in child.secondary_indexes if i.relation == where), None)
    if found is None:
        raise SchemaError(f"{where}: {child.name} has no index for it (use the models of the Schema)")
    return found


def counterpart(models: Sequence[Model], model: Model, rel: Relation) -> Relation:
    """The other side of a relationship: the ``belongs_to`` of a ``has_many``/``has_one`` and
    back, on the same references (Amplify requires both sides)."""
    other = related_model(models, model, rel)
    wanted = ("belongs_to",) if not rel.holds_reference else ("has_many", "has_one")
    for candidate in other.relations:
        if (
            candidate.related == model.name
            and candidate.kind in wanted
            and candidate.references == rel.references
        ):
            return candidate
    if rel.holds_reference:
        raise SchemaError(
            f"{model.name}.{rel.name}: belongs_to requires that a has_one or has_many relationship "
            f"already exists from {other.name} to {model.name} with references {list(rel.references)}."
        )
    raise SchemaError(
        f"{model.name}.{rel.name}: {rel.kind} requires a belongs_to relationship from {other.name} to "
        f"{model.name} with references {list(rel.references)} (Gen 2: reference fields on both sides)."
    )


def _check_references(models: Sequence[Model], model: Model, rel: Relation) -> None:
    """The reference fields exist on the child, one per key field of the parent, of its type."""
    other = related_model(models, model, rel)
    parent, child = (other, model) if rel.holds_reference else (model, other)
    if len(rel.references) != len(parent.key_fields):
        raise SchemaError(
            f"{model.name}.{rel.name}: references {list(rel.references)} must name one field per key "
            f"field of {parent.name} ({', '.join(parent.key_fields)})"
        )
    for ref, key in zip(rel.references, parent.key_fields, strict=True):
        f = child.field(ref)
        if f is None:
            raise SchemaError(
                f"{model.name}.{rel.name}: reference field '{ref}' must be defined on {child.name}"
            )
        if f.is_list or _string_like(f.type_name) != _string_like(key_scalar(parent, key)):
            raise SchemaError(
                f"{model.name}.{rel.name}: reference field {child.name}.{ref} is {f.graphql_type}, but "
                f"{parent.name}.{key} is {key_scalar(parent, key)}: the types must match"
            )


def _string_like(scalar: str) -> str:
    return "String" if scalar in ("ID", "String") else scalar


def bind_relations(models: Sequence[Model]) -> tuple[Model, ...]:
    """Check every relationship against the models and give each child model the index its
    parent's ``has_many``/``has_one`` reads (once: models of a built schema keep theirs)."""
    added: dict[str, list[SecondaryIndex]] = {}
    for model in models:
        names = {f.name for f in model.fields}
        for rel in model.relations:
            if rel.name in names:
                raise SchemaError(f"{model.name}: duplicate field names")
            _check_references(models, model, rel)
            counterpart(models, model, rel)
            if not rel.holds_reference:
                added.setdefault(rel.related, []).append(relation_index(model, rel))
    out = []
    for model in models:
        have = {idx.relation for idx in model.secondary_indexes}
        extra = [idx for idx in added.get(model.name, ()) if idx.relation not in have]
        out.append(replace(model, secondary_indexes=(*model.secondary_indexes, *extra)) if extra else model)
    return tuple(out)


#: subscription field prefixes and the mutation verb each one follows
SUBSCRIPTION_PREFIXES = {"onCreate": "create", "onUpdate": "update", "onDelete": "delete"}


class RootField(NamedTuple):
    """A Query/Mutation/Subscription field of a model and the operation it performs (a
    secondary index's query field lists, with its ``secondary``)."""

    type_name: str
    field_name: str
    operation: Operation
    secondary: SecondaryIndex | None = None


def operation_kind(model: Model, root: RootField) -> str:
    """The name ``disable_operations`` knows a root field by: ``get`` … ``delete``, ``onCreate`` …

    >>> todo = Model("Todo", rules=[allow.owner()])
    >>> [operation_kind(todo, f) for f in root_fields(todo)][-3:]
    ['onCreate', 'onUpdate', 'onDelete']
    """
    if root.operation is Operation.LISTEN:
        return root.field_name.removesuffix(model.name)
    return root.operation.value


def root_fields(model: Model, *, include_disabled: bool = False) -> tuple[RootField, ...]:
    """The GraphQL root fields of a model, named as Amplify names them: those it has (not
    disabled, see :meth:`Model.disable_operations`), or every one with ``include_disabled``.

    >>> [f.field_name for f in root_fields(Model("Todo", rules=[allow.owner()]))][:5]
    ['getTodo', 'listTodos', 'createTodo', 'updateTodo', 'deleteTodo']
    """
    fields = _all_root_fields(model)
    if include_disabled or not model.disabled_operations:
        return fields
    return tuple(f for f in fields if operation_kind(model, f) not in model.disabled_operations)


def _all_root_fields(model: Model) -> tuple[RootField, ...]:
    name = model.name
    return (
        RootField("Query", f"get{name}", Operation.GET),
        RootField("Query", f"list{model.list_name}", Operation.LIST),
        RootField("Mutation", f"create{name}", Operation.CREATE),
        RootField("Mutation", f"update{name}", Operation.UPDATE),
        RootField("Mutation", f"delete{name}", Operation.DELETE),
        *(RootField("Subscription", f"{prefix}{name}", Operation.LISTEN) for prefix in SUBSCRIPTION_PREFIXES),
        *(
            RootField("Query", idx.field_name(model), Operation.LIST, idx)
            for idx in model.secondary_indexes
            if idx.relation is None
        ),
    )
