"""Bad command lines: one line on stderr, exit code 2, nothing started or written."""

from __future__ import annotations

import pytest

from modelauth.local.cli import main
from tests.conftest import PROJECT


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["serve", "--port", "abc"], "'abc' is not a port number"),
        (["serve", "--port", "99999"], "99999 is not a port: use 1-65535, or 0 for a free one"),
        (["serve", "--port", "-1"], "-1 is not a port"),
        (["local-env", "--start", "--port", "70000"], "70000 is not a port"),
        (["serve", "--log-level", "LOUD"], "invalid choice: 'LOUD'"),
        (["explain", "--model", "Nope"], "no model 'Nope'; models: Todo"),
        (["explain", "--as", "x", "--model", "Todo"], "--as needs --op and --model"),
    ],
)
def test_a_bad_argument_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    with_template = ["--template", str(PROJECT / "template.yaml"), *args]
    try:
        code = main(with_template)
    except SystemExit as exit_:  # argparse's own refusals
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert says in err
    assert "Traceback" not in err


def test_the_log_level_is_case_insensitive() -> None:
    from modelauth.local.cli import _parser

    args = _parser().parse_args(["serve", "--log-level", "debug"])
    assert args.log_level == "DEBUG"
