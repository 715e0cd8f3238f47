"""A share gives access to a cube and nothing more: the cube's owner cannot read, probe or
scrub the sharee's own conversations, and the sharee can leave a share it did not want."""

from __future__ import annotations

import pytest

from memos.errors import NotFound

SECRET = "My locker code is 9931."


def say(client, text: str, cube_ids: list[str], session_id: str) -> None:
    client.chat([{"role": "user", "content": text}], cube_ids=cube_ids, session_id=session_id,
                max_new_tokens=1, memory_kinds=("plaintext",))


@pytest.fixture
def cubes(alice, bob):
    """Alice's own cube holding her secret; Bob's cube, shared with Alice unasked."""
    mine, theirs = alice.create_cube("alice-own"), bob.create_cube("bob-bait")
    bob.share_cube(theirs.id, "alice", "read")
    yield mine, theirs
    alice.delete_cube(mine.id)
    bob.delete_cube(theirs.id)


def test_a_user_can_leave_a_cube_shared_with_them_unasked(alice, cubes):
    mine, theirs = cubes
    mine.add("Alice's locker code is 9931.")
    bait = bob_note(theirs, "Alice's locker code changed to 0000.")
    question = "What is Alice's locker code?"
    assert bait in [hit.item.id for hit in alice.search(question)]  # every readable cube

    alice.share_cube(theirs.id, "alice", None)  # leaves it
    with pytest.raises(NotFound):
        alice.get_cube(theirs.id)
    assert bait not in [hit.item.id for hit in alice.search(question)]


def test_forget_check_does_not_read_a_sharees_own_sessions(live, alice, bob, cubes):
    mine, theirs = cubes
    say(alice, SECRET, [mine.id], "alice-private")
    report = bob.forget_check(theirs.id, texts=["locker code is 9931"], probe_model=False)
    assert [r for r in report["remains"] if r["kind"] == "session"] == []
    assert SECRET in str(live.mos.sessions.recent("alice-private", owner="alice"))


def test_a_delete_in_a_shared_cube_does_not_scrub_the_sharees_own_sessions(live, alice, cubes):
    mine, theirs = cubes
    say(alice, SECRET, [mine.id], "alice-diary")
    bait = theirs.add("locker code", force=True)
    theirs.delete(bait.id)
    assert SECRET in str(live.mos.sessions.recent("alice-diary", owner="alice"))


def test_a_delete_scrubs_a_sharees_session_that_was_given_the_cubes_memories(live, alice,
                                                                              cubes):
    _, theirs = cubes
    note = theirs.add("The team offsite is in Porto.", force=True)
    say(alice, "Remind me: The team offsite is in Porto.", [theirs.id], "alice-team")
    theirs.delete(note.id)
    kept = str(live.mos.sessions.recent("alice-team", owner="alice"))
    assert "The team offsite is in Porto." not in kept and "[forgotten]" in kept


def test_forget_check_does_not_look_for_given_texts_in_other_tenants_kv(alice, bob, cubes):
    mine, theirs = cubes
    alice.warm(mine.id, [mine.add("Alice's bank PIN is 4471.").id])
    report = bob.forget_check(theirs.id, texts=["Alice's bank PIN is 4471."],
                              probe_model=False)
    assert [r for r in report["remains"] if r["kind"] == "kv"] == []


def bob_note(cube, text: str) -> str:
    return cube.add(text, force=True).id


def test_deleting_a_short_common_note_leaves_other_tenants_kv_alone(live, alice, bob, cubes):
    mine, theirs = cubes
    alice.warm(mine.id, [mine.add("Alice waters the plants on the balcony every Sunday.").id])
    before = {entry["key"] for entry in live.mos.kv_entries(mine.id, "alice")}
    common = theirs.add("the", force=True)
    theirs.delete(common.id)
    assert before and {entry["key"] for entry in live.mos.kv_entries(mine.id, "alice")} == before


def test_forget_check_finds_no_other_tenants_kv_through_a_note_of_the_same_text(alice, bob,
                                                                                cubes):
    mine, theirs = cubes
    text = "Alice's safe combination is 12-34-56."
    alice.warm(mine.id, [mine.add(text).id])
    twin = theirs.add(text, force=True)
    report = bob.forget_check(theirs.id, item_ids=[twin.id], probe_model=False)
    assert [r for r in report["remains"] if r["kind"] == "kv"] == []
