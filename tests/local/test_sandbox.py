"""The backend behind the endpoint: the state file, local issuers, users, and `--aws` mapping."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest

from modelauth.local.sandbox import Backend, BackendError, LocalIssuer
from tests.fixtures.schema import SCHEMA


def test_state_round_trips_privately(tmp_path: Path, backend: Any) -> None:
    path = tmp_path / ".modelauth" / "local.json"
    backend.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (path.parent / ".gitignore").read_text() == "*\n"
    loaded = Backend.load(path)
    assert loaded == backend
    assert loaded.token("alice").count(".") == 2  # the loaded state reaches the same moto


def test_missing_or_broken_state(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="start one with `modelauth serve`"):
        Backend.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(BackendError, match="not valid JSON"):
        Backend.load(tmp_path / "bad.json")


def test_users(backend: Any) -> None:
    with pytest.raises(BackendError, match="exists already"):
        backend.add_user("alice")
    with pytest.raises(BackendError, match="no local user 'zed'"):
        backend.token("zed")
    claims = jwt.decode(backend.token("carol", "id"), options={"verify_signature": False})
    assert (claims["token_use"], claims["cognito:groups"], claims["iss"]) == (
        "id",
        ["Admin"],
        backend.user_pool_issuer,
    )


def test_local_issuer_tokens_verify_with_its_jwks() -> None:
    issuer = LocalIssuer.generate("https://oidc.example", "client-1")
    token = issuer.mint("erin", groups=["Moderator"], ttl=60)
    key = jwt.PyJWKSet.from_dict(issuer.jwks())[issuer.kid].key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="client-1", issuer="https://oidc.example")
    assert (claims["sub"], claims["groups"], claims["preferred_username"]) == (
        "local|erin",
        ["Moderator"],
        "erin",
    )


class _Stack:
    """CloudFormation and STS of a deployed stack, as much as ``Backend.from_stack`` asks."""

    def __init__(self, template: Any) -> None:
        self.resources = [
            {"LogicalResourceId": name, "PhysicalResourceId": f"{name}-prod-X1"}
            for name in template.resources
        ]

    def get_paginator(self, name: str) -> Any:
        assert name == "list_stack_resources"
        resources = self.resources

        class Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:
                assert StackName == "modelauth-prod"
                return [{"StackResourceSummaries": resources}]

        return Pages()

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "111122223333"}


def test_aws_mode_serves_the_stacks_physical_resources(
    template: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = _Stack(template)
    monkeypatch.setattr(boto3, "client", lambda service, **options: stack)
    backend = Backend.from_stack(template, SCHEMA, "modelauth-prod", region="eu-west-1")
    env = backend.environment(template, "GraphQLFunction")
    assert backend.aws_endpoint is None
    assert env["TABLE_TODO"] == "TodoTable-prod-X1"
    assert env["USER_POOL_ID"] == backend.user_pool_id == "UserPool-prod-X1"
    assert env["IDENTITY_POOL_ID"] == backend.identity_pool_id == "IdentityPool-prod-X1"
    assert env["AUTH_ROLE_ARNS"] == "arn:aws:iam::111122223333:role/IdentityPoolAuthRole-prod-X1"
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in env or not env["AWS_ENDPOINT_URL_DYNAMODB"]
    assert (
        backend.user_pool_jwks()
        == "https://cognito-idp.eu-west-1.amazonaws.com/UserPool-prod-X1/.well-known/jwks.json"
    )
