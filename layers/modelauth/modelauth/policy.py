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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelauth.identity import AuthMode, Principal
from modelauth.rules import (
    Model,
    Operation,
    Provider,
    Rule,
    Strategy,
    mode_of,
)

__all__ = [
    "AuthConfig",
    "Condition",
    "Constraint",
    "Decision",
    "caller_owner_values",
    "decide",
    "denied_read_fields",
    "explain",
    "present",
]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """API-level settings the rules are judged with (spec §5).

    ``identity_pool_id`` and the role ARNs make guest/authenticated identity-pool rules exact;
    ``generic_iam_access`` (Amplify Gen 2's default, off here) lets IAM callers without a
    Cognito identity skip all rules, leaving the IAM policy as the only guard.
    """

    identity_pool_id: str | None = None
    auth_role_arns: frozenset[str] = frozenset()
    unauth_role_arns: frozenset[str] = frozenset()
    generic_iam_access: bool = False


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
    """What a stored item must satisfy: OR over ``alternatives``, each an AND of conditions."""

    alternatives: tuple[tuple[Condition, ...], ...]

    def matches(self, item: Mapping[str, Any]) -> bool:
        return any(all(c.matches(item) for c in alt) for alt in self.alternatives)

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

    def permits(self, item: Mapping[str, Any]) -> bool:
        """Does this decision allow access to ``item`` (a stored record)?"""
        return self.allowed and (self.constraint is None or self.constraint.matches(item))


@dataclass(frozen=True, slots=True)
class _Outcome:
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
        return principal.iam.identity_id if principal.iam else None
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
    caller_groups = principal.claim_list(rule.group_claim)
    if rule.groups:
        if set(caller_groups) & set(rule.groups):
            return _GRANT
        return _Outcome(
            reason=f"groups rule: caller groups {list(caller_groups)} include none of {list(rule.groups)}"
        )
    assert rule.groups_field is not None
    if not caller_groups:
        return _Outcome(reason=f"group rule: caller has no groups in '{rule.group_claim}'")
    condition = Condition(rule.groups_field, caller_groups, rule.multi)
    return _match(condition, op, item, data, f"group rule: caller groups are {list(caller_groups)}")


def _iam_outcome(rule: Rule, principal: Principal, config: AuthConfig) -> _Outcome:
    iam = principal.iam
    if iam is None:
        return _Outcome(reason="IAM rule: no IAM identity")
    if rule.strategy is Strategy.RESOURCE:
        if (iam.role_name is not None and iam.role_name in rule.roles) or (
            iam.role_arn is not None and iam.role_arn in rule.roles
        ):
            return _GRANT
        return _Outcome(
            reason=f"resource rule: caller role {iam.role_name!r} is not one of {list(rule.roles)}"
        )
    wanted = "unauthenticated" if rule.strategy is Strategy.PUBLIC else "authenticated"
    role_arns = config.unauth_role_arns if wanted == "unauthenticated" else config.auth_role_arns
    if iam.user_arn in role_arns:
        return _GRANT
    pool_ok = iam.identity_pool_id is not None and (
        config.identity_pool_id is None or iam.identity_pool_id == config.identity_pool_id
    )
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
        outcomes = [_rule_outcome(sub, principal, op, item, data, config) for sub in rule.rules]
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


@dataclass(frozen=True, slots=True)
class _Combined:
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


def _field_write_check(
    model: Model,
    principal: Principal,
    op: Operation,
    data: Mapping[str, Any],
    item: Mapping[str, Any] | None,
    config: AuthConfig,
) -> tuple[frozenset[str], Constraint | None]:
    """Field rules for written fields (spec §3.4, §6.2): denied fields, plus the constraint
    the stored item must meet for dynamic field rules on update."""
    denied: set[str] = set()
    constraint: Constraint | None = None
    for name in data:
        f = model.field(name)
        if f is None or f.rules is None:
            continue
        ops = [op] if data[name] is not None or op is Operation.CREATE else [op, Operation.DELETE]
        for needed in ops:
            combined = _combine(f.rules, principal, needed, item, data, config)
            if combined.outcome.denied:
                denied.add(name)
            elif combined.outcome.constraint is not None:
                constraint = combined.outcome.constraint.and_(constraint)
    return frozenset(denied), constraint


def _owner_changes(
    model: Model, principal: Principal, data: Mapping[str, Any], static_grant: bool
) -> tuple[frozenset[str], frozenset[str]]:
    """Update: which owner fields the input tries to change (denied unless a static rule or a
    transfer-enabled owner rule allows it), and which it merely re-sends unchanged."""
    denied: set[str] = set()
    unchanged: set[str] = set()
    for rule in model.owner_rules:
        assert rule.owner_field is not None
        name = rule.owner_field
        if name not in data or not _applies(rule, principal):
            continue
        values = caller_owner_values(principal, rule.owner_claim)
        sent = data[name]
        if values is not None and (
            (not rule.multi and sent in values)
            or (rule.multi and isinstance(sent, list) and sent and all(v in values for v in sent))
        ):
            if not static_grant:
                unchanged.add(name)
            continue
        if not (static_grant or rule.transfer):
            denied.add(name)
    return frozenset(denied - unchanged), frozenset(unchanged)


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
    if combined.outcome.denied and op is not Operation.DELETE:
        # a role present only in field rules still passes the model gate (spec §2.3)
        field_rules = [r for f in model.fields for r in f.rules or ()]
        field_combined = _combine(field_rules, principal, op, item, data, config)
        if not field_combined.outcome.denied:
            combined = _Combined(_Outcome(grant=True), None, (), field_combined.considered)
    if combined.outcome.denied:
        return _deny(principal, model, op, combined)
    constraint = combined.outcome.constraint
    denied_fields: frozenset[str] = frozenset()
    unchanged: frozenset[str] = frozenset()
    stamp: dict[str, Any] = {}
    if op in (Operation.CREATE, Operation.UPDATE):
        denied_fields, field_constraint = _field_write_check(model, principal, op, data, item, config)
        if field_constraint is not None:
            constraint = field_constraint.and_(constraint)
    if op is Operation.UPDATE:
        owner_denied, unchanged = _owner_changes(model, principal, data, combined.rule is not None)
        denied_fields |= owner_denied
    if op is Operation.DELETE:
        denied_fields = _delete_field_check(model, principal, item, config)
    if op is Operation.CREATE:
        stamp = _owner_stamp(model, principal, data)
    if denied_fields:
        reason = f"{op.value} on {model.name}: caller may not write {sorted(denied_fields)}"
        return Decision(False, model.name, op, reason, denied_input_fields=denied_fields)
    if constraint is not None and item is not None:
        if not constraint.matches(item):
            return Decision(False, model.name, op, "; ".join(combined.reasons) or constraint.why_not(item))
        constraint = None
    if combined.rule is not None:
        reason = f"{combined.rule.describe()} allows {op.value} on {model.name}"
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
    )


def _delete_field_check(
    model: Model, principal: Principal, item: Mapping[str, Any] | None, config: AuthConfig
) -> frozenset[str]:
    """Delete needs ``delete`` on every field (spec §3.4): fields whose own rules deny it."""
    denied = set()
    for f in model.fields:
        if (
            f.rules is not None
            and _combine(f.rules, principal, Operation.DELETE, item, None, config).outcome.denied
        ):
            denied.add(f.name)
    return frozenset(denied)


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
    model_ok = _combine(model.rules, principal, op, item, None, config).outcome.grant
    denied = set()
    for f in model.fields:
        rules = f.rules if f.rules is not None else None
        if rules is None:
            if not model_ok:
                denied.add(f.name)
            continue
        if not _combine(rules, principal, op, item, None, config).outcome.grant:
            denied.add(f.name)
    return frozenset(denied)


def present(model: Model, item: Mapping[str, Any]) -> dict[str, Any]:
    """The API view of a stored item: composite owner values read back as the username part
    (``"A1::alice"`` → ``"alice"``), as Amplify's owner field resolver does (spec §3.2)."""
    out = dict(item)
    for rule in model.owner_rules:
        name = rule.owner_field
        if name is None or "::" not in rule.owner_claim or name not in out:
            continue
        value = out[name]
        if isinstance(value, str):
            out[name] = value.rsplit("::", 1)[-1]
        elif isinstance(value, list):
            out[name] = [v.rsplit("::", 1)[-1] if isinstance(v, str) else v for v in value]
    return out


_EXPLAIN_PRINCIPALS: Sequence[tuple[str, str]] = (
    ("api_key", "public API key"),
    ("identity_pool:guest", "identity-pool guest"),
    ("identity_pool:authenticated", "identity-pool signed-in"),
    ("iam", "IAM role"),
    ("user_pools", "user-pool user"),
    ("oidc", "OIDC user"),
    ("function", "Lambda-authorized"),
)


def explain(model: Model) -> dict[str, dict[str, str]]:
    """The access matrix of a model: caller kind x operation → ``allowed`` / ``only own`` /
    ``only group`` / ``conditional`` / ``denied``.

    Caller kinds are described by the rules (e.g. ``user_pools:Admin`` for a static group), so
    the matrix shows what each rule opens.
    """
    matrix: dict[str, dict[str, str]] = {}
    for label, rules in _explain_rows(model).items():
        row: dict[str, str] = {}
        for op in Operation:
            row[op.value] = _explain_cell([r for r in rules if op in r.operations])
        matrix[label] = row
    return matrix


def _explain_rows(model: Model) -> dict[str, list[Rule]]:
    rows: dict[str, list[Rule]] = {label: [] for label, _ in _EXPLAIN_PRINCIPALS}
    for rule in model.rules:
        rows.setdefault(_row_key(rule), []).append(rule)
    # a plain user-pool/OIDC user also benefits from owner and dynamic-group rules of its mode
    for key in list(rows):
        base = key.split(":", 1)[0]
        if ":" in key and base in rows and key.startswith(("user_pools:", "oidc:")):
            rows[key] = rows[key] + rows[base]
    return rows


def _row_key(rule: Rule) -> str:
    if rule.strategy is Strategy.PUBLIC and rule.provider is Provider.IDENTITY_POOL:
        return "identity_pool:guest"
    if rule.strategy is Strategy.PRIVATE and rule.provider is Provider.IDENTITY_POOL:
        return "identity_pool:authenticated"
    base = {
        Provider.API_KEY: "api_key",
        Provider.USER_POOLS: "user_pools",
        Provider.OIDC: "oidc",
        Provider.FUNCTION: "function",
        Provider.IAM: "iam",
        Provider.IDENTITY_POOL: "identity_pool:authenticated",
    }[rule.provider]
    if rule.strategy is Strategy.GROUPS and rule.groups:
        return f"{base}:" + "|".join(rule.groups)
    if rule.strategy is Strategy.RESOURCE:
        return f"iam:{'|'.join(rule.roles)}"
    return base


def _explain_cell(rules: Sequence[Rule]) -> str:
    if not rules:
        return "denied"
    if any(not r.is_dynamic and r.strategy is not Strategy.ALL_OF for r in rules):
        return "allowed"
    kinds = {"owner" if r.owner_field else "group" if r.groups_field else "conditional" for r in rules}
    if kinds == {"owner"}:
        return "only own"
    if kinds == {"group"}:
        return "only group"
    return "conditional"
