"""Secondary index query fields through the local endpoint (``modelauth serve``), over real HTTP,
on a project generated from tests/fixtures/keys.py: the same answers as through the Lambda
handler (tests/functional/test_secondary_indexes.py), and AppSync's validation of key arguments;
and ``modelauth explain`` against an item of a custom identifier, named by its whole key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelauth.local.cli import main
from tests.conftest import fixture_project
from tests.functional.keys import TASKS
from tests.functional.test_secondary_indexes import DECISIONS
from tests.local.conftest import Client, embedded_backend, local_server, user_clients

KEYS_SCHEMA = "tests.fixtures.keys:SCHEMA"
BY_STATUS = "query Q($s: String!) { tasksByStatus(status: $s) { items { title } nextToken } }"


KEYS_PROJECT = fixture_project(KEYS_SCHEMA)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """(the backend, its state file) of a local endpoint serving the keys project, seeded."""
    from modelauth.local.samtemplate import SamTemplate
    from tests.fixtures.keys import SCHEMA

    template = SamTemplate.load(KEYS_PROJECT / "template.yaml")
    with (
        embedded_backend(template, SCHEMA, KEYS_SCHEMA, ()) as backend,
        local_server(template, backend) as server,
    ):
        backend.test_clients = found = user_clients(server.url, backend)
        create = "mutation C($in: CreateTaskInput!) { createTask(input: $in) { id } }"
        for who, title, status, priority in TASKS:
            found[who].data(create, {"in": {"title": title, "status": status, "priority": priority}})
        order = "mutation C($in: CreateOrderInput!) { createOrder(input: $in) { id } }"
        found["alice"].data(order, {"in": {"customerEmail": "a@example.com", "orderId": "o-1"}})
        state = tmp_path_factory.mktemp("keys-state") / "local.json"
        backend.save(state)
        yield backend, state


@pytest.fixture(scope="module")
def clients(endpoint: tuple[Any, Path]) -> dict[str, Client]:
    clients: dict[str, Client] = endpoint[0].test_clients
    return clients


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


def explain(capsys: pytest.CaptureFixture[str], state: Path, *args: str) -> tuple[int, str, str]:
    template = str(KEYS_PROJECT / "template.yaml")
    argv = ["--template", template, "--schema", KEYS_SCHEMA, "--state", str(state), "explain", *args]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def event_file(directory: Path, name: str) -> str:
    """One of `modelauth events`' files for the keys schema, written to ``directory``."""
    from modelauth.local.events import LocalConfig, sample_events
    from tests.fixtures.keys import SCHEMA

    path = directory / name
    path.write_text(json.dumps(sample_events(SCHEMA, LocalConfig())[name]))
    return str(path)


ORDER_KEY = ["--key", "customerEmail=a@example.com", "--key", "orderId=o-1"]


def test_explain_judges_a_stored_item_named_by_its_whole_key(
    capsys: pytest.CaptureFixture[str], endpoint: tuple[Any, Path]
) -> None:
    backend, state = endpoint
    args = ["--op", "update", "--model", "Order", *ORDER_KEY, "--json"]
    code, out, err = explain(capsys, state, *args, "--as", backend.token("alice"))
    assert (code, err) == (0, "")
    assert json.loads(out)["allowed"] is True
    code, out, _ = explain(capsys, state, *args, "--as", backend.token("bob"))
    verdict = json.loads(out)
    assert (code, verdict["allowed"], verdict["stage"]) == (3, False, "resolver (rules)")
    assert "item owner is" in verdict["reason"]
    assert "::alice" in verdict["reason"]
    missing = ["--key", "customerEmail=a@example.com", "--key", "orderId=o-404"]
    code, _, err = explain(
        capsys, state, "--op", "get", "--model", "Order", *missing, "--as", backend.token("bob")
    )
    assert (code, err.count("\n")) == (1, 1)
    assert "no Order with key" in err


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            ["--id", "o-1"],
            "Order is keyed by customerEmail, orderId: pass --key customerEmail=... --key orderId=...",
        ),
        (["--key", "orderId=o-1"], "the key of Order is customerEmail, orderId"),
        ([*ORDER_KEY, "--key", "total=1"], "--key total: not a key field of Order"),
        ([*ORDER_KEY, "--key", "orderId=o-2"], "--key orderId is given twice"),
        (["--key", "customerEmail"], "--key takes name=value"),
        (
            ["--key", "customerEmail=", "--key", "orderId=o-1"],
            "customerEmail: a key value must be a non-empty string",
        ),
        ([*ORDER_KEY, "--id", "o-1"], "--id and --key name the same item"),
    ],
)
def test_explain_refuses_a_bad_key_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, key: list[str], message: str
) -> None:
    event = event_file(tmp_path, "getOrder.userPools.bob.json")
    code, _, err = explain(
        capsys, tmp_path / "none.json", "--op", "get", "--model", "Order", "--as", event, *key
    )
    assert (code, err.count("\n")) == (2, 1), err
    assert message in err


def test_explain_with_an_event_file_of_a_composite_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The events of a composite-key model are callers explain reads without an endpoint."""
    event = event_file(tmp_path, "updateOrder.userPools.bob.json")
    code, out, _ = explain(
        capsys, tmp_path / "none.json", "--op", "update", "--model", "Order", "--as", event
    )
    assert code == 0
    assert "only:   items where owner in" in out
    code, _, err = explain(
        capsys, tmp_path / "none.json", "--op", "update", "--model", "Order", "--as", event, *ORDER_KEY
    )
    assert code == 1
    assert "start `modelauth serve`" in err
