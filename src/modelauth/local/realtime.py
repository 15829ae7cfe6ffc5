"""Subscriptions of the local endpoint over WebSocket, in AppSync's real-time protocol.

``ws://127.0.0.1:20002/graphql/realtime`` with the ``graphql-ws`` subprotocol, as AppSync
clients connect. The connection's credentials (``x-api-key``, ``Authorization``, or SigV4
headers signed over ``POST /graphql/connect`` with body ``{}``), a base64 JSON object, come
either in the query string (``?header=<base64>&payload=e30=``, AppSync's documented form, used by
``gql`` and Amplify v5) or, as Amplify JS v6 sends them, in a second offered subprotocol
``header-<base64url, unpadded>`` next to ``graphql-ws`` (the server selects ``graphql-ws``, never
echoes the header). Both go through the same decoding and the same credential checks; a
connection carrying both must carry the same credentials in each.

Then ``connection_init`` → ``connection_ack``;
``start`` (its own credentials in ``payload.extensions.authorization``, for IAM signed over
``POST /graphql`` with ``payload.data`` as the body) → ``start_ack`` or ``error``; published
mutation results → ``data``; ``stop`` → ``complete``; ``ka`` every ``keep_alive`` seconds.

Whether a caller may subscribe is decided at ``start`` like AppSync does: the request's
credential (401 → ``error``), the ``@aws_*`` directives, then the Subscription field's function
(``listen``), whose answer may carry an enhanced subscription filter (``invoke.js`` →
``subscription.js``). Each published result is then checked against that filter
(:func:`modelauth.subscriptions.event_passes`, as AppSync would) and rendered with the
subscriber's own selection and auth mode.

The WebSocket framing (RFC 6455: text, ping/pong, close, fragmented messages, masked client
frames only, 1 MiB per message) is the standard library's sockets; no dependency.

Example (what a client sends)::

    header = base64.b64encode(json.dumps({"host": "127.0.0.1:20002", "x-api-key": key}).encode())
    connect to ws://127.0.0.1:20002/graphql/realtime?header=<header>&payload=e30=
    send {"type": "connection_init"}
    send {"id": "1", "type": "start", "payload": {
          "data": "{\\"query\\": \\"subscription { onCreateTodo { id } }\\"}",
          "extensions": {"authorization": {"host": "127.0.0.1:20002", "x-api-key": key}}}}
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from io import BufferedIOBase
from typing import Any
from urllib.parse import parse_qs, urlsplit

from modelauth.errors import ModelAuthError
from modelauth.local.appsync import GraphQLResponse, LocalAppSync, RequestAuth, Subscription

__all__ = ["HEADER_SUBPROTOCOL", "REALTIME_PATH", "RealtimeHub", "WebSocket", "accept_key", "decode_header"]

REALTIME_PATH = "/graphql/realtime"
SUBPROTOCOL = "graphql-ws"
HEADER_SUBPROTOCOL = "header-"  # prefix of the subprotocol carrying the connection's credentials
MAX_MESSAGE = 1024 * 1024
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CONTINUATION, _CLOSE, _PING, _PONG = 0x1, 0x0, 0x8, 0x9, 0xA

#: (method, path, header pairs, body, source ip) → how the request is authorized, or raises
Authenticate = Callable[[str, str, list[tuple[str, str]], bytes, str], RequestAuth]


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2).

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324 - RFC


def decode_header(encoded: str) -> dict[str, str]:
    """The connection's credential headers from their base64 JSON (standard or URL-safe alphabet,
    padded or not: the query string carries the first, the ``header-`` subprotocol the second).

    >>> decode_header("eyJ4LWFwaS1rZXkiOiJkYTItYWJjIn0")
    {'x-api-key': 'da2-abc'}

    Raises ValueError when it is not base64 of a JSON object.
    """
    text = encoded.strip()
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    headers = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    if not isinstance(headers, dict):
        raise ValueError("header is not an object")
    return {str(k): str(v) for k, v in headers.items() if v is not None}


class WebSocket:
    """The server side of one WebSocket: text messages in and out; sends are thread-safe."""

    def __init__(self, reader: BufferedIOBase, writer: BufferedIOBase) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = threading.Lock()
        self.closed = False

    def receive(self) -> str | None:
        """The next text message; None once the peer closed or broke the protocol."""
        parts: list[bytes] = []
        while not self.closed:
            frame = self._frame()
            if frame is None:
                return None
            opcode, fin, payload = frame
            if opcode == _PING:
                self._send(_PONG, payload)
            elif opcode == _CLOSE:
                self.close()
            elif opcode in (_TEXT, _CONTINUATION) and (opcode == _TEXT) == (not parts):
                parts.append(payload)
                if sum(map(len, parts)) > MAX_MESSAGE:
                    self.close(1009)
                elif fin:
                    return b"".join(parts).decode("utf-8", "replace")
            elif opcode != _PONG:  # binary or out-of-order frames: not this protocol
                self.close(1003)
        return None

    def _frame(self) -> tuple[int, bool, bytes] | None:
        try:
            head = self._read(2)
            fin, opcode, masked, length = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            if not masked or length > MAX_MESSAGE:  # clients must mask (RFC 6455 §5.1)
                self.close(1002 if not masked else 1009)
                return None
            mask = self._read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(length)))
        except (OSError, EOFError):
            self.closed = True
            return None
        return opcode, bool(fin), data

    def _read(self, size: int) -> bytes:
        data = self._reader.read(size) if size else b""
        if len(data) != size:
            raise EOFError
        return data

    def send(self, message: Mapping[str, Any]) -> None:
        """Send one JSON message (silently dropped once the socket is closed)."""
        self._send(_TEXT, json.dumps(message).encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        with self._lock:
            if self.closed and opcode != _CLOSE:
                return
            try:
                self._writer.write(head + payload)
                self._writer.flush()
            except (OSError, ValueError):  # ValueError: the connection's file closed under us
                self.closed = True

    def close(self, code: int = 1000) -> None:
        if not self.closed:
            self._send(_CLOSE, struct.pack("!H", code))
            self.closed = True


@dataclass(frozen=True)
class _Subscriber:
    socket: WebSocket
    id: str
    subscription: Subscription


class RealtimeHub:
    """Every open real-time connection and its subscriptions; receives published mutations."""

    def __init__(
        self,
        engine: LocalAppSync,
        authenticate: Authenticate,
        *,
        keep_alive: float = 60.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.authenticate = authenticate
        self.keep_alive = keep_alive
        self.log = log or (lambda line: None)
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[_Subscriber]] = {}
        self._sockets: set[WebSocket] = set()
        engine.publish = self.publish

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, mutation: str, result: Mapping[str, Any]) -> None:
        """Send a mutation's result to every subscriber whose field follows it and whose filter
        lets it through."""
        for field_name in self.engine.subscriptions_of(mutation):
            with self._lock:
                subscribers = list(self._subscribers.get(field_name, ()))
            for subscriber in subscribers:
                body = self.engine.deliver(subscriber.subscription, result)
                if body is None:
                    self.log(f"ws {subscriber.subscription.auth.caller} {field_name}: filtered out")
                    continue
                subscriber.socket.send({"type": "data", "id": subscriber.id, "payload": body})

    def close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = set(self._sockets), set()
            self._subscribers.clear()
        for socket in sockets:
            socket.close(1001)

    # -- one connection --------------------------------------------------------------------------
    def serve(
        self, socket: WebSocket, target: str, source_ip: str, header_protocol: str | None = None
    ) -> None:
        """Run one connection until it closes (in the HTTP handler's thread); ``header_protocol``
        is the offered ``header-…`` subprotocol, if any."""
        with self._lock:
            self._sockets.add(socket)
        stop = threading.Event()
        threading.Thread(target=self._keep_alive, args=(socket, stop), daemon=True).start()
        try:
            connection = self._connect(target, source_ip, header_protocol)
            while (text := socket.receive()) is not None:
                self._message(socket, text, connection, source_ip)
        finally:
            stop.set()
            self._forget(socket)
            socket.close()

    def _connect(
        self, target: str, source_ip: str, header_protocol: str | None
    ) -> RequestAuth | ModelAuthError:
        """The connection's own credentials (the ``header`` query parameter or subprotocol)."""
        try:
            query = parse_qs(urlsplit(target).query)
            given = [decode_header(query["header"][0])] if "header" in query else []
            if header_protocol is not None:
                given.append(decode_header(header_protocol.removeprefix(HEADER_SUBPROTOCOL)))
            if not given:
                raise ValueError("no header query parameter and no header- subprotocol")
            if any(headers != given[0] for headers in given):
                raise ValueError("the header query parameter and the header- subprotocol differ")
            body = base64.b64decode(query.get("payload", ["e30="])[0], validate=True)
            return self.authenticate("POST", "/graphql/connect", list(given[0].items()), body, source_ip)
        except ModelAuthError as exc:
            return exc
        except (KeyError, ValueError) as exc:  # binascii.Error is a ValueError
            return ModelAuthError("Invalid connection header", reason=f"real-time connect: {exc}")

    def _message(
        self, socket: WebSocket, text: str, connection: RequestAuth | ModelAuthError, source_ip: str
    ) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            if isinstance(connection, ModelAuthError):
                self.log(f"ws 401 {connection.reason}")
                socket.send({"type": "connection_error", "payload": {"errors": [_UNAUTHORIZED]}})
                socket.close()
            else:
                socket.send(
                    {
                        "type": "connection_ack",
                        "payload": {"connectionTimeoutMs": int(self.keep_alive * 5000)},
                    }
                )
        elif isinstance(connection, ModelAuthError):
            socket.close(1008)  # nothing before a successful connection_init
        elif kind == "start" and isinstance(message, dict):
            self._start(socket, message, source_ip)
        elif kind == "stop" and isinstance(message, dict):
            self._stop(socket, str(message.get("id")))
        else:
            socket.send(
                {
                    "type": "error",
                    "payload": {
                        "errors": [
                            {"errorType": "UnsupportedOperation", "message": f"Unknown message type {kind!r}"}
                        ]
                    },
                }
            )

    def _start(self, socket: WebSocket, message: Mapping[str, Any], source_ip: str) -> None:
        subscription_id = str(message.get("id") or "")
        payload = message.get("payload") if isinstance(message.get("payload"), dict) else {}
        data = payload.get("data") if isinstance(payload, dict) else None
        extensions = payload.get("extensions") if isinstance(payload, dict) else None
        authorization = extensions.get("authorization") if isinstance(extensions, dict) else None
        if not subscription_id or not isinstance(data, str) or not isinstance(authorization, dict):
            self._error(
                socket,
                subscription_id,
                {
                    "errorType": "BadRequestException",
                    "message": "start needs id, payload.data and payload.extensions.authorization",
                },
            )
            return
        pairs = [(str(k), str(v)) for k, v in authorization.items()]
        try:
            auth = self.authenticate("POST", "/graphql", pairs, data.encode(), source_ip)
        except ModelAuthError as exc:
            self.log(f"ws 401 {exc.reason}")
            self._error(socket, subscription_id, _UNAUTHORIZED)
            return
        try:
            request: Any = json.loads(data)
        except ValueError:
            request = None
        result = self.engine.subscribe(
            request, auth, headers={k.lower(): v for k, v in pairs}, source_ip=source_ip
        )
        if isinstance(result, GraphQLResponse):
            for outcome in result.outcomes:
                self.log(f"ws {auth.mode} {auth.caller} {outcome.field} DENY  {outcome.reason}")
            self._error(socket, subscription_id, *result.body.get("errors", []))
            return
        with self._lock:
            self._subscribers.setdefault(result.field, []).append(
                _Subscriber(socket, subscription_id, result)
            )
        where = f"Subscription.{result.field}"
        self.log(f"ws {auth.mode} {auth.caller} {where} ALLOW filter={json.dumps(result.filter)}")
        socket.send({"type": "start_ack", "id": subscription_id})

    def _stop(self, socket: WebSocket, subscription_id: str) -> None:
        with self._lock:
            for field_name, subscribers in self._subscribers.items():
                self._subscribers[field_name] = [
                    s for s in subscribers if (s.socket, s.id) != (socket, subscription_id)
                ]
        socket.send({"type": "complete", "id": subscription_id})

    def _forget(self, socket: WebSocket) -> None:
        with self._lock:
            self._sockets.discard(socket)
            for field_name, subscribers in self._subscribers.items():
                self._subscribers[field_name] = [s for s in subscribers if s.socket is not socket]

    def _keep_alive(self, socket: WebSocket, stop: threading.Event) -> None:
        while not stop.wait(self.keep_alive) and not socket.closed:
            socket.send({"type": "ka"})

    @staticmethod
    def _error(socket: WebSocket, subscription_id: str, *errors: Mapping[str, Any]) -> None:
        socket.send({"type": "error", "id": subscription_id, "payload": {"errors": list(errors)}})


#: what AppSync answers a real-time request whose credentials fail (the reason is only logged)
_UNAUTHORIZED = {
    "errorType": "UnauthorizedException",
    "message": "You are not authorized to make this call.",
    "errorCode": 401,
}
