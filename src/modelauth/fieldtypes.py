"""Field types beyond the scalars: enums and custom (non-model) types, as Amplify Gen 2's
``a.enum([...])`` and ``a.customType({...})``.

Either is given as a :class:`~modelauth.rules.Field`'s ``type``; the schema collects every one its
models reach (through nested custom types too) and the SDL defines each once: ``enum Status``,
``type Address`` and ``input AddressInput``. Values are checked by :mod:`modelauth.validation`
(enum members; custom types recursively: required inner fields, scalar formats, no unknown keys)
and stored as DynamoDB strings, maps and lists.

Example::

    >>> from modelauth.rules import Field
    >>> STATUS = Enum("Status", ["OPEN", "DONE"])
    >>> ADDRESS = CustomType("Address", fields=[Field("street"), Field("city", required=True)])
    >>> Field("status", STATUS, default="OPEN").type_name, Field("home", ADDRESS).type_name
    ('Status', 'Address')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelauth.rules import Field

__all__ = ["CustomType", "Enum", "FieldType"]

_ENUM_VALUE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_RESERVED_VALUES = ("true", "false", "null")


@dataclass(frozen=True, slots=True)
class Enum:
    """A GraphQL enum: a field of this type holds one of ``values`` (Gen 2 ``a.enum``).

    >>> Enum("Priority", ["LOW", "HIGH"]).values
    ('LOW', 'HIGH')
    """

    name: str
    values: Sequence[str]

    def __post_init__(self) -> None:
        from modelauth.rules import SchemaError, check_type_name

        object.__setattr__(self, "values", tuple(self.values))
        check_type_name(self.name, "enum name")
        if isinstance(self.values, str) or not self.values:
            raise SchemaError(f"enum {self.name}: give a non-empty list of values")
        for value in self.values:
            if not isinstance(value, str) or not _ENUM_VALUE.match(value) or value in _RESERVED_VALUES:
                raise SchemaError(
                    f"enum {self.name}: value {value!r} is not a GraphQL enum value (letters, digits "
                    "and _, not starting with a digit; not true, false or null)"
                )
        if len(set(self.values)) != len(self.values):
            raise SchemaError(f"enum {self.name}: duplicate values")


@dataclass(frozen=True, slots=True)
class CustomType:
    """A non-model type: a nested object of ``fields`` stored in the item as a DynamoDB map
    (Gen 2 ``a.customType``). Its fields may be required, lists, enums or custom types again;
    they take no rules (the model's or the field's govern the whole object) and no defaults.

    >>> from modelauth.rules import Field
    >>> CustomType("Point", fields=[Field("x", "Float", required=True)]).input_name
    'PointInput'
    """

    name: str
    fields: Sequence[Field]

    def __post_init__(self) -> None:
        from modelauth.rules import SchemaError, check_type_name

        object.__setattr__(self, "fields", tuple(self.fields))
        check_type_name(self.name, "custom type name")
        if not self.fields:
            raise SchemaError(f"custom type {self.name}: give at least one field")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise SchemaError(f"custom type {self.name}: duplicate field names")
        for f in self.fields:
            if f.rules is not None:
                raise SchemaError(
                    f"custom type {self.name}.{f.name}: fields of a custom type take no rules (put "
                    "them on the model field that holds it)"
                )
            if f.default is not None:
                raise SchemaError(
                    f"custom type {self.name}.{f.name}: The @default directive may only be added to "
                    "object definitions annotated with @model."
                )

    @property
    def input_name(self) -> str:
        """The GraphQL input type create and update inputs use for it."""
        return f"{self.name}Input"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


#: what a :class:`~modelauth.rules.Field`'s ``type`` may be: a scalar's name, an enum or a custom type
FieldType = str | Enum | CustomType
