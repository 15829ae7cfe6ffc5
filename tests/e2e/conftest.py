"""e2e tier: the built resolver function in the Lambda container (`sam local invoke`) against moto.

Needs the Docker daemon, the local Lambda base image (`make docker`) and `sam build` output
(`make build`); `make test-e2e` provides all three. When one is missing the tests FAIL with the
reason - an e2e tier that silently skips proves nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import EVENTS, EXAMPLE, load_event

BUILT_TEMPLATE = EXAMPLE / ".aws-sam" / "build" / "template.yaml"
VENV_BIN = Path(sys.executable).parent
LAMBDA_IMAGE = "public.ecr.aws/lambda/python:3.12-x86_64"
FUNCTION = "GraphQLFunction"
REGION = "us-east-1"  # the region `sam local` gives the function
TABLE_NAME = "Todo-e2e"
INVOKE_TIMEOUT_S = 120

Invoke = Callable[[str], dict[str, Any]]


def python312_bin() -> Path:
    """The newest pyenv Python 3.12's bin/ (what `sam build` and the Makefile use)."""
    versions = sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob("3.12.*"))
    assert versions, "sam build needs python3.12 (pyenv install 3.12)"
    return versions[-1] / "bin"


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def docker_gateway() -> str:
    """Address of the host on Docker's bridge network, as seen from a container."""
    info = _run("docker", "info", "--format", "{{.ServerVersion}}")
    if info.returncode != 0:
        pytest.fail(f"Docker daemon unavailable (`make docker` starts it, as root): {info.stderr.strip()}")
    image = _run("docker", "image", "inspect", "--format", "{{.Id}}", LAMBDA_IMAGE)
    if image.returncode != 0:
        pytest.fail(f"Lambda base image missing (`make docker` builds it): {image.stderr.strip()}")
    if not BUILT_TEMPLATE.is_file():
        pytest.fail(f"{BUILT_TEMPLATE.relative_to(EXAMPLE)} missing: run `make build` (make test-e2e does)")
    return _bridge_gateway()


def _bridge_gateway() -> str:
    """The host as a container on Docker's default bridge sees it (what `modelauth local-env` uses)."""
    from modelauth.local.localenv import docker_bridge_gateway

    try:
        return docker_bridge_gateway()
    except RuntimeError as exc:
        pytest.fail(str(exc))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A moto server on 0.0.0.0 (containers reach it through the bridge gateway)."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            # 0.0.0.0: containers reach the host through the bridge gateway, not via 127.0.0.1.
            [str(VENV_BIN / "moto_server"), "-H", "0.0.0.0", "-p", str(port)],  # noqa: S104
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/moto-api/", server, log_path)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"moto_server exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - fixed local http URL
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"moto_server not answering on {url} after {timeout_s} s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def todo_table(moto_port: int) -> Any:
    """The Todo table (same keys and index as template.yaml) in the moto server."""
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{moto_port}",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return dynamodb.create_table(
        TableName=TABLE_NAME,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "createdAt", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byOwner",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "createdAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def _user_pool_id_of_events() -> str:
    """The pool the sample events' tokens come from, so the function treats them as user-pool calls."""
    issuer = load_event("createTodo.alice")["identity"]["issuer"]
    return str(issuer).rsplit("/", 1)[-1]


@pytest.fixture(scope="session")
def env_vars_file(
    docker_gateway: str, moto_port: int, todo_table: Any, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """`sam local invoke --env-vars` file pointing the function at moto."""
    path = tmp_path_factory.mktemp("sam") / "env.json"
    variables = {
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://{docker_gateway}:{moto_port}",
        "TABLE_TODO": todo_table.name,
        "NEXT_TOKEN_SECRET": secrets.token_hex(32),
        "USER_POOL_ID": _user_pool_id_of_events(),
    }
    path.write_text(json.dumps({FUNCTION: variables}))
    return path


def last_json_line(stdout: str) -> Any:
    """SAM prints the function's result as the last JSON line (logs go to stderr, but be lenient)."""
    for line in reversed(stdout.splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise ValueError("no JSON line in sam output")


def invoker(
    env_vars_file: Path,
    events: Path = EVENTS,
    function: str = FUNCTION,
    *,
    envelope: bool = True,
    project: Path = EXAMPLE,
) -> Invoke:
    """Invoke ``project``'s built ``function`` with ``<events>/<name>.json``; returns its answer
    (checked to be the resolver's {data, errors} envelope unless ``envelope`` is false)."""
    # SAM gives a declared variable the shell's value unless the env-vars file sets it: the
    # tests' MODELAUTH_SCHEMA (the fixture schema) must not reach the example's functions
    env = {k: v for k, v in os.environ.items() if k != "MODELAUTH_SCHEMA"}
    env.update(SAM_CLI_TELEMETRY="0", AWS_DEFAULT_REGION=REGION)

    def invoke(event_name: str) -> dict[str, Any]:
        cmd = [
            str(VENV_BIN / "sam"),
            "local",
            "invoke",
            function,
            "--template",
            str(project / ".aws-sam" / "build" / "template.yaml"),
            "--event",
            str(events / f"{event_name}.json"),
            "--env-vars",
            str(env_vars_file),
            "--region",
            REGION,
            "--skip-pull-image",
        ]
        proc = subprocess.run(
            cmd, cwd=project, env=env, capture_output=True, text=True, timeout=INVOKE_TIMEOUT_S, check=False
        )
        report = f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        assert proc.returncode == 0, report
        try:
            answer = last_json_line(proc.stdout)
        except ValueError:
            pytest.fail(f"no JSON result from sam local invoke\n{report}")
        assert isinstance(answer, dict), report
        if envelope:
            assert set(answer) == {"data", "errors"}, report
        return answer

    return invoke


@pytest.fixture(scope="session")
def sam_invoke(env_vars_file: Path) -> Invoke:
    """Invoke the built GraphQLFunction with events/<name>.json; returns the Lambda's envelope."""
    return invoker(env_vars_file)
