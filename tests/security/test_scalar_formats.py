"""Properties of the AppSync scalar format checks (issue 16.7), generated with hypothesis.

- a value generated in the format AppSync documents is accepted, for every scalar;
- the same value, broken in a way that leaves the format (an offset dropped, a letter in a phone
  number, a scheme removed, ...), is refused;
- anything else a JSON request can carry is refused or accepted, never an exception: the check
  returns a bool, and an input object gets :class:`BadRequest` or its validated values.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from modelauth.errors import BadRequest
from modelauth.scalars import SCALAR_TYPES, conforms
from modelauth.validation import check_input
from tests.security.test_input_checks import READING

PROPERTY = settings(max_examples=150, deadline=None)

# -- valid values, as AppSync's reference describes them ----------------------------------------


def _offset(delta: timedelta, with_seconds: bool) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    text = f"{sign}{hours:02}:{rest // 60:02}"
    return text + (f":{rest % 60:02}" if with_seconds else "")


OFFSETS = st.just("Z") | st.builds(
    _offset,
    st.timedeltas(min_value=timedelta(hours=-18), max_value=timedelta(hours=18)).map(
        lambda d: timedelta(seconds=int(d.total_seconds()))
    ),
    st.booleans(),
)


@st.composite
def clock_times(draw: st.DrawFn) -> str:
    """``hh:mm``, ``hh:mm:ss`` or ``hh:mm:ss.s{1,9}``."""
    t = draw(st.times())
    text = f"{t.hour:02}:{t.minute:02}"
    precision = draw(st.sampled_from(["minutes", "seconds", "fraction"]))
    if precision != "minutes":
        text += f":{t.second:02}"
    if precision == "fraction":
        text += "." + draw(st.text("0123456789", min_size=1, max_size=9))
    return text


AWS_DATES = st.builds(lambda d, tz: d.isoformat() + tz, st.dates(), st.just("") | OFFSETS)
AWS_TIMES = st.builds(lambda t, tz: t + tz, clock_times(), st.just("") | OFFSETS)
AWS_DATETIMES = st.builds(lambda d, t, tz: f"{d.isoformat()}T{t}{tz}", st.dates(), clock_times(), OFFSETS)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
AWS_JSON = st.builds(json.dumps, JSON_VALUES)


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """A North American number in one of the usual spellings, or an international one."""
    if draw(st.booleans()):
        area = draw(st.sampled_from("23456789")) + draw(_digits(2))
        exchange = draw(st.sampled_from("23456789")) + draw(_digits(2))
        line = draw(_digits(4))
        spelling = draw(st.sampled_from(["({a}) {e}-{l}", "{a}-{e}-{l}", "{a} {e} {l}", "{a}{e}{l}"]))
        prefix = draw(st.sampled_from(["", "+1 ", "1-", "+1"]))
        return prefix + spelling.format(a=area, e=exchange, l=line)
    country = draw(st.sampled_from(["44", "49", "33", "81", "61", "91", "353"]))
    groups = draw(st.lists(st.integers(2, 4).flatmap(_digits), min_size=2, max_size=4))
    separator = draw(st.sampled_from([" ", "-"]))
    number = country + "".join(groups)
    if not 8 <= len(number) <= 15:
        number = (country + "2" + "0" * 9)[:12]
        groups = [number[len(country) :]]
    return "+" + country + " " + separator.join(groups)


@st.composite
def ip_addresses(draw: st.DrawFn) -> str:
    address = draw(st.ip_addresses())
    if not draw(st.booleans()):
        return str(address)
    return f"{address}/{draw(st.integers(0, address.max_prefixlen))}"


VALID: dict[str, st.SearchStrategy[Any]] = {
    "ID": st.text(max_size=50),
    "String": st.text(max_size=50),
    "Int": st.integers(-(2**31), 2**31 - 1),
    "Float": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
    "Boolean": st.booleans(),
    "AWSDate": AWS_DATES,
    "AWSTime": AWS_TIMES,
    "AWSDateTime": AWS_DATETIMES,
    "AWSTimestamp": st.integers(-(2**53) + 1, 2**53 - 1),
    "AWSEmail": st.emails(),
    "AWSJSON": AWS_JSON,
    "AWSURL": urls().filter(lambda url: "//" not in urlsplit(url).path),  # AppSync refuses those
    "AWSPhone": phones(),
    "AWSIPAddress": ip_addresses(),
}


def test_every_field_type_has_a_generator() -> None:
    assert set(VALID) == SCALAR_TYPES


@pytest.mark.parametrize("type_name", sorted(VALID))
@PROPERTY
@given(data=st.data())
def test_values_in_the_documented_format_are_accepted(type_name: str, data: st.DataObject) -> None:
    value = data.draw(VALID[type_name], label=type_name)
    assert conforms(type_name, value), value


# -- the same values, broken ----------------------------------------------------------------------


def _month_13(text: str) -> str:
    return text[:5] + "13" + text[7:]


def _drop_offset(text: str) -> str:
    for marker in ("Z", "+", "-"):
        index = text.rfind(marker, 11)  # after the date's own hyphens
        if index != -1:
            return text[:index]
    return text


def _hour_24(text: str) -> str:
    return "24" + text[2:]


BROKEN: dict[str, list[tuple[str, Any]]] = {
    "AWSDate": [
        ("month 13", _month_13),
        ("slashes", lambda s: s.replace("-", "/", 2)),
        ("a letter", lambda s: s + "x"),
    ],
    "AWSTime": [
        ("hour 24", _hour_24),
        ("no colon", lambda s: s.replace(":", "", 1)),
        ("a letter", lambda s: "T" + s),
    ],
    "AWSDateTime": [
        ("no offset", _drop_offset),
        ("a space for T", lambda s: s.replace("T", " ", 1)),
        ("month 13", _month_13),
    ],
    "AWSTimestamp": [("as text", str), ("a fraction", lambda n: n + 0.5)],
    "AWSEmail": [
        ("no @", lambda s: s.replace("@", "", 1)),
        ("two @", lambda s: s.replace("@", "@@", 1)),
        ("empty label", lambda s: s + "."),
    ],
    "AWSJSON": [("unclosed object", lambda s: "{" + s), ("trailing word", lambda s: s + " x")],
    "AWSURL": [
        ("no scheme", lambda s: s[s.index(":") :]),
        ("a space", lambda s: s.replace(":", ": ", 1)),
        ("no host", lambda s: s[: s.index("//") + 2]),
    ],
    "AWSPhone": [
        ("a letter", lambda s: s + "x"),
        ("two separators", lambda s: s.replace(" ", "  ", 1) + "--1"),
    ],
    "AWSIPAddress": [("a bad prefix", lambda s: s + "/999"), ("a zone", lambda s: s.split("/")[0] + "%eth0")],
    "Int": [("too large", lambda n: n + 2**32), ("as text", str)],
    "Boolean": [("as text", lambda b: str(b).lower())],
}
CASES = [(type_name, name, breaker) for type_name, rows in BROKEN.items() for name, breaker in rows]


@pytest.mark.parametrize(("type_name", "name", "breaker"), CASES, ids=[f"{t}-{n}" for t, n, _ in CASES])
@PROPERTY
@given(data=st.data())
def test_the_same_values_broken_are_refused(
    type_name: str, name: str, breaker: Any, data: st.DataObject
) -> None:
    value = data.draw(VALID[type_name], label=type_name)
    broken = breaker(value)
    assert not conforms(type_name, broken), (value, broken)


# -- anything else: a bool, or BadRequest -------------------------------------------------------

ANY_JSON = JSON_VALUES | st.text(st.characters(), max_size=40) | st.floats() | st.integers()


@pytest.mark.parametrize("type_name", sorted(SCALAR_TYPES))
@PROPERTY
@given(value=ANY_JSON)
def test_any_value_is_judged_without_an_exception(type_name: str, value: Any) -> None:
    assert conforms(type_name, value) in (True, False)


@PROPERTY
@given(
    data=st.dictionaries(
        st.sampled_from([f.name for f in READING.fields]),
        ANY_JSON | st.sampled_from(["2026-12-03", "a@b.c", "1.2.3.4", "{}", "12:00Z"]),
        max_size=6,
    )
)
def test_an_input_object_is_validated_or_refused_with_bad_request(data: dict[str, Any]) -> None:
    refused: BadRequest | None = None
    try:
        values = check_input(READING, data, "CreateReadingInput")
    except BadRequest as exc:  # anything else fails the test with its traceback
        refused, values = exc, {}
    if refused is not None:
        assert refused.message.startswith("CreateReadingInput: '"), refused.message
    for name, value in values.items():
        field = READING.field(name)
        assert field is not None
        assert value is None or conforms(field.type, value)
