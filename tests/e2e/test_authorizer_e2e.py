"""The authorizer and the REST function in the Lambda runtime (Docker): `sam local invoke` with the
events in events/, and `sam local start-api` serving the REST API (TOKEN authorizer) and the HTTP
API (REQUEST authorizer, simple responses) against a moto server.

Users sign in to a user pool in the moto server for real RS256 tokens; the authorizer trusts moto's
public JWKS given inline through --env-vars (MODELAUTH_JWKS), so it needs no network.

SAM CLI 1.170 differs from API Gateway in two places, asserted here as SAM behaves:
- a REST authorizer failing with exactly "Unauthorized" is API Gateway's 401; start-api can't
  read that and answers 502 (the HTTP API's simple "isAuthorized": false is 403 in both);
- start-api serves one function per path, so the REST and HTTP APIs (both `/{proxy+}`) can't
  be served together: each is served from a copy of the built template without the other event.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from samcli.yamlhelper import yaml_dump, yaml_parse

from modelauth.apikeys import new_api_key
from modelauth.authorizer import CallerKind
from modelauth.local import LocalUserPool, create_tables, moto_jwks
from modelauth.store import INDEX_TABLE
from tests.authz import authorizer_event
from tests.conftest import EVENTS, EXAMPLE
from tests.e2e.conftest import BUILT_TEMPLATE, INVOKE_TIMEOUT_S, REGION, VENV_BIN, _free_port, last_json_line
from tests.fixtures.schema import SCHEMA

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-9"
START_TIMEOUT_S = 90


@dataclass
class Setup:
    env_file: Path
    tokens: dict[str, str]
    api_key: str
    expired_key: str


@pytest.fixture(scope="module")
def setup(docker_gateway: str, moto_port: int, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """Users, tables and API keys in the moto server; the --env-vars file for both functions."""
    endpoint = f"http://127.0.0.1:{moto_port}"
    aws = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "t",
        "aws_secret_access_key": "t",
    }
    pool = LocalUserPool.create(boto3.client("cognito-idp", **aws), name="authorizer-e2e")
    for user in ("alice", "bob"):
        pool.add_user(user, PASSWORD)
    tokens = {user: pool.sign_in(user, PASSWORD)["AccessToken"] for user in ("alice", "bob")}
    tables = create_tables(
        boto3.client("dynamodb", **aws), SCHEMA, {m.name: f"{m.name}-authz-e2e" for m in SCHEMA.models}
    )
    api_key, record = new_api_key("partner-a", datetime.now(UTC) + timedelta(days=30))
    expired_key, expired = new_api_key("partner-old", datetime.now(UTC) - timedelta(days=1))

    env_file = tmp_path_factory.mktemp("authz") / "env.json"
    env_file.write_text(
        json.dumps(
            {
                "AuthorizerFunction": {
                    "USER_POOL_ID": pool.pool_id,
                    "USER_POOL_CLIENT_IDS": pool.client_id,
                    "MODELAUTH_JWKS": json.dumps(moto_jwks()),
                    "MODELAUTH_API_KEYS": json.dumps({"keys": [record.as_json(), expired.as_json()]}),
                },
                "RestFunction": {
                    "AWS_ENDPOINT_URL_DYNAMODB": f"http://{docker_gateway}:{moto_port}",
                    "NEXT_TOKEN_SECRET": "e2e-secret",
                    **{f"TABLE_{model.upper()}": table for model, table in tables.items()},
                    "INDEX_TABLE": INDEX_TABLE,
                },
            }
        )
    )
    return Setup(env_file, tokens, api_key, expired_key)


def sam_env() -> dict[str, str]:
    # not the tests' MODELAUTH_SCHEMA (the fixture schema): SAM would give it to the functions
    env = {k: v for k, v in os.environ.items() if k != "MODELAUTH_SCHEMA"}
    return {**env, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": REGION}


# ----------------------------------------------------------------------------- sam local invoke


def invoke_authorizer(setup: Setup, event: dict[str, Any], tmp_path: Path) -> Any:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    return invoke_file(setup, event_file)


def invoke_file(setup: Setup, event_file: Path) -> Any:
    cmd = [
        str(VENV_BIN / "sam"), "local", "invoke", "AuthorizerFunction",
        "--template", str(BUILT_TEMPLATE), "--event", str(event_file),
        "--env-vars", str(setup.env_file), "--region", REGION, "--skip-pull-image",
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, cwd=EXAMPLE, env=sam_env(), capture_output=True, text=True, timeout=INVOKE_TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    return last_json_line(proc.stdout)


@pytest.mark.parametrize("kind", list(CallerKind), ids=str)
def test_sam_local_invoke_allows_a_real_token_in_each_callers_format(
    setup: Setup, kind: CallerKind, tmp_path: Path
) -> None:
    answer = invoke_authorizer(setup, authorizer_event(kind, f"Bearer {setup.tokens['alice']}"), tmp_path)

    if kind is CallerKind.APPSYNC:
        assert answer["isAuthorized"] is True
        assert answer["resolverContext"]["username"] == "alice"
        assert "Query.getTodo" in answer["deniedFields"]
        assert 0 < answer["ttlOverride"] <= 60
    elif kind is CallerKind.HTTP_V2:
        assert answer["isAuthorized"] is True
        assert answer["context"]["username"] == "alice"
    else:
        assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        assert answer["context"]["username"] == "alice"


def test_sam_local_invoke_with_the_sample_events_denies_their_placeholder_token(setup: Setup) -> None:
    appsync = invoke_file(setup, EVENTS / "authorizer.appsync.json")
    rest = invoke_file(setup, EVENTS / "authorizer.rest-token.json")

    assert appsync == {"isAuthorized": False}
    assert (rest["errorType"], rest["errorMessage"]) == ("Exception", "Unauthorized")  # API Gateway: 401


# ----------------------------------------------------------------------------- sam local start-api


def template_serving_only(event_type: str) -> Path:
    """The built template with RestFunction wired to one API only (start-api serves one per path)."""
    template = yaml_parse(BUILT_TEMPLATE.read_text())
    events = template["Resources"]["RestFunction"]["Properties"]["Events"]
    template["Resources"]["RestFunction"]["Properties"]["Events"] = {
        name: event for name, event in events.items() if event["Type"] == event_type
    }
    # next to the built template: CodeUri/ContentUri are relative to it
    path = BUILT_TEMPLATE.with_name(f"template.authorizer-e2e-{event_type.lower()}.yaml")
    path.write_text(yaml_dump(template))
    return path


@dataclass
class LocalApi:
    kind: str  # "Api" (REST, TOKEN authorizer) or "HttpApi" (HTTP API, REQUEST authorizer)
    base: str


@pytest.fixture(scope="module", params=["Api", "HttpApi"])
def api(
    request: pytest.FixtureRequest, setup: Setup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalApi]:
    """`sam local start-api` serving the REST API or the HTTP API."""
    template = template_serving_only(request.param)
    port = _free_port()
    log_path = tmp_path_factory.mktemp("start-api") / "start-api.log"
    cmd = [
        str(VENV_BIN / "sam"), "local", "start-api", "--template", str(template),
        "--env-vars", str(setup.env_file), "--region", REGION, "--port", str(port),
        "--skip-pull-image", "--warm-containers", "LAZY",
    ]  # fmt: skip
    with log_path.open("w") as log:
        server = subprocess.Popen(
            cmd, cwd=EXAMPLE, env=sam_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, server, log_path)
        yield LocalApi(request.param, base)
    finally:
        os.killpg(server.pid, signal.SIGINT)  # SAM stops its warm containers on SIGINT
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        template.unlink(missing_ok=True)


def _wait_for(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"sam local start-api exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            requests.get(f"{base}/", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    pytest.fail(f"sam local start-api not up after {START_TIMEOUT_S} s:\n{log_path.read_text()}")


def call(
    api: LocalApi, method: str, path: str, credential: str | None, body: Any = None
) -> requests.Response:
    headers = {"Authorization": credential} if credential is not None else {}
    return requests.request(method, api.base + path, headers=headers, json=body, timeout=INVOKE_TIMEOUT_S)


def test_start_api_401_403_and_owner_rules(api: LocalApi, setup: Setup) -> None:
    alice, bob = f"Bearer {setup.tokens['alice']}", f"Bearer {setup.tokens['bob']}"
    ticket = f"/tickets/t-{time.monotonic_ns()}"

    assert call(api, "GET", "/tickets", None).status_code == 401  # no identity source: never invoked
    invalid = call(api, "GET", "/tickets", "Bearer garbage").status_code
    assert invalid == (502 if api.kind == "Api" else 403)  # API Gateway: REST 401, HTTP API 403
    assert call(api, "GET", "/tickets", setup.expired_key).status_code == 403  # a known key, expired

    created = call(api, "POST", "/tickets", alice, {"id": ticket.rsplit("/", 1)[1], "title": "printer jam"})
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == "alice"
    assert call(api, "GET", ticket, bob).status_code == 200  # custom read: any Lambda-authorized caller
    assert call(api, "GET", ticket, setup.api_key).status_code == 200
    refused = call(api, "PATCH", ticket, bob, {"status": "closed"})
    assert (refused.status_code, refused.json()["errorType"]) == (403, "Unauthorized")
    assert call(api, "PATCH", ticket, alice, {"status": "closed"}).json()["status"] == "closed"
    assert call(api, "GET", "/todos", alice).status_code == 403  # no rule for Lambda callers
    assert call(api, "DELETE", ticket, alice).status_code == 200
    assert call(api, "GET", ticket, alice).status_code == 404
