"""One exception tree for modelauth, mapped to AppSync and HTTP errors in one place.

Every error a caller can see is a :class:`ModelAuthError`. Each subclass carries the GraphQL
``errorType`` AppSync clients expect and the HTTP status API Gateway callers get, so resolvers
raise and never choose status codes themselves.

Example::

    >>> err = Unauthorized.for_field("getTodo", "Query")
    >>> err.as_graphql_error()
    {'message': 'Not Authorized to access getTodo on type Query', 'errorType': 'Unauthorized'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

__all__ = [
    "BadRequest",
    "ConditionFailed",
    "ConditionNotMet",
    "Conflict",
    "IdentityError",
    "ModelAuthError",
    "NotFound",
    "OperationDisabled",
    "RetryableError",
    "Unauthenticated",
    "Unauthorized",
    "UnauthorizedFields",
]


class ModelAuthError(Exception):
    """Base of every error modelauth reports to a client."""

    error_type: ClassVar[str] = "InternalFailure"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, reason: str | None = None, data: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        #: why, for logs and ``explain`` (never the client message itself: that stays Amplify's text)
        self.reason = reason or message
        #: extra structured data for the client (e.g. the current item on a version conflict)
        self.data = dict(data) if data else None

    def as_graphql_error(self) -> dict[str, Any]:
        """The ``{"message", "errorType"}`` entry the APPSYNC_JS step passes to ``util.error``."""
        error: dict[str, Any] = {"message": self.message, "errorType": self.error_type}
        if self.data is not None:
            error["errorInfo"] = self.data
        return error

    def as_http_body(self) -> dict[str, Any]:
        """The JSON body for API Gateway callers."""
        body: dict[str, Any] = {"message": self.message, "errorType": self.error_type}
        if self.data is not None:
            body["errorInfo"] = self.data
        return body


class Unauthorized(ModelAuthError):
    """The caller may not do this (Amplify: ``$util.unauthorized()``)."""

    error_type = "Unauthorized"
    http_status = 403

    @classmethod
    def for_field(cls, field_name: str, type_name: str, *, reason: str | None = None) -> Unauthorized:
        return cls(f"Not Authorized to access {field_name} on type {type_name}", reason=reason)


class UnauthorizedFields(Unauthorized):
    """Some input fields may not be written by this caller: ``Unauthorized on [ssn, owner]``."""

    def __init__(self, fields: Iterable[str], *, reason: str | None = None):
        self.fields = tuple(sorted(set(fields)))
        super().__init__(f"Unauthorized on [{', '.join(self.fields)}]", reason=reason)


class Unauthenticated(ModelAuthError):
    """No usable credentials (AppSync answers these with HTTP 401 before any resolver)."""

    error_type = "UnauthorizedException"
    http_status = 401


class IdentityError(Unauthorized):
    """The event's identity is missing, malformed or inconsistent: fail closed."""

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message, reason=reason or message)


class BadRequest(ModelAuthError):
    """The request itself is malformed: unknown field, wrong argument types, bad nextToken."""

    error_type = "BadRequest"
    http_status = 400


class OperationDisabled(BadRequest):
    """The model has this operation turned off (``Model.disable_operations``): REST 405, and
    the GraphQL field is not in the SDL (a direct call gets this typed error)."""

    error_type = "OperationDisabled"
    http_status = 405


class NotFound(ModelAuthError):
    """The item does not exist (REST 404; GraphQL get returns null instead of raising)."""

    error_type = "NotFound"
    http_status = 404


class ConditionFailed(ModelAuthError):
    """A write's existence condition failed while a static rule authorized it (Amplify's text)."""

    error_type = "DynamoDB:ConditionalCheckFailedException"
    http_status = 404

    def __init__(self, message: str = "The conditional request failed", *, reason: str | None = None):
        super().__init__(message, reason=reason)


class ConditionNotMet(ConditionFailed):
    """A mutation's ``condition`` argument did not hold on the stored item (GraphQL: the same
    errorType and text as AppSync's DynamoDB resolvers; REST: 412 Precondition Failed)."""

    http_status = 412


class Conflict(ModelAuthError):
    """Optimistic-concurrency loser: the item changed since the version the caller passed."""

    error_type = "ConflictUnhandled"
    http_status = 409


class RetryableError(ModelAuthError):
    """DynamoDB kept throttling or failing after boto3's retries; safe to retry later."""

    error_type = "ServiceUnavailable"
    http_status = 503
