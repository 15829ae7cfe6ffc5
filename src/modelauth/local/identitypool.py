"""The local endpoint's identity pool and STS: it issues the AWS credentials IAM callers sign
with, and remembers whom each access key belongs to.

It speaks the wire protocols of Cognito Identity (``GetId``, ``GetCredentialsForIdentity``,
JSON 1.1) and of STS (``AssumeRole``, query/XML), so boto3 clients (and Amplify) pointed at the
local endpoint work unchanged. Identity ids come from ``new_identity_id`` (moto's cognito-identity
``GetId`` in the embedded backend); the credentials are minted here, because moto hands every
identity the same fixed key pair and a signature could not tell callers apart. Nothing is
persisted: credentials die with the server (or after ``ttl`` seconds).

- guest: ``GetId`` without logins → a new unauthenticated identity → credentials of the
  unauth role;
- signed-in user: ``Logins = {"cognito-idp.<region>.amazonaws.com/<pool>": <ID token>}``, the
  token verified by ``verify_login``; one identity per user (``sub``), auth role;
- backend role: ``AssumeRole`` of a role the pool knows (e.g. a resource role of the rules).

Example::

    >>> pool = LocalIdentityPool(
    ...     "us-east-1:0000", account_id="123456789012", region="us-east-1",
    ...     auth_role=Role("authRole", "AROAAUTH"), unauth_role=Role("unauthRole", "AROAUNAUTH"),
    ...     login_provider="cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12",
    ...     verify_login=lambda token: {"sub": "A1"})
    >>> guest = pool.get_id()
    >>> creds = pool.get_credentials(guest)["Credentials"]
    >>> pool.identity_of(creds["AccessKeyId"]).auth_type
    'unauthenticated'
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from modelauth.local.sigv4 import SigningKey

__all__ = ["IdentityPoolError", "IssuedIdentity", "LocalIdentityPool", "Role", "aws_json", "aws_json_error"]

COGNITO_TARGET = "AWSCognitoIdentityService."
JSON_11 = "application/x-amz-json-1.1"
#: (status, headers, body) of one answer on the wire
Answer = tuple[int, dict[str, str], bytes]


def aws_json(status: int, body: Mapping[str, Any], content_type: str = JSON_11) -> Answer:
    """An answer in the AWS JSON protocol (1.1 unless told), with its request id.

    >>> aws_json(200, {"IdentityId": "us-east-1:1"})[2]
    b'{"IdentityId": "us-east-1:1"}'
    """
    headers = {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}
    return status, headers, json.dumps(body).encode()


def aws_json_error(code: str, message: str, status: int = 400, content_type: str = JSON_11) -> Answer:
    """An error in the AWS JSON protocol as AWS services answer it: ``{"__type", "message"}`` and
    the ``x-amzn-ErrorType`` header (what botocore and Amplify read the error's name from).

    >>> status, headers, body = aws_json_error("NotAuthorizedException", "Invalid login token.")
    >>> status, headers["x-amzn-ErrorType"], json.loads(body)["__type"]
    (400, 'NotAuthorizedException', 'NotAuthorizedException')
    """
    status, headers, body = aws_json(status, {"__type": code, "message": message}, content_type)
    return status, {**headers, "x-amzn-ErrorType": code}, body


_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_UPPER_DIGITS = string.ascii_uppercase + string.digits


class IdentityPoolError(Exception):
    """A refused identity-pool or STS call, with the AWS error code the client expects."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Role:
    """An IAM role: its name and unique id (``AROA…``, the first half of AppSync's ``username``)."""

    name: str
    role_id: str

    def arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{self.name}"

    def session_arn(self, account_id: str, session: str) -> str:
        return f"arn:aws:sts::{account_id}:assumed-role/{self.name}/{session}"


@dataclass(frozen=True, slots=True)
class IssuedIdentity:
    """Whom a set of issued credentials belongs to, as AppSync reports it (spec §7.1)."""

    account_id: str
    user_arn: str
    username: str
    identity_pool_id: str | None = None
    identity_id: str | None = None
    auth_type: str | None = None
    auth_provider: str | None = None

    def appsync_identity(self, source_ip: str) -> dict[str, Any]:
        """The ``identity`` of an AppSync event for a caller signing with these credentials."""
        return {
            "accountId": self.account_id,
            "cognitoIdentityPoolId": self.identity_pool_id,
            "cognitoIdentityId": self.identity_id,
            "cognitoIdentityAuthType": self.auth_type,
            "cognitoIdentityAuthProvider": self.auth_provider,
            "sourceIp": [source_ip],
            "username": self.username,
            "userArn": self.user_arn,
        }

    @property
    def label(self) -> str:
        """Short text for logs: ``guest us-east-1:…``, ``authenticated …``, or the role session."""
        if self.identity_id is None:
            return self.user_arn.rpartition(":")[2]
        kind = "guest" if self.auth_type == "unauthenticated" else "authenticated"
        return f"{kind} {self.identity_id}"


@dataclass(frozen=True, slots=True)
class _Identity:
    identity_id: str
    sub: str | None  # None: a guest identity


class LocalIdentityPool:
    """One identity pool (linked to one user pool) plus STS for backend roles; thread-safe."""

    def __init__(
        self,
        pool_id: str,
        *,
        account_id: str,
        region: str,
        auth_role: Role,
        unauth_role: Role,
        login_provider: str,
        verify_login: Callable[[str], Mapping[str, Any]],
        new_identity_id: Callable[[], str] | None = None,
        assumable_roles: Mapping[str, Role] | None = None,
        ttl: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pool_id = pool_id
        self.account_id = account_id
        self.region = region
        self.auth_role = auth_role
        self.unauth_role = unauth_role
        self.login_provider = login_provider
        self.verify_login = verify_login
        self.new_identity_id = new_identity_id or (lambda: f"{region}:{uuid.uuid4()}")
        self.assumable_roles = dict(assumable_roles or {})
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._identities: dict[str, _Identity] = {}
        self._by_sub: dict[str, str] = {}
        self._issued: dict[str, tuple[SigningKey, IssuedIdentity]] = {}

    # -- what the verifier and the server ask ----------------------------------------------------
    def lookup(self, access_key_id: str) -> SigningKey | None:
        """The issued key (with its secret) for a SigV4 verifier; None when never issued."""
        with self._lock:
            issued = self._issued.get(access_key_id)
        return issued[0] if issued else None

    def identity_of(self, access_key_id: str) -> IssuedIdentity | None:
        """Whom the credentials with this access key id were issued to."""
        with self._lock:
            issued = self._issued.get(access_key_id)
        return issued[1] if issued else None

    # -- Cognito Identity ------------------------------------------------------------------------
    def get_id(self, pool_id: str | None = None, logins: Mapping[str, str] | None = None) -> str:
        """``GetId``: the user's identity (one per ``sub``), or a new guest identity."""
        if pool_id is not None and pool_id != self.pool_id:
            raise IdentityPoolError("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
        sub = self._login_sub(logins)
        with self._lock:
            if sub is not None and sub in self._by_sub:
                return self._by_sub[sub]
        identity_id = self.new_identity_id()
        with self._lock:
            self._identities[identity_id] = _Identity(identity_id, sub)
            if sub is not None:
                self._by_sub[sub] = identity_id
        return identity_id

    def get_credentials(self, identity_id: str, logins: Mapping[str, str] | None = None) -> dict[str, Any]:
        """``GetCredentialsForIdentity``: fresh credentials for the identity's role."""
        with self._lock:
            identity = self._identities.get(identity_id)
        if identity is None:
            raise IdentityPoolError("ResourceNotFoundException", f"Identity '{identity_id}' not found.")
        sub = self._login_sub(logins)
        if sub != identity.sub:
            # a user's identity needs the user's login; a guest identity takes none
            raise IdentityPoolError("NotAuthorizedException", "Logins don't match the identity.")
        role = self.unauth_role if sub is None else self.auth_role
        provider = None
        if sub is not None:
            provider = f'"{self.login_provider}","{self.login_provider}:CognitoSignIn:{sub}"'
        issued = IssuedIdentity(
            account_id=self.account_id,
            user_arn=role.session_arn(self.account_id, "CognitoIdentityCredentials"),
            username=f"{role.role_id}:CognitoIdentityCredentials",
            identity_pool_id=self.pool_id,
            identity_id=identity_id,
            auth_type="unauthenticated" if sub is None else "authenticated",
            auth_provider=provider,
        )
        key = self._issue(issued)
        return {"IdentityId": identity_id, "Credentials": _cognito_credentials(key)}

    def _login_sub(self, logins: Mapping[str, str] | None) -> str | None:
        if not logins:
            return None
        if set(logins) != {self.login_provider}:
            raise IdentityPoolError("NotAuthorizedException", "Invalid login provider.")
        try:
            claims = self.verify_login(logins[self.login_provider])
        except Exception:  # any verification failure is the same refusal (fail closed)
            raise IdentityPoolError("NotAuthorizedException", "Invalid login token.") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise IdentityPoolError("NotAuthorizedException", "Invalid login token.")
        return sub

    # -- STS -------------------------------------------------------------------------------------
    def assume_role(self, role_arn: str, session_name: str) -> tuple[SigningKey, IssuedIdentity]:
        """``AssumeRole`` of a backend role this pool knows (by name or ARN)."""
        name = role_arn.rpartition("/")[2] if role_arn.startswith("arn:") else role_arn
        role = self.assumable_roles.get(name)
        if role is None or (role_arn.startswith("arn:") and role_arn != role.arn(self.account_id)):
            raise IdentityPoolError("AccessDenied", f"Not authorized to assume {role_arn}", 403)
        if not _SESSION_NAME.fullmatch(session_name):
            raise IdentityPoolError("ValidationError", "RoleSessionName must be 2-64 of [\\w+=,.@-]")
        issued = IssuedIdentity(
            account_id=self.account_id,
            user_arn=role.session_arn(self.account_id, session_name),
            username=f"{role.role_id}:{session_name}",
        )
        return self._issue(issued), issued

    def _issue(self, identity: IssuedIdentity) -> SigningKey:
        key = SigningKey(
            access_key_id="ASIA" + "".join(secrets.choice(_UPPER_DIGITS) for _ in range(16)),
            secret_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(48),
            expires=self._clock() + self.ttl,
        )
        with self._lock:
            now = self._clock()
            self._issued = {k: v for k, v in self._issued.items() if (v[0].expires or now + 1) > now}
            self._issued[key.access_key_id] = (key, identity)
        return key

    # -- wire protocols --------------------------------------------------------------------------
    def handle(self, headers: Mapping[str, str], body: bytes) -> Answer:
        """One Cognito Identity (``x-amz-target``) or STS (form ``Action=``) request:
        ``(status, headers, body)``, errors in each one's protocol."""
        target = headers.get("x-amz-target", "")
        try:
            if target.startswith(COGNITO_TARGET):
                return self._cognito(target.removeprefix(COGNITO_TARGET), body)
            return self._sts(body)
        except IdentityPoolError as exc:
            if target.startswith(COGNITO_TARGET):
                return aws_json_error(exc.code, exc.message, exc.status)
            return exc.status, {"Content-Type": "text/xml"}, _sts_error(exc).encode()

    def _cognito(self, operation: str, body: bytes) -> Answer:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise IdentityPoolError("InvalidParameterException", "The request body is not JSON.") from None
        if not isinstance(request, dict):
            raise IdentityPoolError("InvalidParameterException", "The request body is not an object.")
        logins = request.get("Logins")
        if logins is not None and not (
            isinstance(logins, dict) and all(isinstance(v, str) for v in logins.values())
        ):
            raise IdentityPoolError("InvalidParameterException", "Logins must map providers to tokens.")
        if operation == "GetId":
            result: dict[str, Any] = {"IdentityId": self.get_id(str(request.get("IdentityPoolId")), logins)}
        elif operation == "GetCredentialsForIdentity":
            result = self.get_credentials(str(request.get("IdentityId")), logins)
        else:
            raise IdentityPoolError(
                "UnknownOperationException",
                f"{operation} is not served by the local identity pool (GetId, GetCredentialsForIdentity)",
            )
        return aws_json(200, result)

    def _sts(self, body: bytes) -> Answer:
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("Action") != "AssumeRole":
            raise IdentityPoolError("InvalidAction", f"{form.get('Action')!r} is not supported locally")
        key, identity = self.assume_role(form.get("RoleArn", ""), form.get("RoleSessionName", ""))
        return 200, {"Content-Type": "text/xml"}, _assume_role_response(key, identity).encode()


def _expiration(key: SigningKey) -> datetime:
    return datetime.fromtimestamp(key.expires or 0, UTC)


def _cognito_credentials(key: SigningKey) -> dict[str, Any]:
    return {
        "AccessKeyId": key.access_key_id,
        "SecretKey": key.secret_key,
        "SessionToken": key.session_token,
        "Expiration": key.expires,
    }


_STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def _assume_role_response(key: SigningKey, identity: IssuedIdentity) -> str:
    expiration = _expiration(key).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<AssumeRoleResponse xmlns="{_STS_NS}"><AssumeRoleResult><Credentials>'
        f"<AccessKeyId>{key.access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{escape(key.secret_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(key.session_token or '')}</SessionToken>"
        f"<Expiration>{expiration}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>{escape(identity.username)}</AssumedRoleId>"
        f"<Arn>{escape(identity.user_arn)}</Arn></AssumedRoleUser></AssumeRoleResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )


def _sts_error(exc: IdentityPoolError) -> str:
    return (
        f'<ErrorResponse xmlns="{_STS_NS}"><Error><Type>Sender</Type><Code>{escape(exc.code)}</Code>'
        f"<Message>{escape(exc.message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
