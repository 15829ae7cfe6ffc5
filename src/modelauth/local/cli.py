"""The ``modelauth`` command: a local AppSync endpoint and the tools around it.

::

    modelauth serve [--port N] [--aws [--stack NAME]]     the local endpoint (see modelauth.local.server)
                    [--tls-cert PEM --tls-key PEM]      ... over https/wss
    modelauth users add NAME [--group G ...]            a user in the local user pool
    modelauth token NAME [--id | --oidc | --lambda] [--group G ...]
    modelauth token --api-key | --lambda-key            the endpoint's keys
    modelauth creds [--user NAME | --role ROLE] [--json]  identity-pool / STS credentials (SigV4)
    modelauth explain [--json] [--model M]              the access matrix
    modelauth explain --as FILE_OR_TOKEN --op OP --model M [--id X | --key F=V ...] [--input JSON]
                      [--via T.f] [--json]
    modelauth demo                                      the walkthrough (make demo)
    modelauth generate [--check] [--force]              SDL, JS and the template's generated regions
    modelauth schema [--output FILE]                    the GraphQL SDL of the models
    modelauth init DIR [--name N] [--package P] [--modelauth SPEC]   a new project
    modelauth events [--output DIR] [--check]           sample events for sam local invoke
    modelauth local-env (--endpoint URL | --start [--port N]) [--container-host H] [--output FILE]
    modelauth api-key-expiry [--days N] [--config-env ENV]   ApiKeyExpiresOn for sam deploy
    modelauth rotate-api-key (--stack NAME | --api-id ID) [--days N | --check [--min-days D]] [--region R]

Errors are one line on stderr and a non-zero exit code, never a traceback.

Example::

    >>> main(["explain", "--model", "Todo", "--json"])  # doctest: +ELLIPSIS
    {
      "Todo": {
    ...
    0
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelauth.local.apikey import ApiKeyError
from modelauth.project import Project, ProjectError
from modelauth.rules import Schema

__all__ = ["main"]

# Top-level modules of the `local` extra: missing ones mean `pip install 'modelauth[local]'`.
_LOCAL_DEPENDENCIES = frozenset({"graphql", "moto", "requests", "yaml", "werkzeug", "flask"})

_OPERATIONS = ("create", "update", "delete", "get", "list", "listen", "sync", "search")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelauth", description="Amplify-grade model authorization, locally"
    )
    parser.add_argument(
        "--schema",
        default=None,
        help="package.module:ATTR (default: [tool.modelauth] schema in pyproject.toml)",
    )
    parser.add_argument(
        "--template", type=Path, default=None, help="the SAM template (default: the project's)"
    )
    parser.add_argument(
        "--state", type=Path, default=None, help="state file (default <project>/.modelauth/local.json)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="the GraphQL API on 127.0.0.1 with every auth mode")
    serve.add_argument("--port", type=_port, default=None, help="default 20002; 0 picks a free port")
    serve.add_argument("--aws", action="store_true", help="use the tables and user pool of a deployed stack")
    serve.add_argument("--stack", default=None, help="stack name for --aws (default: samconfig.toml's)")
    serve.add_argument("--region", default=None, help="default: AWS_DEFAULT_REGION or us-east-1")
    serve.add_argument(
        "--tls-cert", type=Path, help="serve https/wss with this PEM certificate (and --tls-key)"
    )
    serve.add_argument("--tls-key", type=Path, help="the certificate's PEM private key")
    serve.add_argument(
        "--log-level",
        default="WARNING",
        type=str.upper,
        choices=_LOG_LEVELS,
        help="the functions' log level (default WARNING)",
    )

    users = sub.add_parser("users", help="local user-pool users").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="add a confirmed user (password generated, kept in the state)")
    add.add_argument("name")
    add.add_argument("--group", action="append", default=[], help="a user-pool group (repeatable)")
    users.add_parser("list", help="the local users")

    token = sub.add_parser("token", help="a credential for curl: JWT, API key or Lambda-authorizer key")
    token.add_argument("name", nargs="?")
    kind = token.add_mutually_exclusive_group()
    kind.add_argument("--id", dest="kind", action="store_const", const="id", help="Cognito ID token")
    kind.add_argument("--oidc", dest="kind", action="store_const", const="oidc", help="local OIDC issuer")
    kind.add_argument(
        "--lambda", dest="kind", action="store_const", const="lambda", help="for the Lambda authorizer"
    )
    kind.add_argument("--api-key", dest="kind", action="store_const", const="api-key", help="the API key")
    kind.add_argument(
        "--lambda-key", dest="kind", action="store_const", const="lambda-key", help="authorizer key"
    )
    token.add_argument("--group", action="append", default=[], help="groups claim (--oidc / --lambda)")

    creds = sub.add_parser("creds", help="AWS credentials from the local identity pool (or STS)")
    who = creds.add_mutually_exclusive_group()
    who.add_argument("--user", help="signed-in user (authenticated role); default: a guest")
    who.add_argument("--role", help="a backend role to assume (e.g. modelauth-backend)")
    creds.add_argument("--json", action="store_true")

    explain = sub.add_parser("explain", help="the access matrix, or why one request is allowed/denied")
    explain.add_argument("--json", action="store_true")
    explain.add_argument("--model", help="one model (required with --as)")
    explain.add_argument("--as", dest="caller", help="an event JSON file or a credential (JWT, API key)")
    explain.add_argument("--op", choices=_OPERATIONS, help="the operation (with --as)")
    explain.add_argument("--id", dest="item_id", help="the stored item to judge against (running endpoint)")
    explain.add_argument(
        "--key",
        dest="key_parts",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a part of the stored item's key, for a model with a custom identifier (once per key field)",
    )
    explain.add_argument(
        "--via", help="the relationship field it comes through (Post.comments: --model Comment --op list)"
    )
    explain.add_argument("--input", help="create/update input as JSON")

    sub.add_parser("demo", help="the walkthrough: every auth mode and model through the local endpoint")

    imp = sub.add_parser(
        "import",
        help="an Amplify schema (Gen 1 schema.graphql, Gen 2 resource.ts) as a modelauth schema module",
        description="Writes readable Python (ruff-formatted when ruff is installed) using the allow DSL. "
        "What has no modelauth equivalent is listed in the module's header and on stderr.",
    )
    imp.add_argument("source", choices=("amplify-gen1", "amplify-gen2"))
    imp.add_argument("file", type=Path, help="schema.graphql (gen1) or amplify/data/resource.ts (gen2)")
    imp.add_argument("--output", type=Path, default=None, help="write the module here (default: stdout)")
    imp.add_argument(
        "--default-auth-mode",
        default=None,
        choices=("apiKey", "userPools", "oidc", "iam", "lambda"),
        help="the API's default mode, for models without @auth (gen1 default apiKey; gen2: the file's)",
    )
    imp.add_argument(
        "--check",
        action="store_true",
        help="also compare every model x operation x caller decision with Amplify's rule semantics "
        "(table on stderr; exit 1 when one differs)",
    )

    generate = sub.add_parser(
        "generate",
        help="write the SDL, the APPSYNC_JS steps and the template's generated regions from the models",
        description="Regions are '# modelauth:generated begin NAME' ... '# modelauth:generated end NAME' "
        "comment pairs in the template: resources (under Resources), resolvers (under GraphQLApi "
        "Properties.Resolvers), table-env (under a function's Environment.Variables) and, optional, "
        "outputs (under Outputs). Everything outside them is yours.",
    )
    generate.add_argument("--check", action="store_true", help="write nothing; exit 1 with a diff when stale")
    generate.add_argument("--force", action="store_true", help="overwrite hand edits inside the regions")

    outputs = sub.add_parser(
        "outputs",
        help="write amplify_outputs.json (Amplify.configure) for the local endpoint or a deployed stack",
        description="The Amplify Gen 2 client configuration: the models' introspection (as `modelauth "
        "generate` writes it) with the URL, API key and pool ids of the running `modelauth serve` "
        "(--local) or of a deployed stack's outputs (--stack).",
    )
    where = outputs.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="the running `modelauth serve` (its state file)")
    where.add_argument("--stack", help="a deployed stack's name (its CloudFormation outputs)")
    outputs.add_argument(
        "--region", default=None, help="--stack's region (default: AWS_DEFAULT_REGION or us-east-1)"
    )
    outputs.add_argument(
        "--out", type=Path, default=None, help="the file (default <project>/amplify_outputs.json)"
    )

    init = sub.add_parser("init", help="a new SAM project using modelauth, ready for `make test`")
    init.add_argument("directory", type=Path, help="a new or empty directory")
    init.add_argument(
        "--name", help="the project's name (stack and resource names; default: the directory's)"
    )
    init.add_argument(
        "--package", default="appschema", help="the Python package of the models (default appschema)"
    )
    init.add_argument(
        "--modelauth",
        default=None,
        help="pip requirement or path of modelauth to install (default: this checkout, or this version)",
    )

    schema = sub.add_parser("schema", help="print the GraphQL SDL of the models")
    schema.add_argument("--output", type=Path, default=None, help="write it to this file instead")

    # -- sam local invoke: sample events and the local environment (modelauth.local.events/localenv)
    events = sub.add_parser(
        "events",
        help="write sample events (every model x operation x auth mode) for sam local invoke",
        description="AppSync direct-resolver events as invoke.js sends them, plus REST/HTTP API and "
        "Lambda authorizer events when the template has those functions; ids, issuer and keys "
        "from [tool.modelauth.local] (the ones `modelauth local-env` configures).",
    )
    events.add_argument(
        "--output", type=Path, default=None, help="directory (default: [tool.modelauth] events)"
    )
    events.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    local_env = sub.add_parser(
        "local-env",
        help="create the tables in a local DynamoDB (moto) and write sam local invoke's --env-vars file",
    )
    local_env.add_argument(
        "--endpoint", help="a running moto_server as this machine reaches it, e.g. http://127.0.0.1:5005"
    )
    local_env.add_argument("--start", action="store_true", help="start moto itself and serve until Ctrl-C")
    local_env.add_argument("--port", type=_port, default=None, help="--start's port (default 5005)")
    local_env.add_argument(
        "--container-host",
        default=None,
        help="the host as a Lambda container reaches it (default: Docker's bridge gateway; "
        "host.docker.internal on Docker Desktop)",
    )
    local_env.add_argument(
        "--output", type=Path, default=None, help="the env-vars file (default <project>/.modelauth/env.json)"
    )
    # -- end sam local invoke
    expiry = sub.add_parser(
        "api-key-expiry",
        help="the ApiKeyExpiresOn (epoch seconds) that makes a deploy's API key last --days",
        description="Prints the epoch to pass as the template's ApiKeyExpiresOn; with --config-env, "
        "the whole --parameter-overrides for that samconfig.toml environment (make deploy uses it).",
    )
    expiry.add_argument("--days", type=int, default=365, help="1..365 (default 365, AppSync's maximum)")
    expiry.add_argument(
        "--config-env", default=None, help="print samconfig.toml's parameter_overrides of ENV with it"
    )
    rotate = sub.add_parser(
        "rotate-api-key",
        help="renew a deployed API's keys (same key string), or --check how long they last",
        description="Extends every API key of the stack's AppSync API with appsync:UpdateApiKey; "
        "clients keep their key. --check changes nothing and exits 1 when a key expires within "
        "--min-days (for a scheduled CI job).",
    )
    target = rotate.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="the deployed stack (its GraphQLApiId output)")
    target.add_argument("--api-id", help="the AppSync API id")
    rotate.add_argument("--days", type=int, default=365, help="new lifetime, 1..365 (default 365)")
    rotate.add_argument("--check", action="store_true", help="only report the days left")
    rotate.add_argument("--min-days", type=float, default=30, help="--check fails below this (default 30)")
    rotate.add_argument("--region", default=None, help="default: your AWS profile / AWS_DEFAULT_REGION")
    return parser


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _port(text: str) -> int:
    """An argparse type: a TCP port, or 0 for a free one (a bad value is a usage error, exit 2)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1-65535, or 0 for a free one")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "import":  # needs no project
        return _import(args)
    try:
        # the project of the template named, else of the working directory
        args.project = Project.find(args.template.resolve().parent if args.template else None)
        args.template = args.template or args.project.path("template")
        args.state = args.state or args.project.root / ".modelauth" / "local.json"
        return int(_COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return 130
    except (ProjectError, ApiKeyError) as exc:  # bad configuration/input: one line, exit 2 (usage)
        print(f"modelauth {args.command}: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in _LOCAL_DEPENDENCIES:
            print(
                f"modelauth {args.command}: needs the local extras ({exc.name} is missing): "
                "pip install 'modelauth[local]'",
                file=sys.stderr,
            )
            return 2
        print(f"modelauth {args.command}: {_describe(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # every failure is one typed line, never a traceback
        print(f"modelauth {args.command}: {_describe(exc)}", file=sys.stderr)
        return 1


def _describe(exc: Exception) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {exc.kwargs.get('endpoint_url')}: is `modelauth serve` running?"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code')}: {error.get('Message')}"
    if isinstance(exc, BotoCoreError | OSError | ValueError | KeyError | RuntimeError):
        return f"{type(exc).__name__}: {exc}"
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason or exc}"


def _serve(args: argparse.Namespace) -> int:
    import os

    from modelauth.local.server import DEFAULT_PORT, serve, tls_context

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ProjectError("--tls-cert and --tls-key go together")
    tls = tls_context(args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    region = args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    stack = (args.stack or _samconfig_stack(args.project.root)) if args.aws else None
    return serve(
        args.template,
        _schema(args),
        schema_ref=args.schema_ref,
        port=DEFAULT_PORT if args.port is None else args.port,
        state_path=args.state,
        aws_stack=stack,
        region=region,
        log_level=args.log_level,
        tls=tls,
    )


def _samconfig_stack(root: Path) -> str:
    import tomllib

    try:
        config = tomllib.loads((root / "samconfig.toml").read_text())
    except FileNotFoundError:
        return "modelauth"
    name = config.get("default", {}).get("global", {}).get("parameters", {}).get("stack_name")
    return str(name or "modelauth")


def _users(args: argparse.Namespace) -> int:
    from modelauth.local.sandbox import Backend

    backend = Backend.load(args.state)
    if args.action == "list":
        for name in backend.users:
            print(name)
        return 0
    sub = backend.add_user(args.name, args.group)
    backend.save(args.state)
    groups = f" in {', '.join(args.group)}" if args.group else ""
    print(f"added {args.name}{groups} (sub {sub}); token: modelauth token {args.name}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from modelauth.local.sandbox import Backend

    backend = Backend.load(args.state)
    if args.kind == "api-key":
        print(next(iter(backend.api_keys)))
    elif args.kind == "lambda-key":
        print(backend.lambda_api_key)
    elif not args.name:
        raise ValueError("a user name is required (or --api-key / --lambda-key)")
    else:
        print(backend.token(args.name, args.kind or "access", args.group))
    return 0


def _creds(args: argparse.Namespace) -> int:
    import boto3

    from modelauth.local.sandbox import Backend

    backend = Backend.load(args.state)
    if backend.endpoint is None:
        raise RuntimeError("the state names no running endpoint: start `modelauth serve`")
    options: dict[str, Any] = {
        "endpoint_url": backend.endpoint.removesuffix("graphql"),
        "region_name": backend.region,
        "aws_access_key_id": "local",  # the local endpoint checks no signature on these calls
        "aws_secret_access_key": "local",
    }
    if args.role:
        answer = boto3.client("sts", **options).assume_role(
            RoleArn=args.role, RoleSessionName="modelauth-cli"
        )
        credentials = answer["Credentials"]
        secret, who = credentials["SecretAccessKey"], answer["AssumedRoleUser"]["Arn"]
    else:
        identity = boto3.client("cognito-identity", **options)
        logins = {backend.login_provider: backend.token(args.user, "id")} if args.user else {}
        identity_id = identity.get_id(IdentityPoolId=backend.identity_pool_id, Logins=logins)["IdentityId"]
        answer = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)
        credentials = answer["Credentials"]
        secret = credentials["SecretKey"]
        who = f"{identity_id} ({'authenticated ' + args.user if args.user else 'guest'})"
    values = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_REGION": backend.region,
    }
    if args.json:
        print(json.dumps({**values, "identity": who, "expiration": str(credentials["Expiration"])}, indent=2))
    else:
        print("\n".join(f"export {k}={v}" for k, v in values.items()))
        print(f"# {who}, expires {credentials['Expiration']}")
    return 0


def _schema(args: argparse.Namespace) -> Schema:
    project: Project = args.project
    ref, _ = project.schema_ref(args.schema)
    args.schema_ref = str(ref)  # the local functions load the same one
    return project.load_schema(args.schema)


def _import(args: argparse.Namespace) -> int:
    """``modelauth import amplify-gen1|amplify-gen2 FILE``: one error line and exit 2 on bad input,
    nothing written; the left-out features on stderr."""
    try:
        from modelauth.local import amplify_import as ai

        if args.source == "amplify-gen1":
            try:
                text = args.file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ai.AmplifyImportError(f"{args.file}: cannot read: {exc}") from None
            imported = ai.import_gen1(
                text, file=str(args.file), default_auth_mode=args.default_auth_mode or "apiKey"
            )
        else:
            imported = ai.import_gen2(args.file, default_auth_mode=args.default_auth_mode)
        source = ai.format_source(imported.source, args.output)
    except ModuleNotFoundError as exc:
        print(
            f"modelauth import: needs the local extras ({exc.name} is missing): "
            "pip install 'modelauth[local]'",
            file=sys.stderr,
        )
        return 2
    except (ValueError, OSError, subprocess.SubprocessError) as exc:
        print(f"modelauth import: {exc}", file=sys.stderr)
        return 2
    for line in imported.unsupported:
        print(f"modelauth import: not imported: {line}", file=sys.stderr)
    for line in imported.handlers:
        print(f"modelauth import: needs a handler: {line}", file=sys.stderr)
    status = 0
    if args.check:
        cells = ai.check(imported)
        print(ai.check_table(cells), file=sys.stderr)
        status = 1 if any(c.actual != c.expected for c in cells) else 0
    if args.output is None:
        sys.stdout.write(source)
    else:
        args.output.write_text(source, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return status


def _explain(args: argparse.Namespace) -> int:
    schema = _schema(args)

    from modelauth.explain import access_matrix, render_matrix

    models = [m for m in schema.models if args.model in (None, m.name)]
    if not models:
        raise ProjectError(f"no model {args.model!r}; models: {', '.join(m.name for m in schema.models)}")
    if args.caller is None:
        # every model and custom operation, or the one model asked for
        matrix = access_matrix(schema if args.model is None else type(schema)(models=tuple(models)))
        print(json.dumps(matrix, indent=2) if args.json else render_matrix(matrix))
        return 0
    if args.op is None or args.model is None:
        raise ProjectError("--as needs --op and --model")
    explanation = _explain_request(args, models[0], schema)
    print(json.dumps(explanation.as_json(), indent=2) if args.json else explanation.render())
    return 0 if explanation.allowed else 3


def _explain_request(args: argparse.Namespace, model: Any, schema: Schema) -> Any:
    from modelauth.errors import BadRequest
    from modelauth.explain import RequestExplanation, explain_request, item_key, principal_from_file
    from modelauth.identity import IdentityConfig
    from modelauth.local.samtemplate import SamTemplate
    from modelauth.local.sandbox import Backend, BackendError
    from modelauth.policy import AuthConfig
    from modelauth.rules import Operation

    try:
        key = item_key(model, args.item_id, args.key_parts)
    except BadRequest as exc:  # bad input: exit 2
        raise ProjectError(exc.message) from None
    template = SamTemplate.load(args.template)
    try:
        backend: Backend | None = Backend.load(args.state)
    except BackendError:
        backend = None  # an event file needs no running endpoint
    identity_config, auth_config = IdentityConfig(), AuthConfig()
    if backend is not None:
        identity_config = IdentityConfig(user_pool_issuers=frozenset({backend.user_pool_issuer}))
        auth_config = AuthConfig(
            identity_pool_id=backend.identity_pool_id,
            auth_role_arns=frozenset({backend.auth_role.arn(backend.account_id)}),
            unauth_role_arns=frozenset({backend.unauth_role.arn(backend.account_id)}),
        )
    denied: frozenset[str] = frozenset()
    if _is_file(args.caller):
        principal = principal_from_file(Path(args.caller), identity_config)
    else:
        if backend is None:
            raise BackendError(
                "a credential is checked with the local endpoint's keys: start `modelauth serve`"
            )
        principal, denied, refusal = _principal_of_credential(template, backend, args.caller, identity_config)
        if refusal is not None:
            return RequestExplanation(model.name, args.op, "-", "-", False, "appsync (401)", refusal)
    item = None
    if key is not None:
        if backend is None:
            raise BackendError("--id/--key read the item from the running endpoint: start `modelauth serve`")
        item = _stored_item(template, backend, model, key)
    from graphql import build_schema

    from modelauth.local.appsync import APPSYNC_PRELUDE, field_modes

    modes = field_modes(
        build_schema(APPSYNC_PRELUDE + template.api.schema_path.read_text()), template.api.default_mode
    )
    return explain_request(
        principal,
        model,
        Operation(args.op),
        item=item,
        input=json.loads(args.input) if args.input else None,
        config=auth_config,
        field_modes=modes,
        denied_fields=denied,
        via=_via(args.via, schema, model, args.op) if args.via else None,
    )


def _via(text: str, schema: Schema, model: Any, op: str) -> tuple[str, str]:
    """``Post.comments`` → ``("Post", "comments")``, checked against the schema and the request."""
    parent_name, _, name = text.partition(".")
    parent = next((m for m in schema.models if m.name == parent_name), None)
    rel = next((r for r in parent.relations if r.name == name), None) if parent else None
    if rel is None:
        raise ProjectError(f"--via {text}: not a relationship field (Type.field)")
    expected = "list" if rel.is_list else "get"
    if rel.related != model.name or op != expected:
        raise ProjectError(
            f"--via {text} reads {rel.related} with {expected}: use --model {rel.related} --op {expected}"
        )
    return parent_name, name


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # a JWT is longer than a file name may be
        return False


def _principal_of_credential(
    template: Any, backend: Any, credential: str, config: Any
) -> tuple[Any, frozenset[str], str | None]:
    """Authenticate ``credential`` as the endpoint would: (principal, deniedFields, 401 reason)."""
    from modelauth.errors import ModelAuthError
    from modelauth.identity import Principal
    from modelauth.local.appsync import AUTH_TYPE_TEXT
    from modelauth.local.server import build_authenticator, load_functions

    functions = load_functions(template, backend, filter(None, [template.api.lambda_authorizer]))
    authenticator = build_authenticator(template, backend, functions)
    header = "x-api-key" if credential.startswith("da2-") else "authorization"
    try:
        auth = authenticator.authenticate("POST", "/graphql", [(header, credential)], b"", "127.0.0.1")
    except ModelAuthError as exc:
        return None, frozenset(), exc.reason
    event = {"identity": auth.identity, "request": {"headers": {header: credential}}}
    principal = Principal.from_appsync(event, auth_type=AUTH_TYPE_TEXT[auth.mode], config=config)
    return principal, auth.denied_fields, None


def _stored_item(template: Any, backend: Any, model: Any, key: Any) -> dict[str, Any]:
    from modelauth.store import Store

    function = next(iter(set(template.resolvers.values())))
    env = backend.environment(template, function)
    store = Store(
        backend.client("dynamodb"), {model.name: env[f"TABLE_{model.name.upper()}"]}, token_key=b"explain"
    )
    item = store.get(model, key)
    if item is None:
        raise KeyError(f"no {model.name} with key {key!r}")
    return item


def _demo(args: argparse.Namespace) -> int:
    from modelauth.local.demo import run

    return run(_schema(args), template_path=args.template, schema_ref=args.schema_ref)


def _generate(args: argparse.Namespace) -> int:
    from modelauth.local.generate import generate

    schema = _schema(args)
    return generate(
        args.project, schema, template=args.template, check=args.check, force=args.force, out=sys.stdout
    )


def _outputs(args: argparse.Namespace) -> int:
    import os

    from modelauth.local import outputs

    if args.stack is not None:
        region = args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        env = outputs.stack_environment(args.stack, region)
    else:
        if args.region is not None:
            raise outputs.OutputsError("--region goes with --stack (the local endpoint has its own)")
        env = outputs.local_environment(args.state)
    path = args.out or args.project.root / outputs.FILE_NAME
    outputs.write(path, _schema(args), args.template, env)
    print(f"wrote {path} ({env.url})")
    return 0


def _init(args: argparse.Namespace) -> int:
    from modelauth.local.scaffold import init

    return init(
        args.directory, name=args.name, package=args.package, modelauth=args.modelauth, out=sys.stdout
    )


def _sdl(args: argparse.Namespace) -> int:
    from modelauth.sdl import render

    text = render(_schema(args))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


# -- sam local invoke: `modelauth events` and `modelauth local-env` ------------------------------


def _local_config(args: argparse.Namespace) -> Any:
    from modelauth.local.events import LocalConfig

    project: Project = args.project
    return LocalConfig.from_settings(
        project.settings.get("local"), f"{project.root / 'pyproject.toml'} [tool.modelauth.local]"
    )


def _template_functions(path: Path) -> tuple[bool, bool]:
    """(REST function, Lambda authorizer) in the template: an Api/HttpApi event, an authorizer."""
    from modelauth.local.samtemplate import SamTemplate

    if not path.is_file():
        return False, False
    template = SamTemplate.load(path)
    authorizer, rest = template.api.lambda_authorizer is not None, False
    for props in template.of_type("AWS::Serverless::Function").values():
        kinds = {e.get("Type") for e in (props.get("Events") or {}).values() if isinstance(e, dict)}
        rest = rest or bool(kinds & {"Api", "HttpApi"})
    for cfn_type in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
        for props in template.of_type(cfn_type).values():
            authorizer = authorizer or bool((props.get("Auth") or {}).get("Authorizers") or {})
    return rest, authorizer


def _events(args: argparse.Namespace) -> int:
    from modelauth.local.events import sample_events

    rest, authorizer = _template_functions(args.template)
    events = sample_events(_schema(args), _local_config(args), rest=rest, authorizer=authorizer)
    directory: Path = args.output or args.project.path("events")
    texts = {name: json.dumps(event, indent=2) + "\n" for name, event in events.items()}
    manifest = directory / _EVENTS_MANIFEST
    # files an earlier run wrote that the models no longer produce (hand-written events are never
    # in the manifest, so never touched)
    gone = sorted(set(_read_lines(manifest)) - set(texts))
    if args.check:
        stale = [
            n for n, t in texts.items() if not (directory / n).is_file() or (directory / n).read_text() != t
        ]
        stale += [n for n in gone if (directory / n).is_file()]
        for name in stale:
            print(f"stale: {directory / name}", file=sys.stderr)
        if stale:
            print(f"{len(stale)} of {len(texts)} events are stale: run `modelauth events`", file=sys.stderr)
        return 1 if stale else 0
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (directory / name).write_text(text, encoding="utf-8")
    for name in gone:
        (directory / name).unlink(missing_ok=True)
    manifest.write_text(
        "# written by `modelauth events`: the files it deletes when the models no longer produce them\n"
        + "".join(f"{name}\n" for name in sorted(texts)),
        encoding="utf-8",
    )
    removed = f", removed {len(gone)} no longer generated" if gone else ""
    print(f"wrote {len(texts)} events to {directory}{removed}")
    return 0


_EVENTS_MANIFEST = ".modelauth-events"


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    names = (line.strip() for line in text.splitlines())
    # only plain file names: a manifest edited to name ../something never deletes outside the directory
    return [n for n in names if n and not n.startswith("#") and "/" not in n and "\\" not in n and n != ".."]


def _local_env(args: argparse.Namespace) -> int:
    from modelauth.local.localenv import DEFAULT_PORT, local_env
    from modelauth.local.samtemplate import SamTemplate

    if args.start == bool(args.endpoint):
        raise ProjectError("pass exactly one of --endpoint URL (a running moto_server) and --start")
    if args.port is not None and not args.start:
        raise ProjectError("--port is --start's; with --endpoint the port is in the URL")
    schema = _schema(args)  # also sets args.schema_ref, what the functions get as MODELAUTH_SCHEMA
    return local_env(
        SamTemplate.load(args.template),
        schema,
        _local_config(args),
        schema_ref=args.schema_ref,
        output=args.output or args.project.root / ".modelauth" / "env.json",
        endpoint=args.endpoint,
        container_host=args.container_host,
        start=args.start,
        port=DEFAULT_PORT if args.port is None else args.port,
    )


# -- end sam local invoke


def _api_key_expiry(args: argparse.Namespace) -> int:
    from modelauth.local.apikey import deploy_overrides, expires_on

    if args.config_env is None:
        print(expires_on(args.days))
    else:
        print(deploy_overrides(args.project.root, args.config_env, args.days))
    return 0


def _rotate_api_key(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    from modelauth.local.apikey import api_id_of_stack, expires_on, key_status, renew

    if not args.check:
        expires_on(args.days)  # a bad --days fails before any AWS call
    try:
        session = boto3.session.Session(region_name=args.region)
        api_id = args.api_id or api_id_of_stack(session.client("cloudformation"), args.stack)
        appsync = session.client("appsync")
    except NoRegionError as exc:
        raise ApiKeyError("no AWS region: pass --region or set AWS_DEFAULT_REGION") from exc
    except BotoCoreError as exc:  # an unknown profile, ...: before any request
        raise ApiKeyError(f"{type(exc).__name__}: {exc}") from exc
    if not args.check:
        for key in renew(appsync, api_id, args.days):
            print(f"renewed {key.line()}")
        return 0
    expiring = False
    for key in key_status(appsync, api_id):
        low = key.days_left < args.min_days
        expiring |= low
        print(f"{key.line()}{f' - below --min-days {args.min_days:g}' if low else ''}")
    if expiring:
        print(f"renew: modelauth rotate-api-key --api-id {api_id} --days 365 (or redeploy)", file=sys.stderr)
    return 1 if expiring else 0


_COMMANDS = {
    "import": _import,
    "serve": _serve,
    "generate": _generate,
    "outputs": _outputs,
    "init": _init,
    "schema": _sdl,
    "users": _users,
    "token": _token,
    "creds": _creds,
    "explain": _explain,
    "demo": _demo,
    "events": _events,
    "local-env": _local_env,
    "api-key-expiry": _api_key_expiry,
    "rotate-api-key": _rotate_api_key,
}


if __name__ == "__main__":
    sys.exit(main())
