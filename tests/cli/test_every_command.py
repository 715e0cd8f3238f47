"""Every command that needs no model runs, through the same code, on a home and on a server.

The commands that load the chat model (``kv``, ``adapters``) have their own tests in both modes
in ``test_kv_and_adapters.py``; ``serve`` and ``mcp`` start servers and are tested elsewhere.
"""

from __future__ import annotations

import uuid

import typer.main

from memos.cli import app

MODEL_COMMANDS = {"kv", "adapters", "serve", "mcp"}
WALKED = {("cubes", c) for c in ("create", "list", "show", "share", "export", "import",
                                 "delete")} | \
    {("memories", c) for c in ("add", "list", "show", "search", "edit", "archive", "freeze",
                               "history", "delete", "purge", "forget-check")} | \
    {("jobs", "list"), ("users", "create"), ("users", "list"), ("keys", "create"),
     ("keys", "list"), ("keys", "revoke"), ("stats",), ("limits",)}


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def commands() -> set[tuple[str, ...]]:
    """Every command of the CLI, as (group, command) or (command,)."""
    root = typer.main.get_command(app)
    found = set()
    for name, command in root.commands.items():
        subcommands = getattr(command, "commands", None)
        found |= {(name, sub) for sub in subcommands} if subcommands else {(name,)}
    return found


def test_the_walk_covers_every_command_that_needs_no_model():
    assert {c for c in commands() if c[0] not in MODEL_COMMANDS} <= WALKED | {
        ("jobs", "show"), ("jobs", "cancel")}  # need a job: test_jobs.py, in both modes


def test_cube_and_memory_commands_in_each_mode(cli, tmp_path):
    name = unique("walk")
    cube = cli.json("cubes", "create", name)
    assert name in [c["name"] for c in cli.json("cubes", "list")]
    first, second = cli.json("memories", "add", name, "Alice moved to Lisbon.", "Bob plays chess.")
    assert cli.json("memories", "list", name)["total"] == 2
    assert cli.json("memories", "show", name, first["id"])["text"] == "Alice moved to Lisbon."
    assert cli.json("memories", "search", "Where does Alice live?", "-c", name, "-k", "1")
    assert cli.json("memories", "edit", name, first["id"], "--tag", "move")["version"] == 2
    assert [e["event"] for e in cli.json("memories", "history", name, first["id"])][-1]
    assert cli.json("memories", "archive", name, first["id"])[0]["state"] == "archived"
    assert cli.json("memories", "freeze", name, second["id"])[0]["state"] == "frozen"
    assert cli.json("memories", "delete", name, second["id"], "--yes")[0]["state"] == "deleted"
    assert cli.json("memories", "forget-check", name, second["id"], "--no-probe")["clean"]
    assert cli.json("memories", "purge", name, second["id"], "--yes")["purged"]
    assert cli.json("cubes", "show", name)["jobs_by_state"] == {}
    assert cli.json("jobs", "list", "-c", name)["total"] == 0
    assert [row["name"] for row in cli.json("stats", "-c", name)] == [name]
    archive = tmp_path / "walk.memcube"
    assert cli.json("cubes", "export", name, str(archive))["counts"]["items"] == 1
    imported = cli.json("cubes", "import", str(archive), "--name", unique("walked"))
    assert imported["id"] != cube["id"]
    assert cli.json("cubes", "delete", imported["id"], "--yes")["deleted"] == imported["id"]


def test_user_key_and_limit_commands_in_each_mode(cli):
    user = unique("walker")
    assert cli.json("users", "create", user)["id"] == user
    assert user in [u["id"] for u in cli.json("users", "list")]
    key = cli.json("keys", "create", user, "--name", "walk")
    assert key["key"] and key["id"] in [k["id"] for k in cli.json("keys", "list", "--user", user)]
    name = unique("shared")
    cli.ok("cubes", "create", name)
    assert cli.json("cubes", "share", name, user, "--access", "read")["shares"] == {user: "read"}
    assert cli.json("keys", "revoke", key["id"], "--yes")["revoked"] == key["id"]
    assert cli.json("limits")["storage"]["max_memories_per_cube"] == 100_000
