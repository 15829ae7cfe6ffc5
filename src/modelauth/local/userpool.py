"""The local endpoint's Cognito user-pool API: sign-up and sign-in as a client does them.

``POST /`` with ``X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`` (JSON 1.1), so
Amplify (``userPoolEndpoint``) and boto3 (``endpoint_url``) sign in against the embedded user
pool, the one whose tokens the endpoint accepts for AMAZON_COGNITO_USER_POOLS. What moto does
right is moto's answer, forwarded unchanged; what it doesn't is done here:

=============================  ===============================================================
operation                      served by
=============================  ===============================================================
``SignUp``                     moto; then a local confirmation code (below)
``ConfirmSignUp``              the code checked here (moto confirms with any code), then moto
``ResendConfirmationCode``     here: a new code
``InitiateAuth``               the client's ``ExplicitAuthFlows`` checked here (moto doesn't);
                               ``USER_SRP_AUTH`` here (moto's SRP is a stub that accepts any
                               password proof); ``USER_PASSWORD_AUTH``, ``REFRESH_TOKEN_AUTH``:
                               moto
``RespondToAuthChallenge``     ``PASSWORD_VERIFIER`` here (real SRP-6a, Cognito's variant); any
                               other challenge (``NEW_PASSWORD_REQUIRED``, MFA): moto
``GetUser``, ``GlobalSignOut``,  moto
``ChangePassword``
``RevokeToken``                here, on moto's token store (moto lacks it; Amplify's
                               ``signOut`` calls it)
=============================  ===============================================================

Any other operation answers ``UnknownOperationException`` (JSON, ``x-amzn-ErrorType``). With
``PreventUserExistenceErrors`` on the client (the scaffold's template), an unknown user signing in
gets ``NotAuthorizedException`` as from Cognito, not moto's ``UserNotFoundException``.

**Confirmation codes.** Nothing is e-mailed: ``SignUp`` and ``ResendConfirmationCode`` make a
6-digit code and write it to the endpoint's log, one line
``[modelauth] user pool: confirmation code for <username>: <code>``; ``ConfirmSignUp`` with
another code answers ``CodeMismatchException``. :meth:`LocalUserPoolApi.confirmation_code`
gives it to code in the same process (tests).

After a successful SRP proof the tokens are moto's (an internal ``USER_PASSWORD_AUTH`` with the
user's stored password): the same signing key, claims and refresh tokens as every other sign-in.

Example (boto3)::

    idp = boto3.client("cognito-idp", endpoint_url=server.root_url, region_name="us-east-1")
    idp.sign_up(ClientId=client_id, Username="zoe", Password="Passw0rd!",
                UserAttributes=[{"Name": "email", "Value": "zoe@example.com"}])
    idp.confirm_sign_up(ClientId=client_id, Username="zoe",
                        ConfirmationCode=server.user_pool.confirmation_code("zoe"))
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "zoe", "PASSWORD": "Passw0rd!"})
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelauth.local.identitypool import JSON_11, Answer, IdentityPoolError, aws_json, aws_json_error

__all__ = ["USER_POOL_TARGET", "LocalUserPoolApi", "srp_signature"]

USER_POOL_TARGET = "AWSCognitoIdentityProviderService."
SESSION_TTL = 180.0  # Cognito's default auth session validity (3 minutes)
_FORWARDED = ("GetUser", "GlobalSignOut", "ChangePassword")
_FLOWS = {  # InitiateAuth flow -> the ExplicitAuthFlows entry that allows it
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
}
_DEFAULT_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")  # none given
_WRONG_PASSWORD = "Incorrect username or password."  # noqa: S105 - a message

# -- SRP-6a as Cognito uses it (RFC 5054 3072-bit group, SHA-256, HKDF "Caldera Derived Key") ---------

#: RFC 3526's 3072-bit MODP prime (the N of Cognito's SRP, and of aws-amplify's and pycognito's)
N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2


def _padded(value: int) -> bytes:
    """The big-endian bytes of ``value`` with a leading zero byte when the top bit is set (the
    two's-complement padding Cognito's clients hash with)."""
    data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return b"\0" + data if data[0] & 0x80 else data


def _h(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"".join(parts)).digest(), "big")


K = _h(_padded(N), _padded(G))


def _private_x(pool_name: str, user_id: str, password: str, salt: int) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).digest()
    return _h(_padded(salt), inner)


def srp_signature(key: bytes, pool_name: str, user_id: str, secret_block: str, timestamp: str) -> str:
    """``PASSWORD_CLAIM_SIGNATURE``: HMAC-SHA256 of pool name, user id, secret block and timestamp
    under the derived key, base64.

    >>> srp_signature(b"k" * 16, "Ab12", "alice", "c2VjcmV0", "Thu Dec 3 14:00:00 UTC 2026")[:12]
    'azKOHHxd2huQ'
    """
    message = pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def _derived_key(premaster: int, u: int) -> bytes:
    """HKDF-SHA256 (salt ``u``, info ``Caldera Derived Key``), the first 16 bytes."""
    prk = hmac.new(_padded(u), _padded(premaster), hashlib.sha256).digest()
    return hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]


@dataclass(frozen=True)
class _SrpSession:
    client_id: str
    username: str
    user_id: str
    a: int  # the client's public value A
    b: int  # our secret
    big_b: int
    verifier: int
    expires: float

    def key(self) -> bytes:
        u = _h(_padded(self.a), _padded(self.big_b))
        premaster = pow(self.a * pow(self.verifier, u, N), self.b, N)
        return _derived_key(premaster, u)


class UserPoolError(IdentityPoolError):
    """A refused user-pool call: the Cognito error type, message and HTTP status."""


# -- the API --------------------------------------------------------------------------------------


class LocalUserPoolApi:
    """The user-pool operations of the embedded pool ``pool_id`` on the moto server ``endpoint``
    (None: the pool is a deployed one, sign in against Cognito itself); thread-safe."""

    def __init__(
        self,
        pool_id: str,
        *,
        region: str,
        account_id: str,
        endpoint: str | None,
        log: Callable[[str], None] = lambda line: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool_id = pool_id
        self.pool_name = pool_id.partition("_")[2]
        self.region = region
        self.account_id = account_id
        self.endpoint = endpoint
        self.log = log
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, str] = {}
        self._sessions: dict[str, _SrpSession] = {}

    def confirmation_code(self, username: str) -> str | None:
        """The pending confirmation code of ``username`` (None when none is pending)."""
        with self._lock:
            return self._codes.get(username)

    # -- the wire --------------------------------------------------------------------------------
    def handle(self, operation: str, body: bytes) -> Answer:
        """One ``AWSCognitoIdentityProviderService.<operation>`` request."""
        handlers: dict[str, Callable[[dict[str, Any], bytes], Answer]] = {
            "SignUp": self._sign_up,
            "ConfirmSignUp": self._confirm_sign_up,
            "ResendConfirmationCode": self._resend_code,
            "InitiateAuth": self._initiate_auth,
            "RespondToAuthChallenge": self._respond_to_challenge,
            "RevokeToken": self._revoke_token,
        }
        try:
            handler = handlers.get(operation)
            if handler is None and operation in _FORWARDED:
                handler = self._forwarded(operation)
            if handler is None:
                served = ", ".join(sorted([*handlers, *_FORWARDED]))
                raise UserPoolError(
                    "UnknownOperationException",
                    f"{operation} is not served by the local user pool ({served})",
                )
            if self.endpoint is None:
                raise UserPoolError(
                    "UnknownOperationException",
                    f"the user pool {self.pool_id} is the deployed one (modelauth serve --aws): "
                    f"sign in against https://cognito-idp.{self.region}.amazonaws.com/",
                )
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = None
            if not isinstance(request, dict):
                raise UserPoolError("InvalidParameterException", "The request body is not a JSON object.")
            return handler(request, body)
        except UserPoolError as exc:
            return aws_json_error(exc.code, exc.message, exc.status)

    def _forwarded(self, operation: str) -> Callable[[dict[str, Any], bytes], Answer]:
        return lambda request, body: self._forward(operation, body)

    def _forward(self, operation: str, body: bytes) -> Answer:
        """The request as it came, answered by moto (its status, body and error type)."""
        assert self.endpoint is not None
        request = urllib.request.Request(  # noqa: S310 - the embedded moto server's http URL
            self.endpoint,
            data=body,
            method="POST",
            headers={"X-Amz-Target": USER_POOL_TARGET + operation, "Content-Type": JSON_11},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, payload = error.code, error.headers, error.read()
        answer = {"Content-Type": JSON_11, "x-amzn-RequestId": headers.get("x-amzn-requestid", "")}
        if headers.get("x-amzn-errortype"):
            answer["x-amzn-ErrorType"] = headers["x-amzn-errortype"]
        return status, answer, payload

    # -- moto's state, in this process (the embedded server runs in it) --------------------------
    def _pool(self) -> Any:
        from moto.cognitoidp.models import cognitoidp_backends

        try:
            return cognitoidp_backends[self.account_id][self.region].user_pools[self.pool_id]
        except KeyError:
            raise UserPoolError(
                "ResourceNotFoundException", f"User pool {self.pool_id} does not exist."
            ) from None

    def _client(self, client_id: object) -> Any:
        client = self._pool().clients.get(client_id) if isinstance(client_id, str) else None
        if client is None:
            raise UserPoolError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
        return client

    def _user(self, client: Any, username: object) -> Any:
        user = self._pool()._get_user(username) if isinstance(username, str) and username else None
        if user is None:
            if client.extended_config.get("PreventUserExistenceErrors") == "ENABLED":
                raise UserPoolError("NotAuthorizedException", _WRONG_PASSWORD)
            raise UserPoolError("UserNotFoundException", "User does not exist.")
        return user

    # -- sign-up ---------------------------------------------------------------------------------
    def _new_code(self, username: str) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        with self._lock:
            self._codes[username] = code
        self.log(f"user pool: confirmation code for {username}: {code}")
        return code

    def _sign_up(self, request: dict[str, Any], body: bytes) -> Answer:
        answer = self._forward("SignUp", body)
        if answer[0] == 200:
            self._new_code(str(request.get("Username")))
        return answer

    def _confirm_sign_up(self, request: dict[str, Any], body: bytes) -> Answer:
        username = str(request.get("Username"))
        with self._lock:
            expected = self._codes.get(username)
        if expected is None:
            user = self._user(self._client(request.get("ClientId")), username)
            raise UserPoolError(
                "NotAuthorizedException", f"User cannot be confirmed. Current status is {user.status.value}"
            )
        if not hmac.compare_digest(str(request.get("ConfirmationCode", "")), expected):
            raise UserPoolError(
                "CodeMismatchException", "Invalid verification code provided, please try again."
            )
        answer = self._forward("ConfirmSignUp", body)
        if answer[0] == 200:
            with self._lock:
                self._codes.pop(username, None)
        return answer

    def _resend_code(self, request: dict[str, Any], body: bytes) -> Answer:
        username = str(request.get("Username"))
        user = self._user(self._client(request.get("ClientId")), username)
        with self._lock:
            pending = username in self._codes
        if not pending:
            raise UserPoolError("InvalidParameterException", "User is already confirmed.")
        self._new_code(username)
        email = user.attribute_lookup.get("email", "")
        details = {"Destination": _masked(email), "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        return aws_json(200, {"CodeDeliveryDetails": details})

    # -- sign-in ---------------------------------------------------------------------------------
    def _initiate_auth(self, request: dict[str, Any], body: bytes) -> Answer:
        client = self._client(request.get("ClientId"))
        flow = request.get("AuthFlow")
        if flow not in _FLOWS:
            raise UserPoolError(
                "InvalidParameterException", f"{flow} is not an auth flow the local pool serves"
            )
        allowed = client.extended_config.get("ExplicitAuthFlows") or _DEFAULT_FLOWS
        if _FLOWS[str(flow)] not in allowed and str(flow) not in allowed:  # legacy names: USER_PASSWORD_AUTH
            raise UserPoolError("InvalidParameterException", f"{flow} flow not enabled for this client")
        parameters = request.get("AuthParameters")
        if not isinstance(parameters, dict):
            raise UserPoolError("InvalidParameterException", "AuthParameters is required")
        if flow == "USER_SRP_AUTH":
            return self._srp_challenge(client, parameters)
        if flow == "USER_PASSWORD_AUTH":
            self._user(client, parameters.get("USERNAME"))  # unknown users as Cognito answers them
        return self._forward("InitiateAuth", body)

    def _srp_challenge(self, client: Any, parameters: Mapping[str, Any]) -> Answer:
        user = self._signing_in(client, parameters)
        try:
            a = int(str(parameters.get("SRP_A")), 16)
        except ValueError:
            raise UserPoolError("InvalidParameterException", "SRP_A is not a hex number") from None
        if a % N == 0:
            raise UserPoolError("InvalidParameterException", "SRP_A is not a valid SRP value")
        salt = secrets.randbits(128)
        verifier = pow(G, _private_x(self.pool_name, user.username, user.password or "", salt), N)
        b = secrets.randbelow(N - 2) + 2
        big_b = (K * verifier + pow(G, b, N)) % N
        secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
        now = self._clock()
        session = _SrpSession(
            client.id, user.username, user.username, a, b, big_b, verifier, now + SESSION_TTL
        )
        with self._lock:
            self._sessions = {k: v for k, v in self._sessions.items() if v.expires > now}
            self._sessions[secret_block] = session
        parameters_out = {
            "SALT": format(salt, "x"),
            "SRP_B": format(big_b, "x"),
            "SECRET_BLOCK": secret_block,
            "USER_ID_FOR_SRP": user.username,
            "USERNAME": user.username,
        }
        return aws_json(200, {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": parameters_out})

    def _signing_in(self, client: Any, parameters: Mapping[str, Any]) -> Any:
        """The user that starts signing in, refused as Cognito refuses (secret hash, disabled,
        not confirmed)."""
        username = parameters.get("USERNAME")
        if client.generate_secret:
            from moto.cognitoidp.utils import check_secret_hash

            if not check_secret_hash(client.secret, client.id, str(username), parameters.get("SECRET_HASH")):
                raise UserPoolError(
                    "NotAuthorizedException", f"Unable to verify secret hash for client {client.id}"
                )
        user = self._user(client, username)
        if not user.enabled:
            raise UserPoolError("NotAuthorizedException", "User is disabled.")
        if user.status.value == "UNCONFIRMED":
            raise UserPoolError("UserNotConfirmedException", "User is not confirmed.")
        return user

    def _respond_to_challenge(self, request: dict[str, Any], body: bytes) -> Answer:
        if request.get("ChallengeName") != "PASSWORD_VERIFIER":
            return self._forward("RespondToAuthChallenge", body)  # moto's own challenges and sessions
        responses = request.get("ChallengeResponses")
        responses = responses if isinstance(responses, dict) else {}
        with self._lock:
            session = self._sessions.pop(str(responses.get("PASSWORD_CLAIM_SECRET_BLOCK")), None)
        if (
            session is None
            or session.expires <= self._clock()
            or session.client_id != request.get("ClientId")
        ):
            raise UserPoolError("NotAuthorizedException", "Invalid session for the user, session is expired.")
        if responses.get("USERNAME") not in (session.username, session.user_id):
            raise UserPoolError("NotAuthorizedException", _WRONG_PASSWORD)
        expected = srp_signature(
            session.key(),
            self.pool_name,
            session.user_id,
            str(responses.get("PASSWORD_CLAIM_SECRET_BLOCK")),
            str(responses.get("TIMESTAMP", "")),
        )
        if not hmac.compare_digest(expected, str(responses.get("PASSWORD_CLAIM_SIGNATURE", ""))):
            raise UserPoolError("NotAuthorizedException", _WRONG_PASSWORD)
        client = self._client(session.client_id)
        user = self._signing_in(client, {**responses, "USERNAME": session.username})
        # proven: the tokens (or moto's next challenge) as any other sign-in gets them
        parameters = {"USERNAME": session.username, "PASSWORD": user.password or ""}
        if client.generate_secret:
            parameters["SECRET_HASH"] = str(responses.get("SECRET_HASH"))
        sign_in = {
            "ClientId": session.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": parameters,
        }
        return self._forward("InitiateAuth", json.dumps(sign_in).encode())

    def _revoke_token(self, request: dict[str, Any], body: bytes) -> Answer:
        """``RevokeToken``: the refresh token and the access tokens issued with it stop working."""
        import jwt

        client = self._client(request.get("ClientId"))
        pool = self._pool()
        token = request.get("Token")
        issued = pool.refresh_tokens.get(token) if isinstance(token, str) else None
        if issued is None or issued[0] != client.id:
            raise UserPoolError("UnauthorizedException", "Invalid token")
        pool.refresh_tokens[token] = None
        origin = issued[2]
        for access_token in list(pool.access_tokens):
            if jwt.decode(access_token, options={"verify_signature": False}).get("origin_jti") == origin:
                pool.access_tokens.pop(access_token, None)
        return aws_json(200, {})


def _masked(email: str) -> str:
    """``a***@e***`` as Cognito shows a code's destination."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain[:1]}***" if domain else "***"
