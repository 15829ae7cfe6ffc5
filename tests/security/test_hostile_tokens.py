"""A generated corpus of hostile JWTs against the deployed authorizer (functions/authorizer/app.py,
configured from the environment as template.yaml configures it) for every caller: AppSync,
REST TOKEN, REST REQUEST and HTTP API v2.

Every hostile token gets the caller's invalid-credential answer (never an allow, never another
exception than REST's ``Exception("Unauthorized")``); the valid tokens of the same table - Cognito
access tokens, ID tokens where configured, OIDC tokens, API keys - are still accepted; and
``cognito:groups`` shaped as a list, a string or null reaches the API as exactly the names the
normalisation promises (modelauth.identity ``_normalise_list``), never a substring of them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, Literal

import pytest

from modelauth.apikeys import new_api_key
from modelauth.authorizer import CallerKind
from modelauth.identity import Principal
from modelauth.policy import decide
from modelauth.rules import Model, Operation, allow
from tests.authz import (
    assert_invalid_credential_answer,
    authorizer_event,
    b64url,
    forge,
    load_function,
    proxy_event,
    public_jwk,
    public_pem,
    rejected_with,
    rest_authorizer_context,
    sign_raw,
    unverified_claims,
)
from tests.conftest import load_event
from tests.fixtures.schema import SCHEMA
from tests.unit.test_authorizer_tokens import (
    ALICE_SUB,
    CLIENT,
    OIDC,
    POOL,
    POOL_ID,
    access_token,
    id_token,
    now,
)

BOB_SUB = "b0b0b0b0-0000-4000-8000-000000000b0b"
API_KEY, API_KEY_RECORD = new_api_key("partner-a", datetime.now(UTC) + timedelta(days=30))
EXPIRED_KEY, EXPIRED_KEY_RECORD = new_api_key("partner-old", datetime.now(UTC) - timedelta(hours=1))


def environment(token_use: str) -> dict[str, str]:
    """The authorizer function's variables (template.yaml), with inline keys instead of URLs."""
    oidc = {"issuer": OIDC.issuer, "audiences": ["my-api"], "jwks": json.dumps(OIDC.jwks())}
    return {
        "USER_POOL_ID": POOL_ID,
        "USER_POOL_CLIENT_IDS": CLIENT,
        "MODELAUTH_TOKEN_USE": token_use,
        "MODELAUTH_JWKS": json.dumps(POOL.jwks()),
        "MODELAUTH_OIDC_ISSUERS": json.dumps([{**oidc, "subjectPrefix": "oidc:"}]),
        "MODELAUTH_API_KEYS": json.dumps({"keys": [API_KEY_RECORD.as_json(), EXPIRED_KEY_RECORD.as_json()]}),
        "MODELAUTH_AUTHORIZER_TTL": "60",
    }


CONFIGS = {"access": "access", "id+access": "id,access"}  # the deployed default; both kinds


@pytest.fixture(scope="module", params=list(CONFIGS))
def function(request: pytest.FixtureRequest) -> tuple[str, ModuleType]:
    return request.param, load_function("authorizer", environment(CONFIGS[request.param]))


# ----------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Allowed:
    """A valid credential: the caller it must become."""

    sub: str
    groups: tuple[str, ...] = ()
    #: an ID token: only where MODELAUTH_TOKEN_USE includes "id"
    id_token: bool = False


Expected = Allowed | Literal["invalid", "refused"]  # invalid: 401 answer; refused: valid but 403
INVALID: Expected = "invalid"
REFUSED: Expected = "refused"


def claims(**changes: Any) -> dict[str, Any]:
    """Alice's access-token claims with changes (None removes a claim)."""
    payload = {**unverified_claims(access_token()), **changes}
    return {k: v for k, v in payload.items() if v is not None}


HEADER = {"alg": "RS256", "typ": "JWT", "kid": "pool-key"}
ALICE = Allowed(ALICE_SUB, ("Admin",))


def header(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**HEADER, **changes}.items() if v is not None}


def pool_signed(raw_header: bytes | dict[str, Any], payload: bytes | dict[str, Any]) -> str:
    """Signed with the pool's real key: only the content is hostile."""
    return sign_raw(raw_header, payload, key_name="pool")


def raw_json(**members: Any) -> bytes:
    return json.dumps(members).encode()


def with_segments(token: str, transform: Callable[[list[str]], list[str]]) -> str:
    return ".".join(transform(token.split(".")))


Factory = Callable[[], Any]


def unsigned(alg: str) -> Factory:
    return lambda: sign_raw(header(alg=alg), claims(), alg="none")


def key_confused(alg: str) -> Factory:
    """The classic key confusion: an HMAC whose secret is the issuer's public key."""
    return lambda: sign_raw(header(alg=alg), claims(), alg=alg, secret=public_pem("pool"))


def other_pool(pool_id: str) -> tuple[Callable[[], str], Expected]:
    """A token of a lookalike issuer, signed with the pool's own key and kid."""
    iss = f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    return (lambda: pool_signed(header(), claims(iss=iss))), INVALID


CORPUS: dict[str, tuple[Factory, Expected]] = {
    # -- valid credentials: still accepted ---------------------------------------------------------
    "valid access token": (access_token, ALICE),
    "valid access token as Bearer": (lambda: f"Bearer {access_token()}", ALICE),
    "valid ID token": (lambda: id_token(), Allowed(ALICE_SUB, id_token=True)),
    "valid OIDC token": (lambda: OIDC.token(sub="u-7"), Allowed("oidc:u-7", ("Moderator",))),
    "valid API key": (lambda: API_KEY, Allowed("apikey:partner-a")),
    "expired API key": (lambda: EXPIRED_KEY, REFUSED),
    # -- algorithms ----------------------------------------------------------------------------------
    **{f"alg {alg}": (unsigned(alg), INVALID) for alg in ("none", "None", "NONE", "nOnE")},
    "alg none keeping a valid RS256 signature": (
        lambda: with_segments(access_token(), lambda s: [b64url(raw_json(**header(alg="none"))), *s[1:]]),
        INVALID,
    ),
    **{f"{alg} signed with the RSA public key": (key_confused(alg), INVALID) for alg in ("HS256", "HS512")},
    "HS256 signed with the JWK's JSON": (
        lambda: sign_raw(
            header(alg="HS256"),
            claims(),
            alg="HS256",
            secret=json.dumps(public_jwk("pool", "pool-key")).encode(),
        ),
        INVALID,
    ),
    "rs256 in lower case": (lambda: pool_signed(header(alg="rs256"), claims()), INVALID),
    "PS256 with the pool's key": (
        lambda: sign_raw(header(alg="PS256"), claims(), key_name="pool", alg="PS256"),
        INVALID,
    ),
    "attacker key embedded as jwk": (
        lambda: sign_raw(header(jwk=public_jwk("attacker", "pool-key")), claims(), key_name="attacker"),
        INVALID,
    ),
    "attacker JWKS named in jku": (
        lambda: sign_raw(header(jku="https://attacker.example/jwks.json"), claims(), key_name="attacker"),
        INVALID,
    ),
    "unencoded payload (b64 false)": (
        lambda: pool_signed(header(b64=False, crit=["b64"]), claims()),
        INVALID,
    ),
    # -- kid -------------------------------------------------------------------------------------------
    "unknown kid": (lambda: pool_signed(header(kid="rotated-away"), claims()), INVALID),
    "missing kid": (lambda: pool_signed(header(kid=None), claims()), INVALID),
    "empty kid": (lambda: pool_signed(header(kid=""), claims()), INVALID),
    "numeric kid": (lambda: pool_signed(header(kid=1), claims()), INVALID),
    "kid path traversal": (lambda: pool_signed(header(kid="../../../../dev/null"), claims()), INVALID),
    "duplicate kid, the real one last": (
        lambda: pool_signed(b'{"alg":"RS256","typ":"JWT","kid":"rotated-away","kid":"pool-key"}', claims()),
        INVALID,
    ),
    "duplicate kid, the real one first": (
        lambda: pool_signed(b'{"alg":"RS256","typ":"JWT","kid":"pool-key","kid":"rotated-away"}', claims()),
        INVALID,
    ),
    # -- time --------------------------------------------------------------------------------------------
    "expired": (lambda: access_token(iat=now() - 7200, exp=now() - 3600), INVALID),
    "nbf in the future": (lambda: access_token(nbf=now() + 600), INVALID),
    "iat far in the future": (lambda: access_token(iat=now() + 10 * 365 * 86400), INVALID),
    "exp beyond any date": (lambda: pool_signed(header(), claims(exp=10**400)), INVALID),
    "exp not a number": (lambda: pool_signed(header(), claims(exp="tomorrow")), INVALID),
    "exp a numeric string": (lambda: pool_signed(header(), claims(exp=str(now() + 3600))), INVALID),
    "no exp": (lambda: access_token(exp=None), INVALID),
    # -- issuer ------------------------------------------------------------------------------------------
    "another pool": other_pool("us-east-1_Other"),
    "lookalike pool id (I for l)": other_pool(POOL_ID.replace("l", "I")),
    "pool id in another case": other_pool(POOL_ID.lower()),
    "pool id with a suffix": other_pool(POOL_ID + "0"),
    "issuer with a trailing slash": (lambda: pool_signed(header(), claims(iss=POOL.issuer + "/")), INVALID),
    "issuer over http": (
        lambda: pool_signed(header(), claims(iss=POOL.issuer.replace("https", "http"))),
        INVALID,
    ),
    "issuer as a list": (lambda: pool_signed(header(), claims(iss=[POOL.issuer])), INVALID),
    "no issuer": (lambda: pool_signed(header(), claims(iss=None)), INVALID),
    "pool issuer on an OIDC-signed token": (lambda: OIDC.token(iss=POOL.issuer), INVALID),
    # -- audience and token_use -------------------------------------------------------------------------
    "wrong client_id": (lambda: access_token(client_id="other-client"), INVALID),
    "client_id missing, aud set (access token)": (lambda: access_token(client_id=None, aud=CLIENT), INVALID),
    "token_use swapped: id with client_id, no aud": (lambda: access_token(token_use="id"), INVALID),
    "token_use refresh": (lambda: access_token(token_use="refresh"), INVALID),
    "token_use missing": (lambda: access_token(token_use=None), INVALID),
    "token_use as a list": (lambda: access_token(token_use=["access"]), INVALID),
    "ID token for another client": (lambda: id_token(aud="other-client"), INVALID),
    "OIDC token for another audience": (lambda: OIDC.token(aud="someone-else"), INVALID),
    "OIDC token without aud": (lambda: OIDC.token(aud=None), INVALID),
    # -- subject -----------------------------------------------------------------------------------------
    "missing sub": (lambda: access_token(sub=None), INVALID),
    "empty sub": (lambda: access_token(sub=""), INVALID),
    "numeric sub": (lambda: pool_signed(header(), claims(sub=42)), INVALID),
    "username spelling bob's owner value": (lambda: access_token(username=f"{BOB_SUB}::bob"), INVALID),
    "OIDC sub that the prefix turns into an owner separator": (lambda: OIDC.token(sub=":x"), INVALID),
    "duplicate sub, bob's last": (
        lambda: pool_signed(
            header(), json.dumps(claims())[:-1].encode() + f', "sub": "{BOB_SUB}"}}'.encode()
        ),
        INVALID,
    ),
    # -- tampering -----------------------------------------------------------------------------------------
    "tampered payload (bob's sub)": (lambda: forge(access_token(), sub=BOB_SUB), INVALID),
    "tampered payload (Admin group added)": (
        lambda: forge(access_token(**{"cognito:groups": []}), **{"cognito:groups": ["Admin"]}),
        INVALID,
    ),
    "tampered header (typ changed)": (
        lambda: with_segments(access_token(), lambda s: [b64url(raw_json(**header(typ="at+jwt"))), *s[1:]]),
        INVALID,
    ),
    "signature of another token": (
        lambda: with_segments(access_token(), lambda s: [*s[:2], access_token(sub=BOB_SUB).split(".")[2]]),
        INVALID,
    ),
    "signature removed": (lambda: with_segments(access_token(), lambda s: [*s[:2], ""]), INVALID),
    # -- structure -------------------------------------------------------------------------------------------
    "truncated signature": (lambda: access_token()[:-12], INVALID),
    "truncated to two segments": (lambda: with_segments(access_token(), lambda s: s[:2]), INVALID),
    "one segment": (lambda: access_token().split(".")[1], INVALID),
    "extra segment": (lambda: access_token() + ".eyJ4IjoxfQ", INVALID),
    "five segments (JWE shape)": (lambda: access_token() + ".a.b", INVALID),
    "empty": (lambda: "", INVALID),
    "Bearer and nothing": (lambda: "Bearer ", INVALID),
    "whitespace": (lambda: " \t\r\n ", INVALID),
    "space inside the token": (lambda: access_token().replace(".", ". ", 1), INVALID),
    "Bearer twice": (lambda: f"Bearer Bearer {access_token()}", INVALID),
    "Basic scheme around a valid token": (lambda: f"Basic {access_token()}", INVALID),
    "quoted token": (lambda: f'"{access_token()}"', INVALID),
    "not base64": (lambda: "!!!.@@@.###", INVALID),
    "non-ASCII text": (lambda: "Bearer tökén.ünïcode.sïg", INVALID),
    "lone surrogate (not UTF-8 encodable)": (lambda: access_token() + "\udcff", INVALID),
    "NUL byte": (lambda: access_token().replace(".", "\x00.", 1), INVALID),
    "header not UTF-8": (lambda: pool_signed(b'{"alg":"RS256","kid":"\xff\xfe"}', claims()), INVALID),
    "payload not UTF-8": (lambda: pool_signed(header(), b'{"sub":"\xff\xfe"}'), INVALID),
    "header a JSON array": (lambda: pool_signed(b'["RS256"]', claims()), INVALID),
    "payload a JSON string": (lambda: pool_signed(header(), b'"alice"'), INVALID),
    "payload nested 2000 deep": (lambda: pool_signed(header(), b"[" * 2000 + b"]" * 2000), INVALID),
    "1 MB token": (lambda: pool_signed(header(), claims(pad="x" * 1_000_000)), INVALID),
    # -- not a string at all ---------------------------------------------------------------------------------
    "no credential": (lambda: None, INVALID),
    "credential a number": (lambda: 42, INVALID),
    "credential a list": (lambda: [access_token()], INVALID),
    "credential an object": (lambda: {"token": access_token()}, INVALID),
}

# cognito:groups in a validly signed access token → the groups every API sees (exact names)
GROUPS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "list": (["Admin", "Sales"], ("Admin", "Sales")),
    "string": ("Admin", ("Admin",)),
    "null": (None, ()),
    "JSON array string": ('["Admin","Sales"]', ("Admin", "Sales")),
    # one name or a joined list? never guessed: no groups
    "comma separated string": ("Admin,Sales", ()),
    "space separated string": ("Admin Sales", ()),
    "name with a space, alone": ("Junior Moderator", ()),
    "lookalike string": ("NotAdmin", ("NotAdmin",)),
    "superstring": ("Administrators", ("Administrators",)),
    "other case": (["admin"], ("admin",)),
    "name with a comma, in a list": (["Admin,Sales"], ("Admin,Sales",)),
    "list with junk items": (["Admin", 7, None, ["Sales"], {"a": 1}, ""], ("Admin",)),
    "empty list": ([], ()),
    "empty string": ("", ()),
    "number": (42, ()),
    "object": ({"Admin": True}, ()),
}
for _name, (_value, _groups) in GROUPS.items():
    # a present null claim: signed as such, not dropped like the other None changes
    _factory = (
        (lambda v=_value: pool_signed(header(), {**claims(), "cognito:groups": v}))
        if _value is None
        else (lambda v=_value: access_token(**{"cognito:groups": v}))
    )
    CORPUS[f"cognito:groups as {_name}"] = (_factory, Allowed(ALICE_SUB, _groups))

HOSTILE = [name for name, (_, expected) in CORPUS.items() if not isinstance(expected, Allowed)]


def test_the_corpus_is_large_enough() -> None:
    assert len([n for n in HOSTILE if CORPUS[n][1] == INVALID]) >= 20


def answer(function: ModuleType, kind: CallerKind, credential: Any) -> Any:
    event = authorizer_event(kind, credential)
    return rejected_with(lambda: function.lambda_handler(event, None))


def context_of(kind: CallerKind, outcome: dict[str, Any]) -> dict[str, Any]:
    """The flat context the caller's API will see."""
    return dict(outcome["resolverContext"] if kind is CallerKind.APPSYNC else outcome["context"])


def assert_allowed(kind: CallerKind, outcome: Any, expected: Allowed) -> None:
    assert isinstance(outcome, dict), outcome
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        assert outcome["principalId"] == expected.sub
        [statement] = outcome["policyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/*/*"]
    else:
        assert outcome["isAuthorized"] is True
    context = context_of(kind, outcome)
    assert all(isinstance(value, str) for value in context.values()), context  # flat text only
    if not expected.sub.startswith("apikey:"):
        assert context["sub"] == expected.sub
        assert json.loads(context["groups"]) == list(expected.groups)


def assert_refused_with_403(kind: CallerKind, outcome: Any) -> None:
    """A valid credential that may not be used: REST gets an explicit Deny (403 with a reason)."""
    if kind in (CallerKind.REST_TOKEN, CallerKind.REST_REQUEST):
        assert outcome["principalId"] == "denied"
        [statement] = outcome["policyDocument"]["Statement"]
        assert (statement["Effect"], statement["Resource"]) == (
            "Deny",
            ["arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/*/*"],
        )
        assert set(outcome["context"]) == {"reason"}
    else:
        assert outcome == {"isAuthorized": False}


EVERY_CALLER = pytest.mark.parametrize("kind", list(CallerKind), ids=str)


@EVERY_CALLER
@pytest.mark.parametrize("case", list(CORPUS))
def test_each_token_gets_its_callers_answer(
    function: tuple[str, ModuleType], case: str, kind: CallerKind
) -> None:
    config, module = function
    factory, expected = CORPUS[case]
    outcome = answer(module, kind, factory())
    if isinstance(expected, Allowed) and expected.id_token and config == "access":
        expected = INVALID  # ID tokens only where configured
    if expected == INVALID:
        assert_invalid_credential_answer(kind, outcome)
    elif expected == REFUSED:
        assert_refused_with_403(kind, outcome)
    else:
        assert isinstance(expected, Allowed)
        assert_allowed(kind, outcome, expected)


# ----------------------------------------------------------------------------- groups downstream

ADMIN_ONLY = Model("Salary", rules=[allow.group("Admin")])


def principal_behind(kind: CallerKind, outcome: dict[str, Any]) -> Principal:
    """The caller as the API behind this gateway reads it from the authorizer's answer."""
    if kind is CallerKind.APPSYNC:
        return Principal.from_appsync(
            {"identity": {"resolverContext": outcome["resolverContext"]}, "authType": "Lambda Authorization"}
        )
    if kind is CallerKind.HTTP_V2:
        event = copy.deepcopy(load_event("rest.getTicket.alice-http"))
        event["requestContext"]["authorizer"] = {"lambda": outcome["context"]}
        return Principal.from_apigw(event)
    return Principal.from_apigw(proxy_event("GET", "/tickets", rest_authorizer_context(outcome)))


@EVERY_CALLER
@pytest.mark.parametrize("shape", list(GROUPS))
def test_groups_reach_the_resolvers_as_exact_names(
    function: tuple[str, ModuleType], shape: str, kind: CallerKind
) -> None:
    _, module = function
    factory, expected = CORPUS[f"cognito:groups as {shape}"]
    assert isinstance(expected, Allowed)
    outcome = answer(module, kind, factory())
    principal = principal_behind(kind, outcome)

    assert principal.groups == expected.groups
    assert (principal.sub, principal.username) == (ALICE_SUB, "alice")
    # the owner rule downstream is the token's user's, whatever the groups claim looked like
    created = decide(principal, SCHEMA.model("Ticket"), Operation.CREATE, input={})
    assert created.allowed, created.reason
    bobs = {"id": "t1", "owner": f"{BOB_SUB}::bob"}
    assert not decide(principal, SCHEMA.model("Ticket"), Operation.UPDATE, item=bobs, input={}).allowed
    # groups a Lambda authorizer passes on never satisfy a user-pool group rule (spec §1.2)
    assert not decide(principal, ADMIN_ONLY, Operation.LIST).allowed
