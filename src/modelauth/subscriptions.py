"""Subscriptions (the ``listen`` operation): a decision's constraint → AppSync's enhanced
subscription filter, so AppSync itself drops events the subscriber may not see.

The filter is built from the same :class:`~modelauth.policy.Constraint` the store enforces:
each alternative becomes one filter of the ``filterGroup`` (filters are OR-ed), each condition
one rule of it (rules are AND-ed). Values are compared as the store compares them: a composite
owner field (``<sub>::<username>``) reads back as the username part (spec §3.2), which a later
user with the same name or a user of another pool shares, so its rule compares the caller's
owner values with the stored value, which every result also carries in
:attr:`~modelauth.rules.Model.stored_owner_fields` (``owner`` → ``_storedOwner``; issue 16.3).

AppSync's limits are enforced, never worked around by widening the filter: structural limits
when the schema is built (:func:`check_model`), value counts when a caller subscribes
(:class:`SubscriptionLimitError`, the subscription is refused).

Example::

    >>> from modelauth.policy import Condition, Constraint
    >>> from modelauth.rules import Model, allow
    >>> todo = Model("Todo", rules=[allow.owner()])
    >>> owner = Condition("owner", ("A1::alice", "A1", "alice"))
    >>> subscription_filter(todo, Constraint(((owner,),)))["filterGroup"]
    [{'filters': [{'fieldName': '_storedOwner', 'operator': 'in', 'value': ['A1::alice', 'A1', 'alice']}]}]
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product
from typing import Any

from modelauth.errors import BadRequest
from modelauth.policy import Condition, Constraint
from modelauth.rules import SUBSCRIPTION_PREFIXES, Model, Operation, SchemaError, Strategy

__all__ = [
    "MAX_CONTAINS_ANY_VALUES",
    "MAX_FILTERS",
    "MAX_IN_VALUES",
    "MAX_RULES_PER_FILTER",
    "SUBSCRIPTION_PREFIXES",
    "SubscriptionLimitError",
    "check_model",
    "event_passes",
    "narrow",
    "parse_filter",
    "subscription_filter",
]

# AppSync enhanced subscription filter limits (AppSync developer guide, "Enhanced subscription
# filtering"): filters per filterGroup, rules per filter, values of `in`/`notIn` and `containsAny`.
MAX_FILTERS = 10
MAX_RULES_PER_FILTER = 5
MAX_IN_VALUES = 5
MAX_CONTAINS_ANY_VALUES = 20


class SubscriptionLimitError(BadRequest):
    """The caller's filter would exceed an AppSync limit: the subscription is refused."""


def _rule(model: Model, condition: Condition) -> dict[str, Any]:
    # the values the store compares, against the field that carries the stored value: a composite
    # owner field reads back as its username part, which another sub's "alice" shares
    field = model.stored_owner_fields.get(condition.field, condition.field)
    values = list(dict.fromkeys(condition.values))
    if condition.list_field:
        if len(values) > MAX_CONTAINS_ANY_VALUES:
            raise SubscriptionLimitError(
                f"subscription filter on {condition.field} would need {len(values)} values "
                f"(AppSync allows {MAX_CONTAINS_ANY_VALUES} for containsAny)"
            )
        return {"fieldName": field, "operator": "containsAny", "value": values}
    if len(values) > MAX_IN_VALUES:
        raise SubscriptionLimitError(
            f"subscription filter on {condition.field} would need {len(values)} values "
            f"(AppSync allows {MAX_IN_VALUES} for in)"
        )
    if len(values) == 1:
        return {"fieldName": field, "operator": "eq", "value": values[0]}
    return {"fieldName": field, "operator": "in", "value": values}


def subscription_filter(model: Model, constraint: Constraint) -> dict[str, Any]:
    """The ``extensions.setSubscriptionFilter`` argument for a listen constraint."""
    if len(constraint.alternatives) > MAX_FILTERS:
        raise SubscriptionLimitError(
            f"subscription filter would need {len(constraint.alternatives)} filters "
            f"(AppSync allows {MAX_FILTERS})"
        )
    groups = []
    for alternative in constraint.alternatives:
        if len(alternative) > MAX_RULES_PER_FILTER:
            raise SubscriptionLimitError(
                f"subscription filter would need {len(alternative)} rules in one filter "
                f"(AppSync allows {MAX_RULES_PER_FILTER})"
            )
        groups.append({"filters": [_rule(model, c) for c in alternative]})
    return {"filterGroup": groups}


# A client's `filter` argument (ModelSubscription<X>FilterInput, as Amplify's onCreate sends it):
# operators AppSync's enhanced filters evaluate, and the ones whose value is a list
_SCALAR_OPERATORS = frozenset({"eq", "ne", "le", "lt", "ge", "gt", "contains", "notContains", "beginsWith"})
_LIST_OPERATORS = frozenset({"between", "in", "notIn"})
_Rules = tuple[dict[str, Any], ...]


def parse_filter(model: Model, filter_input: Any) -> tuple[tuple[_Rules, ...], frozenset[str]]:
    """A client's subscription filter as alternatives (OR) of rules (AND), the shape of a
    ``filterGroup``, and the fields it names (an authorization check must see them: which
    events arrive would tell a field's values). Malformed input is a :class:`BadRequest`;
    a filter AppSync's limits can't express a :class:`SubscriptionLimitError`.

    >>> from modelauth.rules import Field, allow
    >>> todo = Model("Todo", fields=[Field("done", "Boolean")], rules=[allow.owner()])
    >>> alternatives, names = parse_filter(todo, {"or": [{"done": {"eq": True}}, {"owner": {"eq": "a"}}]})
    >>> [[(r["fieldName"], r["value"]) for r in rules] for rules in alternatives], sorted(names)
    ([[('done', True)], [('owner', 'a')]], ['done', 'owner'])
    """
    names: set[str] = set()
    fields = model.field_names - {"_version"}
    return _alternatives(filter_input, fields, names, 0), frozenset(names)


def _alternatives(node: Any, fields: frozenset[str], names: set[str], depth: int) -> tuple[_Rules, ...]:
    if not isinstance(node, Mapping):
        raise BadRequest("subscription filter: each filter must be an object")
    if depth > MAX_FILTERS:
        raise SubscriptionLimitError("subscription filter is nested too deeply")
    parts: list[tuple[_Rules, ...]] = []
    for key, value in node.items():
        if key in ("and", "or"):
            if not isinstance(value, list):
                raise BadRequest(f"subscription filter: '{key}' must be a list of filters")
            children = [_alternatives(child, fields, names, depth + 1) for child in value]
            if key == "or":
                parts.append(tuple(alt for child in children for alt in child))
            else:
                parts += children
        elif key in fields:
            names.add(key)
            parts.append((_field_rules(key, value),))
        else:
            raise BadRequest(f"subscription filter: unknown field or operator {key!r}")
    combined: tuple[_Rules, ...] = ((),)
    for part in parts:
        combined = tuple(a + b for a, b in product(combined, part))
        if len(combined) > MAX_FILTERS:
            raise SubscriptionLimitError(
                f"subscription filter needs more than {MAX_FILTERS} alternatives (AppSync's limit)"
            )
    return combined


def _field_rules(name: str, ops: Any) -> _Rules:
    if not isinstance(ops, Mapping) or not ops:
        raise BadRequest(f"subscription filter: {name} must be an object of operators")
    rules = []
    for op, value in ops.items():
        if op in _LIST_OPERATORS:
            if not isinstance(value, list) or (op == "between" and len(value) != 2):
                raise BadRequest(
                    f"subscription filter: {name}.{op} must be a list" + " of 2" * (op == "between")
                )
            if len(value) > MAX_IN_VALUES:
                raise SubscriptionLimitError(
                    f"subscription filter: {name}.{op} has {len(value)} values "
                    f"(AppSync allows {MAX_IN_VALUES})"
                )
        elif op not in _SCALAR_OPERATORS:
            raise BadRequest(f"subscription filter: unknown operator {op!r} on {name}")
        elif value is None or isinstance(value, list | dict):
            raise BadRequest(f"subscription filter: {name}.{op} must be a scalar")
        rules.append({"fieldName": name, "operator": op, "value": value})
    return tuple(rules)


def narrow(auth: dict[str, Any] | None, alternatives: tuple[_Rules, ...]) -> dict[str, Any] | None:
    """The rules' filter AND the client's: every alternative of one with every alternative of
    the other, so a client's filter can only narrow what the rules let through. A client filter
    with an empty alternative matches every event (no narrowing); one with no alternative
    (``or: []``) would match none, which AppSync can't express, and is refused.

    >>> mine = {"fieldName": "owner", "operator": "eq", "value": "a"}
    >>> done = {"fieldName": "done", "operator": "eq", "value": True}
    >>> narrowed = narrow({"filterGroup": [{"filters": [mine]}]}, ((done,),))
    >>> narrowed == {"filterGroup": [{"filters": [mine, done]}]}
    True
    """
    if not alternatives:
        raise BadRequest("subscription filter matches no event ('or' of nothing)")
    if any(not rules for rules in alternatives):
        return auth
    groups = auth["filterGroup"] if auth is not None else [{"filters": []}]
    combined = [{"filters": [*g["filters"], *rules]} for g in groups for rules in alternatives]
    if len(combined) > MAX_FILTERS:
        raise SubscriptionLimitError(
            f"subscription filter and the rules' filter need {len(combined)} filters "
            f"(AppSync allows {MAX_FILTERS})"
        )
    for group in combined:
        if len(group["filters"]) > MAX_RULES_PER_FILTER:
            raise SubscriptionLimitError(
                f"subscription filter and the rules' filter need {len(group['filters'])} rules in one filter "
                f"(AppSync allows {MAX_RULES_PER_FILTER})"
            )
    return {"filterGroup": combined}


def check_model(model: Model) -> None:
    """Schema-build check: can every caller's listen constraint fit AppSync's filter limits?

    Counts the filters and rules the model's listen rules can produce for one caller (each
    item-dependent rule is one filter; an all_of rule one filter with a rule per part) and the
    owner values one caller can match. Group counts depend on the caller's token and are
    checked when it subscribes.
    """
    filters = 0
    for rule in model.rules:
        if Operation.LISTEN not in rule.operations:
            continue
        parts = rule.rules or (rule,)
        dynamic = [p for p in parts if p.is_dynamic]
        if not dynamic:
            continue
        filters += 1
        if len(dynamic) > MAX_RULES_PER_FILTER:
            raise SchemaError(
                f"{model.name}: rule {rule.describe()} needs {len(dynamic)} rules in one subscription "
                f"filter; AppSync allows {MAX_RULES_PER_FILTER}"
            )
        for part in dynamic:
            owner_values = len(part.owner_claim.split("::")) + 1 if part.strategy is Strategy.OWNER else 0
            if owner_values > (MAX_CONTAINS_ANY_VALUES if part.multi else MAX_IN_VALUES):
                raise SchemaError(
                    f"{model.name}: owner claim {part.owner_claim!r} has too many parts for a filter"
                )
    if filters > MAX_FILTERS:
        raise SchemaError(
            f"{model.name}: its listen rules can need {filters} subscription filters; "
            f"AppSync allows {MAX_FILTERS}"
        )


def event_passes(filter_json: dict[str, Any] | None, payload: dict[str, Any]) -> bool:
    """Would AppSync deliver ``payload`` (a mutation result) to a subscriber with this filter?

    Implements the operators this module emits (the rules' ``eq``, ``in``, ``containsAny``, and
    a client filter's operators) as AppSync documents them; used by the local endpoint and to
    test that filters are never wider than the rules.

    >>> only_alice = {"fieldName": "owner", "operator": "eq", "value": "alice"}
    >>> event_passes({"filterGroup": [{"filters": [only_alice]}]}, {"owner": "bob"})
    False
    """
    if filter_json is None:
        return True
    return any(
        all(_rule_passes(rule, payload) for rule in group["filters"]) for group in filter_json["filterGroup"]
    )


_ORDERED = {
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
}


def _rule_passes(rule: dict[str, Any], payload: dict[str, Any]) -> bool:
    value, wanted = payload.get(rule["fieldName"]), rule["value"]
    operator = rule["operator"]
    if operator == "eq":
        return bool(value == wanted)
    if operator == "ne":
        return bool(value != wanted)
    if operator == "in":
        return value in wanted
    if operator == "notIn":
        return value not in wanted
    if operator == "containsAny":
        return isinstance(value, list) and any(v in wanted for v in value)
    if operator in ("contains", "notContains"):
        found = isinstance(value, str | list) and (
            wanted in value if isinstance(value, list) else isinstance(wanted, str) and wanted in value
        )
        return found if operator == "contains" else value is not None and not found
    if operator == "beginsWith":
        return isinstance(value, str) and isinstance(wanted, str) and value.startswith(wanted)
    try:
        if operator == "between":
            return bool(value is not None and wanted[0] <= value <= wanted[1])
        if operator in _ORDERED:
            return value is not None and bool(_ORDERED[operator](value, wanted))
    except TypeError:  # a string compared with a number: AppSync matches nothing
        return False
    raise ValueError(f"operator {operator!r} is not emitted by modelauth")
