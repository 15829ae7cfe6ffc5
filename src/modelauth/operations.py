"""The five model operations, independent of the protocol: validate → decide → store → present.

Adapters turn their requests into these calls and the typed errors into their own format: the
REST API (:mod:`modelauth.rest`) does, and the AppSync resolver (:mod:`modelauth.resolvers`) can
(a proposed refactor: its ``_get``/``_list``/… do the same steps inline today).

- ``get`` decides once without the item (so a caller with no rule never touches the table),
  then against the stored item; a missing item is ``None`` (not an authorization failure);
- ``list`` hands the decision's constraint to the store (owner index, bounded pages); a filter
  naming a field this caller may not read on every item it could match is refused first
  (:meth:`Operations.check_filter`: it would be an oracle on that field's values);
- ``create``/``update``/``delete`` validate the input (types, AppSync scalar formats, required
  fields: present on create once owner fields are filled, never ``null`` on update), decide, and
  let the store enforce the constraint atomically in its ConditionExpression;
- every returned item is presented (owner read back as the username) with the fields this
  caller may not read set to ``None`` and named in ``denied_fields``.

Example::

    ops = Operations(Store.from_env(SCHEMA.models))
    out = ops.create(principal, TODO, {"content": "buy milk"})
    out.item["owner"]        # 'alice'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, NamedTuple

from modelauth.errors import BadRequest, OperationDisabled, Unauthorized, UnauthorizedFields
from modelauth.filters import referenced_fields
from modelauth.identity import Principal
from modelauth.policy import (
    AuthConfig,
    Decision,
    DecisionCache,
    decide,
    denied_read_fields,
    present,
    unreadable_fields,
)
from modelauth.rules import WRITE_OPERATIONS, Model, Operation, Relation, SecondaryIndex, relation_index_of
from modelauth.store import Store, check_key
from modelauth.validation import apply_defaults, check_input, check_required

__all__ = ["DecisionListener", "ListOutput", "Operations", "Output", "caller_key"]

DecisionListener = Callable[[Decision], None]


def caller_key(principal: Principal) -> str:
    """A stable identifier of the caller, to bind nextTokens to it (never the raw API key)."""
    who = principal.sub or (principal.iam.user_arn if principal.iam else None) or principal.username
    if who is None and principal.api_key:
        who = "key:" + hashlib.sha256(principal.api_key.encode()).hexdigest()[:16]
    return f"{principal.mode.value}:{who or ''}"


class Output(NamedTuple):
    """An item as this caller may see it."""

    item: dict[str, Any]
    #: fields set to None because this caller may not read them (GraphQL adds an error for each)
    denied_fields: tuple[str, ...] = ()


class ListOutput(NamedTuple):
    items: list[Output]
    next_token: str | None


class Operations:
    """CRUD on any model of a schema, authorized by the rules, for any adapter."""

    def __init__(
        self,
        store: Store,
        auth_config: AuthConfig | None = None,
        *,
        on_decision: DecisionListener | None = None,
    ) -> None:
        self.store = store
        self.auth_config = auth_config or AuthConfig()
        self._decisions = DecisionCache(self.auth_config)
        #: sees every decision (logs, ``explain``, the demo), allowed or not
        self.on_decision = on_decision

    def decide(
        self,
        principal: Principal,
        model: Model,
        op: Operation,
        *,
        item: Mapping[str, Any] | None = None,
        input: Mapping[str, Any] | None = None,
    ) -> Decision:
        """The decision, or the typed denial (``Unauthorized`` / ``Unauthorized on [..]``)."""
        if item is None and input is None:
            decision = self._decisions.decide(principal, model, op)
        else:
            decision = decide(principal, model, op, item=item, input=input, config=self.auth_config)
        if self.on_decision is not None:
            self.on_decision(decision)
        if not decision.allowed:
            if decision.denied_input_fields:
                raise UnauthorizedFields(decision.denied_input_fields, reason=decision.reason)
            raise Unauthorized("Not Authorized", reason=decision.reason)
        return decision

    def check_filter(
        self, principal: Principal, model: Model, decision: Decision, filter_input: Any, what: str = "filter"
    ) -> None:
        """Refuse (``Unauthorized on [ssn]``) a filter or condition naming a field this caller
        may not read on every item ``decision`` lets the request touch: which items match would
        tell the field's value. Called before the store, so a refused request reads nothing.

        A list's filter is judged with the list's read rules; a write's condition with get's
        (a write's result is read as a get). Malformed input is a :class:`BadRequest`."""
        if not isinstance(filter_input, Mapping):
            raise BadRequest(f"{what} must be an object")
        self.check_readable(
            principal, model, decision, referenced_fields(filter_input, model.filter_fields), what
        )

    def check_readable(
        self, principal: Principal, model: Model, decision: Decision, names: frozenset[str], what: str
    ) -> None:
        """:meth:`check_filter` for the field ``names`` a filter (of any syntax) compares."""
        read_op = Operation.GET if decision.operation in WRITE_OPERATIONS else decision.operation
        denied = unreadable_fields(
            principal, model, read_op, names, scope=decision.constraint, config=self.auth_config
        )
        if denied:
            reason = (
                f"{what} on {model.name} names {sorted(denied)}, which this caller may not "
                f"{read_op.value} on every item it could match"
            )
            raise UnauthorizedFields(denied, reason=reason)

    def output(self, principal: Principal, model: Model, op: Operation, item: Mapping[str, Any]) -> Output:
        """``item`` as this caller may read it; a write's result is read as a ``get``."""
        out = present(model, item)
        if not model.has_field_rules:
            # every field follows the model gate, which this caller passed for this item
            return Output(out)
        read_op = Operation.GET if op in WRITE_OPERATIONS else op
        denied = denied_read_fields(principal, model, read_op, item, self.auth_config)
        nulled = model.with_stored(
            sorted(name for name in denied if name in out or model.field(name) is not None)
        )
        out.update(dict.fromkeys(nulled))
        return Output(out, nulled)

    @staticmethod
    def check_enabled(model: Model, kind: str) -> None:
        """Refuse an operation the model disabled (``get`` … ``delete``, ``onCreate`` …) before
        anything else: it does not exist, for every caller."""
        if not model.is_enabled(kind):
            raise OperationDisabled(
                f"{kind} is disabled on {model.name}", reason=f"{model.name} disables {kind}"
            )

    # -- operations -----------------------------------------------------------------------------
    def get(
        self, principal: Principal, model: Model, item_id: Any, *, related: bool = False
    ) -> Output | None:
        """``item_id``: the ``id``, or for a model with an ``identifier`` a mapping of its key
        fields to their values (as for :meth:`update` and :meth:`delete`). ``related``: a
        ``belongs_to`` field's read, which ``disable_operations(["get"])`` does not remove."""
        if not related:
            self.check_enabled(model, "get")
        item_id = check_key(model, item_id, f"get{model.name}")
        decision = self.decide(principal, model, Operation.GET)  # no rule: never touch the table
        return self._judged(principal, model, decision, self.store.get(model, item_id))

    def get_one(
        self, principal: Principal, model: Model, secondary: SecondaryIndex, partition: Any, sort: Any = None
    ) -> Output | None:
        """The item of an index partition (a ``has_one`` relationship), judged as :meth:`get`
        judges one: an item the caller may not read is ``Unauthorized``, not ``None``."""
        decision = self.decide(principal, model, Operation.GET)
        page = self.store.query_index(
            model, secondary, replace(decision, constraint=None), partition, sort=sort, limit=1
        )
        return self._judged(principal, model, decision, page.items[0] if page.items else None)

    def related(
        self,
        principal: Principal,
        parent: Model,
        rel: Relation,
        model: Model,
        source: Mapping[str, Any],
        *,
        sort_direction: Any = None,
        filter: Any = None,
        limit: Any = None,
        next_token: Any = None,
    ) -> ListOutput | Output | None:
        """A relationship field of the item ``source`` (a ``parent`` as its reader got it),
        answered with the rules of ``model`` (the related one, as the schema holds it):
        ``has_many`` a page of the child's reference index (:meth:`query_index`), ``has_one``
        its item (:meth:`get_one`), ``belongs_to`` the parent (:meth:`get`). A reference or key
        the source lacks (null) relates nothing."""
        if rel.holds_reference:
            values = [source.get(name) for name in rel.references]
            if any(v is None for v in values):
                return None
            keys = model.key_fields
            key = values[0] if keys == ("id",) else dict(zip(keys, values, strict=True))
            return self.get(principal, model, key, related=True)
        values = [source.get(name) for name in parent.key_fields]
        if any(v is None for v in values):
            return ListOutput([], None) if rel.is_list else None
        secondary = relation_index_of(model, parent, rel)
        sort = {"eq": values[1]} if len(values) > 1 else None
        if not rel.is_list:
            return self.get_one(principal, model, secondary, values[0], sort)
        return self.query_index(
            principal,
            model,
            secondary,
            values[0],
            sort=sort,
            sort_direction=sort_direction,
            filter=filter,
            limit=limit,
            next_token=next_token,
        )

    def _judged(
        self, principal: Principal, model: Model, decision: Decision, item: dict[str, Any] | None
    ) -> Output | None:
        if item is None:
            return None
        if not decision.permits(item):
            self.decide(principal, model, Operation.GET, item=item)  # raises, with the reason
        return self.output(principal, model, Operation.GET, item)

    def list(
        self,
        principal: Principal,
        model: Model,
        *,
        filter: Any = None,
        limit: Any = None,
        next_token: Any = None,
    ) -> ListOutput:
        self.check_enabled(model, "list")
        self._check_page_arguments(filter, limit, next_token)
        decision = self.decide(principal, model, Operation.LIST)
        if filter:
            self.check_filter(principal, model, decision, filter)
        page = self.store.list_items(
            model, decision, filter=filter, limit=limit, next_token=next_token, caller=caller_key(principal)
        )
        items = [self.output(principal, model, Operation.LIST, item) for item in page.items]
        return ListOutput(items, page.next_token)

    def query_index(
        self,
        principal: Principal,
        model: Model,
        secondary: SecondaryIndex,
        partition: Any,
        *,
        sort: Any = None,
        sort_direction: Any = None,
        filter: Any = None,
        limit: Any = None,
        next_token: Any = None,
    ) -> ListOutput:
        """A secondary index's query field (``todosByStatus(status: "open", createdAt: {gt: …})``),
        with the model's ``list`` rules: the caller's constraint filters the partition (see
        :meth:`Store.query_index`). The key values act as a filter on the key fields, so they are
        refused like one (:meth:`check_filter`) where this caller may not read those fields."""
        self._check_page_arguments(filter, limit, next_token)
        if partition is None:
            raise BadRequest(f"{secondary.partition_key}: the partition key value is required")
        if sort_direction not in (None, "ASC", "DESC"):
            raise BadRequest("sortDirection must be ASC or DESC")
        decision = self.decide(principal, model, Operation.LIST)
        keys: dict[str, Any] = {secondary.partition_key: {"eq": partition}}
        if sort is not None and secondary.sort_key is not None:
            keys[secondary.sort_key] = {"attributeExists": True}
        self.check_filter(principal, model, decision, {"and": [filter, keys]} if filter else keys)
        page = self.store.query_index(
            model,
            secondary,
            decision,
            partition,
            sort=sort,
            descending=sort_direction == "DESC",
            filter=filter,
            limit=limit,
            next_token=next_token,
            caller=caller_key(principal),
        )
        items = [self.output(principal, model, Operation.LIST, item) for item in page.items]
        return ListOutput(items, page.next_token)

    @staticmethod
    def _check_page_arguments(filter: Any, limit: Any, next_token: Any) -> None:
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            raise BadRequest("limit must be an integer")
        if next_token is not None and not isinstance(next_token, str):
            raise BadRequest("nextToken must be a string")
        if filter is not None and not isinstance(filter, dict):
            raise BadRequest("filter must be an object")

    def create(
        self, principal: Principal, model: Model, data: Any, condition: Mapping[str, Any] | None = None
    ) -> Output:
        """``condition``: Amplify's ``ModelXConditionInput``, judged atomically with the write
        (a failed one is ``DynamoDB:ConditionalCheckFailedException``). On update and delete it
        may name only fields the caller can read (:meth:`check_filter`)."""
        self.check_enabled(model, "create")
        where = f"Create{model.name}Input"
        values = check_input(model, data, where, allow_keys={"id"}, create=True)
        decision = self.decide(principal, model, Operation.CREATE, input=values)
        if condition is not None and not isinstance(condition, Mapping):
            raise BadRequest("condition must be an object")
        # no field check: with attribute_not_exists(id) before it, the condition is only ever
        # judged against an empty item, so it tells nothing of a stored one
        values = apply_defaults(model, values)  # the schema's values, not the caller's: after decide
        check_required(model, {**values, **decision.owner_stamp}, where)  # owner fields filled
        item = self.store.create(model, values, decision, condition)
        return self.output(principal, model, Operation.CREATE, item)

    def update(
        self,
        principal: Principal,
        model: Model,
        item_id: Any,
        data: Any,
        condition: Mapping[str, Any] | None = None,
    ) -> Output:
        """``data``: the fields to change, plus ``_version`` for optimistic concurrency;
        ``condition`` as for :meth:`create`, against the stored item."""
        self.check_enabled(model, "update")
        item_id = check_key(model, item_id, f"Update{model.name}Input")
        values = check_input(model, data, f"Update{model.name}Input", allow_keys={"_version"})
        if isinstance(item_id, Mapping):  # the key is not a change: DynamoDB cannot update it
            for name, value in item_id.items():
                if values.pop(name, value) != value:
                    raise BadRequest(f"Update{model.name}Input: {name} is part of the key and cannot change")
        expected = values.pop("_version", None)
        decision = self.decide(principal, model, Operation.UPDATE, input=values)
        self._check_write_condition(principal, model, decision, condition)
        changes = {k: v for k, v in values.items() if k not in decision.unchanged_input_fields}
        item = self.store.update(model, item_id, changes, decision, expected, condition)
        return self.output(principal, model, Operation.UPDATE, item)

    def delete(
        self,
        principal: Principal,
        model: Model,
        item_id: Any,
        expected_version: Any = None,
        condition: Mapping[str, Any] | None = None,
    ) -> Output:
        self.check_enabled(model, "delete")
        item_id = check_key(model, item_id, f"Delete{model.name}Input")
        if expected_version is not None and (
            not isinstance(expected_version, int) or isinstance(expected_version, bool)
        ):
            raise BadRequest(f"Delete{model.name}Input: '_version' must be an integer")
        decision = self.decide(principal, model, Operation.DELETE)
        self._check_write_condition(principal, model, decision, condition)
        item = self.store.delete(model, item_id, decision, expected_version, condition)
        return self.output(principal, model, Operation.DELETE, item)

    def _check_write_condition(
        self, principal: Principal, model: Model, decision: Decision, condition: Any
    ) -> None:
        if condition is not None:
            self.check_filter(principal, model, decision, condition, "condition")
