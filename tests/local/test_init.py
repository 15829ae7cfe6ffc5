"""``modelauth init``: a new project, and the names it refuses before writing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelauth.local.cli import main


def init(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["init", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("package", "says"),
    [
        ("json", "a standard-library module"),
        ("email", "a standard-library module"),
        ("boto3", "a module the Lambda runtime or the layer imports"),
        ("modelauth", "a module the Lambda runtime or the layer imports"),
        ("app", "a module the Lambda runtime or the layer imports"),
        ("graphql", "a module modelauth's local tools import"),
    ],
)
def test_a_package_that_would_shadow_a_module_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package: str, says: str
) -> None:
    code, out, err = init(capsys, tmp_path / "proj", "--package", package)
    assert code == 2
    assert says in err
    assert "pass --package" in err
    assert "Traceback" not in err
    assert out == ""
    assert not (tmp_path / "proj").exists()


@pytest.mark.parametrize("package", ["class", "Models", "1st", "my-models", ""])
def test_a_package_that_is_not_a_python_name_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package: str
) -> None:
    code, _, err = init(capsys, tmp_path / "proj", "--package", package)
    assert code == 2
    assert "is not a Python package name" in err
    assert not (tmp_path / "proj").exists()


def test_a_bad_project_name_and_a_non_empty_directory_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = init(capsys, tmp_path / "proj", "--name", "My_Stack")
    assert code == 2
    assert "use lower-case letters, digits and dashes" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = init(capsys, tmp_path / "full")
    assert code == 2
    assert "is not an empty directory" in err
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_a_new_project_is_written_and_generated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELAUTH_SCHEMA")  # the new project's pyproject.toml names its models
    code, out, err = init(capsys, tmp_path / "shop", "--package", "shopmodels")
    assert (code, err) == (0, "")
    root = tmp_path / "shop"
    assert (root / "shopmodels" / "__init__.py").is_file()
    assert (root / "shopmodels" / "py.typed").is_file()
    assert "shopmodels:SCHEMA" in (root / "pyproject.toml").read_text()
    assert (root / "graphql" / "schema.graphql").is_file()
    assert "next: cd" in out
    assert main(["--template", str(root / "template.yaml"), "generate", "--check"]) == 0
