"""CRUD through every auth mode of the local endpoint, over real HTTP.

Each model is exercised in the mode its rules are written for: Todo (user pools + API key),
Item (OIDC), Note (IAM: identity-pool guest and signed-in user, a backend role via STS),
Ticket (the template's Lambda authorizer), Profile (field-level ssn), Post / CatalogItem
(groups, guests). Ids are unique per test so the tests share one backend.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.local.conftest import Client, reasons


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def crud(
    client: Client, model: str, fields: str, create: dict[str, Any], change: dict[str, Any]
) -> dict[str, Any]:
    """create → get → list → update → delete as one caller; returns the created item."""
    input_type = f"Create{model}Input"
    created = client.data(
        f"mutation C($in: {input_type}!) {{ create{model}(input: $in) {{ id {fields} }} }}", {"in": create}
    )[f"create{model}"]
    item_id = created["id"]
    got = client.data(f'query {{ get{model}(id: "{item_id}") {{ id {fields} }} }}')[f"get{model}"]
    assert got == created
    listed = client.data(f"query {{ list{model}s {{ items {{ id }} }} }}")[f"list{model}s"]["items"]
    assert {"id": item_id} in listed
    updated = client.data(
        f"mutation U($in: Update{model}Input!) {{ update{model}(input: $in) {{ id {fields} }} }}",
        {"in": {"id": item_id, **change}},
    )[f"update{model}"]
    assert all(updated[k] == v for k, v in change.items())
    deleted = client.data(f'mutation {{ delete{model}(input: {{id: "{item_id}"}}) {{ id }} }}')
    assert deleted == {f"delete{model}": {"id": item_id}}
    assert client.data(f'query {{ get{model}(id: "{item_id}") {{ id }} }}') == {f"get{model}": None}
    return dict(created)


def test_user_pools_owner_crud_on_todo(clients: dict[str, Client]) -> None:
    created = crud(clients["alice"], "Todo", "content done owner", {"content": "milk"}, {"done": True})
    assert created["owner"] == "alice"


def test_user_pools_accepts_id_tokens_too(clients: dict[str, Client]) -> None:
    crud(clients["alice_id_token"], "Todo", "content owner", {"content": "via id token"}, {"content": "x"})


def test_user_pools_other_owner_is_refused_with_the_rules_reason(clients: dict[str, Client]) -> None:
    todo = new_id("todo")
    clients["alice"].data(f'mutation {{ createTodo(input: {{id: "{todo}", content: "x"}}) {{ id }} }}')
    response = clients["bob"].post(f'query {{ getTodo(id: "{todo}") {{ id }} }}')
    assert response.json()["errors"][0]["message"] == "Not Authorized to access getTodo on type Query"
    [decision] = reasons(response)
    assert decision["field"] == "Query.getTodo"
    assert not decision["allowed"]
    assert "owner rule: caller is" in decision["reason"]
    assert "::bob" in decision["reason"]


def test_a_mutation_condition_is_judged_like_the_deployed_resolver(clients: dict[str, Client]) -> None:
    todo = new_id("todo")
    alice = clients["alice"]
    alice.data(f'mutation {{ createTodo(input: {{id: "{todo}", content: "x"}}) {{ id }} }}')
    update = (
        "mutation U($in: UpdateTodoInput!, $c: ModelTodoConditionInput) "
        "{ updateTodo(input: $in, condition: $c) { id done } }"
    )
    error = alice.error(update, {"in": {"id": todo, "done": True}, "c": {"content": {"eq": "y"}}})
    assert (error["errorType"], error["message"]) == (
        "DynamoDB:ConditionalCheckFailedException",
        "The conditional request failed",
    )
    done = alice.data(update, {"in": {"id": todo, "done": True}, "c": {"content": {"eq": "x"}}})
    assert done["updateTodo"]["done"] is True


def test_api_key_reads_todos_but_cannot_write(clients: dict[str, Client]) -> None:
    todo = new_id("todo")
    clients["alice"].data(f'mutation {{ createTodo(input: {{id: "{todo}", content: "public"}}) {{ id }} }}')
    items = clients["api_key"].data("{ listTodos(limit: 1000) { items { id content } } }")["listTodos"][
        "items"
    ]
    assert {"id": todo, "content": "public"} in items
    error = clients["api_key"].error('mutation { createTodo(input: {content: "x"}) { id } }')
    assert (error["errorType"], error["message"]) == (
        "Unauthorized",
        "Not Authorized to access createTodo on type Mutation",
    )


def test_oidc_owner_crud_on_item(clients: dict[str, Client]) -> None:
    created = crud(clients["erin"], "Item", "name owner", {"name": "lamp"}, {"name": "desk"})
    assert created["owner"] == "local|erin"


def test_oidc_group_claim_grants_moderators_only(clients: dict[str, Client]) -> None:
    item = new_id("item")
    clients["erin"].data(f'mutation {{ createItem(input: {{id: "{item}", name: "a"}}) {{ id }} }}')
    change = f'mutation {{ updateItem(input: {{id: "{item}", name: "b"}}) {{ name }} }}'
    assert clients["frank"].data(change) == {"updateItem": {"name": "b"}}
    assert clients["gina"].error(change)["errorType"] == "Unauthorized"


def test_iam_guest_cannot_own_notes(clients: dict[str, Client]) -> None:
    response = clients["guest"].post('mutation { createNote(input: {text: "hi"}) { id } }')
    assert response.json()["errors"][0]["errorType"] == "Unauthorized"
    assert "cognitoIdentityId" in reasons(response)[0]["reason"]


def test_iam_signed_in_user_owns_its_notes_and_others_cannot_read_them(clients: dict[str, Client]) -> None:
    created = crud(clients["alice_iam"], "Note", "text owner", {"text": "mine"}, {"text": "still mine"})
    assert created["owner"].startswith("us-east-1:")
    note = new_id("note")
    clients["alice_iam"].data(f'mutation {{ createNote(input: {{id: "{note}", text: "a"}}) {{ id }} }}')
    assert clients["bob_iam"].error(f'{{ getNote(id: "{note}") {{ id }} }}')["errorType"] == "Unauthorized"


def test_iam_backend_role_sees_every_note(clients: dict[str, Client]) -> None:
    note = new_id("note")
    clients["alice_iam"].data(f'mutation {{ createNote(input: {{id: "{note}", text: "a"}}) {{ id }} }}')
    items = clients["backend_role"].data("{ listNotes(limit: 1000) { items { id } } }")["listNotes"]["items"]
    assert {"id": note} in items


def test_iam_guest_and_signed_in_roles_reach_their_public_rules(clients: dict[str, Client]) -> None:
    pen = new_id("pen")
    clients["carol"].data(f'mutation {{ createCatalogItem(input: {{id: "{pen}", name: "Pen"}}) {{ id }} }}')
    for caller in ("guest", "alice_iam", "api_key", "bob"):
        got = clients[caller].data(f'{{ getCatalogItem(id: "{pen}") {{ name }} }}')
        assert got == {"getCatalogItem": {"name": "Pen"}}, caller
    # Post's guest rule is for the unauth role only: a signed-in identity is not a guest
    post = new_id("post")
    clients["alice"].data(
        f'mutation {{ createPost(input: {{id: "{post}", title: "t", editors: ["alice"]}}) {{ id }} }}'
    )
    assert clients["guest"].data(f'{{ getPost(id: "{post}") {{ title }} }}') == {"getPost": {"title": "t"}}
    assert (
        clients["alice_iam"].error(f'{{ getPost(id: "{post}") {{ title }} }}')["errorType"] == "Unauthorized"
    )


def test_lambda_authorizer_caller_owns_its_tickets(clients: dict[str, Client]) -> None:
    created = crud(clients["dave"], "Ticket", "title status owner", {"title": "VPN"}, {"status": "done"})
    assert created["owner"] == "partner:dave"


def test_lambda_authorizer_denied_fields_are_refused_before_the_resolver(clients: dict[str, Client]) -> None:
    # an authorizer API key names no user: the authorizer denies every write it can never make
    response = clients["lambda_key"].post('mutation { createTicket(input: {title: "x"}) { id } }')
    assert response.json()["errors"][0]["message"] == "Not Authorized to access createTicket on type Mutation"
    assert "deniedFields" in reasons(response)[0]["reason"]
    assert clients["lambda_key"].data("{ listTickets { items { id } } }")["listTickets"] is not None


def test_field_level_rule_nulls_ssn_for_other_readers(clients: dict[str, Client]) -> None:
    profile = new_id("profile")
    clients["alice"].data(
        f'mutation {{ createProfile(input: {{id: "{profile}", name: "A", ssn: "123"}}) {{ id }} }}'
    )
    assert clients["alice"].data(f'{{ getProfile(id: "{profile}") {{ ssn }} }}') == {
        "getProfile": {"ssn": "123"}
    }
    body = clients["bob"].post(f'{{ getProfile(id: "{profile}") {{ name ssn }} }}').json()
    assert body["data"] == {"getProfile": {"name": "A", "ssn": None}}
    [error] = body["errors"]
    assert (error["message"], error["errorType"]) == (
        "Not Authorized to access ssn on type Profile",
        "Unauthorized",
    )


@pytest.mark.parametrize(
    ("caller", "query", "field"),
    [
        ("alice", "{ listNotes { items { id } } }", "listNotes on type Query"),
        ("guest", '{ getTodo(id: "x") { id } }', "getTodo on type Query"),
        ("erin", "{ listTickets { items { id } } }", "listTickets on type Query"),
        ("dave", '{ getItem(id: "x") { id } }', "getItem on type Query"),
        ("api_key", '{ getProfile(id: "x") { id } }', "getProfile on type Query"),
    ],
)
def test_directive_mismatch_is_refused_before_any_resolver(
    clients: dict[str, Client],
    server: Any,
    caller: str,
    query: str,
    field: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(server.engine, "invoke", lambda *a: calls.append(a))
    response = clients[caller].post(query)
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert (error["message"], error["errorType"]) == (f"Not Authorized to access {field}", "Unauthorized")
    assert error["extensions"]["errorType"] == "Unauthorized"
    assert reasons(response)[0]["reason"].startswith("AppSync:")
    assert calls == []


def test_resolver_event_is_appsyncs(
    clients: dict[str, Client], server: Any, backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[dict[str, Any]] = []
    invoke = server.engine.invoke

    def spy(function: str, event: dict[str, Any]) -> Any:
        events.append(event)
        return invoke(function, event)

    monkeypatch.setattr(server.engine, "invoke", spy)
    query = "query L($n: Int) { listNotes(limit: $n) { items { id ... on Note { text } } nextToken } }"
    clients["alice_iam"].data(query, {"n": 5})
    [event] = events
    assert event["authType"] == "IAM Authorization"
    assert event["arguments"] == {"limit": 5}
    assert event["info"]["fieldName"] == "listNotes"
    assert event["info"]["parentTypeName"] == "Query"
    assert event["info"]["selectionSetList"] == ["items", "items/id", "items/text", "nextToken"]
    assert event["info"]["variables"] == {"n": 5}
    assert "x-amz-date" in event["request"]["headers"]
    assert "authorization" in event["request"]["headers"]
    identity = event["identity"]
    assert identity["cognitoIdentityPoolId"] == backend.identity_pool_id
    assert identity["cognitoIdentityAuthType"] == "authenticated"
    session = "CognitoIdentityCredentials"
    assert (
        identity["userArn"]
        == f"arn:aws:sts::{backend.account_id}:assumed-role/{backend.auth_role.name}/{session}"
    )
    assert identity["username"] == f"{backend.auth_role.role_id}:CognitoIdentityCredentials"
    assert identity["cognitoIdentityAuthProvider"].endswith(
        f":CognitoSignIn:{identity['cognitoIdentityAuthProvider'].rsplit(':', 1)[1]}"
    )
    assert backend.login_provider in identity["cognitoIdentityAuthProvider"]
