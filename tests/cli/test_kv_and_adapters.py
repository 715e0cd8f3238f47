"""``memos kv`` and ``memos adapters`` on a home folder, with the real default chat model."""

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
    assert stats["tiers"]["disk"]["entries"] == 2 and stats["tiers"]["disk"]["bytes"] > 0
    assert "disk" in model_cli.ok("kv", "stats").stdout
    evicted = model_cli.json("kv", "evict", entries[0]["key"][:16])
    assert evicted == {"evicted": [entries[0]["key"]]}
    assert [e["key"] for e in model_cli.json("kv", "list")] == [entries[1]["key"]]


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


def test_kv_and_adapters_on_a_server_point_to_home_mode(admin_cli):
    for args in (("kv", "stats"), ("adapters", "list", "no-such-cube")):
        result = admin_cli.run(*args)
        assert result.exit_code == 1
