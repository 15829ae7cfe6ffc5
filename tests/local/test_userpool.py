"""The endpoint's Cognito user-pool API, driven by boto3's ``cognito-idp`` client as an app would:
sign up, confirm, sign in (password and SRP), refresh, read the user, sign out; the tokens it
issues are the ones ``/graphql`` accepts. Unknown operations answer in JSON, never STS XML.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from tests.local.conftest import Client
from tests.local.srp import SrpClient

PASSWORD = "Passw0rd!local"
LIST = "{ listTodos { items { id } } }"


@pytest.fixture(scope="module")
def idp(server: Any, backend: Any) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.root_url,
        region_name=backend.region,
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
    )


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    return str(refused.value.response["Error"]["Code"])


def signed_up(idp: Any, server: Any, backend: Any) -> str:
    """A new user, signed up and confirmed with the code the endpoint logged."""
    name = f"zoe-{uuid.uuid4().hex[:6]}"
    answer = idp.sign_up(
        ClientId=backend.user_pool_client_id,
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    assert answer["UserConfirmed"] is False
    code = server.user_pool.confirmation_code(name)
    assert code is not None
    assert len(code) == 6
    idp.confirm_sign_up(ClientId=backend.user_pool_client_id, Username=name, ConfirmationCode=code)
    return name


def password_auth(idp: Any, backend: Any, name: str, password: str = PASSWORD) -> dict[str, Any]:
    result: dict[str, Any] = idp.initiate_auth(
        ClientId=backend.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )["AuthenticationResult"]
    return result


def password_refusal(idp: Any, backend: Any, name: str, password: str) -> str:
    """The error code USER_PASSWORD_AUTH answers."""
    parameters = {"USERNAME": name, "PASSWORD": password}
    client_id = backend.user_pool_client_id
    return error_code(
        idp.initiate_auth, ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters
    )


def refresh(idp: Any, backend: Any, refresh_token: str) -> dict[str, Any]:
    result: dict[str, Any] = idp.initiate_auth(
        ClientId=backend.user_pool_client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )["AuthenticationResult"]
    return result


def refresh_refusal(idp: Any, backend: Any, refresh_token: str) -> str:
    with pytest.raises(ClientError) as refused:
        refresh(idp, backend, refresh_token)
    return str(refused.value.response["Error"]["Code"])


def srp_sign_in(idp: Any, backend: Any, name: str, password: str) -> dict[str, Any]:
    srp = SrpClient(backend.user_pool_id, name, password)
    challenge = idp.initiate_auth(
        ClientId=backend.user_pool_client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.auth_parameters()
    )
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    answer: dict[str, Any] = idp.respond_to_auth_challenge(
        ClientId=backend.user_pool_client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp.challenge_responses(challenge["ChallengeParameters"]),
    )
    return answer


def test_sign_up_confirm_sign_in_refresh_get_user_and_sign_out(idp: Any, server: Any, backend: Any) -> None:
    name = f"zed-{uuid.uuid4().hex[:6]}"
    client_id = backend.user_pool_client_id
    idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD)
    assert password_refusal(idp, backend, name, PASSWORD) == "UserNotConfirmedException"
    code = server.user_pool.confirmation_code(name)
    wrong = "000000" if code != "000000" else "111111"
    confirm = idp.confirm_sign_up
    assert (
        error_code(confirm, ClientId=client_id, Username=name, ConfirmationCode=wrong)
        == "CodeMismatchException"
    )
    confirm(ClientId=client_id, Username=name, ConfirmationCode=code)
    assert (
        error_code(confirm, ClientId=client_id, Username=name, ConfirmationCode=code)
        == "NotAuthorizedException"
    )

    tokens = password_auth(idp, backend, name)
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == name
    for kind in ("IdToken", "AccessToken"):  # the endpoint takes both for AMAZON_COGNITO_USER_POOLS
        Client(server.url, {"authorization": tokens[kind]}).data(LIST)
    refreshed = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    assert idp.get_user(AccessToken=refreshed["AccessToken"])["Username"] == name

    idp.global_sign_out(AccessToken=refreshed["AccessToken"])
    assert error_code(idp.get_user, AccessToken=refreshed["AccessToken"]) == "NotAuthorizedException"
    assert refresh_refusal(idp, backend, tokens["RefreshToken"]) == "NotAuthorizedException"


def test_srp_sign_in_gives_tokens_the_api_accepts(idp: Any, server: Any, backend: Any) -> None:
    name = signed_up(idp, server, backend)
    tokens = srp_sign_in(idp, backend, name, PASSWORD)["AuthenticationResult"]
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert (claims["cognito:username"], claims["iss"]) == (name, backend.user_pool_issuer)
    created = Client(server.url, {"authorization": tokens["IdToken"]}).data(
        'mutation { createTodo(input: {content: "via SRP"}) { id owner } }'
    )
    assert created["createTodo"]["owner"] == name
    Client(server.url, {"authorization": tokens["AccessToken"]}).data(LIST)


def test_srp_for_a_user_the_backend_added(idp: Any, backend: Any) -> None:
    tokens = srp_sign_in(idp, backend, "alice", backend.users["alice"])["AuthenticationResult"]
    claims = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    assert claims["cognito:groups"] == ["editors"]


def test_srp_with_the_wrong_password_is_refused(idp: Any, backend: Any) -> None:
    with pytest.raises(ClientError) as refused:
        srp_sign_in(idp, backend, "bob", "not-his-password")
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert refused.value.response["Error"]["Message"] == "Incorrect username or password."


def test_an_srp_proof_works_once(idp: Any, backend: Any) -> None:
    srp = SrpClient(backend.user_pool_id, "bob", backend.users["bob"])
    client_id = backend.user_pool_client_id
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.auth_parameters()
    )
    responses = srp.challenge_responses(challenge["ChallengeParameters"])
    respond = idp.respond_to_auth_challenge
    assert "AuthenticationResult" in respond(
        ClientId=client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
    )
    assert error_code(respond, ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                      ChallengeResponses=responses) == "NotAuthorizedException"  # fmt: skip


def test_srp_proof_for_another_timestamp_is_refused(idp: Any, backend: Any) -> None:
    srp = SrpClient(backend.user_pool_id, "bob", backend.users["bob"])
    client_id = backend.user_pool_client_id
    challenge = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.auth_parameters()
    )
    responses = srp.challenge_responses(challenge["ChallengeParameters"], "Mon Jan 5 10:00:00 UTC 2026")
    responses["TIMESTAMP"] = "Mon Jan 5 10:00:01 UTC 2026"  # signed over one time, claims another
    assert error_code(idp.respond_to_auth_challenge, ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                      ChallengeResponses=responses) == "NotAuthorizedException"  # fmt: skip


@pytest.mark.parametrize(("name", "password"), [("bob", "wrong-password"), ("nobody-here", PASSWORD)])
def test_password_sign_in_refusals(idp: Any, backend: Any, name: str, password: str) -> None:
    # an unknown user gets the same answer (the client has PreventUserExistenceErrors)
    assert password_refusal(idp, backend, name, password) == "NotAuthorizedException"


def test_revoked_refresh_token_no_longer_refreshes(idp: Any, backend: Any) -> None:
    tokens = password_auth(idp, backend, "carol", backend.users["carol"])
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=backend.user_pool_client_id)
    assert error_code(idp.get_user, AccessToken=tokens["AccessToken"]) == "NotAuthorizedException"
    assert refresh_refusal(idp, backend, tokens["RefreshToken"]) == "NotAuthorizedException"


def test_a_flow_the_client_does_not_allow(idp: Any, backend: Any) -> None:
    code = error_code(
        idp.initiate_auth,
        ClientId=backend.user_pool_client_id,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": "bob"},
    )
    assert code == "InvalidParameterException"


def test_operations_the_local_pool_does_not_serve_answer_in_json(idp: Any, backend: Any) -> None:
    with pytest.raises(ClientError) as refused:
        idp.admin_create_user(UserPoolId=backend.user_pool_id, Username="mallory")
    assert refused.value.response["Error"]["Code"] == "UnknownOperationException"
    assert (
        refused.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"]
        == "UnknownOperationException"
    )


@pytest.mark.parametrize(
    "target",
    [
        "AWSCognitoIdentityProviderService.AdminDeleteUser",
        "AWSCognitoIdentityService.DeleteIdentityPool",
        "DynamoDB_20120810.ListTables",
    ],
)
def test_unknown_targets_answer_json_with_the_error_type_header(server: Any, target: str) -> None:
    response = requests.post(
        server.root_url,
        data=b"{}",
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    body = json.loads(response.content)
    assert body["__type"] == "UnknownOperationException"
    assert target.rpartition(".")[2] in body["message"]
