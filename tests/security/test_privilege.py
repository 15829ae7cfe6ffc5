"""Privilege escalation attempts through the resolver: every one denied, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.resolvers import GraphQLApp
from tests.functional.helpers import ALICE, BOB, CAROL, DAVE, Client, list_all

UNAUTHORIZED = "Unauthorized"
POOL_ID = "us-east-1:0c9c5d0e-1111-2222-3333-444455556666"


def iam(user_arn: str, identity_id: str | None = None, auth_type: str | None = None) -> dict[str, Any]:
    """An AppSync AWS_IAM identity (spec §7.1)."""
    return {
        "accountId": "123456789012",
        "cognitoIdentityPoolId": POOL_ID if identity_id else None,
        "cognitoIdentityId": identity_id,
        "cognitoIdentityAuthType": auth_type,
        "cognitoIdentityAuthProvider": None,
        "sourceIp": ["203.0.113.10"],
        "username": "AROAEXAMPLE:session",
        "userArn": user_arn,
    }


def as_iam(app: GraphQLApp, identity: dict[str, Any]) -> Client:
    return Client(app, identity, "IAM Authorization")


@pytest.fixture
def app(graphql_app: GraphQLApp) -> GraphQLApp:
    return graphql_app


# -- owner spoofing and owner changes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "input_fields"),
    [
        ("createTodo", {"content": "x", "owner": "b2::bob"}),
        ("createTodo", {"content": "x", "owner": "bob"}),
        ("createTodo", {"content": "x", "owner": None}),
        ("createPost", {"title": "x", "editors": ["bob"]}),
        ("createPost", {"title": "x", "editors": []}),
        ("createProfile", {"name": "x", "owner": "b2"}),
    ],
)
def test_creating_for_someone_else_is_denied(
    app: GraphQLApp, field: str, input_fields: dict[str, Any]
) -> None:
    error = Client(app, ALICE).error("Mutation", field, input=input_fields)
    assert error["errorType"] == UNAUTHORIZED


def test_identity_pool_user_cannot_create_a_note_owned_by_another_identity(app: GraphQLApp) -> None:
    mine = as_iam(
        app,
        iam(
            "arn:aws:sts::123456789012:assumed-role/auth/CognitoIdentityCredentials",
            "us-east-1:me",
            "authenticated",
        ),
    )
    error = mine.error("Mutation", "createNote", input={"text": "x", "owner": "us-east-1:someone-else"})
    assert error["errorType"] == UNAUTHORIZED
    assert mine.mutate("createNote", text="mine")["owner"] == "us-east-1:me"


@pytest.mark.parametrize(
    ("field", "create", "update"),
    [
        ("Todo", {"content": "x"}, {"owner": "b2::bob"}),
        ("Todo", {"content": "x"}, {"owner": None}),
        ("Post", {"title": "x"}, {"editors": ["a1::alice", "mallory"]}),
        ("Profile", {"name": "x"}, {"owner": "bob"}),
    ],
)
def test_owners_cannot_hand_records_over_or_add_co_owners_without_a_transfer_rule(
    app: GraphQLApp, field: str, create: dict[str, Any], update: dict[str, Any]
) -> None:
    alice = Client(app, ALICE)
    item = alice.mutate(f"create{field}", **create)
    error = alice.error("Mutation", f"update{field}", input={"id": item["id"], **update})
    assert error["errorType"] == UNAUTHORIZED
    assert error["message"].startswith("Unauthorized on [")
    assert alice.query(f"get{field}", id=item["id"])["_version"] == 1


# -- group escalation ---------------------------------------------------------------------------


def test_group_member_cannot_share_a_post_with_their_own_group(app: GraphQLApp) -> None:
    Client(app, ALICE).mutate("createPost", id="p1", title="private")
    dave = Client(app, DAVE)
    assert (
        dave.error("Mutation", "updatePost", input={"id": "p1", "groups": ["Sales"]})["errorType"]
        == UNAUTHORIZED
    )
    assert dave.error("Query", "getPost", id="p1")["errorType"] == UNAUTHORIZED


def test_writing_admin_into_a_groups_field_grants_nothing_elsewhere(app: GraphQLApp) -> None:
    Client(app, CAROL).mutate("createPost", id="admins-only", title="secret", editors=["c3::carol"])
    dave = Client(app, DAVE)
    dave.mutate("createPost", id="mine", title="x", groups=["Admin"])
    assert dave.error("Query", "getPost", id="admins-only")["errorType"] == UNAUTHORIZED
    assert [p["id"] for p in list_all(dave, "listPosts")] == ["mine"]


def test_static_group_comes_from_the_token_not_from_claims_in_a_string(app: GraphQLApp) -> None:
    lookalike = {**BOB, "claims": {**BOB["claims"], "cognito:groups": "NotAdminAtAll"}, "groups": None}
    error = Client(app, lookalike).error("Mutation", "createCatalogItem", input={"name": "x"})
    assert error["errorType"] == UNAUTHORIZED


# -- denied fields stay denied through lists and pages ------------------------------------------------


def test_ssn_is_never_readable_by_others_on_any_page(app: GraphQLApp) -> None:
    alice = Client(app, ALICE)
    for n in range(5):
        alice.mutate("createProfile", name=f"a{n}", ssn=f"ssn-{n}")
    bob = Client(app, BOB)
    token = None
    seen = 0
    while True:
        result = bob.call("Query", "listProfiles", limit=2, nextToken=token)
        for item in result["data"]["items"]:
            assert item["ssn"] is None
            seen += 1
        token = result["data"]["nextToken"]
        if token is None:
            break
    assert seen == 5


# -- IAM role lookalikes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_arn", "allowed"),
    [
        ("arn:aws:sts::123456789012:assumed-role/modelauth-backend/worker", True),
        ("arn:aws:sts::123456789012:assumed-role/modelauth-backendX/worker", False),
        ("arn:aws:sts::123456789012:assumed-role/Xmodelauth-backend/worker", False),
        ("arn:aws:sts::123456789012:assumed-role/other-role/modelauth-backend", False),
        ("arn:aws:iam::123456789012:user/modelauth-backend", False),
        ("arn:aws:iam::123456789012:role/modelauth-backend", False),
        ("arn:aws:sts::123456789012:assumed-role/modelauth-backend", False),
    ],
)
def test_backend_role_is_matched_exactly(app: GraphQLApp, user_arn: str, allowed: bool) -> None:
    result = as_iam(app, iam(user_arn)).call("Mutation", "createNote", input={"text": "x"})
    assert (result["data"] is not None) is allowed, result


def test_identity_pool_guests_own_nothing(app: GraphQLApp) -> None:
    guest = as_iam(
        app,
        iam(
            "arn:aws:sts::123456789012:assumed-role/unauth/CognitoIdentityCredentials",
            "us-east-1:g",
            "unauthenticated",
        ),
    )
    assert guest.error("Mutation", "createNote", input={"text": "x"})["errorType"] == UNAUTHORIZED


def test_a_username_spelling_someone_elses_owner_value_owns_nothing(app: GraphQLApp) -> None:
    Client(app, BOB).mutate("createTodo", id="bobs", content="x")
    mallory = Client(
        app, {**BOB, "sub": "m9", "username": "b2::bob", "claims": {"sub": "m9", "username": "b2::bob"}}
    )
    assert mallory.error("Query", "getTodo", id="bobs")["errorType"] == UNAUTHORIZED
    assert mallory.error("Mutation", "createTodo", input={"content": "x"})["errorType"] == UNAUTHORIZED
