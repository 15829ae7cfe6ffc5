"""``info.selectionSetList`` as the resolvers read it: remembered selections answer as a first
reading does, and a selection that is not a list of field names is refused every time."""

from __future__ import annotations

from typing import Any

import pytest

from modelauth.errors import BadRequest
from modelauth.resolvers import _selected_fields
from modelauth.rules import Operation


@pytest.mark.parametrize(
    ("op", "selection", "expected"),
    [
        (Operation.GET, ["id", "owner", "author/name"], {"id", "owner"}),
        (Operation.LIST, ["items", "items/id", "items/owner/name", "nextToken"], {"id"}),
        (Operation.GET, ["items", "items/id"], {"items"}),  # the prefix is a list's only
    ],
)
def test_the_same_selection_reads_alike_every_time(
    op: Operation, selection: list[str], expected: set[str]
) -> None:
    first = _selected_fields({"selectionSetList": list(selection)}, op)
    again = _selected_fields({"selectionSetList": list(selection)}, op)
    assert first == again == expected


@pytest.mark.parametrize("bad", [[1, 2], [["id"]], ["id", None], ("id",), "id", {"id": 1}])
def test_a_selection_of_no_field_names_is_refused_every_time(bad: Any) -> None:
    _selected_fields({"selectionSetList": ["id"]}, Operation.GET)  # something remembered
    for _ in range(2):
        with pytest.raises(BadRequest, match="selectionSetList"):
            _selected_fields({"selectionSetList": bad}, Operation.GET)
