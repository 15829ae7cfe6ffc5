"""The resolver function in the real Lambda runtime (sam local invoke, Docker) against moto.

Events are AppSync direct-resolver events (events/<field>.<caller>.json); the answers are the
{data, errors} envelope graphql/invoke.js turns into the GraphQL response.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import load_event
from tests.e2e.conftest import Invoke

pytestmark = pytest.mark.e2e

ALICE_SUB = "a1b2c3d4-0000-4000-8000-00000000a11c"
ALICE_OWNER = f"{ALICE_SUB}::alice"  # spec 3.2: default claim "sub::username" is what gets stored


@pytest.fixture
def alice_todo(todo_table: Any) -> dict[str, Any]:
    """The item events/getTodo.*.json ask for, owned by alice."""
    item = {
        "id": "todo-alice-1",
        "content": "water the plants",
        "done": False,
        "owner": ALICE_OWNER,
        "createdAt": "2025-01-01T09:00:00.000Z",
        "updatedAt": "2025-01-01T09:00:00.000Z",
        "_version": 1,
    }
    todo_table.put_item(Item=item)
    return item


def test_create_as_alice_stores_the_composite_owner(sam_invoke: Invoke, todo_table: Any) -> None:
    content = load_event("createTodo.alice")["arguments"]["input"]["content"]

    envelope = sam_invoke("createTodo.alice")

    assert envelope["errors"] == []
    created = envelope["data"]
    assert created["content"] == content
    stored = todo_table.get_item(Key={"id": created["id"]}, ConsistentRead=True).get("Item")
    assert stored is not None, f"{created['id']} not in the table"
    assert stored["owner"] == ALICE_OWNER


def test_get_as_owner_returns_the_item(sam_invoke: Invoke, alice_todo: dict[str, Any]) -> None:
    envelope = sam_invoke("getTodo.alice")

    assert envelope["errors"] == []
    assert envelope["data"]["id"] == alice_todo["id"]
    assert envelope["data"]["content"] == alice_todo["content"]


def test_get_as_other_user_is_unauthorized(sam_invoke: Invoke, alice_todo: dict[str, Any]) -> None:
    envelope = sam_invoke("getTodo.bob")

    assert envelope["data"] is None
    assert [(e["errorType"], e["message"]) for e in envelope["errors"]] == [
        ("Unauthorized", "Not Authorized to access getTodo on type Query")
    ]
