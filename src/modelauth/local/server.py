"""``modelauth serve``: the whole GraphQL API on one machine, every AppSync auth mode, no AWS account.

An HTTP server on 127.0.0.1 (stdlib ``ThreadingHTTPServer``: no new dependency) that reads
template.yaml and the SDL and, per request, decides the auth mode as AppSync does:

==================================================  ==========================================
request                                             mode
==================================================  ==========================================
``x-api-key``                                       API_KEY (known key, not expired)
``Authorization: AWS4-HMAC-SHA256 …`` (SigV4)       AWS_IAM (credentials the local identity
                                                    pool or STS issued; guest/auth roles)
``Authorization: <JWT>`` from the user pool         AMAZON_COGNITO_USER_POOLS (id or access)
``Authorization: <JWT>`` from the OIDC issuer       OPENID_CONNECT
any other ``Authorization``                         AWS_LAMBDA (the template's authorizer)
==================================================  ==========================================

A credential that fails its mode's check is refused before any resolver, as AppSync refuses it:
``{"errors": [{"errorType", "message"}]}`` with the same type in ``x-amzn-ErrorType``: HTTP 401
``UnauthorizedException`` for API keys, tokens and the Lambda authorizer (``Valid authorization
header not provided.`` without any credential, ``Token has expired.`` for an expired JWT, else
``You are not authorized to make this call.``), HTTP 403 with AWS's SigV4 error types for IAM
(``InvalidSignatureException`` for a wrong or stale signature, ``UnrecognizedClientException``
for credentials nobody issued, ``ExpiredTokenException``, ``IncompleteSignatureException`` for a
malformed one). Then :class:`~modelauth.local.appsync.LocalAppSync`
enforces the ``@aws_*`` directives and calls the template's handlers in-process (the deployed
code, imported with the function's environment resolved against the local backend). Lambda
handlers run one at a time (a process-wide lock): ``GraphQLApp`` and Powertools' router keep
per-request state that threads must not share.

Also served:

- ``GET /graphql/realtime``: subscriptions over WebSocket in AppSync's real-time protocol, with
  the resolver's subscription filters (:mod:`modelauth.local.realtime`);
- ``POST /``: the embedded user pool's sign-up and sign-in API (``AWSCognitoIdentityProviderService.*``,
  :mod:`modelauth.local.userpool`), the local identity pool (Cognito Identity ``GetId`` /
  ``GetCredentialsForIdentity``) and STS ``AssumeRole`` (:mod:`modelauth.local.identitypool`); any
  other ``X-Amz-Target`` answers ``UnknownOperationException`` in JSON;
- ``GET /health``.

Over TLS with ``--tls-cert``/``--tls-key`` (:func:`tls_context`; e.g. a `mkcert` certificate
for 127.0.0.1): the endpoint is then ``https://…/graphql`` and real-time ``wss://…``, which is
what Amplify JS dials, so a browser's subscriptions need no proxy.

A request with ``x-modelauth-explain: 1`` gets the decisions and their reasons in the
``x-modelauth-reasons`` response header (JSON); every decision is also logged, one line each.

Example::

    backend = Backend.embedded(template, schema)
    with LocalServer(template, backend, port=0) as server:
        requests.post(server.url, json={"query": "{ listTodos { items { id } } }"},
                      headers={"x-api-key": next(iter(backend.api_keys))})
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import signal
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from modelauth.errors import ModelAuthError, Unauthenticated
from modelauth.local.appsync import (
    FieldOutcome,
    GraphQLResponse,
    Invocation,
    LocalAppSync,
    RequestAuth,
    RequestError,
    operation_parts,
)
from modelauth.local.identitypool import COGNITO_TARGET, JSON_11, Answer, LocalIdentityPool, aws_json_error
from modelauth.local.realtime import (
    HEADER_SUBPROTOCOL,
    REALTIME_PATH,
    SUBPROTOCOL,
    RealtimeHub,
    WebSocket,
    accept_key,
)
from modelauth.local.samtemplate import FunctionSpec, SamTemplate
from modelauth.local.sandbox import Backend
from modelauth.local.sigv4 import SigV4Verifier, is_sigv4
from modelauth.local.userpool import USER_POOL_TARGET, LocalUserPoolApi
from modelauth.project import ProjectError
from modelauth.rules import Schema

__all__ = [
    "DEFAULT_PORT",
    "LambdaGate",
    "LocalFunction",
    "LocalServer",
    "RequestAuthenticator",
    "build_authenticator",
    "load_functions",
    "serve",
]

DEFAULT_PORT = 20002  # the port of Amplify's AppSync simulator, so client configs carry over
NOT_AUTHORIZED = "You are not authorized to make this call."
NO_CREDENTIAL = "Valid authorization header not provided."
TOKEN_EXPIRED = "Token has expired."  # noqa: S105 - a message
MAX_BODY = 1024 * 1024
EXPLAIN_HEADER = "x-modelauth-explain"
REASONS_HEADER = "x-modelauth-reasons"

# One Lambda at a time in this process: GraphQLApp keeps the current request on the instance and
# Powertools' router on the class, so two servers in one process (tests) share it too.
_LAMBDA_LOCK = threading.RLock()


def _denied(reason: str, message: str = NOT_AUTHORIZED) -> Unauthenticated:
    return Unauthenticated(message, reason=reason)


# --------------------------------------------------------------------------- functions in-process


@dataclass(frozen=True)
class _LambdaContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@contextmanager
def _environment(overlay: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overlay}
    os.environ.update(overlay)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LocalFunction:
    """A template function loaded in-process from its CodeUri with its environment (applied while
    its module is imported, when ``GraphQLApp.from_env`` & co. read it)."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str]) -> None:
        self.spec = spec
        self.environment = dict(environment)
        name = f"_modelauth_local_{spec.logical_id}_{uuid.uuid4().hex[:8]}"
        module_spec = importlib.util.spec_from_file_location(name, spec.module_path)
        if module_spec is None or module_spec.loader is None:
            raise FileNotFoundError(f"{spec.logical_id}: no handler module at {spec.module_path}")
        module = importlib.util.module_from_spec(module_spec)
        with _LAMBDA_LOCK, _environment(environment):
            module_spec.loader.exec_module(module)
        self.module: ModuleType = module
        self.handler: Callable[[Any, Any], Any] = getattr(module, spec.function_name)

    def __call__(self, event: Any) -> Any:
        with _LAMBDA_LOCK:
            return self.handler(event, _LambdaContext(self.spec.logical_id))


class _ResolverFunction:
    """A resolver function plus the reason of its last decision (GraphQLApp's ``on_outcome``)."""

    def __init__(self, function: LocalFunction) -> None:
        self.function = function
        self._reason: str | None = None
        app = getattr(function.module, "app", None)
        if app is not None and hasattr(app, "on_outcome"):
            previous = app.on_outcome

            def capture(outcome: Any) -> None:
                self._reason = str(outcome.reason)
                if previous is not None:
                    previous(outcome)

            app.on_outcome = capture

    def __call__(self, event: dict[str, Any]) -> Invocation:
        with _LAMBDA_LOCK:
            self._reason = None
            result = self.function(event)
            return Invocation(result, self._reason)


# --------------------------------------------------------------------------- request authentication


@dataclass(frozen=True)
class _JwtMode:
    """One JWT-verified mode (user pools or OIDC) and how AppSync shows its callers."""

    mode: str
    issuer: str
    verifier: Any  # modelauth.authorizer.TokenVerifier

    def authorize(self, token: str, source_ip: str) -> RequestAuth:
        import jwt

        self.verifier.verify(token)  # signature, iss, exp, audience / client, token_use
        # verified just above: only now are its claims read
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        if self.mode == "AMAZON_COGNITO_USER_POOLS":
            from modelauth.local import user_pool_identity

            identity = user_pool_identity(claims, source_ip)
            return RequestAuth(self.mode, identity, str(identity["username"]))
        identity = {"sub": claims.get("sub"), "issuer": claims.get("iss"), "claims": claims}
        return RequestAuth(self.mode, identity, str(claims.get("sub")))


class LambdaGate:
    """AppSync's AWS_LAMBDA mode: the authorizer function called with AppSync's request, its
    answers cached per token (``ttlOverride`` or the API's TTL; 0 = not cached), denials too.

    ``explain`` gives the reason of a denial when the authorizer can tell it (optional).
    """

    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        api_id: str,
        account_id: str,
        ttl: int,
        explain: Callable[[str], str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.invoke = invoke
        self.api_id = api_id
        self.account_id = account_id
        self.ttl = ttl
        self.explain = explain
        self._clock = clock
        self._cache: dict[bytes, tuple[float, RequestAuth | Unauthenticated]] = {}
        self._lock = threading.Lock()

    def authorize(
        self, token: str, operation: tuple[str, str | None, dict[str, Any]], headers: Mapping[str, str]
    ) -> RequestAuth:
        key = hashlib.sha256(token.encode()).digest()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            decided = cached[1]
        else:
            decided, ttl = self._call(token, operation, headers)
            with self._lock:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                if ttl > 0:
                    self._cache[key] = (now + ttl, decided)
        if isinstance(decided, Unauthenticated):
            raise decided
        return decided

    def _call(
        self, token: str, operation: tuple[str, str | None, dict[str, Any]], headers: Mapping[str, str]
    ) -> tuple[RequestAuth | Unauthenticated, int]:
        query, name, variables = operation
        context: dict[str, Any] = {
            "apiId": self.api_id,
            "accountId": self.account_id,
            "requestId": str(uuid.uuid4()),
            "queryString": query,
            "variables": variables,
        }
        if name is not None:
            context["operationName"] = name
        event = {"authorizationToken": token, "requestContext": context, "requestHeaders": dict(headers)}
        try:
            response = self.invoke(event)
        except Exception as exc:  # the authorizer failed: AppSync denies (fail closed)
            return _denied(f"the Lambda authorizer failed: {exc!r}"), 0
        return _lambda_auth(response, lambda: self.explain(token) if self.explain else None), self._ttl(
            response
        )

    def _ttl(self, response: Any) -> int:
        override = response.get("ttlOverride") if isinstance(response, Mapping) else None
        return override if isinstance(override, int) and 0 <= override <= 3600 else self.ttl


def _lambda_auth(response: Any, explain: Callable[[], str | None]) -> RequestAuth | Unauthenticated:
    """A Lambda authorizer's answer (spec §8.1) as the request's auth, checked: fail closed."""
    if not isinstance(response, Mapping) or not isinstance(response.get("isAuthorized"), bool):
        return _denied("the Lambda authorizer's answer has no boolean isAuthorized")
    if not response["isAuthorized"]:
        return _denied("Lambda authorizer: isAuthorized false" + (f" ({why})" if (why := explain()) else ""))
    context = response.get("resolverContext") or {}
    denied = response.get("deniedFields") or []
    if not isinstance(context, Mapping) or not all(
        isinstance(v, str | int | float | bool) for v in context.values()
    ):
        return _denied("the Lambda authorizer's resolverContext is not a flat map")
    if not isinstance(denied, list) or not all(isinstance(f, str) for f in denied):
        return _denied("the Lambda authorizer's deniedFields is not a list of strings")
    caller = str(context.get("username") or context.get("sub") or context.get("apiKeyId") or "lambda")
    return RequestAuth("AWS_LAMBDA", {"resolverContext": dict(context)}, caller, _field_names(denied))


def _field_names(denied: list[str]) -> frozenset[str]:
    """``Type.field`` from ``Type.field`` or ``arn:…:apis/<id>/types/<Type>/fields/<field>``."""
    names = set()
    for entry in denied:
        if "/types/" in entry and "/fields/" in entry:
            type_part = entry.split("/types/", 1)[1]
            type_name, _, field_name = type_part.partition("/fields/")
            names.add(f"{type_name}.{field_name}")
        else:
            names.add(entry)
    return frozenset(names)


class RequestAuthenticator:
    """Chooses the request's auth mode from its headers (see the module docstring) and checks
    its credential; :class:`~modelauth.errors.Unauthenticated` (401) when that fails."""

    def __init__(
        self,
        *,
        modes: tuple[str, ...],
        api_keys: Mapping[str, float],
        jwt_modes: tuple[_JwtMode, ...] = (),
        sigv4: SigV4Verifier | None = None,
        identity_pool: LocalIdentityPool | None = None,
        lambda_gate: LambdaGate | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.modes = modes
        self.api_keys = dict(api_keys)
        self.jwt_modes = {m.issuer: m for m in jwt_modes if m.mode in modes}
        self.sigv4 = sigv4 if "AWS_IAM" in modes else None
        self.identity_pool = identity_pool
        self.lambda_gate = lambda_gate if "AWS_LAMBDA" in modes else None
        self._clock = clock

    def authenticate(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> RequestAuth:
        lower: dict[str, str] = {}
        for name, value in headers:
            if name.lower() in ("x-api-key", "authorization") and name.lower() in lower:
                raise _denied(f"{name.lower()} sent more than once")  # which one counts? neither
            lower.setdefault(name.lower(), value)
        if "x-api-key" in lower:
            return self._api_key(lower["x-api-key"])
        authorization = lower.get("authorization", "").strip()
        if not authorization:
            raise _denied("no x-api-key and no Authorization header", NO_CREDENTIAL)
        if is_sigv4(authorization):
            return self._iam(method, target, headers, body, source_ip)
        token = authorization.removeprefix("Bearer ").strip()
        issuer = _issuer_of(token)
        if issuer in self.jwt_modes:
            try:
                return self.jwt_modes[issuer].authorize(token, source_ip)
            except ModelAuthError as exc:
                message = TOKEN_EXPIRED if exc.reason == "token expired" else NOT_AUTHORIZED
                raise _denied(f"{self.jwt_modes[issuer].mode}: {exc.reason}", message) from None
        if self.lambda_gate is None:
            raise _denied(
                f"a token from no issuer of the API ({issuer or 'not a JWT'}) and no Lambda authorizer"
            )
        return self.lambda_gate.authorize(authorization, _operation_of(body), lower)

    def _api_key(self, key: str) -> RequestAuth:
        if "API_KEY" not in self.modes:
            raise _denied("the API has no API_KEY mode")
        expires = next((e for k, e in self.api_keys.items() if _same(k, key)), None)
        if expires is None:
            raise _denied("unknown API key")
        if self._clock() >= expires:
            raise _denied(f"API key expired at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(expires))}")
        return RequestAuth("API_KEY", None, "api key")

    def _iam(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> RequestAuth:
        if self.sigv4 is None or self.identity_pool is None:
            raise _denied("the API has no AWS_IAM mode")
        key = self.sigv4.verify(method, target, headers, body)
        issued = self.identity_pool.identity_of(key.access_key_id)
        if issued is None:  # issued and forgotten in between: fail closed
            raise _denied(f"credentials {key.access_key_id} belong to no identity")
        return RequestAuth("AWS_IAM", issued.appsync_identity(source_ip), issued.label)


def _same(expected: str, given: str) -> bool:
    import hmac

    return hmac.compare_digest(expected.encode(), given.encode())


def _issuer_of(token: str) -> str | None:
    """The ``iss`` of a JWT, unverified (only to route it to the mode that will verify it)."""
    import jwt

    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) else None


def _operation_of(body: bytes) -> tuple[str, str | None, dict[str, Any]]:
    """The GraphQL request's parts for the Lambda authorizer (empty when the body is broken:
    the authorizer still decides on the token, the request then fails as malformed)."""
    try:
        return operation_parts(json.loads(body))
    except (ValueError, RequestError):
        return "", None, {}


# --------------------------------------------------------------------------- the server


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context from a PEM certificate (chain) and its private key; ProjectError
    (one line, ``modelauth serve`` exits 2) when either can't be read or they don't match."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ProjectError(f"--tls-cert {cert} / --tls-key {key}: {exc.strerror or exc}") from None
    return context


class _HttpServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer``, over TLS when given a context: the handshake runs in the
    request's thread, so a client that never finishes one holds up only itself."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, tls: ssl.SSLContext | None) -> None:
        self.tls = tls
        super().__init__(address, handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is None:
            return sock, address
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)  # the handshake's bound; the handler sets its own afterwards
            try:
                request.do_handshake()
            except (OSError, ssl.SSLError):  # plain HTTP, a refused certificate, a hang-up
                return
            request.settimeout(None)
        super().finish_request(request, client_address)


class LocalServer:
    """The local endpoint for one template and backend; a context manager (start/stop).
    ``tls`` (:func:`tls_context`) serves https/wss instead of http/ws."""

    def __init__(
        self,
        template: SamTemplate,
        backend: Backend,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        log: TextIO | None = sys.stderr,
        log_level: str = "WARNING",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.template = template
        self.backend = backend
        self.log = log
        self._log_lock = threading.Lock()
        functions = load_functions(
            template, backend, {*template.resolvers.values(), *filter(None, [template.api.lambda_authorizer])}
        )
        for function in functions.values():
            # Powertools loggers are per service name and in this process shared by all functions
            service = function.environment.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
            logging.getLogger(service).setLevel(log_level)
        resolvers = {name: _ResolverFunction(functions[name]) for name in set(template.resolvers.values())}
        self.engine = LocalAppSync(
            template.api.schema_path.read_text(),
            default_mode=template.api.default_mode,
            resolvers=template.resolvers,
            invoke=lambda name, event: resolvers[name](event),
        )
        self.authenticator = build_authenticator(template, backend, functions)
        assert self.authenticator.identity_pool is not None
        self.identity_pool = self.authenticator.identity_pool
        self.user_pool = LocalUserPoolApi(
            backend.user_pool_id,
            region=backend.region,
            account_id=backend.account_id,
            endpoint=backend.aws_endpoint,
            log=self._log,
        )
        self.realtime = RealtimeHub(self.engine, self.authenticator.authenticate, log=self._log)
        self._http = _HttpServer((host, port), _handler_class(self), tls)
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The GraphQL URL, e.g. ``http://127.0.0.1:20002/graphql`` (``https`` over TLS)."""
        host, port = self._http.server_address[:2]
        scheme = "http" if self._http.tls is None else "https"
        return f"{scheme}://{host!s}:{port}/graphql"

    @property
    def root_url(self) -> str:
        """The identity pool / STS endpoint (``endpoint_url`` for boto3 clients)."""
        return self.url.removesuffix("graphql")

    def start(self) -> LocalServer:
        self.backend.endpoint = self.url
        self._thread = threading.Thread(target=self._http.serve_forever, name="modelauth-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.realtime.close_all()
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``modelauth serve``)."""
        self.backend.endpoint = self.url
        try:
            self._http.serve_forever()
        finally:
            self._http.server_close()

    # -- requests ----------------------------------------------------------------------------------
    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request → ``(status, headers, body)``."""
        path = target.split("?", 1)[0]
        lower = {name.lower(): value for name, value in reversed(headers)}
        if method == "GET" and path == "/health":
            return _json(200, {"status": "ok", "graphql": self.url})
        if method == "POST" and path == "/graphql":
            return self._graphql(target, headers, lower, body, client_ip)
        if method == "POST" and path == "/":
            return self._aws(lower, body)
        return _json(404, {"errors": [{"errorType": "NotFound", "message": f"No route for {method} {path}"}]})

    def _aws(self, headers: Mapping[str, str], body: bytes) -> Answer:
        """``POST /``: the AWS APIs a client needs, each answered in its own protocol."""
        target = headers.get("x-amz-target", "")
        if target.startswith(USER_POOL_TARGET):
            return self.user_pool.handle(target.removeprefix(USER_POOL_TARGET), body)
        if target and not target.startswith(COGNITO_TARGET):  # a JSON service the endpoint isn't
            content_type = headers.get("content-type", "")
            return aws_json_error(
                "UnknownOperationException",
                f"{target} is not served by the local endpoint (it serves {USER_POOL_TARGET}*, "
                f"{COGNITO_TARGET}* and STS AssumeRole)",
                content_type=content_type if content_type.startswith("application/x-amz-json-") else JSON_11,
            )
        return self.identity_pool.handle(headers, body)

    def _graphql(
        self,
        target: str,
        headers: list[tuple[str, str]],
        lower: Mapping[str, str],
        body: bytes,
        client_ip: str,
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            auth = self.authenticator.authenticate("POST", target, headers, body, client_ip)
        except ModelAuthError as exc:
            refused = exc if isinstance(exc, Unauthenticated) else _denied(exc.reason)
            self._log(f"{refused.http_status} {refused.reason}")
            error = {"errorType": refused.error_type, "message": refused.message}
            outcomes = (FieldOutcome("request", False, refused.reason),)
            answer = {"x-amzn-ErrorType": refused.error_type, **self._reasons(lower, outcomes)}
            return _json(refused.http_status, {"errors": [error]}, answer)
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        response = self.engine.execute(request, auth, headers=lower, source_ip=client_ip)
        self._log_response(auth, response)
        return _json(response.status, response.body, self._reasons(lower, response.outcomes))

    def _reasons(self, headers: Mapping[str, str], outcomes: tuple[FieldOutcome, ...]) -> dict[str, str]:
        if headers.get(EXPLAIN_HEADER) not in ("1", "true"):
            return {}
        entries = [{"field": o.field, "allowed": o.allowed, "reason": o.reason} for o in outcomes]
        return {REASONS_HEADER: json.dumps(entries)}  # ensure_ascii: a valid header value

    def _log_response(self, auth: RequestAuth, response: GraphQLResponse) -> None:
        who = f"{auth.mode} {auth.caller}"
        if not response.outcomes:
            self._log(f"{response.status} {who}")
        for outcome in response.outcomes:
            verdict = "ALLOW" if outcome.allowed else "DENY "
            self._log(f"{response.status} {who} {outcome.field} {verdict} {outcome.reason}")

    def _log(self, line: str) -> None:
        if self.log is not None:
            with self._log_lock:
                print(f"[modelauth] {line}", file=self.log, flush=True)


def _json(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def load_functions(template: SamTemplate, backend: Backend, names: Iterable[str]) -> dict[str, LocalFunction]:
    """The template's functions ``names``, loaded in-process with their local environment."""
    return {
        name: LocalFunction(template.functions[name], backend.environment(template, name)) for name in names
    }


def build_authenticator(
    template: SamTemplate, backend: Backend, functions: Mapping[str, LocalFunction]
) -> RequestAuthenticator:
    """How the endpoint of ``template`` on ``backend`` authenticates requests (``functions``
    must hold the Lambda authorizer when the API has one)."""
    identity_pool = _identity_pool(backend)
    return RequestAuthenticator(
        # the template has no OIDC provider: the local issuer stands in for one (Item model)
        modes=tuple(dict.fromkeys([*template.api.modes, "OPENID_CONNECT"])),
        api_keys=backend.api_keys,
        jwt_modes=_jwt_modes(backend),
        sigv4=SigV4Verifier(identity_pool.lookup, region=backend.region),
        identity_pool=identity_pool,
        lambda_gate=_lambda_gate(template, backend, functions),
    )


def _identity_pool(backend: Backend) -> LocalIdentityPool:
    from modelauth.authorizer import Issuer, TokenVerifier

    # GetId / GetCredentialsForIdentity take the user pool's ID token as the login
    logins = TokenVerifier(
        [
            Issuer.cognito(
                backend.user_pool_id,
                [backend.user_pool_client_id],
                token_use=("id",),
                jwks=backend.user_pool_jwks(),
            )
        ]
    )

    def verify_login(token: str) -> Mapping[str, Any]:
        import jwt

        logins.verify(token)
        claims: Mapping[str, Any] = jwt.decode(token, options={"verify_signature": False})
        return claims

    def new_identity_id() -> str:
        identity_id: str = backend.client("cognito-identity").get_id(IdentityPoolId=backend.identity_pool_id)[
            "IdentityId"
        ]
        return identity_id

    return LocalIdentityPool(
        backend.identity_pool_id,
        account_id=backend.account_id,
        region=backend.region,
        auth_role=backend.auth_role,
        unauth_role=backend.unauth_role,
        login_provider=backend.login_provider,
        verify_login=verify_login,
        new_identity_id=new_identity_id if backend.aws_endpoint else None,
        assumable_roles=backend.backend_roles,
    )


def _jwt_modes(backend: Backend) -> tuple[_JwtMode, ...]:
    from modelauth.authorizer import Issuer, TokenVerifier

    pool = Issuer.cognito(
        backend.user_pool_id,
        [backend.user_pool_client_id],
        token_use=("id", "access"),
        jwks=backend.user_pool_jwks(),
    )
    oidc = Issuer.oidc(backend.oidc.issuer, [backend.oidc.audience], jwks=backend.oidc.jwks())
    return (
        _JwtMode("AMAZON_COGNITO_USER_POOLS", pool.issuer, TokenVerifier([pool])),
        _JwtMode("OPENID_CONNECT", oidc.issuer, TokenVerifier([oidc])),
    )


def _lambda_gate(
    template: SamTemplate, backend: Backend, functions: Mapping[str, LocalFunction]
) -> LambdaGate | None:
    name = template.api.lambda_authorizer
    if name is None:
        return None
    function = functions[name]

    def explain(token: str) -> str | None:
        # the authorizer's verifier is public: ask it why (the answer itself carries no reason)
        verifier = getattr(getattr(function.module, "authorizer", None), "verifier", None)
        if verifier is None:
            return None
        try:
            verifier.verify(token)
        except ModelAuthError as exc:
            return exc.reason
        return None

    return LambdaGate(
        function,
        api_id="local",
        account_id=backend.account_id,
        ttl=template.api.lambda_authorizer_ttl,
        explain=explain,
    )


def _handler_class(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "modelauth-local"

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                status, headers, body = _json(
                    413, {"errors": [{"errorType": "PayloadTooLarge", "message": "too large"}]}
                )
            else:
                body_in = self.rfile.read(length) if length else b""
                try:
                    status, headers, body = server.handle(
                        self.command, self.path, list(self.headers.items()), body_in, self.client_address[0]
                    )
                except Exception as exc:  # never a traceback to the client: a typed 500
                    server._log(f"500 internal error: {exc!r}")
                    error = {"errorType": "InternalFailure", "message": "Internal error"}
                    status, headers, body = _json(500, {"errors": [error]})
            self.send_response(status)
            for name, value in {**headers, **_CORS, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_POST = _respond

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != REALTIME_PATH:
                self._respond()
                return
            key = self.headers.get("Sec-WebSocket-Key")
            offered = ",".join(self.headers.get_all("Sec-WebSocket-Protocol") or [])
            protocols = [p.strip() for p in offered.split(",") if p.strip()]
            header_protocols = [p for p in protocols if p.startswith(HEADER_SUBPROTOCOL)]
            if "websocket" not in (self.headers.get("Upgrade") or "").lower() or not key:
                self.send_error(400, "WebSocket upgrade expected")
                return
            if SUBPROTOCOL not in protocols:
                self.send_error(400, f"the {SUBPROTOCOL} subprotocol is required")
                return
            if len(header_protocols) > 1:  # which one counts? neither
                self.send_error(400, f"more than one {HEADER_SUBPROTOCOL} subprotocol")
                return
            # 101 written as HTTP/1.1 whatever protocol_version the other responses use
            lines = [
                "HTTP/1.1 101 Switching Protocols",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Accept: {accept_key(key)}",
                f"Sec-WebSocket-Protocol: {SUBPROTOCOL}",
            ]
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            self.wfile.flush()
            self.close_connection = True
            server.realtime.serve(
                WebSocket(self.rfile, self.wfile),
                self.path,
                self.client_address[0],
                header_protocols[0] if header_protocols else None,
            )

        def do_OPTIONS(self) -> None:  # CORS preflight, as AppSync answers browsers
            self.send_response(204)
            for name, value in _CORS.items():
                self.send_header(name, value)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per decision instead (LocalServer._log)

    return Handler


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Expose-Headers": f"{REASONS_HEADER}, x-amzn-ErrorType, x-amzn-RequestId",
}


def serve(
    template_path: Path,
    schema: Schema,
    *,
    schema_ref: str | None = None,
    port: int = DEFAULT_PORT,
    state_path: Path,
    aws_stack: str | None = None,
    region: str = "us-east-1",
    log_level: str = "WARNING",
    tls: ssl.SSLContext | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """``modelauth serve``: start the backend and the endpoint, write the state file, serve."""
    template = SamTemplate.load(template_path)
    if aws_stack:
        backend = Backend.from_stack(template, schema, aws_stack, region=region)
    else:
        backend = Backend.embedded(template, schema, region=region)
    backend.schema_ref = schema_ref
    try:
        server = LocalServer(template, backend, port=port, log_level=log_level, tls=tls)
        backend.endpoint = server.url
        backend.save(state_path)
        print(_banner(server, backend, state_path), file=out, flush=True)
        signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nstopped", file=out)
    finally:
        backend.stop()
        state_path.unlink(missing_ok=True)
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _banner(server: LocalServer, backend: Backend, state_path: Path) -> str:
    data = "moto " + backend.aws_endpoint if backend.aws_endpoint else "AWS (deployed stack)"
    return "\n".join(
        [
            f"modelauth local AppSync endpoint: {server.url}",
            f"  data + user pool: {data}",
            f"  auth modes:       {', '.join(server.authenticator.modes)}",
            f"  identity pool:    {backend.identity_pool_id} (boto3 endpoint_url={server.root_url})",
            f"  state:            {state_path} (modelauth users|token|creds|explain use it)",
            "  try:              modelauth users add alice --group editors; modelauth token alice",
            "Ctrl-C stops it (the embedded data is not kept).",
        ]
    )
