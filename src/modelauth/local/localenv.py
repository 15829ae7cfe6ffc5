"""``modelauth local-env``: what ``sam local invoke`` needs to run the functions against moto.

It creates every model's table (and the index table) in a DynamoDB at ``--endpoint`` (a
``moto_server``, or one it starts itself with ``--start``), and writes the ``--env-vars`` file:
for each function of the template, the variables it declares (SAM overrides no others), with

- ``AWS_ENDPOINT_URL_DYNAMODB``: the endpoint as a Lambda container reaches it (the Docker
  bridge's gateway, or ``--container-host``);
- ``TABLE_*`` / ``INDEX_TABLE``: the tables just created;
- ``USER_POOL_ID``, ``USER_POOL_CLIENT_IDS``, ``IDENTITY_POOL_ID``, ``AUTH_ROLE_ARNS`` /
  ``UNAUTH_ROLE_ARNS``, ``NEXT_TOKEN_SECRET``: the :class:`~modelauth.local.events.LocalConfig`
  the sample events of ``modelauth events`` were made with, so each caller is read as the mode
  its file names;
- ``MODELAUTH_JWKS`` (moto's Cognito keys, which signed the events' tokens) and
  ``MODELAUTH_API_KEYS`` (the record of the config's authorizer key) for the Lambda authorizer;
- ``MODELAUTH_SCHEMA``: the project's schema.

Example::

    >>> refs = LocalRefs({"UserPool": "us-east-1_X"})
    >>> refs["UserPool"], refs["TodoTable"]     # unknown logical ids name themselves
    ('us-east-1_X', 'TodoTable')
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from modelauth.local import create_tables, moto_jwks
from modelauth.local.events import LocalConfig
from modelauth.local.samtemplate import SamTemplate, TemplateError
from modelauth.project import ProjectError
from modelauth.rules import Schema
from modelauth.store import INDEX_TABLE, index_fields

__all__ = ["LocalRefs", "container_endpoint", "docker_bridge_gateway", "env_vars", "local_env"]

DEFAULT_PORT = 5005
_AUTHORIZER_KEY_EXPIRES = "2100-01-01T00:00:00Z"


class LocalRefs(dict[str, str]):
    """Template references resolved locally: a resource nobody named is its own logical id."""

    def __missing__(self, key: str) -> str:
        return key.split(".", 1)[0]


def docker_bridge_gateway() -> str:
    """The host's address on Docker's default bridge, as a container sees it: IPAM's gateway,
    else the address of the bridge's host interface (docker0). Raises ``RuntimeError``."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(  # noqa: S603 - fixed docker/ip commands, no shell
                args, capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{args[0]} failed: {exc}") from exc

    inspect = run("docker", "network", "inspect", "bridge")
    if inspect.returncode != 0:
        raise RuntimeError(
            f"docker network inspect bridge failed ({inspect.stderr.strip()}): "
            "is the Docker daemon running? Or pass --container-host"
        )
    (bridge,) = json.loads(inspect.stdout)
    gateways = [c["Gateway"] for c in (bridge.get("IPAM") or {}).get("Config") or () if c.get("Gateway")]
    if gateways:
        return str(gateways[0])
    interface = (bridge.get("Options") or {}).get("com.docker.network.bridge.name", "docker0")
    addr = run("ip", "-4", "-o", "addr", "show", interface)
    # "5: docker0    inet 172.17.0.1/16 brd ..." -> 172.17.0.1
    words = addr.stdout.split()
    if addr.returncode != 0 or "inet" not in words:
        raise RuntimeError(f"cannot find the address of {interface}: pass --container-host")
    return words[words.index("inet") + 1].split("/")[0]


def container_endpoint(endpoint: str, container_host: str) -> str:
    """``endpoint`` (as this machine reaches it) as a Lambda container reaches it.

    >>> container_endpoint("http://127.0.0.1:5005", "172.17.0.1")
    'http://172.17.0.1:5005'
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
        raise ProjectError(f"--endpoint {endpoint!r} is not http(s)://HOST:PORT")
    return f"{parts.scheme}://{container_host}:{parts.port}"


def _refs(template: SamTemplate, config: LocalConfig) -> LocalRefs:
    refs = LocalRefs(template.parameter_defaults())
    refs.update(
        {
            "AWS::Region": config.region,
            "AWS::AccountId": config.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "modelauth-local",
            "{{resolve}}": config.next_token_secret,
        }
    )
    provider = f"cognito-idp.{config.region}.amazonaws.com/{config.user_pool_id}"
    for pool in template.of_type("AWS::Cognito::UserPool"):
        refs.update(
            {pool: config.user_pool_id, f"{pool}.ProviderName": provider, f"{pool}.ProviderURL": provider}
        )
        refs[f"{pool}.Arn"] = (
            f"arn:aws:cognito-idp:{config.region}:{config.account_id}:userpool/{config.user_pool_id}"
        )
    refs.update(dict.fromkeys(template.of_type("AWS::Cognito::UserPoolClient"), config.client_id))
    refs.update(dict.fromkeys(template.of_type("AWS::Cognito::IdentityPool"), config.identity_pool_id))
    for attachment in template.of_type("AWS::Cognito::IdentityPoolRoleAttachment").values():
        for kind, role in (("authenticated", config.auth_role), ("unauthenticated", config.unauth_role)):
            arn = (attachment.get("Roles") or {}).get(kind)
            if isinstance(arn, Mapping) and "Fn::GetAtt" in arn:
                logical = str(arn["Fn::GetAtt"][0])
                refs.update({logical: role, f"{logical}.Arn": config.role_arn(role)})
    return refs


def env_vars(
    template: SamTemplate, config: LocalConfig, *, dynamodb_endpoint: str, schema_ref: str
) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` content: per function, the declared variables with local values."""
    refs = _refs(template, config)
    api_key_record = {
        "id": "local",
        "sha256": _sha256(config.authorizer_api_key),
        "expires": _AUTHORIZER_KEY_EXPIRES,
    }
    local = {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "USER_POOL_ID": config.user_pool_id,
        "USER_POOL_CLIENT_IDS": config.client_id,
        "IDENTITY_POOL_ID": config.identity_pool_id,
        "AUTH_ROLE_ARNS": config.role_arn(config.auth_role),
        "UNAUTH_ROLE_ARNS": config.role_arn(config.unauth_role),
        "NEXT_TOKEN_SECRET": config.next_token_secret,
        "MODELAUTH_JWKS": json.dumps(moto_jwks()),
        "MODELAUTH_API_KEYS": json.dumps({"keys": [api_key_record]}),
        "MODELAUTH_SCHEMA": schema_ref,
    }
    result: dict[str, dict[str, str]] = {}
    for name, function in template.functions.items():
        variables: dict[str, str] = {}
        for key, value in function.environment.items():
            if key in local:
                variables[key] = local[key]
                continue
            try:
                variables[key] = str(template.resolve(value, refs))
            except TemplateError:
                continue  # SAM keeps the template's value
        result[name] = variables
    return result


def _sha256(key: str) -> str:
    from modelauth.apikeys import hash_api_key

    return hash_api_key(key)


def _table_names(schema: Schema, variables: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, str], str]:
    """The model → table map and the index table the functions are told to use."""
    merged: dict[str, str] = {}
    for function_vars in variables.values():
        merged.update(function_vars)
    names = {m.name: merged.get(f"TABLE_{m.name.upper()}", m.name) for m in schema.models}
    return names, merged.get("INDEX_TABLE", INDEX_TABLE)


def _warn_undeclared(variables: Mapping[str, Mapping[str, str]], out: IO[str]) -> None:
    for name, function_vars in variables.items():
        uses_tables = any(key.startswith("TABLE_") for key in function_vars)
        if uses_tables and "AWS_ENDPOINT_URL_DYNAMODB" not in function_vars:
            print(
                f"warning: {name} does not declare AWS_ENDPOINT_URL_DYNAMODB, so sam local invoke "
                "can't point it at the local DynamoDB: declare it (empty) in the template",
                file=out,
            )


def _write(path: Path, content: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent.name == ".modelauth" and not (path.parent / ".gitignore").exists():
        (path.parent / ".gitignore").write_text("*\n")
    temporary = path.with_suffix(".tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump(content, file, indent=2)
        file.write("\n")
    temporary.replace(path)


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is below it (what to type next)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def local_env(
    template: SamTemplate,
    schema: Schema,
    config: LocalConfig,
    *,
    schema_ref: str,
    output: Path,
    endpoint: str | None = None,
    container_host: str | None = None,
    start: bool = False,
    port: int = DEFAULT_PORT,
    out: IO[str] = sys.stdout,
) -> int:
    """Create the tables, write the env-vars file; with ``start``, serve moto until Ctrl-C."""
    import boto3
    from botocore.exceptions import EndpointConnectionError

    host = container_host or docker_bridge_gateway()
    server = None
    if start:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per AWS call

        # on the bridge's address when there is one: containers reach it, the LAN does not
        bind = host if _is_ip(host) else "127.0.0.1"
        server = ThreadedMotoServer(ip_address=bind, port=port, verbose=False)
        server.start()
        endpoint = f"http://{bind}:{port}"
    if endpoint is None:
        raise ProjectError("pass --endpoint URL (a running moto_server) or --start")
    try:
        variables = env_vars(
            template,
            config,
            dynamodb_endpoint=container_endpoint(endpoint, host),
            schema_ref=schema_ref,
        )
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=config.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto checks no credentials
        )
        names, index_table = _table_names(schema, variables)
        try:
            create_tables(client, schema, names, index_table=index_table)
        except EndpointConnectionError:
            raise RuntimeError(
                f"cannot reach {endpoint}: start `moto_server -H 0.0.0.0 -p PORT` or use --start"
            ) from None
        _write(output, variables)
        output = _shown(output)
        _warn_undeclared(variables, sys.stderr)
        needs_index = any(index_fields(m) for m in schema.models)
        tables = sorted({*names.values(), *([index_table] if needs_index else [])})
        print(f"tables in {endpoint} ({config.region}): {', '.join(tables)}", file=out)
        print(
            f"wrote {output} for {', '.join(variables)} (DynamoDB {container_endpoint(endpoint, host)})",
            file=out,
        )
        function = next(iter(template.resolvers.values()), next(iter(variables), "Function"))
        print(
            f"  sam local invoke {function} -e events/<event>.json --env-vars {output} "
            f"--region {config.region}",
            file=out,
        )
        if server is not None:
            print("moto is running; Ctrl-C stops it (its data is gone then)", file=out, flush=True)
            while True:
                time.sleep(3600)
    finally:
        if server is not None:
            server.stop()
    return 0
