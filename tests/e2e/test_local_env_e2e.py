"""The README's recipe for the example project: `modelauth local-env` against a moto server, then
`sam local invoke` with the committed example/events/ (written by `modelauth events`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.e2e.conftest import Invoke, invoker

pytestmark = pytest.mark.e2e

EVENTS = EXAMPLE / "events"


@pytest.fixture(scope="module")
def env_file(docker_gateway: str, moto_port: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`modelauth local-env` for the example project: its tables in moto, the env-vars file."""
    path = tmp_path_factory.mktemp("local-env") / "env.json"
    # the example's own schema (pyproject.toml), not the library tests' fixture schema
    env = {k: v for k, v in os.environ.items() if k != "MODELAUTH_SCHEMA"}
    cmd = [
        sys.executable,
        "-m",
        "modelauth.local.cli",
        "local-env",
        "--endpoint",
        f"http://127.0.0.1:{moto_port}",
    ]
    cmd += ["--container-host", docker_gateway, "--output", str(path)]
    proc = subprocess.run(cmd, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    assert "TodoTable" in proc.stdout, proc.stdout
    return path


@pytest.fixture(scope="module")
def graphql(env_file: Path) -> Invoke:
    return invoker(env_file, EVENTS)


def test_owner_creates_and_reads_the_other_user_is_denied(graphql: Invoke) -> None:
    created = graphql("createTodo.userPools.alice")
    assert created["errors"] == []
    assert created["data"]["id"] == "todo-userpools-alice"

    mine = graphql("getTodo.userPools.alice")
    assert mine["errors"] == []
    assert mine["data"]["id"] == "todo-userpools-alice"
    assert mine["data"]["owner"] == "alice"  # shown as the username part of <sub>::alice

    theirs = graphql("getTodo.userPools.bob")
    assert theirs["data"] is None
    assert [(e["errorType"], e["message"]) for e in theirs["errors"]] == [
        ("Unauthorized", "Not Authorized to access getTodo on type Query")
    ]


def test_the_authorizer_allows_the_events_token(env_file: Path) -> None:
    answer = invoker(env_file, EVENTS, "AuthorizerFunction", envelope=False)("authorizer.rest-token.alice")
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow", answer
    assert answer["context"]["username"] == "alice"
