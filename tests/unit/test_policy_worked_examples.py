"""Spec §12 "Worked decisions" #1-#38 as one decision table, asserted at the decision level.

Each row: caller, model, operation, stored item / input → allowed, a fragment of the reason,
the constraint the store must enforce, the owner stamped on create, denied input fields,
fields nulled on read, and items the decision must accept or reject. Rows that depend on the
store (#8 get of a missing id, #9 pages, #14 update of a missing id) are asserted through the
constraint the store is handed. Ids marked ``project-differs`` are deliberate deviations from
Amplify (spec §3.4, §4, §5.2, §5.4 project choices).

The fixtures here (callers, models M1-M10, :class:`Call`, :class:`Expect`) are shared by the
other policy tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from _pytest.mark import ParameterSet

from modelauth.identity import AuthMode, IamIdentity, Principal
from modelauth.policy import AuthConfig, Decision, decide, denied_read_fields, present
from modelauth.rules import Field, Model, Rule, allow

READ = ["read"]

# --------------------------------------------------------------------------- callers


def user(
    sub: str, username: str, *groups: str, mode: AuthMode = AuthMode.USER_POOLS, **claims: Any
) -> Principal:
    """A user-pool (or OIDC) caller; ``claims`` are extra token claims."""
    token: dict[str, Any] = {"sub": sub, "username": username, **claims}
    if groups:
        token["cognito:groups"] = list(groups)
    return Principal(mode, sub=sub, username=username, claims=token, groups=groups)


def oidc(**claims: Any) -> Principal:
    """An OIDC caller with exactly these claims (no username unless given)."""
    return Principal(AuthMode.OIDC, sub=claims.get("sub"), claims=claims)


ALICE = user("A1", "alice")
BOB = user("B2", "bob")
CAROL = user("C3", "carol", "Admin")
DAVE = user("D4", "dave", "Sales")
API_KEY = Principal(AuthMode.API_KEY, api_key="da2-abcdefghijklmnopqrstuvwxyz")
LAMBDA = Principal(AuthMode.LAMBDA, sub="u-42", resolver_context={"sub": "u-42", "username": "kim"})

ACCOUNT = "123456789012"
POOL = "us-east-1:0c9c5d0e-1111-2222-3333-444455556666"
OTHER_POOL = "us-east-1:99999999-1111-2222-3333-444455556666"
AUTH_ROLE_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/amplify-app-dev-authRole/CognitoIdentityCredentials"
UNAUTH_ROLE_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/amplify-app-dev-unauthRole/CognitoIdentityCredentials"
CONFIG = AuthConfig(
    identity_pool_id=POOL,
    auth_role_arns=frozenset({AUTH_ROLE_ARN}),
    unauth_role_arns=frozenset({UNAUTH_ROLE_ARN}),
)
POOL_ONLY = AuthConfig(identity_pool_id=POOL)
ROLES_ONLY = AuthConfig(auth_role_arns=CONFIG.auth_role_arns, unauth_role_arns=CONFIG.unauth_role_arns)
GENERIC_IAM = AuthConfig(generic_iam_access=True)


def iam(role: str, session: str = "CognitoIdentityCredentials", **cognito: str) -> Principal:
    """An AWS_IAM caller on ``role`` (``cognito``: identity_pool_id, identity_id, auth_type)."""
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"
    return Principal(AuthMode.IAM, iam=IamIdentity.parse(arn, account_id=ACCOUNT, **cognito))


def pool_identity(
    role: str, auth_type: str, pool: str = POOL, identity_id: str = "us-east-1:guest-1"
) -> Principal:
    return iam(role, identity_pool_id=pool, identity_id=identity_id, auth_type=auth_type)


GUEST = pool_identity("amplify-app-dev-unauthRole", "unauthenticated")
SIGNED_IN = pool_identity("amplify-app-dev-authRole", "authenticated", identity_id="us-east-1:user-1")
BACKEND = iam("todo-fn-role", "todo-fn")

# --------------------------------------------------------------------------- models (spec §12)

M1 = Model("Todo", fields=[Field("content")], rules=[allow.owner()])
M1_TRANSFER = Model("Todo", fields=[Field("content")], rules=[allow.owner().allow_transfer()])
M2 = Model("Post", fields=[Field("title")], rules=[allow.public_api_key().to(READ), allow.owner()])
M3 = Model("Salary", fields=[Field("amount", "Int")], rules=[allow.group("Admin")])
M4 = Model(
    "Doc",
    fields=[Field("title")],
    rules=[allow.owners_defined_in("editors"), allow.groups_defined_in("groups").to(READ)],
)
M5 = Model(
    "Employee",
    fields=[Field("name"), Field("ssn", rules=[allow.owner()])],
    rules=[allow.authenticated().to(READ), allow.owner()],
)
M6 = Model(
    "Note", fields=[Field("text")], rules=[allow.guest().to(READ), allow.authenticated("identityPool")]
)
M6_GUEST_ONLY = Model("Note", fields=[Field("text")], rules=[allow.guest()])
M7 = Model("Ticket", fields=[Field("title")], rules=[allow.custom()])
M8 = Model(
    "Todo2",
    fields=[Field("content"), Field("owner", rules=[allow.owner().to(["read", "delete"])])],
    rules=[allow.owner()],
)
M9 = Model("Item", fields=[Field("name")], rules=[allow.owner("oidc").identity_claim("user_id")])
M10 = Model(
    "Report", fields=[Field("body")], rules=[allow.groups(["Moderator"]).with_claim_in("user_groups")]
)
M1_TENANT = Model("Todo", fields=[Field("content")], rules=[allow.owner().identity_claim("custom:tenant")])
ADMIN_ROLE = Model("Audit", fields=[Field("entry")], rules=[allow.resource("Admin")])

ALICE_TODO = {"id": "t1", "content": "buy milk", "owner": "A1::alice"}
BOB_TODO = {"id": "t2", "content": "walk the dog", "owner": "B2::bob"}
ALICE_OWNS = "owner in ['A1::alice', 'A1', 'alice']"
BOB_OWNS = "owner in ['B2::bob', 'B2', 'bob']"

# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Call:
    """One request to :func:`decide`."""

    caller: Principal
    model: Model
    op: str
    item: Mapping[str, Any] | None = None
    input: Mapping[str, Any] | None = None
    config: AuthConfig = CONFIG

    def decide(self) -> Decision:
        return decide(self.caller, self.model, self.op, item=self.item, input=self.input, config=self.config)


@dataclass(frozen=True, kw_only=True)
class Expect:
    """What the decision must say; unset fields are not checked except as noted."""

    allowed: bool
    reason: str = ""  # a fragment of Decision.reason
    constraint: str | None = None  # Constraint.describe(); None: unconditional (checked when allowed)
    stamp: Mapping[str, Any] = field(default_factory=dict)
    denied: frozenset[str] = frozenset()
    hidden: frozenset[str] | None = None  # denied_read_fields(item) for a read of ``item``
    accepts: Sequence[Mapping[str, Any]] = ()  # stored items the decision permits
    rejects: Sequence[Mapping[str, Any]] = ()  # stored items it does not


def assert_decision(call: Call, expect: Expect) -> Decision:
    """Check ``call``'s decision against ``expect`` (shared by every policy table)."""
    decision = call.decide()
    assert decision.allowed is expect.allowed, decision.reason
    assert expect.reason in decision.reason
    assert decision.model == call.model.name
    if expect.allowed:
        assert (decision.constraint.describe() if decision.constraint else None) == expect.constraint
    assert dict(decision.owner_stamp) == dict(expect.stamp)
    assert decision.denied_input_fields == expect.denied
    if expect.hidden is not None:
        assert call.item is not None
        assert denied_read_fields(call.caller, call.model, call.op, call.item, call.config) == expect.hidden
    assert [decision.permits(i) for i in expect.accepts] == [True] * len(expect.accepts)
    assert [decision.permits(i) for i in expect.rejects] == [False] * len(expect.rejects)
    return decision


def row(
    name: str,
    caller: Principal,
    model: Model,
    op: str,
    *,
    item: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    config: AuthConfig = CONFIG,
    **expect: Any,
) -> ParameterSet:
    return pytest.param(Call(caller, model, op, item, input, config), Expect(**expect), id=name)


WORKED = [
    row("01-create-owner-omitted-is-auto-filled", ALICE, M1, "create", input={"content": "x"},
        allowed=True, reason="owner(owner) via userPools allows create", stamp={"owner": "A1::alice"}),
    row("02-create-for-someone-else-denied", ALICE, M1, "create", input={"owner": "B2::bob"},
        allowed=False, reason="caller is 'A1::alice', input owner is 'B2::bob'"),
    row("03-create-with-own-username-stored-verbatim", ALICE, M1, "create", input={"owner": "alice"},
        allowed=True),
    row("04-create-with-explicit-null-owner-denied-not-filled", ALICE, M1, "create", input={"owner": None},
        allowed=False, reason="input owner is None"),
    row("05-get-own-item", ALICE, M1, "get", item=ALICE_TODO, allowed=True),
    row("06-get-legacy-username-owner", ALICE, M1, "get", item={"id": "t0", "owner": "alice"}, allowed=True),
    row("07-get-someone-elses-item-denied", BOB, M1, "get", item=ALICE_TODO,
        allowed=False, reason="caller is 'B2::bob', item owner is 'A1::alice'"),
    row("08-get-before-the-read-is-a-constraint-a-missing-item-is-null", BOB, M1, "get",
        allowed=True, constraint=BOB_OWNS, rejects=[ALICE_TODO]),
    row("09-list-filters-by-owner-values", ALICE, M1, "list",
        allowed=True, constraint=ALICE_OWNS, accepts=[ALICE_TODO, {"owner": "A1"}, {"owner": "alice"}],
        rejects=[BOB_TODO, {"id": "t3"}, {"owner": ["A1::alice"]}]),
    row("10-project-differs-owner-reassignment-denied-by-default", ALICE, M1, "update", item=ALICE_TODO,
        input={"owner": "B2::bob"}, allowed=False, denied=frozenset({"owner"})),
    row("10-project-differs-reassignment-denied-before-the-read-too", ALICE, M1, "update",
        input={"owner": "B2::bob"}, allowed=False, denied=frozenset({"owner"})),
    row("10-allow-transfer-restores-amplify-reassignment", ALICE, M1_TRANSFER, "update", item=ALICE_TODO,
        input={"owner": "B2::bob"}, allowed=True, reason="owner(owner) via userPools allows update"),
    row("10-after-transfer-the-previous-owner-is-denied", ALICE, M1_TRANSFER, "get",
        item={**ALICE_TODO, "owner": "B2::bob"}, allowed=False),
    row("11-owner-field-without-update-rule-blocks-reassignment", ALICE, M8, "update", item=ALICE_TODO,
        input={"owner": "B2::bob"}, allowed=False, denied=frozenset({"owner"})),
    row("12-owner-field-without-create-rule-rejects-even-own-value", ALICE, M8, "create",
        input={"content": "x", "owner": "A1::alice"}, allowed=False, denied=frozenset({"owner"})),
    row("12-omitting-the-protected-owner-field-auto-fills-it", ALICE, M8, "create", input={"content": "x"},
        allowed=True, stamp={"owner": "A1::alice"}),
    row("13-update-someone-elses-item-denied", BOB, M1, "update", item=ALICE_TODO, input={"content": "x"},
        allowed=False, reason="caller is 'B2::bob', item owner is 'A1::alice'"),
    row("13-delete-someone-elses-item-denied", BOB, M1, "delete", item=ALICE_TODO, allowed=False),
    row("13-delete-before-the-read-is-a-constraint-that-rejects-alices-item", BOB, M1, "delete",
        allowed=True, constraint=BOB_OWNS, rejects=[ALICE_TODO]),
    row("14-update-of-a-missing-item-fails-the-owner-constraint", ALICE, M1, "update", input={"content": "x"},
        allowed=True, constraint=ALICE_OWNS, rejects=[{}]),
    row("15-api-key-without-api-key-rule-denied", API_KEY, M1, "list",
        allowed=False, reason="no rule for provider api_key allows list on Todo"),
    row("16-api-key-public-read-lists-everything", API_KEY, M2, "list",
        allowed=True, reason="public via apiKey allows list on Post", accepts=[ALICE_TODO, BOB_TODO]),
    row("17-public-read-rule-does-not-allow-create", API_KEY, M2, "create", input={"title": "x"},
        allowed=False, reason="no rule for provider api_key allows create on Post"),
    row("18-public-rule-ignored-in-user-pool-mode", BOB, M2, "list", allowed=True, constraint=BOB_OWNS),
    row("19-static-group-create", CAROL, M3, "create", input={"amount": 1},
        allowed=True, reason="groups(Admin) via userPools allows create on Salary"),
    row("19-static-group-list", CAROL, M3, "list", allowed=True, accepts=[{"id": "s1"}]),
    row("19-static-group-delete", CAROL, M3, "delete", allowed=True),
    row("20-no-matching-group-no-filter-possible", ALICE, M3, "list",
        allowed=False, reason="caller groups [] include none of ['Admin']"),
    row("21-user-pools-group-rule-ignored-for-oidc-token",
        user("C3", "carol", "Admin", mode=AuthMode.OIDC), M3, "list",
        allowed=False, reason="no rule for provider oidc allows list on Salary"),
    row("22-co-owner-listed-by-username", BOB, M4, "update",
        item={"id": "d1", "editors": ["A1::alice", "bob"]}, input={"title": "t"}, allowed=True),
    row("23-dynamic-group-read", DAVE, M4, "get", item={"id": "d1", "groups": ["Sales"]}, allowed=True),
    row("24-dynamic-group-rule-is-read-only", DAVE, M4, "update",
        item={"id": "d1", "groups": ["Sales"]}, input={"title": "t"}, allowed=False),
    row("25-field-rule-replaces-model-rule-ssn-nulled", BOB, M5, "get",
        item={"id": "e1", "name": "Alice", "ssn": "123", "owner": "A1::alice"},
        allowed=True, reason="private via userPools allows get", hidden=frozenset({"ssn"})),
    row("25-owner-reads-own-ssn", ALICE, M5, "get",
        item={"id": "e1", "name": "Alice", "ssn": "123", "owner": "A1::alice"}, allowed=True,
        hidden=frozenset()),
    row("26-authenticated-is-read-only-and-not-owner", BOB, M5, "update",
        item={"id": "e1", "owner": "A1::alice"}, input={"name": "x"}, allowed=False),
    row("27-guest-list", GUEST, M6, "list", allowed=True, reason="public via identityPool allows list"),
    row("27-guest-create-denied", GUEST, M6, "create", input={"text": "x"},
        allowed=False, reason="rule needs an authenticated identity-pool role"),
    row("28-signed-in-create-by-auth-role-arn", SIGNED_IN, M6, "create", input={"text": "x"},
        config=ROLES_ONLY, allowed=True),
    row("28-signed-in-create-by-pool-id-and-auth-type", SIGNED_IN, M6, "create", input={"text": "x"},
        config=POOL_ONLY, allowed=True),
    row("29-signed-in-denied-on-guest-only-model", SIGNED_IN, M6_GUEST_ONLY, "list",
        allowed=False, reason="rule needs an unauthenticated identity-pool role"),
    row("30-generic-iam-access-skips-all-rules", BACKEND, M1, "delete", config=GENERIC_IAM,
        allowed=True, reason="generic IAM access"),
    row("30-project-differs-generic-iam-access-off-by-default", BACKEND, M1, "delete",
        allowed=False, reason="no rule for provider iam allows delete on Todo"),
    row("31-project-differs-admin-role-matched-exactly-not-by-substring", iam("NotAdminAtAll", "x"),
        ADMIN_ROLE, "list", allowed=False, reason="caller role 'NotAdminAtAll' is not one of ['Admin']"),
    row("31-admin-role-by-exact-name", iam("Admin", "x"), ADMIN_ROLE, "list", allowed=True),
    row("32-custom-rule-delegates-to-the-lambda-authorizer", LAMBDA, M7, "create", input={"title": "x"},
        allowed=True, reason="custom via function allows create on Ticket"),
    row("33-authorizer-rejects-before-the-resolver-other-modes-denied", ALICE, M7, "get",
        allowed=False, reason="no rule for provider user_pools allows get on Ticket"),
    row("34-custom-identity-claim-stamped", oidc(sub="auth0|1", user_id="u-42"), M9, "create", input={},
        allowed=True, stamp={"owner": "u-42"}),
    row("35-missing-identity-claim-makes-the-rule-inert", oidc(sub="auth0|1"), M9, "create", input={},
        allowed=False, reason="owner rule: caller has no 'user_id' claim"),
    row("36-project-differs-json-array-string-claim-is-parsed",
        user("M1", "mo", user_groups='["Moderator"]'), M10, "list", allowed=True),
    row("37-project-differs-string-claim-is-exact-not-a-substring",
        user("M1", "mo", user_groups="NotModerator"), M10, "list",
        allowed=False, reason="caller groups ['NotModerator'] include none of ['Moderator']"),
    row("38-claim-only-in-the-id-token-access-token-denied", ALICE, M1_TENANT, "create", input={},
        allowed=False, reason="owner rule: caller has no 'custom:tenant' claim"),
    row("38-id-token-with-the-claim-allowed", user("A1", "alice", **{"custom:tenant": "t-1"}), M1_TENANT,
        "create", input={}, allowed=True, stamp={"owner": "t-1"}),
]  # fmt: skip


@pytest.mark.parametrize(("call", "expect"), WORKED)
def test_worked_decision(call: Call, expect: Expect) -> None:
    assert_decision(call, expect)


def test_01_stored_composite_owner_reads_back_as_the_username() -> None:
    assert present(M1, {"id": "t1", "owner": "A1::alice"})["owner"] == "alice"
    assert present(M4, {"id": "d1", "editors": ["A1::alice", "bob"]})["editors"] == ["alice", "bob"]


def test_09_a_page_of_150_items_holds_only_alices_5() -> None:
    table = [{"id": f"t{i}", "owner": "A1::alice" if i % 30 == 0 else "B2::bob"} for i in range(150)]
    decision = decide(ALICE, M1, "list", config=CONFIG)
    assert [item["id"] for item in table if decision.permits(item)] == ["t0", "t30", "t60", "t90", "t120"]


def test_10_re_sending_ones_own_owner_value_is_a_no_op() -> None:
    decision = decide(ALICE, M1, "update", input={"owner": "alice", "content": "x"})
    assert decision.allowed
    assert decision.unchanged_input_fields == frozenset({"owner"})
    assert decision.constraint is not None
    assert decision.constraint.describe() == ALICE_OWNS


def test_every_rule_in_the_worked_models_is_built_with_the_dsl() -> None:
    models = [M1, M2, M3, M4, M5, M6, M7, M8, M9, M10]
    assert all(isinstance(rule, Rule) for model in models for rule in model.rules)
    assert [f.name for f in M4.fields] == ["title", "editors", "groups"]
