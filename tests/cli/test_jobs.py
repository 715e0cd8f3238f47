"""``memos jobs`` in both modes: list, show and cancel the scheduler's persisted jobs."""

from __future__ import annotations

import uuid

import pytest

from memos.kernel import MemOS
from tests.cli.conftest import Cli


def enqueue_archive(mos: MemOS) -> dict:
    cube = mos.create_cube(f"jobs-{len(mos.list_cubes())}")
    return mos.scheduler.enqueue("archive", cube.id, {"item_ids": []}).to_dict()


@pytest.fixture
def queued_job(cli, request, embedder) -> dict:
    """A pending archive job queued by the kernel's scheduler behind the CLI: in the home
    folder, or in the server's MemOS (whose workers never run in these tests)."""
    if cli.mode == "server":
        return enqueue_archive(request.getfixturevalue("server").mos)
    with MemOS(request.getfixturevalue("cli_home"), embedder=embedder) as mos:
        return enqueue_archive(mos)


def test_jobs_list_shows_the_queued_job(cli, queued_job):
    page = cli.json("jobs", "list", "--state", "pending")
    assert queued_job["id"] in [job["id"] for job in page["items"]]
    assert queued_job["id"] in cli.ok("jobs", "list").stdout


def test_jobs_list_filters_by_cube(cli, queued_job):
    page = cli.json("jobs", "list", "-c", queued_job["cube_id"])
    assert [job["id"] for job in page["items"]] == [queued_job["id"]] and page["total"] == 1


def test_jobs_show_prints_the_job(cli, queued_job):
    job = cli.json("jobs", "show", queued_job["id"])
    assert (job["kind"], job["state"]) == ("archive", "pending")
    assert "archive" in cli.ok("jobs", "show", queued_job["id"]).stdout


def test_cancel_a_pending_job_cancels_it_at_once(cli, queued_job):
    assert cli.json("jobs", "cancel", queued_job["id"])["state"] == "cancelled"
    result = cli.run("jobs", "cancel", queued_job["id"])
    assert result.exit_code == 0
    finished = cli.json("jobs", "list", "--state", "cancelled")
    assert queued_job["id"] in [job["id"] for job in finished["items"]]


def test_unknown_job_exits_1(cli):
    result = cli.run("jobs", "show", "f" * 32)
    assert result.exit_code == 1 and result.stderr.startswith("Error: no job")


def test_jobs_without_a_cube_need_an_admin_key_on_a_server(admin_cli, server):
    user_id = admin_cli.json("users", "create", f"reader-{uuid.uuid4().hex[:6]}")["id"]
    key = admin_cli.json("keys", "create", user_id)["key"]
    reader = Cli(["--url", server.url], "server", env={"MEMOS_API_KEY": key})
    result = reader.run("jobs", "list")
    assert result.exit_code == 1 and "cube_id is required" in result.stderr
