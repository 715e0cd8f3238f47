"""The official OpenAI client against /v1/chat/completions and /v1/models on a real server."""

from __future__ import annotations

import openai
import pytest

QUESTION = [{"role": "user", "content": "Where does Alice live?"}]
# Texts are compared with the KV cache off: cold prefills of the same ids decode identically.
PLAINTEXT = {"memory_kinds": ["plaintext"]}
OPENAI_ERROR_FIELDS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def cube(alice):
    cube = alice.create_cube("openai-cube")
    cube.add_many([{"text": "Alice moved to Lisbon in May 2023."},
                   {"text": "Bob adopted a cat named Miso."}])
    yield cube
    alice.delete_cube(cube.id)


@pytest.fixture(scope="module")
def bobs_cube(bob):
    cube = bob.create_cube("bob-private")
    cube.add("Alice lives in Reykjavik, says Bob's private note.")
    yield cube
    bob.delete_cube(cube.id)


def openai_client(live, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key=key, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def client(live, alice_key):
    with openai_client(live, alice_key) as client:
        yield client


def memory_ids(memories) -> list[str]:
    return [hit["item"]["id"] if isinstance(hit, dict) else hit.item.id for hit in memories]


def test_models_lists_memos(client):
    assert "memos" in [model.id for model in client.models.list()]


def test_completion_uses_the_memories_our_own_chat_uses(live, client, cube):
    completion = client.chat.completions.create(
        model="memos", messages=QUESTION, max_tokens=12,
        extra_body={"cube_ids": [cube.id], "k": 2, **PLAINTEXT})
    ours = live.mos.chat(QUESTION, [cube.id], user="alice", k=2, max_new_tokens=12,
                         memory_kinds=("plaintext",))
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.content == ours.text and ours.text.strip()
    assert completion.choices[0].finish_reason in {"stop", "length"}
    memories = completion.model_extra["memos"]["memories"]
    assert memory_ids(memories) == memory_ids(ours.memories)
    assert memories[0]["item"]["text"] == "Alice moved to Lisbon in May 2023."
    usage = completion.usage
    assert usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 12
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_stream_chunks_add_up_to_the_completion(client, cube):
    request = {"model": "memos", "messages": QUESTION, "max_tokens": 12,
               "extra_body": {"cube_ids": [cube.id], "k": 2, **PLAINTEXT}}
    whole = client.chat.completions.create(**request)
    chunks = list(client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}))
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == whole.choices[0].finish_reason and not any(finishes[:-1])
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_stream_is_server_sent_events_ending_with_done(live, alice_key, cube):
    body = {"model": "memos", "messages": QUESTION, "max_tokens": 4, "stream": True,
            "cube_ids": [cube.id]}
    with live.http(alice_key) as http, \
            http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [line for line in response.iter_lines() if line.startswith("data:")]
    assert data[-1] == "data: [DONE]" and len(data) >= 3


def test_default_cubes_are_those_the_caller_may_read(live, client, cube, bobs_cube):
    completion = client.chat.completions.create(model="memos", messages=QUESTION, max_tokens=2)
    ours = live.mos.chat(QUESTION, None, user="alice", max_new_tokens=2)
    used = memory_ids(completion.model_extra["memos"]["memories"])
    assert used == memory_ids(ours.memories) and used
    assert bobs_cube.id not in {hit["item"]["cube_id"]
                                for hit in completion.model_extra["memos"]["memories"]}


def test_write_back_through_extra_body_stores_the_turn(client, alice):
    target = alice.create_cube("openai-write-back")
    try:
        client.chat.completions.create(
            model="memos", max_tokens=2,
            messages=[{"role": "user", "content": "Zoe adopted a parrot named Kiwi."}],
            extra_body={"cube_ids": [target.id], "write_back": True, "session_id": "s-oa"})
        items, total = target.list()
        assert total == 1 and items[0].provenance.session_id == "s-oa"
    finally:
        alice.delete_cube(target.id)


def test_wrong_key_is_an_openai_authentication_error(live):
    with openai_client(live, "memos_not-a-real-key-0123456789") as stranger, \
            pytest.raises(openai.AuthenticationError) as raised:
        stranger.chat.completions.create(model="memos", messages=QUESTION, max_tokens=2)
    assert raised.value.status_code == 401
    error = raised.value.response.json()["error"]
    assert set(error) == OPENAI_ERROR_FIELDS and error["code"] == "invalid_api_key"


@pytest.mark.parametrize(("change", "param"), [
    ({"temperature": 5}, "temperature"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages.0.content"),
    ({"messages": []}, "messages"),
    ({"n": 2}, "n"),
    ({"extra_body": {"k": -1}}, "k"),
    ({"extra_body": {"memory_kinds": ["dreams"]}}, "memory_kinds.0"),
    ({"extra_body": {"surprise": True}}, "surprise"),
])
def test_bad_input_is_an_openai_bad_request(client, change, param):
    request = {"model": "memos", "messages": QUESTION, "max_tokens": 2, **change}
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(**request)
    error = raised.value.response.json()["error"]
    assert set(error) == OPENAI_ERROR_FIELDS
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_write_back_without_a_cube_is_an_openai_bad_request(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="memos", messages=QUESTION, max_tokens=2,
                                       extra_body={"write_back": True})
    assert set(raised.value.response.json()["error"]) == OPENAI_ERROR_FIELDS


def test_unknown_model_is_an_openai_not_found(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=QUESTION, max_tokens=2)
    assert raised.value.response.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("stream", [False, True])
def test_another_users_cube_answers_like_an_unknown_one(client, bobs_cube, stream):
    def refusal(cube_id: str) -> dict:
        with pytest.raises(openai.NotFoundError) as raised:
            client.chat.completions.create(model="memos", messages=QUESTION, max_tokens=2,
                                           stream=stream, extra_body={"cube_ids": [cube_id]})
        return raised.value.response.json()["error"]

    foreign, unknown = refusal(bobs_cube.id), refusal("no-such-cube")
    assert foreign["message"].replace(bobs_cube.id, "X") == unknown["message"].replace(
        "no-such-cube", "X")
    assert {**foreign, "message": ""} == {**unknown, "message": ""}


def test_body_that_is_not_json_is_an_openai_bad_request(live, alice_key):
    with live.http(alice_key) as http:
        response = http.post("/v1/chat/completions", content=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == OPENAI_ERROR_FIELDS and error["code"] == "invalid_json"
