"""Lambda authorizer for AppSync (AWS_LAMBDA), API Gateway REST (TOKEN/REQUEST) and HTTP APIs.

The caller is told apart by the event's shape (modelauth.authorizer.detect_caller) and answered in
its own format; configuration comes from the environment (see LambdaAuthorizer.from_env).
"""

from typing import Any

from modelauth.authorizer import LambdaAuthorizer

authorizer = LambdaAuthorizer.from_env()  # the schema: $MODELAUTH_SCHEMA (template Globals)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return authorizer.handle(event)
