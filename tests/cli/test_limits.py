"""``memos limits``: every limit, in both modes."""

from __future__ import annotations


def test_limits_lists_queues_jobs_and_quotas(cli):
    data = cli.json("limits")
    assert data["storage"] == {"max_memories_per_cube": 100_000, "max_bytes_per_user": 1 << 30,
                               "history_versions_kept": 100}
    assert data["model"]["max_queued_per_user"] == 8
    assert data["jobs"]["distills_per_cube"] == 1
    assert "max_memories_per_cube" in cli.ok("limits").stdout


def test_limits_on_a_server_add_request_sizes_and_usage(admin_cli):
    data = admin_cli.json("limits")
    assert data["requests"]["body_bytes"] == 1 << 20
    assert set(data["usage"]) == {"bytes", "model_running", "model_queued"}
