"""Deleting a note erases it from every kind: KV nodes and files, session turns, job payloads,
search; nothing else is dropped, and the forget check says so."""

from __future__ import annotations

import pytest

from memos import MemOS
from memos.forgetting import FORGOTTEN

LISBON = "Ana lives in Lisbon near the old river."
CAT = "Bob's cat is called Mochi."
CELLO = "Priya plays the cello in an orchestra."
QUESTION = f"Remember this: {LISBON} Where does Ana live?"


@pytest.fixture(scope="module")
def mos(tmp_path_factory, engine, embedder):
    with MemOS(home=tmp_path_factory.mktemp("forget") / "home", engine=engine,
               embedder=embedder) as mos:
        yield mos


@pytest.fixture(scope="module")
def used(mos):
    """A cube whose notes a chat used (with a session), a warmed path and a queued job."""
    cube = mos.create_cube("people", owner="alice")
    lisbon, cat, cello = (cube.add(text) for text in (LISBON, CAT, CELLO))
    mos.warm(cube.id, [cat.id])  # a path that never went through Lisbon
    mos.chat([{"role": "user", "content": QUESTION}], cube_ids=[cube.id], session_id="s1",
             max_new_tokens=2)
    job = mos.start_distill(cube.id, [lisbon.id, cat.id])
    return cube, lisbon, cat, cello, job


def holders(mos, text):
    activation = mos.activation
    return activation.tree.index.holding(activation.prompts.chunk_ids(text))


def test_before_the_delete_the_check_finds_every_copy(mos, used):
    cube, lisbon, *_ = used
    assert holders(mos, LISBON)
    report = mos.forget_check(cube.id, [lisbon.id], probe_model=False)
    kinds = {entry["kind"] for entry in report["remains"]}
    assert not report["clean"]
    assert {"sql", "search", "session", "kv", "job"} <= kinds


def test_delete_erases_the_note_from_every_kind_and_nothing_else(mos, used):
    cube, lisbon, cat, cello, job = used
    below_lisbon = set(mos.activation.tree.index.subtree(holders(mos, LISBON)))
    elsewhere = [key for key in holders(mos, CAT) if key not in below_lisbon]
    assert elsewhere  # the warmed path: head, then Bob's cat
    files = [mos.activation.cache.file_path(key) for key in holders(mos, LISBON)]
    cube.delete(lisbon.id)

    assert holders(mos, LISBON) == [] and not any(path.exists() for path in files)
    assert all(key in mos.activation.cache for key in elsewhere)  # the other path stayed
    turns = mos.sessions.recent("s1")
    assert turns and all(LISBON not in turn["content"] for turn in turns)
    assert FORGOTTEN in turns[0]["content"]
    assert mos.scheduler.jobs.get(job.id).payload["item_ids"] == [cat.id]
    assert lisbon.id not in [hit.item.id for hit in cube.search("Where does Ana live?")]
    assert {hit.item.id for hit in cube.search("cat cello", k=5)} >= {cat.id, cello.id}

    report = mos.forget_check(cube.id, [lisbon.id], probe_model=False)
    assert report["clean"], report["remains"]
    assert report["retained"][0] == {"kind": "sql", "where": "memory_items", "id": lisbon.id,
                                     "state": "deleted"}


def test_a_purged_note_is_checked_by_its_text(mos, used):
    cube, *_, cello, _ = used
    cube.purge(cello.id)
    report = mos.forget_check(cube.id, texts=[CELLO], probe_model=False)
    assert report["clean"] and report["retained"] == []


def test_the_check_finds_the_note_in_export_archives_this_home_wrote(mos, tmp_path):
    cube = mos.create_cube("exported", owner="alice")
    note, kept = cube.add("Lena's locker code is 4417."), cube.add("Omar likes green tea.")
    before = tmp_path / "before.memcube"
    mos.export_cube(cube.id, before)
    cube.delete(note.id)
    after = tmp_path / "after.memcube"
    mos.export_cube(cube.id, after)

    report = mos.forget_check(cube.id, [note.id], probe_model=False)
    assert not report["clean"]
    [found] = [entry for entry in report["remains"] if entry["kind"] == "export"]
    assert found["file"] == str(before.resolve()) and "items.jsonl" in found["members"]
    scanned = {entry["file"]: entry["members"] for entry in report["exports"]}
    assert scanned[str(after.resolve())] == []  # exports leave deleted notes out

    before.unlink()  # the owner removes the old archive
    report = mos.forget_check(cube.id, [note.id], probe_model=False)
    assert report["clean"], report["remains"]
    assert {"file": str(before.resolve()), "exists": False, "members": []} in report["exports"]
    other = mos.forget_check(cube.id, [kept.id], probe_model=False)
    assert any(entry["kind"] == "export" for entry in other["remains"])
