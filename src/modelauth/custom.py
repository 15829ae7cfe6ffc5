"""Custom queries, mutations and subscriptions with declarative rules (Amplify Gen 2's
``a.query().arguments({...}).returns(...).authorization(allow => [...]).handler(...)``).

Declared in the schema next to the models, built like them from frozen data and the ``allow``
DSL; the library enforces the rules *before* the handler runs:

1. the arguments are checked (known names, required ones present, each of its type and AppSync
   format): a problem is ``BadRequest`` naming the argument;
2. the operation's rules decide, as a model's rules do (OR, only rules of the request's auth
   mode count, nothing matching means deny): ``Unauthorized``;
3. with ``.item("Post", "id")`` the library loads the Post named by the ``id`` argument and
   judges the item-dependent rules (``allow.owner()``, ``allow.owners_defined_in("editors")``,
   ``allow.group_defined_in(...)``) against it, with the Post's own field names: a Post that is
   not the caller's is ``Unauthorized``, and so is a missing one when only such a rule could
   grant (a static rule that grants makes a missing item ``NotFound``);
4. only then the handler runs, with a :class:`Call`: the :class:`~modelauth.identity.Principal`,
   the checked arguments and the loaded, authorized item (and :meth:`Call.update_item` to write
   it back under the same rule, atomically). A :class:`~modelauth.errors.ModelAuthError` it
   raises becomes the typed GraphQL error; anything else is ``InternalFailure``.

A result of a model type is shown as the model's reads are: owner fields as usernames, fields
this caller may not read nulled (a mutation's result also nulls the fields some subscriber may
not read, as model mutations do). A custom subscription (``subscription("onPublish")
.for_("publishPost")``) follows mutations; its rules decide at subscribe time, and when it
returns a model the model's ``listen`` rules decide too and set the same enhanced filter a model
subscription gets, so a subscriber only receives items it may read.

Handlers are registered on the resolver app (functions/graphql/app.py)::

    app = GraphQLApp.from_env()

    @app.operation("publishPost")
    def publish_post(call: Call) -> dict[str, Any]:
        return call.update_item({"published": True})

Example::

    >>> from modelauth.rules import Field, Model, Schema, allow
    >>> post = Model("Post", fields=[Field("title")], rules=[allow.owner()])
    >>> publish = (mutation("publishPost").arguments({"id": "ID!"}).returns("Post")
    ...            .item("Post", "id").authorization([allow.owner()]))
    >>> publish.signature()
    '(id: ID!): Post'
    >>> Schema([post], operations=[publish]).operations[0].name
    'publishPost'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from modelauth.errors import ModelAuthError, NotFound, Unauthorized
from modelauth.identity import Principal
from modelauth.policy import AuthConfig, Decision, DecisionCache, decide
from modelauth.rules import (
    ALL_OPERATIONS,
    Field,
    Model,
    Operation,
    Rule,
    SchemaError,
    mode_of,
    root_fields,
)
from modelauth.scalars import SCALAR_TYPES
from modelauth.subscriptions import subscription_filter
from modelauth.validation import _check_value, check_arguments, check_id, check_input

if TYPE_CHECKING:
    from modelauth.rules import Schema
    from modelauth.store import Store

__all__ = [
    "Call",
    "CustomOperation",
    "CustomResolver",
    "Handler",
    "MissingHandler",
    "Subscribed",
    "check_operations",
    "mutation",
    "query",
    "subscription",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")


class TypeRef(NamedTuple):
    """A GraphQL type as written: ``Post``, ``[Post]``, ``String!``, ``[ID!]!``."""

    base: str
    is_list: bool = False
    required: bool = False
    inner_required: bool = False

    def render(self) -> str:
        inner = self.base + ("!" if self.inner_required else "")
        return (f"[{inner}]" if self.is_list else inner) + ("!" if self.required else "")


def _type_ref(text: str, what: str) -> TypeRef:
    rest = text if isinstance(text, str) else ""
    required = rest.endswith("!")
    rest = rest.removesuffix("!")
    is_list = rest.startswith("[") and rest.endswith("]")
    rest = rest[1:-1] if is_list else rest
    inner = is_list and rest.endswith("!")
    rest = rest.removesuffix("!") if is_list else rest
    if not _NAME.match(rest):
        raise SchemaError(f"{what}: {text!r} is not a GraphQL type (e.g. 'String', 'ID!', '[Post]')")
    return TypeRef(rest, is_list, required, inner)


def _argument(name: str, spec: str | Field, where: str) -> Field:
    if isinstance(spec, Field):
        if spec.name != name:
            raise SchemaError(f"{where}: argument {name!r} is given a Field named {spec.name!r}")
        if spec.rules is not None:
            raise SchemaError(f"{where}: argument {name!r}: arguments take no rules")
        return spec
    ref = _type_ref(spec, f"{where}: argument {name!r}")
    if ref.base not in SCALAR_TYPES:
        raise SchemaError(f"{where}: argument {name!r}: unknown type {ref.base!r} (a scalar)")
    try:
        return Field(name, ref.base, required=ref.required, is_list=ref.is_list)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None


#: a custom operation's handler: the checked call in, the field's value out
Handler = Callable[["Call"], Any]


@dataclass(frozen=True, slots=True)
class CustomOperation:
    """One custom root field. Build it with :func:`query`, :func:`mutation` or
    :func:`subscription` and the chained methods, as Gen 2's ``a.query()`` is built.

    >>> query("echo").arguments({"text": "String!"}).returns("String").signature()
    '(text: String!): String'
    """

    type_name: str
    name: str
    args: tuple[Field, ...] = ()
    return_type: TypeRef | None = None
    rules: tuple[Rule, ...] = ()
    #: ``.item(model, argument)``: the model whose record the argument names
    item_model: str | None = None
    item_argument: str | None = None
    #: subscriptions: the mutations whose results it receives
    mutations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise SchemaError(
                f"custom operation {self.name!r}: use letters and digits, starting with a letter"
            )

    @property
    def field(self) -> str:
        """``Mutation.publishPost``."""
        return f"{self.type_name}.{self.name}"

    def arguments(self, arguments: Mapping[str, str | Field]) -> CustomOperation:
        """The arguments: name → type (``"ID!"``, ``"[String]"``) or a :class:`Field`."""
        if self.type_name == "Subscription":
            raise SchemaError(f"{self.field}: subscription arguments are not supported")
        if not isinstance(arguments, Mapping):
            raise SchemaError(f"{self.field}: arguments() takes a mapping of name to type")
        args = tuple(_argument(name, spec, self.field) for name, spec in arguments.items())
        return replace(self, args=args)

    def returns(self, type_name: str) -> CustomOperation:
        """The field's type: a scalar or a model, maybe a list or required (``"[Post]"``)."""
        return replace(self, return_type=_type_ref(type_name, f"{self.field}: returns"))

    def authorization(self, rules: Sequence[Rule]) -> CustomOperation:
        """Who may call it: ``allow.*`` rules without ``.to(...)`` (an operation is one thing)."""
        rules = tuple(rules)
        for rule in rules:
            if not isinstance(rule, Rule):
                raise SchemaError(f"{self.field}: authorization() takes allow.* rules, not {rule!r}")
            if rule.operations != ALL_OPERATIONS:
                raise SchemaError(f"{self.field}: a custom operation's rules take no .to([...])")
        return replace(self, rules=rules)

    def item(self, model: str, argument: str = "id") -> CustomOperation:
        """Load the ``model`` record the ``argument`` names and judge item rules against it."""
        if self.type_name == "Subscription":
            raise SchemaError(f"{self.field}: a subscription has no item; it follows mutations")
        return replace(self, item_model=model, item_argument=argument)

    def for_(self, *mutations: str) -> CustomOperation:
        """Subscriptions: the mutations (custom or a model's, e.g. ``createPost``) it follows."""
        if self.type_name != "Subscription":
            raise SchemaError(f"{self.field}: for_() is for subscriptions")
        return replace(self, mutations=tuple(mutations))

    def signature(self) -> str:
        """Arguments and type as the SDL writes them."""
        args = ", ".join(f"{a.name}: {a.graphql_type}" for a in self.args)
        ret = self.return_type.render() if self.return_type else "String"
        if self.type_name == "Subscription":
            names = ", ".join(f'"{m}"' for m in self.mutations)
            return f": {ret} @aws_subscribe(mutations: [{names}])"
        return f"({args}): {ret}" if args else f": {ret}"


def query(name: str) -> CustomOperation:
    """A custom ``Query`` field (Gen 2 ``a.query()``)."""
    return CustomOperation("Query", name)


def mutation(name: str) -> CustomOperation:
    """A custom ``Mutation`` field (Gen 2 ``a.mutation()``)."""
    return CustomOperation("Mutation", name)


def subscription(name: str) -> CustomOperation:
    """A custom ``Subscription`` field (Gen 2 ``a.subscription().for(...)``)."""
    return CustomOperation("Subscription", name)


# -- schema-build checks -------------------------------------------------------------------------


class _Bound(NamedTuple):
    """A checked operation with what the resolver needs: the rules as a model to decide with,
    the item model, the model it returns."""

    op: CustomOperation
    gate: Model
    item_model: Model | None
    returns: Model | None


def _flat(rules: Iterable[Rule]) -> list[Rule]:
    return [sub for rule in rules for sub in rule.rules or (rule,)]


def _modes(rules: Iterable[Rule]) -> set[str]:
    return {mode_of(r.provider) for r in _flat(rules)}


def _bind(op: CustomOperation, models: Mapping[str, Model], mutations: Mapping[str, TypeRef]) -> _Bound:
    where = op.field
    if not op.rules:
        raise SchemaError(f"{where} does not have any auth rules: add .authorization([allow...])")
    if op.type_name == "Subscription":
        if not op.mutations:
            raise SchemaError(f"{where}: a subscription needs .for_(mutation, ...)")
        kinds = set()
        for name in op.mutations:
            if name not in mutations:
                raise SchemaError(f"{where}: for_({name!r}) names no mutation of the schema")
            kinds.add(mutations[name])
        if len(kinds) != 1:
            raise SchemaError(f"{where}: the mutations it follows must return one type")
        (kind,) = kinds
        if op.return_type is not None and op.return_type != kind:
            raise SchemaError(f"{where}: returns {op.return_type.render()}, its mutations {kind.render()}")
        op = replace(op, return_type=kind)
    if op.return_type is None:
        raise SchemaError(f"{where}: say what it returns with .returns('Type')")
    base = op.return_type.base
    returns = models.get(base)
    if returns is None and base not in SCALAR_TYPES:
        raise SchemaError(f"{where}: returns unknown type {base!r} (a scalar or a model)")
    dynamic = [r for r in _flat(op.rules) if r.is_dynamic]
    item_model: Model | None = None
    if op.item_model is not None:
        item_model = models.get(op.item_model)
        if item_model is None:
            raise SchemaError(f"{where}: .item({op.item_model!r}) names no model of the schema")
        arg = next((a for a in op.args if a.name == op.item_argument), None)
        if arg is None or arg.type not in ("ID", "String") or arg.is_list or not arg.required:
            raise SchemaError(
                f"{where}: .item({op.item_model!r}, {op.item_argument!r}) needs a required ID "
                f"argument {op.item_argument!r} (e.g. .arguments({{{op.item_argument!r}: 'ID!'}}))"
            )
    elif dynamic:
        what = "a subscription has no item (its events are filtered by the model's read rules)"
        if op.type_name != "Subscription":
            what = "the operation has no item: add .item('Model', 'argument')"
        raise SchemaError(f"{where}: rule {dynamic[0].describe()} needs an item, but {what}")
    fields: tuple[Field, ...] = ()
    if item_model is not None:
        for rule in dynamic:
            needed = rule.owner_field or rule.groups_field
            if needed is not None and item_model.field(needed) is None:
                raise SchemaError(
                    f"{where}: rule {rule.describe()}: {item_model.name} has no field {needed!r}"
                )
        fields = tuple(replace(f, rules=None) for f in item_model.fields)
    try:
        gate = Model(op.name, fields=fields, rules=op.rules)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    if returns is not None:
        reach = _modes((*returns.rules, *(r for f in returns.fields for r in f.rules or ())))
        beyond = sorted(_modes(op.rules) - reach)
        if beyond:
            raise SchemaError(
                f"{where}: its {', '.join(beyond)} callers could not read the {returns.name} it "
                f"returns (no rule of {returns.name} is for that mode)"
            )
    return _Bound(op, gate, item_model, returns)


def check_operations(models: Sequence[Model], operations: Sequence[CustomOperation]) -> tuple[_Bound, ...]:
    """Schema-build check of every custom operation (:class:`~modelauth.rules.Schema` calls it):
    names unique and free, types known, rules that can apply (an item rule needs ``.item``)."""
    by_name = {m.name: m for m in models}
    taken = {f"{r.type_name}.{r.field_name}" for m in models for r in root_fields(m)}
    mutations: dict[str, TypeRef] = {}
    for m in models:
        for r in root_fields(m):
            if r.type_name == "Mutation":
                mutations[r.field_name] = TypeRef(m.name)
    seen: set[str] = set()
    for op in operations:
        if not isinstance(op, CustomOperation):
            raise SchemaError(f"operations takes query()/mutation()/subscription() values, not {op!r}")
        if op.field in taken or op.name in seen:
            raise SchemaError(f"{op.field} is defined twice (a model's field or another operation)")
        seen.add(op.name)
        if op.type_name == "Mutation" and op.return_type is not None:
            mutations[op.name] = op.return_type
    return tuple(_bind(op, by_name, mutations) for op in operations)


# -- at request time -----------------------------------------------------------------------------


class MissingHandler(ModelAuthError):
    """No handler is registered for a declared custom query or mutation (a deployment bug)."""


class Subscribed(NamedTuple):
    """A custom subscription's subscribe-time answer: the filter (None: every event)."""

    filter: dict[str, Any] | None


@dataclass(frozen=True)
class Call:
    """What a handler gets: the caller, the checked arguments, the loaded and authorized item.

    ``item`` is the stored record (owner values as stored, ``<sub>::<username>``); return it, or
    what :meth:`update_item` returns, and the library shows it to the caller as a read would.
    """

    principal: Principal
    arguments: Mapping[str, Any]
    item: dict[str, Any] | None
    decision: Decision
    operation: CustomOperation
    _store: Store | None = field(default=None, repr=False)
    _item_model: Model | None = field(default=None, repr=False)
    _write_decision: Decision | None = field(default=None, repr=False)

    def update_item(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``changes`` to the loaded item: atomically, only while the rule that let the
        caller in still holds for the stored item and its version is the one loaded (else
        ``Unauthorized`` / ``ConflictUnhandled``). Returns the stored item after the write."""
        if self.item is None or self._store is None or self._item_model is None:
            raise RuntimeError(f"{self.operation.field} has no item: declare .item(model, argument)")
        assert self._write_decision is not None
        where = f"{self.operation.field}: {self._item_model.name} update"
        values = check_input(self._item_model, changes, where)
        return self._store.update(
            self._item_model, self.item["id"], values, self._write_decision, self.item.get("_version")
        )


#: present(model, value, is_mutation) → the value as the caller may read it
Presenter = Callable[[Model, Any, bool], Any]
DecisionListener = Callable[[Decision], None]


class CustomResolver:
    """Enforces the custom operations of a schema before their handlers (GraphQLApp uses it)."""

    def __init__(
        self,
        schema: Schema,
        store: Store,
        auth_config: AuthConfig,
        *,
        on_decision: DecisionListener | None = None,
    ) -> None:
        self.store = store
        self.auth_config = auth_config
        self.on_decision = on_decision
        self._decisions = DecisionCache(auth_config)
        self.routes: dict[tuple[str, str], _Bound] = {
            (b.op.type_name, b.op.name): b for b in schema.bound_operations
        }
        self.handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        bound = next((b for b in self.routes.values() if b.op.name == name), None)
        if bound is None or bound.op.type_name == "Subscription":
            raise ValueError(f"{name!r} is not a custom query or mutation of the schema")
        if name in self.handlers:
            raise ValueError(f"{name!r} already has a handler")
        self.handlers[name] = handler

    def _judge(self, principal: Principal, bound: _Bound, item: Mapping[str, Any] | None = None) -> Decision:
        if item is None:
            decision = self._decisions.decide(principal, bound.gate, Operation.GET)
        else:
            decision = decide(principal, bound.gate, Operation.GET, item=item, config=self.auth_config)
        # the gate is judged as a read of a model named after the operation: say which field it is
        decision = replace(
            decision, reason=decision.reason.replace(f"get on {bound.gate.name}", bound.op.field)
        )
        if self.on_decision is not None:
            self.on_decision(decision)
        if not decision.allowed:
            raise Unauthorized("Not Authorized", reason=decision.reason)
        return decision

    def run(
        self, bound: _Bound, principal: Principal, arguments: Mapping[str, Any], present: Presenter
    ) -> Any:
        """Check, decide, load and judge the item, then call the handler; raises typed errors."""
        op = bound.op
        args = self._arguments(op, arguments)
        decision = self._judge(principal, bound)
        if op.type_name == "Subscription":
            if bound.returns is None:
                return Subscribed(None)
            listen = self._decisions.decide(principal, bound.returns, Operation.LISTEN)
            if self.on_decision is not None:
                self.on_decision(listen)
            if not listen.allowed:
                raise Unauthorized("Not Authorized", reason=f"{op.field}: {listen.reason}")
            return Subscribed(
                None if listen.constraint is None else subscription_filter(bound.returns, listen.constraint)
            )
        item: dict[str, Any] | None = None
        write_decision = decision
        if bound.item_model is not None:
            assert op.item_argument is not None
            item_id = check_id(args[op.item_argument], op.name)
            item = self.store.get(bound.item_model, item_id)
            if item is None:
                if decision.constraint is not None:  # only an item rule could grant: fail closed
                    reason = f"{op.field}: no {bound.item_model.name} {item_id!r} to judge the rules on"
                    raise Unauthorized("Not Authorized", reason=reason)
                raise NotFound(f"{bound.item_model.name} {item_id!r} not found")
            if decision.constraint is not None:
                decision = self._judge(principal, bound, item)
        handler = self.handlers.get(op.name)
        if handler is None:
            raise MissingHandler(
                f"No handler for {op.field}", reason=f"register one with @app.operation({op.name!r})"
            )
        call = Call(principal, args, item, decision, op, self.store, bound.item_model, write_decision)
        result = handler(call)
        if bound.returns is None or result is None:
            return result
        mutating = op.type_name == "Mutation"
        if op.return_type is not None and op.return_type.is_list:
            if not isinstance(result, list):
                raise TypeError(f"{op.field} returns a list; its handler returned {type(result).__name__}")
            return [present(bound.returns, r, mutating) for r in result]
        return present(bound.returns, result, mutating)

    @staticmethod
    def _arguments(op: CustomOperation, arguments: Mapping[str, Any]) -> dict[str, Any]:
        allowed = frozenset(a.name for a in op.args)
        required = [a.name for a in op.args if a.required]
        args = check_arguments(arguments, op.name, allowed, required)
        for a in op.args:
            if a.name in args:
                args[a.name] = _check_value(a, args[a.name], op.name, a.name)
        return args
