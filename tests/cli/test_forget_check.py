"""``memos memories forget-check`` and supersession through the CLI, on a home and a server."""

from __future__ import annotations

import json
import uuid

FORGET_CHECK_REMAINS = 3


def test_forget_check_reports_copies_then_clean_after_delete(cli):
    name = f"fc-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    [item] = cli.json("memories", "add", name, "Dana's gate code is 5512.")
    before = cli.run("memories", "forget-check", name, item["id"], "--json", "--no-probe")
    assert before.exit_code == FORGET_CHECK_REMAINS
    assert not json.loads(before.stdout)["clean"]
    cli.ok("memories", "delete", name, item["id"], "--yes")
    after = cli.json("memories", "forget-check", name, item["id"], "--no-probe")
    assert after["clean"]
    assert "clean" in cli.ok("memories", "forget-check", name, item["id"], "--no-probe").stdout


def test_add_supersedes_and_search_current_only_or_as_of(cli):
    name = f"sup-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    [old] = cli.json("memories", "add", name, "Ana lives in Lisbon.")
    [new] = cli.json("memories", "add", name, "Ana moved to Berlin.", "--supersedes", old["id"])
    hits = cli.json("memories", "search", "Where does Ana live?", "-c", name, "-k", "2")
    assert [hit["item"]["id"] for hit in hits] == [new["id"], old["id"]]
    current = cli.json("memories", "search", "Where does Ana live?", "-c", name,
                       "--current-only")
    assert [hit["item"]["id"] for hit in current] == [new["id"]]
    past = cli.json("memories", "search", "Where does Ana live?", "-c", name,
                    "--as-of", "2000-01-01")
    assert past == []


def test_forget_check_no_probe_asks_search_only(cli):
    name = f"fp-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    [item] = cli.json("memories", "add", name, "Ana lives in Lisbon.")
    live = cli.run("memories", "forget-check", name, "--text", "Ana lives in Lisbon.",
                   "--no-probe")
    assert live.exit_code == FORGET_CHECK_REMAINS
    assert "Where does Ana live?" in live.stdout and "reproduced: search" in live.stdout
    cli.ok("memories", "delete", name, item["id"], "--yes")
    probes = cli.json("memories", "forget-check", name, item["id"], "--no-probe")["probes"]
    assert probes["channels"] == ["search"] and not probes["model_asked"]
    assert not probes["reproduced"] and probes["results"]
