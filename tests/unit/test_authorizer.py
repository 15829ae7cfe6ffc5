"""The authorizer's plumbing: which caller sent an event, where the credential is, configuration,
the verified-token cache, deniedFields from the rules, and failing closed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelauth.authorizer import (
    Caller,
    CallerKind,
    Issuer,
    LambdaAuthorizer,
    LruTokenCache,
    TokenVerifier,
    credential_of,
    detect_caller,
    unreachable_fields,
)
from modelauth.errors import Unauthenticated
from modelauth.identity import AuthMode, Principal
from modelauth.jwks import JwksUnavailable
from modelauth.rules import Field, Model, Schema, allow
from tests.authz import EVENT_NAMES, TestIssuer, authorizer_event
from tests.conftest import load_event
from tests.fixtures.schema import SCHEMA
from tests.unit.test_authorizer_tokens import CLIENT, POOL, POOL_ID, access_token

# ----------------------------------------------------------------------------- callers


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
def test_each_sample_event_is_recognised_as_its_caller(kind: CallerKind) -> None:
    assert detect_caller(load_event(EVENT_NAMES[kind])) is kind


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "Bearer x",
        {},
        {"authorizationToken": "x"},  # AppSync needs requestContext.apiId
        {"authorizationToken": "x", "requestContext": {"accountId": "1"}},
        {"type": "TOKEN", "authorizationToken": "x"},  # REST needs a methodArn
        {"type": "WEIRD", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a/b/GET/x"},
        {"version": "2.0", "type": "REQUEST"},  # HTTP API needs a routeArn
        {"arguments": {}, "identity": None, "info": {}},  # a resolver event sent to the authorizer
    ],
)
def test_events_of_no_known_caller_are_denied(event: Any) -> None:
    assert detect_caller(event) is None
    authorizer = LambdaAuthorizer(TokenVerifier([]))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.handle(event)


def test_http_api_payload_1_0_request_is_answered_like_rest() -> None:
    event = {**load_event("authorizer.rest-request"), "version": "1.0"}
    assert detect_caller(event) is CallerKind.REST_REQUEST


@pytest.mark.parametrize(
    ("kind", "event", "credential"),
    [
        (CallerKind.APPSYNC, {"authorizationToken": "Bearer t"}, "Bearer t"),
        (CallerKind.REST_TOKEN, {"authorizationToken": "t"}, "t"),
        (CallerKind.REST_REQUEST, {"headers": {"AUTHORIZATION": "Bearer t"}}, "Bearer t"),
        (CallerKind.REST_REQUEST, {"headers": None}, None),
        (CallerKind.HTTP_V2, {"headers": {"authorization": "t"}}, "t"),
        (CallerKind.HTTP_V2, {"headers": {}, "identitySource": ["t"]}, "t"),
        (CallerKind.HTTP_V2, {"headers": {}, "identitySource": ["t", "u"]}, None),
    ],
)
def test_credential_location_per_caller(
    kind: CallerKind, event: dict[str, Any], credential: str | None
) -> None:
    assert credential_of(kind, event) == credential


# ----------------------------------------------------------------------------- configuration


def test_cognito_issuer_url_and_jwks_url_follow_the_pool_id() -> None:
    issuer = Issuer.cognito("eu-west-1_Ab12Cd34E", ["c1"])
    assert issuer.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E"
    assert issuer.keys.uri == f"{issuer.issuer}/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Issuer.cognito("no-underscore", ["c1"]), "not a Cognito user pool id"),
        (lambda: Issuer.cognito("us-east-1_X", []), "at least one allowed audience"),
        (lambda: Issuer.cognito("us-east-1_X", ["c1"], token_use=["refresh"]), "token_use must be"),
        (lambda: Issuer.oidc("login.example.com", ["a"], jwks={}), "must be an http"),
        (lambda: Issuer.oidc("https://x/", ["a"], jwks={}, context_claims=("sub",)), "reserved"),
    ],
)
def test_invalid_issuer_configuration_fails_at_start(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_from_env_builds_the_cognito_oidc_and_api_key_configuration() -> None:
    oidc = TestIssuer("https://login.example.com/")
    environ = {
        "USER_POOL_ID": POOL_ID,
        "USER_POOL_CLIENT_IDS": f"{CLIENT}, other",
        "MODELAUTH_TOKEN_USE": "id,access",
        "MODELAUTH_JWKS": json.dumps(POOL.jwks()),
        "MODELAUTH_OIDC_ISSUERS": json.dumps(
            [
                {
                    "issuer": oidc.issuer,
                    "audiences": ["client-1"],
                    "jwks": json.dumps(oidc.jwks()),
                    "subjectPrefix": "x:",
                }
            ]
        ),
        "MODELAUTH_API_KEYS": '{"keys": []}',
        "MODELAUTH_AUTHORIZER_TTL": "30",
        "MODELAUTH_POLICY_SCOPE": "method",
    }
    authorizer = LambdaAuthorizer.from_env(SCHEMA, environ)

    assert authorizer.ttl == 30
    assert authorizer.policy_scope == "method"
    pool = authorizer.verifier.issuers[POOL.issuer]
    assert (pool.audiences, pool.token_uses) == (frozenset({CLIENT, "other"}), frozenset({"id", "access"}))
    assert authorizer.verifier.verify(access_token()).principal_id
    assert authorizer.verifier.verify(oidc.token()).context["sub"] == "x:user-42"


@pytest.mark.parametrize(
    "environ",
    [
        {"USER_POOL_ID": POOL_ID},  # no client ids: the audience could not be checked
        {"MODELAUTH_AUTHORIZER_TTL": "7200"},
        {"MODELAUTH_POLICY_SCOPE": "route"},
        {"MODELAUTH_OIDC_ISSUERS": '[{"issuer": "https://x/", "audiences": ["a"], "jwks": "{}"}]'},
        {"MODELAUTH_API_KEYS": "not json"},
    ],
)
def test_bad_environment_fails_the_cold_start(environ: dict[str, str]) -> None:
    with pytest.raises((ValueError, KeyError)):
        LambdaAuthorizer.from_env(SCHEMA, environ)


# ----------------------------------------------------------------------------- policy scope


def authorizer(**options: Any) -> LambdaAuthorizer:
    return LambdaAuthorizer(TokenVerifier([Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks())]), **options)


def test_method_scope_allows_only_the_called_method() -> None:
    event = authorizer_event(CallerKind.REST_REQUEST, f"Bearer {access_token()}")
    answer = authorizer(policy_scope="method").handle(event)
    assert answer["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/GET/tickets/ticket-1"
    ]


@pytest.mark.parametrize("arn", [None, "", "arn:aws:s3:::bucket", "arn:aws:execute-api:us-east-1:1:api"])
def test_a_malformed_method_arn_is_denied_not_crashed(arn: Any) -> None:
    event = {**authorizer_event(CallerKind.REST_TOKEN, f"Bearer {access_token()}"), "methodArn": arn}
    if arn is None:
        del event["methodArn"]
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer().handle(event)


# ----------------------------------------------------------------------------- failing closed


class _Exploding:
    def check(self, key: str) -> Any:
        raise RuntimeError("boom")


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
def test_an_unexpected_failure_denies_and_is_not_cached(kind: CallerKind) -> None:
    verifier = TokenVerifier([], api_keys=_Exploding())
    event = authorizer_event(kind, "mak_" + "x" * 43)
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            LambdaAuthorizer(verifier).handle(event)
    elif kind is CallerKind.APPSYNC:
        assert LambdaAuthorizer(verifier).handle(event) == {"isAuthorized": False, "ttlOverride": 0}
    else:
        assert LambdaAuthorizer(verifier).handle(event) == {"isAuthorized": False}


def test_jwks_unavailable_denies_appsync_without_caching_the_denial() -> None:
    def down() -> dict[str, Any]:
        raise OSError("connection refused")

    verifier = TokenVerifier([Issuer.cognito(POOL_ID, [CLIENT], jwks=down)])
    with pytest.raises(JwksUnavailable):
        verifier.verify(access_token())
    answer = LambdaAuthorizer(verifier).handle(
        authorizer_event(CallerKind.APPSYNC, f"Bearer {access_token()}")
    )
    assert answer == {"isAuthorized": False, "ttlOverride": 0}


# ----------------------------------------------------------------------------- token cache


def test_verified_token_cache_skips_verification_until_expiry_and_is_bounded() -> None:
    cache = LruTokenCache(max_entries=2, max_age=300)
    verifier = TokenVerifier([Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks())], cache=cache)
    token = access_token()
    first = verifier.verify(token)
    assert verifier.verify(f"Bearer {token}") is first  # keyed by the token, not the header text
    assert len(cache) == 1

    verifier.verify(access_token(jti="2"))
    verifier.verify(access_token(jti="3"))
    assert len(cache) == 2  # least recently used evicted


def test_cache_entries_end_at_the_credential_expiry_or_max_age() -> None:
    cache = LruTokenCache(max_age=60)
    cache.put(b"a", Caller("A1", {}, expires_at=1030.0), now=1000.0)
    cache.put(b"b", Caller("B2", {}, expires_at=None), now=1000.0)
    assert cache.get(b"a", 1029.0) is not None
    assert cache.get(b"a", 1030.0) is None
    assert cache.get(b"b", 1059.0) is not None
    assert cache.get(b"b", 1060.0) is None


def test_refusals_are_never_cached() -> None:
    cache = LruTokenCache()
    verifier = TokenVerifier([Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks())], cache=cache)
    with pytest.raises(Unauthenticated):
        verifier.verify(access_token(client_id="other"))
    assert len(cache) == 0


# ----------------------------------------------------------------------------- deniedFields


LAMBDA_ALICE = Principal(AuthMode.LAMBDA, sub="A1", username="alice", resolver_context={"sub": "A1"})
LAMBDA_KEY = Principal(AuthMode.LAMBDA, resolver_context={"authMethod": "apiKey", "apiKeyId": "k"})
TICKET = Model(
    "Ticket", fields=[Field("title")], rules=[allow.custom().to(["read"]), allow.owner("function")]
)
SECRET = Model(
    "Secret",
    fields=[Field("body"), Field("pin", rules=[allow.groups(["Admin"], "userPools")])],
    rules=[allow.custom()],
)
TODO = Model("Todo", fields=[Field("content")], rules=[allow.owner()])


@pytest.mark.parametrize(
    ("principal", "model", "denied"),
    [
        # owner(function) covers create/update/delete for a caller with sub + username
        (LAMBDA_ALICE, TICKET, []),
        # an API key caller has no owner claim: the owner rule is inert, only custom read is left
        (LAMBDA_KEY, TICKET, ["Mutation.createTicket", "Mutation.updateTicket", "Mutation.deleteTicket"]),
        # a field whose rules have no provider for Lambda callers is never readable by them, and
        # delete needs delete on every field (spec §3.4)
        (LAMBDA_ALICE, SECRET, ["Mutation.deleteSecret", "Secret.pin"]),
        # a user-pool-only model is out of reach in every operation
        (
            LAMBDA_ALICE,
            TODO,
            [
                "Query.getTodo",
                "Query.listTodos",
                "Mutation.createTodo",
                "Mutation.updateTodo",
                "Mutation.deleteTodo",
                "Subscription.onCreateTodo",
                "Subscription.onUpdateTodo",
                "Subscription.onDeleteTodo",
            ],
        ),
    ],
)
def test_unreachable_fields_decision_table(principal: Principal, model: Model, denied: list[str]) -> None:
    assert unreachable_fields(Schema([model]), principal) == denied


def test_appsync_denies_when_the_field_masks_cannot_be_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    import modelauth.authorizer as module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("rule engine bug")

    monkeypatch.setattr(module, "decide", broken)
    answer = authorizer(schema=SCHEMA).handle(
        authorizer_event(CallerKind.APPSYNC, f"Bearer {access_token()}")
    )
    assert answer == {"isAuthorized": False, "ttlOverride": 0}


@pytest.mark.parametrize("authorize", [True, False])
@pytest.mark.parametrize("max_age", [None, 0, 60])
@pytest.mark.parametrize("context", [None, {}, {"sub": "A1"}])
@pytest.mark.parametrize("denied", [None, [], ["Query.getTodo"]])
def test_appsync_answer_is_what_powertools_writes(
    authorize: bool, max_age: int | None, context: dict[str, str] | None, denied: list[str] | None
) -> None:
    """The authorizer writes AppSync's answer itself (Powertools' data_classes are not imported
    at the cold start); it must be exactly AppSyncAuthorizerResponse's."""
    from aws_lambda_powertools.utilities.data_classes.appsync_authorizer_event import (
        AppSyncAuthorizerResponse,
    )

    from modelauth.authorizer import _appsync_answer

    expected = AppSyncAuthorizerResponse(authorize, max_age, context, denied).asdict()
    assert _appsync_answer(authorize, max_age, context, denied) == expected
