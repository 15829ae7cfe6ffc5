"""Checks of client arguments against a model, before any rule or DynamoDB call.

Every problem is a :class:`~modelauth.errors.BadRequest` naming the field, never a traceback.

Example::

    >>> from modelauth.rules import Field, Model, allow
    >>> todo = Model("Todo", fields=[Field("content")], rules=[allow.owner()])
    >>> check_input(todo, {"content": "hi"}, "CreateTodoInput", allow_keys={"id"})
    {'content': 'hi'}
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from modelauth.errors import BadRequest
from modelauth.rules import Field, Model

__all__ = ["MAX_LIST_ITEMS", "MAX_STRING_LENGTH", "check_arguments", "check_input", "check_id"]

MAX_STRING_LENGTH = 65_536  # DynamoDB items are capped at 400 KB; keep one field well below
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
    require: Collection[str] = (),
) -> dict[str, Any]:
    """Validate a create/update input object: known fields only, each of its declared type."""
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
    for name in require:
        if out.get(name) is None:
            raise BadRequest(f"{input_type}: '{name}' is required")
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
    ok: bool
    if f.type == "Boolean":
        ok = isinstance(value, bool)
    elif f.type == "Int":
        ok = _is_int(value)
    elif f.type == "Float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, str) and len(value) <= MAX_STRING_LENGTH
    if not ok:
        raise BadRequest(
            f"{where}: '{f.name}' must be {f.type}" + (" (at most 64 KiB)" if f.type == "String" else "")
        )
    return value
