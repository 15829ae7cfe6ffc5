"""REST API (API Gateway REST, payload 1.0) and HTTP API (payload 2.0) for every model of the app."""

from typing import Any

from modelauth.rest import RestApp

app = RestApp.from_env()  # the schema: $MODELAUTH_SCHEMA (template Globals)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
