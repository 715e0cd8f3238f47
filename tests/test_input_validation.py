"""The memcube layer refuses values that could not be read back, before anything is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from memcube.validation import check_json_object
from memos.errors import InvalidInput
from memos.kernel import MemOS
from storage.schema import CubeRow, ItemHistoryRow, ItemRow

LONE = "\ud800"


def _deep(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"next": value}
    return value


def _nested_list(levels: int) -> list:
    value: list = [1]
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.fixture
def mos(tmp_path, embedder):
    with MemOS(home=tmp_path / "home", embedder=embedder) as mos:
        yield mos


def _counts(mos: MemOS) -> tuple[int, int, int]:
    with mos.database.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(table))
                     for table in (ItemRow, ItemHistoryRow, CubeRow))


@pytest.mark.parametrize(("text", "fields"), [
    ("deep", {"metadata": _deep(255)}),
    ("deep", {"metadata": _deep(33)}),
    ("deep list", {"metadata": {"a": _nested_list(40)}}),
    ("big", {"metadata": {"blob": "x" * 70_000}}),
    ("nan", {"metadata": {"score": float("inf")}}),
    ("object", {"metadata": {"when": object()}}),
    (f"bad {LONE}", {}),
    ("note", {"metadata": {"who": LONE}}),
    ("note", {"metadata": {LONE: "who"}}),
    ("note", {"metadata": {"nested": {"list": [LONE]}}}),
    ("note", {"tags": [LONE]}),
    ("note", {"tags": "not-a-list"}),
    ("note", {"keywords": [LONE]}),
    ("note", {"context": LONE}),
    ("note", {"session_id": LONE}),
    ("note", {"source_id": "x" * 500}),
    ("note", {"event_time": "2023-13-45"}),
    ("note", {"ttl_seconds": float("nan")}),
])
def test_cube_add_refuses_bad_values_and_writes_nothing(mos, text, fields):
    cube = mos.create_cube("notes")
    cube.add("Alice moved to Lisbon in May 2023.")
    before = _counts(mos)
    with pytest.raises(InvalidInput):
        cube.add(text, **fields)
    with pytest.raises(InvalidInput):
        cube.add_many([{"text": "a good note about tulips"}, {"text": text, **fields}])
    assert _counts(mos) == before
    assert [h.item.text for h in cube.search("Where does Alice live?", k=1)] == [
        "Alice moved to Lisbon in May 2023."]
    assert cube.list()[1] == 1


def test_cube_update_refuses_bad_values_and_keeps_the_version(mos):
    cube = mos.create_cube("notes")
    item = cube.add("Alice moved to Lisbon in May 2023.")
    for change in ({"metadata": _deep(255)}, {"text": LONE}, {"tags": [LONE]},
                   {"context": LONE}):
        with pytest.raises(InvalidInput):
            cube.update(item.id, **change)
    assert cube.get(item.id).version == 1 and len(cube.history(item.id)) == 1


def test_cube_fields_and_searches_refuse_unencodable_text(mos):
    with pytest.raises(InvalidInput):
        mos.create_cube(f"notes {LONE}")
    with pytest.raises(InvalidInput):
        mos.create_cube("notes", description=LONE)
    cube = mos.create_cube("notes")
    with pytest.raises(InvalidInput):
        mos.update_cube(cube.id, name=LONE)
    with pytest.raises(InvalidInput):
        cube.search(LONE)
    with pytest.raises(InvalidInput):
        mos.search(f"where {LONE}", [cube.id])
    with pytest.raises(InvalidInput):
        cube.search("where", metadata={"a": _deep(40)})
    assert [c.name for c in mos.list_cubes()] == ["notes"]


def test_depth_and_size_limits_admit_what_they_promise():
    assert check_json_object(_deep(32), "metadata")
    assert check_json_object({"blob": "x" * 60_000, "n": [1, 2.5, None, True]}, "metadata")
    with pytest.raises(InvalidInput, match="deeper than 32"):
        check_json_object(_deep(33), "metadata")
    with pytest.raises(InvalidInput, match="lone surrogate") as error:
        check_json_object({"k": LONE}, "metadata")
    assert LONE not in str(error.value)
