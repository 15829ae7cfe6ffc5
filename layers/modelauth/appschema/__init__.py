"""The app's models and their rules: the one source of truth for resolvers, tables and SDL.

Edit this file to change who may do what; ``make schema`` regenerates graphql/schema.graphql.
"""

from __future__ import annotations

from modelauth.rules import Field, Model, Schema, allow

__all__ = ["SCHEMA", "TODO"]

#: A to-do list: each signed-in user owns theirs; anyone with the API key may read.
TODO = Model(
    "Todo",
    fields=[Field("content"), Field("done", "Boolean")],
    rules=[allow.owner(), allow.public_api_key().to(["read"])],
)

SCHEMA = Schema(models=(TODO,))
