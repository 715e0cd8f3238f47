"""Chat over HTTP: plain replies, server-sent event streams, and write-back."""

from __future__ import annotations

import asyncio

import pytest

from memos.client import AsyncClient, ChatOptions

QUESTION = [{"role": "user", "content": "Where does Alice live?"}]


@pytest.fixture(scope="module")
def cube(alice):
    cube = alice.create_cube("chat-cube")
    cube.add_many([{"text": "Alice moved to Lisbon in May 2023."},
                   {"text": "Bob adopted a cat named Miso."}])
    yield cube
    alice.delete_cube(cube.id)


def test_chat_answers_with_retrieved_memories(alice, cube):
    reply = alice.chat(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=12)
    assert reply.text.strip()
    assert reply.memories[0].item.text == "Alice moved to Lisbon in May 2023."
    assert reply.stats.prompt_tokens > 0 and 0 < reply.stats.completion_tokens <= 12
    assert reply.finish_reason in {"stop", "length"}


def test_client_chat_matches_kernel_chat_greedily(live, alice, cube):
    remote = alice.chat(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=12)
    local = live.mos.chat(QUESTION, cube_ids=[cube.id], user="alice", k=2, max_new_tokens=12)
    assert remote.text == local.text
    assert [h.item.id for h in remote.memories] == [h.item.id for h in local.memories]


def test_client_sends_an_options_object_as_the_same_request(alice, cube):
    by_keywords = alice.chat(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=12)
    options = ChatOptions(k=2, max_new_tokens=12)
    assert alice.chat(QUESTION, cube_ids=[cube.id], options=options).text == by_keywords.text


def test_stream_deltas_add_up_to_the_final_reply(alice, cube):
    parts = list(alice.chat_stream(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=12))
    deltas, reply = parts[:-1], parts[-1]
    assert all(isinstance(d, str) for d in deltas) and deltas
    assert "".join(deltas) == reply.text
    assert reply.text == alice.chat(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=12).text


def test_stream_sends_server_sent_events(live, alice_key, cube):
    body = {"messages": QUESTION, "cube_ids": [cube.id], "max_new_tokens": 4}
    with live.http(alice_key) as http, http.stream("POST", "/v1/chat/stream", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line.startswith("event:")]
    assert events[-1] == "event: done" and set(events[:-1]) <= {"event: delta"}


def test_write_back_stores_the_exchange(alice):
    cube = alice.create_cube("chat-write-back")
    try:
        alice.chat([{"role": "user", "content": "Zoe adopted a parrot named Kiwi."}],
                   cube_ids=[cube.id], max_new_tokens=4, write_back=True, session_id="s1")
        items, total = cube.list()
        assert total == 1
        assert "Zoe adopted a parrot named Kiwi." in items[0].text
        assert items[0].provenance.session_id == "s1"
    finally:
        alice.delete_cube(cube.id)


def test_async_client_streams_and_searches(live, alice_key, cube):
    async def scenario():
        async with AsyncClient(live.url, alice_key, timeout=120) as client:
            remote = await client.get_cube(cube.id)
            hits = await remote.search("Who has a cat?", k=1)
            parts = [p async for p in client.chat_stream(QUESTION, cube_ids=[cube.id],
                                                        max_new_tokens=4)]
            return hits, parts

    hits, parts = asyncio.run(scenario())
    assert hits[0].item.text == "Bob adopted a cat named Miso."
    assert "".join(parts[:-1]) == parts[-1].text
