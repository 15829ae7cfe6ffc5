"""API keys for the Lambda authorizer: stored hashed, each with an expiry, rotated by overlap.

A key is ``mak_`` + 43 random URL-safe characters (256 bits), shown once when minted. Only its
SHA-256 is stored: a key has full entropy, so a fast hash is as strong as a slow one here, and a
leaked store reveals no usable key. The records live in **SSM Parameter Store** (one JSON
parameter, read through Powertools' cached ``SSMProvider``; a few keys per API, rotated without
a deploy) or, for local runs, inline in an environment variable::

    {"keys": [{"id": "partner-a-2026-11", "sha256": "<hex>", "expires": "2027-02-01T00:00:00Z"}]}

Rotation: add the new key's record, ship the key, remove the old record once clients moved; both
keys are valid in between. A record without a valid expiry is ignored (every key expires).
An expired key is refused with a reason that names the expiry, never a 500.

Example::

    >>> from datetime import UTC, datetime, timedelta
    >>> key, record = new_api_key("ci", datetime.now(UTC) + timedelta(days=30))
    >>> keys = StaticApiKeys([record])
    >>> keys.check(key).key_id
    'ci'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from modelauth.errors import Unauthenticated, Unauthorized

__all__ = [
    "API_KEY_PREFIX",
    "ApiKeyExpired",
    "ApiKeyRecord",
    "ApiKeyStore",
    "ApiKeysUnavailable",
    "SsmApiKeys",
    "StaticApiKeys",
    "UnknownApiKey",
    "hash_api_key",
    "looks_like_api_key",
    "new_api_key",
    "parse_records",
]

logger = Logger(service="modelauth")

API_KEY_PREFIX = "mak_"
_KEY_BODY = re.compile(r"[A-Za-z0-9_-]{32,128}")
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # shown in denials: no quotes, spaces or markup
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class UnknownApiKey(Unauthenticated):
    """No record matches the key (wrong, revoked or never issued)."""


class ApiKeyExpired(Unauthorized):
    """The key is known but expired: a valid credential that may no longer be used."""


class ApiKeysUnavailable(Unauthenticated):
    """The key records could not be read: deny every key until they can (transient)."""

    transient = True


def looks_like_api_key(credential: str) -> bool:
    """Whether a credential has the API-key shape (so it is never tried as a JWT)."""
    return credential.startswith(API_KEY_PREFIX)


def hash_api_key(key: str) -> str:
    """The stored form of a key: lower-case hex SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One stored key: its public id, the SHA-256 of the key and when it stops working."""

    key_id: str
    sha256: str
    expires: datetime

    def as_json(self) -> dict[str, str]:
        expires = self.expires.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {"id": self.key_id, "sha256": self.sha256, "expires": expires}


def new_api_key(key_id: str, expires: datetime) -> tuple[str, ApiKeyRecord]:
    """A fresh key and the record to store (the key itself is never stored)."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("key ids are 1-64 characters of A-Z a-z 0-9 . _ -")
    if expires.tzinfo is None:
        raise ValueError("expires must be timezone-aware")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, ApiKeyRecord(key_id, hash_api_key(key), expires)


def _parse_record(raw: Any) -> ApiKeyRecord:
    if not isinstance(raw, Mapping):
        raise ValueError("a record must be an object")
    key_id, digest, expires = raw.get("id"), raw.get("sha256"), raw.get("expires")
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("'id' must be 1-64 characters of A-Z a-z 0-9 . _ -")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise ValueError(f"{key_id}: 'sha256' must be 64 lower-case hex digits")
    if not isinstance(expires, str):
        raise ValueError(f"{key_id}: 'expires' is required (ISO 8601, e.g. 2027-01-31T00:00:00Z)")
    when = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{key_id}: 'expires' needs a timezone (Z or +hh:mm)")
    return ApiKeyRecord(key_id, digest, when)


def parse_records(document: Any) -> tuple[ApiKeyRecord, ...]:
    """Records from ``{"keys": [...]}``; invalid ones are logged and left out (fail closed)."""
    raw_keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(raw_keys, list):
        raise ValueError('the API key document must be {"keys": [...]}')
    records = []
    for raw in raw_keys:
        try:
            records.append(_parse_record(raw))
        except ValueError as exc:
            logger.error("ignoring an invalid API key record", extra={"problem": str(exc)})
    return tuple(records)


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKeyStore(Protocol):
    """What the authorizer asks: is this key valid? (:class:`StaticApiKeys`, :class:`SsmApiKeys`)"""

    def check(self, key: str) -> ApiKeyRecord: ...


class _Checker:
    """``check(key)`` over the records a subclass provides, with an injectable clock."""

    clock: Callable[[], datetime]

    def records(self) -> Sequence[ApiKeyRecord]:
        raise NotImplementedError

    def check(self, key: str) -> ApiKeyRecord:
        """The record of a valid key; :class:`UnknownApiKey` or :class:`ApiKeyExpired` otherwise."""
        digest = hash_api_key(key)
        found = None
        for record in self.records():  # compare against every record: no early exit to time
            if hmac.compare_digest(record.sha256, digest):
                found = record
        if found is None:
            raise UnknownApiKey("Unauthorized", reason="unknown API key")
        if self.clock() >= found.expires:
            expired = found.as_json()["expires"]
            raise ApiKeyExpired(
                f"API key {found.key_id} expired at {expired}",
                reason=f"API key {found.key_id} expired at {expired}",
            )
        return found


class StaticApiKeys(_Checker):
    """Records given directly (tests, local runs, or ``MODELAUTH_API_KEYS`` inline JSON)."""

    def __init__(self, records: Iterable[ApiKeyRecord], *, clock: Callable[[], datetime] = _now) -> None:
        self._records = tuple(records)
        self.clock = clock

    @classmethod
    def from_json(cls, text: str, *, clock: Callable[[], datetime] = _now) -> StaticApiKeys:
        return cls(parse_records(json.loads(text)), clock=clock)

    def records(self) -> Sequence[ApiKeyRecord]:
        return self._records


class SsmApiKeys(_Checker):
    """Records in one SSM parameter (String or SecureString), cached for ``max_age`` seconds.

    A key removed from the parameter stops working within ``max_age`` (plus the gateways'
    authorizer cache TTL). A missing or unreadable parameter denies every key.
    """

    def __init__(
        self,
        parameter_name: str,
        *,
        provider: Any = None,
        max_age: int = 60,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        # None: Powertools' SSMProvider, made on the first API key. It builds a boto3 client,
        # which was three quarters of the authorizer's cold start (bench/: 354 ms vs 84 ms for
        # PyJWT + PyJWKClient) while most requests carry a JWT and never read the parameter.
        self._provider = provider
        self.parameter_name = parameter_name
        self.max_age = max_age
        self.clock = clock

    def records(self) -> Sequence[ApiKeyRecord]:
        from aws_lambda_powertools.utilities.parameters.exceptions import (
            GetParameterError,
            TransformParameterError,
        )
        from botocore.exceptions import BotoCoreError

        try:
            if self._provider is None:
                from aws_lambda_powertools.utilities.parameters import SSMProvider

                self._provider = SSMProvider()
            document = self._provider.get(
                self.parameter_name, max_age=self.max_age, transform="json", decrypt=True
            )
            return parse_records(document)
        except (GetParameterError, TransformParameterError, ValueError, BotoCoreError) as exc:
            raise ApiKeysUnavailable(
                "Unauthorized", reason=f"API key parameter {self.parameter_name} unreadable: {exc}"
            ) from exc


def main(argv: list[str] | None = None) -> int:
    """``python -m modelauth.apikeys <id> [--days N]``: mint a key; prints it and its record."""
    import argparse
    from datetime import timedelta

    parser = argparse.ArgumentParser(prog="python -m modelauth.apikeys", description=main.__doc__)
    parser.add_argument("key_id")
    parser.add_argument("--days", type=int, default=90, choices=range(1, 366), metavar="1..365")
    args = parser.parse_args(argv)
    key, record = new_api_key(args.key_id, datetime.now(UTC) + timedelta(days=args.days))
    print(f"key (give it to the client; it is not stored anywhere): {key}")
    print(f'record (add it to the parameter\'s "keys" list): {json.dumps(record.as_json())}')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
