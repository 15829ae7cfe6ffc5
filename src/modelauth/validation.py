"""Checks of client arguments against a model, before any rule or DynamoDB call.

Every problem is a :class:`~modelauth.errors.BadRequest` naming the field, never a traceback:
unknown fields, values not of the field's type or format (:mod:`modelauth.scalars`), ``null``
for a required field, a create without one (:func:`check_required`).

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
from modelauth.rules import Field, Model, Operation
from modelauth.scalars import MAX_STRING_LENGTH, conforms, expected

__all__ = [
    "MAX_LIST_ITEMS",
    "MAX_STRING_LENGTH",
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
) -> dict[str, Any]:
    """Validate a create/update input object: known fields only, each of its declared type and
    format, ``null`` only for optional fields (an update may not null a required one)."""
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
            raise BadRequest(
                f"The variables input contains a field name '{name}' that is not defined for input "
                f"object type '{input_type}'"
            )
        out[name] = _check_value(f, value, input_type)
    if "id" in out and out["id"] is not None:
        check_id(out["id"], input_type)
    if "_version" in out and out["_version"] is not None and not _is_int(out["_version"]):
        raise BadRequest(f"{input_type}: '_version' must be an integer")
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53


def _check_value(f: Field, value: Any, where: str) -> Any:
    if value is None:
        if f.required:
            raise BadRequest(f"{where}: '{f.name}' may not be null")
        return None
    if f.is_list:
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
            raise BadRequest(
                f"{where}: '{f.name}' must be a list of at most {MAX_LIST_ITEMS} {f.type} values"
            )
        return [_check_scalar(f, v, where) for v in value]
    return _check_scalar(f, value, where)


def _check_scalar(f: Field, value: Any, where: str) -> Any:
    if not conforms(f.type, value):
        raise BadRequest(f"{where}: '{f.name}' must be {expected(f.type)}")
    return value


def required_create_fields(model: Model) -> tuple[str, ...]:
    """The fields ``Create<Model>Input`` marks required (``!``): every required field but the
    owner fields an owner rule fills from the caller on create.

    >>> from modelauth.rules import Field, Model, allow
    >>> doc = Model("Doc", fields=[Field("title", required=True), Field("owner", required=True)],
    ...             rules=[allow.owner()])
    >>> required_create_fields(doc)
    ('title',)
    """
    filled = {r.owner_field for r in model.owner_rules if Operation.CREATE in r.operations}
    return tuple(f.name for f in model.fields if f.required and f.name not in filled)


def check_required(model: Model, item: Mapping[str, Any], where: str) -> None:
    """Every required field has a value in ``item`` (a create's input and the owner fields
    filled for the caller), else :class:`BadRequest`: GraphQL could never return that record
    (``Cannot return null for non-nullable field``), so it is never written."""
    missing = [f"'{f.name}'" for f in model.fields if f.required and item.get(f.name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise BadRequest(f"{where}: {', '.join(missing)} {verb} required")
