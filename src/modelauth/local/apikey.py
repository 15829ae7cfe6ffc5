"""The AppSync API key of a deployed stack: the expiry to deploy with, renewal and a check.

AppSync API keys (``allow.publicApiKey()``'s API_KEY mode) expire: after 7 days when the
template gives no ``ExpiresOn``, at most 365 days after they are created or updated. CloudFormation
cannot compute "now + N days", so ``make deploy`` passes ``ApiKeyExpiresOn`` from
:func:`expires_on`, and :func:`renew` extends a key in place with ``appsync:UpdateApiKey`` (the
key string stays the same, so clients keep working). ``modelauth api-key-expiry`` and
``modelauth rotate-api-key`` are the commands (see modelauth.local.cli).

Example::

    >>> expires_on(365, now=1_700_000_000)  # on the hour, never past AppSync's 365 days
    1731535200
    >>> expires_on(0)
    Traceback (most recent call last):
    ...
    modelauth.local.apikey.ApiKeyError: --days must be 1..365 (AppSync's limits for an API key), got 0
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_DAYS",
    "MIN_DAYS",
    "ApiKeyError",
    "KeyStatus",
    "api_id_of_stack",
    "deploy_overrides",
    "expires_on",
    "key_status",
    "renew",
]

MIN_DAYS, MAX_DAYS = 1, 365  # AppSync's bounds, from the key's creation or last update
DAY, HOUR = 86_400, 3_600
API_ID_OUTPUT = "GraphQLApiId"  # the templates' output naming the AppSync API
PARAMETER = "ApiKeyExpiresOn"  # the templates' parameter feeding DefaultApiKey's ExpiresOn


class ApiKeyError(Exception):
    """Bad input or an AWS refusal; the message is one line saying what went wrong."""


@dataclass(frozen=True)
class KeyStatus:
    """One API key of an API: its id (the key itself), expiry and days left at ``now``."""

    id: str
    expires: int
    days_left: float

    def line(self) -> str:
        """``da2-abcd...: 12.5 days left (expires 2026-12-15T10:00:00Z)``; the id shortened for logs.

        >>> KeyStatus("da2-abcdefghijklmnop", 1_700_002_800, 2.5).line()
        'da2-abcd...: 2.5 days left (expires 2023-11-14T23:00:00Z)'
        """
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires))
        left = f"{self.days_left:.1f} days left" if self.days_left >= 0 else "EXPIRED"
        return f"{self.id[:8]}...: {left} (expires {when})"


def expires_on(days: int, *, now: float | None = None) -> int:
    """Epoch seconds ``days`` from ``now``, on the hour (AppSync rounds down to one): rounded up,
    so never shorter than asked, but never past ``now`` + 365 days (AppSync rejects that).

    >>> expires_on(30, now=1_700_000_000) - 1_700_000_000 - 30 * 86_400
    2800
    """
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ApiKeyError(
            f"--days must be {MIN_DAYS}..{MAX_DAYS} (AppSync's limits for an API key), got {days}"
        )
    start = time.time() if now is None else now
    wanted = -(-int(start + days * DAY) // HOUR) * HOUR
    limit = int(start + MAX_DAYS * DAY) // HOUR * HOUR
    return min(wanted, limit)


def deploy_overrides(root: Path, env: str, days: int, *, now: float | None = None) -> str:
    """``sam deploy --parameter-overrides`` for samconfig.toml's ``env`` plus a fresh
    ``ApiKeyExpiresOn``: an override on the command line replaces samconfig's whole
    ``parameter_overrides``, so the Makefile passes both.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> config = '[ci.deploy.parameters]\\nparameter_overrides = "Stage=prod"\\n'
    >>> _ = (root / "samconfig.toml").write_text(config)
    >>> deploy_overrides(root, "ci", 365, now=1_700_000_000)
    'Stage=prod ApiKeyExpiresOn=1731535200'
    """
    path = root / "samconfig.toml"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        config = {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ApiKeyError(f"{path}: not readable TOML ({exc})") from exc
    if env != "default" and env not in config:
        raise ApiKeyError(f"{path} has no [{env}.*] environment (sam deploy --config-env {env} would fail)")
    sections = config.get(env, {})
    # as SAM CLI reads it: [env.deploy.parameters] over [env.global.parameters]
    merged = {
        **sections.get("global", {}).get("parameters", {}),
        **sections.get("deploy", {}).get("parameters", {}),
    }
    value = merged.get("parameter_overrides", [])
    existing = [value] if isinstance(value, str) else [str(v) for v in value]
    if any(item.split("=", 1)[0].strip() == PARAMETER for text in existing for item in text.split()):
        raise ApiKeyError(f"{path} [{env}] sets {PARAMETER}: remove it, the deploy computes it")
    return " ".join([*existing, f"{PARAMETER}={expires_on(days, now=now)}"])


def api_id_of_stack(cloudformation: Any, stack: str) -> str:
    """The AppSync API id of a deployed stack (its ``GraphQLApiId`` output)."""
    try:
        (description,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except _aws_errors() as exc:
        raise ApiKeyError(f"cannot read stack {stack!r} ({_reason(exc)})") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    if API_ID_OUTPUT not in outputs:
        raise ApiKeyError(f"stack {stack!r} has no {API_ID_OUTPUT} output: pass --api-id")
    return str(outputs[API_ID_OUTPUT])


def _keys(appsync: Any, api_id: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
    try:
        appsync.get_graphql_api(apiId=api_id)  # ListApiKeys may answer [] for an unknown API
        for page in appsync.get_paginator("list_api_keys").paginate(apiId=api_id):
            keys += page["apiKeys"]
    except _aws_errors() as exc:
        raise ApiKeyError(f"cannot list the API keys of AppSync API {api_id!r} ({_reason(exc)})") from exc
    if not keys:
        raise ApiKeyError(f"AppSync API {api_id!r} has no API key (does it allow API_KEY?)")
    return keys


def key_status(appsync: Any, api_id: str, *, now: float | None = None) -> list[KeyStatus]:
    """Every API key of the API with its days left."""
    start = time.time() if now is None else now
    return [_status(key, start) for key in _keys(appsync, api_id)]


def _status(key: dict[str, Any], now: float) -> KeyStatus:
    return KeyStatus(str(key["id"]), int(key["expires"]), (int(key["expires"]) - now) / DAY)


def renew(appsync: Any, api_id: str, days: int, *, now: float | None = None) -> list[KeyStatus]:
    """Extend every API key of the API to ``days`` from now (UpdateApiKey: same key string)."""
    start = time.time() if now is None else now
    expires = expires_on(days, now=start)
    renewed = []
    for key in _keys(appsync, api_id):
        try:
            answer = appsync.update_api_key(apiId=api_id, id=key["id"], expires=expires)["apiKey"]
        except _aws_errors() as exc:
            raise ApiKeyError(f"cannot renew API key {str(key['id'])[:8]}... ({_reason(exc)})") from exc
        renewed.append(_status(answer, start))
    return renewed


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code')}: {error.get('Message')}"
    return f"{type(exc).__name__}: {exc}"
