"""The built ModelAuthLayer (`sam build` output, what Lambda mounts at /opt) carries only what the
functions run: no modelauth/local, no laptop-side packages, no scripts; and Python 3.12 with only
the layer on its path (plus the boto3 the Lambda runtime provides) imports the handlers' modules
and verifies an RS256 JWT. tests/unit/test_runtime_imports.py checks the sources' imports.

Needs `make build` (make test-e2e runs it first); fails, not skips, when the build is missing.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import boto3
import botocore
import dateutil
import pytest
import s3transfer
import six
import urllib3

from tests.authz import TestIssuer
from tests.conftest import EXAMPLE
from tests.e2e.conftest import BUILT_TEMPLATE, last_json_line, python312_bin

pytestmark = pytest.mark.e2e

LAYER = EXAMPLE / ".aws-sam" / "build" / "ModelAuthLayer" / "python"
#: what the laptop side needs and the layer must not have (pyproject's `local` extra, pip's scripts,
#: cffi's build-time half: cryptography loads only the compiled _cffi_backend)
NOT_IN_LAYER = ("graphql", "moto", "yaml", "requests", "bin", "cffi", "pycparser")
#: /var/runtime in the python3.12 Lambda runtime: boto3 and its dependencies, not in the layer
RUNTIME_PACKAGES = (boto3, botocore, s3transfer, dateutil, urllib3)

# Run as `python3.12 -I probe.py <layer> <runtime> <request.json>`: sys.path is the layer, the
# runtime's packages and the standard library - none of the interpreter's site-packages.
PROBE = textwrap.dedent(
    """\
    import importlib, json, os, sys
    layer, runtime, request = sys.argv[1:4]
    sys.path[:] = [layer, runtime] + [p for p in sys.path[1:] if p and "site-packages" not in p]
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    answer = {}
    for name in ("modelauth.resolvers", "modelauth.rest", "modelauth.authorizer"):
        importlib.import_module(name)
    try:
        import modelauth.local.appsync
    except ImportError as exc:
        answer["local"] = f"{type(exc).__name__}: {exc.name}"
    else:
        answer["local"] = "imported"
    from modelauth.authorizer import Issuer, TokenVerifier
    from modelauth.errors import Unauthenticated
    data = json.load(open(request))
    verifier = TokenVerifier([Issuer.oidc(data["issuer"], [data["audience"]], jwks=data["jwks"])])
    answer["principal"] = verifier.verify("Bearer " + data["token"]).principal_id
    try:
        verifier.verify("Bearer " + data["forged"])
    except Unauthenticated as exc:
        answer["forged"] = str(exc)
    from jwt.algorithms import has_crypto
    answer["has_crypto"] = has_crypto
    answer["files"] = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
    print(json.dumps(answer))
    """
)


@pytest.fixture(scope="module")
def layer() -> Path:
    if not BUILT_TEMPLATE.is_file() or not LAYER.is_dir():
        pytest.fail(f"{LAYER.relative_to(EXAMPLE)} missing: run `make build` (make test-e2e does)")
    return LAYER


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the Lambda runtime's /var/runtime: links to this venv's boto3 and its deps."""
    root = tmp_path_factory.mktemp("var-runtime")
    for package in RUNTIME_PACKAGES:
        assert package.__file__
        source = Path(package.__file__).parent
        (root / source.name).symlink_to(source, target_is_directory=True)
    assert six.__file__
    (root / "six.py").symlink_to(six.__file__)
    return root


@pytest.fixture(scope="module")
def probe(layer: Path, runtime: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("layer-probe")
    issuer = TestIssuer("https://issuer.layer.test/")
    forger = TestIssuer("https://issuer.layer.test/", key_name="forger")
    request = {
        "issuer": issuer.issuer,
        "audience": issuer.audience,
        "jwks": issuer.jwks(),
        "token": issuer.token(sub="layer-user"),
        "forged": forger.token(sub="layer-user"),
    }
    (work / "request.json").write_text(json.dumps(request))
    (work / "probe.py").write_text(PROBE)
    python = python312_bin() / "python3.12"
    args = [str(python), "-I", "probe.py", str(layer), str(runtime), "request.json"]
    done = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = last_json_line(done.stdout)
    return answer


def test_layer_has_no_laptop_side(layer: Path) -> None:
    top = {path.name.split("-")[0].split(".")[0].lower() for path in layer.iterdir()}
    assert not (layer / "modelauth" / "local").exists()
    assert not (layer / "modelauth" / "js").exists()
    assert not top & set(NOT_IN_LAYER), sorted(top & set(NOT_IN_LAYER))
    assert not (layer.parent / "bin").exists()
    assert {"modelauth", "jwt", "cryptography", "aws_lambda_powertools", "appschema"} <= top


def test_layer_is_precompiled(layer: Path) -> None:
    sources = list((layer / "modelauth").rglob("*.py"))
    assert sources
    compiled = {
        path.name.split(".")[0] for path in (layer / "modelauth").rglob("__pycache__/*.cpython-312.pyc")
    }
    assert {path.stem for path in sources} <= compiled


def test_python312_with_only_the_layer_verifies_an_rs256_jwt(probe: dict[str, Any]) -> None:
    assert probe["has_crypto"] is True
    assert probe["principal"] == "layer-user"
    assert probe["forged"] == "Unauthorized"


def test_the_emulator_is_not_importable_from_the_layer(probe: dict[str, Any]) -> None:
    assert probe["local"] == "ModuleNotFoundError: modelauth.local"


def test_handlers_load_only_the_layer_runtime_and_stdlib(
    probe: dict[str, Any], layer: Path, runtime: Path
) -> None:
    loaded = [Path(name) for name in probe["files"]]
    outside = [
        path
        for path in loaded
        if "site-packages" in path.parts
        and not path.is_relative_to(layer)
        and not path.is_relative_to(runtime)
    ]
    assert not outside, outside
    assert any(path.is_relative_to(layer / "cryptography") for path in loaded)
