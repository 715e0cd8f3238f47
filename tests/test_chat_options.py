"""Chat options: one typed object, the same whichever door builds it."""

from __future__ import annotations

import pytest

from api.schemas.chat import ChatRequest
from api.schemas.openai import ChatCompletionCreate
from memos.chat_options import ChatOptions, chat_options
from memos.errors import InvalidInput

TURN = [{"role": "user", "content": "Where does Alice live?"}]


def test_keywords_lay_over_the_options_object():
    merged = chat_options(ChatOptions(k=2, max_new_tokens=8), {"max_new_tokens": 16})
    assert (merged.k, merged.max_new_tokens) == (2, 16)


def test_server_time_limit_applies_unless_the_caller_names_one():
    assert chat_options(None, {}, 120.0).max_seconds == 120.0
    assert chat_options(ChatOptions(), {}, 120.0).max_seconds == 120.0
    assert chat_options(ChatOptions(max_seconds=3.0), {}, 120.0).max_seconds == 3.0
    assert chat_options(None, {"max_seconds": None}, 120.0).max_seconds is None


def test_merging_leaves_the_callers_options_as_they_were():
    given = ChatOptions(k=3)
    chat_options(given, {"k": 4}, 120.0)
    assert (given.k, given.max_seconds) == (3, None)


def test_merged_options_are_checked_again():
    with pytest.raises(InvalidInput, match="memory kinds"):
        chat_options(ChatOptions(), {"memory_kinds": ("episodic",)})
    with pytest.raises(TypeError):
        chat_options(None, {"top_k": 3})


def test_http_request_leaves_the_time_limit_to_the_server():
    fields = ChatOptions(k=2, stop=("\n",)).request_fields()
    assert fields["k"] == 2 and fields["stop"] == ("\n",) and "max_seconds" not in fields
    assert ChatRequest(messages=TURN, **fields).chat_options() == ChatOptions(k=2, stop=("\n",))
    with pytest.raises(InvalidInput, match="max_seconds"):
        ChatOptions(max_seconds=1.0).request_fields()


def test_rest_and_openai_requests_give_the_same_options():
    rest = ChatRequest(messages=TURN, k=2, max_new_tokens=12, stop=["."], seed=7,
                       memory_kinds=["plaintext"], session_id="s1", write_back=True)
    openai = ChatCompletionCreate(model="memos", messages=TURN, k=2, max_tokens=12, stop=".",
                                  seed=7, memory_kinds=["plaintext"], session_id="s1",
                                  write_back=True)
    expected = ChatOptions(k=2, max_new_tokens=12, stop=(".",), seed=7,
                           memory_kinds=("plaintext",), session_id="s1", write_back=True)
    assert rest.chat_options() == expected
    assert openai.chat_options() == expected
