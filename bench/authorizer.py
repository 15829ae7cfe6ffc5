"""Authorizer: verify a real RS256 Cognito access token (moto's user pool, JWKS cached) and build
the AppSync authorizer response, vs a bare ``jwt.decode`` with the same key; and a repeated token
answered from the verified-token cache (keyed by the token's hash, bounded, honouring ``exp``).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import jwt

from bench import common
from bench.common import Config, Section
from modelauth.authorizer import Issuer, LambdaAuthorizer, LruTokenCache, TokenVerifier
from modelauth.local import LocalUserPool, moto_jwks
from modelauth.rules import Schema

GOAL_RATIO = 1.2  # a token seen for the first time: round one's goal, now the floor
GOAL_CACHED = 10e-6
GOAL_DEPLOYED = 0.90  # the authorizer as deployed answering a token it verified before (issue 21)


def cognito_token() -> tuple[LocalUserPool, str]:
    """An access token signed in moto's Cognito for a fresh user pool."""
    from moto import mock_aws

    with mock_aws():
        pool = LocalUserPool.create(boto3.client("cognito-idp"))
        pool.add_user("alice", "Bench-passw0rd!")
        return pool, pool.sign_in("alice", "Bench-passw0rd!")["AccessToken"]


def deployed(pool: LocalUserPool, jwks: dict[str, Any], schema: Schema) -> LambdaAuthorizer:
    """The authorizer as deployed (``LambdaAuthorizer.from_env``, template.yaml's TTL), trusting
    moto's keys."""
    env = {
        "USER_POOL_ID": pool.pool_id,
        "USER_POOL_CLIENT_IDS": pool.client_id,
        "MODELAUTH_JWKS": json.dumps(jwks),
        "MODELAUTH_AUTHORIZER_TTL": "60",
    }
    return LambdaAuthorizer.from_env(schema, environ=env)


def run(config: Config) -> Section:
    from tests.fixtures.schema import SCHEMA

    common.configure_env()
    pool, token = cognito_token()
    jwks = moto_jwks()

    def verifier(cache: LruTokenCache | None = None) -> TokenVerifier:
        issuer = Issuer.cognito(pool.pool_id, [pool.client_id], jwks=jwks, region=pool.region)
        return TokenVerifier([issuer], cache=cache)

    uncached = LambdaAuthorizer(verifier(), schema=SCHEMA)
    cached = LambdaAuthorizer(verifier(LruTokenCache()), schema=SCHEMA)
    as_deployed = deployed(pool, jwks, SCHEMA)
    common.silence_logs()
    event = {**common.load_event("authorizer.appsync"), "authorizationToken": token}
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]].key

    def bare() -> object:
        return jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})

    for authorizer in (uncached, cached, as_deployed):
        answer = authorizer.handle(event)
        assert answer["isAuthorized"] is True, answer

    samplers = {
        "handle": lambda: common.per_call(lambda: uncached.handle(event), config.batch),
        "verify": lambda: common.per_call(lambda: uncached.verifier.verify(token), config.batch),
        "cached verify": lambda: common.per_call(lambda: cached.verifier.verify(token), config.batch * 10),
        "cached handle": lambda: common.per_call(lambda: cached.handle(event), config.batch),
        "deployed": lambda: common.per_call(lambda: as_deployed.handle(event), config.batch),
        "bare": lambda: common.per_call(bare, config.batch),
    }
    samples = common.interleaved_samples(samplers, config.runs)
    handle, verify, hit, hit_handle, as_deployed_handle = (
        common.Comparison.of(samples[name], samples["bare"])
        for name in ("handle", "verify", "cached verify", "cached handle", "deployed")
    )
    section = Section("Authorizer")
    section.rows += [
        common.compared(
            "authorizer: verify + AppSync response",
            handle,
            common.us,
            common.at_most(GOAL_RATIO),
            handle.ratio <= GOAL_RATIO,
        ),
        common.compared(
            "authorizer: repeated token (cache hit)",
            hit,
            common.us,
            f"≤ {GOAL_CACHED * 1e6:.0f} µs",
            hit.measured <= GOAL_CACHED,
        ),
        common.compared("authorizer: repeated token + AppSync response", hit_handle, common.us),
        common.compared(
            "authorizer as deployed: verify + AppSync answer",
            as_deployed_handle,
            common.us,
            common.at_most(GOAL_DEPLOYED),
            as_deployed_handle.ratio <= GOAL_DEPLOYED,
        ),
    ]
    section.details += [
        f"Authorizer: median over {config.runs} runs of {config.batch} calls per side, interleaved; moto "
        "Cognito access token (RS256, kid in moto's JWKS, key set cached); baseline `jwt.decode(token, key, "
        "algorithms=['RS256'])` with the same key.",
        f"  verification alone (no response): {common.us(verify.measured)} = "
        f"{common.times(verify.ratio)} the bare decode; the AppSync response (deniedFields over "
        f"{len(SCHEMA.models)} models) takes the rest.",
        "  'as deployed': `LambdaAuthorizer.from_env` (what the deployed function runs) "
        + ("with" if as_deployed.verifier.cache is not None else "WITHOUT")
        + " its verified-token cache (keyed by the token's hash, bounded, `exp` checked on every hit, "
        "entries no older than the authorizer TTL), answering the same token again, as a warm authorizer "
        "does for a client's requests between two gateway cache misses; the bare decode verifies the "
        "signature every time.",
    ]
    return section
