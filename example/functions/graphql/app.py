"""AppSync resolver for every model of the app (invoked through graphql/invoke.js)."""

from typing import Any

from modelauth.resolvers import GraphQLApp

app = GraphQLApp.from_env()  # the schema: $MODELAUTH_SCHEMA (template Globals)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
