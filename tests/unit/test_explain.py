"""explain(model): the caller-kind x operation matrix ``modelauth explain`` prints.

Matrices are written as one code per operation, in column order create, update, delete, get,
list, listen, sync, search: ``A`` allowed, ``O`` only own, ``G`` only group, ``C``
conditional, ``-`` denied. Then: row keys, generic IAM access, JSON output, and that every
cell agrees with :func:`decide` for a caller of that kind.
"""

from __future__ import annotations

import json

import pytest

from modelauth.identity import AuthMode, Principal
from modelauth.policy import AuthConfig, decide, explain
from modelauth.rules import Field, Model, Operation, allow
from tests.unit.test_policy_matrix import PROFILE, SECRET, TEASER
from tests.unit.test_policy_worked_examples import (
    API_KEY,
    BACKEND,
    CONFIG,
    GENERIC_IAM,
    GUEST,
    LAMBDA,
    M1,
    M2,
    M3,
    M4,
    M5,
    M6,
    M7,
    M8,
    M9,
    M10,
    SIGNED_IN,
    iam,
)

CODES = {"A": "allowed", "O": "only own", "G": "only group", "C": "conditional", "-": "denied"}
FIXED_ROWS = [
    "api_key",
    "identity_pool:guest",
    "identity_pool:authenticated",
    "iam",
    "user_pools",
    "oidc",
    "function",
]
DENIED = "--------"

CATALOG = Model(
    "CatalogItem",
    fields=[Field("name")],
    rules=[
        allow.public_api_key().to(["read"]),
        allow.authenticated().to(["read"]),
        allow.groups(["Admin", "Editor"]).to(["create", "update"]),
        allow.group("Admin").to(["delete"]),
    ],
)
NOTE = Model("Note", rules=[allow.owner("identityPool"), allow.resource("BackendRole", "OpsRole")])
TENANT_PAGE = Model(
    "Page",
    rules=[
        allow.all_of(allow.group_defined_in("tenant"), allow.owner()),
        allow.all_of(allow.group("Admin"), allow.group_defined_in("tenant")).to(["read"]),
    ],
)


def matrix(**rows: str) -> dict[str, dict[str, str]]:
    """Rows not given are all denied; row names use ``__`` for ``:``."""
    codes = dict.fromkeys(FIXED_ROWS, DENIED) | {k.replace("__", ":"): v for k, v in rows.items()}
    return {
        label: {op.value: CODES[c] for op, c in zip(Operation, code, strict=True)}
        for label, code in codes.items()
    }


EXPLAINED = {
    "owner-only": (M1, matrix(user_pools="OOOOOOOO")),
    "public-read-and-owner": (M2, matrix(api_key="---AAAAA", user_pools="OOOOOOOO")),
    "static-group": (M3, matrix(user_pools=DENIED, user_pools__Admin="AAAAAAAA")),
    "owners-or-readers-group": (M4, matrix(user_pools="OOOCCCCC")),
    "authenticated-read-and-owner": (M5, matrix(user_pools="OOOAAAAA")),
    "guest-read-signed-in-all": (
        M6,
        matrix(identity_pool__guest="---AAAAA", identity_pool__authenticated="AAAAAAAA"),
    ),
    "custom": (M7, matrix(function="AAAAAAAA")),
    "owner-field-delete-only": (M8, matrix(user_pools="OOOOOOOO")),
    "oidc-owner": (M9, matrix(oidc="OOOOOOOO")),
    "group-from-custom-claim": (M10, matrix(user_pools__Moderator="AAAAAAAA")),
    "static-groups-one-row-each-merged-with-signed-in": (
        CATALOG,
        matrix(
            api_key="---AAAAA",
            user_pools="---AAAAA",
            user_pools__Admin="AAAAAAAA",
            user_pools__Editor="AA-AAAAA",
        ),
    ),
    "identity-pool-owners-and-resource-roles": (
        NOTE,
        matrix(
            identity_pool__guest="--------",  # guests own nothing
            identity_pool__authenticated="OOOOOOOO",
            iam__BackendRole="AAAAAAAA",
            iam__OpsRole="AAAAAAAA",
        ),
    ),
    "all-of-and-group-rows": (TENANT_PAGE, matrix(user_pools="CCCCCCCC", user_pools__Admin="CCCCCCCC")),
    "field-rules-only-for-the-api-key": (TEASER, matrix(api_key="---CCCCC", user_pools="OOOOOOOO")),
    # badge has no delete rule at all, so nobody may delete a profile
    "field-rules-hide-fields-but-delete-needs-them-all": (
        PROFILE,
        matrix(user_pools="OO-AAAAA", user_pools__Admin="OO-AAAAA"),
    ),
    "delete-needs-every-fields-delete": (SECRET, matrix(user_pools="OOOOOOOO", user_pools__Admin="AAOAAAAA")),
}  # fmt: skip


@pytest.mark.parametrize("case", EXPLAINED)
def test_explain_matrix(case: str) -> None:
    model, expected = EXPLAINED[case]
    assert explain(model) == expected


def test_rows_are_fixed_kinds_then_named_roles_and_groups_in_rule_order() -> None:
    model = Model(
        "Mixed",
        rules=[
            allow.groups(["B", "A"]),
            allow.resource("r2", "r1"),
            allow.group("X", "oidc"),
            allow.group("A"),
        ],
    )
    assert list(explain(model)) == [
        "api_key",
        "identity_pool:guest",
        "identity_pool:authenticated",
        "iam",
        "iam:r2",
        "iam:r1",
        "user_pools",
        "user_pools:B",
        "user_pools:A",
        "oidc",
        "oidc:X",
        "function",
    ]


def test_generic_iam_access_opens_the_backend_rows_only() -> None:
    on = explain(NOTE, GENERIC_IAM)
    assert on["iam"] == on["iam:OpsRole"] == dict.fromkeys((op.value for op in Operation), "allowed")
    assert on["identity_pool:guest"] == explain(NOTE)["identity_pool:guest"]
    assert explain(NOTE)["iam"] == matrix()["iam"]


def test_explain_is_plain_json() -> None:
    assert json.loads(json.dumps(explain(M4))) == explain(M4)


# --------------------------------------------------------------------------- agrees with decide

TEAM = "T1"


def caller_of(label: str) -> Principal:
    """A caller of each row kind, with every claim the models use and a non-static group."""
    kind, _, name = label.partition(":")
    fixed = {
        "api_key": API_KEY,
        "identity_pool": GUEST if name == "guest" else SIGNED_IN,
        "iam": iam(name, "s") if name else BACKEND,
        "function": LAMBDA,
    }
    if kind in fixed:
        return fixed[kind]
    groups = [name] if name else [TEAM]
    claims = {
        "sub": "S1",
        "username": "sam",
        "user_id": "u-1",
        "user_groups": groups,
        "cognito:groups": groups,
    }
    mode = AuthMode.OIDC if kind == "oidc" else AuthMode.USER_POOLS
    return Principal(mode, sub="S1", username="sam", claims=claims, groups=tuple(groups))


def create_input(model: Model, caller: Principal) -> dict[str, object]:
    """A create input the caller's dynamic group rules accept (owners are left to be filled in)."""
    groups = caller.groups
    return {
        rule.groups_field: list(groups) if rule.multi else groups[0]
        for rule in (r for top in model.rules for r in top.rules or (top,))
        if rule.groups_field and groups
    }


MODELS = [M1, M2, M3, M4, M5, M6, M7, M8, M9, M10, CATALOG, NOTE, TENANT_PAGE, TEASER, PROFILE, SECRET]


@pytest.mark.parametrize("model", MODELS, ids=[f"{m.name}-{i}" for i, m in enumerate(MODELS)])
def test_every_cell_agrees_with_decide(model: Model) -> None:
    for label, row in explain(model).items():
        caller = caller_of(label)
        for op in Operation:
            data = create_input(model, caller) if op is Operation.CREATE else None
            decision = decide(caller, model, op, input=data, config=CONFIG)
            assert decision.allowed is (row[op.value] != "denied"), (label, op, decision.reason)
            if row[op.value] == "allowed":
                assert decision.constraint is None, (label, op)
            elif row[op.value] in ("only own", "only group") and op is not Operation.CREATE:
                assert decision.constraint is not None, (label, op)


def test_generic_iam_cells_agree_with_decide() -> None:
    for op in Operation:
        assert decide(BACKEND, NOTE, op, config=GENERIC_IAM).allowed
    assert AuthConfig().generic_iam_access is False
