"""``memos memories``: add, list, show, search, edit, archive, freeze, delete, purge, history."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def cube(cli) -> str:
    """A fresh cube with two memories; its name."""
    name = f"mem-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    cli.ok("memories", "add", name, "Alice moved to Lisbon in May 2023.",
           "Bob adopted a grey cat named Miso.", "--meta", "speaker=Alice")
    return name


def ids_of(cli, cube: str, *options: str) -> dict[str, str]:
    page = cli.json("memories", "list", cube, *options)
    return {item["text"]: item["id"] for item in page["items"]}


def test_add_stores_each_text_with_metadata_and_tags(cli):
    name = f"add-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    added = cli.json("memories", "add", name, "Carol runs every Sunday.", "--tag", "habit",
                     "--meta", "speaker=Carol", "--meta", "turn=3")
    assert [item["text"] for item in added] == ["Carol runs every Sunday."]
    assert added[0]["tags"] == ["habit"] and added[0]["metadata"] == {"speaker": "Carol",
                                                                      "turn": 3}


def test_add_reads_one_memory_per_line_from_stdin(cli):
    name = f"stdin-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    added = cli.json("memories", "add", name, "-", input="Dana plays the cello.\n\n"
                                                         "Eve speaks Japanese.\n")
    assert [item["text"] for item in added] == ["Dana plays the cello.", "Eve speaks Japanese."]


def test_list_pages_newest_first_with_total(cli, cube):
    page = cli.json("memories", "list", cube, "--limit", "1")
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["text"] == "Bob adopted a grey cat named Miso."


def test_list_table_shows_the_texts(cli, cube):
    output = cli.ok("memories", "list", cube).stdout
    assert "1-2 of 2" in output and "Alice" in output and "Miso" in output


def test_show_prints_every_attribute(cli, cube):
    item_id = ids_of(cli, cube)["Alice moved to Lisbon in May 2023."]
    item = cli.json("memories", "show", cube, item_id)
    assert item["id"] == item_id and item["metadata"] == {"speaker": "Alice"}
    assert item_id in cli.ok("memories", "show", cube, item_id).stdout


def test_search_finds_the_relevant_memory_first(cli, cube):
    hits = cli.json("memories", "search", "Where does Alice live?", "-c", cube, "-k", "2")
    assert hits[0]["item"]["text"] == "Alice moved to Lisbon in May 2023."
    assert "Alice" in cli.ok("memories", "search", "Alice Lisbon", "-c", cube).stdout


def test_edit_changes_text_and_merges_metadata(cli, cube):
    item_id = ids_of(cli, cube)["Alice moved to Lisbon in May 2023."]
    edited = cli.json("memories", "edit", cube, item_id, "--text", "Alice moved to Porto.",
                      "--meta", "checked=true")
    assert edited["text"] == "Alice moved to Porto." and edited["version"] == 2
    assert edited["metadata"] == {"speaker": "Alice", "checked": True}


def test_edit_without_changes_is_a_usage_error(cli, cube):
    item_id = ids_of(cli, cube)["Alice moved to Lisbon in May 2023."]
    assert cli.run("memories", "edit", cube, item_id).exit_code == 2


def test_archive_hides_from_search_but_keeps_the_memory(cli, cube):
    item_id = ids_of(cli, cube)["Alice moved to Lisbon in May 2023."]
    assert cli.json("memories", "archive", cube, item_id)[0]["state"] == "archived"
    hits = cli.json("memories", "search", "Where does Alice live?", "-c", cube)
    assert item_id not in [hit["item"]["id"] for hit in hits]
    assert ids_of(cli, cube, "--state", "archived") == {"Alice moved to Lisbon in May 2023.":
                                                        item_id}


def test_freeze_then_archive_is_refused_with_exit_1(cli, cube):
    item_id = ids_of(cli, cube)["Bob adopted a grey cat named Miso."]
    assert cli.json("memories", "freeze", cube, item_id)[0]["state"] == "frozen"
    result = cli.run("memories", "archive", cube, item_id)
    assert result.exit_code == 1 and "cannot move a memory from frozen to archived" in \
        result.stderr


def test_delete_and_purge_refuse_without_yes(cli, cube):
    item_id = ids_of(cli, cube)["Bob adopted a grey cat named Miso."]
    for verb in ("delete", "purge"):
        result = cli.run("memories", verb, cube, item_id)
        assert result.exit_code == 1 and "without --yes" in result.stderr
    assert cli.json("memories", "show", cube, item_id)["state"] == "created"


def test_delete_soft_deletes_and_purge_removes_for_good(cli, cube):
    texts = ids_of(cli, cube)
    bob, alice = texts["Bob adopted a grey cat named Miso."], texts[
        "Alice moved to Lisbon in May 2023."]
    assert cli.json("memories", "delete", cube, bob, "--yes")[0]["state"] == "deleted"
    assert cli.json("memories", "purge", cube, alice, "--yes") == {"purged": [alice]}
    assert cli.run("memories", "show", cube, alice).exit_code == 1
    assert cli.json("memories", "show", cube, bob)["state"] == "deleted"


def test_history_lists_every_change_oldest_first(cli, cube):
    item_id = ids_of(cli, cube)["Alice moved to Lisbon in May 2023."]
    cli.ok("memories", "edit", cube, item_id, "--tag", "moves")
    cli.ok("memories", "archive", cube, item_id)
    events = [entry["event"] for entry in cli.json("memories", "history", cube, item_id)]
    assert events == ["created", "updated", "archived"]
    assert "archived" in cli.ok("memories", "history", cube, item_id).stdout


def test_unknown_memory_exits_1(cli, cube):
    result = cli.run("memories", "show", cube, "0" * 32)
    assert result.exit_code == 1 and result.stderr.startswith("Error: no memory")
