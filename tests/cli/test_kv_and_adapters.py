"""``memos kv`` and ``memos adapters`` on a home folder and on a server, with the real default
chat model."""

from __future__ import annotations

import uuid

import pytest

from memos.engine.model_files import converted_default_model
from tests.cli.conftest import Cli


@pytest.fixture(scope="module")
def model_cli(engine, models_dir, tmp_path_factory) -> Cli:
    """The CLI on a fresh home, loading the session's converted model (MEMOS_MODEL)."""
    cli = Cli(["--home", str(tmp_path_factory.mktemp("kv-home"))], "home")
    cli.env = {"MEMOS_MODEL": str(converted_default_model(models_dir)), "MEMOS_DEVICE": "cpu"}
    return cli


@pytest.fixture(scope="module")
def notes(model_cli) -> str:
    name = f"kv-{uuid.uuid4().hex[:6]}"
    model_cli.ok("cubes", "create", name)
    model_cli.ok("memories", "add", name, "Alice moved to Lisbon in May 2023.",
                 "Bob adopted a grey cat named Miso.")
    return name


def test_warm_list_stats_evict_round_trip(model_cli, notes):
    assert model_cli.json("kv", "warm", notes) == {"warmed": 2}
    entries = model_cli.json("kv", "list", "-c", notes)
    assert len(entries) == 2 and {entry["tier"] for entry in entries} == {"disk"}
    stats = model_cli.json("kv", "stats")
    # the two notes' entries, plus the prompt-tree nodes above them that no note owns
    assert stats["tiers"]["disk"]["entries"] >= 2 and stats["tiers"]["disk"]["bytes"] > 0
    assert "disk" in model_cli.ok("kv", "stats").stdout
    evicted = model_cli.json("kv", "evict", entries[0]["key"][:16])
    assert evicted == {"evicted": [entries[0]["key"]]}
    remaining = [e["key"] for e in model_cli.json("kv", "list")]
    assert entries[0]["key"] not in remaining and entries[1]["key"] in remaining


def test_evict_of_an_unknown_key_exits_1(model_cli):
    result = model_cli.run("kv", "evict", "ffffffffffff")
    assert result.exit_code == 1 and "no cached chunk 'ffffffffffff'" in result.stderr


def test_distill_then_list_then_delete_an_adapter(model_cli, notes):
    adapter = model_cli.json("adapters", "distill", notes, "--steps", "1")
    assert adapter["steps"] == 1 and adapter["items"] == 2
    assert [a["id"] for a in model_cli.json("adapters", "list", notes)] == [adapter["id"]]
    refused = model_cli.run("adapters", "delete", adapter["id"])
    assert refused.exit_code == 1 and "without --yes" in refused.stderr
    model_cli.ok("adapters", "delete", adapter["id"], "--yes")
    assert model_cli.json("adapters", "list", notes) == []


def test_pin_on_a_home_folder_asks_for_a_server(home_cli):
    result = home_cli.run("kv", "pin", "999540ab")
    assert result.exit_code == 1 and "kv pin needs a running server" in result.stderr


@pytest.fixture(scope="module")
def server_notes(admin_cli) -> str:
    name = f"kv-{uuid.uuid4().hex[:6]}"
    admin_cli.ok("cubes", "create", name)
    admin_cli.ok("memories", "add", name, "Carol plays the cello on Sundays.",
                 "Dan keeps bees behind the barn.")
    return name


def test_warm_list_pin_evict_on_a_server(admin_cli, server_notes):
    assert admin_cli.json("kv", "warm", server_notes) == {"warmed": 2}
    entries = admin_cli.json("kv", "list", "-c", server_notes)
    assert len(entries) == 2 and all(entry["cube_id"] for entry in entries)
    key = entries[0]["key"]
    assert admin_cli.json("kv", "pin", key[:16]) == {"key": key, "pinned": True}
    assert _entry(admin_cli, key)["pinned"] is True
    assert "Released" in admin_cli.ok("kv", "pin", key[:16], "--off").stdout
    assert _entry(admin_cli, key)["pinned"] is False
    stats = admin_cli.json("kv", "stats")
    assert stats["entries"] >= 2 and sum(t["bytes"] for t in stats["tiers"].values()) > 0
    assert admin_cli.json("kv", "evict", key[:16]) == {"evicted": [key]}
    assert [e["key"] for e in admin_cli.json("kv", "list", "-c", server_notes)] == \
        [entries[1]["key"]]


def test_pin_of_an_unknown_key_exits_1_on_a_server(admin_cli):
    result = admin_cli.run("kv", "pin", "ffffffffffff")
    assert result.exit_code == 1 and "no cached chunk 'ffffffffffff'" in result.stderr


def test_distill_list_delete_on_a_server_finds_the_adapters_cube(admin_cli, server_notes):
    adapter = admin_cli.json("adapters", "distill", server_notes, "--steps", "1")
    assert adapter["steps"] == 1 and adapter["items"] == 2
    assert [a["id"] for a in admin_cli.json("adapters", "list", server_notes)] == [adapter["id"]]
    other = f"other-{uuid.uuid4().hex[:6]}"
    admin_cli.ok("cubes", "create", other)
    wrong_cube = admin_cli.run("adapters", "delete", adapter["id"], "--cube", other, "--yes")
    assert wrong_cube.exit_code == 1 and "no adapter" in wrong_cube.stderr
    admin_cli.ok("adapters", "delete", adapter["id"], "--yes")
    assert admin_cli.json("adapters", "list", server_notes) == []
    gone = admin_cli.run("adapters", "delete", adapter["id"], "--yes")
    assert gone.exit_code == 1 and "no adapter" in gone.stderr


def _entry(cli, key: str) -> dict:
    return next(entry for entry in cli.json("kv", "list") if entry["key"] == key)
