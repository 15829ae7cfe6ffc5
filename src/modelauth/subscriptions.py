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


def _rule_passes(rule: dict[str, Any], payload: dict[str, Any]) -> bool:
    value, wanted = payload.get(rule["fieldName"]), rule["value"]
    operator = rule["operator"]
    if operator == "eq":
        return bool(value == wanted)
    if operator == "in":
        return value in wanted
    if operator == "containsAny":
        return isinstance(value, list) and any(v in wanted for v in value)
    raise ValueError(f"operator {operator!r} is not emitted by modelauth")
