"""Amplify JS v6 against `modelauth serve`: starts the endpoint for the fixture project on a free
port, adds the users (Amplify signs them in with SRP), writes amplify_outputs.json with
`modelauth outputs --local`, and runs tests/node/amplify.test.mjs with node's test runner
(aws-amplify and ws from tests/node/package-lock.json; `make test-fast` runs `npm ci` there).

Without node or those packages the test is skipped, unless ``MODELAUTH_REQUIRE_NODE=1`` (the
Makefile sets it), when it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT, ROOT, fixture_project
from tests.node.packages import NODE_DIR, installed, unavailable

CLI = [sys.executable, "-c", "import sys; from modelauth.local.cli import main; sys.exit(main())"]
USERS = {"alice": ["editors"], "bob": []}
RELATIONS = "tests.fixtures.relations:SCHEMA"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not on PATH")
    installed("aws-amplify")
    installed("ws")
    return node


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _cli(*argv: str, state: Path, cwd: Path = PROJECT) -> str:
    options = list(argv[:2]) if argv[:1] == ("--schema",) else []
    done = subprocess.run(
        [*CLI, *options, "--state", str(state), *argv[len(options) :]],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextmanager
def _serve(
    tmp: Path, project: Path, users: Mapping[str, list[str]], schema: str | None = None
) -> Iterator[dict[str, Any]]:
    """A running `modelauth serve --port 0` in ``project``, its state file, outputs and the
    users' passwords."""
    state = tmp / "local.json"
    log = (tmp / "serve.log").open("w")
    options = ["--schema", schema] if schema else []
    serve = subprocess.Popen(
        [*CLI, *options, "--state", str(state), "serve", "--port", "0"],
        cwd=project,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while not (state.exists() and json.loads(state.read_text() or "{}").get("endpoint")):
            assert serve.poll() is None, (tmp / "serve.log").read_text()
            assert time.monotonic() < deadline, "modelauth serve did not start"
            time.sleep(0.2)
        for name, groups in users.items():
            _cli(*options, "users", "add", name, *(f"--group={g}" for g in groups), state=state, cwd=project)
        outputs = tmp / "amplify_outputs.json"
        _cli(*options, "outputs", "--local", "--out", str(outputs), state=state, cwd=project)
        passwords = {name: json.loads(state.read_text())["users"][name] for name in users}
        yield {"state": state, "outputs": outputs, "passwords": passwords, "log": tmp / "serve.log"}
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with _serve(tmp_path_factory.mktemp("amplify-js"), PROJECT, USERS) as found:
        yield found


@pytest.fixture(scope="module")
def served_relations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The same on a project generated from tests/fixtures/relations.py (Blog, Post, Comment, ...)."""
    project = fixture_project(RELATIONS)
    users = {"alice": [], "bob": [], "carol": ["Admin"]}
    with _serve(tmp_path_factory.mktemp("amplify-js-relations"), project, users, RELATIONS) as found:
        yield found


def _run_node(script: str, served: dict[str, Any]) -> None:
    node = _node()
    env = {
        **os.environ,
        "MODELAUTH_OUTPUTS": str(served["outputs"]),
        "MODELAUTH_PASSWORDS": json.dumps(served["passwords"]),
    }
    done = subprocess.run(
        [node, "--test", "--test-force-exit", "--test-reporter=spec", script],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report + "\n--- modelauth serve ---\n" + served["log"].read_text()[-4000:]
    assert "\N{INFORMATION SOURCE} fail 0" in report, report
    assert "\N{INFORMATION SOURCE} skipped 0" in report, report  # nothing of it silently skipped


def test_amplify_js_relationships_against_modelauth_serve(served_relations: dict[str, Any]) -> None:
    """Amplify's lazy loaders (``post.comments()``, ``comment.post()``) and nested selection sets
    (``selectionSet: ["id", "comments.*"]``) answer with the related model's rules."""
    _run_node("amplify-relations.test.mjs", served_relations)


def test_amplify_js_against_modelauth_serve(served: dict[str, Any]) -> None:
    _run_node("amplify.test.mjs", served)
