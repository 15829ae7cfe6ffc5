"""Every strategy x provider x operation, then the variants that change who matches.

For each strategy/provider combination: a caller it admits (allowed on every operation, on a
stored item it matches) and callers it does not (the wrong auth mode; the right mode with the
wrong owner, group or role). Then ``.to()`` restrictions, field-level rules, identity and group
claim variants, identity-pool guest vs signed-in, exact IAM role matching, ``all_of`` and
generic IAM access.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from modelauth.identity import AuthMode, IamIdentity, Principal
from modelauth.policy import AuthConfig, decide, denied_read_fields
from modelauth.rules import READ_OPERATIONS, Field, Model, Operation, Rule, allow
from tests.unit.test_policy_worked_examples import (
    ACCOUNT,
    ALICE,
    API_KEY,
    BACKEND,
    BOB,
    CAROL,
    CONFIG,
    DAVE,
    GENERIC_IAM,
    GUEST,
    LAMBDA,
    OTHER_POOL,
    POOL_ONLY,
    ROLES_ONLY,
    SIGNED_IN,
    Call,
    Expect,
    assert_decision,
    iam,
    oidc,
    pool_identity,
    row,
    user,
)

OPERATIONS = list(Operation)
OIDC_USER = oidc(sub="auth0|1", user_id="u-1", **{"cognito:groups": ["Admin", "Sales"]})
OIDC_OTHER = oidc(sub="auth0|2")
OIDC_CAROL = user("C3", "carol", "Admin", mode=AuthMode.OIDC)
OIDC_DAVE = user("D4", "dave", "Sales", mode=AuthMode.OIDC)
LAMBDA_OTHER = Principal(AuthMode.LAMBDA, sub="u-7", resolver_context={"sub": "u-7", "username": "lee"})


@dataclass(frozen=True)
class Combo:
    """A rule, a caller it admits on ``item`` (or creating it), and callers it does not."""

    rule: Rule
    caller: Principal
    item: Mapping[str, Any]
    strangers: Mapping[str, Principal]

    def model(self, rule: Rule | None = None) -> Model:
        return Model("Thing", fields=[Field("title")], rules=[rule or self.rule])

    def call(self, caller: Principal, op: Operation, rule: Rule | None = None) -> Call:
        if op is Operation.CREATE:
            return Call(caller, self.model(rule), op, input={"title": "t", **self.item})
        data = {"title": "t"} if op is Operation.UPDATE else None
        return Call(caller, self.model(rule), op, item={"id": "x1", **self.item}, input=data)


COMBOS = {
    "public-apiKey": Combo(
        allow.public_api_key(), API_KEY, {},
        {"user-pools-mode": ALICE, "iam-guest": GUEST, "lambda-mode": LAMBDA},
    ),
    "public-identityPool": Combo(
        allow.guest(), GUEST, {},
        {"signed-in-identity": SIGNED_IN, "backend-role": BACKEND, "api-key": API_KEY,
         "guest-of-another-pool": pool_identity("other-unauthRole", "unauthenticated", pool=OTHER_POOL)},
    ),
    "private-userPools": Combo(
        allow.authenticated(), ALICE, {},
        {"oidc-mode": OIDC_USER, "api-key": API_KEY, "lambda-mode": LAMBDA},
    ),
    "private-oidc": Combo(allow.authenticated("oidc"), OIDC_USER, {}, {"user-pools-mode": ALICE}),
    "private-identityPool": Combo(
        allow.authenticated("identityPool"), SIGNED_IN, {},
        {"guest": GUEST, "backend-role": BACKEND, "user-pools-mode": ALICE},
    ),
    "owner-userPools": Combo(
        allow.owner(), ALICE, {"owner": "A1::alice"},
        {"other-owner": BOB, "oidc-mode-same-claims": user("A1", "alice", mode=AuthMode.OIDC)},
    ),
    "owner-oidc": Combo(
        allow.owner("oidc").identity_claim("sub"), OIDC_USER, {"owner": "auth0|1"},
        {"other-owner": OIDC_OTHER, "user-pools-mode": ALICE},
    ),
    "owner-identityPool": Combo(
        allow.owner("identityPool"), SIGNED_IN, {"owner": "us-east-1:user-1"},
        {"other-identity": GUEST, "backend-role-has-no-identity": BACKEND, "user-pools-mode": ALICE},
    ),
    "owner-function": Combo(
        allow.owner("function"), LAMBDA, {"owner": "u-42::kim"},
        {"other-owner": LAMBDA_OTHER, "user-pools-mode": ALICE},
    ),
    "owners-userPools": Combo(
        allow.owners_defined_in("editors"), ALICE, {"editors": ["C3::carol", "alice"]},
        {"not-listed": BOB, "oidc-mode": user("A1", "alice", mode=AuthMode.OIDC)},
    ),
    "static-group-userPools": Combo(
        allow.group("Admin"), CAROL, {},
        {"no-groups": ALICE, "other-group": DAVE, "oidc-mode": OIDC_CAROL},
    ),
    "static-group-oidc": Combo(
        allow.groups(["Ops", "Admin"], "oidc"), OIDC_USER, {},
        {"no-groups": OIDC_OTHER, "user-pools-mode": CAROL},
    ),
    "dynamic-group-userPools": Combo(
        allow.group_defined_in("team"), DAVE, {"team": "Sales"},
        {"other-group": CAROL, "no-groups": ALICE, "oidc-mode": OIDC_DAVE},
    ),
    "dynamic-groups-userPools": Combo(
        allow.groups_defined_in("teams"), DAVE, {"teams": ["Ops", "Sales"]},
        {"other-group": CAROL, "no-groups": ALICE},
    ),
    "dynamic-group-oidc": Combo(
        allow.group_defined_in("team", "oidc"), OIDC_USER, {"team": "Sales"},
        {"no-groups": OIDC_OTHER, "user-pools-mode": DAVE},
    ),
    "custom-function": Combo(allow.custom(), LAMBDA, {}, {"user-pools-mode": ALICE, "api-key": API_KEY}),
    "resource-iam": Combo(
        allow.resource("todo-fn-role"), BACKEND, {},
        {"longer-role-name": iam("todo-fn-roleX", "todo-fn"), "identity-pool-user": SIGNED_IN,
         "session-named-like-the-role": iam("x", "todo-fn-role"), "user-pools-mode": ALICE},
    ),
}  # fmt: skip

COMBO_OPS = [pytest.param(name, op, id=f"{name}-{op}") for name in COMBOS for op in OPERATIONS]
STORED_OPS = [p for p in COMBO_OPS if p.values[1] is not Operation.CREATE]
STRANGER_OPS = [
    pytest.param(name, why, op, id=f"{name}-{why}-{op}")
    for name, combo in COMBOS.items()
    for why in combo.strangers
    for op in OPERATIONS
]
LIMITS = {"read": ["read"], "create-update": ["create", "update"], "delete": ["delete"]}


@pytest.mark.parametrize(("name", "op"), COMBO_OPS)
def test_matching_caller_is_allowed_on_its_item(name: str, op: Operation) -> None:
    combo = COMBOS[name]
    decision = combo.call(combo.caller, op).decide()
    assert decision.allowed, decision.reason
    assert decision.constraint is None  # the stored item was given: nothing left for the store


@pytest.mark.parametrize(("name", "op"), STORED_OPS)
def test_before_the_read_item_rules_become_the_store_constraint(name: str, op: Operation) -> None:
    combo = COMBOS[name]
    decision = decide(combo.caller, combo.model(), op, config=CONFIG)
    assert decision.allowed, decision.reason
    assert (decision.constraint is not None) is combo.rule.is_dynamic
    assert decision.permits({"id": "x1", **combo.item})


@pytest.mark.parametrize(("name", "why", "op"), STRANGER_OPS)
def test_non_matching_caller_is_denied(name: str, why: str, op: Operation) -> None:
    combo = COMBOS[name]
    decision = combo.call(combo.strangers[why], op).decide()
    assert not decision.allowed
    assert decision.reason


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize(("name", "op"), COMBO_OPS)
def test_to_limits_the_rule_to_its_operations(name: str, op: Operation, limit: str) -> None:
    combo = COMBOS[name]
    rule = combo.rule.to(LIMITS[limit])
    expected = op in READ_OPERATIONS if limit == "read" else op.value in LIMITS[limit]
    assert combo.call(combo.caller, op, rule).decide().allowed is expected


def test_read_expands_to_every_read_operation() -> None:
    assert allow.owner().to(["read"]).operations == READ_OPERATIONS


# --------------------------------------------------------------------------- field-level rules

PROFILE = Model(
    "Profile",
    fields=[
        Field("name"),
        Field("ssn", rules=[allow.owner()]),
        Field("notes", rules=[allow.group("Admin")]),
        Field("badge", rules=[allow.authenticated().to(["read"])]),
    ],
    rules=[allow.authenticated().to(["read"]), allow.owner()],
)
ALICE_PROFILE = {"id": "p1", "name": "A", "ssn": "1", "notes": "n", "badge": "b", "owner": "A1::alice"}
# a summary anyone with the API key may read; the rest of the record only its owner
TEASER = Model(
    "Doc",
    fields=[Field("title"), Field("summary", rules=[allow.public_api_key().to(["read"]), allow.owner()])],
    rules=[allow.owner()],
)
ALICE_DOC = {"id": "d1", "title": "T", "summary": "S", "owner": "A1::alice"}
NO_NULLING = Model("Todo", fields=[Field("content")], rules=[allow.owner().to(["create", "read", "update"])])
BIO = Model("Bio", fields=[Field("bio", rules=[allow.owner().to(["read", "update"])])], rules=[allow.owner()])
OWNER_READ_ONLY = Model(
    "Todo", fields=[Field("owner", rules=[allow.owner().to(["read"])])], rules=[allow.owner()]
)
SECRET = Model(
    "Vault",
    fields=[Field("secret", rules=[allow.owner().to(["read", "delete"])])],
    rules=[allow.group("Admin"), allow.owner()],
)
HIDDEN_FROM_API_KEY = frozenset({"title", "owner"})

FIELD_RULES = [
    row("reader-sees-fields-without-rules-only", BOB, PROFILE, "get", item=ALICE_PROFILE,
        allowed=True, hidden=frozenset({"ssn", "notes"})),
    row("owner-sees-own-ssn-not-admin-notes", ALICE, PROFILE, "get", item=ALICE_PROFILE,
        allowed=True, hidden=frozenset({"notes"})),
    row("admin-sees-notes-not-ssn", CAROL, PROFILE, "list", item=ALICE_PROFILE,
        allowed=True, hidden=frozenset({"ssn"})),
    row("owner-writes-own-ssn", ALICE, PROFILE, "update", item=ALICE_PROFILE, input={"ssn": "2"},
        allowed=True),
    row("read-only-field-rule-blocks-writing-it", ALICE, PROFILE, "update", item=ALICE_PROFILE,
        input={"badge": "x", "name": "n"}, allowed=False, denied=frozenset({"badge"})),
    row("field-group-rule-blocks-the-owner", ALICE, PROFILE, "update", item=ALICE_PROFILE,
        input={"notes": "x"}, allowed=False, denied=frozenset({"notes"})),
    row("create-checks-every-protected-input-field", ALICE, PROFILE, "create",
        input={"name": "n", "ssn": "1", "notes": "x", "badge": "b"},
        allowed=False, denied=frozenset({"notes", "badge"})),
    row("role-only-in-a-field-rule-passes-the-gate-for-its-field", CAROL, PROFILE, "update",
        item=ALICE_PROFILE, input={"notes": "x"}, allowed=True, reason="field rules only"),
    row("role-only-in-a-field-rule-may-not-write-other-fields", CAROL, PROFILE, "update",
        item=ALICE_PROFILE, input={"notes": "x", "name": "n"}, allowed=False, denied=frozenset({"name"})),
    row("field-only-role-reads-with-other-fields-masked", API_KEY, TEASER, "get", item=ALICE_DOC,
        allowed=True, reason="field rules only", hidden=HIDDEN_FROM_API_KEY),
    row("field-only-role-lists", API_KEY, TEASER, "list", allowed=True, accepts=[ALICE_DOC]),
    row("field-only-role-has-no-create", API_KEY, TEASER, "create", input={"summary": "s"},
        allowed=False, reason="no rule for provider api_key allows create on Doc"),
    row("field-only-owner-role-is-still-filtered-by-owner", BOB, TEASER, "list",
        allowed=True, constraint="owner in ['B2::bob', 'B2', 'bob']", rejects=[ALICE_DOC]),
    row("nulling-a-field-needs-delete", ALICE, NO_NULLING, "update", input={"content": None},
        allowed=False, denied=frozenset({"content"})),
    row("setting-a-field-needs-update-only", ALICE, NO_NULLING, "update", input={"content": "x"},
        allowed=True, constraint="owner in ['A1::alice', 'A1', 'alice']"),
    row("nulling-a-protected-field-needs-its-delete", ALICE, BIO, "update", input={"bio": None},
        allowed=False, denied=frozenset({"bio"})),
    row("delete-needs-delete-on-every-field", ALICE, OWNER_READ_ONLY, "delete", item={"owner": "A1::alice"},
        allowed=False, reason="caller may not delete fields ['owner']"),
    row("static-grant-still-needs-the-fields-own-delete", CAROL, SECRET, "delete",
        allowed=True, constraint="owner in ['C3::carol', 'C3', 'carol']"),
    row("owner-deletes-own-vault", ALICE, SECRET, "delete", item={"owner": "A1::alice"}, allowed=True),
]  # fmt: skip


@pytest.mark.parametrize(("call", "expect"), FIELD_RULES)
def test_field_level_rules(call: Call, expect: Expect) -> None:
    assert_decision(call, expect)


def test_field_only_role_never_sees_fields_without_rules_even_when_listing() -> None:
    assert denied_read_fields(API_KEY, TEASER, "list", ALICE_DOC) == HIDDEN_FROM_API_KEY


# --------------------------------------------------------------------------- identity claims


def owner_model(claim: str) -> Model:
    return Model("Todo", fields=[Field("content")], rules=[allow.owner().identity_claim(claim)])


ID_TOKEN = Principal(
    AuthMode.USER_POOLS, sub="A1", claims={"sub": "A1", "cognito:username": "alice", "email": "a@x.io"}
)
TENANT = user("A1", "alice", **{"custom:tenant": "t-1", "custom:number": 42})

# (claim, caller, stamped on create, stored owners it matches, stored owners it does not)
IDENTITY_CLAIMS = [
    ("sub::username", ALICE, "A1::alice", ["A1::alice", "A1", "alice"], ["B2::bob", "A1::bob", ""]),
    ("sub", ALICE, "A1", ["A1"], ["alice", "A1::alice"]),
    ("username", ALICE, "alice", ["alice"], ["A1", "A1::alice"]),
    ("username", ID_TOKEN, "alice", ["alice"], ["A1"]),
    ("sub::username", ID_TOKEN, "A1::alice", ["A1::alice", "alice"], ["a@x.io"]),
    ("email", ID_TOKEN, "a@x.io", ["a@x.io"], ["A1", "alice"]),
    ("custom:tenant", TENANT, "t-1", ["t-1"], ["A1", "t-2"]),
    ("custom:number", TENANT, "42", ["42"], ["4"]),
    ("custom:tenant::sub", TENANT, "t-1::A1", ["t-1::A1", "t-1", "A1"], ["A1::t-1"]),
]


@pytest.mark.parametrize(
    ("claim", "caller", "stamp", "matches", "others"),
    IDENTITY_CLAIMS,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(IDENTITY_CLAIMS)],
)
def test_identity_claim_decides_stamp_and_matching(
    claim: str, caller: Principal, stamp: str, matches: list[str], others: list[str]
) -> None:
    model = owner_model(claim)
    assert decide(caller, model, "create", input={"content": "x"}).owner_stamp == {"owner": stamp}
    listed = decide(caller, model, "list")
    assert [listed.permits({"owner": v}) for v in matches] == [True] * len(matches)
    assert [listed.permits({"owner": v}) for v in others] == [False] * len(others)


@pytest.mark.parametrize(
    ("claim", "caller"),
    [
        ("custom:tenant", ALICE),
        ("custom:tenant::sub", ALICE),
        ("sub::username", Principal(AuthMode.USER_POOLS, sub="A1", claims={"sub": "A1"})),
        ("email", ALICE),
        ("sub::username", oidc(sub="auth0|1")),
    ],
    ids=["missing-claim", "missing-part-of-composite", "no-username", "no-email", "oidc-without-username"],
)
def test_missing_claim_part_makes_the_owner_rule_inert(claim: str, caller: Principal) -> None:
    provider = "oidc" if caller.mode is AuthMode.OIDC else "userPools"
    model = Model("Todo", rules=[allow.owner(provider).identity_claim(claim)])
    for op, data in [("create", {}), ("list", None), ("update", {"content": "x"})]:
        decision = decide(caller, model, op, input=data)
        assert not decision.allowed
        assert f"caller has no '{claim}' claim" in decision.reason
        assert decision.owner_stamp == {}


# --------------------------------------------------------------------------- group claims

STATIC_MODERATOR = Model("Report", rules=[allow.groups(["Moderator"]).with_claim_in("user_groups")])
DYNAMIC_MODERATOR = Model("Report", rules=[allow.group_defined_in("team").with_claim_in("user_groups")])

GROUP_CLAIMS = {
    "list": (["Ops", "Moderator"], True),
    "json-array-string": ('["Ops","Moderator"]', True),
    "plain-string": ("Moderator", True),
    # one name or a joined list? never split: no groups (issue 16.2)
    "comma-string": ("Ops,Moderator", False),
    "space-string": ("Ops Moderator", False),
    "substring-is-not-membership": ("NotModerator", False),
    "list-substring": (["NotModerator"], False),
    "case-differs": (["moderator"], False),
    "json-object-string": ('{"Moderator": true}', False),
    "number": (5, False),
    "empty-list": ([], False),
}


@pytest.mark.parametrize("model", [STATIC_MODERATOR, DYNAMIC_MODERATOR], ids=["static", "dynamic"])
@pytest.mark.parametrize("form", GROUP_CLAIMS)
def test_group_claim_is_normalised_and_compared_exactly(form: str, model: Model) -> None:
    value, member = GROUP_CLAIMS[form]
    caller = user("M1", "mo", user_groups=value)
    assert decide(caller, model, "get", item={"id": "r1", "team": "Moderator"}).allowed is member


def test_missing_group_claim_is_no_groups() -> None:
    decision = decide(user("M1", "mo", "Moderator"), DYNAMIC_MODERATOR, "list")
    assert not decision.allowed
    assert "caller has no groups in 'user_groups'" in decision.reason


def test_default_group_claim_reads_identity_groups() -> None:
    only_identity_groups = Principal(AuthMode.USER_POOLS, sub="C3", username="carol", groups=("Admin",))
    assert decide(only_identity_groups, Model("Salary", rules=[allow.group("Admin")]), "list").allowed


# --------------------------------------------------------------------------- identity pools

GUEST_NOTES = Model("Note", rules=[allow.guest()])
SIGNED_IN_NOTES = Model("Note", rules=[allow.authenticated("identityPool")])
IAM_ROLE_FORM = AuthConfig(
    auth_role_arns=frozenset({f"arn:aws:iam::{ACCOUNT}:role/amplify-app-dev-authRole"}),
    unauth_role_arns=frozenset({f"arn:aws:iam::{ACCOUNT}:role/amplify-app-dev-unauthRole"}),
)
NOTHING_CONFIGURED = AuthConfig()
FOREIGN_GUEST = pool_identity("amplify-app-dev-unauthRole2", "unauthenticated", pool=OTHER_POOL)
FOREIGN_USER = pool_identity("amplify-app-dev-authRole2", "authenticated", pool=OTHER_POOL)

IDENTITY_POOL_CASES = [
    row("guest-by-unauth-role-arn", GUEST, GUEST_NOTES, "list", config=ROLES_ONLY, allowed=True),
    row("guest-by-iam-role-arn-form", GUEST, GUEST_NOTES, "list", config=IAM_ROLE_FORM, allowed=True),
    row("guest-by-pool-id-and-auth-type", GUEST, GUEST_NOTES, "list", config=POOL_ONLY, allowed=True),
    row("guest-denied-when-nothing-is-configured", GUEST, GUEST_NOTES, "list", config=NOTHING_CONFIGURED,
        allowed=False),
    row("guest-of-another-pool-with-a-lookalike-role", FOREIGN_GUEST, GUEST_NOTES, "list", allowed=False),
    row("signed-in-is-not-a-guest", SIGNED_IN, GUEST_NOTES, "list", allowed=False),
    row("signed-in-by-auth-role-arn", SIGNED_IN, SIGNED_IN_NOTES, "create", config=ROLES_ONLY, allowed=True),
    row("signed-in-by-iam-role-arn-form", SIGNED_IN, SIGNED_IN_NOTES, "create", config=IAM_ROLE_FORM,
        allowed=True),
    row("signed-in-by-pool-id-and-auth-type", SIGNED_IN, SIGNED_IN_NOTES, "create", config=POOL_ONLY,
        allowed=True),
    row("signed-in-denied-when-nothing-is-configured", SIGNED_IN, SIGNED_IN_NOTES, "create",
        config=NOTHING_CONFIGURED, allowed=False),
    row("signed-in-user-of-another-pool", FOREIGN_USER, SIGNED_IN_NOTES, "create", allowed=False),
    row("guest-is-not-signed-in", GUEST, SIGNED_IN_NOTES, "create", allowed=False),
    row("backend-role-is-neither", BACKEND, SIGNED_IN_NOTES, "get", allowed=False),
]  # fmt: skip


@pytest.mark.parametrize(("call", "expect"), IDENTITY_POOL_CASES)
def test_identity_pool_guest_and_signed_in(call: Call, expect: Expect) -> None:
    assert_decision(call, expect)


# --------------------------------------------------------------------------- exact IAM roles

ADMIN_BY_NAME = Model("Audit", rules=[allow.resource("Admin")])
ADMIN_BY_ARN = Model("Audit", rules=[allow.resource(f"arn:aws:iam::{ACCOUNT}:role/Admin")])
IAM_USER = Principal(AuthMode.IAM, iam=IamIdentity.parse(f"arn:aws:iam::{ACCOUNT}:user/Admin"))
OTHER_ACCOUNT_ADMIN = Principal(
    AuthMode.IAM, iam=IamIdentity.parse("arn:aws:sts::999999999999:assumed-role/Admin/s")
)
AUTH_ROLE_AS_RESOURCE = Model("Audit", rules=[allow.resource("amplify-app-dev-authRole")])

RESOURCE_CASES = [
    row("exact-role-name", iam("Admin", "s"), ADMIN_BY_NAME, "delete", allowed=True),
    row("longer-role-name", iam("AdminX", "s"), ADMIN_BY_NAME, "get", allowed=False,
        reason="caller role 'AdminX' is not one of ['Admin']"),
    row("role-containing-the-name", iam("NotAdminAtAll", "x"), ADMIN_BY_NAME, "get", allowed=False),
    row("session-named-like-the-role", iam("Other", "Admin"), ADMIN_BY_NAME, "get", allowed=False),
    row("iam-user-named-like-the-role", IAM_USER, ADMIN_BY_NAME, "get", allowed=False),
    row("role-name-matches-in-any-account", OTHER_ACCOUNT_ADMIN, ADMIN_BY_NAME, "get", allowed=True),
    row("role-arn-pins-the-account", OTHER_ACCOUNT_ADMIN, ADMIN_BY_ARN, "get", allowed=False),
    row("role-arn-matches-the-session", iam("Admin", "s"), ADMIN_BY_ARN, "update", allowed=True),
    row("identity-pool-user-on-a-role-of-that-name", pool_identity("Admin", "authenticated"), ADMIN_BY_NAME,
        "get", allowed=False, reason="not a backend role"),
    row("configured-auth-role-is-never-a-resource-role",
        iam("amplify-app-dev-authRole"), AUTH_ROLE_AS_RESOURCE, "get", allowed=False,
        reason="not a backend role"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "expect"), RESOURCE_CASES)
def test_resource_roles_match_exactly(call: Call, expect: Expect) -> None:
    assert_decision(call, expect)


# --------------------------------------------------------------------------- all_of

EDITORS = user("A1", "alice", "Editors")
OWNER_AND_EDITOR = Model("Page", rules=[allow.all_of(allow.owner(), allow.group("Editors"))])
TENANT_OWNER = Model("Page", rules=[allow.all_of(allow.group_defined_in("tenant"), allow.owner())])
READ_ONLY_MEMBER = Model("Page", rules=[allow.all_of(allow.owner().to(["read"]), allow.authenticated())])
EITHER = Model("Page", rules=[allow.all_of(allow.owner(), allow.group("Editors")), allow.group("Admin")])
DAVE_OWNS = "owner in ['D4::dave', 'D4', 'dave']"

ALL_OF_CASES = [
    row("owner-and-group-both-hold", EDITORS, OWNER_AND_EDITOR, "update", item={"owner": "alice"},
        input={}, allowed=True),
    row("owner-without-the-group", ALICE, OWNER_AND_EDITOR, "update", item={"owner": "alice"}, input={},
        allowed=False, reason="all_of: groups rule"),
    row("group-without-ownership", user("B2", "bob", "Editors"), OWNER_AND_EDITOR, "get",
        item={"owner": "alice"}, allowed=False),
    row("static-part-grants-dynamic-part-constrains", EDITORS, OWNER_AND_EDITOR, "list", allowed=True,
        constraint="owner in ['A1::alice', 'A1', 'alice']"),
    row("two-dynamic-parts-are-and-ed", DAVE, TENANT_OWNER, "list", allowed=True,
        constraint=f"tenant in ['Sales'] and {DAVE_OWNS}",
        accepts=[{"tenant": "Sales", "owner": "dave"}],
        rejects=[{"tenant": "Sales", "owner": "bob"}, {"tenant": "Ops", "owner": "dave"}]),
    row("create-checks-both-on-the-input", DAVE, TENANT_OWNER, "create", input={"tenant": "Sales"},
        allowed=True, stamp={"owner": "D4::dave"}),
    row("create-outside-ones-tenant", DAVE, TENANT_OWNER, "create", input={"tenant": "Ops"}, allowed=False),
    row("member-limited-by-to-grants-nothing-else", ALICE, READ_ONLY_MEMBER, "create", input={},
        allowed=False, reason="does not allow create"),
    row("member-limited-by-to-still-grants-its-operations", ALICE, READ_ONLY_MEMBER, "get",
        item={"owner": "alice"}, allowed=True),
    row("all-of-or-another-rule", CAROL, EITHER, "delete", item={"owner": "bob"}, allowed=True),
]  # fmt: skip


@pytest.mark.parametrize(("call", "expect"), ALL_OF_CASES)
def test_all_of_ands_its_rules(call: Call, expect: Expect) -> None:
    assert_decision(call, expect)


# --------------------------------------------------------------------------- generic IAM access

OWNED = Model("Todo", fields=[Field("content", rules=[allow.owner()])], rules=[allow.owner()])


@pytest.mark.parametrize("op", OPERATIONS)
def test_generic_iam_access_lets_backend_roles_skip_every_rule(op: Operation) -> None:
    on = decide(BACKEND, OWNED, op, item={"owner": "alice"}, config=GENERIC_IAM)
    assert on.allowed
    assert on.constraint is None
    assert denied_read_fields(BACKEND, OWNED, op, {"owner": "alice"}, GENERIC_IAM) == frozenset()
    assert not decide(BACKEND, OWNED, op, item={"owner": "alice"}).allowed


@pytest.mark.parametrize(
    "caller", [GUEST, SIGNED_IN, ALICE, API_KEY], ids=["guest", "signed-in", "up", "key"]
)
def test_generic_iam_access_is_only_for_principals_without_a_cognito_identity(caller: Principal) -> None:
    assert not decide(caller, OWNED, "delete", item={"owner": "nobody"}, config=GENERIC_IAM).allowed
