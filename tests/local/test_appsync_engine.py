"""LocalAppSync without HTTP: directives per field and type, the envelope unwrapped as
graphql/invoke.js does, the event AppSync builds, and AppSync's error shape."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.local.appsync import Invocation, LocalAppSync, RequestAuth

SDL = """
schema { query: Query mutation: Mutation }
type Doc @aws_cognito_user_pools @aws_api_key {
  id: ID!
  title: String
  secret: String @aws_cognito_user_pools
}
type Query {
  getDoc(id: ID!): Doc @aws_cognito_user_pools @aws_api_key
  plain: String
}
type Mutation {
  putDoc(title: String): Doc @aws_cognito_user_pools
}
"""
USER = RequestAuth("AMAZON_COGNITO_USER_POOLS", {"sub": "A1", "claims": {}, "username": "alice"}, "alice")
API_KEY = RequestAuth("API_KEY", None, "api key")


class Recorder:
    """A fake resolver Lambda: records events, answers with a fixed envelope."""

    def __init__(self, envelope: Any) -> None:
        self.envelope = envelope
        self.events: list[dict[str, Any]] = []

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        if isinstance(self.envelope, Exception):
            raise self.envelope
        return Invocation(self.envelope, "because")


def engine(envelope: Any) -> tuple[LocalAppSync, Recorder]:
    recorder = Recorder(envelope)
    resolvers = {("Query", "getDoc"): "Fn", ("Mutation", "putDoc"): "Fn"}
    return LocalAppSync(
        SDL, default_mode="AMAZON_COGNITO_USER_POOLS", resolvers=resolvers, invoke=recorder
    ), recorder


def run(app: LocalAppSync, query: str, auth: RequestAuth = USER, **variables: Any) -> Any:
    return app.execute(
        {"query": query, "variables": variables}, auth, headers={"X-Test": "1"}, source_ip="10.0.0.1"
    )


DOC = {"id": "d1", "title": "T", "secret": "S"}


def test_nested_fields_follow_field_then_type_directives() -> None:
    app, _ = engine({"data": DOC, "errors": []})
    response = run(app, '{ getDoc(id: "d1") { id title secret } }', API_KEY)
    assert response.body["data"] == {"getDoc": {"id": "d1", "title": "T", "secret": None}}
    [error] = response.body["errors"]
    assert error == {
        "path": ["getDoc", "secret"],
        "data": None,
        "errorType": "Unauthorized",
        "errorInfo": None,
        "locations": [{"line": 1, "column": 31, "sourceName": None}],
        "message": "Not Authorized to access secret on type Doc",
        "extensions": {"errorType": "Unauthorized"},
    }


def test_fields_without_directives_take_the_default_mode_only() -> None:
    app, recorder = engine({"data": DOC})
    assert run(app, "{ plain }").body == {"data": {"plain": None}}
    assert (
        run(app, "{ plain }", API_KEY).body["errors"][0]["message"]
        == "Not Authorized to access plain on type Query"
    )
    assert recorder.events == []


def test_denied_root_field_never_reaches_the_function() -> None:
    app, recorder = engine({"data": DOC})
    response = run(app, 'mutation { putDoc(title: "x") { id } }', API_KEY)
    assert response.body["data"] == {"putDoc": None}
    assert response.outcomes[0].reason.startswith("AppSync: API_KEY may not reach Mutation.putDoc")
    assert recorder.events == []


def test_lambda_denied_fields_null_what_they_name() -> None:
    app, _ = engine({"data": DOC})
    auth = RequestAuth("AMAZON_COGNITO_USER_POOLS", USER.identity, "x", frozenset({"Doc.title"}))
    response = run(app, '{ getDoc(id: "d1") { id title } }', auth)
    assert response.body["data"] == {"getDoc": {"id": "d1", "title": None}}
    assert response.body["errors"][0]["message"] == "Not Authorized to access title on type Doc"


def test_envelope_without_data_fails_the_field_with_its_first_error() -> None:
    denied = {"message": "Not Authorized to access getDoc on type Query", "errorType": "Unauthorized"}
    app, _ = engine({"data": None, "errors": [denied, {"message": "second", "errorType": "X"}]})
    response = run(app, '{ getDoc(id: "d1") { id } }')
    assert response.status == 200
    [error] = response.body["errors"]
    assert (error["message"], error["errorType"], error["path"]) == (
        denied["message"],
        "Unauthorized",
        ["getDoc"],
    )
    assert response.outcomes[0].allowed is False


def test_envelope_with_data_appends_every_error() -> None:
    masked = {"message": "Not Authorized to access secret on type Doc", "errorType": "Unauthorized"}
    app, _ = engine({"data": {**DOC, "secret": None}, "errors": [masked]})
    response = run(app, '{ getDoc(id: "d1") { id secret } }')
    assert response.body["data"] == {"getDoc": {"id": "d1", "secret": None}}
    assert [(e["message"], e["path"]) for e in response.body["errors"]] == [(masked["message"], ["getDoc"])]


def test_a_failing_function_is_lambda_unhandled() -> None:
    app, _ = engine(RuntimeError("boom"))
    [error] = run(app, '{ getDoc(id: "d1") { id } }').body["errors"]
    assert (error["message"], error["errorType"]) == ("boom", "Lambda:Unhandled")


def test_the_event_is_appsyncs() -> None:
    app, recorder = engine({"data": DOC})
    query = "query Q($id: ID!) { getDoc(id: $id) { id ...F renamed: title } } fragment F on Doc { secret }"
    run(app, query, id="d1")
    [event] = recorder.events
    assert event["arguments"] == {"id": "d1"}
    assert event["identity"] == USER.identity
    assert event["authType"] == "User Pool Authorization"
    assert event["source"] is None
    assert event["request"]["headers"] == {"x-test": "1"}
    info = event["info"]
    assert (info["fieldName"], info["parentTypeName"]) == ("getDoc", "Query")
    assert info["selectionSetList"] == ["id", "secret", "title"]
    assert info["variables"] == {"id": "d1"}
    assert info["selectionSetGraphQL"].startswith("{\n  id\n  ...F")


@pytest.mark.parametrize(
    ("request_body", "error_type"),
    [
        ([], "MalformedHttpRequestException"),
        ({"query": ""}, "MalformedHttpRequestException"),
        ({"query": "{ getDoc(id: 1) { id }", "variables": []}, "MalformedHttpRequestException"),
        ({"query": "{ getDoc(id: "}, "ValidationError"),
        ({"query": "{ nothing }"}, "ValidationError"),
        ({"query": "query A { plain } query B { plain }", "operationName": "C"}, "ValidationError"),
    ],
)
def test_requests_appsync_would_not_run_are_400(request_body: Any, error_type: str) -> None:
    app, _ = engine({"data": DOC})
    response = app.execute(request_body, USER, headers={}, source_ip="10.0.0.1")
    assert response.status == 400
    assert response.body["errors"][0]["errorType"] == error_type
