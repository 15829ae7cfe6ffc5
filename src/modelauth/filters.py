"""Amplify ``Model<X>FilterInput`` → DynamoDB expressions, plus expression placeholders.

Example::

    >>> ph = Placeholders()
    >>> build_filter({"content": {"beginsWith": "buy"}}, {"content"}, ph)
    'begins_with(#f0, :v0)'
    >>> sorted(referenced_fields({"or": [{"name": {"eq": "a"}}, {"not": {"ssn": {"attributeExists": True}}}]},
    ...                          {"name", "ssn"}))
    ['name', 'ssn']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from modelauth.errors import BadRequest

__all__ = ["MAX_FILTER_DEPTH", "FilterField", "Placeholders", "build_filter", "referenced_fields"]

MAX_FILTER_DEPTH = 64
MAX_FILTER_TERMS = 200

_BINARY = {"eq": "=", "ne": "<>", "le": "<=", "lt": "<", "ge": ">=", "gt": ">"}
_FUNCTIONS = {
    "contains": "contains({n}, {v})",
    "notContains": "NOT contains({n}, {v})",
    "beginsWith": "begins_with({n}, {v})",
}


class FilterField(NamedTuple):
    """How a filter may test an enum field, as Amplify's ``Model<Enum>Input`` (``eq``, ``ne``)
    and ``Model<Enum>ListInput`` (also ``contains``, ``notContains``) allow: only those
    operators, and only the enum's members. Scalar fields take every operator (no entry, or
    ``FilterField()``)."""

    #: the enum's name and members (None: a scalar field)
    enum: tuple[str, tuple[str, ...]] | None = None
    #: a list of the enum (eq/ne compare the whole list; contains tests one member)
    is_list: bool = False


Fields = Collection[str] | Mapping[str, FilterField]


@dataclass
class Placeholders:
    """Collects ``#name`` / ``:value`` placeholders for one DynamoDB request."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        for key, existing in self.names.items():
            if existing == attribute:
                return key
        key = f"#f{len(self.names)}"
        self.names[key] = attribute
        return key

    def value(self, value: Any) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = value
        return key


def build_filter(
    filter_input: Mapping[str, Any], fields: Fields, ph: Placeholders, *, conjunct: bool = False
) -> str:
    """Translate an Amplify filter into a FilterExpression using ``ph`` for placeholders.
    ``fields``: the names a filter may test, or a mapping of them to their :class:`FilterField`
    (``Model.filter_fields``: enum fields checked, custom-type fields absent). ``conjunct``: the
    expression will be joined to others with ``AND`` (a caller's constraint), so a top-level
    ``or`` is parenthesised: ``owner = :o AND (a OR b)``, never ``owner = :o AND a OR b``.

    Unknown fields or operators, wrong shapes, too deep or too large filters → :class:`BadRequest`.

    >>> ph = Placeholders()
    >>> build_filter({"or": [{"a": {"eq": 1}}, {"b": {"eq": 2}}]}, {"a", "b"}, ph, conjunct=True)
    '(#f0 = :v0 OR #f1 = :v1)'
    """
    return _render(_build(filter_input, fields, ph, 0, [0]), "and" if conjunct else None)


def referenced_fields(filter_input: Mapping[str, Any], fields: Fields) -> frozenset[str]:
    """Every field a filter (or condition) names, through nested ``and``/``or``/``not``: what an
    authorization check must see before the filter reaches the store. Validates it as
    :func:`build_filter` does (same :class:`BadRequest` errors)."""
    ph = Placeholders()
    build_filter(filter_input, fields, ph)
    return frozenset(ph.names.values())


# an expression tree: ("leaf", text) | ("and"|"or", [children]) | ("not", [child])
_Node = tuple[str, Any]


def _render(node: _Node, parent: str | None) -> str:
    """Render with parentheses only around a compound child of a different operator
    (DynamoDB rejects redundant parentheses)."""
    kind, body = node
    if kind == "leaf":
        text: str = body
        return text
    if kind == "not":
        return f"NOT {_render(body[0], 'not')}"
    text = f" {kind.upper()} ".join(_render(child, kind) for child in body)
    return f"({text})" if parent is not None and parent != kind else text


def _combine(kind: str, children: list[_Node]) -> _Node:
    return children[0] if len(children) == 1 else (kind, children)


def _build(node: Any, fields: Fields, ph: Placeholders, depth: int, counter: list[int]) -> _Node:
    if depth > MAX_FILTER_DEPTH:
        raise BadRequest(f"filter is nested deeper than {MAX_FILTER_DEPTH} levels")
    if not isinstance(node, Mapping) or not node:
        raise BadRequest("filter must be a non-empty object")
    parts: list[_Node] = []
    for key, value in node.items():
        counter[0] += 1
        if counter[0] > MAX_FILTER_TERMS:
            raise BadRequest(f"filter has more than {MAX_FILTER_TERMS} terms")
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise BadRequest(f"filter '{key}' must be a non-empty list")
            parts.append(_combine(key, [_build(v, fields, ph, depth + 1, counter) for v in value]))
        elif key == "not":
            parts.append(("not", [_build(value, fields, ph, depth + 1, counter)]))
        elif key in fields:
            spec = fields.get(key) if isinstance(fields, Mapping) else None
            parts.append(_combine("and", _field_conditions(key, value, ph, spec)))
        else:
            raise BadRequest(f"filter: unknown field '{key}'")
    return _combine("and", parts)


def _scalar(value: Any, where: str) -> Any:
    if isinstance(value, (str, bool, int, float)) and not (isinstance(value, str) and len(value) > 4096):
        return value
    raise BadRequest(f"filter: {where} needs a string, number or boolean")


_ENUM_OPERATORS = frozenset({"eq", "ne"})
_ENUM_LIST_OPERATORS = frozenset({"eq", "ne", "contains", "notContains"})


def _check_enum(spec: FilterField, name: str, op: str, value: Any) -> None:
    """An enum field's operator and value(s), as its ``Model<Enum>(List)Input`` types them."""
    assert spec.enum is not None
    enum, members = spec.enum
    allowed = _ENUM_LIST_OPERATORS if spec.is_list else _ENUM_OPERATORS
    if op not in allowed:
        ops = ", ".join(sorted(allowed))
        raise BadRequest(f"filter: unknown operator '{op}' on '{name}' (an {enum} field: {ops})")
    whole_list = spec.is_list and op in _ENUM_OPERATORS
    values = value if whole_list and isinstance(value, list) else [value]
    if (whole_list and not isinstance(value, list)) or any(v not in members for v in values):
        kind = f"a list of {enum}" if whole_list else enum
        raise BadRequest(f"filter: '{name}.{op}' must be {kind} (one of {', '.join(members)})")


def _field_conditions(name: str, ops: Any, ph: Placeholders, spec: FilterField | None = None) -> list[_Node]:
    if not isinstance(ops, Mapping) or not ops:
        raise BadRequest(f"filter: '{name}' needs an object of operators")
    n = ph.name(name)
    parts: list[str] = []
    for op, value in ops.items():
        where = f"{name}.{op}"
        if spec is not None and spec.enum is not None:
            _check_enum(spec, name, op, value)
            if isinstance(value, list):  # eq/ne of a list of enum members: the whole list
                parts.append(f"{n} {_BINARY[op]} {ph.value(list(value))}")
                continue
        if op in _BINARY:
            parts.append(f"{n} {_BINARY[op]} {ph.value(_scalar(value, where))}")
        elif op in _FUNCTIONS:
            parts.append(_FUNCTIONS[op].format(n=n, v=ph.value(_scalar(value, where))))
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise BadRequest(f"filter: {where} needs a list of two values")
            lo, hi = (ph.value(_scalar(v, where)) for v in value)
            parts.append(f"{n} BETWEEN {lo} AND {hi}")
        elif op == "attributeExists":
            if not isinstance(value, bool):
                raise BadRequest(f"filter: {where} needs a boolean")
            parts.append(f"attribute_exists({n})" if value else f"attribute_not_exists({n})")
        else:
            raise BadRequest(f"filter: unknown operator '{op}' on '{name}'")
    return [("leaf", p) for p in parts]
