"""Custom operations (modelauth.custom) through the local endpoint (`modelauth serve`) of a
project generated from the custom-operations fixture schema, whose functions/graphql/app.py
registers the handlers."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from modelauth.local.generate import generate
from tests.conftest import ROOT
from tests.fixtures import custom_app, custom_schema
from tests.fixtures.custom_schema import SCHEMA
from tests.local.conftest import Client, embedded_backend, local_server, reasons, user_clients

# the project's own modules, as a user's are: under the repository's `tests` package, a schema
# load (Project.load_schema) drops that package from sys.modules as another project's
SCHEMA_REF = "customschema:SCHEMA"
APP_PY = '''"""The resolver of the custom-operations fixture, its handlers registered as a project's are."""
from typing import Any

from modelauth.resolvers import GraphQLApp
from customapp import register

app = register(GraphQLApp.from_env())


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
'''


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    from modelauth.local.scaffold import init
    from modelauth.project import Project

    root = Path(tempfile.mkdtemp(prefix="modelauth-custom-ops-"))
    project = root / "custom"
    init(project, modelauth=str(ROOT), out=io.StringIO())
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"appschema:SCHEMA"', f'"{SCHEMA_REF}"'))
    (project / "functions" / "graphql" / "app.py").write_text(APP_PY)
    shutil.copy(custom_schema.__file__, project / "customschema.py")
    shutil.copy(custom_app.__file__, project / "customapp.py")
    assert generate(Project.find(project), SCHEMA, out=io.StringIO()) == 0
    yield project
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Any]:
    from modelauth.local.samtemplate import SamTemplate

    template = SamTemplate.load(project / "template.yaml")
    with (
        embedded_backend(template, SCHEMA, SCHEMA_REF, ()) as backend,
        local_server(template, backend) as server,
    ):
        server.test_backend = backend
        yield server


@pytest.fixture
def clients(server: Any) -> dict[str, Client]:
    calls().clear()
    return user_clients(server.url, server.test_backend)


def handled() -> list[str]:
    return [name for name, _ in calls()]


def calls() -> list[Any]:
    """The project's handlers' record (the module its functions/graphql/app.py imported)."""
    module: ModuleType = sys.modules["customapp"]
    return module.CALLS  # type: ignore[no-any-return]


def test_generated_template_and_sdl_have_the_custom_fields(project: Path) -> None:
    template = (project / "template.yaml").read_text()
    assert "publishArticle: {Pipeline: [InvokeModelAuth]}" in template
    assert "echo: {Pipeline: [InvokeModelAuth]}" in template
    sdl = (project / "graphql" / "schema.graphql").read_text()
    assert "publishArticle(id: ID!, note: String): Article @aws_cognito_user_pools" in sdl


def test_echo_allowed_denied_and_bad_arguments(clients: dict[str, Client]) -> None:
    assert clients["alice"].data('{ echo(text: "hi", times: 2) }') == {"echo": "alice: hi hi"}
    assert clients["api_key"].data('{ echo(text: "hi") }') == {"echo": "anonymous: hi"}
    assert handled() == ["echo", "echo"]
    # an argument AppSync's own validation refuses never reaches the function
    response = clients["alice"].post('{ echo(text: "hi", loud: true) }')
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "ValidationError"
    # a value AppSync's scalar would refuse (the local engine's scalars don't): the resolver's
    error = clients["alice"].error('{ echo(text: "hi", replyTo: "not an email") }')
    assert error["errorType"] == "BadRequest"
    assert error["message"].startswith("echo: 'replyTo' must be")
    assert handled() == ["echo", "echo"]


def test_an_admin_only_query(clients: dict[str, Client]) -> None:
    body = clients["alice"].post("{ articleStats }").json()  # Int!: the error nulls the whole data
    assert body["data"] is None
    [error] = body["errors"]
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access articleStats on type Query"
    assert handled() == []
    assert clients["carol"].data("{ articleStats }") == {"articleStats": 42}


def test_publish_is_judged_against_the_article_before_the_handler(clients: dict[str, Client]) -> None:
    created = clients["alice"].data('mutation { createArticle(input: {id: "local-a1", title: "Hi"}) { id } }')
    assert created == {"createArticle": {"id": "local-a1"}}
    publish = 'mutation { publishArticle(id: "local-a1") { id title published owner } }'
    response = clients["bob"].post(publish)
    [error] = response.json()["errors"]
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access publishArticle on type Mutation"
    [decision] = [r for r in reasons(response) if r["field"] == "Mutation.publishArticle"]
    assert "item owner is" in decision["reason"]
    assert handled() == []
    data = clients["alice"].data(publish)
    assert data == {"publishArticle": {"id": "local-a1", "title": "Hi", "published": True, "owner": "alice"}}
    assert handled() == ["publishArticle"]
    assert clients["carol"].data(publish)["publishArticle"]["published"] is True  # Admin: a static rule


def test_a_missing_article_is_unauthorized_for_its_owner_rule(clients: dict[str, Client]) -> None:
    error = clients["alice"].error('mutation { publishArticle(id: "nope") { id } }')
    assert error["errorType"] == "Unauthorized"
    assert handled() == []


def test_custom_subscription_over_websocket_is_decided_and_filtered(
    server: Any, clients: dict[str, Client]
) -> None:
    from urllib.parse import urlsplit

    from tests.local.test_subscriptions_ws import connect

    opened = []
    try:
        subscribers = {}
        for name in ("alice", "bob", "api_key"):
            headers = {"host": urlsplit(server.url).netloc, **clients[name].headers}
            connection = connect(server.url, headers)
            opened.append(connection)
            subscribers[name] = (
                connection,
                connection.start("subscription { onArchiveMemo { id archived } }", headers),
            )
        assert subscribers["alice"][1]["type"] == "start_ack"
        assert subscribers["bob"][1]["type"] == "start_ack"
        assert subscribers["api_key"][1]["type"] == "error"  # no @aws_api_key: refused at start
        clients["alice"].data('mutation { createMemo(input: {id: "memo-ws", text: "x"}) { id } }')
        # the filter compares the stored owner, which the mutation selects (as codegen does)
        archived = clients["alice"].data(
            'mutation { archiveMemo(id: "memo-ws") { id archived _storedOwner } }'
        )
        assert archived["archiveMemo"]["archived"] is True
        message = subscribers["alice"][0].receive()
        assert message["payload"]["data"] == {"onArchiveMemo": {"id": "memo-ws", "archived": True}}
        with pytest.raises(TimeoutError):
            subscribers["bob"][0].receive(timeout=0.5)  # Memo's own filter: not bob's memo
    finally:
        for connection in opened:
            connection.close()
