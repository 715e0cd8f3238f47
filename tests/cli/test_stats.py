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
