"""Checks of client arguments against a model, before any rule or DynamoDB call: the one place
values are judged, for the AppSync resolver and the REST API alike.

Every problem is a :class:`~modelauth.errors.BadRequest` naming the field (its path inside
custom types: ``'home.city'``, ``'stops[1].city'``), never a traceback: unknown fields, values
not of the field's type or format (:mod:`modelauth.scalars`), not a member of its enum, custom
type objects with unknown keys or without a required field, ``null`` for a required field (or
a value of a ``[T!]`` list), a create without one (:func:`check_required`). A create's missing
fields get their defaults first (:func:`apply_defaults`).

Example::

    >>> from modelauth.rules import Field, Model, allow
    >>> todo = Model("Todo", fields=[Field("content")], rules=[allow.owner()])
    >>> check_input(todo, {"content": "hi"}, "CreateTodoInput", allow_keys={"id"})
    {'content': 'hi'}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from modelauth.errors import BadRequest
from modelauth.fieldtypes import CustomType, Enum
from modelauth.rules import Field, Model, Operation
from modelauth.scalars import MAX_STRING_LENGTH, conforms, expected

__all__ = [
    "MAX_LIST_ITEMS",
    "MAX_STRING_LENGTH",
    "apply_defaults",
    "check_arguments",
    "check_id",
    "check_input",
    "check_required",
    "required_create_fields",
]

MAX_LIST_ITEMS = 1_000


def check_arguments(
    arguments: Any, field: str, allowed: AbstractSet[str], required: Collection[str]
) -> dict[str, Any]:
    """The field's arguments as a dict, with no unknown and no missing names."""
    if type(arguments) is dict and arguments.keys() <= allowed:  # the usual case, checked cheaply
        for name in required:
            if arguments.get(name) is None:
                break
        else:
            return dict(arguments)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise BadRequest(f"{field}: arguments must be an object")
    unknown = sorted(set(arguments) - set(allowed))
    if unknown:
        raise BadRequest(f"{field}: unknown argument(s) {unknown}")
    missing = sorted(name for name in required if arguments.get(name) is None)
    if missing:
        raise BadRequest(f"{field}: missing required argument(s) {missing}")
    return dict(arguments)


def check_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise BadRequest(f"{where}: 'id' must be a non-empty string of at most 1024 characters")
    return value


def check_input(
    model: Model,
    data: Any,
    input_type: str,
    *,
    allow_keys: Collection[str] = (),
    create: bool = False,
) -> dict[str, Any]:
    """Validate a create/update input object: known fields only, each of its declared type and
    format, ``null`` only for optional fields (an update may not null a required one; a create
    may send ``null`` for a field with a default, which it then gets)."""
    if not isinstance(data, Mapping):
        raise BadRequest(f"{input_type} must be an object")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if not isinstance(name, str):
            raise BadRequest(f"{input_type}: field names must be strings")
        if name in allow_keys:
            out[name] = value
            continue
        f = model.field(name)
        if f is None:
            raise BadRequest(_unknown_field(name, input_type))
        if value is None and create and f.default is not None:
            out[name] = None  # apply_defaults fills it
            continue
        nullable = name not in model.rule_fields  # owner and group values are names, never null
        out[name] = _check_value(f, value, input_type, name, nullable_items=nullable)
    if "id" in out and out["id"] is not None:
        check_id(out["id"], input_type)
    if "_version" in out and out["_version"] is not None and not _is_int(out["_version"]):
        raise BadRequest(f"{input_type}: '_version' must be an integer")
    return out


def _unknown_field(name: str, input_type: str) -> str:
    return (
        f"The variables input contains a field name '{name}' that is not defined for input "
        f"object type '{input_type}'"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53


def _check_value(f: Field, value: Any, where: str, path: str, *, nullable_items: bool = True) -> Any:
    """``value`` of field ``f`` (at ``path`` in the input), checked; a list value by value."""
    if value is None:
        if f.required:
            raise BadRequest(f"{where}: '{path}' may not be null")
        return None
    if not f.is_list:
        return _check_one(f, value, where, path)
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise BadRequest(f"{where}: '{path}' must be a list of at most {MAX_LIST_ITEMS} {f.type_name} values")
    checked: list[Any] = []
    for index, item in enumerate(value):
        if item is None and nullable_items and not f.items_required:
            checked.append(None)
        elif item is None:
            raise BadRequest(f"{where}: '{path}[{index}]' may not be null")
        else:
            checked.append(_check_one(f, item, where, f"{path}[{index}]"))
    return checked


def _check_one(f: Field, value: Any, where: str, path: str) -> Any:
    """One non-null value of ``f``'s type: a scalar of its format, an enum member, or a custom
    type's object (its fields checked in turn; unknown keys and missing required ones refused)."""
    kind = f.type
    if isinstance(kind, CustomType):
        return _check_object(kind, value, where, path)
    if isinstance(kind, Enum):
        if not isinstance(value, str) or value not in kind.values:
            raise BadRequest(f"{where}: '{path}' must be {kind.name} (one of {', '.join(kind.values)})")
        return value
    if not conforms(kind, value):
        raise BadRequest(f"{where}: '{path}' must be {expected(kind)}")
    return value


def _check_object(kind: CustomType, value: Any, where: str, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequest(f"{where}: '{path}' must be an object of type {kind.input_name}")
    out: dict[str, Any] = {}
    for name, inner in value.items():
        f = kind.field(name) if isinstance(name, str) else None
        if f is None:
            raise BadRequest(f"{where}: '{path}': " + _unknown_field(str(name), kind.input_name))
        out[name] = _check_value(f, inner, where, f"{path}.{name}")
    missing = [f"'{path}.{f.name}'" for f in kind.fields if f.required and f.name not in out]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise BadRequest(f"{where}: {', '.join(missing)} {verb} required")
    return out


def apply_defaults(model: Model, values: Mapping[str, Any]) -> dict[str, Any]:
    """A create's input with each field's ``default`` where the input leaves the field out or
    sends ``null`` (Amplify's ``util.defaultIfNull``); the defaults were checked at build.

    >>> from modelauth.rules import Enum, Field, Model, allow
    >>> task = Model("Task", fields=[Field("status", Enum("Status", ["OPEN", "DONE"]), default="OPEN")],
    ...              rules=[allow.owner()])
    >>> apply_defaults(task, {"status": None}), apply_defaults(task, {"status": "DONE"})
    ({'status': 'OPEN'}, {'status': 'DONE'})
    """
    out = dict(values)
    for f in model.fields:
        if f.default is not None and out.get(f.name) is None:
            out[f.name] = f.default
    return out


def required_create_fields(model: Model) -> tuple[str, ...]:
    """The fields ``Create<Model>Input`` marks required (``!``): every required field but the
    owner fields an owner rule fills from the caller on create and the fields with a default.

    >>> from modelauth.rules import Field, Model, allow
    >>> doc = Model("Doc", fields=[Field("title", required=True), Field("owner", required=True)],
    ...             rules=[allow.owner()])
    >>> required_create_fields(doc)
    ('title',)
    """
    filled = {r.owner_field for r in model.owner_rules if Operation.CREATE in r.operations}
    return tuple(f.name for f in model.fields if f.required and f.default is None and f.name not in filled)


def check_required(model: Model, item: Mapping[str, Any], where: str) -> None:
    """Every required field has a value in ``item`` (a create's input and the owner fields
    filled for the caller), else :class:`BadRequest`: GraphQL could never return that record
    (``Cannot return null for non-nullable field``), so it is never written."""
    missing = [f"'{f.name}'" for f in model.fields if f.required and item.get(f.name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise BadRequest(f"{where}: {', '.join(missing)} {verb} required")
