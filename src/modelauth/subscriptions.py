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

import operator as _op
from collections.abc import Callable, Mapping
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
    "SUBSCRIPTION_OPERATORS",
    "check_model",
    "event_passes",
    "narrow",
    "owner_arguments",
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


# -- subscription arguments: they only ever narrow ------------------------------------------------
_Rules = list[dict[str, Any]]

#: the operators of Amplify's ``ModelSubscription<Type>Input`` (AppSync enhanced filter operators)
SUBSCRIPTION_OPERATORS = frozenset(
    {"eq", "ne", "le", "lt", "ge", "gt", "contains", "notContains", "beginsWith", "between", "in", "notIn"}
)


def owner_arguments(model: Model) -> tuple[str, ...]:
    """The owner arguments of the model's subscriptions (``onCreateTodo(owner: String)``), as
    Amplify adds them: one per owner field of an owner rule that grants ``listen``.

    >>> from modelauth.rules import allow
    >>> owner_arguments(Model("Doc", rules=[allow.owner(), allow.owners_defined_in("editors")]))
    ('owner', 'editors')
    """
    names = (r.owner_field for r in model.owner_rules if Operation.LISTEN in r.operations)
    return tuple(dict.fromkeys(n for n in names if n is not None))


def _leaf(model: Model, name: str, condition: Any) -> _Rules:
    if name not in model.field_names:
        raise BadRequest(f"subscription filter: {model.name} has no field {name!r}")
    if not isinstance(condition, Mapping) or not condition:
        raise BadRequest(f"subscription filter on {name} must be an object of operators")
    rules: _Rules = []
    for operator, value in condition.items():
        if operator not in SUBSCRIPTION_OPERATORS:
            raise BadRequest(f"subscription filter on {name}: unknown operator {operator!r}")
        if operator in ("between", "in", "notIn") and not isinstance(value, list):
            raise BadRequest(f"subscription filter on {name}: {operator} takes a list")
        if operator == "between" and len(value) != 2:
            raise BadRequest(f"subscription filter on {name}: between takes two values")
        if operator in ("in", "notIn") and len(value) > MAX_IN_VALUES:
            raise SubscriptionLimitError(
                f"subscription filter on {name}: {operator} takes at most {MAX_IN_VALUES} values"
            )
        if value is None or (isinstance(value, (dict, list)) and operator not in ("between", "in", "notIn")):
            raise BadRequest(f"subscription filter on {name}: {operator} takes a scalar value")
        rules.append({"fieldName": name, "operator": operator, "value": value})
    return rules


def _product(left: list[_Rules], right: list[_Rules]) -> list[_Rules]:
    """Both (AND): every filter of ``left`` with every filter of ``right``, within AppSync's limits."""
    out = [a + b for a in left for b in right]
    if len(out) > MAX_FILTERS:
        raise SubscriptionLimitError(
            f"subscription filter would need {len(out)} filters (AppSync allows {MAX_FILTERS})"
        )
    for group in out:
        if len(group) > MAX_RULES_PER_FILTER:
            raise SubscriptionLimitError(
                f"subscription filter would need {len(group)} rules in one filter "
                f"(AppSync allows {MAX_RULES_PER_FILTER})"
            )
    return out


def _groups(model: Model, filter_input: Any) -> list[_Rules]:
    """A ``ModelSubscription<Type>FilterInput`` as filters (OR) of rules (AND)."""
    if not isinstance(filter_input, Mapping):
        raise BadRequest("subscription filter must be an object")
    result: list[_Rules] = [[]]
    for key, value in filter_input.items():
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise BadRequest(f"subscription filter: {key} takes a non-empty list of filters")
            parts = [_groups(model, part) for part in value]
            if key == "and":
                for part in parts:
                    result = _product(result, part)
            else:
                result = _product(result, [g for part in parts for g in part])
        elif key == "not":
            raise BadRequest("subscription filter: 'not' is not supported (Amplify's input has none)")
        else:
            result = _product(result, [_leaf(model, key, value)])
    return result


def narrow(
    model: Model, auth_filter: dict[str, Any] | None, arguments: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, frozenset[str]]:
    """The subscription filter for the arguments ``filter`` and the owner arguments AND-ed with
    the rules' filter, and the fields they name (to check the caller may read them).

    Each of the rules' alternatives keeps all its rules and gains the arguments', so an
    argument can only drop events: an ``owner`` naming someone else yields a filter no event
    passes, never theirs. Beyond AppSync's limits the subscription is refused.

    >>> from modelauth.rules import allow
    >>> todo = Model("Todo", rules=[allow.owner()])
    >>> rule = {"fieldName": "_storedOwner", "operator": "eq", "value": "s::a"}
    >>> mine = {"filterGroup": [{"filters": [rule]}]}
    >>> f, names = narrow(todo, mine, {"owner": "bob"})
    >>> [r["fieldName"] for r in f["filterGroup"][0]["filters"]], sorted(names)
    (['_storedOwner', 'owner'], ['owner'])
    """
    wanted: list[_Rules] = [[]]
    if arguments.get("filter") is not None:
        wanted = _groups(model, arguments["filter"])
    for name in owner_arguments(model):
        value = arguments.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(f"subscription argument {name} must be a string")
        f = model.field(name)
        operator = "contains" if f is not None and f.is_list else "eq"
        wanted = _product(wanted, [[{"fieldName": name, "operator": operator, "value": value}]])
    base: list[_Rules] = [[]] if auth_filter is None else [g["filters"] for g in auth_filter["filterGroup"]]
    groups = _product(base, wanted)
    names = frozenset(r["fieldName"] for g in wanted for r in g)
    if groups == [[]]:
        return None, names
    return {"filterGroup": [{"filters": g} for g in groups]}, names


def event_passes(filter_json: dict[str, Any] | None, payload: dict[str, Any]) -> bool:
    """Would AppSync deliver ``payload`` (a mutation result) to a subscriber with this filter?

    Implements the operators this module emits (``eq``, ``in``, ``containsAny``) as AppSync
    documents them; used by the local endpoint and to test that filters are never wider than
    the rules.

    >>> only_alice = {"fieldName": "owner", "operator": "eq", "value": "alice"}
    >>> event_passes({"filterGroup": [{"filters": [only_alice]}]}, {"owner": "bob"})
    False
    """
    if filter_json is None:
        return True
    return any(
        all(_rule_passes(rule, payload) for rule in group["filters"]) for group in filter_json["filterGroup"]
    )


_ORDERED: dict[str, Callable[[Any, Any], bool]] = {"le": _op.le, "lt": _op.lt, "ge": _op.ge, "gt": _op.gt}


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
        found = isinstance(value, (str, list)) and (wanted in value)
        return found if operator == "contains" else value is not None and not found
    if operator == "beginsWith":
        return isinstance(value, str) and isinstance(wanted, str) and value.startswith(wanted)
    try:
        if operator in _ORDERED:
            return value is not None and _ORDERED[operator](value, wanted)
        if operator == "between":
            return value is not None and bool(wanted[0] <= value <= wanted[1])
    except TypeError:  # compared across types: AppSync drops the event
        return False
    raise ValueError(f"operator {operator!r} is not emitted by modelauth")
