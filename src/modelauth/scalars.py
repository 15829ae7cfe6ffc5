"""The GraphQL and AppSync scalar types a model field may have, and a pure check of each format.

AppSync checks these formats before a resolver runs; the REST API and direct Lambda events get
no such check, so :func:`modelauth.validation.check_input` calls :func:`conforms` on every input
value. The formats follow the AppSync scalar reference
(https://docs.aws.amazon.com/appsync/latest/devguide/scalars.html):

============  ===================================================================================
AWSDate       ``YYYY-MM-DD``, a real calendar date, optional offset (``Z``, ``±hh:mm[:ss]``)
AWSTime       ``hh:mm[:ss[.s{1,9}]]``, optional offset
AWSDateTime   ``YYYY-MM-DDThh:mm[:ss[.s{1,9}]]`` and an offset, which is compulsory
AWSTimestamp  an integer: seconds since (negative: before) 1970-01-01T00:00Z
AWSEmail      ``local-part@domain`` (RFC 822 atoms; domain labels of letters, digits, hyphens)
AWSJSON       a string that parses as JSON (RFC 8259: no ``NaN``/``Infinity``)
AWSURL        ``scheme:...`` with a scheme; no ``//`` in the path; a ``//`` authority has a host
AWSPhone      digits in groups split by one space or hyphen, an optional ``(area)`` group and
              leading ``+``; without ``+`` a North American (NANP) number, ``+1`` likewise
AWSIPAddress  IPv4 (dotted quad) or IPv6 (no brackets, no zone), optional ``/prefix`` (CIDR)
============  ===================================================================================

Checks never raise: a value is either of the format or not (strings of any content, any type).

Example::

    >>> conforms("AWSDateTime", "2026-12-03T07:20:36.123Z"), conforms("AWSDateTime", "not a date")
    (True, False)
    >>> conforms("AWSDateTime", "2026-12-03T07:20:36")  # the offset is compulsory
    False
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MAX_STRING_LENGTH", "SCALAR_TYPES", "conforms", "expected"]

MAX_STRING_LENGTH = 65_536  # DynamoDB items are capped at 400 KB; keep one field well below
_MAX_INT32 = 2**31
_MAX_SAFE_INT = 2**53  # what a JSON client (JavaScript) reads back exactly

_DATE = r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
_TIME = r"(?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.[0-9]{1,9})?)?"
_OFFSET = r"(?P<tz>Z|[+-](?P<oh>[0-9]{2}):(?P<om>[0-9]{2})(?::(?P<os>[0-9]{2}))?)"
_AWS_DATE = re.compile(f"{_DATE}{_OFFSET}?")
_AWS_TIME = re.compile(f"{_TIME}{_OFFSET}?")
_AWS_DATETIME = re.compile(f"{_DATE}T{_TIME}{_OFFSET}")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_PHONE = re.compile(r"\+?(?:\([0-9]+\)|[0-9]+)(?:[ -]?\([0-9]+\)[ -]?[0-9]+|[ -][0-9]+)*")
_NANP = re.compile(r"1?[2-9][0-9]{2}[2-9][0-9]{6}")
_CIDR = re.compile(r"[0-9]{1,3}")


def _fields_valid(match: re.Match[str], *, has_date: bool, has_time: bool) -> bool:
    """Calendar date, 24-hour clock and an offset within ±18:00 (what java.time accepts)."""
    if has_date:
        try:
            date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            return False
    if has_time and (int(match["H"]) > 23 or int(match["M"]) > 59 or int(match["S"] or 0) > 59):
        return False
    if match["oh"] is not None:
        hours, minutes, seconds = int(match["oh"]), int(match["om"]), int(match["os"] or 0)
        if minutes > 59 or seconds > 59 or hours * 3600 + minutes * 60 + seconds > 18 * 3600:
            return False
    return True


def _aws_date(text: str) -> bool:
    match = _AWS_DATE.fullmatch(text)
    return match is not None and _fields_valid(match, has_date=True, has_time=False)


def _aws_time(text: str) -> bool:
    match = _AWS_TIME.fullmatch(text)
    return match is not None and _fields_valid(match, has_date=False, has_time=True)


def _aws_datetime(text: str) -> bool:
    match = _AWS_DATETIME.fullmatch(text)
    return match is not None and _fields_valid(match, has_date=True, has_time=True)


def _aws_email(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    return (
        bool(at)
        and len(local) <= 64
        and len(domain) <= 253
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and all(_DOMAIN_LABEL.fullmatch(label) for label in domain.split("."))
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _aws_json(text: str) -> bool:
    try:
        # numbers stay text: only the syntax matters here (and no 4,300-digit int limit applies)
        json.loads(text, parse_int=str, parse_float=str, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; nesting too deep
        return False
    return True


def _aws_url(text: str) -> bool:
    if any(ord(c) <= 32 or ord(c) == 127 for c in text):
        return False
    scheme, colon, rest = text.partition(":")
    if not colon or _URL_SCHEME.fullmatch(scheme) is None or not rest:
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return False
    if rest.startswith("//") and not parts.hostname:
        return False
    return "//" not in parts.path


def _aws_phone(text: str) -> bool:
    if _PHONE.fullmatch(text) is None or text.count("(") > 1:
        return False
    digits = re.sub("[^0-9]", "", text)
    if not text.startswith("+"):
        return _NANP.fullmatch(digits) is not None
    if digits.startswith("1"):
        return len(digits) == 11 and _NANP.fullmatch(digits) is not None
    return 8 <= len(digits) <= 15 and not digits.startswith("0")  # E.164: at most 15 digits


def _aws_ip_address(text: str) -> bool:
    address, slash, prefix = text.partition("/")
    if "%" in address or (slash and _CIDR.fullmatch(prefix) is None):
        return False
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True


def _is_int(value: Any, bound: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -bound <= value < bound


def _is_string(value: Any) -> bool:
    """At most 64 KiB of UTF-8 text: a lone surrogate (JSON can spell one) is no character."""
    if not isinstance(value, str) or len(value) > MAX_STRING_LENGTH:
        return False
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def _string_format(check: Callable[[str], bool]) -> Callable[[Any], bool]:
    return lambda value: _is_string(value) and check(value)


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "ID": _is_string,
    "String": _is_string,
    "Int": lambda value: _is_int(value, _MAX_INT32),
    "Float": lambda value: (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ),
    "Boolean": lambda value: isinstance(value, bool),
    "AWSDate": _string_format(_aws_date),
    "AWSTime": _string_format(_aws_time),
    "AWSDateTime": _string_format(_aws_datetime),
    "AWSTimestamp": lambda value: _is_int(value, _MAX_SAFE_INT),
    "AWSEmail": _string_format(_aws_email),
    "AWSJSON": _string_format(_aws_json),
    "AWSURL": _string_format(_aws_url),
    "AWSPhone": _string_format(_aws_phone),
    "AWSIPAddress": _string_format(_aws_ip_address),
}

#: every scalar a :class:`~modelauth.rules.Field` may have
SCALAR_TYPES = frozenset(_CHECKS)

_EXPECTED = {
    "ID": "ID (at most 64 KiB)",
    "String": "String (at most 64 KiB)",
    "Int": "Int (a whole number from -2^31 to 2^31-1)",
    "Float": "Float (a finite number)",
    "Boolean": "Boolean",
    "AWSDate": "AWSDate (YYYY-MM-DD, optional offset Z or ±hh:mm)",
    "AWSTime": "AWSTime (hh:mm:ss.sss, optional offset Z or ±hh:mm)",
    "AWSDateTime": "AWSDateTime (YYYY-MM-DDThh:mm:ss.sssZ; the offset Z or ±hh:mm is required)",
    "AWSTimestamp": "AWSTimestamp (whole seconds since 1970-01-01T00:00Z)",
    "AWSEmail": "AWSEmail (local-part@domain)",
    "AWSJSON": "AWSJSON (a string holding valid JSON)",
    "AWSURL": "AWSURL (scheme:..., no '//' in the path)",
    "AWSPhone": "AWSPhone (digits grouped by spaces or hyphens, optional +country code)",
    "AWSIPAddress": "AWSIPAddress (IPv4 or IPv6, optional /prefix)",
}


def conforms(type_name: str, value: Any) -> bool:
    """Is ``value`` (as JSON decoded it) a valid ``type_name`` input? Never raises.

    >>> conforms("AWSJSON", '{"upvotes": 10}'), conforms("AWSJSON", "{a: 1}")
    (True, False)
    """
    check = _CHECKS.get(type_name)
    return check is not None and check(value)


def expected(type_name: str) -> str:
    """What a value of ``type_name`` looks like, for error messages.

    >>> expected("AWSEmail")
    'AWSEmail (local-part@domain)'
    """
    return _EXPECTED.get(type_name, type_name)
