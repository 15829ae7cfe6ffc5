"""``modelauth init DIR``: a new SAM project that uses modelauth, ready for ``make test``.

The files come from ``modelauth/local/scaffold/`` (package data): a SAM template with every auth
mode (Cognito user pool, identity pool, API key, Lambda authorizer, OIDC) and the generated
regions of :mod:`modelauth.local.generate`, the three thin handlers, the layer's Makefile, a
schema module with one model, tests, a Makefile and a README. ``.tmpl`` files lose the suffix;
``__NAME__``, ``__PACKAGE__``, ``__MODELAUTH__`` and ``__MODELAUTH_LOCAL__`` are filled in; then
the project is generated, so it is complete right away.

Example:
    >>> requirements("modelauth==1.2.0")
    ('modelauth==1.2.0', 'modelauth[local]==1.2.0')
    >>> requirements("/src/modelauth")
    ('/src/modelauth', '/src/modelauth[local]')
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TextIO

from modelauth.project import Project, ProjectError

__all__ = ["default_modelauth", "init", "requirements"]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
# top-level modules of the layer's requirements and of the Lambda runtime (python3.12)
_RUNTIME_MODULES = frozenset(
    {
        "modelauth",
        "aws_lambda_powertools",
        "boto3",
        "botocore",
        "jwt",
        "cryptography",
        "cffi",
        "jmespath",
        "dateutil",
        "s3transfer",
        "urllib3",
        "six",
        "typing_extensions",
        "awslambdaric",
        "bootstrap",
        "app",
    }
)
# top-level modules of the local extra's requirements (serve and generate import the models with
# the project first on sys.path)
_LOCAL_MODULES = frozenset(
    {
        "moto",
        "graphql",
        "requests",
        "yaml",
        "werkzeug",
        "flask",
        "jinja2",
        "responses",
        "xmltodict",
        "samcli",
        "samtranslator",
        "cfnlint",
        "pytest",
        "hypothesis",
    }
)
_REQUIREMENT = re.compile(r"^modelauth\s*(?P<spec>(==|>=|~=|<=|<|>|!=).*)?$")


def default_modelauth() -> str:
    """What the new project installs: this checkout when modelauth runs from one, else this
    release from your package index."""
    try:
        dist = metadata.distribution("modelauth")
    except metadata.PackageNotFoundError:
        return "modelauth"
    direct = dist.read_text("direct_url.json")
    if direct:
        url = str(json.loads(direct).get("url", ""))
        if url.startswith("file://"):
            return url.removeprefix("file://")
    return f"modelauth=={dist.version}"


def requirements(spec: str) -> tuple[str, str]:
    """(runtime, with the ``local`` extra) pip requirements for a version spec or a path."""
    match = _REQUIREMENT.match(spec.strip())
    if match is not None:
        return spec.strip(), "modelauth[local]" + (match["spec"] or "").strip()
    return spec.strip(), f"{spec.strip()}[local]"


def _files(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        path = f"{prefix}{entry.name}"
        if entry.is_dir():
            out += _files(entry, path + "/")
        else:
            out.append((path, entry))
    return out


def _shadowed(package: str) -> str | None:
    """What an installed or standard module of this name is, if there is one."""
    if package in sys.stdlib_module_names:
        return "a standard-library module"
    if package in _RUNTIME_MODULES:
        return "a module the Lambda runtime or the layer imports"
    if package in _LOCAL_MODULES:
        return "a module modelauth's local tools import"
    return None


def _target(path: str, package: str) -> str:
    path = path.removesuffix(".tmpl")
    if path == "gitignore":
        return ".gitignore"
    if path.startswith("schema/"):
        return package + path.removeprefix("schema")
    return path


def init(
    directory: Path,
    *,
    name: str | None = None,
    package: str = "appschema",
    modelauth: str | None = None,
    out: TextIO,
) -> int:
    """Write the project into ``directory`` (new or empty) and generate it; 0 on success."""
    name = name or directory.resolve().name.lower().replace("_", "-")
    if not _NAME.match(name):
        raise ProjectError(
            f"project name {name!r}: use lower-case letters, digits and dashes, starting with a letter "
            "(it names the stack and its resources); pass --name"
        )
    if not _PACKAGE.match(package) or keyword.iskeyword(package):
        raise ProjectError(
            f"package {package!r} is not a Python package name: pass --package, e.g. appschema"
        )
    clash = _shadowed(package)
    if clash:
        raise ProjectError(
            f"package {package!r} is the name of {clash}: the layer puts your models beside it on "
            "sys.path, so one would hide the other; pass --package with another name, e.g. appschema"
        )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ProjectError(f"{directory} exists and is not an empty directory: init writes a new project")
    runtime, local = requirements(modelauth or default_modelauth())
    values = {
        "__NAME__": name,
        "__PACKAGE__": package,
        "__MODELAUTH_LOCAL__": local,
        "__MODELAUTH__": runtime,
    }
    files = _files(resources.files("modelauth") / "local" / "scaffold")
    for path, source in files:
        text = source.read_text(encoding="utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        target = directory / _target(path, package)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (directory / package / "py.typed").touch()
    print(f"created {directory} ({len(files)} files; models in {package}/__init__.py)", file=out)

    from modelauth.local.generate import generate

    project = Project.find(directory)
    assert project.schema is not None  # the scaffold's pyproject.toml names it
    generate(
        project, project.schema.load(search=project.root, origin=str(directory / "pyproject.toml")), out=out
    )
    print(
        f"next: cd {directory} && make test   (then edit {package}/__init__.py, make generate, sam deploy)",
        file=out,
    )
    return 0
