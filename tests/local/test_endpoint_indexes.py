"""Secondary index query fields through the local endpoint (``modelauth serve``), over real HTTP,
on a project generated from tests/fixtures/keys.py: the same answers as through the Lambda
handler (tests/functional/test_secondary_indexes.py), and AppSync's validation of key arguments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import fixture_project
from tests.functional.keys import TASKS
from tests.functional.test_secondary_indexes import DECISIONS
from tests.local.conftest import Client, embedded_backend, local_server, user_clients

KEYS_SCHEMA = "tests.fixtures.keys:SCHEMA"
BY_STATUS = "query Q($s: String!) { tasksByStatus(status: $s) { items { title } nextToken } }"


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Client]]:
    from modelauth.local.samtemplate import SamTemplate
    from tests.fixtures.keys import SCHEMA

    template = SamTemplate.load(fixture_project(KEYS_SCHEMA) / "template.yaml")
    with (
        embedded_backend(template, SCHEMA, KEYS_SCHEMA, ()) as backend,
        local_server(template, backend) as server,
    ):
        found = user_clients(server.url, backend)
        create = "mutation C($in: CreateTaskInput!) { createTask(input: $in) { id } }"
        for who, title, status, priority in TASKS:
            found[who].data(create, {"in": {"title": title, "status": status, "priority": priority}})
        yield found


@pytest.mark.parametrize("caller", sorted(DECISIONS))
def test_index_query_answers_as_the_lambda_handler_does(clients: dict[str, Client], caller: str) -> None:
    page = clients[caller].data(BY_STATUS, {"s": "open"})["tasksByStatus"]
    assert [item["title"] for item in page["items"]] == DECISIONS[caller]
    assert page["nextToken"] is None


def test_sort_key_condition_and_direction(clients: dict[str, Client]) -> None:
    query = (
        'query { tasksByStatusAndPriority(status: "open", priority: {between: [2, 3]}, '
        "sortDirection: DESC) { items { title } } }"
    )
    items = clients["carol"].data(query)["tasksByStatusAndPriority"]["items"]
    assert [item["title"] for item in items] == ["a-open-3", "b-open-2"]


@pytest.mark.parametrize(
    "arguments",
    [
        "priority: {eq: 1}",  # a sort key condition without the partition key value
        'status: "open", title: {eq: "x"}',  # a key condition on a field that is not a key
    ],
)
def test_bad_key_arguments_are_graphql_validation_errors(clients: dict[str, Client], arguments: str) -> None:
    response = clients["carol"].post(
        f"query {{ tasksByStatusAndPriority({arguments}) {{ items {{ title }} }} }}"
    )
    body: dict[str, Any] = response.json()
    assert response.status_code in (200, 400), response.text
    assert body.get("data") is None
    assert body["errors"][0]["errorType"] == "ValidationError", body
