"""modelauth.identity: one Principal per caller, decided from the event's shape (spec §3.1, §4, §7, §8).

Each table row is one identity shape or attack and the Principal fields it must yield; every
failure is an IdentityError (fail closed).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest

from modelauth.errors import IdentityError, Unauthorized
from modelauth.identity import AuthMode, IamIdentity, IdentityConfig, Principal
from tests.conftest import EVENTS, load_event

ACCOUNT = "123456789012"
POOL_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"
OTHER_POOL_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Zz99Yy88X"
OIDC_ISSUER = "https://login.example.com/"
ALICE_SUB = "a1b2c3d4-0000-4000-8000-00000000a11c"
GUEST_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/amplify-app-dev-unauthRole/CognitoIdentityCredentials"
AUTH_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/amplify-app-dev-authRole/CognitoIdentityCredentials"
FN_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/todo-fn-role/todo-fn"
PROVIDER = POOL_ISSUER.removeprefix("https://")
CONFIGURED = IdentityConfig(user_pool_issuers=frozenset({POOL_ISSUER}))

AUTH_TYPES = {
    AuthMode.API_KEY: "API Key Authorization",
    AuthMode.IAM: "IAM Authorization",
    AuthMode.USER_POOLS: "User Pool Authorization",
    AuthMode.OIDC: "Open ID Connect Authorization",
    AuthMode.LAMBDA: "Lambda Authorization",
}


# --------------------------------------------------------------------------- identity builders


def up_identity(**overrides: Any) -> dict[str, Any]:
    """Spec §7.1 user-pool identity (access token)."""
    identity: dict[str, Any] = {
        "sub": ALICE_SUB,
        "issuer": POOL_ISSUER,
        "username": "alice",
        "claims": {
            "sub": ALICE_SUB,
            "cognito:groups": ["Admin"],
            "iss": POOL_ISSUER,
            "client_id": "3n4b5urk1ft4fl3mg5e62d9ado",
            "token_use": "access",
            "username": "alice",
        },
        "sourceIp": ["203.0.113.10"],
        "defaultAuthStrategy": "ALLOW",
        "groups": ["Admin"],
    }
    identity.update(overrides)
    return identity


def oidc_identity(**claims: Any) -> dict[str, Any]:
    """Spec §7.1 OIDC identity."""
    token = {"sub": "auth0|64f0c1e2", "iss": OIDC_ISSUER, "aud": "my-client", "user_id": "u-42", **claims}
    return {"sub": "auth0|64f0c1e2", "issuer": OIDC_ISSUER, "claims": token}


def iam_identity(user_arn: str = GUEST_ARN, **overrides: Any) -> dict[str, Any]:
    """Spec §7.1 IAM identity (identity-pool guest unless overridden)."""
    identity: dict[str, Any] = {
        "accountId": ACCOUNT,
        "cognitoIdentityPoolId": "us-east-1:0c9c5d0e-1111-2222-3333-444455556666",
        "cognitoIdentityId": "us-east-1:7a1f0c2d-aaaa-bbbb-cccc-ddddeeeeffff",
        "cognitoIdentityAuthType": "unauthenticated",
        "cognitoIdentityAuthProvider": None,
        "sourceIp": ["203.0.113.10"],
        "username": "AROAEXAMPLEUNAUTH:CognitoIdentityCredentials",
        "userArn": user_arn,
    }
    identity.update(overrides)
    return identity


def signed_in(provider_issuer: str = POOL_ISSUER, sub: str = ALICE_SUB) -> dict[str, Any]:
    provider = provider_issuer.removeprefix("https://")
    return iam_identity(
        AUTH_ARN,
        cognitoIdentityAuthType="authenticated",
        cognitoIdentityAuthProvider=f'"{provider}","{provider}:CognitoSignIn:{sub}"',
    )


def appsync_event(identity: Any, **headers: Any) -> dict[str, Any]:
    """A direct-resolver event (spec §7.3) around ``identity``."""
    return {
        "arguments": {"id": "todo-alice-1"},
        "identity": identity,
        "source": None,
        "request": {"headers": {"host": "abc123.appsync-api.us-east-1.amazonaws.com", **headers}},
        "prev": None,
        "info": {"fieldName": "getTodo", "parentTypeName": "Query", "variables": {"id": "todo-alice-1"}},
        "stash": {},
    }


def fields_of(principal: Principal, names: dict[str, Any]) -> dict[str, Any]:
    """The Principal's fields named in ``names``; ``iam.<f>`` reads the IamIdentity."""
    return {
        name: getattr(principal.iam, name[4:], None) if name.startswith("iam.") else getattr(principal, name)
        for name in names
    }


# --------------------------------------------------------------------------- AppSync: events/ files


MY_EVENTS = {
    "getTodo.iam-guest": {
        "mode": AuthMode.IAM,
        "sub": None,
        "iam.role_name": "amplify-app-dev-unauthRole",
        "iam.role_arn": f"arn:aws:iam::{ACCOUNT}:role/amplify-app-dev-unauthRole",
        "iam.auth_type": "unauthenticated",
        "iam.identity_id": "us-east-1:7a1f0c2d-aaaa-bbbb-cccc-ddddeeeeffff",
        "iam.user_pool_sub": None,
        "api_key": None,
    },
    "getTodo.iam-authenticated": {
        "mode": AuthMode.IAM,
        "sub": ALICE_SUB,
        "iam.role_name": "amplify-app-dev-authRole",
        "iam.auth_type": "authenticated",
        "iam.user_pool_sub": ALICE_SUB,
        "iam.user_pool_issuer": POOL_ISSUER,
    },
    "getTodo.iam-role": {
        "mode": AuthMode.IAM,
        "sub": None,
        "username": None,
        "iam.role_name": "todo-fn-role",
        "iam.role_arn": f"arn:aws:iam::{ACCOUNT}:role/todo-fn-role",
        "iam.identity_pool_id": None,
        "iam.identity_id": None,
        "iam.account_id": ACCOUNT,
    },
    "getTodo.oidc": {
        "mode": AuthMode.OIDC,
        "sub": "auth0|64f0c1e2",
        "issuer": OIDC_ISSUER,
        "groups": (),
        "source_ip": (),
    },
    "getTodo.lambda": {
        "mode": AuthMode.LAMBDA,
        "sub": ALICE_SUB,
        "username": "alice",
        "groups": (),
        "claims": {},
        "api_key": None,
    },
}


@pytest.mark.parametrize("name", sorted(MY_EVENTS))
@pytest.mark.parametrize("config", [None, CONFIGURED], ids=["no-config", "configured"])
def test_sample_events_parse_to_expected_principal(name: str, config: IdentityConfig | None) -> None:
    expected = MY_EVENTS[name]
    assert fields_of(Principal.from_appsync(load_event(name), config=config), expected) == expected


def _mode_from_file_name(path: Path) -> AuthMode:
    caller = path.stem.split(".", 1)[1]
    for prefix, mode in (("apikey", AuthMode.API_KEY), ("iam", AuthMode.IAM), ("oidc", AuthMode.OIDC)):
        if caller.startswith(prefix):
            return mode
    return AuthMode.LAMBDA if caller == "lambda" else AuthMode.USER_POOLS


APPSYNC_EVENTS = sorted(p for p in EVENTS.glob("*.json") if not p.stem.startswith(("authorizer.", "rest.")))


@pytest.mark.parametrize("path", APPSYNC_EVENTS, ids=lambda path: path.stem)
def test_every_sample_event_parses_with_and_without_auth_type(path: Path) -> None:
    event = load_event(path.stem)
    mode = _mode_from_file_name(path)
    assert Principal.from_appsync(event).mode is mode
    assert Principal.from_appsync(event, auth_type=AUTH_TYPES[mode], config=CONFIGURED).mode is mode
    # the APPSYNC_JS payload carries authType itself
    assert Principal.from_appsync({**event, "authType": AUTH_TYPES[mode]}).mode is mode


# --------------------------------------------------------------------------- AppSync: shapes


APPSYNC_SHAPES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "user pool access token",
        up_identity(),
        {
            "mode": AuthMode.USER_POOLS,
            "sub": ALICE_SUB,
            "username": "alice",
            "issuer": POOL_ISSUER,
            "groups": ("Admin",),
            "source_ip": ("203.0.113.10",),
            "iam": None,
        },
    ),
    (
        "user pool id token: groups only in the claim",
        up_identity(
            groups=None,
            claims={
                "sub": ALICE_SUB,
                "iss": POOL_ISSUER,
                "cognito:username": "alice",
                "cognito:groups": ["Sales"],
            },
        ),
        {"mode": AuthMode.USER_POOLS, "username": "alice", "groups": ("Sales",)},
    ),
    (
        "user pool without groups",
        up_identity(groups=None, claims={"sub": ALICE_SUB, "iss": POOL_ISSUER, "username": "alice"}),
        {"mode": AuthMode.USER_POOLS, "groups": ()},
    ),
    (
        "user pool told by defaultAuthStrategy alone; username from cognito:username",
        {
            "sub": ALICE_SUB,
            "issuer": POOL_ISSUER,
            "claims": {"sub": ALICE_SUB, "iss": POOL_ISSUER, "cognito:username": "alice"},
            "defaultAuthStrategy": "DENY",
        },
        {"mode": AuthMode.USER_POOLS, "username": "alice"},
    ),
    (
        "user pool sub only in the claims",
        up_identity(sub=None),
        {"mode": AuthMode.USER_POOLS, "sub": ALICE_SUB},
    ),
    (
        "oidc",
        oidc_identity(user_groups=["Moderator"]),
        {
            "mode": AuthMode.OIDC,
            "sub": "auth0|64f0c1e2",
            "issuer": OIDC_ISSUER,
            "groups": (),
            "username": None,
        },
    ),
    (
        "oidc without sub is allowed (owner rules name their own claim)",
        {"issuer": OIDC_ISSUER, "claims": {"iss": OIDC_ISSUER, "user_id": "u-42"}},
        {"mode": AuthMode.OIDC, "sub": None},
    ),
    (
        "oidc issuer only in claims.iss",
        {"claims": {"sub": "s", "iss": OIDC_ISSUER}},
        {"mode": AuthMode.OIDC, "issuer": OIDC_ISSUER},
    ),
    (
        "iam identity-pool guest",
        iam_identity(),
        {
            "mode": AuthMode.IAM,
            "sub": None,
            "iam.role_name": "amplify-app-dev-unauthRole",
            "iam.user_pool_sub": None,
        },
    ),
    (
        "iam signed-in identity-pool user: sub from CognitoSignIn",
        signed_in(),
        {"mode": AuthMode.IAM, "sub": ALICE_SUB, "iam.user_pool_sub": ALICE_SUB, "username": None},
    ),
    (
        "iam user (not a role)",
        iam_identity(
            f"arn:aws:iam::{ACCOUNT}:user/ops",
            cognitoIdentityPoolId=None,
            cognitoIdentityId=None,
            cognitoIdentityAuthType=None,
        ),
        {
            "mode": AuthMode.IAM,
            "iam.role_name": None,
            "iam.role_arn": None,
            "iam.user_arn": f"arn:aws:iam::{ACCOUNT}:user/ops",
        },
    ),
    (
        "lambda: spec resolverContext, no sub",
        {"resolverContext": {"userid": "u-42", "tenant": "t-1"}},
        {
            "mode": AuthMode.LAMBDA,
            "sub": None,
            "groups": (),
            "resolver_context": {"userid": "u-42", "tenant": "t-1"},
        },
    ),
    (
        "lambda groups as a list",
        {"resolverContext": {"sub": "u-42", "groups": ["Admin", "Sales"]}},
        {"mode": AuthMode.LAMBDA, "sub": "u-42", "groups": ("Admin", "Sales")},
    ),
    (
        "lambda groups as a JSON-array string",
        {"resolverContext": {"groups": '["Admin","Sales"]'}},
        {"groups": ("Admin", "Sales")},
    ),
    (
        "lambda groups comma-separated: one name or two? no groups",
        {"resolverContext": {"groups": "Admin,Sales"}},
        {"groups": ()},
    ),
    (
        "lambda groups space-separated: one name or two? no groups",
        {"resolverContext": {"groups": "Admin Sales"}},
        {"groups": ()},
    ),
    (
        "lambda numeric sub becomes text; username falls back to cognito:username",
        {"resolverContext": {"sub": 42, "cognito:username": "alice", "isAdmin": True}},
        {"sub": "42", "username": "alice"},
    ),
    (
        "api key: key read from the header",
        None,
        {"mode": AuthMode.API_KEY, "api_key": "da2-abcdefghijklmnopqrstuvwxyz", "sub": None, "groups": ()},
    ),
]


@pytest.mark.parametrize(
    ("identity", "expected"),
    [pytest.param(identity, expected, id=name) for name, identity, expected in APPSYNC_SHAPES],
)
def test_appsync_identity_shape_gives_principal(identity: Any, expected: dict[str, Any]) -> None:
    event = appsync_event(identity, **{"x-api-key": "da2-abcdefghijklmnopqrstuvwxyz"})
    assert fields_of(Principal.from_appsync(event), expected) == expected


@pytest.mark.parametrize(
    ("identity", "config", "auth_type", "mode"),
    [
        pytest.param(
            {"sub": "s", "issuer": POOL_ISSUER, "claims": {"sub": "s", "iss": POOL_ISSUER}},
            CONFIGURED,
            None,
            AuthMode.USER_POOLS,
            id="configured pool issuer without username is UP",
        ),
        pytest.param(
            up_identity(issuer=OTHER_POOL_ISSUER, claims={"sub": ALICE_SUB, "iss": OTHER_POOL_ISSUER}),
            CONFIGURED,
            None,
            AuthMode.OIDC,
            id="issuer not configured is OIDC even with username and defaultAuthStrategy",
        ),
        pytest.param(
            {"sub": "s", "issuer": POOL_ISSUER, "claims": {"sub": "s", "iss": POOL_ISSUER}},
            CONFIGURED,
            AUTH_TYPES[AuthMode.OIDC],
            AuthMode.OIDC,
            id="authType OIDC wins for a Cognito pool used as an OIDC provider",
        ),
        pytest.param(
            oidc_identity(),
            None,
            AUTH_TYPES[AuthMode.USER_POOLS],
            AuthMode.USER_POOLS,
            id="authType UP wins over the username heuristic when no pools are configured",
        ),
        pytest.param(
            {}, None, AUTH_TYPES[AuthMode.LAMBDA], AuthMode.LAMBDA, id="lambda without resolverContext"
        ),
    ],
)
def test_mode_from_configured_issuers_and_auth_type(
    identity: Any, config: IdentityConfig | None, auth_type: str | None, mode: AuthMode
) -> None:
    event = appsync_event(identity)
    assert Principal.from_appsync(event, auth_type=auth_type, config=config).mode is mode


@pytest.mark.parametrize(
    ("provider_issuer", "config", "sub"),
    [
        pytest.param(POOL_ISSUER, None, ALICE_SUB, id="no pools configured: trusted"),
        pytest.param(POOL_ISSUER, CONFIGURED, ALICE_SUB, id="our pool"),
        pytest.param(OTHER_POOL_ISSUER, CONFIGURED, None, id="foreign pool: no sub"),
    ],
)
def test_signed_in_identity_pool_user_is_known_by_sub_of_our_pool_only(
    provider_issuer: str, config: IdentityConfig | None, sub: str | None
) -> None:
    principal = Principal.from_appsync(appsync_event(signed_in(provider_issuer)), config=config)
    assert (principal.sub, principal.iam and principal.iam.user_pool_sub) == (sub, ALICE_SUB)


def test_guest_with_a_sign_in_provider_gets_no_sub() -> None:
    identity = signed_in()
    identity["cognitoIdentityAuthType"] = "unauthenticated"
    assert Principal.from_appsync(appsync_event(identity)).sub is None


# --------------------------------------------------------------------------- AppSync: attacks and errors


MIXED_MODE_ATTACKS = [
    pytest.param(
        appsync_event(iam_identity(), **{"x-api-key": "da2-forged"}),
        {},
        {"mode": AuthMode.IAM, "api_key": None},
        id="IAM identity plus x-api-key header stays IAM without a key",
    ),
    pytest.param(
        appsync_event(up_identity(), **{"x-api-key": "da2-forged"}),
        {"auth_type": AUTH_TYPES[AuthMode.USER_POOLS]},
        {"mode": AuthMode.USER_POOLS, "api_key": None},
        id="UP identity plus x-api-key header stays UP without a key",
    ),
    pytest.param(
        appsync_event(oidc_identity(**{"cognito:groups": ["Admin"]})),
        {},
        {"mode": AuthMode.OIDC, "groups": ("Admin",)},
        id="OIDC token carrying cognito:groups stays OIDC",
    ),
    pytest.param(
        appsync_event(oidc_identity(**{"cognito:groups": ["Admin"]}), **{"authorization": "x"}),
        {"config": CONFIGURED},
        {"mode": AuthMode.OIDC},
        id="OIDC token with cognito:groups and a configured pool stays OIDC",
    ),
    pytest.param(
        appsync_event(None, **{"x-api-key": "da2-real", "authorization": "eyJ.forged.jwt"}),
        {},
        {"mode": AuthMode.API_KEY, "sub": None, "claims": {}, "api_key": "da2-real"},
        id="authorization header does not make an API-key call a user",
    ),
]


@pytest.mark.parametrize(("event", "kwargs", "expected"), MIXED_MODE_ATTACKS)
def test_mixed_mode_attack_is_not_fooled(
    event: dict[str, Any], kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert fields_of(Principal.from_appsync(event, **kwargs), expected) == expected


def _without_identity() -> dict[str, Any]:
    event = appsync_event(None)
    del event["identity"]
    return event


APPSYNC_ERRORS = [
    # inconsistent with authType
    (
        "authType API key but identity present",
        appsync_event(up_identity()),
        AUTH_TYPES[AuthMode.API_KEY],
        None,
    ),
    ("authType UP but identity null", appsync_event(None), AUTH_TYPES[AuthMode.USER_POOLS], None),
    ("authType IAM but UP identity", appsync_event(up_identity()), AUTH_TYPES[AuthMode.IAM], None),
    ("authType UP but IAM identity", appsync_event(iam_identity()), AUTH_TYPES[AuthMode.USER_POOLS], None),
    (
        "authType OIDC but lambda identity",
        appsync_event({"resolverContext": {}}),
        AUTH_TYPES[AuthMode.OIDC],
        None,
    ),
    ("authType lambda but UP identity", appsync_event(up_identity()), AUTH_TYPES[AuthMode.LAMBDA], None),
    ("UP without sub", appsync_event(up_identity(sub=None, claims={"iss": POOL_ISSUER})), None, None),
    (
        "authType UP without sub",
        appsync_event({"claims": {"iss": POOL_ISSUER}}),
        AUTH_TYPES[AuthMode.USER_POOLS],
        None,
    ),
    (
        "authType UP from unconfigured issuer",
        appsync_event(oidc_identity()),
        AUTH_TYPES[AuthMode.USER_POOLS],
        CONFIGURED,
    ),
    ("unknown authType", appsync_event(None), "API_KEY", None),
    ("authType not a string", appsync_event(None), 1, None),
    (
        "event authType contradicts argument",
        {**appsync_event(None), "authType": AUTH_TYPES[AuthMode.IAM]},
        AUTH_TYPES[AuthMode.API_KEY],
        None,
    ),
    # forged or broken shapes
    ("claims and userArn together", appsync_event({**up_identity(), "userArn": FN_ARN}), None, None),
    (
        "resolverContext and claims together",
        appsync_event({**up_identity(), "resolverContext": {}}),
        None,
        None,
    ),
    ("issuer disagrees with claims.iss", appsync_event(up_identity(issuer=OTHER_POOL_ISSUER)), None, None),
    ("sub disagrees with claims.sub", appsync_event(up_identity(sub="someone-else")), None, None),
    ("empty identity", appsync_event({}), None, None),
    ("identity told by accountId alone", appsync_event({"accountId": ACCOUNT}), None, None),
    # types
    ("event is a list (BatchInvoke)", [appsync_event(None)], None, None),
    ("event is None", None, None, None),
    ("no identity key", _without_identity(), None, None),
    ("identity is a list", appsync_event([up_identity()]), None, None),
    ("identity is a string", appsync_event("alice"), None, None),
    ("sub is a number", appsync_event(up_identity(sub=42)), None, None),
    ("username is a list", appsync_event(up_identity(username=["alice"])), None, None),
    ("claims is a string", appsync_event(up_identity(claims="{}")), None, None),
    (
        "claims.iss is a number",
        appsync_event(up_identity(issuer=None, claims={"sub": ALICE_SUB, "iss": 1})),
        None,
        None,
    ),
    ("groups is a string", appsync_event(up_identity(groups="Admin")), None, None),
    ("sourceIp is a string", appsync_event(up_identity(sourceIp="203.0.113.10")), None, None),
    ("userArn is a number", appsync_event(iam_identity(12)), None, None),
    ("userArn is not an ARN", appsync_event(iam_identity("Admin")), None, None),
    ("IAM identity without userArn", appsync_event(iam_identity(None)), None, None),
    (
        "unknown identity-pool auth type",
        appsync_event(iam_identity(cognitoIdentityAuthType="admin")),
        None,
        None,
    ),
    (
        "malformed CognitoSignIn sub",
        appsync_event(iam_identity(cognitoIdentityAuthProvider=f"{PROVIDER}:CognitoSignIn:")),
        None,
        None,
    ),
    ("resolverContext is a list", appsync_event({"resolverContext": ["u-42"]}), None, None),
    (
        "resolverContext has a nested object",
        appsync_event({"resolverContext": {"user": {"sub": "u"}}}),
        None,
        None,
    ),
    (
        "resolverContext list holds a number",
        appsync_event({"resolverContext": {"groups": ["a", 1]}}),
        None,
        None,
    ),
    ("API key header is a list", appsync_event(None, **{"x-api-key": ["k"]}), None, None),
    ("request is a string", {**appsync_event(None), "request": "x"}, None, None),
]


@pytest.mark.parametrize(
    ("event", "auth_type", "config"),
    [pytest.param(event, auth_type, config, id=name) for name, event, auth_type, config in APPSYNC_ERRORS],
)
def test_bad_appsync_identity_fails_closed(event: Any, auth_type: Any, config: IdentityConfig | None) -> None:
    with pytest.raises(IdentityError) as raised:
        Principal.from_appsync(event, auth_type=auth_type, config=config)
    assert isinstance(raised.value, Unauthorized)
    assert raised.value.message


def test_appsync_errors_say_what_is_wrong() -> None:
    with pytest.raises(IdentityError, match=r"identity\.sub must be a string"):
        Principal.from_appsync(appsync_event(up_identity(sub=42)))
    with pytest.raises(IdentityError, match="'identity' key"):
        Principal.from_appsync(_without_identity())
    with pytest.raises(IdentityError, match=r"identity\.groups holds an empty group name"):
        Principal.from_appsync(appsync_event(up_identity(groups=["Admin", ""])))


# --------------------------------------------------------------------------- IAM ARNs


@pytest.mark.parametrize(
    ("user_arn", "role_name", "role_arn"),
    [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/AdminX/s", "AdminX", f"arn:aws:iam::{ACCOUNT}:role/AdminX"),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/AdminX", "Admin", f"arn:aws:iam::{ACCOUNT}:role/Admin"),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/NotAdminAtAll/x",
            "NotAdminAtAll",
            f"arn:aws:iam::{ACCOUNT}:role/NotAdminAtAll",
        ),
        (
            f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/Admin/s@x.com",
            "Admin",
            f"arn:aws-us-gov:iam::{ACCOUNT}:role/Admin",
        ),
        (f"arn:aws:iam::{ACCOUNT}:user/Admin", None, None),
        (f"arn:aws:iam::{ACCOUNT}:role/Admin", None, None),
        (f"arn:aws:iam::{ACCOUNT}:root", None, None),
        (f"arn:aws:sts::{ACCOUNT}:federated-user/Admin", None, None),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin", None, None),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s/extra", None, None),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role//s", None, None),
        (f"arn:aws:sts:us-east-1:{ACCOUNT}:assumed-role/Admin/s", None, None),
        ("arn:aws:sts::12345:assumed-role/Admin/s", None, None),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s:assumed-role/Other/t", None, None),
    ],
)
def test_role_name_is_parsed_exactly_never_by_substring(
    user_arn: str, role_name: str | None, role_arn: str | None
) -> None:
    iam = IamIdentity.parse(user_arn)
    assert (iam.role_name, iam.role_arn) == (role_name, role_arn)


@pytest.mark.parametrize(
    "user_arn", ["Admin", "", "arn:aws", "arn::sts::1:x", f"role:aws:sts::{ACCOUNT}:assumed-role/A/s"]
)
def test_not_an_arn_is_rejected(user_arn: str) -> None:
    with pytest.raises(IdentityError):
        IamIdentity.parse(user_arn)


@pytest.mark.parametrize(
    ("auth_provider", "user_pool_sub", "user_pool_issuer"),
    [
        (f'"{PROVIDER}","{PROVIDER}:CognitoSignIn:{ALICE_SUB}"', ALICE_SUB, POOL_ISSUER),
        (f"{PROVIDER},{PROVIDER}:CognitoSignIn:{ALICE_SUB}", ALICE_SUB, POOL_ISSUER),
        (f"{PROVIDER}:CognitoSignIn:{ALICE_SUB}", ALICE_SUB, POOL_ISSUER),
        (
            f"{PROVIDER}:CognitoSignIn:x:CognitoSignIn:{ALICE_SUB}",
            ALICE_SUB,
            f"https://{PROVIDER}:CognitoSignIn:x",
        ),
        ("graph.facebook.com", None, None),
        (None, None, None),
    ],
)
def test_user_pool_sub_is_the_text_after_the_last_cognito_sign_in(
    auth_provider: str | None, user_pool_sub: str | None, user_pool_issuer: str | None
) -> None:
    iam = IamIdentity.parse(AUTH_ARN, auth_type="authenticated", auth_provider=auth_provider)
    assert (iam.user_pool_sub, iam.user_pool_issuer) == (user_pool_sub, user_pool_issuer)


@pytest.mark.parametrize("tail", ["", '""', "a b", 'a","b'])
def test_malformed_cognito_sign_in_sub_is_rejected(tail: str) -> None:
    with pytest.raises(IdentityError):
        IamIdentity.parse(AUTH_ARN, auth_provider=f"{PROVIDER}:CognitoSignIn:{tail}")


# --------------------------------------------------------------------------- claim / claim_list


@pytest.mark.parametrize(
    ("claims", "name", "expected"),
    [
        ({"username": "alice", "cognito:username": "other"}, "username", "alice"),
        ({"cognito:username": "alice"}, "username", "alice"),
        ({"username": "", "cognito:username": "alice"}, "username", "alice"),
        ({"cognito:username": "alice"}, "cognito:username", "alice"),
        ({"user_id": "u-42"}, "user_id", "u-42"),
        ({"user_id": 42}, "user_id", "42"),
        ({"ratio": 1.5}, "ratio", "1.5"),
        ({"flag": True}, "flag", "true"),
        ({"nan": float("nan")}, "nan", None),
        ({"user_id": ""}, "user_id", None),
        ({"user_id": None}, "user_id", None),
        ({"user_id": ["u-42"]}, "user_id", None),
        ({"user_id": {"id": "u-42"}}, "user_id", None),
        ({}, "user_id", None),
        ({"custom:tenant": "t-1"}, "tenant", None),
    ],
)
def test_claim_reads_scalars_as_text(claims: dict[str, Any], name: str, expected: str | None) -> None:
    assert Principal(AuthMode.OIDC, claims=claims).claim(name) == expected
    assert Principal(AuthMode.LAMBDA, resolver_context=claims).claim(name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["Admin", "Sales"], ("Admin", "Sales")),
        (["Admin", 1, None, "", ["Sales"]], ("Admin",)),
        ('["Admin","Sales"]', ("Admin", "Sales")),
        ('["Admin", 1]', ()),
        ("[]", ()),
        ("[Admin Sales]", ()),
        ("[Admin, Sales]", ()),
        ("Admin,Sales", ()),
        ("Admin Sales", ()),
        (" Admin ,  Sales ", ()),
        ("Junior Moderator", ()),
        ("Admin", ("Admin",)),
        ("NotModerator", ("NotModerator",)),
        ("", ()),
        (None, ()),
        (42, ()),
        ({"Admin": True}, ()),
    ],
)
def test_claim_list_normalises_to_exact_names(value: Any, expected: tuple[str, ...]) -> None:
    assert Principal(AuthMode.USER_POOLS, claims={"g": value}).claim_list("g") == expected
    assert Principal(AuthMode.LAMBDA, resolver_context={"g": value}).claim_list("g") == expected


def test_claim_list_is_never_a_substring_test() -> None:
    principal = Principal(AuthMode.USER_POOLS, claims={"user_groups": "NotModerator"})
    assert "Moderator" not in principal.claim_list("user_groups")


def test_claim_survives_pathological_values() -> None:
    principal = Principal(AuthMode.OIDC, claims={"deep": "[" * 100_000 + "]" * 100_000, "big": 10**5000})
    assert principal.claim_list("deep") == ()  # not a JSON array it can read: no groups
    assert principal.claim("big") is None


def _deeply_nested(depth: int) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for _ in range(depth):
        nested = {"a": nested}
    return nested


def test_deeply_nested_claims_fail_closed() -> None:
    claims = {"sub": "s", "iss": OIDC_ISSUER, "address": _deeply_nested(100_000)}
    with pytest.raises(IdentityError, match="nested too deeply"):
        Principal.from_appsync(appsync_event({"claims": claims}))
    with pytest.raises(IdentityError, match="nested too deeply"):
        Principal.from_apigw(http_event({"jwt": {"claims": claims}}))


def test_claims_mode_does_not_read_resolver_context_and_lambda_does_not_read_claims() -> None:
    assert Principal(AuthMode.OIDC, resolver_context={"sub": "x"}).claim("sub") is None
    assert Principal(AuthMode.LAMBDA, claims={"sub": "x"}).claim("sub") is None


# --------------------------------------------------------------------------- API Gateway


def rest_event(authorizer: Any = None, **identity: Any) -> dict[str, Any]:
    """A REST proxy event (payload 1.0, shape of Powertools' apiGatewayProxyEvent.json)."""
    request_identity = {
        "accessKey": None,
        "accountId": None,
        "apiKey": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "sourceIp": "192.168.0.1",
        "user": None,
        "userAgent": "user-agent",
        "userArn": None,
        **identity,
    }
    context = {"accountId": ACCOUNT, "apiId": "id", "stage": "prod", "identity": request_identity}
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {"version": "1.0", "resource": "/todos/{id}", "httpMethod": "GET", "requestContext": context}


def http_event(authorizer: Any = None) -> dict[str, Any]:
    """An HTTP API proxy event (payload 2.0, shape of Powertools' apiGatewayProxyV2Event.json)."""
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": "api-id",
        "http": {"method": "GET", "path": "/todos/1", "sourceIp": "192.168.0.2", "userAgent": "agent"},
        "routeKey": "GET /todos/{id}",
        "stage": "$default",
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {"version": "2.0", "routeKey": "GET /todos/{id}", "rawPath": "/todos/1", "requestContext": context}


def rest_cognito_claims(groups: str | None) -> dict[str, Any]:
    """REST Cognito authorizer claims: every value a string (ID token)."""
    claims = {
        "sub": ALICE_SUB,
        "iss": POOL_ISSUER,
        "cognito:username": "alice",
        "aud": "3n4b5urk1ft4fl3mg5e62d9ado",
        "token_use": "id",
        "auth_time": "1735689600",
        "exp": "Wed Jan 01 01:00:00 UTC 2025",
    }
    if groups is not None:
        claims["cognito:groups"] = groups
    return claims


HTTP_IAM = {
    "accessKey": "ARIA2ZJZYVUEREEIHAKY",
    "accountId": "1234567890",
    "callerId": "AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials",
    "cognitoIdentity": {
        "amr": ["foo"],
        "identityId": "us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce",
        "identityPoolId": "us-east-1:4f291106-8703-466b-8f2b-3ecee1ca56ce",
    },
    "principalOrgId": "AwsOrgId",
    "userArn": "arn:aws:iam::1234567890:user/Admin",
    "userId": "AROA2ZJZYVRE7Y3TUXHH6",
}
HTTP_IAM_SIGNED_IN = {
    **HTTP_IAM,
    "userArn": AUTH_ARN,
    "cognitoIdentity": {
        "amr": ["authenticated", PROVIDER, f"{PROVIDER}:CognitoSignIn:{ALICE_SUB}"],
        "identityId": "us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce",
        "identityPoolId": "us-east-1:4f291106-8703-466b-8f2b-3ecee1ca56ce",
    },
}

APIGW_SHAPES = [
    pytest.param(
        rest_event({"claims": rest_cognito_claims("Admin,Sales")}),
        None,
        {
            "mode": AuthMode.USER_POOLS,
            "sub": ALICE_SUB,
            "username": "alice",
            "issuer": POOL_ISSUER,
            "groups": (),
        },
        id="REST Cognito authorizer, groups comma-joined: names may hold commas, no groups",
    ),
    pytest.param(
        rest_event({"claims": rest_cognito_claims("Admin,Sales")}),
        IdentityConfig(cognito_groups_without_commas=True),
        {"mode": AuthMode.USER_POOLS, "groups": ("Admin", "Sales")},
        id="REST Cognito authorizer, groups comma-joined, names declared comma-free",
    ),
    pytest.param(
        rest_event({"claims": rest_cognito_claims("[Admin Sales]")}),
        CONFIGURED,
        {"mode": AuthMode.USER_POOLS, "groups": (), "source_ip": ("192.168.0.1",)},
        id="REST Cognito authorizer, groups bracketed: not a REST shape, no groups",
    ),
    pytest.param(
        rest_event({"claims": rest_cognito_claims("team_manager"), "scopes": None}),
        None,
        {"mode": AuthMode.USER_POOLS, "groups": ("team_manager",)},
        id="REST Cognito authorizer, one group",
    ),
    pytest.param(
        rest_event({"user_id": "fake_username", "principalId": "fake", "integrationLatency": 451}),
        None,
        {
            "mode": AuthMode.LAMBDA,
            "sub": None,
            "resolver_context": {"user_id": "fake_username", "principalId": "fake"},
        },
        id="REST Lambda authorizer (Powertools apiGatewayProxyEventPrincipalId.json)",
    ),
    pytest.param(
        rest_event(
            {"principalId": "user|a1", "sub": ALICE_SUB, "username": "alice", "groups": '["Admin","Sales"]'}
        ),
        None,
        {"mode": AuthMode.LAMBDA, "sub": ALICE_SUB, "username": "alice", "groups": ("Admin", "Sales")},
        id="REST Lambda authorizer passing our identity keys",
    ),
    pytest.param(
        rest_event(
            None,
            accountId=ACCOUNT,
            userArn=AUTH_ARN,
            cognitoIdentityId="us-east-1:3b2e",
            cognitoIdentityPoolId="us-east-1:0c9c",
            cognitoAuthenticationType="authenticated",
            cognitoAuthenticationProvider=f"{PROVIDER},{PROVIDER}:CognitoSignIn:{ALICE_SUB}",
        ),
        None,
        {
            "mode": AuthMode.IAM,
            "sub": ALICE_SUB,
            "iam.role_name": "amplify-app-dev-authRole",
            "iam.identity_id": "us-east-1:3b2e",
        },
        id="REST IAM, signed-in identity-pool user",
    ),
    pytest.param(
        rest_event(None, accountId=ACCOUNT, userArn=f"arn:aws:iam::{ACCOUNT}:user/ops", apiKey="key-1"),
        None,
        {"mode": AuthMode.IAM, "iam.role_name": None, "api_key": None},
        id="REST IAM user with an API key stays IAM",
    ),
    pytest.param(
        rest_event({"claims": None, "scopes": None}, apiKey="key-1"),
        None,
        {"mode": AuthMode.API_KEY, "api_key": "key-1", "sub": None},
        id="REST API key",
    ),
    pytest.param(
        http_event({"jwt": {"claims": {**rest_cognito_claims("[Admin Sales]")}, "scopes": None}}),
        None,
        {
            "mode": AuthMode.USER_POOLS,
            "sub": ALICE_SUB,
            "groups": ("Admin", "Sales"),
            "source_ip": ("192.168.0.2",),
        },
        id="HTTP JWT from a Cognito issuer, no pools configured",
    ),
    pytest.param(
        http_event({"jwt": {"claims": {"sub": "s", "iss": POOL_ISSUER}, "scopes": ["a"]}}),
        CONFIGURED,
        {"mode": AuthMode.USER_POOLS},
        id="HTTP JWT from the configured pool",
    ),
    pytest.param(
        http_event({"jwt": {"claims": {"sub": "s", "iss": OTHER_POOL_ISSUER}}}),
        CONFIGURED,
        {"mode": AuthMode.OIDC},
        id="HTTP JWT from another pool is OIDC",
    ),
    pytest.param(
        http_event(
            {"jwt": {"claims": {"claim1": "value1", "cognito:groups": "[Admin]"}, "scopes": ["scope1"]}}
        ),
        None,
        {"mode": AuthMode.OIDC, "sub": None, "groups": ("Admin",)},
        id="HTTP JWT from a third-party issuer (Powertools apiGatewayProxyV2Event.json)",
    ),
    pytest.param(
        http_event({"lambda": {"sub": "u-42", "groups": '["Admin"]', "tenant": "t-1"}}),
        None,
        {"mode": AuthMode.LAMBDA, "sub": "u-42", "groups": ("Admin",)},
        id="HTTP Lambda authorizer",
    ),
    pytest.param(
        http_event({"lambda": None}),
        None,
        {"mode": AuthMode.LAMBDA, "resolver_context": {}},
        id="HTTP Lambda authorizer without context",
    ),
    pytest.param(
        http_event({"iam": HTTP_IAM}),
        None,
        {
            "mode": AuthMode.IAM,
            "sub": None,
            "iam.user_arn": "arn:aws:iam::1234567890:user/Admin",
            "iam.role_name": None,
            "iam.account_id": "1234567890",
            "iam.identity_id": "us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce",
            "iam.auth_type": None,
        },
        id="HTTP IAM user (Powertools apiGatewayProxyV2IamEvent.json)",
    ),
    pytest.param(
        http_event({"iam": HTTP_IAM_SIGNED_IN}),
        CONFIGURED,
        {
            "mode": AuthMode.IAM,
            "sub": ALICE_SUB,
            "iam.auth_type": "authenticated",
            "iam.role_name": "amplify-app-dev-authRole",
        },
        id="HTTP IAM signed-in identity-pool user",
    ),
]


@pytest.mark.parametrize(("event", "config", "expected"), APIGW_SHAPES)
def test_apigw_event_gives_principal(
    event: dict[str, Any], config: IdentityConfig | None, expected: dict[str, Any]
) -> None:
    assert fields_of(Principal.from_apigw(event, config=config), expected) == expected


def _rest_cognito_without_sub() -> dict[str, Any]:
    claims = rest_cognito_claims(None)
    del claims["sub"]
    return rest_event({"claims": claims})


APIGW_ERRORS = [
    pytest.param(rest_event({"claims": None, "scopes": None}), None, id="REST without any caller identity"),
    pytest.param(http_event(), None, id="HTTP without authorizer"),
    pytest.param(http_event({}), None, id="HTTP with empty authorizer"),
    pytest.param(None, None, id="event is None"),
    pytest.param({"version": "2.0"}, None, id="no requestContext"),
    pytest.param({"requestContext": []}, None, id="requestContext is a list"),
    pytest.param(http_event(["jwt"]), None, id="authorizer is a list"),
    pytest.param(http_event({"jwt": {"scopes": []}}), None, id="JWT authorizer without claims"),
    pytest.param(http_event({"jwt": "token"}), None, id="jwt is a string"),
    pytest.param(
        http_event({"jwt": {"claims": {"sub": "s"}}, "lambda": {"sub": "t"}}),
        None,
        id="JWT and Lambda together",
    ),
    pytest.param(
        rest_event({"claims": rest_cognito_claims(None), "iam": HTTP_IAM}), None, id="claims and IAM together"
    ),
    pytest.param(
        http_event({"lambda": {"nested": {"a": 1}}}), None, id="lambda context with a nested object"
    ),
    pytest.param(http_event({"iam": {"accountId": ACCOUNT}}), None, id="IAM without userArn"),
    pytest.param(rest_event({"claims": "sub=alice"}), None, id="REST claims is a string"),
    pytest.param(_rest_cognito_without_sub(), None, id="REST Cognito claims without sub"),
    pytest.param(
        rest_event({"claims": rest_cognito_claims(None)}),
        IdentityConfig(frozenset({OTHER_POOL_ISSUER})),
        id="REST Cognito token from an unconfigured pool",
    ),
    pytest.param(rest_event(None, userArn=7), None, id="REST userArn is a number"),
    pytest.param(rest_event(None, apiKey=["k"]), None, id="REST apiKey is a list"),
    pytest.param(rest_event(None, sourceIp=["1.2.3.4"]), None, id="REST sourceIp is a list"),
]


@pytest.mark.parametrize(("event", "config"), APIGW_ERRORS)
def test_bad_apigw_event_fails_closed(event: Any, config: IdentityConfig | None) -> None:
    with pytest.raises(IdentityError):
        Principal.from_apigw(event, config=config)


def test_apigw_without_identity_says_so() -> None:
    with pytest.raises(IdentityError, match=r"^no caller identity in the API Gateway event$"):
        Principal.from_apigw(http_event())


# --------------------------------------------------------------------------- IdentityConfig


@pytest.mark.parametrize(
    ("environ", "issuers"),
    [
        ({}, set()),
        ({"USER_POOL_ID": ""}, set()),
        (
            {"USER_POOL_ID": "eu-west-1_Ab12Cd34E", "AWS_REGION": "us-east-1"},
            {"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E"},
        ),
        (
            {"USER_POOL_ID": "pool", "AWS_REGION": "ap-south-1"},
            {"https://cognito-idp.ap-south-1.amazonaws.com/pool"},
        ),
        (
            {"USER_POOL_ID": "pool", "AWS_DEFAULT_REGION": "us-west-2"},
            {"https://cognito-idp.us-west-2.amazonaws.com/pool"},
        ),
        ({"USER_POOL_ID": "pool"}, {"https://cognito-idp.us-east-1.amazonaws.com/pool"}),
        (
            {"MODELAUTH_USER_POOL_ISSUERS": f" {POOL_ISSUER} ,, {OTHER_POOL_ISSUER}"},
            {POOL_ISSUER, OTHER_POOL_ISSUER},
        ),
        (
            {"USER_POOL_ID": "us-east-1_Ab12Cd34E", "MODELAUTH_USER_POOL_ISSUERS": OTHER_POOL_ISSUER},
            {POOL_ISSUER, OTHER_POOL_ISSUER},
        ),
    ],
)
def test_config_from_env(environ: dict[str, str], issuers: set[str]) -> None:
    assert IdentityConfig.from_env(environ).user_pool_issuers == issuers


def test_config_from_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_Ab12Cd34E")
    monkeypatch.delenv("MODELAUTH_USER_POOL_ISSUERS", raising=False)
    assert IdentityConfig.from_env() == CONFIGURED


# --------------------------------------------------------------------------- the Principal value


def test_principal_is_a_read_only_copy_of_the_event() -> None:
    identity = up_identity()
    principal = Principal.from_appsync(appsync_event(identity))
    identity["claims"]["username"] = "mallory"
    identity["claims"]["cognito:groups"].append("Root")
    assert principal.claim("username") == "alice"
    assert principal.claims["cognito:groups"] == ("Admin",)
    with pytest.raises(TypeError):
        principal.claims["username"] = "mallory"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        principal.sub = "mallory"  # type: ignore[misc]


def test_principal_hides_the_api_key_and_is_hashable() -> None:
    principal = Principal.from_appsync(appsync_event(None, **{"x-api-key": "da2-secretsecret"}))
    assert "da2-secretsecret" not in repr(principal)
    assert hash(principal) == hash(copy.deepcopy(principal))
    assert pickle.loads(pickle.dumps(principal)) == principal == copy.deepcopy(principal)  # noqa: S301 (own bytes)
    assert Principal(AuthMode.LAMBDA, resolver_context={"a": ["b"]}).resolver_context == {"a": ("b",)}


def test_principal_defaults_are_empty_and_not_shared() -> None:
    first, second = Principal(AuthMode.API_KEY), Principal(AuthMode.API_KEY)
    assert (first.claims, first.resolver_context, first.groups) == ({}, {}, ())
    assert first == second
