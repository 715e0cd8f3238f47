"""A note deleted while a chat that retrieved it is still answering is gone afterwards too:
the KV and session turns that chat stores after the delete are forgotten as well."""

from __future__ import annotations

import pytest

from memos.activation.memory import ActivationMemory
from memos.kernel import MemOS
from memos.settings import Settings

NOTE = "The spare house key is under the blue flowerpot."


@pytest.fixture
def mos(engine, embedder, tmp_path):
    with MemOS(settings=Settings(home=tmp_path / "home"), engine=engine,
               embedder=embedder) as kernel:
        yield kernel


def delete_before_commit(monkeypatch, cube, item_id: str) -> None:
    """The user's delete lands while the reply is decoded: after retrieval, before the chat
    stores the prompt's KV (and, after that, its session turns)."""
    commit = ActivationMemory.commit

    def late(self, assembled):
        if cube.get(item_id).state.value != "deleted":
            cube.delete(item_id)
        return commit(self, assembled)

    monkeypatch.setattr(ActivationMemory, "commit", late)


def test_a_note_deleted_while_a_chat_answers_leaves_no_kv_or_session_quote(mos, monkeypatch):
    cube = mos.create_cube("home")
    note = cube.add(NOTE)
    cube.add("The garden hose is in the shed.")
    delete_before_commit(monkeypatch, cube, note.id)

    reply = mos.chat([{"role": "user", "content": f"Remember: {NOTE} Where is the key?"}],
                     cube_ids=[cube.id], session_id="keys", max_new_tokens=4,
                     activation_mode="exact")

    assert note.id in [hit.item.id for hit in reply.memories]  # it was read, then deleted
    report = mos.forget_check(cube.id, item_ids=[note.id], probe_model=False)
    assert report["clean"], report["remains"]
    assert NOTE not in str(mos.sessions.recent("keys"))
