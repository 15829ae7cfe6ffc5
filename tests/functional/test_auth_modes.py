"""One sample event per AppSync auth mode (events/*.json) through the resolver, each against a
model whose rules speak to that mode: allowed with the right owner, or refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.policy import AuthConfig
from modelauth.resolvers import GraphQLApp, Outcome
from modelauth.store import Store
from tests.conftest import load_event
from tests.fixtures.schema import SCHEMA

POOL_ID = "us-east-1:0c9c5d0e-1111-2222-3333-444455556666"
AUTH_ROLE = "arn:aws:iam::123456789012:role/amplify-app-dev-authRole"
UNAUTH_ROLE = "arn:aws:iam::123456789012:role/amplify-app-dev-unauthRole"


@pytest.fixture
def outcomes(store: Store) -> tuple[GraphQLApp, list[Outcome]]:
    seen: list[Outcome] = []
    config = AuthConfig(
        identity_pool_id=POOL_ID,
        auth_role_arns=frozenset({AUTH_ROLE}),
        unauth_role_arns=frozenset({UNAUTH_ROLE}),
    )
    return GraphQLApp(SCHEMA, store, auth_config=config, on_outcome=seen.append), seen


CASES = [
    # event, allowed, what the result or the reason must show
    ("listCatalogItems.iam-guest", True, {"items": []}),
    ("createNote.iam-authenticated", True, {"owner": "us-east-1:3b2e9d4c-aaaa-bbbb-cccc-111122223333"}),
    ("createNote.iam-guest", False, "caller has no 'cognitoIdentityId' claim"),
    ("createNote.iam-role", False, "caller role 'todo-fn-role'"),
    ("createItem.oidc", True, {"owner": "auth0|64f0c1e2"}),
    ("createTicket.lambda", True, {"owner": "alice"}),
    ("listTickets.lambda", True, {"items": []}),
    ("getTodo.oidc", False, "no rule for provider oidc allows get on Todo"),
    ("getTodo.lambda", False, "no rule for provider function allows get on Todo"),
    ("getTodo.iam-role", False, "no rule for provider iam allows get on Todo"),
]


@pytest.mark.parametrize(("event", "allowed", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_mode_reaches_the_rules_written_for_it(
    outcomes: tuple[GraphQLApp, list[Outcome]], event: str, allowed: bool, expected: Any
) -> None:
    app, seen = outcomes
    result = app.resolve(load_event(event), None)
    [outcome] = seen
    assert outcome.allowed is allowed, outcome.reason
    if allowed:
        assert result["errors"] == []
        assert {k: result["data"][k] for k in expected} == expected
    else:
        assert result["data"] is None
        assert result["errors"][0]["errorType"] == "Unauthorized"
        assert expected in outcome.reason
