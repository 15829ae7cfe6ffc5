"""A new user's path, end to end: `modelauth init`, their own three models, `modelauth generate`,
then SAM's own checks and build, the scaffold's own `make test` (in a fresh venv holding
`pip install "<checkout>[local]"`), and `modelauth serve` from that venv answering two auth modes.
Plus: a fresh venv with only `pip install <checkout>` answers an AppSync event.

Slow (venvs, `sam build`): part of the e2e tier (`make test-e2e`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.conftest import invoker, python312_bin

pytestmark = pytest.mark.e2e

VENV_BIN = Path(sys.executable).parent
BLOG_SCHEMA = textwrap.dedent(
    """\
    \"\"\"A user's own models: a blog.\"\"\"

    from modelauth.rules import Field, Model, Schema, allow

    READ = ["read"]

    BLOG = Model(
        "Blog",
        fields=[Field("name", required=True)],
        rules=[allow.owner(), allow.authenticated().to(READ)],
    )
    POST = Model(
        "Post",
        fields=[Field("title", required=True), Field("editors", is_list=True)],
        rules=[allow.owners_defined_in("editors"), allow.guest().to(READ), allow.group("Admin")],
    )
    COMMENT = Model(
        "Comment",
        fields=[Field("body", required=True), Field("postId", "ID")],
        rules=[allow.owner(), allow.authenticated().to(READ)],
    )

    SCHEMA = Schema(models=[BLOG, POST, COMMENT])
    """
)


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MODELAUTH_SCHEMA"}  # the project's own
    env.update(AWS_DEFAULT_REGION="us-east-1", SAM_CLI_TELEMETRY="0", **extra)
    return env


def _python312_path() -> str:
    return f"{python312_bin()}:{os.environ['PATH']}"


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`modelauth init` + the blog models + `modelauth generate`."""
    project = tmp_path_factory.mktemp("user") / "blog"
    _run([str(VENV_BIN / "modelauth"), "init", str(project), "--modelauth", str(ROOT)], cwd=project.parent)
    (project / "appschema" / "__init__.py").write_text(BLOG_SCHEMA)
    assert "wrote template.yaml" in _run([str(VENV_BIN / "modelauth"), "generate"], cwd=project)
    return project


@pytest.fixture(scope="module")
def built_blog(blog: Path) -> Path:
    """`generate --check` clean, `sam validate --lint`, `sam build`."""
    _run([str(VENV_BIN / "modelauth"), "generate", "--check"], cwd=blog)
    _run([str(VENV_BIN / "sam"), "validate", "--lint"], cwd=blog)
    _run([str(VENV_BIN / "sam"), "build"], cwd=blog, env=_env(PATH=_python312_path()))
    return blog


def test_the_new_project_passes_sams_checks_and_builds(built_blog: Path) -> None:
    blog = built_blog
    layer = blog / ".aws-sam" / "build" / "ModelAuthLayer" / "python"
    assert (layer / "modelauth" / "resolvers.py").is_file()
    assert (layer / "appschema" / "__init__.py").is_file()
    assert not (layer / "modelauth" / "local").exists(), "the layer ships the runtime only"
    template = (blog / ".aws-sam" / "build" / "template.yaml").read_text()
    for name in ("BlogTable", "PostTable", "CommentTable", "ModelIndexTable", "AdminUserPoolGroup"):
        assert f"{name}:" in template


def test_sam_local_invoke_answers_the_users_generated_events(
    built_blog: Path, docker_gateway: str, moto_port: int, tmp_path: Path
) -> None:
    """`modelauth events` + `modelauth local-env` (tables in a moto server, the env-vars file),
    then the built functions in the Lambda container: the owner creates and reads, another user
    is denied."""
    tool = str(VENV_BIN / "modelauth")
    _run([tool, "events"], cwd=built_blog)
    env_file = tmp_path / "env.json"
    endpoint = f"http://127.0.0.1:{moto_port}"
    cmd = [tool, "local-env", "--endpoint", endpoint, "--container-host", docker_gateway]
    _run([*cmd, "--output", str(env_file)], cwd=built_blog)
    graphql = invoker(env_file, built_blog / "events", project=built_blog)
    created = graphql("createPost.userPools.alice")
    assert created["errors"] == [], created
    post_id = created["data"]["id"]
    mine = graphql("getPost.userPools.alice")
    assert mine["errors"] == []
    assert mine["data"]["id"] == post_id
    theirs = graphql("getPost.userPools.bob")  # bob is no editor of it, nor in Admin
    assert theirs["data"] is None
    assert theirs["errors"][0]["errorType"] == "Unauthorized"


@pytest.fixture(scope="module")
def user_venv(blog: Path) -> Path:
    """The scaffold's own `make test`, which makes its venv with `pip install "<checkout>[local]"`."""
    _run(["make", "test"], cwd=blog, env=_env(VENV=str(blog / ".venv")))
    return blog / ".venv" / "bin"


def test_the_scaffolds_own_tests_pass_on_the_users_models(user_venv: Path) -> None:
    assert (user_venv / "modelauth").is_file()


@pytest.fixture
def served(blog: Path, user_venv: Path) -> Iterator[dict[str, Any]]:
    """`modelauth serve` from the user's venv, on a free port, until the test ends."""
    log = (blog / "serve.log").open("w")
    process = subprocess.Popen(
        [str(user_venv / "modelauth"), "serve", "--port", "0"],
        cwd=blog,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state = blog / ".modelauth" / "local.json"
    try:
        for _ in range(300):
            if state.is_file() and json.loads(state.read_text()).get("endpoint"):
                break
            assert process.poll() is None, (blog / "serve.log").read_text()
            time.sleep(0.2)
        else:
            pytest.fail("modelauth serve did not start: " + (blog / "serve.log").read_text())
        yield {"url": json.loads(state.read_text())["endpoint"], "bin": user_venv}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _graphql(url: str, query: str, headers: dict[str, str]) -> dict[str, Any]:
    response = requests.post(url, json={"query": query}, headers=headers, timeout=30)
    body: dict[str, Any] = response.json()
    return body


def test_modelauth_serve_answers_the_users_models_in_two_auth_modes(
    blog: Path, served: dict[str, Any]
) -> None:
    tool = [str(served["bin"] / "modelauth")]
    _run([*tool, "users", "add", "alice"], cwd=blog)
    _run([*tool, "users", "add", "bob"], cwd=blog)
    alice = _run([*tool, "token", "alice"], cwd=blog).strip()
    bob = _run([*tool, "token", "bob"], cwd=blog).strip()
    api_key = _run([*tool, "token", "--api-key"], cwd=blog).strip()
    url = served["url"]

    created = _graphql(
        url,
        'mutation { createBlog(input: {id: "b1", name: "Mine"}) { id name owner } }',
        {"authorization": alice},
    )
    assert created.get("errors") in (None, []), created
    assert created["data"]["createBlog"]["owner"] == "alice"
    # authenticated read: bob may read alice's blog, but not rename it
    assert _graphql(url, 'query { getBlog(id: "b1") { id name } }', {"authorization": bob})["data"] == {
        "getBlog": {"id": "b1", "name": "Mine"}
    }
    renamed = _graphql(
        url, 'mutation { updateBlog(input: {id: "b1", name: "Bob"}) { id } }', {"authorization": bob}
    )
    assert renamed["errors"][0]["errorType"] == "Unauthorized"
    # API_KEY: no rule of Blog names it, so AppSync itself refuses the field
    keyed = _graphql(url, 'query { getBlog(id: "b1") { id } }', {"x-api-key": api_key})
    assert keyed["data"] == {"getBlog": None} or keyed["data"] is None
    assert keyed["errors"][0]["errorType"] in ("Unauthorized", "UnauthorizedException")


RUNTIME_ONLY = textwrap.dedent(
    """\
    import json, sys
    from botocore.stub import Stubber
    from modelauth.rules import Field, Model, Schema, allow
    from modelauth.resolvers import GraphQLApp
    from modelauth.store import Store, dynamodb_client

    NOTE = Model("Note", fields=[Field("text")], rules=[allow.owner()])
    client = dynamodb_client()
    app = GraphQLApp(Schema([NOTE]), Store(client, {"Note": "Note"}, token_key=b"k"))
    event = json.loads(sys.stdin.read())
    stub = Stubber(client)
    stub.add_response(
        "get_item",
        {"Item": {"id": {"S": "n1"}, "text": {"S": "hi"}, "owner": {"S": "sub-alice::alice"}}},
    )
    with stub:
        print(json.dumps(app.resolve(event, None)))
    """
)


def test_a_venv_with_only_the_runtime_answers_an_appsync_event(tmp_path: Path) -> None:
    venv = tmp_path / "runtime"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)], cwd=tmp_path)
    script = tmp_path / "app.py"
    script.write_text(RUNTIME_ONLY)
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1"
    identity = {
        "sub": "sub-alice",
        "issuer": issuer,
        "username": "alice",
        "claims": {"sub": "sub-alice", "iss": issuer, "username": "alice", "token_use": "access"},
        "sourceIp": ["203.0.113.1"],
        "defaultAuthStrategy": "ALLOW",
        "groups": None,
    }
    event = {
        "arguments": {"id": "n1"},
        "identity": identity,
        "source": None,
        "request": {"headers": {}, "domainName": None},
        "prev": None,
        "info": {
            "fieldName": "getNote",
            "parentTypeName": "Query",
            "selectionSetList": ["id", "text", "owner"],
            "variables": {},
        },
        "stash": {},
        "authType": "User Pool Authorization",
    }
    env = _env(USER_POOL_ID="us-east-1_Pool1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(script)],
        input=json.dumps(event),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["errors"] == []
    assert {k: answer["data"][k] for k in ("id", "text", "owner", "__typename")} == {
        "id": "n1",
        "text": "hi",
        "owner": "alice",  # presented as the username part
        "__typename": "Note",
    }
    assert answer["data"]["_storedOwner"] == "sub-alice::alice"  # what subscription filters compare
    # the runtime install holds no emulator: the local commands say which extra to install
    serve = subprocess.run(
        [str(venv / "bin" / "modelauth"), "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert serve.returncode == 2
    assert "pip install 'modelauth[local]'" in serve.stderr


def test_the_wheel_holds_the_library_only(tmp_path: Path) -> None:
    """No example app (`appschema`) at the top level; the JS steps and the scaffold as package data."""
    import zipfile

    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("modelauth-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"modelauth", wheel.name.split("-py3")[0] + ".dist-info"}
    assert {"modelauth/js/invoke.js", "modelauth/js/subscription.js", "modelauth/py.typed"} <= set(names)
    assert "modelauth/local/scaffold/template.yaml" in names
