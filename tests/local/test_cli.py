"""The ``modelauth`` command against the running local endpoint (its state file in tmp_path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelauth.local.cli import main
from tests.conftest import EVENTS, PROJECT
from tests.local.conftest import Client


@pytest.fixture
def state(tmp_path: Path, backend: Any, server: Any) -> Path:
    path = tmp_path / "local.json"
    backend.save(path)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["--template", str(PROJECT / "template.yaml"), *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_explain_prints_every_models_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    from modelauth.explain import access_matrix
    from tests.fixtures.schema import SCHEMA

    code, out, _ = cli(capsys, "explain")
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("Todo "))
    assert header.split() == ["Todo", "create", "update", "delete", "get", "list", "listen", "sync", "search"]
    row = next(line for line in out.splitlines() if line.startswith("user_pools "))
    assert row.split()[:3] == ["user_pools", "only", "own"]
    code, out, _ = cli(capsys, "explain", "--json")
    assert json.loads(out) == access_matrix(SCHEMA)


def test_explain_an_event_file_needs_no_running_endpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "none.json"
    event = EVENTS / "updateTodo.bob.json"
    code, out, _ = cli(
        capsys, "--state", missing, "explain", "--as", event, "--op", "update", "--model", "Todo"
    )
    assert code == 0
    assert "only:   items where owner in" in out
    code, _, err = cli(
        capsys, "--state", missing, "explain", "--as", event, "--op", "update", "--model", "Todo", "--id", "x"
    )
    assert code == 1
    assert "start `modelauth serve`" in err


def test_explain_a_credential_against_a_stored_item(
    capsys: pytest.CaptureFixture[str], state: Path, backend: Any, clients: dict[str, Client]
) -> None:
    todo = clients["alice"].data('mutation { createTodo(input: {content: "x"}) { id } }')["createTodo"]["id"]
    args = ["--state", state, "explain", "--op", "update", "--model", "Todo", "--id", todo, "--json"]
    code, out, _ = cli(capsys, *args, "--as", backend.token("alice"))
    assert (code, json.loads(out)["allowed"]) == (0, True)
    code, out, _ = cli(capsys, *args, "--as", backend.token("bob"))
    verdict = json.loads(out)
    assert (code, verdict["allowed"], verdict["stage"]) == (3, False, "resolver (rules)")
    assert "owner rule: caller is" in verdict["reason"]
    code, out, _ = cli(capsys, *args, "--as", next(iter(backend.api_keys)))
    assert json.loads(out)["stage"] == "appsync (@aws_* directives)"
    code, out, _ = cli(capsys, *args, "--as", "not-a-credential")
    assert json.loads(out)["stage"] == "appsync (401)"


def test_users_and_tokens(capsys: pytest.CaptureFixture[str], state: Path, server: Any) -> None:
    code, out, _ = cli(capsys, "--state", state, "users", "add", "dan", "--group", "editors")
    assert code == 0
    assert "added dan in editors" in out
    code, token, _ = cli(capsys, "--state", state, "token", "dan")
    created = Client(server.url, {"authorization": token.strip()}).data(
        'mutation { createTodo(input: {content: "d"}) { owner } }'
    )
    assert created == {"createTodo": {"owner": "dan"}}
    assert cli(capsys, "--state", state, "users", "list")[1].split()[-1] == "dan"
    for flag, prefix in (("--api-key", "da2-"), ("--lambda-key", "mak_")):
        assert cli(capsys, "--state", state, "token", flag)[1].startswith(prefix)
    for flag in ("--oidc", "--lambda", "--id"):
        assert cli(capsys, "--state", state, "token", "dan", flag)[1].count(".") == 2


def test_creds_print_identity_pool_and_sts_credentials(
    capsys: pytest.CaptureFixture[str], state: Path
) -> None:
    code, out, _ = cli(capsys, "--state", state, "creds")
    assert code == 0
    assert "export AWS_ACCESS_KEY_ID=ASIA" in out
    assert "(guest)" in out
    code, out, _ = cli(capsys, "--state", state, "creds", "--user", "alice", "--json")
    assert json.loads(out)["identity"].endswith("(authenticated alice)")
    code, out, _ = cli(
        capsys, "--state", state, "creds", "--role", "arn:aws:iam::123456789012:role/modelauth-backend"
    )
    assert "assumed-role/modelauth-backend/modelauth-cli" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "nobody"], "no local user 'nobody'"),
        (["token"], "a user name is required"),
    ],
)
def test_errors_are_one_line_never_a_traceback(
    capsys: pytest.CaptureFixture[str], state: Path, args: list[str], message: str
) -> None:
    code, _, err = cli(capsys, "--state", state, *args)
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_without_a_running_endpoint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "--state", tmp_path / "none.json", "token", "alice")
    assert code == 1
    assert "start one with `modelauth serve`" in err
