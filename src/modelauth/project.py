"""Where a project's schema lives: ``[tool.modelauth]`` in pyproject.toml, ``--schema``, or the env.

A project names its schema once, as ``package.module:ATTR`` (an importable module and the name of
a :class:`~modelauth.rules.Schema` in it)::

    # pyproject.toml
    [tool.modelauth]
    schema = "appschema:SCHEMA"      # required
    template = "template.yaml"       # the SAM template `modelauth generate` maintains
    sdl = "graphql/schema.graphql"   # the generated SDL
    events = "events"                # where `modelauth events` writes sample events

The Lambda handlers have no pyproject.toml: they read the same reference from the environment
variable ``MODELAUTH_SCHEMA`` (set once in the template's ``Globals``). The variable also wins
on a laptop, so one shell can point every command at another schema.

Example:
    >>> ref = SchemaRef.parse("modelauth.rules:Schema")
    >>> (ref.module, ref.attr)
    ('modelauth.rules', 'Schema')
    >>> SchemaRef.parse("no-colon")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    modelauth.project.ProjectError: schema reference 'no-colon' is not 'package.module:ATTR': ...
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelauth.rules import Schema

__all__ = ["ENV_SCHEMA", "Project", "ProjectError", "SchemaRef", "load_schema"]

ENV_SCHEMA = "MODELAUTH_SCHEMA"

_REF = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_]\w*$")


class ProjectError(Exception):
    """A project's configuration can't be used; the message is one line saying what to do."""


@dataclass(frozen=True)
class SchemaRef:
    """``package.module:ATTR`` naming a :class:`Schema`."""

    module: str
    attr: str

    @classmethod
    def parse(cls, text: str, *, origin: str = "") -> SchemaRef:
        """Read a reference; ``origin`` (a file or variable name) goes into the error message."""
        where = f" (from {origin})" if origin else ""
        if not _REF.match(text.strip()):
            raise ProjectError(
                f"schema reference {text!r} is not 'package.module:ATTR'{where}: "
                "name the module of your models and the Schema in it, e.g. 'appschema:SCHEMA'"
            )
        module, attr = text.strip().split(":")
        return cls(module, attr)

    def load(self, *, search: Path | None = None, origin: str = "") -> Schema:
        """Import the module (``search`` first on ``sys.path``) and return the Schema it names."""
        where = f" (from {origin})" if origin else ""
        if search is not None:
            if str(search) in sys.path:  # first, even when another project's root was put before it
                sys.path.remove(str(search))
            sys.path.insert(0, str(search))
            _forget_foreign(self.module, search)
        try:
            module = importlib.import_module(self.module)
        except ImportError as exc:
            raise ProjectError(
                f"schema module {self.module!r}{where} does not import: {exc}; "
                "check the name and that it is importable from the project directory"
            ) from exc
        except Exception as exc:  # a SchemaError (two models with one name, a bad rule) or a bug
            raise ProjectError(
                f"schema module {self.module!r}{where} fails on import: {type(exc).__name__}: {exc}"
            ) from exc
        value = getattr(module, self.attr, None)
        if not isinstance(value, Schema):
            got = "nothing" if value is None else type(value).__name__
            raise ProjectError(
                f"{self.module}:{self.attr}{where} is {got}, not a modelauth.rules.Schema: "
                "point it at the Schema(...) of your models"
            )
        return value

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}"


@dataclass(frozen=True)
class Project:
    """A project directory and its ``[tool.modelauth]`` settings."""

    root: Path
    schema: SchemaRef | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    DEFAULTS = {  # noqa: RUF012 - read-only table
        "template": "template.yaml",
        "sdl": "graphql/schema.graphql",
        "events": "events",
    }

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The nearest directory at or above ``start`` whose pyproject.toml has [tool.modelauth].

        With none, the project is ``start`` itself with default settings and no schema.
        """
        import tomllib  # here, not at import: a Lambda reads $MODELAUTH_SCHEMA and never a file

        here = (start or Path.cwd()).resolve()
        for directory in (here, *here.parents):
            pyproject = directory / "pyproject.toml"
            if not pyproject.is_file():
                continue
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ProjectError(f"{pyproject}: not readable TOML ({exc}); fix the file") from exc
            tool = data.get("tool", {}).get("modelauth")
            if tool is None:
                continue
            if not isinstance(tool, dict):
                raise ProjectError(f"{pyproject}: [tool.modelauth] must be a table")
            ref = tool.get("schema")
            if ref is not None and not isinstance(ref, str):
                raise ProjectError(f"{pyproject}: [tool.modelauth] schema must be a string")
            schema = SchemaRef.parse(ref, origin=str(pyproject)) if ref else None
            return cls(directory, schema, dict(tool))
        return cls(here)

    def path(self, name: str) -> Path:
        """A configured path (``template``, ``sdl``, ``events``), relative to the project root."""
        value = self.settings.get(name, self.DEFAULTS[name])
        if not isinstance(value, str):
            raise ProjectError(f"{self.root / 'pyproject.toml'}: [tool.modelauth] {name} must be a string")
        return self.root / value

    def schema_ref(self, override: str | None = None) -> tuple[SchemaRef, str]:
        """The reference in force and where it came from: ``override`` (``--schema``), else
        ``$MODELAUTH_SCHEMA``, else pyproject.toml."""
        if override:
            return SchemaRef.parse(override, origin="--schema"), "--schema"
        env = os.environ.get(ENV_SCHEMA)
        if env:
            return SchemaRef.parse(env, origin=ENV_SCHEMA), ENV_SCHEMA
        if self.schema is None:
            raise ProjectError(
                f"no schema configured in {self.root}: add [tool.modelauth] schema = 'package.module:ATTR' "
                f"to pyproject.toml, pass --schema, or set {ENV_SCHEMA}"
            )
        return self.schema, str(self.root / "pyproject.toml")

    def load_schema(self, override: str | None = None) -> Schema:
        """The schema of :meth:`schema_ref`, imported with the project root on ``sys.path``."""
        ref, origin = self.schema_ref(override)
        return ref.load(search=self.root, origin=origin)


def _forget_foreign(module: str, root: Path) -> None:
    """Drop ``module`` (and its package) from ``sys.modules`` when another project's file of that
    name was imported earlier in this process, so this project's own is imported."""
    top = module.split(".")[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None)
    if loaded is None or origin is None or Path(origin).resolve().is_relative_to(root.resolve()):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def load_schema(override: str | None = None, start: Path | None = None) -> Schema:
    """The project's schema (see :meth:`Project.load_schema`); Lambda handlers use the env var."""
    if override is None and os.environ.get(ENV_SCHEMA):
        return SchemaRef.parse(os.environ[ENV_SCHEMA], origin=ENV_SCHEMA).load(origin=ENV_SCHEMA)
    return Project.find(start).load_schema(override)
