"""The store's own wire conversion (a fast path for strings, booleans and whole numbers) writes
and reads exactly what boto3's TypeSerializer / TypeDeserializer (plus the store's Decimal
handling) would, for every JSON value an item can hold."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from modelauth.store import Store, _from_dynamo, _to_dynamo

_ser, _de = TypeSerializer(), TypeDeserializer()
STORE = Store(object(), {}, token_key=b"k")  # type: ignore[arg-type]  # no client call here

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
items = st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=6)


def _boto_dump(item: dict[str, Any]) -> dict[str, Any] | Exception:
    try:
        return {k: _ser.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}
    except Exception as exc:  # what boto3 refuses (e.g. more than 38 digits) the store must refuse
        return exc


@given(items)
def test_dump_writes_what_boto3_writes(item: dict[str, Any]) -> None:
    expected = _boto_dump(item)
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)):
            STORE._dump(item)
    else:
        assert STORE._dump(item) == expected


@given(items)
def test_load_reads_what_boto3_reads(item: dict[str, Any]) -> None:
    wire = _boto_dump(item)
    if isinstance(wire, Exception):
        return
    expected = {}
    for name, value in wire.items():
        read = _de.deserialize(value)
        expected[name] = read if type(read) is str else _from_dynamo(read)
    loaded = STORE._load(wire)
    assert loaded == expected
    assert [type(v) for v in loaded.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize("number", ["0", "-0", "007", "-12", "9" * 38, "1.5", "1E+3", "-1e-2"])
def test_load_numbers_as_boto3_reads_them(number: str) -> None:
    expected = _from_dynamo(_de.deserialize({"N": number}))
    loaded = STORE._load({"n": {"N": number}})["n"]
    assert (loaded, type(loaded)) == (expected, type(expected))


def test_load_refuses_what_boto3_refuses() -> None:
    """More than 38 digits is no DynamoDB number: boto3's context traps it, and so does the store."""
    with pytest.raises(ArithmeticError):
        _de.deserialize({"N": "1" * 39})
    with pytest.raises(ArithmeticError):
        STORE._load({"n": {"N": "1" * 39}})
