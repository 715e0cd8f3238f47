"""``memos mcp`` spawned as a subprocess on a temp home, driven by the MCP SDK's stdio client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from memos.auth import KeyStore
from memos.kernel import MemOS

ROOT = Path(__file__).resolve().parents[2]
MEMOS = [sys.executable, "-c", "from memos.cli import main; main()"]


@dataclass
class Home:
    """A home folder with alice's key, her cube, and bob's cube."""

    path: Path
    alice_key: str
    alice_cube: str
    bob_cube: str

    def env(self, api_key: str) -> dict[str, str]:
        return {"PYTHONPATH": str(ROOT), "MEMOS_API_KEY": api_key, "MEMOS_DEVICE": "cpu",
                "HF_HUB_OFFLINE": "1"}

    def server(self, api_key: str) -> StdioServerParameters:
        return StdioServerParameters(command=MEMOS[0], args=[*MEMOS[1:], "--home",
                                                             str(self.path), "mcp"],
                                     env=self.env(api_key), cwd=str(ROOT))


@pytest.fixture(scope="module")
def home(tmp_path_factory, embedder) -> Home:
    path = tmp_path_factory.mktemp("mcp-home")
    with MemOS(path, embedder=embedder) as mos:
        keys = KeyStore(mos.database, mos.clock)
        keys.create_user("alice")
        keys.create_user("bob")
        _, alice_key = keys.create_key("alice")
        alice_cube = mos.create_cube("alice-notes", owner="alice")
        alice_cube.add("Alice moved to Lisbon in May 2023.")
        bob_cube = mos.create_cube("bob-notes", owner="bob")
        bob_cube.add("Bob's safe code is 4321.")
        return Home(path, alice_key, alice_cube.id, bob_cube.id)


def test_stdio_server_acts_for_the_keys_user(home):
    async def scenario():
        async with Client(home.server(home.alice_key), read_timeout_seconds=300) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            cubes = (await client.call_tool("list_cubes", {})).structured_content
            added = await client.call_tool("add_memories", {
                "cube_id": home.alice_cube, "memories": [{"text": "Alice's cat is named Tofu."}]})
            hits = await client.call_tool("search_memories", {"query": "Where does Alice live?",
                                                              "k": 1})
            refused = [await client.call_tool("get_memory", {"cube_id": cube_id,
                                                             "memory_id": "x"})
                       for cube_id in (home.bob_cube, "no-such-cube")]
            bad = await client.call_tool("add_memories", {"cube_id": home.alice_cube,
                                                          "memories": []})
            return tools, cubes, added, hits.structured_content, refused, bad

    tools, cubes, added, hits, refused, bad = asyncio.run(scenario())
    assert {"add_memories", "search_memories", "chat_with_memory"} <= tools
    assert [cube["id"] for cube in cubes["data"]] == [home.alice_cube]
    assert not added.is_error and added.structured_content["data"][0]["cube_id"] == \
        home.alice_cube
    assert hits["data"][0]["item"]["text"] == "Alice moved to Lisbon in May 2023."
    assert hits["data"][0]["why"]
    foreign, unknown = (result.content[0].text for result in refused)
    assert all(result.is_error for result in refused)
    assert foreign.replace(home.bob_cube, "X") == unknown.replace("no-such-cube", "X")
    assert bad.is_error and "memories" in bad.content[0].text


def test_stdio_server_refuses_a_wrong_key(home):
    result = subprocess.run([*MEMOS, "--home", str(home.path), "mcp"], capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=ROOT,
                            env={**os.environ, **home.env("memos_wrong-key-0123456789")})
    assert result.returncode == 1 and "invalid API key" in result.stderr
    assert result.stdout == ""
