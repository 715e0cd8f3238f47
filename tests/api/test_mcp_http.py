"""The MCP SDK's own client against ``/mcp`` on a real server, with memos API keys."""

from __future__ import annotations

import asyncio

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

TOOLS = {"list_cubes", "create_cube", "add_memories", "search_memories", "get_memory",
         "update_memory", "archive_memory", "delete_memory", "chat_with_memory"}


def mcp_client(live, key: str) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    return Client(streamable_http_client(f"{live.url}/mcp", http_client=http))


def run(live, key: str, scenario):
    async def main():
        async with mcp_client(live, key) as client:
            return await scenario(client)

    return asyncio.run(main())


async def call(client: Client, tool: str, **arguments):
    return await client.call_tool(tool, arguments)


@pytest.fixture(scope="module")
def bobs_cube(bob):
    cube = bob.create_cube("bob-mcp-private")
    cube.add("Bob's safe code is 4321.")
    yield cube
    bob.delete_cube(cube.id)


def test_tools_are_listed_with_descriptions_and_schemas(live, alice_key):
    async def scenario(client):
        return (await client.list_tools()).tools

    tools = run(live, alice_key, scenario)
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.description and tool.input_schema["type"] == "object"
    search = next(tool for tool in tools if tool.name == "search_memories")
    assert search.input_schema["required"] == ["query"]


def test_add_search_update_and_archive_over_http(live, alice_key):
    async def scenario(client):
        cube = (await call(client, "create_cube", name="mcp-http-notes")).structured_content
        added = await call(client, "add_memories", cube_id=cube["id"], memories=[
            {"text": "Alice moved to Lisbon in May 2023."},
            {"text": "Carol plays the cello.", "tags": ["music"]}])
        hits = await call(client, "search_memories", query="Where does Alice live?",
                          cube_ids=[cube["id"]], k=2)
        first = added.structured_content["data"][0]["id"]
        updated = await call(client, "update_memory", cube_id=cube["id"], memory_id=first,
                             text="Alice moved to Porto in June 2024.")
        archived = await call(client, "archive_memory", cube_id=cube["id"], memory_id=first)
        listed = await client.read_resource(f"memos://cubes/{cube['id']}/memories")
        return added, hits.structured_content, updated, archived, listed

    added, hits, updated, archived, listed = run(live, alice_key, scenario)
    assert not added.is_error and added.structured_content["count"] == 2
    best = hits["data"][0]
    assert best["item"]["text"] == "Alice moved to Lisbon in May 2023." and best["why"]
    assert updated.structured_content["text"] == "Alice moved to Porto in June 2024."
    assert updated.structured_content["version"] == 2
    assert archived.structured_content["state"] == "archived"
    assert listed.contents[0].mime_type == "application/json"
    assert '"count": 2' in listed.contents[0].text


def test_chat_with_memory_answers_from_the_callers_cubes(live, alice_key, alice):
    cube = alice.create_cube("mcp-chat")
    cube.add("Dana's favourite fruit is the mango.")
    try:
        async def scenario(client):
            return await call(client, "chat_with_memory", question="What fruit does Dana like?",
                              cube_ids=[cube.id], k=1, max_new_tokens=4)

        reply = run(live, alice_key, scenario).structured_content
        ours = live.mos.chat([{"role": "user", "content": "What fruit does Dana like?"}],
                             [cube.id], user="alice", k=1, max_new_tokens=4)
        assert reply["text"].strip() and reply["stats"]["completion_tokens"] <= 4
        assert [h["item"]["id"] for h in reply["memories"]] == [h.item.id for h in ours.memories]
    finally:
        alice.delete_cube(cube.id)


def test_another_users_cube_answers_like_an_unknown_one(live, alice_key, bobs_cube):
    item_id = bobs_cube.list()[0][0].id

    async def scenario(client):
        answers = {}
        for cube_id in (bobs_cube.id, "no-such-cube"):
            answers[cube_id] = [
                await call(client, "get_memory", cube_id=cube_id, memory_id=item_id),
                await call(client, "add_memories", cube_id=cube_id, memories=[{"text": "x"}]),
                await call(client, "search_memories", query="safe code", cube_ids=[cube_id]),
                await call(client, "delete_memory", cube_id=cube_id, memory_id=item_id)]
            with pytest.raises(MCPError) as raised:
                await client.read_resource(f"memos://cubes/{cube_id}/memories")
            answers[cube_id].append(raised.value)
        cubes = await call(client, "list_cubes")
        return answers, cubes.structured_content

    answers, cubes = run(live, alice_key, scenario)
    for foreign, unknown in zip(answers[bobs_cube.id], answers["no-such-cube"], strict=True):
        if isinstance(foreign, MCPError):
            assert (foreign.code, str(foreign).replace(bobs_cube.id, "X")) == (
                unknown.code, str(unknown).replace("no-such-cube", "X"))
        else:
            assert foreign.is_error and unknown.is_error
            assert foreign.content[0].text.replace(bobs_cube.id, "X") == \
                unknown.content[0].text.replace("no-such-cube", "X")
    assert bobs_cube.id not in {cube["id"] for cube in cubes["data"]}
    assert bobs_cube.list()[1] == 1  # nothing was added or deleted


def test_bad_arguments_are_tool_errors_and_the_session_goes_on(live, alice_key):
    async def scenario(client):
        bad = [await call(client, "search_memories", query="", k=0),
               await call(client, "add_memories", cube_id="x", memories=[]),
               await call(client, "get_memory", cube_id=["not", "a", "string"], memory_id=1)]
        unknown_tool = await call(client, "no_such_tool")
        return bad, unknown_tool, await call(client, "list_cubes")

    bad, unknown_tool, after = run(live, alice_key, scenario)
    assert all(result.is_error and result.content[0].text for result in bad)
    assert unknown_tool.is_error and "no_such_tool" in unknown_tool.content[0].text
    assert not after.is_error


@pytest.mark.parametrize("key", [None, "memos_wrong-key-0123456789abcdef"])
def test_missing_or_wrong_key_is_refused_with_401(live, key):
    with live.http(key) as http:
        response = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                             headers={"Accept": "application/json, text/event-stream"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "invalid_token"
