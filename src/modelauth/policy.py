"""The decision: may this principal do this operation on this model (and item)?

Pure functions over frozen data, no I/O. A :class:`Decision` says whether the request may
proceed, which rule decided, why (``reason``), and the :class:`Constraint` the data layer must
enforce atomically when the answer depends on a stored item it has not read (owner = caller,
caller's group in the item's groups field, …).

Example::

    >>> from modelauth.identity import AuthMode, Principal
    >>> from modelauth.rules import Field, Model, Operation, allow
    >>> todo = Model("Todo", fields=[Field("content")], rules=[allow.owner()])
    >>> alice = Principal(AuthMode.USER_POOLS, sub="A1", username="alice")
    >>> decide(alice, todo, Operation.LIST).constraint.describe()
    "owner in ['A1::alice', 'A1', 'alice']"
    >>> decide(alice, todo, Operation.GET, item={"id": "1", "owner": "B2::bob"}).reason
    "owner rule: caller is 'A1::alice', item owner is 'B2::bob'"
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from modelauth.identity import AuthMode, GroupClaim, Principal
from modelauth.rules import (
    DEFAULT_GROUP_CLAIM,
    Model,
    Operation,
    Provider,
    Rule,
    Strategy,
    mode_of,
)

__all__ = [
    "DecisionCache",
    "AuthConfig",
    "Condition",
    "Constraint",
    "Decision",
    "caller_owner_values",
    "decide",
    "denied_read_fields",
    "explain",
    "present",
    "unreadable_fields",
]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """API-level settings the rules are judged with (spec §5).

    Identity-pool rules match a caller whose role is one of the role ARNs (the STS session form
    ``arn:aws:sts::<acct>:assumed-role/<Role>/CognitoIdentityCredentials`` or the role's own
    ``arn:aws:iam::<acct>:role/<Role>``, compared exactly), or, only when ``identity_pool_id`` is
    set, an identity of that pool with the rule's auth type. ``generic_iam_access`` (Amplify
    Gen 2's default, off here) lets IAM callers without a Cognito identity skip all rules,
    leaving the IAM policy as the only guard.
    """

    identity_pool_id: str | None = None
    auth_role_arns: frozenset[str] = frozenset()
    unauth_role_arns: frozenset[str] = frozenset()
    generic_iam_access: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthConfig:
        """``IDENTITY_POOL_ID``, ``AUTH_ROLE_ARNS`` / ``UNAUTH_ROLE_ARNS`` (comma lists) and
        ``GENERIC_IAM_ACCESS=true``, as template.yaml sets them for the data functions.

        >>> AuthConfig.from_env({"AUTH_ROLE_ARNS": "arn:a, arn:b"}).auth_role_arns == {"arn:a", "arn:b"}
        True
        """
        env = os.environ if environ is None else environ

        def arns(name: str) -> frozenset[str]:
            return frozenset(a.strip() for a in env.get(name, "").split(",") if a.strip())

        return cls(
            identity_pool_id=env.get("IDENTITY_POOL_ID") or None,
            auth_role_arns=arns("AUTH_ROLE_ARNS"),
            unauth_role_arns=arns("UNAUTH_ROLE_ARNS"),
            generic_iam_access=env.get("GENERIC_IAM_ACCESS", "").lower() == "true",
        )


@dataclass(frozen=True, slots=True)
class Condition:
    """``item[field]`` equals one of ``values`` (``list_field``: the list holds one of them)."""

    field: str
    values: tuple[str, ...]
    list_field: bool = False

    def matches(self, item: Mapping[str, Any]) -> bool:
        stored = item.get(self.field)
        if self.list_field:
            return isinstance(stored, list) and any(v in self.values for v in stored if isinstance(v, str))
        return isinstance(stored, str) and stored in self.values

    def describe(self) -> str:
        verb = "contains one of" if self.list_field else "in"
        return f"{self.field} {verb} {list(self.values)}"


@dataclass(frozen=True, slots=True)
class Constraint:
    """What a stored item must satisfy: OR over ``alternatives``, each an AND of conditions.

    Kept small: repeated conditions and alternatives implied by another one are dropped, so
    AND-ing the same rules' constraints (model gate, field rules) does not multiply them.
    """

    alternatives: tuple[tuple[Condition, ...], ...]

    def __post_init__(self) -> None:
        given = self.alternatives
        if type(given) is tuple and len(given) == 1 and type(given[0]) is tuple and len(given[0]) == 1:
            return  # one condition (an owner rule's, on every request): nothing to drop
        alternatives = [tuple(dict.fromkeys(alt)) for alt in given]
        kept = [
            alt
            for i, alt in enumerate(alternatives)
            if not any(
                set(other) < set(alt) or (set(other) == set(alt) and j < i)
                for j, other in enumerate(alternatives)
            )
        ]
        object.__setattr__(self, "alternatives", tuple(kept))

    def matches(self, item: Mapping[str, Any]) -> bool:
        for alternative in self.alternatives:  # loops, not any(all(...)): run on every stored item
            for condition in alternative:
                if not condition.matches(item):
                    break
            else:
                return True
        return False

    def describe(self) -> str:
        return " or ".join(" and ".join(c.describe() for c in alt) for alt in self.alternatives)

    def why_not(self, item: Mapping[str, Any]) -> str:
        """Why a stored item fails the constraint, naming the stored values."""
        fields = sorted({c.field for alt in self.alternatives for c in alt})
        stored = ", ".join(f"{f}={item.get(f)!r}" for f in fields)
        return f"stored {stored} does not satisfy {self.describe()}"

    @property
    def single_condition(self) -> Condition | None:
        """The one condition when the constraint is exactly one (index-servable) condition."""
        if len(self.alternatives) == 1 and len(self.alternatives[0]) == 1:
            return self.alternatives[0][0]
        return None

    def and_(self, other: Constraint | None) -> Constraint:
        if other is None:
            return self
        return Constraint(tuple(a + b for a, b in itertools.product(self.alternatives, other.alternatives)))


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of :func:`decide`. ``allowed`` with a ``constraint`` means: only items that
    match it; the store must enforce it (ConditionExpression, owner index)."""

    allowed: bool
    model: str
    operation: Operation
    reason: str
    rule: Rule | None = None
    constraint: Constraint | None = None
    #: create: owner fields the store fills from the caller's claims
    owner_stamp: Mapping[str, Any] = field(default_factory=dict)
    #: input fields this caller may not write (the request fails as ``Unauthorized on [..]``)
    denied_input_fields: frozenset[str] = frozenset()
    #: update: owner fields the caller re-sent with its own identity (a no-op, not written)
    unchanged_input_fields: frozenset[str] = frozenset()
    #: allowed with a constraint: why the other rules refused (part of the reason when a stored
    #: item then fails the constraint, e.g. a group claim that could not be read)
    refusals: tuple[str, ...] = ()

    def permits(self, item: Mapping[str, Any]) -> bool:
        """Does this decision allow access to ``item`` (a stored record)?"""
        return self.allowed and (self.constraint is None or self.constraint.matches(item))


class _Outcome(NamedTuple):
    grant: bool = False
    constraint: Constraint | None = None
    reason: str = ""

    @property
    def denied(self) -> bool:
        return not self.grant and self.constraint is None


_GRANT = _Outcome(grant=True)


def _provider_label(principal: Principal) -> str:
    labels = {
        AuthMode.API_KEY: "api_key",
        AuthMode.USER_POOLS: "user_pools",
        AuthMode.OIDC: "oidc",
        AuthMode.LAMBDA: "function",
    }
    if principal.mode is AuthMode.IAM:
        return "identity_pool" if principal.iam and principal.iam.identity_pool_id else "iam"
    return labels[principal.mode]


def _applies(rule: Rule, principal: Principal) -> bool:
    return mode_of(rule.provider) == principal.mode.value


def _claim(principal: Principal, name: str) -> str | None:
    if name == "cognitoIdentityId":
        # only signed-in identities own records: a guest's identity id is an anonymous device id
        iam = principal.iam
        return iam.identity_id if iam is not None and iam.auth_type == "authenticated" else None
    value = principal.claim(name)
    if value is None and name in ("sub", "username"):
        # the verified identity's own fields (AppSync, authorizer context) stand in for claims
        value = principal.sub if name == "sub" else principal.username
    return value


def caller_owner_values(principal: Principal, claim: str) -> tuple[str, ...] | None:
    """The values a stored owner may hold to match this caller (spec §3.2), composite first.

    ``None`` when any part of the claim is missing: the rule is then inert.

    >>> from modelauth.identity import AuthMode, Principal
    >>> caller_owner_values(Principal(AuthMode.USER_POOLS, sub="A1", username="alice"), "sub::username")
    ('A1::alice', 'A1', 'alice')
    """
    parts = [_claim(principal, part) for part in claim.split("::")]
    if any(not p for p in parts):
        return None
    if len(parts) > 1 and any("::" in p for p in parts if p):
        # a username like "B2::bob" would spell another user's stored owner: the rule is inert
        return None
    values = [p for p in parts if p]
    composite = "::".join(values)
    return tuple(dict.fromkeys([composite, *values]))


def _owner_outcome(
    rule: Rule,
    principal: Principal,
    op: Operation,
    item: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
) -> _Outcome:
    assert rule.owner_field is not None
    values = caller_owner_values(principal, rule.owner_claim)
    if values is None:
        return _Outcome(reason=f"owner rule: caller has no '{rule.owner_claim}' claim")
    condition = Condition(rule.owner_field, values, rule.multi)
    if op is Operation.CREATE and rule.owner_field not in (data or {}):
        return _GRANT  # auto-filled with the caller's claim
    return _match(condition, op, item, data, f"owner rule: caller is {values[0]!r}")


def _match(
    condition: Condition,
    op: Operation,
    item: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    caller: str,
) -> _Outcome:
    """Check a dynamic rule's condition on the create input or the stored item; without an
    item, hand the condition on as a constraint for the store."""
    target = (data or {}) if op is Operation.CREATE else item
    if target is None:
        return _Outcome(constraint=Constraint(((condition,),)))
    if condition.matches(target):
        return _GRANT
    where = "input" if op is Operation.CREATE else "item"
    return _Outcome(reason=f"{caller}, {where} {condition.field} is {target.get(condition.field)!r}")


def _group_outcome(
    rule: Rule,
    principal: Principal,
    op: Operation,
    item: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
) -> _Outcome:
    claim = _caller_groups(principal, rule.group_claim)
    caller_groups = claim.names
    unread = f" ({rule.group_claim} read as no groups: {claim.ambiguity})" if claim.ambiguity else ""
    if rule.groups:
        if set(caller_groups) & set(rule.groups):
            return _GRANT
        wanted = list(rule.groups)
        return _Outcome(
            reason=f"groups rule: caller groups {list(caller_groups)} include none of {wanted}{unread}"
        )
    assert rule.groups_field is not None
    if not caller_groups:
        return _Outcome(reason=f"group rule: caller has no groups in '{rule.group_claim}'{unread}")
    condition = Condition(rule.groups_field, caller_groups, rule.multi)
    return _match(condition, op, item, data, f"group rule: caller groups are {list(caller_groups)}")


def _caller_groups(principal: Principal, claim: str) -> GroupClaim:
    """The caller's groups from ``claim`` as exact names (spec §4 project choice), or none and
    why; for the default claim, :attr:`Principal.groups` (``identity.groups``) when it is set."""
    if claim == DEFAULT_GROUP_CLAIM and principal.groups:
        return GroupClaim(principal.groups)
    return principal.group_claim(claim)


def _has_role(principal: Principal, role_arns: frozenset[str]) -> bool:
    """Exact role match: the caller's STS ARN or its role's IAM ARN is listed (never a substring)."""
    iam = principal.iam
    return iam is not None and (
        iam.user_arn in role_arns or (iam.role_arn is not None and iam.role_arn in role_arns)
    )


def _iam_outcome(rule: Rule, principal: Principal, config: AuthConfig) -> _Outcome:
    iam = principal.iam
    if iam is None:
        return _Outcome(reason="IAM rule: no IAM identity")
    if rule.strategy is Strategy.RESOURCE:
        # backend principals only: an identity-pool user's role is never a resource role (§5.2)
        cognito = iam.identity_pool_id is not None or iam.identity_id is not None
        if cognito or _has_role(principal, config.auth_role_arns | config.unauth_role_arns):
            return _Outcome(reason="resource rule: caller is an identity-pool identity, not a backend role")
        if (iam.role_name is not None and iam.role_name in rule.roles) or (
            iam.role_arn is not None and iam.role_arn in rule.roles
        ):
            return _GRANT
        return _Outcome(
            reason=f"resource rule: caller role {iam.role_name!r} is not one of {list(rule.roles)}"
        )
    wanted = "unauthenticated" if rule.strategy is Strategy.PUBLIC else "authenticated"
    role_arns = config.unauth_role_arns if wanted == "unauthenticated" else config.auth_role_arns
    if _has_role(principal, role_arns):
        return _GRANT
    # the pool id alone proves nothing unless it is ours: fail closed when it is not configured
    pool_ok = config.identity_pool_id is not None and iam.identity_pool_id == config.identity_pool_id
    if pool_ok and iam.auth_type == wanted:
        return _GRANT
    label = "guest" if wanted == "unauthenticated" else "authenticated(identity_pool)"
    return _Outcome(
        reason=f"{label} rule: caller is {iam.auth_type or 'not an identity-pool'} identity "
        f"({iam.user_arn}), rule needs an {wanted} identity-pool role"
    )


def _rule_outcome(
    rule: Rule,
    principal: Principal,
    op: Operation,
    item: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    config: AuthConfig,
) -> _Outcome:
    if rule.strategy is Strategy.ALL_OF:
        # a member limited with .to() grants nothing outside its operations
        outcomes = [
            _rule_outcome(sub, principal, op, item, data, config)
            if op in sub.operations
            else _Outcome(reason=f"{sub.describe()} does not allow {op.value}")
            for sub in rule.rules
        ]
        failed = [o for o in outcomes if o.denied]
        if failed:
            return _Outcome(reason="all_of: " + "; ".join(o.reason for o in failed))
        constraint: Constraint | None = None
        for o in outcomes:
            if o.constraint is not None:
                constraint = o.constraint if constraint is None else constraint.and_(o.constraint)
        return _GRANT if constraint is None else _Outcome(constraint=constraint)
    if rule.strategy is Strategy.OWNER:
        return _owner_outcome(rule, principal, op, item, data)
    if rule.strategy is Strategy.GROUPS:
        return _group_outcome(rule, principal, op, item, data)
    if rule.provider in (Provider.IDENTITY_POOL, Provider.IAM):
        return _iam_outcome(rule, principal, config)
    # public apiKey, private userPools/oidc, custom: the mode check already established them
    return _GRANT


class _Combined(NamedTuple):
    outcome: _Outcome
    rule: Rule | None
    reasons: tuple[str, ...]
    considered: int


def _combine(
    rules: Iterable[Rule],
    principal: Principal,
    op: Operation,
    item: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    config: AuthConfig,
) -> _Combined:
    """OR the rules that apply to this mode and operation (spec §6.1)."""
    alternatives: list[tuple[Condition, ...]] = []
    reasons: list[str] = []
    considered = 0
    for rule in rules:
        if op not in rule.operations or not _applies(rule, principal):
            continue
        considered += 1
        outcome = _rule_outcome(rule, principal, op, item, data, config)
        if outcome.grant:
            return _Combined(_GRANT, rule, (), considered)
        if outcome.constraint is not None:
            alternatives.extend(outcome.constraint.alternatives)
        else:
            reasons.append(outcome.reason)
    if alternatives:
        return _Combined(
            _Outcome(constraint=Constraint(tuple(alternatives))), None, tuple(reasons), considered
        )
    return _Combined(_Outcome(), None, tuple(reasons), considered)


def _deny(principal: Principal, model: Model, op: Operation, combined: _Combined) -> Decision:
    if combined.considered == 0:
        reason = f"no rule for provider {_provider_label(principal)} allows {op.value} on {model.name}"
    else:
        reason = "; ".join(combined.reasons)
    return Decision(False, model.name, op, reason)


def _generic_iam(principal: Principal, config: AuthConfig) -> bool:
    iam = principal.iam
    return (
        config.generic_iam_access
        and principal.mode is AuthMode.IAM
        and iam is not None
        and iam.identity_pool_id is None
        and iam.identity_id is None
    )


def _owner_stamp(model: Model, principal: Principal, data: Mapping[str, Any]) -> dict[str, Any]:
    """Owner fields to fill on create: every owner rule of this mode covering create (spec §3.9)."""
    stamp: dict[str, Any] = {}
    for rule in model.owner_rules:
        assert rule.owner_field is not None
        if Operation.CREATE not in rule.operations or not _applies(rule, principal):
            continue
        if rule.owner_field in data or rule.owner_field in stamp:
            continue
        values = caller_owner_values(principal, rule.owner_claim)
        if values is not None:
            stamp[rule.owner_field] = [values[0]] if rule.multi else values[0]
    return stamp


def _field_rules(model: Model) -> list[Rule]:
    return [r for f in model.fields for r in f.rules or ()]


def _static(rules: Iterable[Rule]) -> list[Rule]:
    return [r for r in rules if not r.is_dynamic]


def _write_check(
    model: Model,
    principal: Principal,
    needs: Mapping[str, Sequence[Operation]],
    item: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    config: AuthConfig,
) -> tuple[frozenset[str], Constraint | None]:
    """Per-field write permission (spec §3.4, §6.2): ``needs`` maps a field to the operations
    it needs; a field is judged by its own rules, or the model's when it has none. Returns the
    denied fields and the constraint the stored item must meet for dynamic rules."""
    denied: set[str] = set()
    constraint: Constraint | None = None
    for name, ops in needs.items():
        f = model.field(name)
        rules = model.rules if f is None or f.rules is None else f.rules
        for needed in ops:
            outcome = _combine(rules, principal, needed, item, data, config).outcome
            if outcome.denied:
                denied.add(name)
            elif outcome.constraint is not None:
                constraint = outcome.constraint.and_(constraint)
    return frozenset(denied), constraint


def _input_needs(
    model: Model, op: Operation, data: Mapping[str, Any], model_gate: bool
) -> dict[str, list[Operation]]:
    """What each create/update input field needs: ``op``, plus ``delete`` to null it on update.
    Fields without rules already passed the model gate for ``op``, unless field rules opened it."""
    needs: dict[str, list[Operation]] = {}
    for name, value in data.items():
        f = model.field(name)
        if f is None:
            continue
        ops = [op, Operation.DELETE] if op is Operation.UPDATE and value is None else [op]
        if f.rules is None and model_gate:
            ops.remove(op)
        if ops:
            needs[name] = ops
    return needs


def _owner_changes(
    model: Model, principal: Principal, data: Mapping[str, Any], config: AuthConfig
) -> tuple[frozenset[str], frozenset[str]]:
    """Update: owner fields the input tries to change, and owner fields it merely re-sends with
    the caller's own identity (a no-op, not written). Changing one needs a static rule of the
    rules governing that field, or an owner rule on it with ``.allow_transfer()`` (project
    choice: Amplify lets any owner reassign, spec §3.4). A list of owners sent is always a
    change: without the stored list it cannot be told from removing the co-owners."""
    denied: set[str] = set()
    unchanged: set[str] = set()
    names = [r.owner_field for r in model.owner_rules if r.owner_field is not None]
    for name in dict.fromkeys(n for n in names if n in data):
        f = model.field(name)
        governing = model.rules if f is None or f.rules is None else f.rules
        if _combine(_static(governing), principal, Operation.UPDATE, None, None, config).outcome.grant:
            continue
        rules = [r for r in model.owner_rules if r.owner_field == name and _applies(r, principal)]
        if any(_is_own(r, principal, data[name]) for r in rules):
            unchanged.add(name)
        elif not any(r.transfer for r in rules):
            denied.add(name)
    return frozenset(denied), frozenset(unchanged)


def _is_own(rule: Rule, principal: Principal, sent: Any) -> bool:
    """Is ``sent`` the caller's own identity under this single-owner rule?"""
    values = caller_owner_values(principal, rule.owner_claim)
    return not rule.multi and values is not None and sent in values


def decide(
    principal: Principal,
    model: Model,
    operation: Operation | str,
    *,
    item: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    config: AuthConfig | None = None,
) -> Decision:
    """Decide one request. Pure: no I/O.

    ``item`` is the stored record when the caller already has it (get, or a decision table);
    without it, item-dependent rules come back as a ``constraint`` for the store to enforce.
    ``input`` is the create/update input. Rules combine with OR; a rule is considered only
    when the request's auth mode matches its provider; nothing matching means deny.
    """
    op = Operation(operation)
    config = config or AuthConfig()
    data: Mapping[str, Any] = input or {}
    if _generic_iam(principal, config):
        return Decision(True, model.name, op, "generic IAM access: the IAM policy is the only guard")
    combined = _combine(model.rules, principal, op, item, data, config)
    model_gate = not combined.outcome.denied
    if not model_gate and op is not Operation.DELETE:
        # a role present only in field rules still passes the model gate (spec §2.3); the
        # fields it has no rule for are then masked on read and denied on write
        field_combined = _combine(_field_rules(model), principal, op, item, data, config)
        if not field_combined.outcome.denied:
            combined = _Combined(field_combined.outcome, None, (), field_combined.considered)
    if combined.outcome.denied:
        return _deny(principal, model, op, combined)
    constraint = combined.outcome.constraint
    denied_fields: frozenset[str] = frozenset()
    unchanged: frozenset[str] = frozenset()
    stamp: dict[str, Any] = {}
    field_constraint: Constraint | None = None
    if op in (Operation.CREATE, Operation.UPDATE):
        needs = _input_needs(model, op, data, model_gate)
        denied_fields, field_constraint = _write_check(model, principal, needs, item, data, config)
    if op is Operation.UPDATE:
        owner_denied, unchanged = _owner_changes(model, principal, data, config)
        denied_fields |= owner_denied
    if op is Operation.DELETE:
        # delete needs delete on every field (spec §3.4): also on those with their own rules
        needs = {f.name: [op] for f in model.fields if f.rules is not None}
        delete_denied, field_constraint = _write_check(model, principal, needs, item, None, config)
        if delete_denied:
            reason = f"delete on {model.name}: caller may not delete fields {sorted(delete_denied)}"
            return Decision(False, model.name, op, reason)
    if op is Operation.CREATE and (
        model.populate_owner_field_for_static_group_auth is not False
        or not _combine(_static(model.rules), principal, op, item, data, config).outcome.grant
    ):
        stamp = _owner_stamp(model, principal, data)
    if denied_fields:
        reason = f"{op.value} on {model.name}: caller may not write {sorted(denied_fields)}"
        return Decision(False, model.name, op, reason, denied_input_fields=denied_fields)
    if field_constraint is not None:
        constraint = field_constraint.and_(constraint)
    if constraint is not None and item is not None:
        if not constraint.matches(item):
            return Decision(False, model.name, op, "; ".join(combined.reasons) or constraint.why_not(item))
        constraint = None
    if combined.rule is not None:
        reason = f"{combined.rule.describe()} allows {op.value} on {model.name}"
    elif not model_gate:
        reason = f"{op.value} on {model.name} allowed by field rules only: other fields are not accessible"
    elif constraint is not None:
        reason = f"{op.value} on {model.name} allowed only where {constraint.describe()}"
    else:
        reason = f"{op.value} on {model.name} allowed: item matches the caller"
    return Decision(
        True,
        model.name,
        op,
        reason,
        rule=combined.rule,
        constraint=constraint,
        owner_stamp=stamp,
        unchanged_input_fields=unchanged,
        refusals=combined.reasons if constraint is not None else (),
    )


class DecisionCache:
    """:func:`decide` for requests that carry neither an item nor an input (get, list, delete
    and subscribe are decided that way first), remembered per caller.

    :func:`decide` is pure, so an equal :class:`Principal` (every field compared, claim values
    by type as the rules read them: ``1``, ``1.0`` and ``true`` differ) on the same model object
    and operation gets the same answer: a warm function
    serving the same callers again skips the rule evaluation. Bounded: the least recently
    used entry goes first once ``max_entries`` are held.

    >>> from modelauth.identity import AuthMode, Principal
    >>> from modelauth.rules import Model, allow
    >>> todo = Model("Todo", rules=[allow.owner()])
    >>> cache = DecisionCache()
    >>> alice = Principal(AuthMode.USER_POOLS, sub="A1", username="alice")
    >>> cache.decide(alice, todo, Operation.LIST) is cache.decide(alice, todo, Operation.LIST)
    True
    """

    def __init__(self, config: AuthConfig | None = None, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.config = config or AuthConfig()
        self.max_entries = max_entries
        # key: (id of the model, operation, principal); the model is kept with the decision so
        # its id cannot be reused by another model while the entry lives
        self._entries: OrderedDict[tuple[int, Operation, Principal], tuple[Model, Decision]] = OrderedDict()

    def decide(self, principal: Principal, model: Model, op: Operation) -> Decision:
        key = (id(model), op, principal)
        try:
            entry = self._entries.get(key)
        except RecursionError:  # claims nested deeper than hashing allows: decide uncached
            return decide(principal, model, op, config=self.config)
        if entry is not None and entry[0] is model:
            self._entries.move_to_end(key)
            return entry[1]
        decision = decide(principal, model, op, config=self.config)
        self._entries[key] = (model, decision)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return decision

    def __len__(self) -> int:
        return len(self._entries)


def denied_read_fields(
    principal: Principal,
    model: Model,
    operation: Operation | str,
    item: Mapping[str, Any],
    config: AuthConfig | None = None,
) -> frozenset[str]:
    """Fields of ``item`` this caller may not read: they are returned as null with an error.

    Fields without their own rules follow the model gate; fields with rules are judged only by
    them, against the stored item (spec §6.2).
    """
    op = Operation(operation)
    config = config or AuthConfig()
    if _generic_iam(principal, config):
        return frozenset()

    def readable(rules: Sequence[Rule]) -> bool:
        return _combine(rules, principal, op, item, None, config).outcome.grant

    model_ok = readable(model.rules)
    return frozenset(f.name for f in model.fields if not (model_ok if f.rules is None else readable(f.rules)))


def unreadable_fields(
    principal: Principal,
    model: Model,
    operation: Operation | str,
    names: Iterable[str],
    *,
    scope: Constraint | None,
    config: AuthConfig | None = None,
) -> frozenset[str]:
    """Of ``names``, the fields this caller may not read (``operation``: get or list) on some
    item a request limited to ``scope`` (the decision's constraint; None: any item) could touch.

    A filter or condition naming such a field is an oracle: which items match tells the field's
    value. A field is readable on every such item when its read rules (the model's for a field
    without rules of its own) grant statically, or when every alternative of ``scope`` implies
    one of the constraints they would hand the store (e.g. owner rules on both). Judged from the
    principal alone, without reading anything.

    >>> from modelauth.identity import AuthMode, Principal
    >>> from modelauth.rules import Field, Model, allow
    >>> profile = Model("Profile", fields=[Field("name"), Field("ssn", rules=[allow.owner()])],
    ...                 rules=[allow.authenticated().to(["read"]), allow.owner()])
    >>> bob = Principal(AuthMode.USER_POOLS, sub="B2", username="bob")
    >>> sorted(unreadable_fields(bob, profile, "list", ["name", "ssn", "id"], scope=None))
    ['ssn']
    """
    op = Operation(operation)
    config = config or AuthConfig()
    if _generic_iam(principal, config):
        return frozenset()
    outcomes: dict[int, _Outcome] = {}

    def readable(rules: Sequence[Rule]) -> bool:
        key = id(rules)
        if key not in outcomes:
            outcomes[key] = _combine(rules, principal, op, None, None, config).outcome
        return _holds_within(outcomes[key], scope)

    denied = set()
    for name in names:
        f = model.field(name)
        if not readable(model.rules if f is None or f.rules is None else f.rules):
            denied.add(name)
    return frozenset(denied)


def _holds_within(outcome: _Outcome, scope: Constraint | None) -> bool:
    """Does ``outcome`` (rules judged without an item) grant on every item matching ``scope``?"""
    if outcome.grant:
        return True
    if outcome.constraint is None or scope is None:
        return False
    needed = [frozenset(alt) for alt in outcome.constraint.alternatives]
    return all(any(need <= frozenset(alt) for need in needed) for alt in scope.alternatives)


def present(model: Model, item: Mapping[str, Any]) -> dict[str, Any]:
    """The API view of a stored item: composite owner values read back as the username part
    (``"A1::alice"`` → ``"alice"``), as Amplify's owner field resolver does (spec §3.2), and
    as stored in their :attr:`~modelauth.rules.Model.stored_owner_fields` (``_storedOwner``),
    which subscription filters compare."""
    out = dict(item)
    for name, stored in model.stored_owner_fields.items():
        value = out.get(name)
        out[stored] = list(value) if isinstance(value, list) else value
        if isinstance(value, str):
            out[name] = value.rsplit("::", 1)[-1]
        elif isinstance(value, list):
            out[name] = [v.rsplit("::", 1)[-1] if isinstance(v, str) else v for v in value]
    return out


class _CallerKind(NamedTuple):
    """A row of :func:`explain`: a kind of caller, as the rules can tell callers apart."""

    label: str
    mode: AuthMode
    #: AWS_IAM: "guest" / "authenticated" (identity pool) or None (a backend role)
    pool_auth: str | None = None
    role: str | None = None
    group: str | None = None


def _caller_kinds(model: Model) -> list[_CallerKind]:
    """Every caller kind, plus one row per resource role and per static group the rules name."""
    rules = list(_flatten_all(model))
    roles = dict.fromkeys(role for r in rules if r.strategy is Strategy.RESOURCE for role in r.roles)
    kinds = [
        _CallerKind("api_key", AuthMode.API_KEY),
        _CallerKind("identity_pool:guest", AuthMode.IAM, pool_auth="guest"),
        _CallerKind("identity_pool:authenticated", AuthMode.IAM, pool_auth="authenticated"),
        _CallerKind("iam", AuthMode.IAM),
        *(_CallerKind(f"iam:{role}", AuthMode.IAM, role=role) for role in roles),
    ]
    for mode, label in ((AuthMode.USER_POOLS, "user_pools"), (AuthMode.OIDC, "oidc")):
        groups = dict.fromkeys(g for r in rules if mode_of(r.provider) == mode.value for g in r.groups)
        kinds.append(_CallerKind(label, mode))
        kinds.extend(_CallerKind(f"{label}:{g}", mode, group=g) for g in groups)
    kinds.append(_CallerKind("function", AuthMode.LAMBDA))
    return kinds


def _flatten_all(model: Model) -> Iterable[Rule]:
    for rule in (*model.rules, *_field_rules(model)):
        yield from rule.rules or (rule,)


# what a rule gives a caller kind: full access, or access to matching items only
_ALLOWED, _OWN, _GROUP, _CONDITIONAL, _DENIED = "allowed", "only own", "only group", "conditional", "denied"


def _admits(rule: Rule, kind: _CallerKind, op: Operation) -> str | None:
    """What ``rule`` gives callers of ``kind`` for ``op``: a cell value, or None for nothing."""
    if op not in rule.operations or mode_of(rule.provider) != kind.mode.value:
        return None
    if rule.strategy is Strategy.ALL_OF:
        parts = [_admits(sub, kind, op) for sub in rule.rules]
        if None in parts:
            return None
        return _merge_and([p for p in parts if p is not None])
    if rule.owner_field is not None:
        # identity-pool owners are signed-in identities (a guest's identity id owns nothing)
        return _OWN if kind.mode is not AuthMode.IAM or kind.pool_auth == "authenticated" else None
    if rule.groups_field is not None:
        return _GROUP
    if rule.strategy is Strategy.GROUPS:
        return _ALLOWED if kind.group in rule.groups else None
    if rule.strategy is Strategy.RESOURCE:
        return _ALLOWED if kind.role in rule.roles else None
    if rule.provider is Provider.IDENTITY_POOL:
        wanted = "guest" if rule.strategy is Strategy.PUBLIC else "authenticated"
        return _ALLOWED if kind.pool_auth == wanted else None
    return _ALLOWED  # public apiKey, private userPools/oidc, custom: the mode is the check


def _merge_or(cells: Iterable[str | None]) -> str:
    found = {c for c in cells if c is not None}
    if not found:
        return _DENIED
    if _ALLOWED in found:
        return _ALLOWED
    return found.pop() if len(found) == 1 else _CONDITIONAL


def _merge_and(cells: Sequence[str]) -> str:
    if _DENIED in cells:
        return _DENIED
    limits = {c for c in cells if c != _ALLOWED}
    if not limits:
        return _ALLOWED
    return limits.pop() if len(limits) == 1 else _CONDITIONAL


def _explain_cell(model: Model, kind: _CallerKind, op: Operation, config: AuthConfig) -> str:
    if kind.mode is AuthMode.IAM and kind.pool_auth is None and config.generic_iam_access:
        return _ALLOWED  # generic IAM access: the IAM policy decides
    cell = _merge_or(_admits(r, kind, op) for r in model.rules)
    if op is Operation.DELETE:
        # delete needs delete on every field, including fields with their own rules
        fields = [_merge_or(_admits(r, kind, op) for r in f.rules) for f in model.fields if f.rules]
        return _merge_and([cell, *fields])
    if cell == _DENIED and _merge_or(_admits(r, kind, op) for r in _field_rules(model)) != _DENIED:
        return _CONDITIONAL  # only field rules let it in: the other fields stay hidden
    return cell


def explain(model: Model, config: AuthConfig | None = None) -> dict[str, dict[str, str]]:
    """The record-level access matrix of a model: caller kind → operation → ``allowed`` /
    ``only own`` / ``only group`` / ``conditional`` / ``denied``.

    Rows: ``api_key``, ``identity_pool:guest``, ``identity_pool:authenticated``, ``iam`` (a
    backend role no rule names), ``iam:<Role>`` per resource role, ``user_pools``,
    ``user_pools:<Group>`` per static group (what a member of that group gets, including what
    every signed-in user gets), ``oidc``, ``oidc:<Group>``, ``function``. ``conditional`` means
    the answer depends on more than one item condition (owner *or* group, all_of) or that only
    field rules admit the caller. Field rules that hide single fields from an admitted caller
    are not shown, except for delete, which needs delete on every field.

    >>> from modelauth.rules import Model, allow
    >>> matrix = explain(Model("Todo", rules=[allow.owner(), allow.public_api_key().to(["read"])]))
    >>> matrix["user_pools"]["update"], matrix["api_key"]["list"], matrix["api_key"]["create"]
    ('only own', 'allowed', 'denied')
    """
    config = config or AuthConfig()
    return {
        kind.label: {op.value: _explain_cell(model, kind, op, config) for op in Operation}
        for kind in _caller_kinds(model)
    }
