"""Subscriptions over WebSocket in AppSync's real-time protocol, with owner filtering.

A minimal RFC 6455 client (masked frames) speaks to the endpoint as AppSync clients do:
connection credentials in the ``header`` query parameter (AppSync's documented form) or in a
``header-<base64url>`` subprotocol (Amplify JS v6), per-subscription credentials in ``start``;
IAM callers sign ``/graphql/connect`` and ``/graphql`` with botocore.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import struct
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from modelauth.local.realtime import accept_key
from tests.local.conftest import Client


class RealtimeClient:
    """One real-time connection: JSON messages over a WebSocket."""

    def __init__(
        self,
        url: str,
        connect_headers: Mapping[str, str] | None,
        via: str = "query",
        subprotocol_headers: Mapping[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``via``: where ``connect_headers`` (the connection's credentials) go, ``query``
        (``?header=``, standard base64) or ``subprotocol`` (``header-<base64url, unpadded>`` as
        Amplify JS v6 sends them); ``subprotocol_headers`` adds such a subprotocol as well;
        ``tls``: a ``wss://`` URL's client context."""
        parts = urlsplit(url)
        self.host = parts.netloc
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=parts.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        if via == "subprotocol":
            connect_headers, subprotocol_headers = None, connect_headers
        target, protocols = "/graphql/realtime", "graphql-ws"
        if connect_headers is not None:
            encoded = base64.b64encode(json.dumps(dict(connect_headers)).encode()).decode()
            target += f"?header={quote(encoded)}&payload=e30="
        if subprotocol_headers is not None:
            encoded = base64.urlsafe_b64encode(json.dumps(dict(subprotocol_headers)).encode()).decode()
            protocols += ",header-" + encoded.rstrip("=")
        handshake = (
            f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {protocols}\r\n\r\n"
        )
        self.sock.sendall(handshake.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response
        assert f"Sec-WebSocket-Accept: {accept_key(key)}".encode() in response
        # the server selects graphql-ws, never the credentials' subprotocol
        assert b"\r\nSec-WebSocket-Protocol: graphql-ws\r\n" in response, response

    def send(self, message: Mapping[str, Any]) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        length = len(payload)
        head = (
            struct.pack("!BB", 0x81, 0x80 | length)
            if length < 126
            else struct.pack("!BBH", 0x81, 0x80 | 126, length)
        )
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next message other than a keep-alive (TimeoutError when none comes)."""
        self.sock.settimeout(timeout)
        while True:
            opcode, length = self._exactly(2)
            length &= 0x7F
            if length == 126:
                length = struct.unpack("!H", self._exactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._exactly(8))[0]
            data = self._exactly(length)
            if opcode & 0x0F == 0x8:
                return {"type": "closed"}
            message: dict[str, Any] = json.loads(data)
            if message.get("type") != "ka":
                return message

    def start(self, query: str, authorization: Mapping[str, str]) -> dict[str, Any]:
        """Subscribe; returns the server's answer (start_ack or error)."""
        subscription_id = uuid.uuid4().hex
        data = json.dumps({"query": query, "variables": {}})
        extensions = {"authorization": dict(authorization)}
        self.send(
            {"id": subscription_id, "type": "start", "payload": {"data": data, "extensions": extensions}}
        )
        answer = self.receive()
        answer["sent_data"] = data
        return answer

    def close(self) -> None:
        self.sock.close()


def connect(url: str, headers: Mapping[str, str], via: str = "query") -> RealtimeClient:
    client = RealtimeClient(url, headers, via)
    client.send({"type": "connection_init"})
    assert client.receive()["type"] == "connection_ack"
    return client


@pytest.fixture
def realtime(server: Any) -> Iterator[list[RealtimeClient]]:
    opened: list[RealtimeClient] = []
    yield opened
    for client in opened:
        client.close()


def open_as(
    realtime: list[RealtimeClient], server: Any, client: Client, via: str = "query"
) -> tuple[RealtimeClient, dict[str, str]]:
    """A connection with ``client``'s credentials, and the headers its starts must carry."""
    headers = {"host": urlsplit(server.url).netloc, **client.headers}
    connection = connect(server.url, headers, via)
    realtime.append(connection)
    return connection, headers


@pytest.mark.parametrize("via", ["query", "subprotocol"])
def test_a_subscriber_receives_the_mutations_it_follows(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client], via: str
) -> None:
    connection, headers = open_as(realtime, server, clients["api_key"], via)
    ack = connection.start("subscription { onCreateTodo { id content } }", headers)
    assert ack["type"] == "start_ack"
    todo = f"todo-{uuid.uuid4().hex[:8]}"
    clients["alice"].data(
        f'mutation {{ createTodo(input: {{id: "{todo}", content: "hi"}}) {{ id content owner }} }}'
    )
    message = connection.receive()
    assert message == {
        "type": "data",
        "id": ack["id"],
        "payload": {"data": {"onCreateTodo": {"id": todo, "content": "hi"}}},
    }


@pytest.mark.parametrize("via", ["query", "subprotocol"])
def test_owners_only_hear_about_their_own_items(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client], via: str
) -> None:
    alice, alice_headers = open_as(realtime, server, clients["alice"], via)
    bob, bob_headers = open_as(realtime, server, clients["bob"], via)
    for connection, headers in ((alice, alice_headers), (bob, bob_headers)):
        assert connection.start("subscription { onCreateTodo { id owner } }", headers)["type"] == "start_ack"
    # the filter compares the stored owner, which the mutation must select (as codegen does)
    mutation = 'mutation { createTodo(input: {content: "%s"}) { id owner _storedOwner } }'
    created = clients["alice"].data(mutation % "mine")["createTodo"]
    assert alice.receive()["payload"]["data"] == {"onCreateTodo": {"id": created["id"], "owner": "alice"}}
    with pytest.raises(TimeoutError):
        bob.receive(timeout=0.5)  # the filter (stored owner is bob's) drops alice's item
    created = clients["bob"].data(mutation % "his")["createTodo"]
    assert bob.receive()["payload"]["data"] == {"onCreateTodo": {"id": created["id"], "owner": "bob"}}


def test_a_mode_without_the_fields_directive_cannot_subscribe(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client]
) -> None:
    connection, headers = open_as(realtime, server, clients["bob"])
    answer = connection.start("subscription { onCreateNote { id } }", headers)
    assert answer["type"] == "error"
    [error] = answer["payload"]["errors"]
    assert (error["message"], error["errorType"]) == (
        "Not Authorized to access onCreateNote on type Subscription",
        "Unauthorized",
    )


def refusal(
    realtime: list[RealtimeClient], server: Any, headers: Mapping[str, str], via: str
) -> dict[str, Any]:
    """What connection_init gets on a connection with ``headers`` as its credentials."""
    refused = RealtimeClient(server.url, headers, via)
    realtime.append(refused)
    refused.send({"type": "connection_init"})
    answer = refused.receive()
    assert refused.receive() == {"type": "closed"}
    return answer


BAD_CONNECTIONS = {
    "unknown API key": {"host": "x", "x-api-key": "da2-" + "n" * 26},
    "not a token": {"host": "x", "authorization": "garbage"},
    "no credential": {"host": "x"},
}


@pytest.mark.parametrize("case", list(BAD_CONNECTIONS))
def test_bad_connection_credentials_are_refused_alike_in_query_and_subprotocol(
    realtime: list[RealtimeClient], server: Any, case: str
) -> None:
    answers = [refusal(realtime, server, BAD_CONNECTIONS[case], via) for via in ("query", "subprotocol")]
    assert (
        answers[0]
        == answers[1]
        == {
            "type": "connection_error",
            "payload": {
                "errors": [
                    {
                        "errorType": "UnauthorizedException",
                        "message": "You are not authorized to make this call.",
                        "errorCode": 401,
                    }
                ]
            },
        }
    )


def test_the_query_and_the_subprotocol_must_not_disagree(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client]
) -> None:
    """Both present: each must carry the same credentials (a good one can't cover a bad one)."""
    good = {"host": urlsplit(server.url).netloc, **clients["api_key"].headers}
    bad = {"host": good["host"], "x-api-key": "da2-" + "n" * 26}
    for query, subprotocol, answer in ((bad, good, "connection_error"), (good, good, "connection_ack")):
        client = RealtimeClient(server.url, query, subprotocol_headers=subprotocol)
        realtime.append(client)
        client.send({"type": "connection_init"})
        assert client.receive()["type"] == answer


def test_bad_start_credentials_are_refused(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client]
) -> None:
    connection, headers = open_as(realtime, server, clients["alice"])
    answer = connection.start("subscription { onCreateTodo { id } }", {**headers, "authorization": "garbage"})
    assert answer["payload"]["errors"][0]["errorType"] == "UnauthorizedException"


def signed_headers(server: Any, credentials: Credentials, path: str, body: str) -> dict[str, str]:
    url = server.url.replace("/graphql", path)
    request = AWSRequest(
        method="POST", url=url, data=body.encode(), headers={"content-type": "application/json"}
    )
    SigV4Auth(credentials, "appsync", "us-east-1").add_auth(request)
    return {"host": urlsplit(server.url).netloc, **dict(request.headers.items())}


def test_iam_subscriptions_are_signed_and_filtered_to_the_identity(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client]
) -> None:
    credentials = clients["alice_iam"].credentials
    assert credentials is not None
    connection = connect(server.url, signed_headers(server, credentials, "/graphql/connect", "{}"))
    realtime.append(connection)
    query = "subscription { onCreateNote { id text owner } }"
    data = json.dumps({"query": query, "variables": {}})
    subscription_id = "n1"
    extensions = {"authorization": signed_headers(server, credentials, "/graphql", data)}
    connection.send(
        {"id": subscription_id, "type": "start", "payload": {"data": data, "extensions": extensions}}
    )
    assert connection.receive()["type"] == "start_ack"
    created = clients["alice_iam"].data('mutation { createNote(input: {text: "hi"}) { id text owner } }')
    assert connection.receive()["payload"]["data"] == {"onCreateNote": created["createNote"]}
    clients["bob_iam"].data('mutation { createNote(input: {text: "not yours"}) { id text owner } }')
    with pytest.raises(TimeoutError):
        connection.receive(timeout=0.5)
    connection.send({"id": subscription_id, "type": "stop"})
    assert connection.receive() == {"type": "complete", "id": subscription_id}


def test_a_client_filter_narrows_what_the_owner_receives(
    realtime: list[RealtimeClient], server: Any, clients: dict[str, Client]
) -> None:
    # Amplify's client.models.Todo.onCreate({filter}) sends ModelSubscriptionTodoFilterInput
    tag = uuid.uuid4().hex[:8]
    alice, headers = open_as(realtime, server, clients["alice"])
    query = f'subscription {{ onCreateTodo(filter: {{content: {{beginsWith: "{tag}"}}}}) {{ id content }} }}'
    assert alice.start(query, headers)["type"] == "start_ack"
    mutation = 'mutation { createTodo(input: {content: "%s"}) { id content owner _storedOwner } }'
    clients["alice"].data(mutation % "other")
    clients["bob"].data(mutation % f"{tag} bob's")  # matches the client's filter, not the rules'
    created = clients["alice"].data(mutation % f"{tag} mine")["createTodo"]
    message = alice.receive()
    assert message["payload"]["data"] == {"onCreateTodo": {"id": created["id"], "content": f"{tag} mine"}}
    with pytest.raises(TimeoutError):
        alice.receive(timeout=0.5)
