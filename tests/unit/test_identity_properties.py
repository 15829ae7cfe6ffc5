"""Properties of modelauth.identity that must hold for any input, not just the sample events.

1. Parsing an arbitrary mutation of a valid event returns a Principal or raises IdentityError.
2. ``claim_list`` only ever returns exact elements (or parsed / separated elements) of the claim.
3. A non-null identity is never API_KEY, whatever the headers or ``authType`` say.
"""

from __future__ import annotations

import copy
import json
import re
import string
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelauth.errors import IdentityError
from modelauth.identity import AuthMode, IamIdentity, IdentityConfig, Principal
from tests.conftest import EVENTS, load_event
from tests.unit.test_identity import (
    ACCOUNT,
    AUTH_TYPES,
    CONFIGURED,
    HTTP_IAM,
    HTTP_IAM_SIGNED_IN,
    PROVIDER,
    appsync_event,
    http_event,
    iam_identity,
    oidc_identity,
    rest_cognito_claims,
    rest_event,
    signed_in,
    up_identity,
)

APPSYNC_EVENTS = [load_event(path.stem) for path in sorted(EVENTS.glob("*.json"))] + [
    appsync_event(identity)
    for identity in (
        up_identity(),
        oidc_identity(),
        iam_identity(),
        signed_in(),
        {"resolverContext": {"sub": "s"}},
    )
]
APIGW_EVENTS = [
    rest_event({"claims": rest_cognito_claims("Admin,Sales")}),
    rest_event({"principalId": "user|a1", "sub": "a1", "groups": "Admin", "integrationLatency": 3}),
    rest_event(
        None, userArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", cognitoIdentityId="id", accountId=ACCOUNT
    ),
    rest_event(
        None,
        userArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
        cognitoAuthenticationType="authenticated",
        cognitoAuthenticationProvider=f"{PROVIDER},{PROVIDER}:CognitoSignIn:a1",
    ),
    rest_event({"claims": None, "scopes": None}, apiKey="key-1"),
    http_event({"jwt": {"claims": rest_cognito_claims("[Admin Sales]"), "scopes": ["a"]}}),
    http_event({"lambda": {"sub": "a1", "groups": '["Admin"]'}}),
    http_event({"iam": HTTP_IAM}),
    http_event({"iam": HTTP_IAM_SIGNED_IN}),
]

# Keys the parser looks at, so mutations hit the interesting places more often than random text.
KEYS = [
    "identity", "request", "headers", "x-api-key", "authType", "claims", "sub", "username", "issuer", "iss",
    "groups", "cognito:groups", "cognito:username", "defaultAuthStrategy", "sourceIp", "userArn", "accountId",
    "cognitoIdentityId", "cognitoIdentityPoolId", "cognitoIdentityAuthType", "cognitoIdentityAuthProvider",
    "resolverContext", "requestContext", "authorizer", "jwt", "lambda", "iam", "cognitoIdentity", "amr",
    "apiKey", "principalId", "integrationLatency", "cognitoAuthenticationType",
    "cognitoAuthenticationProvider", "http", "version",
]  # fmt: skip
INTERESTING_TEXT = [
    "",
    "[",
    "[]",
    "[Admin Sales]",
    "Admin,Sales",
    "authenticated",
    "unauthenticated",
    "arn:aws:sts::123456789012:assumed-role/Admin/AdminX",
    "arn:aws:iam::123456789012:user/Admin",
    f"{PROVIDER}:CognitoSignIn:",
    f'"{PROVIDER}","{PROVIDER}:CognitoSignIn:a1"',
    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E",
    *AUTH_TYPES.values(),
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(INTERESTING_TEXT + KEYS)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
auth_types = st.none() | st.sampled_from(list(AUTH_TYPES.values())) | scalars
configs = st.sampled_from([None, CONFIGURED, IdentityConfig(frozenset({"https://login.example.com/"}))])


def _mutate_once(data: st.DataObject, node: dict[str, Any] | list[Any]) -> None:
    """Replace, delete or add one value somewhere below ``node`` (a dict or list), in place."""
    keys: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
    if not keys:
        if isinstance(node, dict):
            node[data.draw(st.sampled_from(KEYS))] = data.draw(json_values)
        else:
            node.append(data.draw(json_values))
        return
    key = data.draw(st.sampled_from(keys))
    child = node[key]
    if isinstance(child, dict | list) and data.draw(st.booleans()):
        _mutate_once(data, child)
        return
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        node[key] = data.draw(json_values)
    elif action == "delete":
        del node[key]
    elif isinstance(node, dict):
        node[data.draw(st.sampled_from(KEYS) | st.text(max_size=6))] = data.draw(json_values)
    else:
        node.append(data.draw(json_values))


def _mutated(data: st.DataObject, events: list[dict[str, Any]]) -> dict[str, Any]:
    event = copy.deepcopy(data.draw(st.sampled_from(events)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        _mutate_once(data, event)
    return event


def _principal_or_identity_error(parse: Callable[[], Principal]) -> Principal | None:
    """Run ``parse``; only a well-formed Principal or an IdentityError may come out."""
    try:
        principal = parse()
    except IdentityError as error:
        message = error.message
    else:
        message = None
    if message is not None:
        assert message
        return None
    assert isinstance(principal, Principal)
    assert isinstance(principal.mode, AuthMode)
    assert all(isinstance(group, str) and group for group in principal.groups)
    assert principal.sub is None or (isinstance(principal.sub, str) and principal.sub)
    assert principal.api_key is None or principal.mode is AuthMode.API_KEY
    hash(principal)
    return principal


# --------------------------------------------------------------------------- 1. closed failure


@settings(max_examples=400, deadline=None)
@given(data=st.data(), auth_type=auth_types, config=configs)
def test_mutated_appsync_event_gives_principal_or_identity_error(
    data: st.DataObject, auth_type: Any, config: IdentityConfig | None
) -> None:
    event = _mutated(data, APPSYNC_EVENTS)
    principal = _principal_or_identity_error(
        lambda: Principal.from_appsync(event, auth_type=auth_type, config=config)
    )
    if principal is not None and event.get("identity") is not None:
        assert principal.mode is not AuthMode.API_KEY


@settings(max_examples=400, deadline=None)
@given(data=st.data(), config=configs)
def test_mutated_apigw_event_gives_principal_or_identity_error(
    data: st.DataObject, config: IdentityConfig | None
) -> None:
    event = _mutated(data, APIGW_EVENTS)
    principal = _principal_or_identity_error(lambda: Principal.from_apigw(event, config=config))
    if principal is not None and principal.mode is AuthMode.API_KEY:
        # API_KEY only from a REST call whose only caller data is the key
        assert principal.api_key == event["requestContext"]["identity"]["apiKey"]


@settings(max_examples=200, deadline=None)
@given(event=json_values, auth_type=auth_types)
def test_arbitrary_json_event_gives_principal_or_identity_error(event: Any, auth_type: Any) -> None:
    _principal_or_identity_error(lambda: Principal.from_appsync(event, auth_type=auth_type))
    _principal_or_identity_error(lambda: Principal.from_apigw(event))


# --------------------------------------------------------------------------- 2. claim_list is exact

claim_text = st.text(alphabet=st.sampled_from('ab[]", \t\n,{}:1\\') | st.characters(), max_size=30)
claim_values = json_values | claim_text | st.lists(claim_text | scalars, max_size=5).map(json.dumps)
group_names = st.text(alphabet=string.ascii_letters + string.digits + "_-.@+=:", min_size=1, max_size=12)
SEPARATORS = re.compile(r"[\s,]+")


def _allowed_items(value: Any) -> set[str]:
    """Every string claim_list may return for ``value``: elements, parsed elements, separated words."""
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    if not isinstance(value, str):
        return set()
    text = value.strip()
    allowed = set(SEPARATORS.split(text)) | set(SEPARATORS.split(text[1:-1]))
    try:
        parsed = json.loads(text)
    except ValueError:
        return allowed
    return allowed | (
        {item for item in parsed if isinstance(item, str)} if isinstance(parsed, list) else set()
    )


@given(value=claim_values)
def test_claim_list_returns_only_elements_of_the_claim(value: Any) -> None:
    items = Principal(AuthMode.OIDC, claims={"groups": value}).claim_list("groups")
    assert isinstance(items, tuple)
    assert all(isinstance(item, str) and item for item in items)
    assert set(items) <= _allowed_items(value)


@given(names=st.lists(group_names, max_size=5))
def test_claim_list_round_trips_lists_and_json_arrays_and_never_splits(names: list[str]) -> None:
    expected = tuple(names)
    for rendering in (names, json.dumps(names)):
        assert Principal(AuthMode.USER_POOLS, claims={"g": rendering}).claim_list("g") == expected
    for joined in (",".join(names), " ".join(names), ", ".join(names)):
        # one name, or a list someone joined? only a lone name reads as itself
        read = Principal(AuthMode.USER_POOLS, claims={"g": joined}).claim_list("g")
        assert read == (expected if len(names) == 1 else ())


@given(claimed=group_names, group=group_names)
def test_a_group_is_held_only_by_exact_name(claimed: str, group: str) -> None:
    principal = Principal(AuthMode.USER_POOLS, claims={"cognito:groups": claimed})
    assert (group in principal.claim_list("cognito:groups")) == (claimed == group)


# --------------------------------------------------------------------------- 3. identity is never API_KEY

identities = json_values.filter(lambda value: value is not None) | st.dictionaries(
    st.sampled_from(KEYS), json_values, max_size=6
)


@settings(max_examples=300, deadline=None)
@given(identity=identities, auth_type=auth_types, config=configs, api_key=st.text(max_size=8))
def test_non_null_identity_is_never_api_key(
    identity: Any, auth_type: Any, config: IdentityConfig | None, api_key: str
) -> None:
    event = appsync_event(identity, **{"x-api-key": api_key})
    principal = _principal_or_identity_error(
        lambda: Principal.from_appsync(event, auth_type=auth_type, config=config)
    )
    assert principal is None or (principal.mode is not AuthMode.API_KEY and principal.api_key is None)


# --------------------------------------------------------------------------- ARNs

role_names = st.from_regex(re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}"), fullmatch=True)


@given(role=role_names, session=role_names, partition=st.sampled_from(["aws", "aws-cn", "aws-us-gov"]))
def test_role_name_is_exactly_the_assumed_role_segment(role: str, session: str, partition: str) -> None:
    iam = IamIdentity.parse(f"arn:{partition}:sts::{ACCOUNT}:assumed-role/{role}/{session}")
    assert iam.role_name == role
    assert iam.role_arn == f"arn:{partition}:iam::{ACCOUNT}:role/{role}"


@given(name=role_names)
def test_iam_user_arn_never_has_a_role(name: str) -> None:
    assert IamIdentity.parse(f"arn:aws:iam::{ACCOUNT}:user/{name}").role_name is None
