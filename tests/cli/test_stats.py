"""``memos stats``: per-cube counts in both modes."""

from __future__ import annotations

import uuid


def test_stats_counts_items_by_state_per_cube(cli):
    name = f"stats-{uuid.uuid4().hex[:6]}"
    cli.ok("cubes", "create", name)
    added = cli.json("memories", "add", name, "Frank sails on weekends.", "Gina bakes bread.")
    cli.ok("memories", "archive", name, added[0]["id"])
    [row] = cli.json("stats", "-c", name)
    assert row["name"] == name and row["items_by_state"] == {"archived": 1, "created": 1}
    assert row["indexed"] == 2
    assert name in cli.ok("stats").stdout


def test_stats_in_home_mode_counts_jobs_by_state(home_cli):
    name = f"stats-{uuid.uuid4().hex[:6]}"
    home_cli.ok("cubes", "create", name)
    [row] = home_cli.json("stats", "-c", name)
    assert row["jobs_by_state"] == {}


def test_stats_on_a_server_adds_kv_bytes_by_tier_and_adapters(admin_cli):
    name = f"stats-{uuid.uuid4().hex[:6]}"
    admin_cli.ok("cubes", "create", name)
    admin_cli.ok("memories", "add", name, "Hana repairs old radios.")
    admin_cli.ok("kv", "warm", name)
    [row] = admin_cli.json("stats", "-c", name)
    assert row["adapters"] == 0 and row["jobs_by_state"] == {}
    assert sum(row["kv_bytes_by_tier"].values()) > 0
    assert "kv cache" in admin_cli.ok("stats", "-c", name).stdout
