"""`modelauth events` and `modelauth local-env`: the sample events are read as the mode their file
names, and the functions configured by local-env decide them as the rules say (moto)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from modelauth.authorizer import LambdaAuthorizer
from modelauth.identity import AuthMode, IdentityConfig, Principal
from modelauth.local import create_tables
from modelauth.local.cli import main
from modelauth.local.events import LocalConfig, LocalUser, sample_events
from modelauth.local.localenv import env_vars
from modelauth.local.samtemplate import SamTemplate
from modelauth.policy import AuthConfig
from modelauth.project import ProjectError
from modelauth.resolvers import GraphQLApp
from modelauth.rest import RestApp
from modelauth.rules import Field, Model, Schema, allow, index
from modelauth.store import Store
from tests.conftest import PROJECT
from tests.fixtures.keys import SCHEMA as KEYS_SCHEMA

READ = ["read"]
TASK = Model(
    "Task",
    fields=[
        Field("title", required=True),
        Field("done", "Boolean"),
        Field("count", "Int"),
        Field("score", "Float"),
        Field("due", "AWSDateTime"),
        Field("email", "AWSEmail"),
        Field("meta", "AWSJSON"),
        Field("tags", is_list=True),
    ],
    rules=[allow.owner(), allow.public_api_key().to(READ), allow.group("Auditors").to(READ)],
)
MEMO = Model(
    "Memo",
    fields=[Field("text")],
    rules=[allow.owner("identityPool"), allow.guest().to(READ), allow.resource("memo-backend")],
)
DOC = Model(
    "Doc",
    fields=[Field("body")],
    rules=[
        allow.owner("oidc").identity_claim("sub"),
        allow.groups(["Mods"], "oidc").with_claim_in("groups").to(READ),
    ],
)
CASE = Model("Case", fields=[Field("subject")], rules=[allow.custom().to(READ), allow.owner("function")])
FILE = Model(
    "File",
    fields=[Field("name"), Field("secret", rules=[allow.owner()])],
    rules=[allow.authenticated().to(READ), allow.owner()],
)
SCHEMA = Schema(models=(TASK, MEMO, DOC, CASE, FILE))
CONFIG = LocalConfig()
EVENTS = sample_events(SCHEMA, CONFIG, rest=True, authorizer=True)
TEMPLATE = SamTemplate.load(PROJECT / "template.yaml")
ENV = env_vars(TEMPLATE, CONFIG, dynamodb_endpoint="http://172.17.0.1:5005", schema_ref="tests.x:SCHEMA")

MODES = {
    "userPools": AuthMode.USER_POOLS,
    "apiKey": AuthMode.API_KEY,
    "identityPool": AuthMode.IAM,
    "iam": AuthMode.IAM,
    "oidc": AuthMode.OIDC,
    "function": AuthMode.LAMBDA,
}
APPSYNC = {name: event for name, event in EVENTS.items() if "info" in event}

#: who may read the item alice creates in each mode (get, by file label), as the rules say
READERS = {
    "Task": {"userPools.alice": True, "userPools.bob": False, "apiKey": True},
    "Memo": {
        "identityPool.alice": True,
        "identityPool.bob": False,
        "identityPool.guest": True,
        "iam.memo-backend": True,
    },
    "Doc": {"oidc.alice": True, "oidc.bob": False},  # alice is also in Mods; bob in no group
    "Case": {"function.alice": True, "function.bob": True},  # custom() reads
    "File": {"userPools.alice": True, "userPools.bob": True},  # authenticated() reads
}


def _label(name: str) -> str:
    return name.removesuffix(".json").split(".", 1)[1]


def test_every_model_operation_and_mode_the_rules_mention_has_events() -> None:
    labels = {(name.split(".", 1)[0], _label(name)) for name in APPSYNC}
    for model, readers in READERS.items():
        fields = [f"get{model}", f"list{model}s", f"create{model}", f"update{model}", f"delete{model}"]
        for field in [*fields, f"onCreate{model}"]:
            assert {label for f, label in labels if f == field} == set(readers), field
    assert "getTask.userPools.bob.json" in EVENTS
    assert "listTasks.apiKey.json" in EVENTS
    assert not any(".onUpdate" in n or n.startswith("onDelete") for n in EVENTS)


@pytest.mark.parametrize("name", sorted(APPSYNC))
def test_each_event_is_read_as_the_mode_its_name_says(name: str) -> None:
    event = APPSYNC[name]
    expected = MODES[_label(name).split(".")[0]]
    assert event["authType"]  # invoke.js adds util.authType()
    assert set(event) == {"arguments", "identity", "source", "request", "prev", "info", "stash", "authType"}

    principal = Principal.from_appsync(event, config=CONFIG.identity_config)
    # the issuer matches the configured pool: without authType too, a user-pool caller is one
    shape_only = Principal.from_appsync(
        {k: v for k, v in event.items() if k != "authType"},
        config=IdentityConfig.from_env(ENV["GraphQLFunction"]),
    )

    assert principal.mode is expected
    assert shape_only.mode is expected
    if principal.mode is AuthMode.USER_POOLS:
        assert principal.username in ("alice", "bob")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server of our own (not mock_aws: leaving it would reset the moto state that this
    tier's shared local endpoint serves from)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def app(moto_endpoint: str) -> tuple[GraphQLApp, RestApp]:
    """The resolver and REST apps configured from local-env's environment, on fresh tables."""
    return _apps(moto_endpoint, SCHEMA)


def _apps(moto_endpoint: str, schema: Schema) -> tuple[GraphQLApp, RestApp]:
    variables = ENV["GraphQLFunction"]
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    suffix = uuid.uuid4().hex[:8]
    index = f"{variables['INDEX_TABLE']}-{suffix}"
    tables = create_tables(
        client, schema, {m.name: f"{m.name}-{suffix}" for m in schema.models}, index_table=index
    )
    store = Store(client, tables, token_key=b"k", index_table=index)
    identity, auth = IdentityConfig.from_env(variables), AuthConfig.from_env(variables)
    return (
        GraphQLApp(schema, store, identity_config=identity, auth_config=auth),
        RestApp(schema, store, identity_config=identity, auth_config=auth),
    )


def _run(app: GraphQLApp, name: str) -> dict[str, Any]:
    return app.resolve(EVENTS[name], None)


@pytest.mark.parametrize("model", sorted(READERS))
def test_the_owner_reads_and_the_rules_decide_for_the_others(
    app: tuple[GraphQLApp, RestApp], model: str
) -> None:
    graphql, _ = app
    creators = [label for label in READERS[model] if label.endswith(".alice")]
    for label in creators:
        created = _run(graphql, f"create{model}.{label}.json")
        assert created["errors"] == [], created
        assert created["data"]["id"], created

    for label, may_read in READERS[model].items():
        answer = _run(graphql, f"get{model}.{label}.json")
        if may_read:
            assert answer["data"] is not None, (label, answer)
            assert answer["data"]["id"] == EVENTS[f"get{model}.{label}.json"]["arguments"]["id"]
        else:
            assert answer["data"] is None, (label, answer)
            assert [e["errorType"] for e in answer["errors"]] == ["Unauthorized"], (label, answer)


def test_every_event_is_well_formed_for_the_resolver(app: tuple[GraphQLApp, RestApp]) -> None:
    """Run all of them (creates first, deletes last): never a bad request or an internal error."""
    graphql, _ = app
    order = ("create", "get", "list", "onCreate", "update", "delete")
    names = sorted(APPSYNC, key=lambda n: (next(i for i, p in enumerate(order) if n.startswith(p)), n))
    kinds = {e["errorType"] for name in names for e in _run(graphql, name)["errors"]}
    assert kinds <= {"Unauthorized", "ConditionalCheckFailedException"}, kinds


def test_rest_and_http_events_are_decided_by_the_rules(app: tuple[GraphQLApp, RestApp]) -> None:
    _, rest = app
    rest_events = sorted(n for n in EVENTS if n.startswith(("rest.", "http.")))
    assert {n.split(".")[1] for n in rest_events} == {
        "createCase",
        "getCase",
        "listCases",
        "updateCase",
        "deleteCase",
    }  # only Case admits the authorizer's (AWS_LAMBDA) callers
    for kind in ("rest", "http"):
        status = {
            op: rest.resolve(EVENTS[f"{kind}.{op}Case.{who}.json"], None)["statusCode"]
            for op, who in [("create", "alice"), ("get", "alice"), ("get", "bob"), ("update", "bob")]
        }
        assert status == {"create": 201, "get": 200, "update": 403}, (kind, status)
        assert rest.resolve(EVENTS[f"{kind}.getCase.bob.json"], None)["statusCode"] == 200
        assert rest.resolve(EVENTS[f"{kind}.deleteCase.alice.json"], None)["statusCode"] == 200


def test_authorizer_events_are_allowed_with_local_envs_keys() -> None:
    authorizer = LambdaAuthorizer.from_env(SCHEMA, environ=ENV["AuthorizerFunction"])
    for name in sorted(n for n in EVENTS if n.startswith("authorizer.")):
        answer = authorizer.handle(EVENTS[name])
        if ".rest-" in name:
            assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow", (name, answer)
        else:
            assert answer["isAuthorized"] is True, (name, answer)


def test_local_env_declares_only_what_each_function_declares() -> None:
    for name, variables in ENV.items():
        assert set(variables) <= set(TEMPLATE.functions[name].environment), name
    graphql = ENV["GraphQLFunction"]
    assert graphql["AWS_ENDPOINT_URL_DYNAMODB"] == "http://172.17.0.1:5005"
    assert graphql["USER_POOL_ID"] == CONFIG.user_pool_id
    assert graphql["TABLE_TODO"] == "TodoTable"
    assert graphql["INDEX_TABLE"] == "ModelIndexTable"
    assert graphql["MODELAUTH_SCHEMA"] == "tests.x:SCHEMA"
    assert "NEXT_TOKEN_SECRET" not in ENV["AuthorizerFunction"]


def test_config_comes_from_pyproject_and_bad_settings_say_what_is_wrong() -> None:
    config = LocalConfig.from_settings(
        {
            "region": "eu-west-1",
            "user_pool_id": "eu-west-1_Abc",
            "users": [
                {"name": "carol", "sub": "c-1", "groups": ["Admin"]},
                {"name": "dave", "sub": "d-1"},
            ],
        }
    )
    assert config.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"
    assert config.users == (LocalUser("carol", "c-1", ("Admin",)), LocalUser("dave", "d-1"))
    events = sample_events(SCHEMA, config)
    assert events["getTask.userPools.dave.json"]["identity"]["groups"] == ["Auditors"]  # groups=None: all
    assert events["getTask.userPools.carol.json"]["identity"]["groups"] == ["Admin"]
    for bad in ({"region": 3}, {"nope": "x"}, {"users": [{"name": "x"}]}):
        with pytest.raises(ProjectError):
            LocalConfig.from_settings(bad)


def test_events_are_deterministic() -> None:
    assert sample_events(SCHEMA, CONFIG, rest=True, authorizer=True) == EVENTS


# -- the CLI --------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modelauth]\nschema = "events_cli_models:SCHEMA"\nevents = "ev"\n'
        '[tool.modelauth.local]\nuser_pool_id = "us-east-1_Other"\n'
    )
    # the project's own models module, as in a real project (imported from the project root)
    (tmp_path / "events_cli_models.py").write_text(
        "from modelauth.rules import Field, Model, Schema, allow\n"
        'TASK = Model("Task", fields=[Field("title", required=True)], rules=[allow.owner()])\n'
        'SCHEMA = Schema(models=(TASK, Model("Memo", fields=[Field("text")], rules=[allow.owner()])))\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELAUTH_SCHEMA")
    return tmp_path


def test_events_command_writes_and_checks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "--check"]) == 1  # nothing written yet
    assert main(["events"]) == 0
    written = json.loads((project / "ev" / "getTask.userPools.bob.json").read_text())
    assert written["identity"]["issuer"].endswith("/us-east-1_Other")
    assert not list((project / "ev").glob("rest.*"))  # no template here: no REST function
    assert main(["events", "--check"]) == 0
    (project / "ev" / "getTask.userPools.bob.json").write_text("{}")
    capsys.readouterr()
    assert main(["events", "--check"]) == 1
    assert "stale:" in capsys.readouterr().err


def test_events_of_a_removed_model_are_stale_then_deleted_and_hand_written_ones_kept(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events"]) == 0
    (project / "ev" / "my-own.json").write_text("{}")  # a user's event, never generated
    models = project / "events_cli_models.py"
    models.write_text(models.read_text().replace("models=(TASK, ", "models=(").replace(")))\n", "),))\n"))
    sys.modules.pop("events_cli_models")  # a new `modelauth` process imports the edited models
    capsys.readouterr()
    assert main(["events", "--check"]) == 1
    assert f"stale: {project / 'ev' / 'getTask.userPools.bob.json'}" in capsys.readouterr().err
    assert main(["events"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not list((project / "ev").glob("*Task*"))
    assert list((project / "ev").glob("getMemo.*"))
    assert (project / "ev" / "my-own.json").is_file()
    assert main(["events", "--check"]) == 0


def test_a_manifest_never_deletes_outside_the_events_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events"]) == 0
    outside = project / "keep.txt"
    outside.write_text("mine")
    manifest = project / "ev" / ".modelauth-events"
    manifest.write_text(manifest.read_text() + "../keep.txt\n..\n")
    assert main(["events"]) == 0
    assert outside.read_text() == "mine"


@pytest.mark.parametrize(
    "argv",
    [
        ["local-env"],
        ["local-env", "--endpoint", "nope", "--container-host", "h"],
        ["local-env", "--start", "--endpoint", "http://x:1"],
    ],
)
def test_local_env_bad_input_is_one_line_and_exit_2(
    project: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "template.yaml").write_text((PROJECT / "template.yaml").read_text())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("modelauth local-env: ")
    assert err.count("\n") == 1


def test_local_env_creates_the_tables_and_writes_the_file(project: Path) -> None:
    from moto.server import ThreadedMotoServer

    (project / "template.yaml").write_text((PROJECT / "template.yaml").read_text())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        argv = ["local-env", "--endpoint", f"http://{host}:{port}", "--container-host", "10.9.8.7"]
        assert main(argv) == 0
        tables = boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}").list_tables()["TableNames"]
    finally:
        server.stop()
    env = json.loads((project / ".modelauth" / "env.json").read_text())
    assert env["GraphQLFunction"]["AWS_ENDPOINT_URL_DYNAMODB"] == f"http://10.9.8.7:{port}"
    assert env["GraphQLFunction"]["USER_POOL_ID"] == "us-east-1_Other"
    assert env["GraphQLFunction"]["MODELAUTH_SCHEMA"] == "events_cli_models:SCHEMA"
    # the models the template names none for keep their own names (no model here needs the index)
    assert {"Task", "Memo"} <= set(tables)
    assert (project / ".modelauth" / ".gitignore").read_text() == "*\n"


# -- custom identifiers and secondary indexes -------------------------------------------------

#: keyed by (carrier, seq: an Int), with an index; the authorizer's callers read, owners write
PARCEL = Model(
    "Parcel",
    fields=[Field("carrier", required=True), Field("seq", "Int", required=True), Field("status")],
    rules=[allow.custom().to(READ), allow.owner("function")],
    identifier=["carrier", "seq"],
    secondary_indexes=[index("status").query_field("parcelsByStatus")],
)
KEYED = Schema(models=(*KEYS_SCHEMA.models, PARCEL))
KEYED_EVENTS = sample_events(KEYED, CONFIG, rest=True)


def test_events_of_a_composite_key_carry_the_whole_key() -> None:
    key = {"customerEmail": "order-userpools-alice", "orderId": "order-userpools-alice"}
    assert KEYED_EVENTS["getOrder.userPools.bob.json"]["arguments"] == key
    assert KEYED_EVENTS["deleteOrder.apiKey.json"]["arguments"] == {"input": key}
    update = KEYED_EVENTS["updateOrder.userPools.bob.json"]["arguments"]["input"]
    assert update == {**key, "total": 1.5}  # a field to change, never a key part
    create = KEYED_EVENTS["createOrder.userPools.bob.json"]["arguments"]["input"]
    assert create == {"customerEmail": "order-userpools-bob", "orderId": "order-userpools-bob", "total": 1.5}
    assert KEYED_EVENTS["tasksByStatus.apiKey.json"]["arguments"]["status"]
    # an Int key part is a number, and the REST paths carry every part
    seq = KEYED_EVENTS["createParcel.function.alice.json"]["arguments"]["input"]["seq"]
    assert isinstance(seq, int)
    alice_rest = json.loads(KEYED_EVENTS["rest.createParcel.alice.json"]["body"])["seq"]
    for name in ("rest.getParcel.bob.json", "rest.updateParcel.alice.json", "rest.deleteParcel.bob.json"):
        assert KEYED_EVENTS[name]["path"] == f"/parcels/parcel-rest-alice/{alice_rest}", name
    assert "seq" not in json.loads(KEYED_EVENTS["rest.updateParcel.alice.json"]["body"])
    assert KEYED_EVENTS["http.deleteParcel.alice.json"]["rawPath"].startswith("/parcels/parcel-http-alice/")
    assert KEYED_EVENTS["rest.parcelsByStatus.alice.json"]["path"] == "/parcels/parcelsByStatus/sample"


@pytest.fixture
def keyed_app(moto_endpoint: str) -> tuple[GraphQLApp, RestApp]:
    return _apps(moto_endpoint, KEYED)


def test_composite_key_events_are_decided_by_the_rules(keyed_app: tuple[GraphQLApp, RestApp]) -> None:
    graphql, rest = keyed_app

    def run(name: str) -> dict[str, Any]:
        return graphql.resolve(KEYED_EVENTS[name], None)

    assert run("createOrder.userPools.alice.json")["errors"] == []
    assert run("getOrder.userPools.alice.json")["data"]["orderId"] == "order-userpools-alice"
    assert [e["errorType"] for e in run("getOrder.userPools.bob.json")["errors"]] == ["Unauthorized"]
    assert run("getOrder.apiKey.json")["data"]["customerEmail"] == "order-userpools-alice"
    assert [e["errorType"] for e in run("updateOrder.userPools.bob.json")["errors"]] == ["Unauthorized"]
    assert run("updateOrder.userPools.alice.json")["data"]["_version"] == 2
    assert run("deleteOrder.userPools.alice.json")["errors"] == []
    assert run("getOrder.userPools.alice.json") == {"data": None, "errors": []}
    for kind in ("rest", "http"):
        status = {
            name: rest.resolve(KEYED_EVENTS[f"{kind}.{name}.json"], None)["statusCode"]
            for name in (
                "createParcel.alice",
                "getParcel.alice",
                "getParcel.bob",
                "updateParcel.bob",
                "parcelsByStatus.bob",
                "listParcels.bob",
                "updateParcel.alice",
                "deleteParcel.alice",
                "getParcel.bob",
            )
        }
        assert status == {
            "createParcel.alice": 201,
            "getParcel.alice": 200,
            "getParcel.bob": 404,  # the last call: after alice's delete
            "updateParcel.bob": 403,
            "parcelsByStatus.bob": 200,
            "listParcels.bob": 200,
            "updateParcel.alice": 200,
            "deleteParcel.alice": 200,
        }, kind


def test_every_composite_key_event_is_well_formed_for_the_resolver(
    keyed_app: tuple[GraphQLApp, RestApp],
) -> None:
    graphql, _ = keyed_app
    order = ("create", "get", "list", "onCreate", "update", "delete")
    appsync = [n for n, e in KEYED_EVENTS.items() if "info" in e]
    # index queries (tasksByStatus, …) read with the lists
    names = sorted(appsync, key=lambda n: (next((i for i, p in enumerate(order) if n.startswith(p)), 2), n))
    kinds = {e["errorType"] for name in names for e in graphql.resolve(KEYED_EVENTS[name], None)["errors"]}
    assert kinds <= {"Unauthorized", "ConditionalCheckFailedException"}, kinds
