"""API keys: stored hashed, each with an expiry, two valid at once during a rotation, and an
expired key refused with a reason that names the expiry - in every caller's format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelauth.apikeys import (
    ApiKeyExpired,
    ApiKeyRecord,
    StaticApiKeys,
    UnknownApiKey,
    hash_api_key,
    main,
    new_api_key,
    parse_records,
)
from modelauth.authorizer import CallerKind, LambdaAuthorizer, TokenVerifier
from modelauth.errors import Unauthenticated
from tests.authz import authorizer_event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OLD_KEY, OLD = new_api_key("partner-a-2026-08", NOW + timedelta(days=3))
NEW_KEY, NEW = new_api_key("partner-a-2026-11", NOW + timedelta(days=90))
GONE_KEY, GONE = new_api_key("partner-b-2026-05", datetime(2026, 11, 1, tzinfo=UTC))


def keys(*records: ApiKeyRecord, now: datetime = NOW) -> StaticApiKeys:
    return StaticApiKeys(records, clock=lambda: now)


def test_only_the_hash_is_stored() -> None:
    assert NEW_KEY.startswith("mak_")
    assert len(NEW_KEY) == 47
    assert NEW.sha256 == hash_api_key(NEW_KEY)
    assert NEW_KEY not in json.dumps(NEW.as_json())


def test_both_keys_work_during_a_rotation_and_the_old_one_stops_when_removed() -> None:
    rotating = keys(OLD, NEW)
    assert rotating.check(OLD_KEY).key_id == "partner-a-2026-08"
    assert rotating.check(NEW_KEY).key_id == "partner-a-2026-11"

    rotated = keys(NEW)
    assert rotated.check(NEW_KEY).key_id == "partner-a-2026-11"
    with pytest.raises(UnknownApiKey):
        rotated.check(OLD_KEY)


def test_an_expired_key_is_refused_naming_its_expiry() -> None:
    with pytest.raises(ApiKeyExpired) as refused:
        keys(GONE).check(GONE_KEY)
    assert refused.value.message == "API key partner-b-2026-05 expired at 2026-11-01T00:00:00Z"
    assert refused.value.http_status == 403


def test_a_key_stops_at_its_expiry_instant() -> None:
    with pytest.raises(ApiKeyExpired):
        keys(OLD, now=OLD.expires).check(OLD_KEY)
    assert keys(OLD, now=OLD.expires - timedelta(seconds=1)).check(OLD_KEY)


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "k", "sha256": "0" * 64},  # no expiry: every key must expire
        {"id": "k", "sha256": "0" * 64, "expires": "2027-01-01T00:00:00"},  # no timezone
        {"id": "k", "sha256": "0" * 64, "expires": "next tuesday"},
        {"id": "k", "sha256": "ABC", "expires": "2027-01-01T00:00:00Z"},
        {"id": 'k"><script>', "sha256": "0" * 64, "expires": "2027-01-01T00:00:00Z"},
        "not an object",
    ],
)
def test_invalid_records_are_ignored_not_trusted(raw: Any) -> None:
    valid = NEW.as_json()
    assert parse_records({"keys": [raw, valid]}) == (NEW,)


def test_an_invalid_document_is_an_error() -> None:
    with pytest.raises(ValueError, match="keys"):
        parse_records([NEW.as_json()])


def test_minting_cli_prints_the_key_once_and_its_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["partner-c", "--days", "30"]) == 0
    out = capsys.readouterr().out
    key = out.split("not stored anywhere): ")[1].split()[0]
    record = json.loads(out.split('"keys" list): ')[1])
    assert record["sha256"] == hash_api_key(key)
    assert record["id"] == "partner-c"


# ----------------------------------------------------------------------------- through the authorizer


def authorizer(store: StaticApiKeys | None) -> LambdaAuthorizer:
    return LambdaAuthorizer(TokenVerifier([], api_keys=store), clock=NOW.timestamp)


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
def test_a_valid_key_is_an_api_key_caller_for_every_gateway(kind: CallerKind) -> None:
    answer = authorizer(keys(OLD, NEW)).handle(authorizer_event(kind, NEW_KEY))
    context = {"authMethod": "apiKey", "apiKeyId": "partner-a-2026-11"}
    if kind is CallerKind.APPSYNC:
        assert answer["isAuthorized"] is True
        assert answer["resolverContext"] == context
        assert answer["ttlOverride"] == 60
    elif kind is CallerKind.HTTP_V2:
        assert answer == {"isAuthorized": True, "context": context}
    else:
        assert answer["principalId"] == "apikey:partner-a-2026-11"
        assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
def test_an_expired_key_is_a_clear_denial_never_an_error(kind: CallerKind) -> None:
    answer = authorizer(keys(GONE)).handle(authorizer_event(kind, f"Bearer {GONE_KEY}"))
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        # a known credential that may no longer be used: 403 with the reason (ACCESS_DENIED
        # gateway response shows it), not the bare 401 of an unknown credential
        assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        assert answer["context"] == {"reason": "API key partner-b-2026-05 expired at 2026-11-01T00:00:00Z"}
    else:
        assert answer == {"isAuthorized": False}


@pytest.mark.parametrize("kind", [CallerKind.REST_TOKEN, CallerKind.REST_REQUEST], ids=str)
def test_unknown_keys_and_disabled_keys_are_401(kind: CallerKind) -> None:
    for store in (keys(NEW), None):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer(store).handle(authorizer_event(kind, OLD_KEY))


def test_an_api_key_caller_has_no_owner_identity() -> None:
    caller = TokenVerifier([], api_keys=keys(NEW)).verify(NEW_KEY)
    principal = caller.principal()
    assert (principal.sub, principal.username) == (None, None)
    assert caller.expires_at == NEW.expires.timestamp()


def test_keys_are_never_tried_as_jwts_and_jwts_never_as_keys() -> None:
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier([], api_keys=keys(NEW)).verify("mak_eyJhbGciOiJSUzI1NiJ9.e30.x")
    assert refused.value.reason == "unknown API key"
