"""The local AppSync endpoint on a free loopback port, shared by the tests of this tier.

One embedded backend (moto on 127.0.0.1) with three user-pool users - alice (editors), bob,
carol (Admin) - and one :class:`LocalServer`. Clients are real HTTP (``requests``); IAM callers
get credentials from the endpoint's identity pool / STS with boto3 and sign with botocore.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import FIXTURE_SCHEMA, PROJECT

TEMPLATE = PROJECT / "template.yaml"


@dataclass(frozen=True)
class Client:
    """A GraphQL client of the endpoint: fixed headers, or AWS credentials to sign with."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Credentials | None = None

    def post(self, query: str, variables: Mapping[str, Any] | None = None, **extra: str) -> requests.Response:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        headers = {"content-type": "application/json", "x-modelauth-explain": "1", **self.headers, **extra}
        if self.credentials is not None:
            request = AWSRequest(method="POST", url=self.url, data=body, headers=headers)
            SigV4Auth(self.credentials, "appsync", "us-east-1").add_auth(request)
            headers = dict(request.headers.items())
        return requests.post(self.url, data=body, headers=headers, timeout=30)

    def data(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The response data, asserting HTTP 200 and no errors."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def error(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The single error of a refused field (HTTP 200, its data null)."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        [error] = body["errors"]
        assert body["data"] == {error["path"][0]: None}, body
        return dict(error)


def reasons(response: requests.Response) -> list[dict[str, Any]]:
    """The decisions the endpoint reports in x-modelauth-reasons."""
    return list(json.loads(response.headers.get("x-modelauth-reasons") or "[]"))


@pytest.fixture(scope="session")
def template() -> Any:
    from modelauth.local.samtemplate import SamTemplate

    return SamTemplate.load(TEMPLATE)


@contextmanager
def embedded_backend(
    template: Any,
    schema: Any = None,
    schema_ref: str = FIXTURE_SCHEMA,
    alice_groups: tuple[str, ...] = ("editors",),
) -> Iterator[Any]:
    """An embedded backend (moto on 127.0.0.1) for a schema (the fixture schema unless given)
    with the users the clients sign in as (alice in ``alice_groups``, bob, carol in Admin),
    stopped afterwards; its functions load ``schema_ref``, not the template's schema."""
    from modelauth.local.sandbox import Backend
    from tests.fixtures.schema import SCHEMA

    backend = Backend.embedded(template, SCHEMA if schema is None else schema)
    backend.schema_ref = schema_ref
    try:
        backend.add_user("alice", list(alice_groups))
        backend.add_user("bob")
        backend.add_user("carol", ["Admin"])
        yield backend
    finally:
        backend.stop()


def user_clients(url: str, backend: Any) -> dict[str, Client]:
    """A client each for alice, bob, carol (Admin) and the API key."""
    return {
        **{name: Client(url, {"authorization": backend.token(name)}) for name in ("alice", "bob", "carol")},
        "api_key": Client(url, {"x-api-key": next(iter(backend.api_keys))}),
    }


@contextmanager
def local_server(template: Any, backend: Any) -> Iterator[Any]:
    """The local endpoint on a free loopback port."""
    from modelauth.local.server import LocalServer

    with LocalServer(template, backend, port=0, log=None) as server:
        yield server


@pytest.fixture(scope="session")
def backend(template: Any) -> Iterator[Any]:
    with embedded_backend(template) as backend:
        yield backend


@pytest.fixture(scope="session")
def server(template: Any, backend: Any) -> Iterator[Any]:
    with local_server(template, backend) as server:
        yield server


@pytest.fixture(scope="session")
def clients(server: Any, backend: Any) -> dict[str, Client]:
    """One client per caller the tests use."""
    return make_clients(server, backend)


def make_clients(server: Any, backend: Any) -> dict[str, Client]:
    """A client per caller: API key, user-pool users, OIDC and Lambda tokens, IAM credentials."""
    url = server.url
    return {
        **user_clients(url, backend),
        "alice_id_token": Client(url, {"authorization": backend.token("alice", "id")}),
        "erin": Client(url, {"authorization": backend.token("erin", "oidc")}),
        "frank": Client(url, {"authorization": backend.token("frank", "oidc", ["Moderator"])}),
        "gina": Client(url, {"authorization": backend.token("gina", "oidc")}),
        "dave": Client(url, {"authorization": backend.token("dave", "lambda")}),
        "lambda_key": Client(url, {"authorization": backend.lambda_api_key}),
        "guest": Client(url, credentials=identity_pool_credentials(server, backend)),
        "alice_iam": Client(url, credentials=identity_pool_credentials(server, backend, "alice")),
        "bob_iam": Client(url, credentials=identity_pool_credentials(server, backend, "bob")),
        "backend_role": Client(url, credentials=assumed_role(server, backend, "modelauth-backend")),
    }


def _aws_options(server: Any, backend: Any) -> dict[str, Any]:
    return {
        "endpoint_url": server.root_url,
        "region_name": backend.region,
        "aws_access_key_id": "unused",
        "aws_secret_access_key": "unused",
    }


def identity_pool_credentials(server: Any, backend: Any, user: str | None = None) -> Credentials:
    """Credentials from the endpoint's identity pool: a guest, or ``user`` signed in."""
    identity = boto3.client("cognito-identity", **_aws_options(server, backend))
    logins = {backend.login_provider: backend.token(user, "id")} if user else {}
    identity_id = identity.get_id(IdentityPoolId=backend.identity_pool_id, Logins=logins)["IdentityId"]
    creds = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])


def assumed_role(server: Any, backend: Any, role: str) -> Credentials:
    sts = boto3.client("sts", **_aws_options(server, backend))
    arn = f"arn:aws:iam::{backend.account_id}:role/{role}"
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="tests")["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
